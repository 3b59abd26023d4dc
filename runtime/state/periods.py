"""Calendar periods (keys, starts, ends) in the programme's time zone, expiry times, and tier levels."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from zoneinfo import ZoneInfo

from ..declarations import Counter, Expiry, Level, StateDecls
from ..model import utc_seconds
from .jsontypes import _UTC_EPOCH

_SPECIAL_PERIODS = {"never": "all", "customer": "all"}

# ----------------------------------------------------------------------------------------- periods


@functools.lru_cache(maxsize=4096)
def period_key(local_ordinal: int, period: str) -> str:
    """The key of the calendar period holding a local date: day ``2026-11-23``, week ``2026-W48``
    (ISO), month ``2026-11``, quarter ``2026-Q4``, year ``2026``; ``all`` for customer / never.
    Remembered: a replay asks it several times per receipt, about a few days of a few periods."""
    d = dt.date.fromordinal(local_ordinal)
    if period == "day":
        return d.isoformat()
    if period == "week":
        year, week, _ = d.isocalendar()
        return f"{year:04d}-W{week:02d}"
    if period == "month":
        return f"{d.year:04d}-{d.month:02d}"
    if period == "quarter":
        return f"{d.year:04d}-Q{(d.month - 1) // 3 + 1}"
    if period == "year":
        return f"{d.year:04d}"
    if period in _SPECIAL_PERIODS:
        return "all"
    raise ValueError(f"unknown period {period!r}")


def period_start(local_ordinal: int, period: str) -> int:
    """The ordinal of the first day of the calendar period holding a local date."""
    d = dt.date.fromordinal(local_ordinal)
    if period == "day":
        return local_ordinal
    if period == "week":
        return local_ordinal - d.weekday()
    if period == "month":
        return dt.date(d.year, d.month, 1).toordinal()
    if period == "quarter":
        return dt.date(d.year, (d.month - 1) // 3 * 3 + 1, 1).toordinal()
    if period == "year":
        return dt.date(d.year, 1, 1).toordinal()
    raise ValueError(f"period {period!r} has no start")


def period_end(local_ordinal: int, period: str) -> int:
    """The ordinal of the first day of the *next* calendar period (the end is exclusive)."""
    d = dt.date.fromordinal(local_ordinal)
    if period == "day":
        return local_ordinal + 1
    if period == "week":
        return local_ordinal - d.weekday() + 7
    if period in ("month", "quarter"):
        month = d.month + 1 if period == "month" else (d.month - 1) // 3 * 3 + 4
        return dt.date(d.year + (month > 12), (month - 1) % 12 + 1, 1).toordinal()
    if period == "year":
        return dt.date(d.year + 1, 1, 1).toordinal()
    raise ValueError(f"period {period!r} has no end")


def local_date(zone: ZoneInfo) -> Callable[[int], int]:
    """``utc seconds -> local date ordinal`` in a zone (the ``local`` that ``view`` takes)."""

    def local(utc: int) -> int:
        return (_UTC_EPOCH + dt.timedelta(seconds=utc - 86400)).astimezone(zone).toordinal()

    return local


def local_midnight(local_ordinal: int, zone: ZoneInfo) -> int:
    """UTC seconds of the local midnight starting a date (the first instant of the day when a DST
    change skips midnight)."""
    start = dt.datetime.combine(dt.date.fromordinal(local_ordinal), dt.time(), tzinfo=zone)
    return utc_seconds(start.astimezone(dt.UTC))


def expiry_time(expiry: Expiry, from_utc: int, zone: ZoneInfo, local_ordinal: int | None = None) -> int | None:
    """When something made at ``from_utc`` expires (UTC seconds, exclusive), or None for never:
    ``after`` N seconds, or ``end_of`` a period: local midnight starting the day after the period's
    last day (one period later with ``next``). ``local_ordinal``: ``from_utc``'s local date when the
    caller knows it already (a receipt's session does)."""
    if expiry.kind == "never":
        return None
    if expiry.kind == "after":
        return from_utc + expiry.seconds
    if expiry.kind == "end_of" and expiry.period is not None:
        day = local_date(zone)(from_utc) if local_ordinal is None else local_ordinal
        return _end_of(day, expiry.period, expiry.next, zone)
    raise ValueError(f"unknown expiry {expiry!r}")


@functools.lru_cache(maxsize=4096)
def _end_of(local_ordinal: int, period: str, next_one: bool, zone: ZoneInfo) -> int:
    """Local midnight after the period holding a local date (one period later with ``next_one``);
    remembered, as every lot made on one day expires at the same instant."""
    end = period_end(local_ordinal, period)
    if next_one:
        end = period_end(end, period)
    return local_midnight(end, zone)


def qualification_period(decls: StateDecls, local_ordinal: int) -> str:
    """The key qualify changes carry: the tiers' calendar period, or ``rolling`` for a window."""
    tiers = decls.tiers
    if tiers is None:
        raise ValueError("the programme declares no tiers")
    if tiers.period.kind == "rolling":
        return "rolling"
    return period_key(local_ordinal, tiers.period.kind)


def counter_period(decl: Counter, local_ordinal: int) -> str:
    """The period key a counter change carries: by the counter's reset (``all`` when never)."""
    return period_key(local_ordinal, decl.reset)


def level_for(decls: StateDecls, value: int) -> Level | None:
    """The highest tier level whose threshold is at most ``value`` (None without tiers)."""
    tiers = decls.tiers
    if tiers is None or not tiers.levels:
        return None
    found = tiers.levels[0]
    for level in tiers.levels:
        if level.threshold <= value:
            found = level
    return found

