"""Changes to counters and tiers: ``counter``, ``qualify`` (the tier measure), ``tier``, ``usage`` (of
limited campaigns), ``receipt`` (the purchase count), ``referral`` and ``returned`` (quantities
returned per receipt line)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model import _show
from .applier import _Applier, _Failed, _int, _opt_str, _str
from .jsontypes import _MISSING
from .records import CounterState, Qualification, ReferralState, _make


def _counter(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    """Adds ``delta`` in ``period``. A counter at 0 is absent and starts in any period; one holding
    a count of another period must be reset (by ``advance``) first."""
    name, delta, period = _str(c, "name"), _int(c, "delta"), _str(c, "period")
    counters = a.own(root, "counters")
    old = counters.get(name)
    if old is not None and old.period != period:
        raise _Failed(f"counter {name!r} holds {old.value} for period {old.period}, not {period} (reset it first)")
    value = (old.value if old is not None else 0) + delta
    if value < 0:
        raise _Failed(f"counter {name!r} would be {value}")
    a.put(counters, name, _make(CounterState, {"value": value, "period": period}) if value else _MISSING)



def _record(q: Qualification | None) -> dict[str, Any] | None:
    return None if q is None else {"period": q.period, "value": q.value, "previous": q.previous}


def _qualify(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    """``{period, delta, day?}`` adds to the current period (and day, in a rolling window); with
    ``from`` (the record it replaces, or null) it is a review: the record becomes
    ``{period, value: delta, previous}`` (period null: no record)."""
    q: Qualification | None = root["qualification"]
    delta = _int(c, "delta")
    if "from" in c:
        if c["from"] != _record(q):
            raise _Failed(f"the qualification is {_record(q)}, not {c['from']}")
        period = _opt_str(c, "period")
        previous = _int(c, "previous") if "previous" in c else 0
        if delta < 0 or previous < 0:
            raise _Failed("a qualification value is >= 0")
        days = list(q.days) if q is not None else []
        if days and period is not None and sum(v for _, v in days) != delta:
            raise _Failed("a review keeps the days of a rolling window, which add up to more than the value")
        a.put(root, "qualification", None if period is None else _make(
            Qualification, {"period": period, "value": delta, "previous": previous, "days": days}))
        return
    period = _str(c, "period")
    if q is not None and q.period != period:
        raise _Failed(f"the qualification is kept for {q.period}, not {period} (a review comes first)")
    value = (q.value if q is not None else 0) + delta
    if value < 0:
        raise _Failed(f"the qualification would be {value}")
    days = list(q.days) if q is not None else []
    if "day" in c:
        day = _int(c, "day")
        by_day = dict(days)
        held = by_day.pop(day, 0) + delta
        if held < 0:
            raise _Failed(f"day {day} would have {held}")
        if held:
            by_day[day] = held
        days = sorted(by_day.items())
    elif days:
        raise _Failed("a rolling window's qualification changes by day")
    a.put(root, "qualification", _make(Qualification, {
        "period": period, "value": value, "previous": q.previous if q is not None else 0, "days": days}))


def _tier(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    old, new = _opt_str(c, "from"), _opt_str(c, "to")
    if root["tier"] != old:
        raise _Failed(f"the tier is {root['tier']!r}, not {old!r}")
    a.put(root, "tier", new)


def _usage(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    campaign, period = _str(c, "campaign"), _str(c, "period")
    a.nested_count(root, "usage", campaign, period, _int(c, "delta"), f"the usage of {campaign!r} in {period}")


def _receipt(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    receipts = root["receipts"] + _int(c, "delta")
    if receipts < 0:
        raise _Failed(f"the purchase count would be {receipts}")
    a.put(root, "receipts", receipts)


def _referral(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    rewarded = c.get("rewarded")
    if type(rewarded) is not bool:
        raise _Failed("rewarded must be true or false")
    ref: ReferralState | None = root["referral"]
    if ref is None:
        raise _Failed("the customer was not referred")
    if ref.rewarded == rewarded:
        raise _Failed(f"the referral is {'rewarded' if rewarded else 'not rewarded'} already")
    a.put(root, "referral", _make(ReferralState, {"referred_by": ref.referred_by, "rewarded": rewarded}))


def _returned(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    receipt = _str(c, "receipt")
    lines = c.get("lines")
    if not isinstance(lines, list):
        raise _Failed("lines must be an array of [line_no, thousandths]")
    for pair in lines:
        if (not isinstance(pair, list | tuple) or len(pair) != 2 or type(pair[0]) is not int or pair[0] < 1
                or type(pair[1]) is not int):
            raise _Failed(f"a returned line is [line_no, thousandths], got {_show(pair)}")
        a.nested_count(root, "returns", receipt, str(pair[0]), pair[1],
                       f"the returned quantity of {receipt} line {pair[0]}")


