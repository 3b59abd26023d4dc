"""The driver writes each reward kind out (runtime/jit.py, ``_FastAction``): accruals with their points
total, discounts per line, spread discounts with their allocation (``largest_line`` over ordered lines
as arithmetic), a combo's test for empty parts, and the call of every other reward with the discount
vector handed over. On random programmes made of those rewards (every rounding and allocation mode,
several rewards in one campaign, tiers, caps and limits) and random receipts (lines out of ``line_no``
order, minimum prices, zero amounts), the outcome is the general loop's (``Engine._group``), which calls
``rewards.Pricer``, field for field; and the campaign functions the driver does not inline agree too."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, driver, load_bundle

from . import strategies
from .compare import general_loop, outcomes

SELECTIONS = ["receipt", "lines", 'lines where category "dairy"', "lines where sku in some",
              'lines where brand "BR1"', "lines where price >= 10.00 RUB"]
WRITTEN_OUT = st.one_of(  # the rewards jit._FastAction writes out, on every kind of selection
    st.tuples(strategies._pick(["5%", "3.33%", "100 points", "1 pts", "0%"]), strategies._pick(SELECTIONS))
    .map(lambda t: f"accrue {t[0]} on {t[1]}"),
    st.tuples(strategies._pick(["10%", "2.5%", "100%", "0.01%"]), strategies._pick(SELECTIONS[1:]))
    .map(lambda t: f"discount {t[0]} on {t[1]}"),
    st.tuples(strategies._pick(["10%", "33.33%", "50.00 RUB", "0.01 RUB", "0.03 RUB", "1000000.00 RUB"]),
              strategies._pick(SELECTIONS)).map(lambda t: f"discount {t[0]} on {t[1]}"),
    st.just("tiers receipt.total {\n        >= 50.00 RUB: discount 7.00 RUB on receipt\n"
            "        >= 1.00 RUB: discount 3% on lines where category \"dairy\"\n    }"),
    st.just("accrue x3 of base on lines where brand \"BR1\""),
)
CALLED = strategies._pick([  # called, with the vector handed over through r.vec (and r.budget)
    "free 1 in 2 units of lines", 'free cheapest 1 units of lines where category "dairy"',
    'combo {\n        a: 1 of lines where category "dairy"\n        b: 1 of lines where category "sweets"\n'
    '    } discount 50% on b',
    'combo {\n        a: 1 of lines where sku "A"\n        b: 1 of lines where sku "B"\n    } price 0.99 RUB',
    "discount 1.00 RUB per unit on lines where sku in some", "price 0.50 RUB on lines where category \"sweets\""])
CLAUSES = strategies._pick(["", "limit 1 per receipt", "max discount 0.07 RUB per receipt",
                            "max points 3 points per receipt", "weekdays mon..fri", "stores moscow"])
STACKINGS = strategies._pick(["stack_all", "best_for_customer", "lowest_discount", "first_by_priority", "stack_up_to 2"])


@st.composite
def programmes(draw: st.DrawFn) -> str:
    parts = [draw(strategies.VALID_HEADER), 'skus some = ["A", "B"]', 'stores moscow = ["S1"]']
    groups = draw(st.integers(1, 2))
    for g in range(groups):
        basis = draw(strategies._pick(["original", "discounted"]))
        parts.append(f"group g{g} {{ priority {10 - g}  stacking {draw(STACKINGS)}  basis {basis} }}")
    parts.append('campaign base "Base" { group g0  then accrue 1% on receipt }')
    for i in range(draw(st.integers(1, 5))):
        actions = draw(st.lists(st.one_of(WRITTEN_OUT, WRITTEN_OUT, CALLED), min_size=1, max_size=3))
        clauses = [f"group g{draw(st.integers(0, groups - 1))}", draw(CLAUSES), "then " + "\n        ".join(actions)]
        parts.append(f'campaign c{i} "C{i}" {{\n    ' + "\n    ".join(clauses) + "\n}")
    return "\n\n".join(parts) + "\n"


@st.composite
def receipts(draw: st.DrawFn) -> dict[str, Any]:
    """A stateless receipt whose lines may come out of ``line_no`` order (ties then go by ``line_no``)."""
    n = draw(st.integers(1, 6))
    numbers = draw(st.permutations(list(range(1, n + 1)))) if draw(st.booleans()) else list(range(1, n + 1))
    lines = []
    for line_no in numbers:
        qty = draw(st.sampled_from([1, 2, 3, 0.5]))
        price = draw(st.sampled_from([0, 1, 3, 999, 1000, 12_345]))
        line = {"line_no": line_no, "sku": draw(st.sampled_from(["A", "B", "C"])),
                "category": draw(st.sampled_from(["dairy", "dairy/milk", "sweets", "food"])),
                "brand": draw(st.sampled_from(["BR1", "BR2"])), "qty": qty, "unit_price": price,
                "amount": int(price * qty)}
        if draw(st.integers(0, 4)) == 0:
            line["min_price"] = draw(st.integers(0, price))
        lines.append(line)
    return {"receipt_id": "R1", "store_id": draw(st.sampled_from(["S1", "S2"])),
            "datetime": f"2025-03-{draw(st.integers(1, 9)):02d}T12:00:00+00:00", "lines": lines}


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(programmes(), st.lists(receipts(), min_size=1, max_size=4))
def test_written_out_rewards_give_the_general_loops_outcome(source: str, batch: list[dict[str, Any]]) -> None:
    data, _ = compile_text(source, "p.loya")
    assume(data is not None)
    assert data is not None
    driven, general = Engine(load_bundle(data)), Engine(load_bundle(data))
    assume(not driven._stateful and driven._quick_ok)
    default, driver.INLINE = driver.INLINE, 0
    try:
        called = Engine(load_bundle(data))  # every campaign's function called: the rewards' own code
    finally:
        driver.INLINE = default
    general_loop(general)
    expected = outcomes(general, batch)
    assert outcomes(driven, batch) == expected
    assert outcomes(called, batch) == expected


def test_the_rewards_are_written_out() -> None:
    """The six kinds the driver writes out are arithmetic in its source, not calls; the others are
    called with ``vec`` handed over, a combo only when each of its parts has lines."""
    source = ('programme "P" version "1" {\n currency RUB minor 2\n timezone "UTC"\n allocation largest_line\n}\n'
              "group g { priority 1  stacking stack_all  basis original }\n"
              'campaign a "A" { group g  then accrue 5% on receipt  accrue 10 points on lines where category "x" }\n'
              'campaign b "B" { group g  then discount 10% on lines where category "x"  discount 5% on receipt }\n'
              'campaign c "C" { group g  then discount 1.00 RUB on receipt  free 1 in 2 units of lines }\n'
              'campaign d "D" { group g  then combo {\n a: 1 of lines where category "x"\n'
              ' b: 1 of lines where category "y"\n } discount 50% on b }\n')
    data, result = compile_text(source, "p.loya")
    assert data is not None, result.diagnostics
    src = Engine(load_bundle(data)).driver_source
    for call in ("R_ACCRUE_TOTAL", "R_ACCRUE_FIXED", "R_DISCOUNT_LINES", "R_DISCOUNT_TOTAL", "R_DISCOUNT_AMOUNT"):
        assert call not in src
    assert "acc.append(('ACCRUE_TOTAL', _xs, _xv0))" in src and "acc.append(('ACCRUE_FIXED', _xs, _xv0))" in src
    assert "_xp = [_xa * _xq // _xt for _xq in _xw]" in src  # largest_line over ordered lines
    assert "r.vec = vec; r.spread = spread\n" in src and "R_FREE_UNITS(r, " in src and "vec = r.vec; r.spread = None\n" in src
    combo = src.index("R_COMBO(r, ")
    assert src.count("if _xs:", 0, combo) >= 2 and "r.budget = APPS0_3" in src
