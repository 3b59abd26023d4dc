"""A bare number in a product is a factor: money, points and quantities scale by it (issue 17, fix 1)."""

from __future__ import annotations

import pytest

from loyadsl.api import check_text
from loyadsl.compile import ir

HEADER = """programme "T" {
    currency RUB minor 2
    points minor 0 value 1.00 RUB
    timezone "Europe/Moscow"
    rounding discount half_up
    rounding points floor
}
group g "G" {
    priority 1
    stacking stack_all
    basis original
}
account bonus { }
"""


def checked(body: str) -> tuple[list[str], ir.Programme | None]:
    result = check_text(HEADER + "campaign c {\n    group g\n" + body + "\n}\n", "t.loya")
    return [d.code for d in result.diagnostics if d.is_error], result.programme


@pytest.mark.parametrize(
    "body",
    [
        "    then discount receipt.total * 0.1 on receipt",
        "    then discount 0.1 * receipt.total on receipt",
        "    then discount receipt.total * 2 on receipt",
        "    then discount 2 * receipt.total on receipt",
        "    then discount sum(lines where sku \"A\") * 0.15 on lines where sku \"A\"",
        "    then accrue 2 * 50 points",
        "    then accrue 50 points * 1.5",
        "    then accrue balance.bonus * 0.5",
        "    when qty(lines) * 1.5 >= 3 kg\n    then discount 1% on receipt",
        "    when 1.5 * qty(lines) >= 3 kg\n    then discount 1% on receipt",
        "    when receipt.units * 2 >= 3 units\n    then discount 1% on receipt",
        "    when units(lines) * 2 >= 3\n    then discount 1% on receipt",
        "    when receipt.total * 0.9 >= 1000.00 RUB\n    then discount 1% on receipt",
        "    then tiers receipt.total * 0.5 {\n        >= 100.00 RUB: discount 2% on receipt\n"
        "        >= 10.00 RUB: discount 1% on receipt\n    }",
    ],
)
def test_money_points_and_quantities_multiply_by_a_bare_number(body: str) -> None:
    assert checked(body)[0] == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("    then discount receipt.total * receipt.total on receipt", "LOY202"),
        ("    when receipt.total + 5 points >= 1.00 RUB\n    then discount 1% on receipt", "LOY202"),
        ("    when receipt.total * 5 points >= 1.00 RUB\n    then discount 1% on receipt", "LOY202"),
        ("    when qty(lines) * qty(lines) >= 1 kg\n    then discount 1% on receipt", "LOY202"),
        ("    then discount 10% * 2 on receipt", "LOY202"),
        ("    then discount 2 * 3 on receipt", "LOY202"),  # a count is not money
        ("    then discount receipt.total * 0.0001 on receipt", "LOY207"),  # a factor has at most 3 decimals
        ("    then accrue 10 points * -1", "LOY221"),
        ("    then discount 100.00 RUB * 0 on receipt", "LOY221"),
    ],
)
def test_units_still_never_mix(body: str, code: str) -> None:
    assert code in checked(body)[0]


@pytest.mark.parametrize(
    ("body", "value"),
    [
        ("    then accrue 2 * 50 points", 100),
        ("    then accrue 50 points * 2", 100),
        ("    then accrue 25 points * 1.5", 37),  # 37.5, rounded by `rounding points floor`
        ("    then discount 10.01 RUB * 0.5 on receipt", 501),  # 500.5 kopecks, `rounding discount half_up`
        ("    then discount 0.5 * 10.01 RUB on receipt", 501),
    ],
)
def test_a_constant_product_is_folded_exactly_as_the_runtime_rounds_it(body: str, value: int) -> None:
    errors, programme = checked(body)
    assert errors == [] and programme is not None
    reward = programme.campaigns[0].actions[0]
    assert isinstance(reward, ir.Reward)
    assert reward.args[0] == ir.Const(reward.args[0].type, value)
