"""Running a simulation: read and partition the history, replay the partitions, fold the tallies.

The partition count is fixed (``PARTITIONS``), never derived from the number of workers, and tallies
are merged in partition order, so the report is the same with 1 worker, 2 workers or a Dask cluster.

Backends:
* ``process`` (the default): a local process pool; nothing to install or start. One worker runs in
  this process.
* ``dask``: the same partition function on a dask.distributed cluster reading partitioned Parquet;
  ``scheduler`` is the address of an existing cluster, else a local one is started. Dask rather than
  Ray because a Dask worker is a plain Python process that imports our package and nothing more, it
  reads Parquet through the same pyarrow we already use, and ``LocalCluster`` gives the tests a real
  scheduler and workers in seconds without a separate service.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import os
import signal
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loyadsl.runtime import Engine
from loyadsl.runtime.bundle import Bundle
from loyadsl.runtime.errors import LoyaError
from loyadsl.runtime.model import Outcome, Receipt, utc_datetime
from loyadsl.runtime.state import read_customers
from loyadsl.simulate import limits, scan
from loyadsl.simulate import partition as parts
from loyadsl.simulate.errors import BackendError, InputError, SimulationError, StrictError, WorkerDied
from loyadsl.simulate.inputs import Bad, QuarantineWriter, open_binary, read_receipts
from loyadsl.simulate.limits import Cutoff, Timeline
from loyadsl.simulate.mapping import Mapping as ColumnMapping
from loyadsl.simulate.pool import Janitor, WorkerPool
from loyadsl.simulate.replay import PartitionReplay
from loyadsl.simulate.report import Tally, build, merge_all
from loyadsl.simulate.scan import ScanJob, see

PARTITIONS = 16
PARTITION_BYTES = 64 << 20  # of input text per partition, at most: small partitions balance the workers
GZIP_RATIO = 8
BACKENDS = ("process", "dask")
CUSTOMERS = "LOY608"  # a customers file that cannot be used
DUPLICATE, SKIPPED = "LOY605", "LOY613"  # codes of bad records that do not make their receipt id refused
DASK_CONNECT_SECONDS = 10  # to reach a dask scheduler


@dataclass
class Job:
    """One partition's work, picklable for a pool or a cluster."""

    bundle: bytes
    path: str | list[str]  # one file, or one spill per reader of a parallel scan
    states: dict[str, dict[str, Any]]
    start: str
    end: str
    households: dict[str, str] = field(default_factory=dict)  # customer -> household key (this partition's)
    drop: dict[str, str] = field(default_factory=dict)  # source -> why: duplicates found across scan ranges
    refused: frozenset[str] = frozenset()  # receipt ids quarantined when read: a return of one is skipped
    limits: dict[str, dict[str, Timeline]] = field(default_factory=dict)  # side -> the limits that bind (limits.py)


@dataclass
class Result:
    tally: Tally
    bad: list[dict[str, Any]] = field(default_factory=list)
    receipts: int = 0

    def sides(self) -> dict[str, Tally]:
        """The tally of each programme replayed (``new``: the simulated one; ``loya diff`` adds ``old``)."""
        return {"new": self.tally}


_ENGINES: dict[bytes, Engine] = {}  # per worker process: the bundle is verified and compiled once


def _engine(bundle: bytes) -> Engine:
    engine = _ENGINES.get(bundle)
    if engine is None:
        if len(_ENGINES) > 1:  # two at most: `loya diff` alternates OLD and NEW
            _ENGINES.clear()
        engine = _ENGINES[bundle] = Engine.from_bytes(bundle)
    return engine


def replay_job(job: Job, observe: Callable[[Receipt, Outcome], None] | None = None, side: str = "new") -> Result:
    """Replay one partition file (JSONL spill or Parquet); what every backend runs. ``observe`` sees
    each evaluated receipt and its outcome (``loya diff``); ``side`` picks the budget cutoffs.

    The objects made before the partition (the bundle, the engine, the caller's) are frozen for the
    collector while it runs (``_frozen``)."""
    with _frozen():
        return _replay_job(job, observe, side)


@contextlib.contextmanager
def _frozen() -> Iterator[None]:
    """The objects that exist now are frozen for the collector until the block ends (``gc.freeze``,
    unless someone froze some already; then nothing is done): its collections scan only what the
    block makes, not the bundle, the engine, the customers' states and the caller's objects again and
    again (and forked workers do not copy their pages by scanning them). Nothing else changes."""
    freeze = gc.get_freeze_count() == 0
    if freeze:
        gc.freeze()
    try:
        yield
    finally:
        if freeze:
            gc.unfreeze()


def _replay_job(job: Job, observe: Callable[[Receipt, Outcome], None] | None, side: str) -> Result:
    engine = _engine(job.bundle)
    rows = parts.read_partition_rows(job.path, job.households)
    dropped: list[dict[str, Any]] = []

    def records() -> Iterator[tuple[str, bytes]]:
        for source, payload in rows.packed():  # unpacked one at a time: the partition is held packed
            reason = job.drop.get(source) if job.drop else None
            if reason is None:
                yield source, payload
            else:
                dropped.append({"source": source, "code": DUPLICATE, "reason": reason,
                                "record": parts.receipt_json(parts.unpack(payload)[1])})

    replay = PartitionReplay(engine, job.states, dt.datetime.fromisoformat(job.start),
                             dt.datetime.fromisoformat(job.end), rows.returned, observe, households=job.households,
                             limits_seen=job.limits.get(side), refused=job.refused)
    tally = replay.run(records())
    replay.idle(sorted(set(job.states) - replay.customers_seen))
    return Result(tally, dropped + replay.bad, len(rows))


@dataclass
class Simulation:
    """Everything a run needs; ``run()`` gives the report JSON."""

    bundle: bytes
    receipts: Sequence[Path]
    customers: Path | None = None
    mapping: ColumnMapping | None = None
    workers: int = 1
    backend: str = "process"
    scheduler: str | None = None
    strict: bool = False
    quarantine: Path | None = None
    partitions: int | None = None  # None: by the input's size (``partitions_for``)
    progress: Callable[[str, int], None] | None = None  # (phase, receipts done)
    bad: list[dict[str, Any]] = field(default_factory=list)
    work: Callable[[Job], Result] = replay_job  # what each partition runs (`loya diff` replays two programmes)
    results: list[Result] = field(default_factory=list, init=False, repr=False)  # per partition, after run()
    cutoffs: dict[str, dict[str, Cutoff]] = field(default_factory=dict, init=False, repr=False)  # after run(): where limits ran out
    side_bundles: dict[str, bytes] = field(default_factory=dict)  # other programmes ``work`` replays (diff: old)
    passes: int = field(default=0, init=False)  # replays of the history run (more than one: a budget ran out)
    _folder: str = field(default="", init=False, repr=False)  # this run's temporary directory

    def run(self) -> dict[str, Any]:
        """Read, partition and replay the history; the report JSON. Every record read is simulated,
        quarantined or skipped (``input``: read = simulated + quarantined + skipped). Temporary files
        live in one directory of this run (mode 0700), removed however the run ends; the quarantine
        file is written beside its name and put in place only when the run succeeds."""
        self.partitions = self.partitions or partitions_for(self.receipts)
        engine = _engine(self.bundle)
        states, groups = self._states(engine)
        counts: dict[str, int] = {"read": 0, "quarantined": 0, "skipped": 0}
        with Janitor() as janitor:  # removes what a run killed outright leaves
            writer = QuarantineWriter(self.quarantine) if self.quarantine is not None else None
            if writer is not None:
                janitor.add(writer.partial)
            try:
                with tempfile.TemporaryDirectory(prefix="loya-sim-") as folder:
                    janitor.add(folder)
                    self._folder = folder
                    with _frozen():  # reading, spilling and replaying: what exists now is not scanned again
                        results = self._run_in(folder, engine, states, groups, counts, writer)
                if self.strict and self.bad:  # the replay refused a record: --strict stops at the first
                    raise StrictError(Bad(**self.bad[0]))
            except BaseException:
                if writer is not None:
                    writer.discard()
                raise
            if writer is not None:
                writer.close()
        return _report(merge_all(r.tally for r in results), engine.bundle, counts, self.cutoffs.get("new"),
                       {"workers": self.workers, "backend": self.backend, "partitions": self._partitions(),
                        "passes": self.passes})

    def _run_in(self, folder: str, engine: Engine, states: dict[str, dict[str, Any]], groups: dict[str, str],
                counts: dict[str, int], writer: QuarantineWriter | None) -> list[Result]:
        """Spill the history into partitions in ``folder`` and replay them; bad records go to ``writer``."""
        first_last: list[int] = []
        refused: set[str] = set()

        def quarantine(bad: Bad) -> None:
            counts["skipped" if bad.code == SKIPPED else "quarantined"] += 1
            self.bad.append(bad.to_dict())
            if bad.receipt_id is not None and bad.code != DUPLICATE:  # a duplicate's first copy is valid
                refused.add(bad.receipt_id)
            if writer is not None:
                writer.add(bad)

        paths: list[Any]
        drop: dict[str, str] = {}
        scans = self._scan_jobs(engine, folder, groups)
        if scans is not None:
            paths, drop = self._scan(scans, counts, first_last, quarantine)
        else:
            records = self._read(engine, counts, first_last, quarantine)
            if self.backend == "dask":
                paths = parts.write_partitioned_parquet(records, folder, self._partitions(), groups)
            else:
                paths = parts.partition(records, self._partitions(), folder, groups)
            paths = [str(p) for p in paths]
        start, end = _bounds(first_last, engine)
        by_partition: list[dict[str, dict[str, Any]]] = [{} for _ in paths]
        households: list[dict[str, str]] = [{} for _ in paths]
        for customer, state in states.items():  # a state goes where its customer's receipts go
            index = parts.partition_index({"customer_id": customer, "receipt_id": customer},
                                          self._partitions(), groups)
            by_partition[index][customer] = state
        for customer, key in groups.items():
            households[parts.partition_index({"customer_id": key, "receipt_id": key},
                                             self._partitions())][customer] = key
        jobs = [Job(self.bundle, p, by_partition[i], start, end, households[i], drop, frozenset(refused))
                for i, p in enumerate(paths)]
        results = self.results = self._replay_limits(jobs)
        for result in results:
            for bad in result.bad:
                quarantine(Bad(bad["source"], bad["reason"], bad["record"], bad["code"]))
        return results

    # ------------------------------------------------------------------------------ steps
    def _partitions(self) -> int:
        assert self.partitions is not None, "set by run()"
        return self.partitions

    def _states(self, engine: Engine) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
        """Initial customer states by id, and households (customer -> household key, see ``households``).
        The file is read by the runtime's one reader of customer files (``state.read_customers``, as
        ``loya eval`` reads it), checked against the programme's state declarations; its first
        problem stops the run with its place (a customers file is input to every receipt)."""
        if self.customers is None:
            return {}, {}
        path = self.customers
        problems: list[LoyaError] = []
        try:
            with open_binary(path) as f:
                read = read_customers(f, str(path), problems, engine.bundle.state)
        except InputError as exc:
            raise SimulationError(exc.message, code=CUSTOMERS) from None
        except (OSError, EOFError, zlib.error) as exc:
            raise SimulationError(f"cannot read: {getattr(exc, 'strerror', None) or exc}", str(path), CUSTOMERS) from None
        if problems:
            first = problems[0]
            more = f" ({len(problems) - 1} more problems in the file)" if len(problems) > 1 else ""
            raise SimulationError(f"{first.message}{more}", code=first.code)
        states = {key: state.to_dict() for key, state in read.items()}
        return states, households(states)

    def _scan_jobs(self, engine: Engine, folder: str, groups: dict[str, str]) -> list[ScanJob] | None:
        """The parallel scan's jobs (``scan.plan``) with several local workers; None: read here."""
        if self.workers <= 1 or self.backend != "process" or self.strict:
            return None
        return scan.plan(self.receipts, self.mapping, self.workers, engine.bundle.settings.currency,
                         self._partitions(), groups, folder)

    def _scan(self, jobs: list[ScanJob], counts: dict[str, int], first_last: list[int],
              quarantine: Callable[[Bad], None]) -> tuple[list[Any], dict[str, str]]:
        def progress(read: int) -> None:
            counts["read"] = read
            if self.progress is not None:
                self.progress("read", read)

        done = scan.run(jobs, self.workers, self._partitions(), quarantine, progress)
        for utc in done.first_last:
            see(first_last, utc)
        return done.spills, done.drop

    def _read(self, engine: Engine, counts: dict[str, int], first_last: list[int],
              quarantine: Callable[[Bad], None]) -> Iterable[Any]:
        currency = engine.bundle.settings.currency
        progress = self.progress
        for item in read_receipts(list(self.receipts), self.mapping, strict=self.strict, currency=currency):
            counts["read"] += 1
            if progress is not None and counts["read"] % 10_000 == 0:
                progress("read", counts["read"])
            if isinstance(item, Bad):
                quarantine(item)
                continue
            see(first_last, parts.record_utc(item))
            yield item

    def _replay_limits(self, jobs: list[Job]) -> list[Result]:
        """Replay until every programme-wide limit is kept: budgets, rewards' stock and usage limits
        (simulate/limits.py). Customers are replayed apart, so a pass cannot know what other
        customers took before a receipt; instead each pass records every limit's uses in the order
        of time (by time, then receipt id, over all customers), and the next pass gives each receipt
        what the uses before it left. It ends when a pass sees the limits as the one before it did.

        That result is exact: every receipt then got what the uses before it in time left, which is
        what one host replaying all receipts in that order gives, returns that give uses back
        included. It ends: two passes that differ first at some receipt replay everything before it
        the same, so the next pass settles that receipt for good, and the first difference moves
        later with every other pass. A programme whose limits never bind takes one pass; one whose
        limits run out, usually two."""
        binding: dict[str, dict[str, Timeline]] = {}
        while True:
            for job in jobs:
                job.limits = binding
            results = self._replay(jobs)
            self.passes += 1
            found: dict[str, dict[str, Timeline]] = {}
            for side in results[0].sides() if results else ():
                merged = merge_all(r.sides()[side] for r in results)
                bundle = _engine(self.bundle if side == "new" else self.side_bundles[side]).bundle
                tight = limits.timelines(merged.uses, bundle)
                if tight:
                    found[side] = tight
            if limits.seen(found) == limits.seen(binding):
                self.cutoffs = {side: {limit: cut for limit, t in tight.items() if (cut := t.cutoff()) is not None}
                                for side, tight in found.items()}
                return results
            binding = found

    def _replay(self, jobs: list[Job]) -> list[Result]:
        progress = self.progress
        done = 0
        results: list[Result] = []
        if self.backend == "dask":
            return _dask(jobs, self.workers, self.scheduler, self._folder, self.work)
        if self.workers <= 1:
            for job in jobs:
                results.append(self.work(job))
                done += results[-1].receipts
                if progress is not None:
                    progress("replay", done)
            return results
        with WorkerPool(self.workers, self._folder) as pool:
            for result in pool.map(self.work, jobs, lambda i: f"replaying partition {i}"):  # in partition order
                results.append(result)
                done += result.receipts
                if progress is not None:
                    progress("replay", done)
        return results


def report_shape(bundle: Bundle) -> dict[str, Any]:
    """The report of an empty history: every figure a report of this programme has (assertions are
    checked against it before a run)."""
    return _report(Tally(), bundle, {"read": 0, "quarantined": 0, "skipped": 0}, None,
                   {"workers": 0, "backend": "", "partitions": 0, "passes": 0})


def _report(tally: Tally, bundle: Bundle, counts: dict[str, int], cutoffs: dict[str, Cutoff] | None,
            run: dict[str, Any]) -> dict[str, Any]:
    t = tally.totals
    input_counts = {"read": counts["read"], "simulated": t["receipts"] + t["returns"],
                    "quarantined": counts["quarantined"], "skipped": counts["skipped"], "returns": t["returns"],
                    "customers": t["customers"], "anonymous": t["receipts"] - t["receipts_with_card"], **run}
    levels = [level.name for level in bundle.state.tiers.levels] if bundle.state.tiers else []
    return build(tally, bundle, input_counts, levels, cutoffs)


def partitions_for(paths: Sequence[Path]) -> int:
    """How many partitions an input needs: ``PARTITIONS``, or one per ``PARTITION_BYTES`` of input
    (a gzip file counted as ``GZIP_RATIO`` times its size) when that is more. It depends on the
    input only, never on the workers, so the result does not either."""
    size = 0
    for path in paths:
        try:
            with open(path, "rb") as f:
                gzip = f.read(2) == b"\x1f\x8b"
            size += Path(path).stat().st_size * (GZIP_RATIO if gzip else 1)
        except OSError:
            pass  # the reader says what is wrong with it
    return max(PARTITIONS, -(-size // PARTITION_BYTES))


def households(states: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Customers whose states meet, joined: the members of a shared account, and a referred customer
    with their referrer (whose state a ``transfer`` changes). Each customer in a group of two or more
    maps to the group's key, its smallest customer id (so a key is never another customer's id);
    nobody else is listed. Union-find with path halving."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def join(a: str, b: str) -> None:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for customer, data in states.items():
        shared = data.get("shared")
        if isinstance(shared, dict) and isinstance(shared.get("id"), str):
            join(customer, "\0shared:" + shared["id"])
        referral = data.get("referral")
        if isinstance(referral, dict) and isinstance(referral.get("referred_by"), str):
            join(customer, referral["referred_by"])
    members: dict[str, list[str]] = {}
    for x in parent:
        if not x.startswith("\0"):
            members.setdefault(root(x), []).append(x)
    return {x: min(group) for group in members.values() if len(group) > 1 for x in group}


def _bounds(first_last: list[int], engine: Engine) -> tuple[str, str]:
    """The history's first and last instants (UTC ISO); the clock of every customer ends at the last."""
    if not first_last:
        now = dt.datetime(1970, 1, 1, tzinfo=dt.UTC).isoformat()
        return now, now
    return utc_datetime(first_last[0]).isoformat(), utc_datetime(first_last[1]).isoformat()


def _dask(jobs: list[Job], workers: int, scheduler: str | None, folder: str,
          work: Callable[[Job], Result] = replay_job) -> list[Result]:
    """The jobs on a dask.distributed cluster (``scheduler``, else a local one whose scratch space is
    in the run's ``folder``, closed however the run ends). A task whose workers all died is ``WorkerDied``."""
    try:
        import dask
        import distributed  # noqa: F401  (the cluster)
    except ImportError:
        raise BackendError("the dask backend needs dask.distributed: pip install 'loyadsl[dask]'") from None
    with dask.config.set({"temporary-directory": folder}):  # dask's scratch files too
        return _on_cluster(jobs, workers, scheduler, work)


def _on_cluster(jobs: list[Job], workers: int, scheduler: str | None, work: Callable[[Job], Result]) -> list[Result]:
    from distributed import Client, LocalCluster
    from distributed.scheduler import KilledWorker

    cluster = None
    try:
        if scheduler is not None:
            client = Client(scheduler, timeout=DASK_CONNECT_SECONDS)
        else:
            cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
    except BaseException as exc:
        if cluster is not None:
            cluster.close()
        if isinstance(exc, LoyaError) or not isinstance(exc, Exception):
            raise  # an interruption
        # whatever answers at that address, it is not a usable scheduler
        raise BackendError(f"cannot reach the dask scheduler {scheduler or '(local)'}: "
                           f"{type(exc).__name__}: {exc}") from None
    futures = []
    try:
        futures = client.map(work, jobs, pure=False)
        return list(client.gather(futures))
    except KilledWorker as exc:
        index = next((i for i, future in enumerate(futures) if future.key == exc.task), -1)
        raise WorkerDied(f"replaying partition {index}", "every worker that ran it died") from None
    except BaseException:
        if cluster is not None:  # nothing more is wanted of the workers: stopping them gracefully takes seconds
            _kill_workers(cluster)
        raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _kill_workers(cluster: Any) -> None:
    """SIGKILL the worker processes of a local cluster (its nannies, in this process, see them go)."""
    for nanny in list(getattr(cluster, "workers", {}).values()):
        pid = getattr(getattr(getattr(nanny, "process", None), "process", None), "pid", None)
        if isinstance(pid, int):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
