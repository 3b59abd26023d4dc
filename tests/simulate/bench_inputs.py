"""Benchmark hook for the simulator's input side (not a test: pytest does not collect it).

    python tests/simulate/bench_inputs.py                  # 100,000 generated receipts (../shared/bench)
    python tests/simulate/bench_inputs.py -n 1000000       # memory: peak RSS should not grow with n
    python tests/simulate/bench_inputs.py FILE... [--map-file MAP.yaml]

Reads, validates and partitions (JSONL spill), then reads every partition back sorted, printing
receipts/s for each stage and the peak resident memory. Bounded memory cannot be checked in a unit
test; compare the peak RSS of two sizes instead: the read/spill stage should stay flat (one receipt, a
spill buffer per partition and the duplicate-id index of ~140 bytes a receipt), and the sort stage
should follow the largest partition, i.e. n / partitions.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from loyadsl.simulate.inputs import Bad, read_receipts, records_only
from loyadsl.simulate.mapping import load_mapping
from loyadsl.simulate.partition import partition, read_partition

GENERATOR = Path(__file__).resolve().parents[3] / "shared" / "bench" / "gen_receipts.py"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("-n", type=int, default=100_000, help="receipts to generate when no FILE is given")
    ap.add_argument("--partitions", type=int, default=64)
    ap.add_argument("--map-file", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = args.files
        if not files:
            if not GENERATOR.is_file():
                sys.exit(f"no FILE given and no generator at {GENERATOR}")
            subprocess.run([sys.executable, str(GENERATOR), "-n", str(args.n), "--out", tmp], check=True,
                           stdout=subprocess.DEVNULL)
            files = [Path(tmp) / "receipts.jsonl"]
        mapping = load_mapping(file=args.map_file)
        bad: list[Bad] = []
        count = 0
        start = time.perf_counter()

        def counted() -> object:
            nonlocal count
            for record in records_only(read_receipts(files, mapping), bad.append):
                count += 1
                yield record

        paths = partition(counted(), args.partitions, Path(tmp) / "parts")  # type: ignore[arg-type]
        spilled = time.perf_counter()
        rss_spill = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        largest = 0
        for path in paths:
            largest = max(largest, len(read_partition(path)))
        done = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{count} valid + {len(bad)} quarantined receipts, {args.partitions} partitions (largest {largest})")
    print(f"read + validate + partition: {count / (spilled - start):,.0f} receipts/s ({spilled - start:.2f} s), "
          f"peak RSS {rss_spill / 1024:.0f} MB")
    print(f"read partitions back sorted: {count / (done - spilled):,.0f} receipts/s ({done - spilled:.2f} s), "
          f"peak RSS {rss / 1024:.0f} MB")
    print(f"overall: {count / (done - start):,.0f} receipts/s")


if __name__ == "__main__":
    main()
