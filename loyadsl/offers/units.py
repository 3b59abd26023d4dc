"""Quantities written as in the language: `10%`, `1200.00 RUB`, `14 days`. Money comes out in integer
minor units and percentages as exact Decimals; nothing here is a float."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_PERCENT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*%\s*")
_MONEY = re.compile(r"\s*(\d+(?:\.\d+)?)\s+([A-Z]{3})\s*")
_DAYS = re.compile(r"\s*(\d+)\s+days?\s*")


def percent(text: object) -> Decimal:
    """`10%` -> Decimal('10'); between 0 and 100."""
    match = _PERCENT.fullmatch(str(text))
    if match is None:
        raise ValueError(f"`{text}` is not a percentage such as 10%")
    value = Decimal(match[1])
    if value > 100:
        raise ValueError(f"`{text}` is more than 100%")
    return value


def money(text: object, currency: str, minor: int) -> int:
    """`1200.00 RUB` -> 120000 (minor units), in the strategy's currency, whole minor units only."""
    match = _MONEY.fullmatch(str(text))
    if match is None:
        raise ValueError(f"`{text}` is not an amount such as 1200.00 {currency}")
    if match[2] != currency:
        raise ValueError(f"`{text}` is in {match[2]}, the strategy counts in {currency}")
    try:
        value = Decimal(match[1]).scaleb(minor)
    except InvalidOperation:
        raise ValueError(f"`{text}` is not a number") from None
    if value != value.to_integral_value():
        raise ValueError(f"`{text}` has more than {minor} decimals")
    return int(value)


def days(text: object) -> int:
    """`14 days` (or a bare integer) -> 14."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    match = _DAYS.fullmatch(str(text))
    if match is None:
        raise ValueError(f"`{text}` is not a duration such as 14 days")
    return int(match[1])
