"""`loya offers` figures: read, fit, issue (per thousand customers) and backtest on a history, with
peak memory. Prints one Markdown table; asserts nothing.

    python bench/offers.py --cj /tmp/cj/completejourney_receipts.jsonl     # the Complete Journey year
    python bench/offers.py                                               # the repository's synthetic shop
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import time
from decimal import Decimal
from pathlib import Path

from loyadsl.offers.backtest import backtest
from loyadsl.offers.config import FitConfig
from loyadsl.offers.fit import fit
from loyadsl.offers.history import read_history
from loyadsl.offers.issue import issue
from loyadsl.offers.strategy import load_strategy
from loyadsl.simulate.mapping import load_mapping

ROOT = Path(__file__).resolve().parents[1]
STDLIB = ROOT / "loyadsl" / "offers" / "stdlib"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cj", type=Path, help="the Complete Journey receipts (JSONL, gzip too)")
    parser.add_argument("--cut", default=None, help="backtest cut date (default: 2017-10-01 for --cj)")
    args = parser.parse_args()
    if args.cj:
        paths, mapping = [args.cj], load_mapping(file=ROOT / "examples" / "completejourney" / "mapping.yaml")
        cut = dt.date.fromisoformat(args.cut or "2017-10-01")
    else:
        paths, mapping = [ROOT / "tests" / "offers" / "data" / "history.jsonl"], None
        cut = dt.date.fromisoformat(args.cut or "2025-05-20")
    rows = []
    start = time.perf_counter()
    history = read_history(paths, mapping)
    rows.append(("read history", f"{time.perf_counter() - start:.1f} s", f"{history.purchases():,} purchase days"))
    start = time.perf_counter()
    model = fit(history, FitConfig(), seed=0)
    rows.append(("fit (all models)", f"{time.perf_counter() - start:.1f} s", f"{len(model.customers):,} customers"))
    now = dt.datetime.combine(dt.date.fromordinal(model.as_of + 1), dt.time(), dt.UTC)
    for name in ("replenishment", "crosssell", "winback"):
        start = time.perf_counter()
        issued = issue(load_strategy(STDLIB / f"{name}.yaml"), model, now)
        took = time.perf_counter() - start
        per_thousand = 1000 / len(model.customers)
        given = sum(1 for o in issued.offers if o["arm"] == "offer")
        rows.append((f"issue {name}", f"{took * per_thousand:.3f} s per 1,000 customers",
                     f"{given:,} offers ({given * per_thousand:,.0f} per 1,000 customers), "
                     f"{len(issued.offers) - given:,} held out"))
    start = time.perf_counter()
    report = backtest(history, load_strategy(STDLIB / "replenishment.yaml"), FitConfig(), cut, 4, 0, Decimal(30), 3)
    hits = report["hits"]
    rows.append(("backtest (fit before cut, issue, 4 weeks)", f"{time.perf_counter() - start:.1f} s",
                 f"{hits['customers']:,} customers bought after {cut}"))
    for method in ("model", "popular", "own"):
        p, r = hits[method]["precision"], hits[method]["recall"]
        margin = report["rankings"][method].get("incremental_margin")
        rows.append((f"  {method}: precision@3", f"{p['mean']:.3f} [{p['low']:.3f}, {p['high']:.3f}]",
                     f"recall@3 {r['mean']:.3f} [{r['low']:.3f}, {r['high']:.3f}]" + (
                         f"; incremental margin {margin['total']:+,.0f} [{margin['total_low']:+,.0f}, "
                         f"{margin['total_high']:+,.0f}]" if margin else "")))
    for base in ("popular", "own"):
        d = hits[f"model_vs_{base}"]
        rows.append((f"  model - {base}: precision@3", f"{d['diff']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]", ""))
    rows.append(("peak memory (this process)", f"{peak_mb():.0f} MB", ""))
    print("| what | figure | note |\n|---|---|---|")
    for what, figure, note in rows:
        print(f"| {what} | {figure} | {note} |")


if __name__ == "__main__":
    main()
