"""What an experiment costs at the till, in µs per receipt: the same programme (the simulation
fixture of tests/experiments, a receipt discount and a cashback) evaluated over the supermarket
example's receipts without the experiment and with it (one SHA-256 per receipt and experiment, one
arm check per joined campaign).

    python bench/experiments.py

Prints the best of several runs (machines are shared: the minimum is the least disturbed figure).
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def per_receipt(engine: object, receipts: list[dict[str, object]], runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        for receipt in receipts:
            engine.evaluate(receipt)  # type: ignore[attr-defined]
        best = min(best, time.perf_counter() - start)
    return best / len(receipts) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    from loyadsl.api import compile_text
    from loyadsl.runtime import Engine, load_bundle

    text = (ROOT / "tests" / "experiments" / "simulate" / "programme.loya").read_text(encoding="utf-8")
    plain = re.sub(r"experiment basket .*?\n}\n", "", text, flags=re.S).replace("    arm basket.offer\n", "")
    receipts = [json.loads(line) for line in
                (ROOT / "examples" / "supermarket" / "receipts.jsonl").read_text(encoding="utf-8").splitlines()
                if line.strip() and "return_of" not in line]
    engines = {}
    for name, source in (("without experiment", plain), ("with experiment", text)):
        data, result = compile_text(source, "programme.loya")
        assert data is not None, result.diagnostics
        engines[name] = Engine(load_bundle(data))
    best = dict.fromkeys(engines, float("inf"))
    for _ in range(args.runs):  # interleaved, so that a busy moment of the machine hits both
        for name, engine in engines.items():
            best[name] = min(best[name], per_receipt(engine, receipts, 1))
    for name, micros in best.items():
        print(f"{name}: {micros:.1f} µs per receipt ({len(receipts)} receipts)")


if __name__ == "__main__":
    main()
