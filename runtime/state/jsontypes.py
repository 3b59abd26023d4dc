"""Times and dates as the customer JSON writes them: ISO 8601 strings with an offset in JSON, whole UTC
seconds since 0001-01-01 in Python (``Time``), dates (``Date``), and the conversions ``iso`` and
``parse_time``."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    Strict,
    WithJsonSchema,
)

from ..model import _show

_MISSING: Any = object()
_UTC_EPOCH = dt.datetime(1, 1, 1, tzinfo=dt.UTC)  # utc second 86400 (ordinal 1)

# ------------------------------------------------------------------------------------- JSON types


def _time_in(value: Any) -> int:
    """An ISO 8601 date-time with an offset (or an aware datetime) -> UTC seconds; fractions of a
    second are dropped (floor), so the canonical form has whole seconds. (``utc_seconds`` inlined:
    this runs twice per lot when a state is read.)"""
    if type(value) is str:
        try:
            when = _fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected an ISO 8601 date and time with an offset, got {_show(value)}") from None
    elif isinstance(value, dt.datetime):
        when = value
    else:
        raise ValueError(f"expected an ISO 8601 date and time with an offset, got {_show(value)}")
    offset = when.utcoffset()
    if offset is None:
        raise ValueError(f"needs a UTC offset, e.g. {when.isoformat()}+00:00")
    utc = (when.toordinal() * 86400 + when.hour * 3600 + when.minute * 60 + when.second
           - offset.days * 86400 - offset.seconds)
    if not _FIRST_TIME <= utc <= _LAST_TIME:
        raise ValueError("the time is out of range (0001-01-01..9999-12-31 UTC)")
    return utc


_fromisoformat = dt.datetime.fromisoformat


_FIRST_TIME, _LAST_TIME = 86400, dt.date.max.toordinal() * 86400 + 86399  # what a datetime can show in UTC


def _in_range(utc: int) -> int:
    if not _FIRST_TIME <= utc <= _LAST_TIME:
        raise ValueError("the time is out of range (0001-01-01..9999-12-31 UTC)")
    return utc


def _date_in(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date (YYYY-MM-DD), got a date and time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"expected a date (YYYY-MM-DD), got {_show(value)}")


@functools.lru_cache(maxsize=4096)
def iso(utc: int) -> str:
    """UTC seconds -> the canonical ISO 8601 form, ``2026-01-15T10:00:00+00:00``. Remembered: a receipt's
    changes write its own time several times (a coupon's issue and start, a lot's start, the applied id's
    time) and a calendar expiry is shared by every lot of a quarter (a small saving: -0.1 % of a stateful
    evaluation's instructions in bench/settle_cost.py's server receipts)."""
    return (_UTC_EPOCH + dt.timedelta(seconds=utc - 86400)).isoformat()


def parse_time(value: str | int | dt.datetime) -> int:
    """An ISO 8601 string with an offset, an aware datetime or UTC seconds -> UTC seconds."""
    if type(value) is int:
        return value
    return _time_in(value)


# A point in time: an int (UTC seconds) in Python, an ISO 8601 string with an offset in JSON.
Time = Annotated[int, BeforeValidator(_time_in), PlainSerializer(iso, return_type=str),
                 WithJsonSchema({"type": "string", "format": "date-time"})]
Date = Annotated[dt.date, BeforeValidator(_date_in), WithJsonSchema({"type": "string", "format": "date"})]
Count = Annotated[int, Field(ge=0)]
Positive = Annotated[int, Field(gt=0)]
Day = Annotated[tuple[Annotated[int, Field(gt=0)], Count], Strict(False)]  # [local date ordinal, value]

_CONFIG = ConfigDict(frozen=True, extra="ignore", strict=True)

