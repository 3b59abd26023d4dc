"""Triggers and trigger chains as the bundle carries them (docs/triggers.md, "Bundle"): one frozen
record per trigger, read from and written to the payload's ``"triggers"`` list. The compiler builds
these records and the runtime reads them back, so both sides share one model.

Times are seconds, points point-minor units, templates the parts ``templates.render`` reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from ..errors import BundleError

if TYPE_CHECKING:  # the model imports this module's vocabularies
    from .. import bundle_model as model

# The event kinds a trigger may start on, and the channels a message may go to.
EVENTS = ("purchase", "birthday", "registration", "segment_entered", "segment_left", "tier_changed",
          "accrual", "redemption", "points_expiring", "profile_filled", "inactive")
CHANNELS = ("receipt", "cashier", "sms", "email", "push", "telegram", "whatsapp", "viber")
CONDITIONS = ("no_purchase", "purchase")
MAX_TRIGGERS = 64  # per programme: one chain record each in a customer's state
MAX_STEPS = 16     # per chain
MAX_CAP = 16       # messages a frequency cap counts: the send times a chain record keeps
EXITS = ("coupon_redeemed", "segment_entered", "segment_left", "tier_changed", "redemption")  # beyond a purchase
MAX_EXITS = 8      # per chain


@dataclass(frozen=True)
class Event:
    """What starts a chain: ``kind`` (one of ``EVENTS``) and its parameters."""

    kind: str
    number: int | None = None          # purchase: the N-th purchase (None: any purchase)
    items: int | None = None           # purchase: at least this many units (thousandths) in the receipt
    skus: tuple[str, ...] = ()         # purchase: the receipt holds one of these
    offset: int = 0                    # birthday: seconds after (negative: before) the day
    child: bool = False                # birthday: a child's
    segment: str | None = None         # segment_entered / segment_left
    to: str | None = None              # tier_changed: only to this level
    fld: str | None = None             # profile_filled: the field
    seconds: int = 0                   # inactive: no purchase for this long

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        for key, value, default in (("number", self.number, None), ("items", self.items, None),
                                    ("skus", list(self.skus), []), ("offset", self.offset, 0),
                                    ("child", self.child, False), ("segment", self.segment, None),
                                    ("to", self.to, None), ("field", self.fld, None),
                                    ("seconds", self.seconds, 0)):
            if value != default:
                out[key] = value
        return out


@dataclass(frozen=True)
class Send:
    """One channel of a message cascade and its compiled template."""

    channel: str
    template: tuple[Any, ...]


@dataclass(frozen=True)
class Action:
    """``do``: accrue (``points`` into ``account``), issue (a coupon of ``series``), add (``count`` to
    ``counter``; negative takes), send (``sends``: the first channel, then each next one when the one
    before was not delivered)."""

    do: str
    points: int = 0
    account: str | None = None
    series: str | None = None
    counter: str | None = None
    count: int = 0
    sends: tuple[Send, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        if self.do == "accrue":
            return {"do": "accrue", "points": self.points, "account": self.account}
        if self.do == "issue":
            return {"do": "issue", "series": self.series}
        if self.do == "add":
            return {"do": "add", "counter": self.counter, "count": self.count}
        return {"do": "send", "sends": [{"channel": s.channel, "template": list(s.template)} for s in self.sends]}


@dataclass(frozen=True)
class Step:
    """Runs ``after`` seconds after the step before (the first: after entering), when ``condition``
    holds (None: always; ``no_purchase``/``purchase``: since entering the chain)."""

    after: int
    condition: str | None
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class Trigger:
    name: str
    title: str | None
    event: Event
    steps: tuple[Step, ...]
    exit_on_purchase: bool = False
    window: int = 0                          # the comeback window the simulator measures (seconds)
    cap: tuple[int, int] | None = None       # at most N messages per D seconds
    quiet: tuple[int, int] | None = None     # local minutes of the day [start, end): no message then
    span: dict[str, Any] | None = field(default=None, compare=False)
    exits: tuple[Event, ...] = ()            # docs/triggers.md, "Exits": events that end the chain (kinds: EXITS)

    def to_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "title": self.title, "event": self.event.to_dict(),
               "exit": "purchase" if self.exit_on_purchase else None, "window": self.window,
               "cap": list(self.cap) if self.cap else None, "quiet": list(self.quiet) if self.quiet else None,
               "steps": [{"after": s.after, "if": s.condition, "actions": [a.to_dict() for a in s.actions]}
                         for s in self.steps]}
        if self.exits:  # absent otherwise: other bundles keep their bytes
            out["exits"] = [e.to_dict() for e in self.exits]
        return out

    @property
    def issues_series(self) -> frozenset[str]:
        return frozenset(a.series for s in self.steps for a in s.actions if a.do == "issue" and a.series)

    @property
    def sends_messages(self) -> bool:
        return any(a.do == "send" for s in self.steps for a in s.actions)


# ---------------------------------------------------------------------------------------- reading


def _fail(path: str, why: str) -> BundleError:
    return BundleError("LOY404", why, path)


def read_triggers(value: list[model.Trigger] | None) -> tuple[Trigger, ...]:
    """The payload's ``"triggers"`` (absent: none) as the bundle model read them (the shape is the
    model's), checked for what a shape cannot say; a malformed one is ``BundleError``."""
    if value is None:
        return ()
    out = tuple(_trigger(t, f"triggers[{i}]") for i, t in enumerate(value))
    if len({t.name for t in out}) != len(out):
        raise _fail("triggers", "two triggers of one name")
    return out


def _trigger(t: model.Trigger, path: str) -> Trigger:
    e = t.event
    event = Event(e.kind, e.number, e.items, tuple(e.skus), e.offset, e.child, e.segment, e.to, e.field, e.seconds)
    steps = tuple(Step(s.after, s.if_, tuple(_action(a) for a in s.actions)) for s in t.steps)
    return Trigger(t.name, t.title, event, steps, t.exit == "purchase", t.window, t.cap, t.quiet,
                   exits=_exits(t.exits, f"{path}.exits"))


def _exits(value: list[model.Exit], path: str) -> tuple[Event, ...]:
    """A trigger's ``"exits"`` (docs/triggers.md, "Exits"): a segment exit names its segment."""
    for i, e in enumerate(value):
        if e.kind.startswith("segment_") and e.segment is None:
            raise _fail(f"{path}[{i}]", "a segment exit names its segment")
    return tuple(Event(e.kind, segment=e.segment, to=e.to) for e in value)


def _action(a: model.Action) -> Action:
    """An action as the model read it (the structs are told apart by their ``do`` tag: the model is
    imported for type checking only, since it imports this module's vocabularies)."""
    do = a.__struct_config__.tag
    if do == "accrue":
        accrue = cast("model.Accrue", a)
        return Action("accrue", points=accrue.points, account=accrue.account)
    if do == "issue":
        return Action("issue", series=cast("model.Issue", a).series)
    if do == "add":
        add = cast("model.Add", a)
        return Action("add", counter=add.counter, count=add.count)
    return Action("send", sends=_sends(cast("model.SendAction", a).sends))


def _sends(sends: list[model.Send] | list[model.TillSend]) -> tuple[Send, ...]:
    return tuple(Send(s.channel, tuple(s.template)) for s in sends)


def read_messages(value: dict[str, list[model.TillSend]] | None,
                  campaigns: set[str]) -> tuple[tuple[str, tuple[Send, ...]], ...]:
    """The payload's ``"messages"`` (absent: none): campaign -> the till messages shown when it applies."""
    if value is None:
        return ()
    for name in value:
        if name not in campaigns:
            raise _fail(f"messages.{name}", "names no campaign of the bundle")
    return tuple((name, _sends(sends)) for name, sends in value.items())
