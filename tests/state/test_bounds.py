"""Bounded state (docs/state.md, "Bounds"): no change may make an integer the state holds exceed
``MAX_VALUE``, nor a string ``MAX_TEXT_CHARS``, because the customer reader refuses a record over them
(LOY507) and a state we wrote must always load back. Such a change is refused with LOY511 (LOY512 for
text) and nothing of the outcome is applied; and any state that applying outcomes produces reads back
through the customer reader unchanged."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, StateError, load_bundle
from loyadsl.runtime.limits import MAX_TEXT_CHARS, MAX_VALUE
from loyadsl.runtime.state import CustomerState, apply, apply_in_place, read_customer, working_copy

PROGRAMME = """
programme "bounds" {
    currency RUB minor 2
    points minor 0 value 1.00 RUB
    timezone "Europe/Moscow"
}

account bonus { expiry never }
counter stamps { reset never }
tiers status {
    qualify spend over year
    level base >= 0 RUB { cashback 1% }
}

group base { priority 100 stacking stack_all basis discounted }

campaign cashback { group base then accrue 10% on receipt }
campaign stamp { group base then add units(lines) to stamps }
campaign big { group base when receipt.total >= 1000000.00 RUB then accrue 100 points }
"""


def engine() -> Engine:
    data, result = compile_text(PROGRAMME, "bounds.loya")
    assert data is not None, [str(d) for d in result.diagnostics]
    return Engine(load_bundle(data))


ENGINE = engine()
DECLS = ENGINE.bundle.state
NOW = dt.datetime(2026, 3, 5, 9, tzinfo=dt.UTC)


def receipt(rid: str, *amounts: int, qty: int = 1) -> dict[str, Any]:
    return {"receipt_id": rid, "customer_id": "C1", "datetime": "2026-03-05T12:00:00+03:00", "store_id": "S1",
            "lines": [{"line_no": i, "sku": f"S{i}", "category": "food", "qty": qty, "unit_price": a // qty,
                       "amount": a // qty * qty} for i, a in enumerate(amounts, 1)]}


def rich(points: int) -> CustomerState:
    """A customer whose bonus account holds ``points``."""
    return CustomerState.from_dict({"id": "C1", "accounts": {"bonus": {"balance": points, "lots": [
        {"id": "L0", "points": points, "left": points, "active_from": "2026-01-01T00:00:00+00:00"}]}}}, DECLS)


def reloads(state: CustomerState) -> bool:
    """The state written as JSON reads back, through the one reader of customer JSON, as itself."""
    return read_customer(json.dumps(state.to_dict()), "C1.json", DECLS) == state


def test_an_accrual_past_max_value_is_refused_and_nothing_is_applied() -> None:
    state = rich(MAX_VALUE - 10)
    outcome = ENGINE.evaluate(receipt("R1", 100_000), state, NOW)  # 10% of 1,000.00 RUB: 100 points
    with pytest.raises(StateError) as caught:
        apply(state, outcome.changes, DECLS)
    assert caught.value.code == "LOY511" and "MAX_VALUE" in caught.value.message
    assert caught.value.where is not None and caught.value.where.startswith("changes[")
    w = working_copy(state)
    with pytest.raises(StateError):
        apply_in_place(w, outcome.changes, DECLS)
    assert w == state and reloads(w)  # all or nothing, in place too: the applied id is not kept either


def test_two_big_receipts_cannot_push_the_tier_measure_past_max_value() -> None:
    """Found this way: two receipts of 9 x 10^14 kopecks each made a qualification of 1.8 x 10^15, and
    the state written after them did not load back (LOY507 at qualification.value)."""
    big = 900_000_000_000_000
    state = apply(CustomerState(id="C1"), ENGINE.evaluate(receipt("R1", big), CustomerState(id="C1"), NOW).changes,
                  DECLS)
    assert reloads(state)
    second = ENGINE.evaluate(receipt("R2", big), state, NOW)
    with pytest.raises(StateError) as caught:
        apply(state, second.changes, DECLS)
    assert caught.value.code == "LOY511" and "qualification" in caught.value.message


def test_without_the_bound_the_written_state_would_not_load_back() -> None:
    """What LOY511 prevents: a balance past MAX_VALUE is a record the reader refuses (LOY507)."""
    data = rich(MAX_VALUE).to_dict()
    data["accounts"]["bonus"]["balance"] += 90
    data["accounts"]["bonus"]["lots"][0]["points"] += 90
    data["accounts"]["bonus"]["lots"][0]["left"] += 90
    with pytest.raises(Exception) as caught:
        read_customer(json.dumps(data))
    assert getattr(caught.value, "code", None) == "LOY507"


def test_a_counter_past_max_value_is_refused() -> None:
    state = CustomerState.from_dict({"id": "C1", "counters": {"stamps": {"value": MAX_VALUE - 1, "period": "all"}}})
    changes = [{"op": "counter", "name": "stamps", "delta": 2, "period": "all", "reason": "add"}]
    with pytest.raises(StateError) as caught:
        apply(state, changes)
    assert caught.value.code == "LOY511"
    assert apply(state, [{**changes[0], "delta": 1}]).counters["stamps"].value == MAX_VALUE  # up to it: fine


@pytest.mark.parametrize("change", [
    {"op": "lot", "account": "bonus", "lot": "L1", "points": MAX_VALUE + 1, "active_from": "2026-01-01T00:00:00Z"},
    {"op": "certificate_issue", "code": "G1", "series": "gift", "value": MAX_VALUE + 1},
    {"op": "qualify", "period": "2026", "delta": MAX_VALUE + 1},
    {"op": "usage", "campaign": "c", "period": "all", "delta": MAX_VALUE + 1},
    {"op": "receipt", "receipt": "R1", "delta": MAX_VALUE + 1},
    {"op": "returned", "receipt": "R1", "lines": [[1, MAX_VALUE + 1]]},
    {"op": "coupon_issue", "code": "C", "series": "s", "issued": "2026-01-01T00:00:00Z", "uses_left": MAX_VALUE + 1},
])
def test_every_kind_that_grows_a_value_is_bounded(change: dict[str, Any]) -> None:
    with pytest.raises(StateError) as caught:
        apply(CustomerState(id="C1"), [change])
    assert caught.value.code == "LOY511", caught.value


def test_a_lot_id_past_max_text_chars_is_refused() -> None:
    """Found this way: a receipt id of 1,000 characters (a receipt may have one) made the lot id
    ``RRR…R:bonus:cashback``, 1,015 characters, and the state written did not load back (LOY507)."""
    outcome = ENGINE.evaluate(receipt("R" * MAX_TEXT_CHARS, 100_000), CustomerState(id="C1"), NOW)
    with pytest.raises(StateError) as caught:
        apply(CustomerState(id="C1"), outcome.changes, DECLS)
    assert caught.value.code == "LOY512" and "MAX_TEXT_CHARS" in caught.value.message
    short = ENGINE.evaluate(receipt("R" * 900, 100_000), CustomerState(id="C1"), NOW)
    assert reloads(apply(CustomerState(id="C1"), short.changes, DECLS))


amounts = st.integers(1, MAX_VALUE // 3000)  # a receipt adds up to at most MAX_VALUE


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.lists(amounts, min_size=1, max_size=3), st.integers(1, 1000),
                          st.integers(1, MAX_TEXT_CHARS - 4)), min_size=1, max_size=6),
       st.integers(0, MAX_VALUE))
def test_any_state_applying_outcomes_produces_loads_back_unchanged(receipts: list[tuple[list[int], int, int]],
                                                                   start: int) -> None:
    state = rich(start) if start else CustomerState(id="C1")
    for i, (line_amounts, qty, length) in enumerate(receipts):
        rid = f"R{i}-".ljust(length, "x")  # receipt ids of any length a receipt may have
        outcome = ENGINE.evaluate(receipt(rid, *(a * qty for a in line_amounts), qty=qty), state, NOW)
        try:
            state = apply(state, outcome.changes, DECLS)
        except StateError as exc:
            assert exc.code in ("LOY511", "LOY512"), exc  # the only refusals here: past a limit of the reader
        assert reloads(state)
