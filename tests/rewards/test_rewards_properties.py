"""Properties of the rewards currency (docs/rewards.md) over random catalogues choices, lots, stock and
receipts, with cashback and payment by points on the same receipt:

* what a reward takes is exactly its price, from active lots, split exactly over the lines;
* a full return, at once or in two parts, nets every lot and every stock level to where it was."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, load_bundle
from loyadsl.runtime.state import CustomerState, StockLevels, apply

PROGRAMME = """programme "P" {
    currency RUB minor 2
    points minor 0 value 1.00 RUB
    timezone "Europe/Moscow"
}
group base { priority 10 stacking stack_all basis discounted }
group rewards { priority 5 stacking stack_all basis discounted }
account bonus { }
redemption { max share 50% }
campaign cashback { group base  then accrue 5% on receipt }
campaign off20 { group rewards  reward 500 points stock 3  then discount 20% on receipt }
campaign coffee {
    group rewards
    reward 100 points
    when units(lines where sku "COF1") >= 1
    then free cheapest 1 unit of lines where sku "COF1"
}
campaign mug { group rewards  reward 300 points stock 1  then gift one of ["MUG1", "MUG2"] }
campaign donate { group rewards  reward 70 points }
"""
data, _ = compile_text(PROGRAMME, "p.loya")
assert data is not None
ENGINE = Engine(load_bundle(data))
DECLS = ENGINE.bundle.state
STOCKED = {"off20": 3, "mug": 1}
WHEN = "2026-11-20T12:00:00+03:00"

lots = st.lists(st.tuples(st.integers(0, 900), st.integers(0, 400)), min_size=0, max_size=4)
lines = st.lists(st.tuples(st.sampled_from(["COF1", "X", "Y"]), st.integers(1, 3), st.integers(100, 60000)),
                 min_size=1, max_size=4)
choices = st.lists(st.sampled_from(["off20", "coffee", "mug", "donate"]), unique=True, max_size=4)
stock = st.fixed_dictionaries({"off20": st.integers(0, 3), "mug": st.integers(0, 1)})


def customer(held: list[tuple[int, int]]) -> CustomerState:
    return CustomerState.from_dict({"id": "C1", "accounts": {"bonus": {"balance": sum(p for p, _ in held), "lots": [
        {"id": f"L{i}", "points": p, "left": p, "active_from": "2026-01-01T00:00:00+00:00",
         "expires": (dt.datetime(2027, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=d)).isoformat()}
        for i, (p, d) in enumerate(held) if p]}}} if any(p for p, _ in held) else {"id": "C1"}, DECLS)


def receipt(items: list[tuple[str, int, int]], chosen: list[str], redeem: int) -> dict[str, Any]:
    return {"receipt_id": "R1", "customer_id": "C1", "datetime": WHEN, "store_id": "S1", "rewards": chosen,
            "redeem": {"points": redeem},
            "lines": [{"line_no": i + 1, "sku": sku, "category": "c", "qty": q, "unit_price": p, "amount": p * q}
                      for i, (sku, q, p) in enumerate(items)]}


def holdings(state: CustomerState) -> dict[str, int]:
    acc = state.accounts.get("bonus")
    return {lot.id: lot.left for lot in acc.lots} if acc is not None else {}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lots, lines, choices, stock, st.integers(0, 400), st.booleans())
def test_rewards_take_their_price_and_a_full_return_nets_to_zero(held: list[tuple[int, int]],
                                                                  items: list[tuple[str, int, int]],
                                                                  chosen: list[str], left: dict[str, int],
                                                                  redeem: int, in_two: bool) -> None:
    before = customer(held)
    levels = StockLevels(STOCKED, left)
    outcome = ENGINE.evaluate(receipt(items, chosen, redeem), before, stock=levels.left())
    changes = list(outcome.changes or ())
    for event in outcome.events or ():
        if event["event"] == "reward":
            assert sum(points for _, points in event["lots"]) == event["points"]
    for c in changes:
        if c["op"] == "take":
            assert sum(part for _, part in c["lines"]) == c["points"] > 0
    given_rewards = [e["reward"] for e in outcome.events or () if e["event"] == "reward"]
    assert sum(c["points"] for c in changes if c["op"] == "take" and c["reason"] == "reward") == \
        sum({"off20": 500, "coffee": 100, "mug": 300, "donate": 70}[r] for r in given_rewards)
    state = apply(before, changes, DECLS)
    levels.apply(changes)
    now = dt.datetime(2026, 11, 21, 10, tzinfo=dt.UTC)
    if in_two:  # the first line first, then the rest
        first = ENGINE.refund(outcome, {1: items[0][1]}, state, now)
        state = apply(state, list(first.changes), DECLS)
        levels.apply(first.changes)
        if len(items) > 1:
            rest = ENGINE.refund(outcome, None, state, now + dt.timedelta(hours=1))
            state = apply(state, list(rest.changes), DECLS)
            levels.apply(rest.changes)
    else:
        back = ENGINE.refund(outcome, None, state, now)
        state = apply(state, list(back.changes), DECLS)
        levels.apply(back.changes)
    assert holdings(state) == holdings(before)
    assert levels.left() == StockLevels(STOCKED, left).left()
