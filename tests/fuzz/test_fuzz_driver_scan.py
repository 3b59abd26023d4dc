"""The driver computes the SKUs a receipt has and the lines of the plain filters that inline campaigns
read before any gate in one pass over the lines (runtime/driver.py, ``_Plan.scan``), instead of one
comprehension each; a campaign behind a gate still filters on first use. Filters of equal conditions
share one list. An accrual on the original basis reads the sum of its lines' amounts the pass keeps; one
on a discounted basis sums its basis. On random receipts its outcome is the general loop's, field for field."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import HealthCheck, given, settings

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, driver, load_bundle

from .compare import general_loop, outcomes
from .test_fuzz_driver import _receipts

SOURCE = """programme "Scan" version "1" {
    currency RUB minor 2
    points minor 0 value 1.00 RUB
    timezone "Europe/Moscow"
}

skus some = ["A", "B"]

group first { priority 2 stacking stack_all basis original }
group then { priority 1 stacking best_for_customer basis discounted }
group last { priority 0 stacking stack_all basis discounted }

campaign a "A" { group first  then accrue 3% on lines where not category "tobacco" }
campaign b "B" { group first  weekdays mon..fri  then discount 10% on lines where category "sweets" }
campaign c "C" { group first  then free 1 in 2 units of lines where sku in some }
campaign d "D" { group then  then discount 5% on lines where brand "BR007" }
campaign e "E" { group then  then discount 7% on lines where not category "tobacco" }
campaign f "F" { group then  then combo {
        coffee: 1 of lines where category "cafe/coffee"
        milk: 1 of lines where category "dairy"
    } discount 50% on milk }
campaign g "G" { group last  then accrue 2% on lines where not category "tobacco" }
campaign h "H" { group first  then accrue 5 points on lines where brand "BR007" }
"""


def _engines() -> tuple[Engine, Engine]:
    data, result = compile_text(SOURCE, "scan.loya")
    assert data is not None, result.diagnostics
    return Engine(load_bundle(data)), general_loop(Engine(load_bundle(data)))


DRIVEN, GENERAL = _engines()


def _scan_loop(src: str) -> str:
    """The scan's loop (its first copy, when it runs again after learning the categories)."""
    start = src.index("for l in lines:", src.index("M = r.matches"))
    ends = [i for i in (src.find("except KeyError:", start), src.index("# group 0")) if i >= 0]
    return src[start:min(ends)]


def test_one_pass_computes_the_filters_read_before_any_gate() -> None:
    src = DRIVEN.driver_source
    loop = _scan_loop(src)
    assert "sku" not in loop and "_lc = l.category" in loop
    # c's SKU gate, the only one: the receipt's SKUs read in C where it is tested, no list made in the loop
    assert src.count("isdisjoint(map(_SKU, lines))") == 1 and "skus" not in src
    assert loop.count(".append(l)") == 4  # not tobacco (a and e: one predicate), brand (d), coffee and dairy (f)
    # b's filter (sweets) and c's (SKUs, a called reward's: made before the call) wait behind their gates
    assert src.count("[l for l in lines if") == 2
    # the running sums of the lines a (not tobacco, ACCRUE_TOTAL) and h (brand, ACCRUE_FIXED) accrue on, in
    # group first (original basis); g accrues on not tobacco in group last (discounted): it sums its basis
    assert loop.count("+= l.amount") == 2
    # group last (discounted): it sums its basis (the only accrual of the group on it: no memo, ``W``)
    assert src.count("_xw = _s") == 2 and src.count("if _s") == 0
    assert src.count("_xw = sum([basis[l.index]") == 1 and "W" not in src


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(_receipts())
def test_the_scan_gives_the_general_loops_outcome(receipts: list[dict[str, Any]]) -> None:
    assert outcomes(DRIVEN, receipts) == outcomes(GENERAL, receipts)


MANY = """programme "Many filters" version "1" {
    currency RUB minor 2
    points minor 0 value 1.00 RUB
    timezone "UTC"
}

group first { priority 2 stacking stack_all basis original }
group then { priority 1 stacking best_for_customer basis discounted }

campaign a "A" { group first  then discount 3% on lines where category "dairy" }
campaign b "B" { group first  then discount 4% on lines where category "dairy/milk" }
campaign c "C" { group first  then discount 5% on lines where not category "tobacco" }
campaign d "D" { group first  then discount 6% on lines where category "sweets" or category "cafe" }
campaign e "E" { group then  then discount 7% on lines where category "food" }
campaign f "F" { group then  then discount 8% on lines where category "cafe/coffee" and price >= 1.00 RUB }
campaign g "G" { group then  then discount 9% on lines where not category "dairy" }
campaign h "H" { group then  then discount 2% on lines where brand "BR007" }
campaign i "I" { group first  then accrue 1% on lines where category "tobacco" }
"""


def _many() -> tuple[Engine, Engine]:
    data, result = compile_text(MANY, "many.loya")
    assert data is not None, result.diagnostics
    return Engine(load_bundle(data)), general_loop(Engine(load_bundle(data)))


MANY_DRIVEN, MANY_GENERAL = _many()


def test_many_filters_on_the_category_ask_one_memo_a_line() -> None:
    """Six or more filters on the category alone: the scan asks the category's signature (the filters that
    hold) once a line; a filter that reads more (price, brand) or whose lines are summed is tested apart."""
    src = MANY_DRIVEN.driver_source
    loop = _scan_loop(src)
    assert "for _k in SCAN_SIGNATURE_P[_lc]: _fl[_k].append(l)" in loop
    assert loop.count("if ") == 3  # f (category and price), h (brand), i (tobacco, its amounts summed)
    assert "+= l.amount" in loop


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(_receipts())
def test_the_signature_scan_gives_the_general_loops_outcome(receipts: list[dict[str, Any]]) -> None:
    assert outcomes(MANY_DRIVEN, receipts) == outcomes(MANY_GENERAL, receipts)


GATES = """programme "Gates" version "1" {
    currency RUB minor 2
    points minor 0 value 1.00 RUB
    timezone "UTC"
}

skus some = ["A", "B"]
skus other = ["SKU00001", "Q1"]

group first { priority 2 stacking stack_all basis original }

campaign a "A" { group first  then free 1 in 2 units of lines where sku in some }
campaign b "B" { group first  then free 1 in 3 units of lines where sku in other }
campaign c "C" { group first  then accrue 3% on lines where not category "tobacco" }
"""


def _gates() -> tuple[Engine, Engine]:
    data, result = compile_text(GATES, "gates.loya")
    assert data is not None, result.diagnostics
    return Engine(load_bundle(data)), general_loop(Engine(load_bundle(data)))


GATES_DRIVEN, GATES_GENERAL = _gates()


def test_few_sku_gates_test_the_receipts_skus_listed_once() -> None:
    """Two SKU gates (at most ``driver.FEW``): the receipt's SKUs listed once, in C, each gate one test."""
    src = GATES_DRIVEN.driver_source
    assert src.count("skus = [*map(_SKU, lines)]") == 1 and src.count(".isdisjoint(skus)") == 2


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(_receipts())
def test_few_sku_gates_give_the_general_loops_outcome(receipts: list[dict[str, Any]]) -> None:
    assert outcomes(GATES_DRIVEN, receipts) == outcomes(GATES_GENERAL, receipts)


def test_the_driver_reads_plain_mirrors_of_the_memos() -> None:
    """The driver's category lookups are in plain dicts (``driver.ScanMemos``), none in a memo (a ``dict``
    subclass). The scan looks each line's category up first, so it learns the categories the mirrors lack
    itself (KeyError, then the scan again); b's filter, behind its gate, reads a mirror too."""
    src = DRIVEN.driver_source
    scan = src[src.index("    try:"):src.index("    # group 0")]
    assert scan.count("for l in lines:") == 2 and "    except KeyError:\n        SCAN_LEARN(lines)" in scan
    assert re.search(r"\bC\d+\[", src) is None and re.search(r"\bC\d+_P\[_lc\]", src) is not None
    assert re.search(r"\[l for l in lines if \(?C\d+_P\[l.category\]", src) is not None


BRAND_FIRST = """programme "Brand first" version "1" {
    currency RUB minor 2
    points minor 0 value 1.00 RUB
    timezone "UTC"
}

group first { priority 2 stacking stack_all basis original }

campaign a "A" { group first  then accrue 3% on lines where brand "BR007" }
campaign b "B" { group first  then discount 5% on lines where category "dairy" }
campaign c "C" { group first  then accrue 2% on lines where not category "tobacco" }
"""


def _brand_first() -> tuple[Engine, Engine]:
    data, result = compile_text(BRAND_FIRST, "brand.loya")
    assert data is not None, result.diagnostics
    return Engine(load_bundle(data)), general_loop(Engine(load_bundle(data)))


def test_a_scan_that_reads_no_memo_first_learns_the_categories_before_it() -> None:
    """A scan whose first test of a line is not a memo's (the brand) may skip the memos for some lines: the
    driver looks every category up in a mirror before the scan instead."""
    driven, _ = _brand_first()
    src = driven.driver_source
    head = src[:src.index("    amounts, left")]
    assert re.search(r"try:\n        for l in lines: C\d+_P\[l.category\]\n    except KeyError:\n        SCAN_LEARN", head)
    assert src.count("SCAN_LEARN") == 1 and re.search(r"\bC\d+\[", src) is None


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(_receipts())
def test_mirrors_that_start_afresh_give_the_general_loops_outcome(receipts: list[dict[str, Any]]) -> None:
    """With mirrors of at most two categories (so most receipts clear and learn them again), fresh engines
    give the general loop's outcome."""
    mirrored = driver.MIRRORED
    driver.MIRRORED = 2
    try:
        driven, general = _engines()
        many, many_general = _many()
        brand, brand_general = _brand_first()
    finally:
        driver.MIRRORED = mirrored
    assert outcomes(driven, receipts) == outcomes(general, receipts)
    assert outcomes(many, receipts) == outcomes(many_general, receipts)
    assert outcomes(brand, receipts) == outcomes(brand_general, receipts)
