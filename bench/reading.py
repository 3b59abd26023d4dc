"""The simulator's reading side alone: what ``loya simulate`` does to a receipt before the engine sees
it and nothing of the engine. ``read`` is reading, mapping and validating a file (``read_receipts``)
and spilling it into partitions (``partition.partition``); ``unpack`` is reading the partitions back,
sorting them and unpacking every payload into its ``Receipt`` (what the replay does before it
evaluates). Measured for this tree and, with ``--against``, another checkout (e.g. main), the two
alternated; µs per receipt (least CPU time of the repeats) and, with ``--callgrind``, instructions per
receipt counted by valgrind, which hold whatever else the machine runs.

    python bench/reading.py --file /tmp/cj30k.jsonl --against /work/main
    python bench/reading.py --file /tmp/cj30k.jsonl --against /work/main --callgrind 3000

Without ``--mapping`` a file under examples/completejourney is read through its mapping.yaml.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PHASES = ("read", "unpack")


def child(root: str, path: str, mapping_file: str | None, repeat: int) -> None:
    """Read ``path`` with ``root``'s package ``repeat`` times (0: the set-up alone, for callgrind);
    prints the least CPU seconds of each phase and the receipts read as JSON."""
    sys.path.insert(0, root)
    from loyadsl.simulate import partition as parts
    from loyadsl.simulate.inputs import Bad, read_receipts
    from loyadsl.simulate.mapping import load_mapping

    mapping = load_mapping(file=Path(mapping_file)) if mapping_file else None
    best = {phase: (0.0 if repeat == 0 else float("inf")) for phase in PHASES}
    count = 0
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="bench-reading-") as folder:
            gc.collect()
            start = time.process_time()
            records = (item for item in read_receipts([path], mapping, currency="USD") if type(item) is not Bad)
            paths = parts.partition(records, 16, folder)
            best["read"] = min(best["read"], time.process_time() - start)
            gc.collect()
            start = time.process_time()
            count = 0
            for spill in paths:
                rows = parts.read_partition_rows(spill)
                for _source, payload in rows.packed():
                    parts.unpack(payload)
                    count += 1
            best["unpack"] = min(best["unpack"], time.process_time() - start)
    print(json.dumps({**best, "count": count}))


def run_child(root: str, path: Path, mapping: Path | None, repeat: int, prefix: list[str] | None = None) -> Any:
    command = [*(prefix or []), sys.executable, __file__, "--child", root, "--file", str(path), "--repeat", str(repeat)]
    if mapping is not None:
        command += ["--mapping", str(mapping)]
    env = {**os.environ, "PYTHONPATH": root, "PYTHONPYCACHEPREFIX": str(HERE / "out" / "pycache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    done = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def instructions(root: str, path: Path, mapping: Path | None, count: int) -> float:
    """Instructions per receipt of reading and unpacking the first ``count`` receipts of ``path``:
    callgrind's count of a run that does it once less that of a run that only sets up."""
    totals = []
    with tempfile.TemporaryDirectory() as tmp:
        sample = Path(tmp) / path.name
        with path.open("rb") as source, sample.open("wb") as out:
            out.writelines(itertools.islice(source, count))
        for repeat in (0, 1):
            out_file = Path(tmp) / f"callgrind.{repeat}"
            prefix = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}"]
            run_child(root, sample, mapping, repeat, prefix)
            text = out_file.read_text(encoding="utf-8", errors="replace")
            found = re.search(r"^(?:summary|totals): (\d+)", text, re.MULTILINE)
            if found is None:
                raise SystemExit(f"no total in {out_file}")
            totals.append(int(found.group(1)))
    return (totals[1] - totals[0]) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, default=Path("/tmp/cj30k.jsonl"), help="a receipts file (JSONL)")
    parser.add_argument("--mapping", type=Path, help="its column mapping (default: Complete Journey's)")
    parser.add_argument("--against", metavar="ROOT", help="another checkout to measure in the same run (e.g. main)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per process, the least CPU time counts")
    parser.add_argument("--rounds", type=int, default=2, help="processes per tree, alternated with the other's")
    parser.add_argument("--callgrind", type=int, nargs="?", const=3000, default=0, metavar="N",
                        help="also count instructions per receipt over the first N receipts (default 3,000)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, str(args.file), str(args.mapping) if args.mapping else None, args.repeat)
        return
    mapping = args.mapping or ROOT / "examples" / "completejourney" / "mapping.yaml"
    roots = {"this tree": str(ROOT)}
    if args.against:
        roots = {args.against: str(Path(args.against).resolve()), **roots}
    figures: dict[tuple[str, str], list[float]] = {}
    count = 0
    for _ in range(args.rounds):  # alternated, so a change of load falls on both trees alike
        for name, root in roots.items():
            result = run_child(root, args.file, mapping, args.repeat)
            count = result["count"]
            for phase in PHASES:
                figures.setdefault((name, phase), []).append(result[phase] * 1e6 / count)
    counted = {name: instructions(root, args.file, mapping, args.callgrind) for name, root in roots.items()} \
        if args.callgrind else {}
    print(f"{count:,} receipts of {args.file}, {args.rounds} processes per tree of {args.repeat} runs each "
          f"(least CPU time; load {os.getloadavg()[0]:.1f})\n")
    header = "| tree | " + " | ".join(f"{p} µs (runs)" for p in PHASES) + " | total µs |"
    header += f" instructions per receipt (first {args.callgrind:,}) |" if counted else ""
    print(header)
    print("|---" * (2 + len(PHASES) + bool(counted)) + "|")
    for name in roots:
        cells = [f"{min(figures[name, p]):.1f} ({', '.join(f'{v:.1f}' for v in figures[name, p])})" for p in PHASES]
        cells.append(f"{sum(min(figures[name, p]) for p in PHASES):.1f}")
        cells += [f"{counted[name]:,.0f}"] if counted else []
        print(f"| {name} | " + " | ".join(cells) + " |")
    if args.against:
        base, ours = list(roots)
        total = {name: sum(min(figures[name, p]) for p in PHASES) for name in roots}
        change = [f"{p} {min(figures[ours, p]) / min(figures[base, p]) - 1:+.0%}" for p in PHASES]
        change.append(f"total {total[ours] / total[base] - 1:+.0%} time")
        change += [f"{counted[ours] / counted[base] - 1:+.0%} instructions"] if counted else []
        print("\nthis tree against " + base + ": " + ", ".join(change))


if __name__ == "__main__":
    main()
