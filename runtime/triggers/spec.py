"""Triggers and trigger chains as the bundle carries them (docs/triggers.md, "Bundle"): one frozen
record per trigger, read from and written to the payload's ``"triggers"`` list. The compiler builds
these records and the runtime reads them back, so both sides share one model.

Times are seconds, points point-minor units, templates the parts ``templates.render`` reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import BundleError

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


def _get(d: Mapping[str, Any], key: str, kind: type | tuple[type, ...], path: str, default: Any = ...) -> Any:
    if key not in d:
        if default is ...:
            raise _fail(f"{path}.{key}", "missing")
        return default
    value = d[key]
    if value is None and default is None:
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise _fail(f"{path}.{key}", f"expected {getattr(kind, '__name__', kind)}, got {type(value).__name__}")
    return value


def read_triggers(value: Any) -> tuple[Trigger, ...]:
    """The payload's ``"triggers"`` (absent: none), checked; a malformed one is ``BundleError``."""
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_TRIGGERS:
        raise _fail("triggers", f"a list of at most {MAX_TRIGGERS} triggers")
    out = tuple(_trigger(t, f"triggers[{i}]") for i, t in enumerate(value))
    if len({t.name for t in out}) != len(out):
        raise _fail("triggers", "two triggers of one name")
    return out


def _trigger(t: Any, path: str) -> Trigger:
    if not isinstance(t, dict):
        raise _fail(path, "a trigger is an object")
    ev = _get(t, "event", dict, path)
    kind = _get(ev, "kind", str, f"{path}.event")
    if kind not in EVENTS:
        raise _fail(f"{path}.event.kind", f"unknown event {kind!r}")
    event = Event(kind, _get(ev, "number", int, f"{path}.event", None), _get(ev, "items", int, f"{path}.event", None),
                  tuple(_get(ev, "skus", list, f"{path}.event", [])), _get(ev, "offset", int, f"{path}.event", 0),
                  _get(ev, "child", bool, f"{path}.event", False), _get(ev, "segment", str, f"{path}.event", None),
                  _get(ev, "to", str, f"{path}.event", None), _get(ev, "field", str, f"{path}.event", None),
                  _get(ev, "seconds", int, f"{path}.event", 0))
    steps_raw = _get(t, "steps", list, path)
    if not steps_raw or len(steps_raw) > MAX_STEPS:
        raise _fail(f"{path}.steps", f"1 to {MAX_STEPS} steps")
    steps = tuple(_step(s, f"{path}.steps[{i}]") for i, s in enumerate(steps_raw))
    exit_ = _get(t, "exit", str, path, None)
    cap = _get(t, "cap", list, path, None)
    quiet = _get(t, "quiet", list, path, None)
    if cap is not None and (len(cap) != 2 or any(type(x) is not int for x in cap) or not 0 < cap[0] <= MAX_CAP
                            or cap[1] <= 0):
        raise _fail(f"{path}.cap", f"[count 1..{MAX_CAP}, seconds > 0]")
    if quiet is not None and (len(quiet) != 2 or not all(isinstance(m, int) and 0 <= m < 1440 for m in quiet)):
        raise _fail(f"{path}.quiet", "[start, end] minutes of the day")
    return Trigger(_get(t, "name", str, path), _get(t, "title", str, path, None), event, steps,
                   exit_ == "purchase", _get(t, "window", int, path, 0),
                   None if cap is None else (cap[0], cap[1]), None if quiet is None else (quiet[0], quiet[1]),
                   exits=_exits(_get(t, "exits", list, path, []), f"{path}.exits"))


def _exits(value: list[Any], path: str) -> tuple[Event, ...]:
    """A trigger's ``"exits"``: ``{"kind", "segment"?, "to"?}`` each (docs/triggers.md, "Exits")."""
    if len(value) > MAX_EXITS:
        raise _fail(path, f"at most {MAX_EXITS} exits")
    out = []
    for i, e in enumerate(value):
        where = f"{path}[{i}]"
        if not isinstance(e, dict) or e.get("kind") not in EXITS:
            raise _fail(where, f"an exit is an object whose kind is one of {', '.join(EXITS)}")
        if set(e) - {"kind", "segment", "to"}:
            raise _fail(where, "an exit has only kind, segment and to")
        segment = _get(e, "segment", str, where, None)
        if e["kind"].startswith("segment_") and segment is None:
            raise _fail(where, "a segment exit names its segment")
        out.append(Event(e["kind"], segment=segment, to=_get(e, "to", str, where, None)))
    return tuple(out)


def _step(s: Any, path: str) -> Step:
    if not isinstance(s, dict):
        raise _fail(path, "a step is an object")
    cond = _get(s, "if", str, path, None)
    if cond is not None and cond not in CONDITIONS:
        raise _fail(f"{path}.if", f"unknown condition {cond!r}")
    return Step(_get(s, "after", int, path), cond,
                tuple(_action(a, f"{path}.actions[{i}]") for i, a in enumerate(_get(s, "actions", list, path))))


def _action(a: Any, path: str) -> Action:
    if not isinstance(a, dict):
        raise _fail(path, "an action is an object")
    do = _get(a, "do", str, path)
    if do == "accrue":
        return Action("accrue", points=_get(a, "points", int, path), account=_get(a, "account", str, path))
    if do == "issue":
        return Action("issue", series=_get(a, "series", str, path))
    if do == "add":
        return Action("add", counter=_get(a, "counter", str, path), count=_get(a, "count", int, path))
    if do == "send":
        sends = []
        for i, s in enumerate(_get(a, "sends", list, path)):
            where = f"{path}.sends[{i}]"
            if not isinstance(s, dict) or s.get("channel") not in CHANNELS:
                raise _fail(where, f"a send names one of {', '.join(CHANNELS)}")
            sends.append(Send(s["channel"], tuple(_get(s, "template", list, where))))
        if not sends:
            raise _fail(f"{path}.sends", "at least one channel")
        return Action("send", sends=tuple(sends))
    raise _fail(f"{path}.do", f"unknown action {do!r}")


def read_messages(value: Any, campaigns: set[str]) -> tuple[tuple[str, tuple[Send, ...]], ...]:
    """The payload's ``"messages"`` (absent: none): campaign -> the till messages shown when it applies."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise _fail("messages", "an object: campaign -> messages")
    out = []
    for name, sends in value.items():
        if name not in campaigns or not isinstance(sends, list):
            raise _fail(f"messages.{name}", "a list of messages of a campaign of the bundle")
        action = _action({"do": "send", "sends": sends}, f"messages.{name}")
        if any(s.channel not in ("receipt", "cashier") for s in action.sends):
            raise _fail(f"messages.{name}", "a campaign's messages go to the receipt or the cashier")
        out.append((name, action.sends))
    return tuple(out)
