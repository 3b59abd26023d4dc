"""The applied-ids memory written in place (docs/state.md, "Idempotency"): ``apply_in_place`` adds an
id without copying the memory, forgets the oldest past ``MAX_APPLIED_IDS``, and a failing change rolls
it all back, in order; the pure ``apply`` leaves its input untouched."""

from __future__ import annotations

import pytest

from loyadsl.runtime import StateError
from loyadsl.runtime.limits import MAX_APPLIED_IDS
from loyadsl.runtime.state import CustomerState, apply, apply_in_place, invert, iso, working_copy

START = 739_000 * 86400


def full() -> CustomerState:
    return CustomerState.from_dict({"id": "C1", "applied": {f"R{i}": iso(START + i * 60)
                                                            for i in range(MAX_APPLIED_IDS)}})


def applied(key: str, minutes: int) -> dict[str, object]:
    return {"op": "applied", "id": key, "at": iso(START + minutes * 60), "receipt": key}


FAILS = {"op": "receipt", "receipt": "X", "delta": -1}  # a purchase count below zero: does not fit


def test_in_place_keeps_the_newest_in_order_without_a_copy() -> None:
    state = working_copy(full())
    memory = state.applied
    apply_in_place(state, [applied("N1", MAX_APPLIED_IDS + 5)])
    assert state.applied is memory and len(memory) == MAX_APPLIED_IDS
    assert next(iter(memory)) == "R1" and next(reversed(memory)) == "N1"
    assert CustomerState.from_dict(state.to_dict()) == state


def test_a_failure_rolls_the_memory_back_in_order() -> None:
    before = full()
    state = working_copy(before)
    with pytest.raises(StateError):
        apply_in_place(state, [applied("N1", MAX_APPLIED_IDS + 5), applied("N2", MAX_APPLIED_IDS + 6), FAILS])
    assert state == before and list(state.applied) == list(before.applied)


def test_an_older_id_goes_in_its_place_and_an_id_older_than_all_kept_is_forgotten_at_once() -> None:
    state = working_copy(full())
    apply_in_place(state, [applied("OLD", 10)])  # with R10 (ties by id: just before it); at the bound R0 goes
    keys = list(state.applied)
    assert "R0" not in keys and keys.index("OLD") == keys.index("R10") - 1
    apply_in_place(state, [applied("ANCIENT", -5)])  # older than everything kept
    assert "ANCIENT" not in state.applied and len(state.applied) == MAX_APPLIED_IDS


def test_pure_apply_copies_and_invert_restores() -> None:
    before = full()
    changes = [applied("N1", MAX_APPLIED_IDS + 5)]
    after = apply(before, changes)
    assert "N1" not in before.applied and "R0" in before.applied and after.applied is not before.applied
    assert apply(after, invert(before, changes)) == before
    with pytest.raises(StateError) as caught:
        apply(after, changes)
    assert caught.value.code == "LOY510"
