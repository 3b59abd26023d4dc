"""The in-place shortcuts of ``apply_in_place`` (a new lot appended to an account the customer has,
``LotChange._append``; the activity hint ``_act`` of ``view``) against the general way: the ledger's
records applied in place leave the state ``apply`` leaves, or are refused as it refuses them, and a
state replayed in place shows the balances a fresh copy of it shows, at any moment."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from loyadsl.runtime.declarations import Account, StateDecls
from loyadsl.runtime.state import CustomerState, LotChange, advance, apply_in_place, view, working_copy

from .test_typed_changes import records, state_after

DAY = 86_400
DECLS = StateDecls(accounts=(Account("bonus"),))


@settings(max_examples=300, deadline=None)
@given(st.lists(records, min_size=1, max_size=5))
def test_records_in_place_leave_what_apply_leaves(changes: list[Any]) -> None:
    assert state_after(list(changes), in_place=True) == state_after(list(changes), in_place=False)


_steps = st.lists(st.tuples(st.integers(0, 60), st.integers(1, 500), st.none() | st.integers(0, 30)), min_size=1,
                  max_size=25)


@settings(max_examples=300, deadline=None)
@given(_steps, st.lists(st.integers(0, 80), min_size=1, max_size=12))
def test_the_activity_hint_gives_the_balances_a_scan_gives(steps: list[tuple[int, int, int | None]],
                                                           moments: list[int]) -> None:
    """Lots accrued out of order of their start, some taken back whole (a removal moves the lots after
    it), balances read at moments back and forth: the same as a fresh copy's, which has no hints."""
    w = working_copy(CustomerState.from_dict({"id": "C1"}))
    held: list[LotChange] = []
    for n, (start, points, remove) in enumerate(steps):
        lot = LotChange("bonus", f"L{n}", points, (start + 1) * DAY, 400 * DAY, f"R{n}", None)
        apply_in_place(w, [lot])
        held.append(lot)
        if remove is not None and remove < len(held):  # an untouched lot taken back (a return)
            gone = held.pop(remove)
            apply_in_place(w, [gone._replace(points=-gone.points)])
        for day in moments:
            fresh = CustomerState.from_dict(w.to_dict())
            advance(w, DECLS, (day + 1) * DAY + 1, _local)  # (as the engine: the lots' bounds are set, the hint used)
            assert _balances(w, day) == _balances(fresh, day)


def _local(utc: int) -> int:
    return utc // DAY


def _balances(state: CustomerState, day: int) -> Any:
    return view(state, DECLS, (day + 1) * DAY + 1, _local).balances
