"""The parallel scan (docs/simulate.md, "Parallel scan"): with several local workers, plain JSONL
inputs are cut into byte ranges on line starts, and the workers read, validate and spill their
ranges at once, each into its own spill file per partition. Reading is about a third of a run's
work; without this one process does it while the others wait.

A range finds duplicates within itself; ``run`` compares the ranges in file order, and a receipt id
seen in an earlier range makes the later copy a duplicate to drop (``drop``: source -> reason), which
the replay quarantines with its record, so the result is that of reading in order.
"""

from __future__ import annotations

import gzip
import shutil
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from loyadsl.simulate import partition as parts
from loyadsl.simulate.inputs import Bad, Record, detect_format, jsonl_ranges, read_range
from loyadsl.simulate.mapping import Mapping as ColumnMapping
from loyadsl.simulate.pool import WorkerPool

RANGES_PER_WORKER = 4


@dataclass
class ScanJob:
    """One byte range of a JSONL input, read, validated and spilled by one worker."""

    path: str
    start: int
    end: int
    first_line: int
    file_index: int
    files: list[str]
    mapping: ColumnMapping | None
    currency: str
    partitions: int
    groups: dict[str, str]
    folder: str
    prefix: str


@dataclass
class ScanResult:
    paths: list[str]  # the range's spill, per partition
    bad: list[Bad]
    ids: list[tuple[str, int]]  # (receipt id, line) of each valid record, in order: duplicates across ranges
    read: int
    first_last: list[int]


def scan_job(job: ScanJob) -> ScanResult:
    """Read one range into per-partition spill files; what the parallel scan runs in each worker."""
    bad: list[Bad] = []
    ids: list[tuple[str, int]] = []
    first_last: list[int] = []
    read = 0

    def records() -> Iterator[Record]:
        nonlocal read
        for item in read_range(job.path, job.start, job.end, job.first_line, job.file_index, job.files,
                               job.mapping, currency=job.currency):
            read += 1
            if type(item) is Bad:
                bad.append(item)
                continue
            assert isinstance(item, Record)
            ids.append((item.receipt["receipt_id"], int(item.source.rpartition(":")[2])))
            see(first_last, parts.record_utc(item))
            yield item

    paths = parts.partition(records(), job.partitions, job.folder, job.groups, job.prefix)
    return ScanResult([str(p) for p in paths], bad, ids, read, first_last)


def see(first_last: list[int], utc: int) -> None:
    if not first_last:
        first_last += [utc, utc]
    elif utc < first_last[0]:
        first_last[0] = utc
    elif utc > first_last[1]:
        first_last[1] = utc


def plan(paths: Sequence[Path], mapping: ColumnMapping | None, workers: int, currency: str, partitions: int,
         groups: dict[str, str], folder: str) -> list[ScanJob] | None:
    """The ranges of the inputs, about ``RANGES_PER_WORKER`` per worker; None when an input is not
    JSONL (CSV and Parquet are read in order) or there is only one range. A gzip input, which
    cannot be cut, is unpacked into ``folder`` first (unpacking costs a few percent of reading; a
    file that does not unpack is read in order, which says where it breaks)."""
    files = [str(p) for p in paths]
    jobs: list[ScanJob] = []
    for index, name in enumerate(files):
        path = Path(name)
        if detect_format(path, mapping) != "jsonl" or not path.is_file():
            return None
        ranges = jsonl_ranges(path, RANGES_PER_WORKER * workers)
        if ranges is None:
            path = Path(folder, f"input{index:04d}.jsonl")
            if not _unpack(Path(name), path):
                return None
            ranges = jsonl_ranges(path, RANGES_PER_WORKER * workers)
            assert ranges is not None, "unpacked"
        for start, end, first_line in ranges:
            jobs.append(ScanJob(str(path), start, end, first_line, index, files, mapping, currency, partitions,
                                groups, folder, f"scan{len(jobs):04d}"))
    return jobs if len(jobs) > 1 else None


def _unpack(packed: Path, plain: Path) -> bool:
    """Gunzip ``packed`` into ``plain``; False (and nothing left) if it does not unpack whole."""
    try:
        with gzip.open(packed, "rb") as source, open(plain, "wb") as target:
            shutil.copyfileobj(source, target, 1 << 20)
    except (OSError, EOFError, zlib.error):
        plain.unlink(missing_ok=True)
        return False
    return True


@dataclass
class Scanned:
    spills: list[list[str]]  # per partition: the spill of every range
    drop: dict[str, str]  # source -> why: duplicates across ranges
    first_last: list[int] = field(default_factory=list)


def run(jobs: list[ScanJob], workers: int, partitions: int, quarantine: Callable[[Bad], None],
        progress: Callable[[int], None]) -> Scanned:
    """Scan the ranges on a local process pool; bad records go to ``quarantine`` in file order and
    ``progress`` hears the records read so far."""
    seen: dict[str, tuple[int, int]] = {}
    done = Scanned([[] for _ in range(partitions)], {})
    read = 0
    def what(index: int) -> str:
        job = jobs[index]
        return f"reading {job.files[job.file_index]} from byte {job.start:,} (line {job.first_line:,})"

    with WorkerPool(workers, jobs[0].folder) as pool:
        for job, result in zip(jobs, pool.map(scan_job, jobs, what), strict=True):  # in file order
            read += result.read
            for bad in result.bad:
                quarantine(bad)
            for rid, line in result.ids:
                first = seen.get(rid)
                if first is None:
                    seen[rid] = (job.file_index, line)
                else:
                    done.drop[f"{job.files[job.file_index]}:{line}"] = (f"duplicate receipt_id {rid!r}, first seen at "
                                                       f"{job.files[first[0]]}:{first[1]}")
            for i, path in enumerate(result.paths):
                done.spills[i].append(path)
            for utc in result.first_last:
                see(done.first_last, utc)
            progress(read)
    return done
