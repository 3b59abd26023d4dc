"""One more try at beating "the customer's own most frequent categories" (docs/offers.md, "On the
Complete Journey year"): a per-category purchase-cycle hazard. Prints figures; asserts nothing.

For every (customer, category) with at least 3 purchase days, its gaps divided by the pair's own mean
gap are pooled per category (all categories together where a category has fewer than 200). A
customer's chance of buying category C in the next W days, d days after their last purchase of it,
is the pooled conditional P(u <= (d + W) / e | u > d / e), e their mean gap: how often a cycle that
has already run d/e of its usual length ends within the window (shrunk by PRIOR pseudo-cycles that do
not end, so a cycle far longer than any seen, a lapsed category, is not certain to end). Categories bought on one or two days
score 0 (their cycle is unknown); ties go to frequency. Ranked by p_alive x that chance, the top k are
compared with the backtest's own baselines on the same customers (paired t-test).

    python bench/offers_hazard.py /tmp/cj/completejourney_receipts.jsonl --cut 2017-07-01   # choose
    python bench/offers_hazard.py /tmp/cj/completejourney_receipts.jsonl --cut 2017-10-01   # measure
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import itertools
import resource
import time
from pathlib import Path

from loyadsl.offers.backtest import hits, predictions
from loyadsl.offers.config import FitConfig
from loyadsl.offers.fit import fit
from loyadsl.offers.history import History, read_history
from loyadsl.simulate.mapping import load_mapping

ROOT = Path(__file__).resolve().parents[1]
MIN_POOL = 200
PRIOR = 20  # pseudo-cycles that do not end: a cycle already far longer than any seen is not "certain to end"


def purchase_days(train: History) -> dict[str, dict[str, list[int]]]:
    out: dict[str, dict[str, list[int]]] = {}
    for cid, visits in train.visits.items():
        mine = out.setdefault(cid, {})
        for v in visits:
            for cat in v.categories:
                mine.setdefault(cat, []).append(v.day)
    return out


def pooled_gaps(days: dict[str, dict[str, list[int]]]) -> tuple[dict[str, list[float]], list[float]]:
    per: dict[str, list[float]] = {}
    for cats in days.values():
        for cat, ds in cats.items():
            if len(ds) < 3:
                continue
            gaps = [b - a for a, b in itertools.pairwise(ds)]
            mean = sum(gaps) / len(gaps)
            per.setdefault(cat, []).extend(g / mean for g in gaps)
    every = sorted(u for us in per.values() for u in us)
    return {cat: sorted(us) for cat, us in per.items()}, every


def chance(us: list[float], elapsed: float, window: float) -> float:
    """P(u <= elapsed + window | u > elapsed) over the sorted pooled normalised gaps ``us``."""
    alive = len(us) - bisect.bisect_right(us, elapsed)
    return (bisect.bisect_right(us, elapsed + window) - bisect.bisect_right(us, elapsed)) / (alive + PRIOR)


def hazard_ranking(train: History, p_alive: dict[str, float], as_of: int, window: int, k: int) -> dict[str, list[str]]:
    days = purchase_days(train)
    per, every = pooled_gaps(days)
    today = as_of + 1
    out = {}
    for cid, cats in days.items():
        scores = {}
        for cat, ds in cats.items():
            if len(ds) < 3:
                scores[cat] = (0.0, len(ds))
                continue
            mean = (ds[-1] - ds[0]) / (len(ds) - 1)
            us = per[cat] if len(per.get(cat, ())) >= MIN_POOL else every
            scores[cat] = (p_alive.get(cid, 0.0) * chance(us, (today - ds[-1]) / mean, window / mean), len(ds))
        out[cid] = sorted(scores, key=lambda c: (-scores[c][0], -scores[c][1], c))[:k]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("history", type=Path)
    ap.add_argument("--cut", default="2017-10-01")
    ap.add_argument("--weeks", type=int, default=4)
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--map-file", type=Path, default=ROOT / "examples" / "completejourney" / "mapping.yaml")
    args = ap.parse_args()
    start = time.perf_counter()
    history = read_history([args.history], load_mapping(None, args.map_file))
    cut = dt.date.fromisoformat(args.cut).toordinal()
    train, test = history.window(end=cut), history.window(start=cut, end=cut + 7 * args.weeks)
    model = fit(train, FitConfig(), 0, as_of=cut - 1)
    predicted = predictions(model, 7 * args.weeks, args.k)
    hazard = hazard_ranking(train, {c: float(v["p_alive"]) for c, v in model.customers.items()}, cut - 1,
                            7 * args.weeks, args.k)
    actual = {c: {cat for v in vs for cat in v.categories} for c, vs in test.visits.items()}
    as_model = {cid: {**p, "model": hazard.get(cid, [])} for cid, p in predicted.items()}
    for name, table in (("model (decayed rate)", predicted), ("hazard", as_model)):
        h = hits(table, actual, args.k)
        own, d = h["own"]["precision"], h["model_vs_own"]
        print(f"{args.cut} {name}: P@{args.k} {h['model']['precision']['mean']:.4f} "
              f"[{h['model']['precision']['low']:.4f}, {h['model']['precision']['high']:.4f}], own {own['mean']:.4f}; "
              f"vs own {d['diff']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}] p {d['p']:.3f}; "
              f"R@{args.k} {h['model']['recall']['mean']:.4f} vs own {h['own']['recall']['mean']:.4f}; "
              f"{h['customers']} customers")
    print(f"time {time.perf_counter() - start:.1f} s, peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
