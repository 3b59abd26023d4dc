"""Programme-wide budgets in the simulation: kept exactly, in the order of time over all customers,
however the customers are partitioned (docs/simulate.md, "Budgets")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from loyadsl.api import compile_file
from loyadsl.simulate.diff import run_diff
from loyadsl.simulate.limits import Cutoff, Timeline
from loyadsl.simulate.run import Simulation

HERE = Path(__file__).parent / "data" / "budgets"


def simulation(**options: Any) -> Simulation:
    bundle, result = compile_file(HERE / "programme.loya")
    assert bundle is not None, result.diagnostics
    return Simulation(bundle, [HERE / "receipts.jsonl"], **options)


def test_exhaustion_is_the_receipt_that_takes_the_last_of_the_budget() -> None:
    gifts = [(30, "B3", 30), (10, "B1", 50), (20, "B2", 40), (40, "B4", 20), (15, "B0", 0)]
    assert Timeline(gifts, 100).cutoff() == Cutoff(30, "B3", 10)
    assert Timeline(gifts, 90).cutoff() == Cutoff(20, "B2", 40)  # exactly spent: that receipt keeps all it took
    assert Timeline(gifts, 141).cutoff() is None
    assert Timeline(gifts, 100).left_at((30, "B3")) == 10 and Timeline(gifts, 100).left_at((40, "B4")) == 0


def test_a_budget_stops_the_campaign_where_it_runs_out_across_customers() -> None:
    r = simulation().run()
    # in time order: B1 (C1) 50, B2 (C2) 40, B3 (C1) would take 30 but 10 are left, B4 (C2) gets none;
    # C1's receipts replay before C2's, so without the cut C1 alone would take 80
    (budget,) = r["budgets"]
    assert budget == {"campaign": "cashback", "kind": "points", "amount": 100, "given": 100, "left": 0,
                      "exhausted_on": "2025-03-03", "exhausted_by": "B3"}
    (cashback,) = r["campaigns"]
    assert (cashback["receipts"], cashback["points_accrued"]) == (3, 100)
    assert r["totals"]["points_accrued"] == 100 and r["totals"]["liability"] == 100


def test_budgets_are_kept_the_same_with_any_number_of_workers() -> None:
    one, two = simulation().run(), simulation(workers=2, partitions=3).run()
    for report in (one, two):
        for key in ("workers", "partitions"):
            report["input"].pop(key)
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)


def test_a_diff_keeps_each_programmes_budget() -> None:
    old_bundle, _ = compile_file(HERE / "programme.loya")
    assert old_bundle is not None
    d = run_diff(old_bundle, simulation())  # the programme against itself: the same cut on both sides
    assert d["totals"]["points_accrued"] == {"old": 100, "new": 100, "delta": 0}
