"""An accrual on a discounted basis sums its lines' basis once a group (the driver's memo ``W``,
``jit._FastAction.weight``, ``driver._weights``): campaigns of one group accruing on the same predicate share
the sum (one alone sums at once); a later
group, whose basis the discounts before it changed, sums again. On random receipts the outcome is the
general loop's, field for field (a memo kept across groups, or keyed by anything but the predicate, fails)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, load_bundle

from .compare import general_loop, outcomes
from .test_fuzz_driver import _receipts

SOURCE = """programme "Weights" version "1" {
    currency RUB minor 2
    points minor 0 value 1.00 RUB
    timezone "Europe/Moscow"
}

group early { priority 2 stacking stack_all basis discounted }
group late { priority 1 stacking stack_all basis discounted }

campaign a "A" { group early  then accrue 3% on lines where brand "BR007" }
campaign b "B" { group early  then accrue 7% on lines where not category "tobacco" }
campaign c "C" { group early  then discount 20% on lines where brand "BR007" }
campaign d "D" { group early  then accrue 5% on lines where brand "BR007" }
campaign e "E" { group early  then accrue 11 points on lines where not category "tobacco" }
campaign f "F" { group late  then accrue 2% on lines where brand "BR007" }
campaign g "G" { group late  then accrue 9% on lines where not category "tobacco" }
campaign h "H" { group late  then accrue 4% on lines where brand "BR007" }
campaign i "I" { group late  then accrue 1 points on lines where not category "tobacco" }
campaign j "J" { group late  then accrue 6% on lines where category "dairy" }
"""


def _engines() -> tuple[Engine, Engine]:
    data, result = compile_text(SOURCE, "weights.loya")
    assert data is not None, result.diagnostics
    return Engine(load_bundle(data)), general_loop(Engine(load_bundle(data)))


DRIVEN, GENERAL = _engines()


def test_the_driver_sums_a_predicates_basis_once_a_group() -> None:
    src = DRIVEN.driver_source
    assert src.count("    W = {}") == 2  # one memo per group
    assert src.count("_xw = W.get(") == 8  # every accrual on a filter another of its group reads too
    assert src.count("_xw = sum([basis[l.index] for l in _xs])") == 1  # j's, the only one on dairy: at once


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(_receipts())
def test_the_memo_gives_the_general_loops_outcome(receipts: list[dict[str, Any]]) -> None:
    assert outcomes(DRIVEN, receipts) == outcomes(GENERAL, receipts)
