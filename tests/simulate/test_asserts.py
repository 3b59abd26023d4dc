"""CI guards over report figures: exact comparisons with units, clear failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from loyadsl.simulate.asserts import AssertionSyntaxError, check, load_assertions, parse_assertion

REPORT = {
    "programme": {"currency": "RUB", "minor": 2, "points_minor": 0},
    "input": {"read": 10, "quarantined": 1},
    "totals": {"turnover": 1_000_000, "cost": 31_000, "cost_share_ppm": 31_000, "liability": 5_000, "receipts": 9},
    "campaigns": [{"name": "welcome", "cost": 500_000, "cost_share_ppm": 20_000, "receipts": 3}],
    "budgets": [{"campaign": "welcome", "given": 100, "amount": 200}],
}


def verdicts(*texts: str) -> list[dict[str, object]]:
    return check(load_assertions(texts), REPORT)


def test_share_as_percent_is_exact() -> None:
    ok, bad = verdicts("totals.cost_share <= 3.1%", "totals.cost_share <= 3%")
    assert ok["ok"] is True and ok["value"] == 31_000 and ok["expected"] == 31_000
    assert bad["ok"] is False
    assert bad["detail"] == "totals.cost_share is 3.10%, expected <= 3.00%"


def test_money_points_and_counts() -> None:
    results = verdicts("campaigns.welcome.cost <= 5000.00 RUB", "campaigns.welcome.cost < 5000 ₽",
                       "totals.liability <= 5000 points", "input.quarantined == 1", "budgets.welcome.given < 200.00 RUB")
    assert [r["ok"] for r in results] == [True, False, True, True, True]
    assert results[1]["detail"] == "campaigns.welcome.cost is 5000.00 RUB, expected < 5000.00 RUB"


@pytest.mark.parametrize(("text", "message"), [
    ("totals.cost <= 3%", "a percent compares with a share"),
    ("totals.cost <= 5.00 USD", "the report is in RUB"),
    ("totals.cost <= 5", "write the unit"),
    ("campaigns.nope.cost <= 5.00 RUB", "no campaign 'nope' (known: welcome)"),
    ("totals.nothing <= 5", "not a figure"),
    ("totals.cost <= 0.001 RUB", "more decimals"),
    ("totals <= 3%", "name a figure"),
])
def test_wrong_assertions_fail_with_a_reason(text: str, message: str) -> None:
    (result,) = verdicts(text)
    assert result["ok"] is False
    assert message in str(result["detail"])


@pytest.mark.parametrize("text", ["totals.cost", "totals.cost <=", "3% >= totals.cost_share"])
def test_unreadable_assertions_are_refused(text: str) -> None:
    with pytest.raises(AssertionSyntaxError):
        parse_assertion(text)


def test_yaml_file_of_assertions(tmp_path: Path) -> None:
    path = tmp_path / "guards.yaml"
    path.write_text("assert:\n  - totals.cost_share <= 5%\n  - totals.receipts >= 9\n", encoding="utf-8")
    assert [r["ok"] for r in check(load_assertions([], [path]), REPORT)] == [True, True]
    path.write_text("just: a mapping\n", encoding="utf-8")
    with pytest.raises(AssertionSyntaxError, match="list of assertion strings"):
        load_assertions([], [path])
