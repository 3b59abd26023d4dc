"""Properties of the purchase history (docs/segments.md): receipts and then their full returns, in any
order, leave the history as it was (every aggregate nets to zero); partial returns then the rest do the
same; the changes of each step invert exactly; pruning keeps the totals."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, Outcome, load_bundle
from loyadsl.runtime.state import CustomerState, apply, invert

PROGRAMME = """programme "P" { currency RUB minor 2  timezone "Europe/Moscow" }
lifecycle { new 30 days  active 90 days  sleeping 365 days }
segment fans { when bought(category "coffee", 60 days) >= 2 and share(brand "acme", 60 days) >= 10% }
segment big { when spend(60 days) >= 1000 RUB or ltv() >= 5000 RUB }
group base { priority 100  stacking stack_all  basis original }
campaign fan_deal { group base  audience segment.fans  then discount 5% on lines where category "coffee" }
campaign big_deal { group base  audience segment.big and lifecycle.active  then discount 3% on receipt }
"""
bundle, result = compile_text(PROGRAMME)
assert bundle is not None, result.diagnostics
ENGINE = Engine(load_bundle(bundle))
decls = ENGINE.bundle.state
START = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)

line = st.fixed_dictionaries({
    "category": st.sampled_from(["coffee", "tea", "toys"]),
    "brand": st.sampled_from(["acme", "other"]),
    "qty": st.integers(1, 3),
    "unit_price": st.integers(1, 90_000),
})
receipt = st.tuples(st.integers(0, 50), st.lists(line, min_size=1, max_size=3))  # (days after the last, lines)
receipts = st.lists(receipt, min_size=1, max_size=6)


def _receipt(i: int, when: dt.datetime, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {"receipt_id": f"R{i}", "customer_id": "C1", "datetime": when.isoformat(), "store_id": "S1",
            "lines": [{"line_no": n, "sku": f"S{n}", **ln, "amount": ln["unit_price"] * ln["qty"]}
                      for n, ln in enumerate(lines, 1)]}


def _buy(plan: list[tuple[int, list[dict[str, Any]]]]) -> tuple[CustomerState, list[Outcome], dt.datetime]:
    state, outcomes, when = CustomerState(id="C1"), [], START
    for i, (gap, lines) in enumerate(plan):
        when += dt.timedelta(days=gap, minutes=1)
        outcome = ENGINE.evaluate(_receipt(i, when, lines), state)
        changes = list(outcome.changes or ())
        after = apply(state, changes, decls)
        assert apply(after, invert(state, changes, decls), decls) == state  # each step inverts exactly
        state = after
        outcomes.append(outcome)
    return state, outcomes, when


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(receipts, st.randoms(use_true_random=False))
def test_full_returns_in_any_order_net_the_history_to_zero(plan: list[Any], rnd: Any) -> None:
    state, outcomes, when = _buy(plan)
    assert state.history is not None and state.history.receipts == len(plan)
    pruned = (when - START).days >= 60  # buckets past the 60-day horizon are pruned: the totals still net out
    rnd.shuffle(outcomes)
    for outcome in outcomes:
        when += dt.timedelta(minutes=1)
        refund = ENGINE.refund(outcome, None, state, when)
        state = apply(state, list(refund.changes), decls)
    h = state.history
    if pruned:
        assert h is None or (h.receipts, h.spend, h.coupons, h.days, h.tracks) == (0, 0, 0, [], {})
    else:
        assert h is None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(line, min_size=2, max_size=3), st.integers(0, 1))
def test_a_partial_return_then_the_rest_nets_to_zero(lines: list[dict[str, Any]], first: int) -> None:
    state, (outcome,), when = _buy([(0, lines)])
    part = {1 + first: 1}  # one unit of line 1 or 2
    for returned in (part, None):
        when += dt.timedelta(minutes=1)
        refund = ENGINE.refund(outcome, returned, state, when)
        state = apply(state, list(refund.changes), decls)
    assert state.history is None
