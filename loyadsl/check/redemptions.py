"""The checks of a campaign's ``redemptions N [per store] [per day]`` clause (programme-wide usage
limits, runtime/redemptions.py): LOY290 a count below one, LOY291 an unknown or repeated scope; and of
``max discount MONEY per PERIOD``, a customer's discount cap per period (LOY290, LOY291 alike)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from loyadsl.check.state import USAGE_PERIODS
from loyadsl.diagnostics import Diagnostic, did_you_mean, error
from loyadsl.runtime.declarations import RedemptionLimit
from loyadsl.syntax import nodes as n

SCOPES = ("store", "day")


def redemption_limit(campaign: str, clause: n.RedemptionsClause, count: int | None,
                     earlier: Sequence[RedemptionLimit], report: Callable[[Diagnostic], None]
                     ) -> RedemptionLimit | None:
    """The limit a clause declares (``count`` is its constant, None when already reported), or None
    after reporting what is wrong with it."""
    for word in clause.per:
        if word not in SCOPES:
            report(error("LOY291", f"unknown redemption scope `per {word}`", clause.span,
                         did_you_mean(word, SCOPES) or "write `per store`, `per day` or both (or neither: overall)"))
            return None
    if len(set(clause.per)) != len(clause.per):
        report(error("LOY291", f"`per {clause.per[0]}` twice in one redemption limit", clause.span,
                     "write each scope once: `redemptions 10 per store per day`"))
        return None
    if count is None:
        return None
    limit = RedemptionLimit(count, "store" in clause.per, "day" in clause.per)
    if count < 1:
        report(error("LOY290", f"a redemption limit of {count} lets campaign `{campaign}` never apply",
                     clause.value.span, "allow at least one redemption, or remove the campaign (or give it "
                                        "`valid` dates in the past) to switch it off"))
        return None
    if any((x.store, x.day) == (limit.store, limit.day) for x in earlier):
        report(error("LOY291", f"campaign `{campaign}` has two redemption limits {limit.scope}", clause.span,
                     "keep one limit per scope (overall, per store, per day, per store per day)"))
        return None
    return limit


def discount_cap(campaign: str, clause: n.LimitClause, money: int | None, earlier: tuple[str, int] | None,
                 report: Callable[[Diagnostic], None]) -> tuple[str, int] | None:
    """``max discount 5000.00 RUB per month``: (period, money), the most discount one customer gets
    from the campaign in a period (a staff scheme's monthly cap), or None after reporting."""
    if clause.per not in USAGE_PERIODS:
        report(error("LOY291", f"unknown period `per {clause.per}` of a discount cap", clause.span,
                     did_you_mean(clause.per, USAGE_PERIODS) or f"use one of receipt, {', '.join(USAGE_PERIODS)}"))
        return None
    if earlier is not None:
        report(error("LOY291", f"campaign `{campaign}` has two discount caps over time", clause.span,
                     "keep one `max discount ... per PERIOD` (and one per receipt)"))
        return None
    if money is None:
        return None
    if money < 1:
        report(error("LOY290", f"a discount cap of {money} lets campaign `{campaign}` never give a discount",
                     clause.value.span, "cap it at an amount above zero, or remove the campaign"))
        return None
    return clause.per, money
