"""Programme assertions (docs/collisions.md, "Assertions"): a proved bound is never exceeded by any
receipt the runtime evaluates (hypothesis, on random small programmes), a broken assertion's witness
really breaks it, and the code pages' examples report their code while their fixes do not."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyadsl.analysis import asserts, bounds
from loyadsl.analysis.findings import findings
from loyadsl.api import compile_text
from loyadsl.compile import ir
from loyadsl.runtime import Engine

ROOT = Path(__file__).resolve().parents[2]
HEAD = 'programme "t" {\n    currency RUB minor 2\n    points minor 0 value 1.00 RUB\n    timezone "UTC"\n}\n'
ACTIONS = (
    "discount 10% on receipt", "discount 25% on lines where category \"x\"", "discount 150.00 RUB on receipt",
    "discount 40% on lines where category \"y\"", "free 1 in 3 units of lines where category \"x\"",
    "accrue 5% on receipt", "accrue 50 points", "discount 5.00 RUB per unit on lines where category \"y\"",
    "price 30.00 RUB on lines where category \"x\"",
)
STACKINGS = ("stack_all", "stack_up_to 2", "first_by_priority", "best_for_customer")


def compiled(text: str) -> tuple[ir.Programme, Engine]:
    data, result = compile_text(text, "t.loya")
    assert data is not None and result.programme is not None, result.diagnostics
    return result.programme, Engine.from_bytes(data)


def receipts() -> list[dict[str, Any]]:
    """Receipts of one or two lines of each category, at a few quantities and prices."""
    out = []
    for xq, xp, yq, yp in itertools.product((0, 1, 3, 7), (500, 10_000, 250_000), (0, 2), (300, 80_000)):
        lines = [{"sku": sku, "category": cat, "qty": q, "unit_price": p, "amount": q * p}
                 for sku, cat, q, p in (("X", "x", xq, xp), ("Y", "y", yq, yp)) if q]
        if lines:
            out.append({"receipt_id": "R", "datetime": dt.datetime(2025, 3, 3, 12, tzinfo=dt.UTC).isoformat(),
                        "store_id": "S1", "lines": [{"line_no": i + 1, **line} for i, line in enumerate(lines)]})
    return out


RECEIPTS = receipts()

programmes = st.lists(
    st.tuples(st.sampled_from(ACTIONS), st.sampled_from((None, 200_000, 100_000)), st.integers(0, 1)),
    min_size=1, max_size=4,
).flatmap(lambda cs: st.tuples(st.just(cs), st.lists(st.sampled_from(STACKINGS), min_size=2, max_size=2),
                               st.lists(st.sampled_from(("original", "discounted")), min_size=2, max_size=2)))


def source(spec: Any) -> str:
    campaigns, stackings, bases = spec
    out = [HEAD]
    for g in range(2):
        out.append(f"group g{g} {{ priority {10 - g}  stacking {stackings[g]}  basis {bases[g]} }}")
    for i, (action, threshold, g) in enumerate(campaigns):
        when = f"  when receipt.total >= {threshold // 100}.00 RUB" if threshold else ""
        out.append(f"campaign c{i} {{ group g{g}{when}  then {action} }}")
    return "\n".join(out) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programmes)
def test_no_receipt_exceeds_a_bound(spec: Any) -> None:
    programme, engine = compiled(source(spec))
    discount = bounds.receipt_share(programme, lambda c: bounds.discount_share(c, programme))
    lines = bounds.receipt_share(programme, lambda c: bounds.line_share(c, programme))
    money = bounds.amount(programme, lambda c: bounds.discount_amount(c, programme))
    points = bounds.points_share(programme)
    slack = Fraction(len(programme.campaigns) + 1)  # rounding: a minor unit per campaign and line
    for receipt in RECEIPTS:
        o = engine.evaluate(receipt, None)
        assert discount is not None and o.discount_total <= discount * o.total + slack * len(o.lines)
        for line in o.lines:
            assert lines is not None and line.discount <= lines * line.amount + slack
        if money is not None:
            assert o.discount_total <= money + slack * len(o.lines)
        if points is not None and o.payable > 0:
            assert bounds.point_value(o.points_total, programme) <= points * o.payable + slack


def test_a_stack_within_the_limit_is_proved() -> None:
    text = HEAD + """group base { priority 100  stacking stack_all  basis original }
campaign a { group base  then discount 10% on receipt }
campaign b { group base  when receipt.total >= 1000.00 RUB  then discount 200.00 RUB on receipt }
campaign c { group base  then discount 30% on lines where category "dairy" }
assert max_off { discount <= 60% }
assert lines { line_discount <= 60% }
"""
    programme, engine = compiled(text)
    verdicts = asserts.verify(programme, engine)
    assert [(v.check.name, v.answer) for v in verdicts] == [("max_off", "proved"), ("lines", "proved")]
    assert verdicts[0].bound == 600_000  # 10% + 200.00 of at least 1000.00 + 30%, in millionths
    assert asserts.diagnostics(verdicts, programme) == []


def test_a_broken_assertion_has_a_witness_the_runtime_confirms() -> None:
    text = HEAD + """group base { priority 100  stacking stack_all  basis original }
campaign a { group base  then discount 10% on receipt }
campaign c { group base  then discount 30% on lines where category "dairy" }
assert max_off { discount <= 39% }
"""
    programme, engine = compiled(text)
    (verdict,) = asserts.verify(programme, engine)
    assert verdict.answer == "broken" and verdict.witness is not None
    outcome = engine.evaluate(verdict.witness["receipt"], verdict.witness["customer"])
    assert Fraction(outcome.discount_total, outcome.total) > Fraction(39, 100)
    (diag,) = asserts.diagnostics([verdict], programme)
    assert diag.code == "LOY239" and diag.is_error and "witness receipt" in diag.notes[0]


def test_filters_that_exclude_each_other_keep_campaigns_apart() -> None:
    text = HEAD + """group base { priority 100  stacking stack_all  basis original }
campaign moscow { group base  stores ["S001"]  then discount 30% on receipt }
campaign kazan { group base  stores ["S002"]  then discount 30% on receipt }
assert max_off { discount <= 30% }
"""
    programme, engine = compiled(text)
    assert [v.answer for v in asserts.verify(programme, engine)] == ["proved"]


# ---------------------------------------------------------------------------------------------- code pages

BLOCK = re.compile(r"^```loya (assert|collisions)\n(.*?)^```", re.M | re.S)


def page(code: str) -> tuple[str, str]:
    text = (ROOT / "docs" / "codes" / f"{code}.md").read_text(encoding="utf-8")
    example = text.partition("## Example")[2].partition("## Fix")[0]
    found = [BLOCK.search(part) for part in (example, text.partition("## Fix")[2])]
    assert all(found), f"docs/codes/{code}.md needs a ```loya assert or collisions block in Example and Fix"
    return found[0].group(2), found[1].group(2)  # type: ignore[union-attr]


def reported(text: str) -> set[str]:
    programme, engine = compiled(text)
    found = asserts.diagnostics(asserts.verify(programme, engine), programme) + findings(programme, engine)
    return {d.code for d in found}


@pytest.mark.parametrize("code", ["LOY239", "LOY312", "LOY313"])
def test_the_code_page_example_reports_its_code_and_the_fix_does_not(code: str) -> None:
    example, fix = page(code)
    assert code in reported(example)
    assert code not in reported(fix)


def test_the_docs_example_is_proved() -> None:
    text = (ROOT / "docs" / "collisions.md").read_text(encoding="utf-8")
    example = re.search(r"## Assertions.*?```loya\n(.*?)```", text, re.S)
    assert example is not None
    programme, engine = compiled(example.group(1))
    verdicts = asserts.verify(programme, engine)
    assert [v.answer for v in verdicts] == ["proved"] * 3
    assert [v.bound for v in verdicts] == [600_000, 600_000, 50_000]  # 60% off, 60% of a line, 5% in points


def test_stacked_multipliers_are_bounded_and_a_stack_above_the_cap_is_shown() -> None:
    text = HEAD + """group base { priority 100  stacking first_by_priority  basis discounted }
group promo { priority 50  stacking stack_all  basis discounted }
campaign cashback { group base  then accrue 3% on receipt }
campaign weekend { group promo  weekdays [sat, sun]  then accrue x2 of cashback }
campaign dairy { group promo  then accrue x3 of cashback on lines where category "dairy" }
campaign tuesday { group promo  weekdays [tue]  then accrue x5 of cashback }
assert cap { multiplier <= x7 }
assert tight { multiplier <= x3.5 }
"""
    programme, engine = compiled(text)
    cap, tight = asserts.verify(programme, engine)
    # x2 (weekends) and x5 (Tuesdays) never meet, so the worst stack is Tuesday with dairy
    assert cap.answer == "proved" and cap.bound == 7000  # 1 + (5 - 1) + (3 - 1): Tuesday and dairy
    assert tight.answer == "broken" and tight.witness is not None
    assert tight.witness["measured"] > 3500
