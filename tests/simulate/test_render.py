"""Terminal rendering of simulation reports and diffs: exact figures, user text shown literally, empty input."""

from __future__ import annotations

import copy
import io
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from loyadsl.simulate.render import (
    change_ppm,
    compact_text,
    decimal_text,
    money_text,
    ppm_text,
    quantity_text,
    render_diff,
    render_report,
)

DATA = Path(__file__).parent / "data"


def sample(name: str = "report_sample.json") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return data


def text_of(render: Any, doc: dict[str, Any], width: int = 200) -> str:
    buf = io.StringIO()
    render(doc, Console(file=buf, width=width, color_system=None, force_terminal=False))
    return buf.getvalue()


# ------------------------------------------------------------------------------------------ numbers


def test_money_is_grouped_and_exact() -> None:
    assert money_text(123456, 2) == "1,234.56"
    assert money_text(-5, 2) == "-0.05"
    assert money_text(0, 2) == "0.00"
    assert money_text(1234567, 0) == "1,234,567"
    assert money_text(1234567, 3) == "1,234.567"
    assert money_text(10**20 + 1, 2) == "1,000,000,000,000,000,000.01"  # far beyond a float's precision


@given(st.integers(min_value=-(10**30), max_value=10**30), st.integers(min_value=0, max_value=4))
def test_money_round_trips(value: int, minor: int) -> None:
    text = money_text(value, minor)
    _, _, frac = text.partition(".")
    assert len(frac) == minor
    assert int(text.replace(",", "").replace(".", "")) == value


def test_ppm_is_a_percent_truncated_toward_zero() -> None:
    assert ppm_text(68716) == "6.87%"
    assert ppm_text(29999) == "2.99%"  # never rounds up past an assertion's limit
    assert ppm_text(1_000_000) == "100.00%"
    assert ppm_text(-150) == "-0.01%"
    assert ppm_text(-99) == "0.00%"  # no "-0.00%"
    assert ppm_text(0) == "0.00%"


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_ppm_text_is_within_a_hundredth_of_a_percent(ppm: int) -> None:
    shown = Decimal(ppm_text(ppm).rstrip("%").replace(",", "")) * 10_000
    assert abs(shown) <= abs(ppm) < abs(shown) + 100


def test_decimal_strings_and_changes() -> None:
    assert decimal_text("1148.80") == "1,148.80"
    assert decimal_text("-1234567.5") == "-1,234,567.5"
    assert decimal_text("n/a") == "n/a"
    assert change_ppm(100, 150) == 500_000
    assert change_ppm(100, 50) == -500_000
    assert change_ppm(-100, -50) == 500_000  # less negative is an increase
    assert change_ppm(0, 5) is None
    assert quantity_text(1_500) == "1.5" and quantity_text(2_000) == "2" and quantity_text(-768) == "-0.768"
    assert compact_text(250_000_000, 2) == "2.5M"
    assert compact_text(-20_000_00, 2) == "-20k"
    assert compact_text(0, 2) == "0"
    assert compact_text(150, 2) == "1.50"


# ------------------------------------------------------------------------------------------ report


def test_report_shows_the_headline_exactly() -> None:
    out = text_of(render_report, sample())
    for expected in (
        "Romashka 2026.11",
        "207,796,975.39 RUB",  # revenue
        "217,425,683.98",  # turnover
        "180,882",  # receipts
        "1,148.80 RUB",  # average receipt
        "12.80",  # frequency
        "7.40",  # items per receipt
        "155.20 RUB",  # average item price
        "1,338,939.568 units",  # quantities are held in thousandths
        "88.29%",  # card share (882,995 ppm truncated)
        "12,480",  # active customers
        "3,120",  # first purchases
        "71.66%",  # repeat share
        "14,940,634.59 RUB",  # cost
        "6.87%",  # cost share
        "5,311,926",  # points accrued
        "2,595,511",  # redeemed
        "291,411",  # expired
        "2,425,004",  # liability
        "read 180,919 = simulated 180,882 + quarantined 37",
    ):
        assert expected in out, expected


def test_one_figure_from_minor_units() -> None:
    report = {"programme": {"name": "P", "currency": "EUR", "minor": 2}, "totals": {"revenue": 123456}}
    assert "1,234.56 EUR" in text_of(render_report, report)
    report["programme"]["minor"] = 0
    assert "123,456 EUR" in text_of(render_report, report)


def test_campaigns_sorted_by_cost_with_their_share() -> None:
    out = text_of(render_report, sample())
    order = ["base_cashback", "big_basket", "three_for_two", "gold_fresh", "happy_dairy", "welcome10"]
    positions = [out.index(f"│ {name}") for name in order]
    assert positions == sorted(positions)
    assert "3,953,061.00" in out and "1.81%" in out  # base_cashback: cost and cost share


def test_collisions_budgets_assertions() -> None:
    out = text_of(render_report, sample())
    assert "happy_dairy × three_for_two" in out and "three_for_two 1,530" in out
    assert "1,500,000.00 RUB" in out and "2026-10-19" in out and "109.12%" in out
    assert "500,000 points" in out and "not exhausted" in out
    assert "FAILED" in out and "campaigns.big_basket.cost <= 2500000.00 RUB" in out
    assert "assertions: 2 passed, 1 failed" in out


def test_input_that_does_not_add_up_is_said() -> None:
    report = sample()
    report["input"]["read"] += 2
    assert "does not add up (differs by 2)" in text_of(render_report, report)


def test_user_text_is_not_rich_markup() -> None:
    report = sample()
    report["campaigns"][0]["name"] = "[bold red]boom[/] <script>alert(1)</script>"
    report["assertions"][0]["detail"] = "[link=x]y[/link]"
    out = text_of(render_report, report, width=300)
    assert "[bold red]boom[/] <script>alert(1)</script>" in out
    assert "[link=x]y[/link]" in out


def test_empty_reports_render() -> None:
    out = text_of(render_report, {})
    assert "no campaigns" in out and "read 0 = simulated 0 + quarantined 0" in out
    empty = {"kind": "simulation", "programme": {"name": "Empty", "currency": "RUB", "minor": 2},
             "input": {"read": 0, "simulated": 0, "quarantined": 0},
             "totals": {"revenue": 0, "average_receipt": "0.00"}, "campaigns": [], "collisions": [],
             "series": {"period": "week", "points": []}, "budgets": [], "assertions": []}
    out = text_of(render_report, empty)
    assert "Empty" in out and "0.00 RUB" in out and "no collisions" in out and "assertions:" not in out


def test_a_narrow_terminal_cuts_no_name_and_no_figure() -> None:
    for width in (60, 100, 130):
        out = text_of(render_report, sample(), width=width)
        assert not re.search(r"\w…", out.split("\n", 1)[1]), width  # line 1 shortens the digest on purpose
        assert "139,240,000.00" in out and "1,333,470.87" in out
        if width >= 100:  # names may fold in a table, but a record layout keeps them on one line
            continue
        assert all(c["name"] in out for c in sample()["campaigns"])


def test_a_zero_budget_does_not_divide() -> None:
    report = sample()
    report["budgets"][0]["amount"] = 0
    assert "happy_dairy" in text_of(render_report, report)


# ------------------------------------------------------------------------------------------ diff


def test_diff_shows_changes_signed() -> None:
    out = text_of(render_diff, sample("diff_sample.json"))
    for expected in (
        "Romashka 2026.10 → Romashka 2026.11",
        "27,944 receipts and 6,212 customers got a different outcome",
        "-64,452.75",  # overall cost change
        "-0.42%",  # relative
        "+1,333,470.87",  # welcome10 added
        "added", "removed", "same",
        "happy_dairy × sweets_gift",
        "anonymous",  # a receipt without a customer
        "Saturday", "18:00",
        "+962,870.87",
    ):
        assert expected in out, expected


def test_diff_recomputes_a_missing_delta_and_survives_empty() -> None:
    diff = sample("diff_sample.json")
    del diff["totals"]["cost"]["delta"]
    assert "-64,452.75" in text_of(render_diff, diff)
    out = text_of(render_diff, {"kind": "diff"})
    assert "no campaigns" in out and "no receipt changed" in out


def test_rendering_does_not_change_the_report() -> None:
    report, diff = sample(), sample("diff_sample.json")
    before = copy.deepcopy((report, diff))
    text_of(render_report, report)
    text_of(render_diff, diff)
    assert (report, diff) == before
