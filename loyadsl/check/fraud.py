"""The checks of the programme header's anti-fraud limits (``max points N per PERIOD``, ``max
receipts N per PERIOD``, ``velocity N per DURATION``; docs/limits-fraud.md): LOY292 a limit below
one, an unknown period, or one of a kind and period twice."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from loyadsl.check import types as t
from loyadsl.check.types import Type
from loyadsl.diagnostics import Diagnostic, did_you_mean, error
from loyadsl.runtime.bundle_types import FraudLimits
from loyadsl.syntax import nodes as n

POINT_PERIODS = ("receipt", "day", "week", "month", "year")
RECEIPT_PERIODS = ("day", "week", "month", "year")
Constant = Callable[[n.Expr, Type, str], int | None]


def fraud_limits(settings: Sequence[n.FraudSetting], constant: Constant,
                 report: Callable[[Diagnostic], None]) -> FraudLimits | None:
    """The header's limits as the runtime reads them (None when the header has none); ``Invalid``
    after reporting what is wrong."""
    points: dict[str, int] = {}
    receipts: dict[str, int] = {}
    velocity: tuple[int, int] | None = None
    ok = True
    for s in settings:
        if s.kind == "velocity":
            assert s.window is not None
            count = _at_least_one(s, constant(s.value, t.COUNT, "a velocity"), "receipts", report)
            seconds = constant(s.window, t.DURATION, "a velocity window")
            if velocity is not None:
                report(error("LOY292", "`velocity` appears twice in the programme header", s.span))
            elif count is not None and seconds is not None and seconds >= 1:
                velocity = (count, seconds)
                continue
            ok = False
            continue
        periods, table = (POINT_PERIODS, points) if s.kind == "points" else (RECEIPT_PERIODS, receipts)
        if s.per not in periods:
            report(error("LOY292", f"`max {s.kind}` per `{s.per}` is not a period", s.span,
                         did_you_mean(str(s.per), periods) or f"use one of {', '.join(periods)}"))
            ok = False
            continue
        assert s.per is not None
        if s.per in table:
            report(error("LOY292", f"`max {s.kind} ... per {s.per}` appears twice in the programme header", s.span))
            ok = False
            continue
        most = _at_least_one(s, constant(s.value, t.POINTS if s.kind == "points" else t.COUNT,
                                         f"the most {s.kind}"), s.kind, report)
        if most is None:
            ok = False
        else:
            table[s.per] = most
    if not ok:
        raise Invalid
    if not (points or receipts or velocity):
        return None
    return FraudLimits(tuple(sorted(points.items(), key=lambda p: POINT_PERIODS.index(p[0]))),
                       tuple(sorted(receipts.items(), key=lambda p: RECEIPT_PERIODS.index(p[0]))), velocity)


class Invalid(Exception):
    """Raised by ``fraud_limits`` after reporting an error (the header's settings are then refused)."""


def _at_least_one(s: n.FraudSetting, value: int | None, what: str, report: Callable[[Diagnostic], None]) -> int | None:
    if value is not None and value < 1:
        report(error("LOY292", f"an anti-fraud limit of {value} {what} refuses every receipt", s.value.span,
                     "allow at least one; to stop giving points altogether, remove the accruals"))
        return None
    return value
