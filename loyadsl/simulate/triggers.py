"""Trigger chains in a simulation (docs/triggers.md, "Simulation"): the chains run over the replayed
history's clock, and the report's ``triggers`` section says per trigger: customers entered, messages
scheduled per channel, coupons issued and later redeemed, points granted, the cost (the points' money
value plus the discounts of the campaigns the chain's coupons unlocked) and the share of entries
followed by a purchase within the chain's window.

``ChainReplay`` is what ``PartitionReplay`` calls, only for a bundle with triggers: ``catch_up`` runs
each customer's due steps at their own moments up to a receipt (or the end of history), ``after``
lets the chains see the receipt. Partitions hold disjoint customers, so tallies merge by addition."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from loyadsl.runtime.bundle import Bundle
from loyadsl.runtime.engine import Engine
from loyadsl.runtime.model import Outcome, Receipt
from loyadsl.runtime.state.records import CustomerState
from loyadsl.runtime.triggers.runner import DAY, TriggerResult, Triggers, last_purchase
from loyadsl.runtime.triggers.spec import MAX_STEPS, MAX_TRIGGERS
from loyadsl.runtime.triggers.tick import Ticker

ROW_FIELDS = ("entered", "came_back", "coupons_issued", "coupons_redeemed", "points", "cost")
_ENTERED, _CAME_BACK, _ISSUED, _REDEEMED, _POINTS, _COST = range(len(ROW_FIELDS))

Apply = Callable[[list[dict[str, Any]], int], None]  # book a result's changes at a UTC moment


class TriggerTally:
    """trigger -> ROW_FIELDS; trigger -> channel -> messages."""

    def __init__(self) -> None:
        self.rows: dict[str, list[int]] = {}
        self.channels: dict[str, dict[str, int]] = {}

    def row(self, name: str) -> list[int]:
        row = self.rows.get(name)
        if row is None:
            row = self.rows[name] = [0] * len(ROW_FIELDS)
        return row

    def merge(self, other: TriggerTally) -> None:
        for name, row in other.rows.items():
            mine = self.row(name)
            for i, value in enumerate(row):
                mine[i] += value
        for name, channels in other.channels.items():
            have = self.channels.setdefault(name, {})
            for channel, count in channels.items():
                have[channel] = have.get(channel, 0) + count


class ChainReplay:
    def __init__(self, engine: Engine, tally: TriggerTally) -> None:
        self.runner = Triggers(engine)
        self.ticker = Ticker(engine, self.runner)  # segment changes by time alone, at local midnights
        self.scanned: dict[str, int] = {}          # customer -> the last midnight their segments were looked at
        self.ledger = engine.ledger
        self.tally = tally
        self.windows = {t.name: t.window for t in self.runner.triggers}
        self.series_campaigns: dict[str, list[str]] = {}
        for c in engine.bundle.campaigns:
            if c.state.coupon is not None:
                self.series_campaigns.setdefault(c.state.coupon, []).append(c.name)
        self.open: dict[str, dict[str, int]] = {}     # customer -> trigger -> until when a purchase counts
        self.codes: dict[str, tuple[str, str]] = {}   # coupon code -> (trigger, series), this household's

    def catch_up(self, state: CustomerState, until: int, book: Apply) -> None:
        """Run the steps due before ``until`` at their own moments, then the time events at ``until``;
        with triggers on segments, the segment changes time alone makes, at each local midnight."""
        if self.ticker.watch_segments:
            self._segment_days(state, until, book)
        for _ in range(MAX_STEPS * MAX_TRIGGERS):
            due = self.runner.next_moment(state, until)
            if due is None:
                break
            self._take(state.id, self.runner.advance(state, due), due, book)
        self._take(state.id, self.runner.advance(state, until), until, book)

    def after(self, state: CustomerState, receipt: Receipt, outcome: Outcome, book: Apply) -> None:
        """The chains see a purchase (``state``: after it): entries it answers, coupons it redeemed."""
        utc = receipt.utc
        waiting = self.open.get(state.id)
        if waiting:
            for name, until in list(waiting.items()):
                if utc <= until:
                    self.tally.row(name)[_CAME_BACK] += 1
                del waiting[name]
        for used in outcome.coupons or ():
            found = self.codes.get(str(used.get("code")))
            if found is not None and used.get("status") == "redeemed":
                name, series = found
                row = self.tally.row(name)
                row[_REDEEMED] += 1
                campaigns = self.series_campaigns.get(series, ())
                row[_COST] += sum(e.total for e in outcome.effects if e.campaign in campaigns and e.kind == "discount")
        self._take(state.id, self.runner.after_receipt(state, receipt, outcome), utc, book)

    def _segment_days(self, state: CustomerState, until: int, book: Apply) -> None:
        """Tick each local midnight from the last one looked at (or the last purchase) up to ``until``:
        one membership check per customer and day without a receipt (the cost of segment triggers)."""
        start = self.scanned.get(state.id, last_purchase(state))
        if start is None:
            return
        midnight = self.ledger.local_midnight(self.ledger.local(start)[0] + 1)
        previous = start
        while midnight < until:
            events = self.ticker.segment_changes(state, state, previous, midnight)
            if events:
                self._take(state.id, self.runner.advance(state, midnight, events), midnight, book)
            previous, midnight = midnight, midnight + DAY
        self.scanned[state.id] = previous

    def finish(self) -> None:
        """A household is done: forget what was kept for it."""
        self.open.clear()
        self.codes.clear()
        self.scanned.clear()

    def _take(self, customer: str, result: TriggerResult, utc: int, book: Apply) -> None:
        if not result.changes and not result.actions:
            return
        book(result.changes, utc)
        for name in result.entered:
            self.tally.row(name)[_ENTERED] += 1
            self.open.setdefault(customer, {})[name] = utc + self.windows[name]
        for a in result.actions:
            if a["trigger"] is None:
                continue  # a campaign's till message
            row = self.tally.row(a["trigger"])
            kind = a["kind"]
            if kind == "message":
                channels = self.tally.channels.setdefault(a["trigger"], {})
                channels[a["channel"]] = channels.get(a["channel"], 0) + 1
            elif kind == "issue":
                row[_ISSUED] += 1
                self.codes[a["code"]] = (a["trigger"], a["series"])
            elif kind == "accrue":
                row[_POINTS] += a["points"]
                row[_COST] += self.ledger.money_of(a["points"])


def section(tally: TriggerTally, bundle: Bundle) -> list[dict[str, Any]]:
    """The report's ``triggers``: one row per declared trigger, in declaration order; the share is ppm."""
    out = []
    for t in bundle.triggers:
        row = tally.rows.get(t.name, [0] * len(ROW_FIELDS))
        entered = row[_ENTERED]
        out.append({"trigger": t.name, "title": t.title, "event": t.event.kind, "window_days": t.window // 86400,
                    **dict(zip(ROW_FIELDS, row, strict=True)),
                    "came_back_ppm": row[_CAME_BACK] * 1_000_000 // entered if entered else 0,
                    "messages": dict(sorted(tally.channels.get(t.name, {}).items()))})
    return out
