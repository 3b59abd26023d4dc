"""Partial returns give back the amounts a receipt counted in ``usage`` line by line (runtime/ledger,
``_Undo._back_usage``): the anti-fraud points of the day (``@points.day``) by the points its lots
take back, a staff discount under ``max discount ... per month`` (``CAMPAIGN@discount``) by the
discount of the returned lines; partial returns and the last one add up to the whole, exactly."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, load_bundle
from loyadsl.runtime.state import CustomerState, apply

PROGRAMME = '''programme "Shop" {
    currency RUB minor 2
    timezone "Europe/Moscow"
    max points 100000 per day
    staff segment "employees"
}
account bonus { expiry never }
group base { priority 100  stacking stack_all  basis original }
campaign staff_discount {
    group base
    audience "employees" in customer.segments
    max discount 100000.00 RUB per month
    then discount 20% on receipt
}
campaign cashback {
    group base
    then accrue 7% on receipt
}
'''
DATA, _ = compile_text(PROGRAMME, "partial.loya")
assert DATA is not None
ENGINE = Engine(load_bundle(DATA))
NOW = dt.datetime.fromisoformat("2026-03-01T18:00:00+03:00")


def sale(quantities: list[int], prices: list[int], staff: bool) -> tuple[Any, CustomerState]:
    state = CustomerState.from_dict({"id": "sam", "segments": ["employees"] if staff else []})
    lines = [{"line_no": n + 1, "sku": f"S{n}", "category": "food", "qty": q, "unit_price": p, "amount": q * p}
             for n, (q, p) in enumerate(zip(quantities, prices, strict=True))]
    outcome = ENGINE.evaluate({"receipt_id": "R1", "customer_id": "sam", "store_id": "S",
                               "datetime": "2026-03-01T12:00:00+03:00", "lines": lines}, state)
    return outcome, apply(state, list(outcome.changes), ENGINE.bundle.state)


def usage_deltas(changes: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in changes:
        if c["op"] == "usage":
            out[c["campaign"]] = out.get(c["campaign"], 0) + c["delta"]
    return out


def test_a_partial_return_gives_back_the_returned_lines_share() -> None:
    outcome, state = sale([2, 1], [100000, 300000], staff=True)  # 20% off: 400.00 and 600.00
    assert state.to_dict()["usage"] == {"staff_discount@discount": {"2026-03": 100000}}
    refund = ENGINE.refund(outcome, {1: 1}, state, NOW)  # one of the two units of line 1
    assert usage_deltas(refund.changes) == {"staff_discount@discount": -20000}
    outcome, state = sale([2, 1], [100000, 300000], staff=False)  # 7% back: 140 and 210 points
    refund = ENGINE.refund(outcome, {2: 1}, state, NOW)
    assert usage_deltas(refund.changes) == {"@points.day": -210}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 5), st.integers(1, 99999)), min_size=1, max_size=4), st.booleans(),
       st.data())
def test_partial_returns_add_up_to_the_whole(lines: list[tuple[int, int]], staff: bool, data: st.DataObject) -> None:
    outcome, state = sale([q for q, _ in lines], [p for _, p in lines], staff)
    counted = usage_deltas(outcome.changes)
    left = {n + 1: q for n, (q, _) in enumerate(lines)}
    given_back: dict[str, int] = {}
    while left:
        line_no = data.draw(st.sampled_from(sorted(left)))
        qty = data.draw(st.integers(1, left[line_no]))
        refund = ENGINE.refund(outcome, {line_no: qty}, state, NOW)
        state = apply(state, list(refund.changes), ENGINE.bundle.state)
        left[line_no] -= qty
        if not left[line_no]:
            del left[line_no]
        assert refund.full == (not left)
        for name, delta in usage_deltas(refund.changes).items():
            assert delta <= 0
            given_back[name] = given_back.get(name, 0) - delta
    assert given_back == counted
    assert state.to_dict().get("usage", {}) == {}
