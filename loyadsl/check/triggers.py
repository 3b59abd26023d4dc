"""Checks trigger declarations (docs/triggers.md) and builds the bundle's records (``runtime.triggers.spec``).

Besides names and values: each message template is compiled in the sandbox (``message_templates``); a
step that can never run is LOY254 (``if purchase`` in a chain a purchase ends, a receipt or cashier
message in a step that runs without a receipt); triggers whose actions fire each other in a cycle are
LOY255 (an accrual starts the chains ``on accrual``, whose accruals start them again...)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

from loyadsl.check.message_templates import compile_template
from loyadsl.diagnostics import Span, did_you_mean, error
from loyadsl.runtime.triggers.spec import (
    CHANNELS,
    MAX_CAP,
    MAX_EXITS,
    MAX_STEPS,
    MAX_TRIGGERS,
    Action,
    Event,
    Send,
    Step,
    Trigger,
)
from loyadsl.syntax import nodes as n
from loyadsl.syntax.printer import format_trigger_setting

if TYPE_CHECKING:
    from loyadsl.check.checker import Checker

_UNIT_SECONDS = {"days": 86400, "hours": 3600, "minutes": 60}
_AT_TILL = ("receipt", "cashier")  # channels shown only while a receipt is at the till
DEFAULT_WINDOW = 30 * 86400
# what each action makes happen, as the events other triggers start on
_MAKES = {"accrue": "accrual"}


def seconds(d: n.DurationLit) -> int:
    return d.amount * _UNIT_SECONDS.get(d.unit, 86400)


class TriggerChecker:
    def __init__(self, checker: Checker) -> None:
        self.c = checker
        self.table = checker.table
        self.ok = True

    def fail(self, code: str, message: str, span: Span | None, hint: str | None = None) -> None:
        self.c.report(error(code, message, span, hint))
        self.ok = False

    def check(self, decls: Iterable[n.TriggerDecl]) -> tuple[Trigger, ...] | None:
        decls = list(decls)
        if len(decls) > MAX_TRIGGERS:
            self.fail("LOY256", f"{len(decls)} triggers (at most {MAX_TRIGGERS}: each keeps a record per customer)",
                      decls[MAX_TRIGGERS].span)
        out = [t for t in (self.trigger(d) for d in decls) if t is not None]
        self.cycles(out, {d.name: d for d in decls})
        return tuple(out) if self.ok else None

    # --- one trigger

    def trigger(self, d: n.TriggerDecl) -> Trigger | None:
        event = self.event(d.on)
        if not d.steps:
            self.fail("LOY254", f"trigger `{d.name}` has no step: it would do nothing", d.span,
                      "add `step { ... }` with an action")
        if len(d.steps) > MAX_STEPS:
            self.fail("LOY256", f"trigger `{d.name}` has {len(d.steps)} steps (at most {MAX_STEPS})", d.steps[MAX_STEPS].span)
        settings = {s.word: s for s in d.settings}
        exit_on_purchase = "exit" in settings
        steps = [self.step(d, s, i, exit_on_purchase) for i, s in enumerate(d.steps)]
        cap = quiet = None
        if "cap" in settings:
            s = settings["cap"]
            if s.count is None or not 0 < s.count <= MAX_CAP or s.duration is None or seconds(s.duration) <= 0:
                self.fail("LOY256", f"a frequency cap counts 1 to {MAX_CAP} messages over a positive duration",
                          s.span, "e.g. `cap 2 per 7 days`")
            else:
                cap = (s.count, seconds(s.duration))
        if "quiet" in settings:
            s = settings["quiet"]
            if s.start is not None and s.end is not None:
                start, end = s.start.hour * 60 + s.start.minute, s.end.hour * 60 + s.end.minute
                if start == end:
                    self.fail("LOY256", "quiet hours that start when they end", s.span, "e.g. `quiet 22:00 .. 09:00`")
                quiet = (start, end)
        total = sum(seconds(s.after) for s in d.steps if s.after is not None)
        window = seconds(settings["window"].duration) if "window" in settings and settings["window"].duration \
            else (total or DEFAULT_WINDOW)
        exits = self.exits(d, tuple(s for s in steps if s is not None))
        if event is None or any(s is None for s in steps):
            return None
        return Trigger(d.name, d.title, event, tuple(s for s in steps if s is not None), exit_on_purchase, window,
                       cap, quiet, span=d.span.to_dict() if d.span else None, exits=exits)

    def exits(self, d: n.TriggerDecl, steps: tuple[Step, ...]) -> tuple[Event, ...]:
        """``exit on coupon redeemed | segment entered|left NAME | tier changed [to LEVEL] | redemption``
        (docs/triggers.md, "Exits"): LOY257 a coupon exit in a chain that issues none, LOY258 an exit
        on the trigger's own event, LOY259 an exit twice or more than MAX_EXITS, LOY260 an exit in a
        chain that ends as it starts (every step at once)."""
        out: list[Event] = []
        first: Span | None = None
        issues = any(a.do == "issue" for s in steps for a in s.actions)
        for s in (s for s in d.settings if s.word == "exit_on" and s.exit is not None):
            on = s.exit
            assert on is not None
            if on.kind == "coupon_redeemed" and not issues:
                self.fail("LOY257", f"trigger `{d.name}` issues no coupon, so none of its coupons can be redeemed",
                          s.span, "add `issue SERIES` to a step, or drop the exit")
            if on.kind == d.on.kind and on.name == d.on.name:
                self.fail("LOY258", f"trigger `{d.name}` would exit on the event that starts it", s.span,
                          "exit on another event (e.g. `exit on segment left NAME` for `on segment entered NAME`)")
            event = self.event(on) if on.kind == "tier_changed" else Event(on.kind, segment=on.name)
            if event is None:
                continue
            first = first or s.span
            if event in out:
                self.fail("LOY259", f"`{format_trigger_setting(s)}` appears twice in trigger `{d.name}`", s.span,
                          "keep one")
            out.append(event)
        if len(out) > MAX_EXITS:
            self.fail("LOY259", f"trigger `{d.name}` has {len(out)} exits (at most {MAX_EXITS})", d.span)
        if out and all(st.after == 0 for st in steps):
            self.fail("LOY260", f"the exits of trigger `{d.name}` can never end it: every step runs as it starts",
                      first, "delay a step (`step after 3 days { ... }`), or drop the exits")
        return tuple(out)

    def event(self, on: n.TriggerOn) -> Event | None:
        if on.kind == "purchase":
            number = 1 if on.first else on.number
            if number is not None and number < 1:
                self.fail("LOY256", "purchases are counted from 1", on.span, "e.g. `on purchase number 3`")
            skus = self.c.string_set(on.skus, "skus") if on.skus is not None else frozenset()
            return Event("purchase", number=number, items=None if on.items is None else on.items * 1000,
                         skus=tuple(sorted(skus or ())))
        if on.kind == "birthday":
            offset = 0 if on.shift is None else seconds(on.shift) * (-1 if on.before else 1)
            return Event("birthday", offset=offset, child=on.child)
        if on.kind in ("segment_entered", "segment_left"):
            return Event(on.kind, segment=on.name)
        if on.kind == "tier_changed":
            levels = [lv.name for lv in self.table.tiers.levels] if self.table.tiers is not None else []
            if on.name is not None and on.name not in levels:
                self.fail("LOY201", f"unknown tier level `{on.name}`", on.span, did_you_mean(on.name, levels))
            return Event("tier_changed", to=on.name)
        if on.kind == "profile_filled":
            return Event("profile_filled", fld=on.name)
        if on.kind == "inactive" and on.idle is not None:
            if seconds(on.idle) < 86400:
                self.fail("LOY256", "a customer is inactive after at least 1 day", on.span,
                          "e.g. `on no purchase for 60 days`")
            return Event("inactive", seconds=seconds(on.idle))
        return Event(on.kind)

    def step(self, d: n.TriggerDecl, s: n.TriggerStep, i: int, exit_on_purchase: bool) -> Step | None:
        if s.condition == "purchase" and (exit_on_purchase or d.on.kind == "inactive"):
            why = "the chain ends at a purchase (`exit on purchase`)" if exit_on_purchase else \
                "a purchase ends a chain started by `on no purchase for`"
            self.fail("LOY254", f"step {i + 1} of `{d.name}` can never run: it needs a purchase, but {why}", s.span,
                      "drop `if purchase`, or the exit")
        after = 0 if s.after is None else seconds(s.after)
        timed = after > 0 or i > 0 or d.on.kind not in ("purchase", "accrual", "redemption", "tier_changed")
        actions = []
        for a in s.actions:
            if a.kind == "send" and timed:
                for m in a.sends:
                    if m.channel in _AT_TILL:
                        self.fail("LOY254", f"step {i + 1} of `{d.name}` can never show a `{m.channel}` message: "
                                  "it runs without a receipt at the till", m.span,
                                  "send it on a channel that reaches the customer (push, sms, email, ...)")
            actions.append(self.action(a))
        if any(a is None for a in actions):
            return None
        return Step(after, s.condition, tuple(a for a in actions if a is not None))

    def action(self, a: n.TriggerAction) -> Action | None:
        if a.kind == "accrue":
            account = a.target or self.c.state.default_account
            if account is None or account not in self.table.accounts:
                self.fail("LOY201", f"unknown account `{account}`" if account else "no account to accrue into",
                          a.span, did_you_mean(account or "", list(self.table.accounts)) or "declare `account NAME { }`")
                return None
            if not isinstance(a.amount, n.PointsLit):
                self.fail("LOY207", "a trigger accrues a points amount", a.span, "e.g. `accrue 100 points`")
                return None
            minor = self.c.settings.points_minor if self.c.settings else 0
            value = Decimal(a.amount.amount) * 10**minor
            if value != value.to_integral_value() or value <= 0:
                self.fail("LOY207", f"`{a.amount.amount} points` is not a positive whole number of point units",
                          a.span)
                return None
            return Action("accrue", points=int(value), account=account)
        if a.kind == "issue":
            if a.target not in self.table.coupons:
                self.fail("LOY201", f"unknown coupon series `{a.target}`", a.span,
                          did_you_mean(a.target or "", list(self.table.coupons)))
                return None
            return Action("issue", series=a.target)
        if a.kind == "add":
            if a.target not in self.table.counters:
                self.fail("LOY201", f"unknown counter `{a.target}`", a.span,
                          did_you_mean(a.target or "", list(self.table.counters)))
                return None
            count = _whole(a.amount)
            if count is None or count == 0:
                self.fail("LOY207", "a trigger adds a whole number (negative: takes)", a.span, "e.g. `add 1 to visits`")
                return None
            return Action("add", counter=a.target, count=count)
        sends = []
        for m in a.sends:
            if m.channel not in CHANNELS:
                self.fail("LOY250", f"unknown channel `{m.channel}`", m.span,
                          (did_you_mean(m.channel, list(CHANNELS)) or "") + " channels: " + ", ".join(CHANNELS))
                continue
            parts, diags = compile_template(m.text, m.span)
            for diag in diags:
                self.c.report(diag)
                self.ok = False
            if parts is not None:
                sends.append(Send(m.channel, parts))
        return Action("send", sends=tuple(sends)) if len(sends) == len(a.sends) else None

    # --- between triggers

    def cycles(self, triggers: list[Trigger], decls: dict[str, n.TriggerDecl]) -> None:
        """Refuse triggers whose actions fire each other without end (LOY255), naming the cycle."""
        listeners: dict[str, list[str]] = {}
        for t in triggers:
            listeners.setdefault(t.event.kind, []).append(t.name)
        edges = {t.name: sorted({m for s in t.steps for a in s.actions if a.do in _MAKES
                                 for m in listeners.get(_MAKES[a.do], ())}) for t in triggers}
        state: dict[str, int] = {}  # 1: on the path, 2: done
        path: list[str] = []

        def visit(name: str) -> bool:
            state[name] = 1
            path.append(name)
            for nxt in edges[name]:
                if state.get(nxt) == 1:
                    cycle = [*path[path.index(nxt):], nxt]
                    self.fail("LOY255", "triggers fire each other without end: " + " -> ".join(cycle),
                              decls[nxt].span, "an accrual starts the `on accrual` chains: let one of them do "
                              "something else, or start on another event")
                    return True
                if state.get(nxt) is None and visit(nxt):
                    return True
            state[name] = 2
            path.pop()
            return False

        for t in triggers:
            if state.get(t.name) is None and visit(t.name):
                return


def _whole(e: n.Expr | None) -> int | None:
    if isinstance(e, n.NumberLit) and e.text.isdigit():
        return int(e.text)
    if isinstance(e, n.Unary) and isinstance(e.operand, n.NumberLit) and e.operand.text.isdigit():
        return -int(e.operand.text)
    return None


def campaign_message(c: Checker, clause: n.MessageClause) -> Send | None:
    """A campaign's ``message receipt|cashier "..."``: a message shown at the till when it applies."""
    if clause.channel not in _AT_TILL:
        c.report(error("LOY250", f"a campaign's message goes to the receipt or the cashier, not `{clause.channel}`",
                       clause.span, "write `message receipt \"...\"` or `message cashier \"...\"`; send other "
                       "channels from a trigger (`trigger ... { on purchase ... }`)"))
        return None
    parts, diags = compile_template(clause.text, clause.span)
    for diag in diags:
        c.report(diag)
    return None if parts is None else Send(clause.channel, parts)
