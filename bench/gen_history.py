"""A year of purchase history for the simulation benchmark: N receipts, ~20 lines on average, M
customers, using the shared generator's catalog (../shared/bench/gen_receipts.py) so the example
programme's campaigns fire as they would on real baskets. Deterministic for a seed.

    python bench/gen_history.py -n 1000000 --customers 100000 --out bench/out/history_1m.jsonl
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import importlib.util
import itertools
import json
import random
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

GENERATOR = Path(__file__).resolve().parent.parent.parent / "shared" / "bench" / "gen_receipts.py"
MSK = ZoneInfo("Europe/Moscow")


def _catalog(seed: int) -> list[dict]:
    spec = importlib.util.spec_from_file_location("gen_receipts", GENERATOR)
    if spec is None or spec.loader is None:
        sys.exit(f"cannot load {GENERATOR}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_catalog(random.Random(seed))


def generate(n: int, customers: int, out: Path, seed: int = 20251, mean_lines: int = 20) -> None:
    rng = random.Random(seed)
    skus = _catalog(seed)
    cum = list(itertools.accumulate(s["popularity"] for s in skus))
    stores = [f"S{i:03d}" for i in range(1, 51)]
    ids = [f"C{10_000_000 + i}" for i in range(customers)]
    start = dt.datetime(2025, 1, 1, 8, tzinfo=MSK)
    seconds = 365 * 86400 - 15 * 3600
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as f:
        for i in range(n):
            customer = None if rng.random() < 0.15 else ids[int(rng.random() ** 1.5 * customers)]
            when = start + dt.timedelta(seconds=int(rng.random() * seconds))
            nlines = max(1, min(60, int(rng.gauss(mean_lines, mean_lines / 2))))
            lines = []
            for k in range(1, nlines + 1):
                s = skus[bisect.bisect_right(cum, rng.random() * cum[-1])]
                if s["weighted"]:
                    grams = 150 + int(rng.random() * 2000)
                    qty: float | int = grams / 1000
                    amount = (grams * s["price"] + 500) // 1000
                else:
                    qty = 1 if rng.random() < 0.75 else 2 + int(rng.random() * 3)
                    amount = qty * s["price"]
                lines.append({"line_no": k, "sku": s["sku"], "category": s["category"], "brand": s["brand"],
                              "qty": qty, "unit_price": s["price"], "amount": amount})
            receipt = {"receipt_id": f"H{i + 1:09d}", "customer_id": customer, "datetime": when.isoformat(),
                       "store_id": stores[int(rng.random() * len(stores))], "lines": lines}
            f.write(json.dumps(receipt, ensure_ascii=False, separators=(",", ":")) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=1_000_000)
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=20251)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out" / "history.jsonl")
    args = ap.parse_args()
    generate(args.n, args.customers, args.out, args.seed)
    print(args.out)


if __name__ == "__main__":
    main()
