"""Trigger chains over simulated time: the golden timelines are `loya test` files
(tests/triggers/cases/*.test.yaml, docs/testing.md "Events and time"); here a host's loop is played
to check that every change a chain makes inverts, that `advance` is idempotent and the state bounded."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from loyadsl.api import compile_file
from loyadsl.mechtest.runner import run_file
from loyadsl.runtime.bundle import Bundle, load_bundle
from loyadsl.runtime.engine import Engine
from loyadsl.runtime.model import Receipt
from loyadsl.runtime.state import apply, invert
from loyadsl.runtime.state.records import CustomerState
from loyadsl.runtime.triggers.runner import TriggerResult, Triggers

CASES = Path(__file__).parent / "cases"


def _bundle(programme: str) -> Bundle:
    data, result = compile_file(CASES / programme)
    assert data is not None, [str(d) for d in result.diagnostics]
    return load_bundle(data)


BUNDLE = _bundle("welcome.loya")


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def shown(a: dict[str, Any]) -> str:
    head = f"{a['at']} {a['trigger']}#{a['step']} {a['kind']}"
    if a["kind"] == "accrue":
        return f"{head} {a['points']} {a['account']}"
    if a["kind"] == "issue":
        return f"{head} {a['code']}"
    if a["kind"] == "add":
        return f"{head} {a['count']} {a['counter']}"
    cascade = [a, *a["fallback"]]
    return f"{head} " + " | ".join(f"{m['channel']}: {m['text']}" for m in cascade)


class Host:
    """What a host does with the engine and the chains' results."""

    def __init__(self, customer: dict[str, Any], bundle: Bundle = BUNDLE) -> None:
        self.bundle = bundle
        self.engine = Engine(bundle)
        self.triggers = Triggers(self.engine)
        self.state = CustomerState.from_dict(customer)
        self.actions: list[str] = []
        self.left: list[str] = []
        self.capped = 0
        self.receipts = 0

    def take(self, result: TriggerResult) -> None:
        before = self.state
        self.state = apply(self.state, result.changes, self.bundle.state)
        # every change a chain makes has an inverse: undoing them gives the state back
        assert apply(self.state, invert(before, result.changes, self.bundle.state), self.bundle.state) == before
        self.actions += [shown(a) for a in result.actions]
        self.left += result.left
        self.capped += result.capped

    def receipt(self, at: str) -> None:
        self.receipts += 1
        r = Receipt.from_dict({"receipt_id": f"{self.state.id}-R{self.receipts}", "customer_id": self.state.id,
                               "datetime": at, "store_id": "S1",
                               "lines": [{"line_no": 1, "sku": "A", "category": "food", "qty": 1,
                                          "unit_price": 10000, "amount": 10000}]})
        outcome = self.engine.evaluate(r, self.state)
        self.state = apply(self.state, outcome.changes or (), self.bundle.state)
        self.take(self.triggers.after_receipt(self.state, r, outcome))

    def advance(self, now: dt.datetime, events: list[dict[str, Any]] | None = None) -> None:
        changes, notices = self.engine.advance(self.state, now)
        self.state = apply(self.state, changes, self.bundle.state)
        self.take(self.triggers.advance(self.state, now, [*notices, *(events or [])]))


@pytest.mark.parametrize("name", ["welcome", "stdlib"])
def test_timelines_as_loya_tests(name: str) -> None:
    """The golden timelines are `loya test` files (docs/testing.md, "Events and time")."""
    result = run_file(CASES / f"{name}.test.yaml", f"{name}.test.yaml")
    assert not result.errors and result.cases
    assert [str(d) for c in result.cases for d in c.diagnostics] == []


def test_advance_is_idempotent() -> None:
    host = Host({"id": "c9"})
    host.receipt("2026-03-02T12:00:00+00:00")
    later = _time("2026-03-06T00:00:00+00:00")
    host.advance(later)
    again = host.triggers.advance(host.state, later)
    assert again.changes == [] and again.actions == []


def test_chain_state_is_bounded() -> None:
    """One record per declared trigger, each keeping at most its cap's count of send times."""
    host = Host({"id": "c10"})
    host.receipt("2026-01-01T12:00:00+00:00")
    start = _time("2026-01-02T00:00:00+00:00")
    for day in range(0, 400, 3):
        host.advance(start + dt.timedelta(days=day))
        if day % 45 == 0:
            host.receipt((start + dt.timedelta(days=day, hours=12)).isoformat())
    assert set(host.state.chains) <= {t.name for t in BUNDLE.triggers}
    assert all(len(r.sent) <= (BUNDLE.triggers[[t.name for t in BUNDLE.triggers].index(n)].cap or (0, 0))[0]
               for n, r in host.state.chains.items())
