"""Proofs of disjointness from the filters every campaign states outside its conditions: dates,
weekdays, hours, stores, channels, audience tiers and experiment arms (docs/collisions.md, "Method")."""

from __future__ import annotations

from loyadsl.compile import ir
from loyadsl.compile.footprint import footprint


def disjoint_reason(a: ir.ICampaign, b: ir.ICampaign) -> str | None:
    """Why no receipt can satisfy both campaigns' filters, or None when that is not proved."""
    if a.dates and b.dates and (a.dates[1] < b.dates[0] or b.dates[1] < a.dates[0]):
        return "date windows do not overlap"
    if a.weekdays and b.weekdays and not set(a.weekdays) & set(b.weekdays):
        return "weekdays do not overlap"
    if a.hours and b.hours and _hours_disjoint(a.hours, b.hours):
        return "hours do not overlap"
    if _filters_disjoint(a.stores, b.stores):
        return "stores do not overlap"
    if _filters_disjoint(a.channels, b.channels):
        return "channels do not overlap"
    ta, tb = tiers(a), tiers(b)
    if ta is not None and tb is not None and not ta & tb:
        return "audience tiers do not overlap"
    if a.arm and b.arm and a.arm.experiment == b.arm.experiment and not set(a.arm.arms) & set(b.arm.arms):
        return f"different arms of experiment {a.arm.experiment}"  # a receipt gets one arm of each
    return None


def _hours_disjoint(x: tuple[int, int], y: tuple[int, int]) -> bool:
    if x[0] >= x[1] or y[0] >= y[1]:  # a window over midnight: left to the solver
        return False
    return x[1] <= y[0] or y[1] <= x[0]


def _filters_disjoint(x: ir.SetFilter | None, y: ir.SetFilter | None) -> bool:
    if x is None or y is None:
        return False
    if not x.negated and not y.negated:
        return not x.values & y.values
    if not x.negated and y.negated:
        return x.values <= y.values
    if x.negated and not y.negated:
        return y.values <= x.values
    return False


def tiers(c: ir.ICampaign) -> frozenset[str] | None:
    """Tiers the audience allows (an over-approximation: the union of its conjuncts' tiers), or None."""
    if c.audience is None:
        return None
    audience = footprint(c)["audience"]
    if not audience or not audience["tiers"]:
        return None
    return frozenset(str(t) for t in audience["tiers"])
