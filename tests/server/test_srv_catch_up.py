"""``chains.catch_up``'s shortcut (``Triggers.quiet``: nothing due, no moment, so no step is run)
gives what its step-by-step work (``chains._catch_up``) gives, for the example's four triggers
(first purchase, inactivity, birthday, points expiring) and customers with and without birthdays,
running and ended chain records, purchases long ago or lately; and ``_next_birthday`` (which now
returns early for a customer without any birthday) gives what it gave before."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from loyadsl.api import compile_file
from loyadsl.runtime import Engine, load_bundle
from loyadsl.runtime.model import utc_datetime, utc_seconds
from loyadsl.runtime.state import CustomerState
from loyadsl.server import chains

ROOT = Path(__file__).resolve().parents[2]
_DATA, _ = compile_file(ROOT / "examples" / "supermarket" / "programme.loya")
assert _DATA is not None
ENGINE = Engine(load_bundle(_DATA))
TRIGGERS = chains.ticker(ENGINE).triggers
NAMES = sorted(t.name for t in TRIGGERS.triggers)
START = utc_seconds(dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
DAY = 86_400


def _iso(utc: int) -> str:
    return utc_datetime(utc).isoformat()


days = st.integers(0, 500).map(lambda d: (dt.date(1980, 1, 1) + dt.timedelta(days=d * 37)).isoformat())
moments = st.integers(0, 400 * DAY).map(lambda s: START + s)
STEPS = {t.name: len(t.steps) for t in TRIGGERS.triggers}


def records(name: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"key": st.sampled_from(["R1", "idle:x", "2025:1990-01-01", "k"]),
                                  "entered": moments.map(_iso), "step": st.integers(0, STEPS[name] - 1),
                                  "due": st.none() | moments.map(_iso), "bought": st.booleans()})


@st.composite
def customers(draw: st.DrawFn) -> dict[str, Any]:
    raw: dict[str, Any] = {"id": "C1", "receipts": draw(st.integers(0, 5))}
    if draw(st.booleans()):
        raw["birthday"] = draw(days)
    if draw(st.integers(0, 3)) == 0:
        raw["children_birthdays"] = draw(st.lists(days, max_size=2))
    if draw(st.booleans()):
        raw["registered"] = draw(days)
    bought = draw(st.lists(moments, max_size=3, unique=True))
    raw["applied"] = {f"R{n}": _iso(at) for n, at in enumerate(sorted(bought))}
    raw["chains"] = {name: draw(records(name)) for name in draw(st.sets(st.sampled_from(NAMES), max_size=3))}
    if draw(st.booleans()):
        raw["accounts"] = {"bonus": {"balance": 500, "debt": 0, "lots": [
            {"id": "L1", "points": 500, "left": 500, "active_from": _iso(START),
             "expires": _iso(draw(moments))}]}}
    return raw


def _reference_next_birthday(state: CustomerState, before: int) -> int | None:
    """``_next_birthday`` as it was before its early return (the loop alone)."""
    from loyadsl.runtime.triggers.runner import _anniversary, last_purchase
    found: int | None = None
    ledger = TRIGGERS.ledger
    year = dt.date.fromordinal(ledger.local(before)[0]).year
    last = last_purchase(state)
    start = last if last is not None else before
    first_year = dt.date.fromordinal(ledger.local(start)[0]).year
    for t in TRIGGERS.by_event.get("birthday", ()):
        rec = state.chains.get(t.name)
        if rec is not None and rec.due is not None:
            continue
        born_days = state.children_birthdays if t.event.child else ([state.birthday] if state.birthday else [])
        for born in born_days:
            for y in range(first_year, year + 1):
                moment = ledger.local_midnight(_anniversary(born, y).toordinal()) + t.event.offset
                fresh = rec is None or (rec.key != f"{y}:{born}" and moment > rec.entered)
                if start <= moment < before and fresh and (found is None or moment < found):
                    found = moment
    return found


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(customers(), moments)
def test_the_shortcut_gives_what_the_steps_give(raw: dict[str, Any], until: int) -> None:
    state = CustomerState.from_dict(raw, ENGINE.bundle.state)
    event("quiet" if TRIGGERS.quiet(state, until) else "work to do")
    fast = chains.catch_up(ENGINE, state, until)
    general = chains._catch_up(ENGINE, TRIGGERS, state, until, [], [])
    assert fast.changes == general.changes and fast.actions == general.actions
    assert fast.state == general.state and fast.state.to_dict() == general.state.to_dict()
    assert TRIGGERS._next_birthday(state, until) == _reference_next_birthday(state, until)


def test_the_shortcut_is_taken_by_the_usual_customer_and_not_by_one_with_work() -> None:
    bought = START + 10 * DAY
    usual = CustomerState.from_dict({"id": "C1", "applied": {"R1": _iso(bought)}}, ENGINE.bundle.state)
    assert TRIGGERS.quiet(usual, bought + DAY)
    assert not TRIGGERS.quiet(usual, bought + 70 * DAY)  # inactive for 60 days: win_back enters
    caught = chains.catch_up(ENGINE, usual, bought + 70 * DAY)
    assert caught.changes and caught.state != usual
    born = CustomerState.from_dict({"id": "C1", "birthday": "1990-03-05"}, ENGINE.bundle.state)
    assert not TRIGGERS.quiet(born, bought)
