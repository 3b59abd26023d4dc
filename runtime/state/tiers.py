"""Changes to tiers: ``qualify`` (the tier measure of the period, or a review that starts a new one)
and ``tier`` (the level). Each is one record: read from JSON (``from_dict``), applied, inverted and
written back (``to_dict``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from ..limits import MAX_TEXT_CHARS, MAX_VALUE
from .accounts import Lines
from .applier import _Applier, _Failed, _int, _new, _opt_str, _str, _text, over
from .records import Qualification, _make


def _record(q: Qualification | None) -> dict[str, Any] | None:
    return None if q is None else {"period": q.period, "value": q.value, "previous": q.previous}


class QualifyChange(NamedTuple):
    """``{period, delta, day?}`` adds to the current period (and day, in a rolling window); with
    ``from`` (the record it replaces, or null; ``review`` and ``old`` here) it is a review: the record
    becomes ``{period, value: delta, previous}`` (period null: no record)."""

    period: str | None
    delta: int
    previous: int = 0
    review: bool = False
    old: Any = None  # a review's "from": the record it replaces, as JSON
    day: int | None = None
    lines: Lines = None
    reason: str | None = None
    receipt: str | None = None

    @classmethod
    def from_dict(cls, c: Mapping[str, Any]) -> QualifyChange:
        delta = _int(c, "delta")
        lines, reason, receipt = c.get("lines"), c.get("reason"), c.get("receipt")
        if "from" in c:
            return _new(cls, (_opt_str(c, "period"), delta, _int(c, "previous") if "previous" in c else 0,
                        True, c["from"], None, lines, reason, receipt))
        return _new(cls, (_str(c, "period"), delta, 0, False, None, _int(c, "day") if "day" in c else None,
                    lines, reason, receipt))

    def verify(self) -> None:
        """What ``from_dict`` checks, of a record the ledger made (its types right by construction)."""
        if self.period is not None and len(self.period) > MAX_TEXT_CHARS:
            _text("period", self.period)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": "qualify", "period": self.period, "delta": self.delta}
        if self.review:
            out["previous"], out["from"] = self.previous, self.old
        for key in ("day", "lines", "reason", "receipt"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    def apply(self, a: _Applier) -> None:
        if self.review:
            self._review(a)
            return
        q: Qualification | None = a.fields["qualification"]
        period = self.period
        if q is not None and q.period != period:
            raise _Failed(f"the qualification is kept for {q.period}, not {period} (a review comes first)")
        value = (q.value if q is not None else 0) + self.delta
        if value < 0:
            raise _Failed(f"the qualification would be {value}")
        if value > MAX_VALUE:
            raise over(value, "the qualification")
        days = list(q.days) if q is not None else []
        if self.day is not None:
            by_day = dict(days)
            held = by_day.pop(self.day, 0) + self.delta
            if held < 0:
                raise _Failed(f"day {self.day} would have {held}")
            if held:
                by_day[self.day] = held
            days = sorted(by_day.items())
        elif days:
            raise _Failed("a rolling window's qualification changes by day")
        a.put(a.fields, "qualification", _make(Qualification, {
            "period": period, "value": value, "previous": q.previous if q is not None else 0, "days": days}))

    def _review(self, a: _Applier) -> None:
        q: Qualification | None = a.fields["qualification"]
        if self.old != _record(q):
            raise _Failed(f"the qualification is {_record(q)}, not {self.old}")
        if self.delta < 0 or self.previous < 0:
            raise _Failed("a qualification value is >= 0")
        if max(self.delta, self.previous) > MAX_VALUE:
            raise over(max(self.delta, self.previous), "the qualification")
        days = list(q.days) if q is not None else []
        if days and self.period is not None and sum(v for _, v in days) != self.delta:
            raise _Failed("a review keeps the days of a rolling window, which add up to more than the value")
        a.put(a.fields, "qualification", None if self.period is None else _make(
            Qualification, {"period": self.period, "value": self.delta, "previous": self.previous, "days": days}))

    def invert(self, fields: dict[str, Any]) -> QualifyChange:
        if self.review:
            new = None if self.period is None else {
                "period": self.period, "value": self.delta, "previous": self.previous}
            old = self.old
            if old is None:
                return QualifyChange(None, 0, 0, True, new)
            return QualifyChange(old["period"], old["value"], old["previous"], True, new)
        if fields["qualification"] is None:  # the change creates the record: its inverse removes it
            return QualifyChange(None, 0, 0, True, {"period": self.period, "value": self.delta, "previous": 0})
        return self._replace(delta=-self.delta)


class ReceiptQualify(QualifyChange):
    """A receipt's ``qualify`` as the ledger makes it: the same record, written in the ledger's key
    order (``op, period, receipt, delta, lines, day``), which outcomes have always shown."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": "qualify", "period": self.period, "receipt": self.receipt, "delta": self.delta}
        if self.lines is not None:
            out["lines"] = self.lines
        if self.day is not None:
            out["day"] = self.day
        return out


class TierChange(NamedTuple):
    """The level moves ``from`` → ``to`` (reason ``upgrade``, ``review``); ``from`` must be the level held."""

    old: str | None
    new: str | None
    reason: str | None = None
    receipt: str | None = None

    @classmethod
    def from_dict(cls, c: Mapping[str, Any]) -> TierChange:
        return _new(cls, (_opt_str(c, "from"), _opt_str(c, "to"), c.get("reason"), c.get("receipt")))

    def verify(self) -> None:
        """What ``from_dict`` checks, of a record the ledger made (its types right by construction)."""
        _text("from", self.old)
        _text("to", self.new)

    def to_dict(self) -> dict[str, Any]:
        out = {"op": "tier", "from": self.old, "to": self.new, "reason": self.reason}
        if self.receipt is not None:
            out["receipt"] = self.receipt
        return out

    def apply(self, a: _Applier) -> None:
        if a.fields["tier"] != self.old:
            raise _Failed(f"the tier is {a.fields['tier']!r}, not {self.old!r}")
        a.put(a.fields, "tier", self.new)

    def invert(self, fields: dict[str, Any]) -> TierChange:
        return self._replace(old=self.new, new=self.old)
