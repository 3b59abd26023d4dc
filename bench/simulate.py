"""Simulation benchmark: receipts/s and peak memory of `loya simulate` on generated history, with 1
and 2 workers, next to the raw single-receipt evaluation speed of the same programme.

    python bench/simulate.py                       # 1,000,000 receipts, 100,000 customers
    python bench/simulate.py -n 200000 --customers 20000

Each run is a separate process (so peak memory is its own: ru_maxrss of the run and its workers).
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import time
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXAMPLE = ROOT / "examples" / "supermarket" / "programme.loya"


def _run_one(history: Path, workers: int) -> None:
    """In a child process: one simulation; prints a JSON line of figures."""
    sys.path.insert(0, str(ROOT))
    from loyadsl.api import compile_file
    from loyadsl.simulate.run import Simulation

    bundle, _ = compile_file(EXAMPLE)
    assert bundle is not None
    start = time.perf_counter()
    report = Simulation(bundle, [history], workers=workers).run()
    seconds = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"workers": workers, "seconds": round(seconds, 1), "receipts": report["input"]["read"],
                      "passes": report["input"]["passes"],
                      "peak_mb_main": own // 1024, "peak_mb_worker": children // 1024}))


CUSTOMER = re.compile(r'"customer_id":\s*"([^"]*)"')


def _count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 24), b""))


def _raw_speed(history: Path, n: int = 20_000) -> tuple[float, float]:
    """Receipts/s of Engine.evaluate alone on about n receipts of the history (parsed beforehand):
    anonymous (stateless), and with state (each customer's receipts in time order against their
    state, the changes applied between receipts but not timed): the evaluation a simulation does."""
    sys.path.insert(0, str(ROOT))
    from loyadsl.api import compile_file
    from loyadsl.runtime import Engine, load_bundle
    from loyadsl.runtime.model import Receipt
    from loyadsl.runtime.state import CustomerState, apply_in_place

    bundle, _ = compile_file(EXAMPLE)
    assert bundle is not None
    engine = Engine(load_bundle(bundle))
    receipts = []
    with history.open(encoding="utf-8") as f:
        # every receipt of a sample of customers (about n in all), so their states grow as in a replay
        every = max(1, _count_lines(history) // n)
        for line in f:
            found = CUSTOMER.search(line)
            key = found.group(1) if found else line[:40]
            if zlib.crc32(key.encode()) % every == 0:
                receipts.append(Receipt.from_dict(json.loads(line)))
    start = time.perf_counter()
    for receipt in receipts:
        engine.evaluate(receipt)
    anonymous = len(receipts) / (time.perf_counter() - start)
    receipts.sort(key=lambda r: (r.customer_id or "", r.utc, r.receipt_id))
    states: dict[str, CustomerState] = {}
    spent = 0.0
    for receipt in receipts:
        customer = receipt.customer_id
        state = None if customer is None else states.setdefault(customer, CustomerState(id=customer))
        start = time.perf_counter()
        outcome = engine.evaluate(receipt, state)
        spent += time.perf_counter() - start
        if state is not None and outcome.changes:
            apply_in_place(state, outcome.changes)
    return anonymous, len(receipts) / spent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=1_000_000)
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--child", nargs=2, metavar=("HISTORY", "WORKERS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _run_one(Path(args.child[0]), int(args.child[1]))
        return
    history = HERE / "out" / f"history_{args.n}_{args.customers}.jsonl"
    if not history.is_file():
        print(f"generating {history.name} ...", flush=True)
        subprocess.run([sys.executable, str(HERE / "gen_history.py"), "-n", str(args.n), "--customers",
                        str(args.customers), "--out", str(history)], check=True)
    anonymous, raw = _raw_speed(history)
    print(f"raw Engine.evaluate, parsed receipts: {anonymous:,.0f} receipts/s anonymous, {raw:,.0f} receipts/s "
          "with customer state (per core; the reference below)")
    for workers in args.workers:
        out = subprocess.run([sys.executable, __file__, "--child", str(history), str(workers)], check=True,
                             capture_output=True, text=True).stdout
        figures = json.loads(out.strip().splitlines()[-1])
        rate = figures["receipts"] / figures["seconds"]
        passes = figures["passes"]
        per_pass = rate * passes  # a run with a budget that runs out replays the history again (docs/simulate.md)
        print(f"simulate, {workers} worker(s): {figures['receipts']:,} receipts in {figures['seconds']} s, "
              f"{passes} replay pass(es) = {rate:,.0f} receipts/s; {per_pass:,.0f} receipts/s a pass "
              f"({per_pass / workers / raw:.0%} of raw stateful per worker); peak memory "
              f"{figures['peak_mb_main']} MB main, {figures['peak_mb_worker']} MB largest worker")


if __name__ == "__main__":
    main()
