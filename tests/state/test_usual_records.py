"""``apply_records`` checks and writes the usual records of a receipt itself (an id remembered, a new lot,
a counter and the qualification added to, the purchase count) and sends any other through ``verify``
and ``apply``. Around the edges of that choice (a counter of another period, a rolling window's
qualification, the applied ids' bound and order, values at ``MAX_VALUE``, texts at ``MAX_TEXT_CHARS``,
accounts absent or shared) it leaves the state the general way (``apply_in_place``) leaves, or refuses
alike (message, place, code) with the state as it was."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from loyadsl.runtime.errors import StateError
from loyadsl.runtime.limits import MAX_APPLIED_IDS, MAX_TEXT_CHARS, MAX_VALUE
from loyadsl.runtime.state import (
    Applied,
    CounterChange,
    CustomerState,
    LotChange,
    ReceiptChange,
    TierChange,
    apply_in_place,
    working_copy,
)
from loyadsl.runtime.state.changes import apply_records
from loyadsl.runtime.state.tiers import ReceiptQualify

T0 = 63_613_000_000  # 2016-12-..., UTC seconds
LONG = "x" * (MAX_TEXT_CHARS + 1)


def _iso(utc: int) -> str:
    return (dt.datetime(1, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=utc)).isoformat()


@st.composite
def states(draw: st.DrawFn) -> dict[str, Any]:
    held = draw(st.sampled_from([0, 1, 3, MAX_APPLIED_IDS - 1, MAX_APPLIED_IDS]))
    state: dict[str, Any] = {
        "id": "C1", "tier": draw(st.sampled_from([None, "a"])),
        "receipts": draw(st.sampled_from([0, 1, MAX_VALUE - 1, MAX_VALUE])),
        "applied": {f"r{i:03d}": _iso(T0 + 60 * i) for i in range(held)},
    }
    counter = draw(st.sampled_from([None, 1, 5, MAX_VALUE]))
    if counter is not None:
        state["counters"] = {"visits": {"value": counter, "period": draw(st.sampled_from(["2017-Q1", "2017-Q2"]))}}
    q = draw(st.sampled_from(["none", "calendar", "rolling"]))
    if q == "calendar":
        state["qualification"] = {"period": "2017-Q1", "value": draw(st.sampled_from([0, 3, MAX_VALUE])),
                                  "previous": 7, "days": []}
    elif q == "rolling":
        state["qualification"] = {"period": "rolling", "value": 3, "previous": 0, "days": [[736_330, 3]]}
    if draw(st.booleans()):
        points = draw(st.sampled_from([5, MAX_VALUE - 5]))
        state["accounts"] = {"points": {"balance": points, "debt": 0, "lots": [
            {"id": "a", "points": points, "left": points, "active_from": _iso(T0), "expires": None}]}}
    return state


texts = st.sampled_from(["a", "points", "visits", "2017-Q1", "2017-Q2", "rolling", "x" * MAX_TEXT_CHARS, LONG])
opt_texts = st.none() | texts
times = st.sampled_from([0, T0 - 60, T0 + 60, T0 + 60 * 300, 315_537_897_599, 315_537_897_600])
opt_times = st.none() | times
counts = st.sampled_from([-100, -5, -1, 0, 1, 2, 5, MAX_VALUE])
usual = st.one_of(
    st.builds(Applied, st.sampled_from(["r002", "new", LONG]), times, opt_texts),
    st.builds(LotChange, st.sampled_from(["points", "other", LONG]), st.sampled_from(["a", "new1", "new2", LONG]),
              counts, opt_times, opt_times, opt_texts, opt_texts, st.booleans(), st.none(), st.none(),
              st.none() | st.sampled_from([0, 1])),
    st.builds(CounterChange, st.sampled_from(["visits", "other", LONG]), counts,
              st.sampled_from(["2017-Q1", "2017-Q2", LONG]), st.none(), st.just("add"), opt_texts),
    st.builds(ReceiptQualify, st.sampled_from([None, "2017-Q1", "rolling", LONG]), counts,
              st.sampled_from([0, 1]), st.booleans(), st.none(), st.none() | st.just(736_331), st.none(), st.none(),
              opt_texts),
    st.builds(ReceiptChange, opt_texts, counts),
    st.builds(TierChange, st.sampled_from([None, "a"]), st.sampled_from([None, "a", "b"]), st.just("upgrade"), opt_texts),
)


def _after(state: dict[str, Any], changes: list[Any], records: bool) -> Any:
    kept = working_copy(CustomerState.from_dict(state))
    before = kept.to_dict()
    try:
        (apply_records if records else apply_in_place)(kept, changes)
    except StateError as exc:
        assert kept.to_dict() == before  # all or nothing
        return ("refused", str(exc), exc.code, exc.where)
    # the JSON in its order, and the ids remembered as held (``to_dict`` writes the newest MAX_APPLIED_IDS)
    return json.dumps(kept.to_dict()), list(kept.applied.items())


@settings(max_examples=1000, deadline=None, database=None)
@given(states(), st.lists(usual, min_size=1, max_size=6))
def test_the_usual_records_are_booked_as_the_general_way_books_them(state: dict[str, Any], changes: list[Any]) -> None:
    assert _after(state, changes, records=True) == _after(state, changes, records=False)


def test_a_receipts_usual_records_are_booked_and_undone_whole() -> None:
    state = {"id": "C1", "receipts": 3, "counters": {"visits": {"value": 2, "period": "2017-Q1"}},
             "qualification": {"period": "2017-Q1", "value": 10, "previous": 4, "days": []},
             "accounts": {"points": {"balance": 5, "debt": 0, "lots": [
                 {"id": "a", "points": 5, "left": 5, "active_from": _iso(T0), "expires": None}]}}}
    usual = [Applied("R1", T0 + 60, "R1"), LotChange("points", "R1:p", 7, T0 + 120, None, "R1", "c"),
             CounterChange("visits", 1, "2017-Q1", None, "add", "R1"),
             ReceiptQualify("2017-Q1", 6, 0, False, None, None, None, None, "R1"), ReceiptChange("R1", 1)]
    shown, ids = _after(state, usual, records=True)
    assert (shown, ids) == _after(state, usual, records=False)
    after = json.loads(shown)
    assert after["receipts"] == 4 and after["counters"]["visits"]["value"] == 3
    assert after["qualification"]["value"] == 16 and after["accounts"]["points"]["balance"] == 12
    refused = _after(state, [*usual, ReceiptChange("R1", -10)], records=True)  # the last refused: nothing booked
    assert refused == _after(state, [*usual, ReceiptChange("R1", -10)], records=False)
    assert refused[0] == "refused" and refused[3] == "changes[5]"


USUAL = [Applied("R1", T0 + 60 * 400, "R1"), LotChange("points", "R1:p", 7, T0 + 120, T0 + 86_400, "R1", "c"),
         CounterChange("visits", 1, "2017-Q1", None, "add", "R1"),
         ReceiptQualify("2017-Q1", 6, 0, False, None, None, None, None, "R1"), ReceiptChange("R1", 1)]
TWEAKS = [(0, "id", "r002"), (0, "id", LONG), (0, "at", T0 - 60), (0, "at", 315_537_897_600),
          (1, "shared", True), (1, "at", 0), (1, "account", "other"), (1, "lot", "a"), (1, "lot", LONG),
          (1, "points", MAX_VALUE), (1, "points", -5), (1, "active_from", None), (1, "expires", 315_537_897_600),
          (1, "campaign", LONG), (2, "period", "2017-Q2"), (2, "delta", -5), (2, "delta", MAX_VALUE),
          (2, "name", LONG), (3, "period", "rolling"), (3, "period", None), (3, "day", 736_331), (3, "review", True),
          (3, "delta", -100), (3, "delta", MAX_VALUE), (4, "delta", -5), (4, "delta", MAX_VALUE)]


@settings(max_examples=300, deadline=None, database=None)
@given(states(), st.lists(st.sampled_from(TWEAKS), max_size=2))
def test_a_usual_receipt_with_a_field_out_of_the_usual_is_booked_as_the_general_way(
        state: dict[str, Any], tweaks: list[tuple[int, str, Any]]) -> None:
    changes = list(USUAL)
    for at, field, value in tweaks:
        changes[at] = changes[at]._replace(**{field: value})
    assert _after(state, changes, records=True) == _after(state, changes, records=False)
