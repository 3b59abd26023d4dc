"""The report's analytics (issue 12, item 8): splits by store, channel, tier and segment that add up
to the totals, each campaign's revenue and return on cost, the coupon funnel, and the burn forecast of
the points liability."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from loyadsl.api import compile_file
from loyadsl.simulate.render import burn_grid, split_grid
from loyadsl.simulate.run import Simulation

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "supermarket"


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    bundle, _ = compile_file(EXAMPLE / "programme.loya")
    assert bundle is not None
    return Simulation(bundle, [EXAMPLE / "receipts.jsonl"], customers=EXAMPLE / "customers.jsonl").run()


@pytest.mark.parametrize("dimension", ["store", "channel", "tier"])
def test_a_split_adds_up_to_the_totals(report: dict[str, Any], dimension: str) -> None:
    rows, t = report["splits"][dimension], report["totals"]
    for field, total in (("receipts", "receipts"), ("revenue", "revenue"), ("discount", "discount"),
                         ("turnover", "turnover"), ("points", "points_accrued")):
        assert sum(r[field] for r in rows) == t[total], (dimension, field)
    assert [r["revenue"] for r in rows] == sorted((r["revenue"] for r in rows), reverse=True)


def test_segments_count_a_receipt_once_per_segment(report: dict[str, Any]) -> None:
    rows = {r["key"]: r for r in report["splits"]["segment"]}
    anonymous = report["totals"]["receipts"] - report["totals"]["receipts_with_card"]
    assert rows["(anonymous)"]["receipts"] == anonymous
    assert sum(r["receipts"] for r in rows.values()) >= report["totals"]["receipts"]
    assert {"young_family", "coffee_lovers", "pet_owners", "(none)"} <= set(rows)


def test_campaign_revenue_and_return_on_cost(report: dict[str, Any]) -> None:
    for c in report["campaigns"]:
        assert c["revenue"] <= report["totals"]["revenue"]
        if c["cost"] > 0:
            whole, frac = c["return_on_cost"].split(".")
            assert abs(int(whole) * 100 + int(frac) - c["revenue"] * 100 // c["cost"]) <= 1
        else:
            assert c["return_on_cost"] is None


def test_the_burn_forecast_holds_what_is_left_in_lots(report: dict[str, Any]) -> None:
    forecast = report["burn_forecast"]
    assert forecast and [f["month"] for f in forecast] == sorted(f["month"] for f in forecast)
    assert sum(f["points"] for f in forecast) >= report["totals"]["liability"]  # pending lots too
    assert [row[0].text for row in burn_grid(report).rows] == [f["month"] for f in forecast]
    assert split_grid(report, "store", top=3).note == f"the 3 largest of {len(report['splits']['store'])} by revenue"
