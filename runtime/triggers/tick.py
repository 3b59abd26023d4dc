"""The tick (docs/triggers.md, "Tick"): what a host calls on its schedule (say every hour) for a
customer, so that time alone does what it does. One call makes, at ``now``:

1. the engine's time events (``Engine.advance``: lots activating and expiring, counters resetting,
   coupons expiring, tier reviews, ``points_expiring`` notices);
2. the segment changes caused by time alone: the declared segments the customer is in at ``since``
   (the host's previous tick) against those at ``now`` on the advanced state, as ``segment_left`` /
   ``segment_entered`` events (a customer becoming sleeping or churned);
3. the chains: the time-driven triggers (a birthday on its day, registration, inactivity), the events
   of 1 and 2, the host's own events, then every step due by ``now`` (``Triggers.advance``).

Bounded: at most one event per declared segment, the notices of ``Engine.advance``, and the chains'
own bounds (64 triggers of 16 steps). Deterministic: the result depends only on the state, ``since``
and ``now``. After applying ``changes``, the same call gives no new changes or actions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..model import utc_datetime, utc_seconds
from ..state import CustomerState, apply
from .runner import TriggerResult, Triggers

if TYPE_CHECKING:
    from ..engine import Engine

SEGMENT_EVENTS = ("segment_entered", "segment_left")


@dataclass
class TickResult:
    """``changes`` to apply as an outcome's (all or nothing): the engine's, then the chains';
    ``events``: the notices and segment events the tick saw; ``chains``: what the chains did."""

    changes: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    chains: TriggerResult = field(default_factory=TriggerResult)

    @property
    def actions(self) -> list[dict[str, Any]]:
        return self.chains.actions


class Ticker:
    """The tick of one engine's bundle (build once, call per customer)."""

    def __init__(self, engine: Engine, triggers: Triggers | None = None) -> None:
        self.engine = engine
        self.triggers = triggers if triggers is not None else Triggers(engine)
        self.watch_segments = any(t.event.kind in SEGMENT_EVENTS for t in self.triggers.triggers) \
            and engine.bundle.state.segments is not None

    def tick(self, state: CustomerState, now: dt.datetime | int, since: dt.datetime | int | None = None,
             events: Iterable[Mapping[str, Any]] = ()) -> TickResult:
        """Time passing from ``since`` (None: segment changes are not looked for) to ``now``."""
        utc = now if isinstance(now, int) else utc_seconds(now)
        decls = self.engine.bundle.state
        lead, notices = self.engine.advance(state, utc_datetime(utc))
        after = apply(state, lead, decls) if lead else state
        seen = [dict(e) for e in notices]
        if since is not None and self.watch_segments:
            seen += self.segment_changes(state, after, since if isinstance(since, int) else utc_seconds(since), utc)
        chains = self.triggers.advance(after, utc, [*seen, *(dict(e) for e in events)])
        return TickResult([*lead, *chains.changes], seen, chains)

    def segment_changes(self, before: CustomerState, after: CustomerState, since: int, utc: int
                        ) -> list[dict[str, Any]]:
        """The declared segments left and entered between ``since`` and ``utc`` (left first, each in
        declaration order, as a receipt's events are)."""
        was = self.engine.segments_at(before, since)
        now = self.engine.segments_at(after, utc)
        if was == now:
            return []
        order = [s.name for s in self.engine.bundle.state.segments.segments] \
            if self.engine.bundle.state.segments is not None else []
        return [{"event": "segment_left", "segment": n, "customer": after.id} for n in order if n in was - now] \
            + [{"event": "segment_entered", "segment": n, "customer": after.id} for n in order if n in now - was]
