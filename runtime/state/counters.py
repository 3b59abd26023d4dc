"""Changes to counts kept per customer: ``counter`` (counters and chips), ``usage`` (of limited
campaigns), ``receipt`` (the purchase count), ``returned`` (quantities returned per receipt line) and
``referral``. Each is one record: read from JSON (``from_dict``), applied, inverted and written back
(``to_dict``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from ..limits import MAX_TEXT_CHARS, MAX_VALUE
from ..model import _show
from .accounts import Lines
from .applier import _Applier, _Failed, _int, _new, _str, _text, over
from .jsontypes import _MISSING
from .records import CounterState, ReferralState, _make


class CounterChange(NamedTuple):
    """Adds ``delta`` to a counter or chips in ``period`` (reason ``add``, ``spend``, ``return``; ``reset``
    and ``burn`` from advance). A counter at 0 is absent and starts in any period; one holding a count
    of another period must be reset (by ``advance``) first."""

    name: str
    delta: int
    period: str
    lines: Lines = None
    reason: str | None = None
    receipt: str | None = None

    @classmethod
    def from_dict(cls, c: Mapping[str, Any]) -> CounterChange:
        return _new(cls, (_str(c, "name"), _int(c, "delta"), _str(c, "period"), c.get("lines"),
                    c.get("reason"), c.get("receipt")))

    def verify(self) -> None:
        """What ``from_dict`` checks, of a record the ledger made (its types right by construction)."""
        if len(self.name) > MAX_TEXT_CHARS or len(self.period) > MAX_TEXT_CHARS:
            _text("name", self.name)
            _text("period", self.period)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": "counter", "name": self.name, "delta": self.delta, "period": self.period}
        if self.lines is not None:
            out["lines"] = self.lines
        out["reason"] = self.reason
        if self.receipt is not None:
            out["receipt"] = self.receipt
        return out

    def apply(self, a: _Applier) -> None:
        name, period = self.name, self.period
        counters = a.own(a.fields, "counters")
        old = counters.get(name)
        if old is not None and old.period != period:
            raise _Failed(f"counter {name!r} holds {old.value} for period {old.period}, not {period} (reset it first)")
        value = (old.value if old is not None else 0) + self.delta
        if value < 0:
            raise _Failed(f"counter {name!r} would be {value}")
        if value > MAX_VALUE:
            raise over(value, f"counter {name!r}")
        a.put(counters, name, _make(CounterState, {"value": value, "period": period}) if value else _MISSING)

    def invert(self, fields: dict[str, Any]) -> CounterChange:
        return self._replace(delta=-self.delta)


class UsageChange(NamedTuple):
    """Adds ``delta`` to a limited campaign's use count in a period."""

    campaign: str
    period: str
    delta: int
    receipt: str | None = None

    @classmethod
    def from_dict(cls, c: Mapping[str, Any]) -> UsageChange:
        return _new(cls, (_str(c, "campaign"), _str(c, "period"), _int(c, "delta"), c.get("receipt")))

    def to_dict(self) -> dict[str, Any]:
        out = {"op": "usage", "campaign": self.campaign, "period": self.period, "delta": self.delta}
        if self.receipt is not None:
            out["receipt"] = self.receipt
        return out

    def apply(self, a: _Applier) -> None:
        a.nested_count(a.fields, "usage", self.campaign, self.period, self.delta,
                       f"the usage of {self.campaign!r} in {self.period}")

    def invert(self, fields: dict[str, Any]) -> UsageChange:
        return self._replace(delta=-self.delta)


class ReceiptChange(NamedTuple):
    """The purchase count: +1 for a receipt, −1 when it is fully returned."""

    receipt: str | None
    delta: int

    @classmethod
    def from_dict(cls, c: Mapping[str, Any]) -> ReceiptChange:
        return _new(cls, (c.get("receipt"), _int(c, "delta")))

    def verify(self) -> None:
        """What ``from_dict`` checks, of a record the ledger made (its types right by construction)."""

    def to_dict(self) -> dict[str, Any]:
        return {"op": "receipt", "receipt": self.receipt, "delta": self.delta}

    def apply(self, a: _Applier) -> None:
        receipts = a.fields["receipts"] + self.delta
        if receipts < 0:
            raise _Failed(f"the purchase count would be {receipts}")
        if receipts > MAX_VALUE:
            raise over(receipts, "the purchase count")
        a.put(a.fields, "receipts", receipts)

    def invert(self, fields: dict[str, Any]) -> ReceiptChange:
        return self._replace(delta=-self.delta)


class ReferralChange(NamedTuple):
    """A referred customer's referral is ``rewarded`` (or, the inverse, not)."""

    rewarded: bool
    receipt: str | None = None

    @classmethod
    def from_dict(cls, c: Mapping[str, Any]) -> ReferralChange:
        rewarded = c.get("rewarded")
        if type(rewarded) is not bool:
            raise _Failed("rewarded must be true or false")
        return _new(cls, (rewarded, c.get("receipt")))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": "referral", "rewarded": self.rewarded}
        if self.receipt is not None:
            out["receipt"] = self.receipt
        return out

    def apply(self, a: _Applier) -> None:
        ref: ReferralState | None = a.fields["referral"]
        if ref is None:
            raise _Failed("the customer was not referred")
        if ref.rewarded == self.rewarded:
            raise _Failed(f"the referral is {'rewarded' if self.rewarded else 'not rewarded'} already")
        a.put(a.fields, "referral", _make(ReferralState, {"referred_by": ref.referred_by, "rewarded": self.rewarded}))

    def invert(self, fields: dict[str, Any]) -> ReferralChange:
        return self._replace(rewarded=not self.rewarded)


class ReturnedChange(NamedTuple):
    """Thousandths of a receipt's lines returned now (``lines``: ``[[line_no, thousandths], ...]``)."""

    receipt: str
    lines: list[list[int]]

    @classmethod
    def from_dict(cls, c: Mapping[str, Any]) -> ReturnedChange:
        receipt = _str(c, "receipt")
        lines = c.get("lines")
        if not isinstance(lines, list):
            raise _Failed("lines must be an array of [line_no, thousandths]")
        for pair in lines:
            if (not isinstance(pair, list | tuple) or len(pair) != 2 or type(pair[0]) is not int or pair[0] < 1
                    or type(pair[1]) is not int):
                raise _Failed(f"a returned line is [line_no, thousandths], got {_show(pair)}")
        return _new(cls, (receipt, lines))

    def to_dict(self) -> dict[str, Any]:
        return {"op": "returned", "receipt": self.receipt, "lines": self.lines}

    def apply(self, a: _Applier) -> None:
        for line_no, qty in self.lines:
            a.nested_count(a.fields, "returns", self.receipt, str(line_no), qty,
                           f"the returned quantity of {self.receipt} line {line_no}")

    def invert(self, fields: dict[str, Any]) -> ReturnedChange:
        return self._replace(lines=[[line_no, -qty] for line_no, qty in self.lines])
