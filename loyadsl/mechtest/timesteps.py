"""Events and time in a test (docs/testing.md, "Events and time"): a move of the clock (``advance: 3 days``,
``advance: TIME``, ``at: TIME``, optionally ``every: 6 hours``) or a host event ticks the customer as a
host would (``Ticker.tick``: the engine's time events, segment changes by time alone, the chains), and
after a receipt the chains see it (``Triggers.after_receipt``). What the chains did is gathered for the
step's expectations: ``messages``, ``actions``, ``entered``, ``left``, ``capped``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from loyadsl.mechtest.model import Step
from loyadsl.runtime import LoyaError, Outcome
from loyadsl.runtime.model import Receipt
from loyadsl.runtime.state import CustomerState, apply
from loyadsl.runtime.triggers.runner import TriggerResult
from loyadsl.runtime.triggers.tick import Ticker

Json = dict[str, Any]
MAX_TICKS = 10_000  # per step: `every` finer than the span it covers is refused beyond this


class Gathered:
    """What the chains did over one step (one receipt, or every tick of a move of the clock)."""

    def __init__(self) -> None:
        self.actions: list[Json] = []
        self.entered: list[str] = []
        self.left: list[str] = []
        self.capped = 0
        self.events: list[Json] = []

    def add(self, result: TriggerResult) -> None:
        self.actions += result.actions
        self.entered += result.entered
        self.left += result.left
        self.capped += result.capped

    def fields(self) -> Json:
        return {"messages": [a for a in self.actions if a["kind"] == "message"], "actions": self.actions,
                "entered": self.entered, "left": self.left, "capped": self.capped}


def after_receipt(ticker: Ticker, state: CustomerState, receipt: Json, outcome: Outcome) -> tuple[Json, CustomerState]:
    """The chains see the receipt (``state``: after its changes); their changes applied."""
    gathered = Gathered()
    if ticker.triggers:
        result = ticker.triggers.after_receipt(state, Receipt.from_dict(receipt), outcome)
        state = apply(state, result.changes, ticker.engine.bundle.state)
        gathered.add(result)
    return gathered.fields(), state


def time_step(ticker: Ticker, step: Step, state: CustomerState | None, clock: dt.datetime | None
              ) -> tuple[Json, CustomerState, dt.datetime]:
    """A move of the clock or a host event: the ticks it makes, applied in turn."""
    if state is None:
        raise LoyaError("LOY753", "moving the clock or a host event needs a customer")
    target = _target(step, clock)
    moments = _moments(clock, target, step.every)
    gathered = Gathered()
    since = clock
    for moment in moments:
        events = [step.event] if step.event is not None and moment == target else []
        tick = ticker.tick(state, moment, since, events)
        state = apply(state, tick.changes, ticker.engine.bundle.state)
        gathered.events += tick.events
        gathered.add(tick.chains)
        since = moment
    return {"events": gathered.events, "state": state.to_dict(), **gathered.fields()}, state, target


def _target(step: Step, clock: dt.datetime | None) -> dt.datetime:
    moved = step.at or step.advance or step.datetime or clock
    if isinstance(moved, dt.timedelta):
        if clock is None:
            raise LoyaError("LOY753", "`advance` by a duration needs a clock: give `now`, or a time to an earlier step")
        return clock + moved
    if moved is None:
        raise LoyaError("LOY753", "an event needs a time: give `datetime`, or `now` in the case or the file")
    if clock is not None and moved < clock:
        raise LoyaError("LOY753", f"the clock cannot go back, from {clock.isoformat()} to {moved.isoformat()}")
    return moved


def _moments(clock: dt.datetime | None, target: dt.datetime, every: dt.timedelta | None) -> list[dt.datetime]:
    """The ticks up to ``target``: every ``every`` after the clock, then ``target`` itself."""
    if every is None or clock is None:
        return [target]
    if (target - clock) / every > MAX_TICKS:
        raise LoyaError("LOY753", f"`every` makes more than {MAX_TICKS} ticks in one step")
    out, moment = [], clock + every
    while moment < target:
        out.append(moment)
        moment += every
    return [*out, target]
