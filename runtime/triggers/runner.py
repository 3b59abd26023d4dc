"""What trigger chains do (docs/triggers.md, "Run time"): after a receipt and as time passes, the
chains customers enter, the steps that come due, and what those steps do, returned as data.

``Triggers(engine).after_receipt(state, receipt, outcome, now)`` (``state``: after the outcome's changes)
and ``Triggers(engine).advance(state, now, events)`` give a ``TriggerResult``: state ``changes`` (the
``chain`` records, and the accruals, coupons and counters of the steps) that the host applies as it
applies an outcome's, and ``actions``: the scheduled actions (what to send, to whom, on which channel,
when). Delivery is the host's. Pure: nothing here writes a state."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..ledger.splits import _hash_code
from ..ledger.transfers import receive
from ..model import Outcome, Receipt, utc_seconds
from ..state.chain_record import ChainState
from ..state.chains import record_dict
from ..state.jsontypes import iso
from ..state.periods import period_key
from ..state.records import CustomerState, _make
from .spec import MAX_TRIGGERS, Action, Event, Step, Trigger
from .templates import render

if TYPE_CHECKING:
    from ..engine import Engine

DAY = 86400
BIRTHDAY_GRACE = 7 * DAY  # a birthday trigger still fires this long after its moment (a host advancing weekly)
PROFILE_FIELDS = ("birthday", "gender", "city", "registration_channel")  # else: an attribute of that name
TRIGGER_IDS = "trigger:"  # the prefix of the ids a chain's accruals remember (not purchases)


@dataclass
class TriggerResult:
    changes: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    entered: list[str] = field(default_factory=list)   # triggers entered now
    left: list[str] = field(default_factory=list)      # chains a purchase ended now
    capped: int = 0                                    # messages a frequency cap dropped


class Triggers:
    """The triggers of one engine's bundle."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.ledger = engine.ledger
        self.triggers: tuple[Trigger, ...] = engine.bundle.triggers
        self.by_name = {t.name: t for t in self.triggers}
        self.by_event: dict[str, list[Trigger]] = {}
        for t in self.triggers:
            self.by_event.setdefault(t.event.kind, []).append(t)
        self.watch_purchases = any(t.exit_on_purchase or t.event.kind == "inactive"
                                   or any(s.condition for s in t.steps) for t in self.triggers)
        self.scale = self.ledger.points_scale
        self.messages = dict(engine.bundle.messages)  # campaign -> its till messages
        purchase = self.by_event.get("purchase", ())
        self.need_items = any(t.event.items is not None for t in purchase)
        self.need_skus = any(t.event.skus for t in purchase)
        self.exiting = tuple(t for t in self.triggers if t.exits)  # docs/triggers.md, "Exits"

    def __bool__(self) -> bool:
        return bool(self.triggers or self.messages)

    # ------------------------------------------------------------------------------ entry points

    def after_receipt(self, state: CustomerState, receipt: Receipt, outcome: Outcome,
                      now: dt.datetime | None = None) -> TriggerResult:
        """What the receipt makes the chains do, led by the till messages of the campaigns it applied
        (``message receipt|cashier``; ``trigger`` null, ``campaign`` named); ``state`` is the customer's
        after the outcome's changes."""
        utc = utc_seconds(now or receipt.datetime)
        events = self._receipt_events(state, receipt, outcome)
        if not self.messages and not any(r.due is not None for r in state.chains.values()) \
                and not any(_matches(t, e) for e in events for t in self.by_event.get(e["event"], ())):
            return TriggerResult()  # the common case: nothing running, nothing starts (no work, no change)
        run = _Run(self, state, utc, outcome)
        for m in self._till_messages(run, outcome):
            run.result.actions.append({"customer": state.id, "trigger": None, "campaign": m["campaign"], "step": None,
                                       "at": iso(utc), "kind": "message", "channel": m["channel"], "text": m["text"],
                                       "fallback": []})
        if self.watch_purchases:
            run.purchase_seen()
        if self.exiting:
            run.exit_on(exit_events(outcome))
        run.fire(events)
        run.due_steps()
        return run.result

    def _till_messages(self, run: _Run, outcome: Outcome) -> list[dict[str, Any]]:
        """The campaigns' till messages: the outcome's (``Outcome.messages``), or rendered here for an
        outcome without them (one read back from JSON)."""
        if outcome.messages is not None or not self.messages:
            return list(outcome.messages or ())
        return [{"campaign": c, "channel": s.channel, "text": render(s.template, run.values(None, ""))}
                for c in outcome.applied for s in self.messages.get(c, ())]

    def _receipt_events(self, state: CustomerState, receipt: Receipt, outcome: Outcome) -> list[dict[str, Any]]:
        """The events a receipt is: a purchase, accruals, redemptions, a tier change, points notices."""
        units = sum(line.qty for line in receipt.lines) if self.need_items else 0
        skus = {line.sku for line in receipt.lines} if self.need_skus else set()
        events: list[dict[str, Any]] = [{"event": "purchase", "number": state.receipts, "items": units,
                                         "skus": skus, "key": receipt.receipt_id}]
        for c in outcome.changes or ():
            if c.get("op") == "lot" and c.get("points", 0) > 0:
                events.append({"event": "accrual", "key": receipt.receipt_id})
            elif c.get("op") == "take" and c.get("reason") == "redeem" and c.get("points", 0) > 0:
                events.append({"event": "redemption", "key": receipt.receipt_id})
        for e in outcome.events or ():
            if e.get("event") in ("tier_changed", "points_expiring"):
                events.append(dict(e))
        return events

    def quiet(self, state: CustomerState, until: int) -> bool:
        """Whether time up to ``until`` makes the chains do nothing: no moment before it
        (``next_moment(state, until)``, whose moments are among those before ``until + 1`` that
        ``_may_act`` looks for) and nothing for ``advance(state, until)`` to do; the server's
        ``catch_up`` then has no work (test_srv_catch_up)."""
        return not self._may_act(state, until)

    def _may_act(self, state: CustomerState, utc: int) -> bool:
        """Whether ``advance`` at ``utc`` might do anything (a cheap test before the real work)."""
        by = self.by_event
        return any(r.due is not None and r.due <= utc for r in state.chains.values()) \
            or ("birthday" in by and bool(state.birthday or state.children_birthdays)) \
            or ("registration" in by and state.registered is not None) or "profile_filled" in by \
            or self.next_moment(state, utc + 1) is not None

    def next_moment(self, state: CustomerState, before: int) -> int | None:
        """The earliest moment before ``before`` at which a chain of the customer has something to do (a
        step due, inactivity reached), for a simulator running each customer's clock; None: none."""
        due = min((r.due for r in state.chains.values() if r.due is not None and r.due < before), default=None)
        last = last_purchase(state) if "inactive" in self.by_event else None
        for t in self.by_event.get("inactive", ()):
            if last is None:
                break
            moment = last + t.event.seconds
            rec = state.chains.get(t.name)
            if moment < before and (rec is None or (rec.due is None and rec.key != f"idle:{iso(last)}")):
                due = moment if due is None else min(due, moment)
        birthday = self._next_birthday(state, before)
        return birthday if due is None or (birthday is not None and birthday < due) else due

    def _next_birthday(self, state: CustomerState, before: int) -> int | None:
        """The earliest birthday moment before ``before`` that a birthday trigger has not entered for: since
        the last purchase, after the record's last entry, so each moment is returned once (a loop over
        the years since the last purchase)."""
        found: int | None = None
        if not (state.birthday or state.children_birthdays) or "birthday" not in self.by_event:
            return found  # no day to look for (the usual customer): no year computed
        year = dt.date.fromordinal(self.ledger.local(before)[0]).year
        last = last_purchase(state)
        start = last if last is not None else before
        first_year = dt.date.fromordinal(self.ledger.local(start)[0]).year
        for t in self.by_event.get("birthday", ()):
            rec = state.chains.get(t.name)
            if rec is not None and rec.due is not None:
                continue  # still running: a birthday cannot enter it
            days = state.children_birthdays if t.event.child else ([state.birthday] if state.birthday else [])
            for born in days:
                for y in range(first_year, year + 1):
                    moment = self.ledger.local_midnight(_anniversary(born, y).toordinal()) + t.event.offset
                    fresh = rec is None or (rec.key != f"{y}:{born}" and moment > rec.entered)
                    if start <= moment < before and fresh and (found is None or moment < found):
                        found = moment
        return found

    def advance(self, state: CustomerState, now: dt.datetime | int, events: Iterable[Mapping[str, Any]] = ()
                ) -> TriggerResult:
        """What time passing up to ``now`` makes the chains do: the moments of time-driven triggers
        (birthdays, registration, a profile field filled, inactivity), the host's ``events`` (e.g.
        ``{"event": "segment_entered", "segment": "vip"}``), then every step due by ``now``.
        Idempotent: after applying the changes, the same call gives nothing new."""
        utc = now if isinstance(now, int) else utc_seconds(now)
        events = list(events)
        if not events and not self._may_act(state, utc):
            return TriggerResult()  # the common case: nothing due, no moment (no work, no change)
        run = _Run(self, state, utc, None)
        if self.exiting:
            run.exit_on(events)
        run.fire([dict(e) for e in events] + run.moments())
        run.due_steps()
        return run.result


class _Run:
    """One call's work: the chain records as they become, and what comes out."""

    def __init__(self, owner: Triggers, state: CustomerState, utc: int, outcome: Outcome | None) -> None:
        self.o = owner
        self.state = state
        self.utc = utc
        self.outcome = outcome
        self.records: dict[str, ChainState | None] = dict(state.chains)
        self.result = TriggerResult()
        self.granted = 0  # points this call's steps accrued, spendable at once, into the default account
        self.accrued = 0 if outcome is None else outcome.points_total if not outcome.changes \
            else sum(c.get("points", 0) for c in outcome.changes if c.get("op") == "lot")  # none: anonymous

    # --- records

    def put(self, name: str, new: ChainState | None) -> None:
        old = self.records.get(name)
        if old == new:
            return
        self.result.changes.append({"op": "chain", "trigger": name, "from": record_dict(old), "to": record_dict(new),
                                    "at": iso(self.utc)})
        self.records[name] = new

    def purchase_seen(self) -> None:
        for t in self.o.triggers:
            rec = self.records.get(t.name)
            if rec is not None and rec.due is not None:
                if t.exit_on_purchase or t.event.kind == "inactive":  # a purchase answers inactivity
                    self.result.left.append(t.name)
                    self.put(t.name, rec.model_copy(update={"due": None, "bought": True}))
                elif not rec.bought:
                    self.put(t.name, rec.model_copy(update={"bought": True}))

    def exit_on(self, events: Sequence[Mapping[str, Any]]) -> None:
        """End the running chains an event exits (docs/triggers.md, "Exits"); they count as left."""
        for t in self.o.exiting:
            rec = self.records.get(t.name)
            if rec is not None and rec.due is not None and any(_exits(t, x, e) for x in t.exits for e in events):
                self.result.left.append(t.name)
                self.put(t.name, rec.model_copy(update={"due": None}))

    # --- entering

    def moments(self) -> list[dict[str, Any]]:
        """The time-driven events due at ``utc``."""
        s, out = self.state, list[dict[str, Any]]()
        today = self.o.ledger.local(self.utc)[0]
        for t in self.o.by_event.get("birthday", ()):
            days = s.children_birthdays if t.event.child else ([s.birthday] if s.birthday else [])
            for born in days:
                for year in (dt.date.fromordinal(today).year - 1, dt.date.fromordinal(today).year):
                    moment = self._midnight(_anniversary(born, year)) + t.event.offset
                    if moment <= self.utc < moment + BIRTHDAY_GRACE:
                        out.append({"event": "birthday", "only": t.name, "key": f"{year}:{born}"})
        if s.registered is not None and "registration" in self.o.by_event \
                and self._midnight(s.registered) <= self.utc < self._midnight(s.registered) + BIRTHDAY_GRACE:
            out.append({"event": "registration", "key": "registered"})
        for t in self.o.by_event.get("profile_filled", ()):
            name = t.event.fld or ""
            value = getattr(s, name, None) if name in PROFILE_FIELDS else s.attributes.get(name)
            if value:
                out.append({"event": "profile_filled", "field": name, "key": name})
        last = last_purchase(s) if "inactive" in self.o.by_event else None
        for t in self.o.by_event.get("inactive", ()):
            if last is not None and last + t.event.seconds <= self.utc:
                out.append({"event": "inactive", "only": t.name, "key": f"idle:{iso(last)}",
                            "at": last + t.event.seconds})
        return out

    def fire(self, events: list[dict[str, Any]]) -> None:
        """Enter the chains the events start; events the steps make (an accrual) are fired in turn,
        at most ``MAX_TRIGGERS`` rounds (the compiler refuses cycles, so this bound is never reached)."""
        for _ in range(MAX_TRIGGERS):
            if not events:
                return
            made: list[dict[str, Any]] = []
            for e in events:
                for t in self.o.by_event.get(str(e.get("event")), ()):
                    if e.get("only", t.name) == t.name and _matches(t, e):
                        at = int(e.get("at", self.utc))
                        key = e.get("key") or _key(e, at)
                        made += self.enter(t, str(key), at)
            events = made

    def enter(self, t: Trigger, key: str, at: int) -> list[dict[str, Any]]:
        rec = self.records.get(t.name)
        if rec is not None and (rec.key == key or rec.due is not None):
            return []  # entered for this occasion already, or still running
        self.result.entered.append(t.name)
        self.put(t.name, _chain(key, at, 0, at + t.steps[0].after))
        return self.due_steps(only=t)

    # --- steps

    def due_steps(self, only: Trigger | None = None) -> list[dict[str, Any]]:
        made: list[dict[str, Any]] = []
        for t in (only,) if only is not None else self.o.triggers:
            rec = self.records.get(t.name)
            while rec is not None and rec.due is not None and rec.due <= self.utc:
                step = t.steps[rec.step]
                sent = list(rec.sent)
                if _holds(step, rec):
                    made += self.run_step(t, rec, step, sent)
                nxt = rec.step + 1
                due = rec.due + t.steps[nxt].after if nxt < len(t.steps) else None
                rec = rec.model_copy(update={"step": nxt if due is not None else rec.step, "due": due, "sent": sent})
                self.put(t.name, rec)
        return made

    def run_step(self, t: Trigger, rec: ChainState, step: Step, sent: list[int]) -> list[dict[str, Any]]:
        made: list[dict[str, Any]] = []
        at = rec.due or self.utc
        coupon = ""
        occasion = f"trigger:{t.name}:{rec.key}:{rec.step}"
        for i, a in enumerate(step.actions):
            base = {"customer": self.state.id, "trigger": t.name, "step": rec.step, "at": iso(at)}
            if a.do == "accrue":
                self.result.changes += receive(self.o.ledger, self.state, {
                    "op": "transfer", "customer": self.state.id, "account": a.account, "points": a.points,
                    "lot": f"{occasion}:{i}", "reason": "trigger"}, at)  # (occasion starts with TRIGGER_IDS)
                self.result.actions.append({**base, "kind": "accrue", "points": a.points, "account": a.account})
                self.accrued += a.points
                if a.account == self.o.ledger.default_account and not self.o.ledger.accounts[a.account or ""].activation:
                    self.granted += a.points
                made.append({"event": "accrual", "key": f"{occasion}:{i}"})
            elif a.do == "issue":
                coupon = self.issue(a, occasion, i, at, base)
            elif a.do == "add":
                self.add(a, at, base)
            else:
                self.send(t, a, at, base, sent, coupon)
        return made

    def issue(self, a: Action, occasion: str, i: int, at: int, base: dict[str, Any]) -> str:
        series = self.o.ledger.series[a.series or ""]
        code = series.text if series.code == "shared" else series.text + _hash_code(self.state.id, occasion, str(i))
        end = at + series.valid_for if series.valid_for is not None else None
        self.result.changes.append({"op": "coupon_issue", "code": code, "series": series.name, "issued": iso(at),
                                    "valid_from": iso(at), "valid_to": None if end is None else iso(end),
                                    "uses_left": series.uses, "campaign": None})
        self.result.actions.append({**base, "kind": "issue", "series": series.name, "code": code})
        return code

    def add(self, a: Action, at: int, base: dict[str, Any]) -> None:
        decl = self.o.ledger.counters[a.counter or ""]
        self.result.changes.append({"op": "counter", "name": decl.name, "delta": a.count,
                                    "period": period_key(self.o.ledger.local(at)[0], decl.reset), "reason": "add"})
        self.result.actions.append({**base, "kind": "add", "counter": decl.name, "count": a.count})

    def send(self, t: Trigger, a: Action, at: int, base: dict[str, Any], sent: list[int], coupon: str) -> None:
        at = self._out_of_quiet(t, at)
        if t.cap is not None:
            count, window = t.cap
            if sum(1 for s in sent if s > at - window) >= count:
                self.result.capped += 1
                return
            sent.append(at)
            del sent[:-count]
        values = self.values(t, coupon)
        cascade = [{"channel": s.channel, "text": render(s.template, values)} for s in a.sends]
        self.result.actions.append({**base, "at": iso(at), "kind": "message", **cascade[0], "fallback": cascade[1:]})

    # --- helpers

    def values(self, t: Trigger | None, coupon: str) -> dict[str, str]:
        s, o = self.state, self.o
        account = o.ledger.default_account
        held = s.accounts.get(account or "")
        balance = burning = 0
        burning_date = ""
        notify = o.ledger.accounts[account].notify if account in o.ledger.accounts else 0
        if held is not None:
            for lot in held.lots:
                if lot.active_from <= self.utc and (lot.expires is None or lot.expires > self.utc):
                    balance += lot.left
                    if notify and lot.expires is not None and lot.expires <= self.utc + notify and lot.left:
                        burning += lot.left
                        day = dt.date.fromordinal(o.ledger.local(lot.expires - 1)[0]).isoformat()
                        burning_date = min(burning_date or day, day)
            balance -= held.debt
        balance += self.granted
        hints = self.outcome.hints if self.outcome is not None and self.outcome.hints else ()
        return {"name": s.attributes.get("name", ""), "balance": self.points(balance), "accrued": self.points(self.accrued),
                "burning": self.points(burning), "burning_date": burning_date, "tier": s.tier or "",
                "upsell": str(hints[0].get("text", "")) if hints else "", "coupon": coupon,
                "trigger": "" if t is None else t.title or t.name}

    def points(self, value: int) -> str:
        whole, part = divmod(abs(value), self.o.scale)
        digits = len(str(self.o.scale)) - 1
        text = f"{whole}" if not part else f"{whole}.{part:0{digits}d}".rstrip("0")
        return f"-{text}" if value < 0 else text

    def _out_of_quiet(self, t: Trigger, at: int) -> int:
        if t.quiet is None:
            return at
        start, end = t.quiet
        minute = self.o.ledger.local(at)[2] // 60
        inside = start <= minute < end if start < end else (minute >= start or minute < end)
        if not inside:
            return at
        wait = (end - minute) % 1440
        return at + wait * 60 - self.o.ledger.local(at)[2] % 60

    def _midnight(self, day: dt.date) -> int:
        return self.o.ledger.local_midnight(day.toordinal())


def _key(e: Mapping[str, Any], at: int) -> str:
    """What one occasion of a host's event is: a points notice by account and date (notices repeat
    until the points burn), anything else by its moment."""
    if e.get("event") == "points_expiring":
        return f"points_expiring:{e.get('account')}:{e.get('date')}"
    return f"{e.get('event')}:{e.get('segment') or ''}:{iso(at)}"


def _chain(key: str, entered: int, step: int, due: int) -> ChainState:
    """A new chain record (from known-valid fields: times are UTC seconds)."""
    record: ChainState = _make(ChainState, {"key": key, "entered": entered, "step": step, "due": due,
                                            "bought": False, "sent": []})
    return record


def _anniversary(born: dt.date, year: int) -> dt.date:
    try:
        return born.replace(year=year)
    except ValueError:  # 29 February in a common year: the 28th
        return born.replace(year=year, day=28)


def _matches(t: Trigger, e: Mapping[str, Any]) -> bool:
    ev = t.event
    if ev.kind == "purchase":
        skus: Sequence[str] = e.get("skus") or ()
        return (ev.number is None or e.get("number") == ev.number) \
            and (ev.items is None or int(e.get("items", 0)) >= ev.items) \
            and (not ev.skus or any(sku in skus for sku in ev.skus))
    if ev.kind in ("segment_entered", "segment_left"):
        return e.get("segment") == ev.segment
    if ev.kind == "tier_changed":
        return ev.to is None or e.get("to") == ev.to
    return True


def exit_events(outcome: Outcome) -> list[dict[str, Any]]:
    """What a receipt is for the exits: coupons redeemed (with their series), points redeemed, a tier
    changed, segments entered or left."""
    out: list[dict[str, Any]] = [{"event": "coupon_redeemed", "series": c.get("series")}
                                 for c in outcome.coupons or () if c.get("status") == "redeemed"]
    if any(c.get("op") == "take" and c.get("reason") == "redeem" and c.get("points", 0) > 0
           for c in outcome.changes or ()):
        out.append({"event": "redemption"})
    out += [dict(e) for e in outcome.events or ()
            if e.get("event") in ("tier_changed", "segment_entered", "segment_left")]
    return out


def _exits(t: Trigger, x: Event, e: Mapping[str, Any]) -> bool:
    """Whether event ``e`` is the exit ``x`` of trigger ``t`` (a coupon: one of a series the chain issues)."""
    if e.get("event") != x.kind:
        return False
    if x.kind == "coupon_redeemed":
        return e.get("series") in t.issues_series
    if x.kind in ("segment_entered", "segment_left"):
        return e.get("segment") == x.segment
    return x.to is None or e.get("to") == x.to


def _holds(step: Step, rec: ChainState) -> bool:
    if step.condition == "no_purchase":
        return not rec.bought
    if step.condition == "purchase":
        return rec.bought
    return True


def last_purchase(state: CustomerState) -> int | None:
    """When the customer last bought (or returned): the newest id ``applied`` remembers that is not a
    chain's own accrual (``applied`` keeps its ids in time order)."""
    for rid, at in reversed(state.applied.items()):
        if not rid.startswith(TRIGGER_IDS):
            return at
    return None


def segment_events(before: CustomerState, after: CustomerState) -> list[dict[str, Any]]:
    """The documented segment events (``segment_entered``/``segment_left``) of a customer whose
    ``segments`` changed, for ``Triggers.advance``."""
    old, new = set(before.segments), set(after.segments)
    return [{"event": "segment_entered", "segment": s} for s in sorted(new - old)] \
        + [{"event": "segment_left", "segment": s} for s in sorted(old - new)]
