"""The ledger's typed changes (``state.changes.TYPED``, ``Engine.lazy_changes``): an outcome whose changes
are kept as records shows the same JSON, byte for byte, as one written at once, and applying the records
(``apply_in_place``, ``apply``, ``invert``) leaves exactly the state applying that JSON leaves, or is
refused exactly as the JSON is (message, place and code)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyadsl.api import compile_file
from loyadsl.runtime import Engine
from loyadsl.runtime.errors import LoyaError, StateError
from loyadsl.runtime.limits import MAX_TEXT_CHARS
from loyadsl.runtime.model import Receipt
from loyadsl.runtime.state import (
    Applied,
    CounterChange,
    CustomerState,
    LotChange,
    ReceiptChange,
    TierChange,
    apply,
    apply_in_place,
    invert,
    working_copy,
)
from loyadsl.runtime.state.changes import TYPED, TYPED_KINDS, Changes, apply_records, items
from loyadsl.runtime.state.tiers import ReceiptQualify

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "examples" / "supermarket"


@cache
def _engines(programme: str) -> tuple[Engine, Engine]:
    bundle, result = compile_file(ROOT / programme)
    assert bundle is not None, result
    eager = Engine.from_bytes(bundle)
    lazy = copy.copy(eager)
    lazy.lazy_changes = True
    return eager, lazy


@cache
def _shop() -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    receipts = [json.loads(line) for line in (SHOP / "receipts.jsonl").read_text().splitlines()]
    customers = {c["id"]: c for c in map(json.loads, (SHOP / "customers.jsonl").read_text().splitlines())}
    return [r for r in receipts if "return_of" not in r], customers


def _receipt(data: dict[str, Any], customer: str | None, shift_days: int) -> Receipt:
    when = dt.datetime.fromisoformat(data["datetime"]) + dt.timedelta(days=shift_days)
    return Receipt.from_dict({**data, "customer_id": customer, "datetime": when.isoformat()})


def _replay(programme: str, customer: dict[str, Any], receipts: list[Receipt]) -> None:
    """Each receipt evaluated both ways, its changes applied both ways, the states compared."""
    eager, lazy = _engines(programme)
    decls = eager.bundle.state
    typed_state = working_copy(CustomerState.from_dict(customer, decls))
    json_state = CustomerState.from_dict(customer, decls)
    for receipt in receipts:
        try:
            shown = eager.evaluate(receipt, json_state)
        except LoyaError as exc:
            with pytest.raises(type(exc)) as raised:
                lazy.evaluate(receipt, typed_state)
            assert (str(raised.value), raised.value.code) == (str(exc), exc.code)
            continue
        kept = lazy.evaluate(receipt, typed_state)
        assert type(kept.changes) is Changes and type(shown.changes) is tuple
        assert kept == shown and kept.changes == shown.changes
        assert json.dumps(kept.to_dict(), ensure_ascii=False) == json.dumps(shown.to_dict(), ensure_ascii=False)
        assert _inverse(typed_state, kept.changes, decls) == _inverse(json_state, list(shown.changes), decls)
        before = json_state
        # the replay's way when every change is a typed record (``apply_records``), on a copy of its own
        fast = working_copy(typed_state) if TYPED_KINDS.issuperset(map(type, items(kept.changes))) else None
        try:
            json_state = apply(json_state, list(shown.changes), decls)
        except StateError as exc:
            with pytest.raises(StateError) as raised:
                apply_in_place(typed_state, kept.changes, decls)
            assert (str(raised.value), raised.value.code, raised.value.where) == (str(exc), exc.code, exc.where)
            assert typed_state == before  # all or nothing
            if fast is not None:
                with pytest.raises(StateError) as raised:
                    apply_records(fast, items(kept.changes), decls)
                assert (str(raised.value), raised.value.code, raised.value.where) == (str(exc), exc.code, exc.where)
                assert fast == before
            continue
        assert apply(before, kept.changes, decls) == json_state  # the pure apply of the records too
        apply_in_place(typed_state, kept.changes, decls)
        assert typed_state == json_state
        if fast is not None:
            apply_records(fast, items(kept.changes), decls)
            assert fast == json_state and fast.to_dict() == json_state.to_dict()
        assert typed_state.to_dict() == json_state.to_dict()


def _inverse(state: CustomerState, changes: Any, decls: Any) -> Any:
    try:
        return invert(state, changes, decls)
    except StateError as exc:
        return ("refused", str(exc), exc.code, exc.where)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_shops_receipts_leave_the_same_state_either_way(data: st.DataObject) -> None:
    receipts, customers = _shop()
    customer = customers[data.draw(st.sampled_from(sorted(customers)))]
    picked = data.draw(st.lists(st.sampled_from(range(len(receipts))), min_size=1, max_size=12))
    shifts = sorted(data.draw(st.lists(st.integers(0, 400), min_size=len(picked), max_size=len(picked))))
    _replay("examples/supermarket/programme.loya", customer,
            [_receipt(receipts[i], customer["id"], shift) for i, shift in zip(picked, shifts, strict=True)])


def _cj_receipt(n: int, day: int, amounts: list[int]) -> Receipt:
    when = dt.datetime(2017, 1, 2, 15, tzinfo=dt.UTC) + dt.timedelta(days=day, minutes=n)
    return Receipt.from_dict({"receipt_id": f"R{n}", "customer_id": "H1", "datetime": when.isoformat(),
                              "store_id": "S1", "lines": [{"line_no": i + 1, "sku": f"P{i}", "category": "dairy", "qty": 1, "unit_price": a, "amount": a}
                                                          for i, a in enumerate(amounts)]})


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.lists(st.integers(1, 40_000), min_size=1, max_size=6)),
                min_size=1, max_size=40))
def test_the_complete_journey_programme_leaves_the_same_state_either_way(
        visits: list[tuple[int, list[int]]]) -> None:
    day, receipts = 0, []
    for n, (gap, amounts) in enumerate(visits):  # tiers, the tenth visit's spend, lots, expiries
        day += gap * 7
        receipts.append(_cj_receipt(n, day, amounts))
    _replay("examples/completejourney/programme.loya", {"id": "H1"}, receipts)


# --------------------------------------------------------------------------- one record at a time

texts = st.sampled_from(["a", "points", "2017-Q1", "x" * MAX_TEXT_CHARS, "y" * (MAX_TEXT_CHARS + 1)])
opt_texts = st.none() | texts
times = st.sampled_from([0, 86_399, 86_400, 63_623_885_340, 315_537_897_599, 315_537_897_600])
opt_times = st.none() | times
counts = st.integers(-3, 3) | st.sampled_from([10**15, 2**63])
lines = st.none() | st.just([[1, 2], [3, 4]])

records = st.one_of(
    st.builds(Applied, texts, times, opt_texts),
    st.builds(LotChange, texts, texts, counts, opt_times, opt_times, opt_texts, opt_texts, st.booleans(), lines,
              st.none() | st.just("referral")),
    st.builds(CounterChange, texts, counts, texts, lines, st.sampled_from(["add", "spend"]), opt_texts),
    st.builds(ReceiptQualify, texts, counts, st.just(0), st.just(False), st.none(),
              st.none() | st.integers(730_000, 740_000), lines, st.none(), opt_texts),
    st.builds(ReceiptChange, opt_texts, counts),
    st.builds(TierChange, opt_texts, opt_texts, st.just("upgrade"), opt_texts),
)

BASE = {"id": "C1", "tier": "a", "receipts": 2,
        "accounts": {"points": {"balance": 5, "debt": 0, "lots": [
            {"id": "a", "points": 5, "left": 5, "active_from": "2017-01-01T00:00:00+00:00", "expires": None}]}},
        "counters": {"a": {"value": 2, "period": "2017-Q1"}},
        "qualification": {"period": "2017-Q1", "value": 3, "previous": 0, "days": []},
        "applied": {"a": "2017-01-01T00:00:00+00:00"}}


def state_after(changes: list[Any], in_place: bool, records: bool = False) -> Any:
    state = CustomerState.from_dict(BASE)
    try:
        if records:  # the replay's way for typed records only (``apply_records``)
            state = working_copy(state)
            apply_records(state, changes)
        elif in_place:
            state = working_copy(state)
            apply_in_place(state, changes)
        else:
            state = apply(state, changes)
    except StateError as exc:
        assert state.to_dict() == BASE_DICT  # all or nothing: a refused change leaves the state as it was
        return ("refused", str(exc), exc.code, exc.where)
    return state.to_dict()


BASE_DICT = CustomerState.from_dict(BASE).to_dict()


def _far(change: Any) -> bool:
    if type(change) is LotChange and change.active_from is None and change.points >= 0:
        return True
    return any(key in change._fields and (v := getattr(change, key)) is not None and not 86_400 <= v <= 315_537_897_599
               for key in ("at", "active_from", "expires"))


def _json(change: Any) -> dict[str, Any]:
    """The record's JSON; a time out of range (no ISO text shows it) as the integer JSON may hold, a
    lot's missing start as null."""
    far = {key: v for key in ("at", "active_from", "expires")
           if key in change._fields and (v := getattr(change, key)) is not None and not 86_400 <= v <= 315_537_897_599}
    if type(change) is LotChange and change.active_from is None and change.points >= 0:
        far["active_from"] = None
    out = change._replace(**dict.fromkeys(far, 86_400)).to_dict()
    out.update(far)
    return out  # type: ignore[no-any-return]


@settings(max_examples=300, deadline=None)
@given(st.lists(records, min_size=1, max_size=4))
def test_a_record_is_applied_or_refused_as_its_json(changes: list[Any]) -> None:
    assert all(type(c) in TYPED for c in changes)
    as_json = [_json(c) for c in changes]
    for in_place in (False, True):
        assert state_after(list(changes), in_place) == state_after(as_json, in_place)
    assert state_after(list(changes), True, records=True) == state_after(as_json, True)  # applied or refused alike
    kept = Changes(tuple(changes))
    assert items(kept) == tuple(changes)
    if not any(map(_far, changes)):  # a far time has no JSON
        assert kept == tuple(as_json) and list(kept) == as_json


def test_a_receipts_qualify_keeps_the_ledgers_key_order() -> None:
    change = ReceiptQualify("2017-Q1", 5, 0, False, None, 736_330, [[1, 5]], None, "R1")
    assert list(change.to_dict()) == ["op", "period", "receipt", "delta", "lines", "day"]
    assert change._replace(delta=-5).to_dict()["delta"] == -5


@pytest.mark.parametrize("field", ["lot", "account", "receipt", "campaign"])
@pytest.mark.parametrize("size", [MAX_TEXT_CHARS - 1, MAX_TEXT_CHARS, MAX_TEXT_CHARS + 1])
def test_a_lots_texts_are_refused_at_the_same_length_as_in_json(field: str, size: int) -> None:
    change = LotChange("p", "l", 5, 63_623_885_340, None, None, None)._replace(**{field: "z" * size})
    assert state_after([change], True) == state_after([change.to_dict()], True)
    assert state_after([change], False) == state_after([change.to_dict()], False)
    assert isinstance(state_after([change], True), tuple) is (size > MAX_TEXT_CHARS)  # a refusal, or the state
