"""The checks of the programme header's staff rule and partners (``staff segment "employees"``,
``partner fuelco rate 50% price 0.80 RUB``; docs/limits-fraud.md): LOY293 a staff rule keyed on
something else than a segment or an attribute, or given twice; a partner twice, a rate outside
(0%, 100%], a negative price."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from loyadsl.check import types as t
from loyadsl.check.fraud import Constant, Invalid
from loyadsl.diagnostics import Diagnostic, did_you_mean, error
from loyadsl.runtime.bundle_types import Partner, People
from loyadsl.syntax import nodes as n

STAFF_KEYS = ("segment", "attr")
PPM = 1_000_000


def people(rules: Sequence[n.StaffRule | n.PartnerRule], constant: Constant,
           report: Callable[[Diagnostic], None]) -> People | None:
    """The header's staff rule and partners as the runtime reads them (None without any); ``Invalid``
    after reporting what is wrong."""
    staff: tuple[str, str] | None = None
    partners: dict[str, Partner] = {}
    ok = True
    for rule in rules:
        if isinstance(rule, n.StaffRule):
            if rule.by not in STAFF_KEYS:
                report(error("LOY293", f"staff are found by `segment` or `attr`, not `{rule.by}`", rule.span,
                             did_you_mean(rule.by, STAFF_KEYS) or 'write `staff segment "employees"` or '
                                                                  '`staff attr "employee"`'))
                ok = False
            elif staff is not None:
                report(error("LOY293", "`staff` appears twice in the programme header", rule.span))
                ok = False
            else:
                staff = (rule.by, rule.value)
            continue
        partner = _partner(rule, constant, report)
        if partner is None:
            ok = False
        elif partner.name in partners:
            report(error("LOY293", f"partner `{partner.name}` appears twice", rule.span))
            ok = False
        else:
            partners[partner.name] = partner
    if not ok:
        raise Invalid
    return People(staff, tuple(partners.values())) if staff is not None or partners else None


def _partner(rule: n.PartnerRule, constant: Constant, report: Callable[[Diagnostic], None]) -> Partner | None:
    rate = constant(rule.rate, t.PERCENT, "a partner's rate")
    price = constant(rule.price, t.MONEY, "a partner's price per point")
    if rate is not None and not 0 < rate <= PPM:
        report(error("LOY293", f"partner `{rule.name}`'s rate must be above 0% and at most 100%", rule.rate.span,
                     "the rate is the share of the campaigns' points its receipts earn, e.g. `rate 50%`"))
        return None
    if price is not None and price < 0:
        report(error("LOY293", f"partner `{rule.name}`'s price per point is negative", rule.price.span))
        return None
    return None if rate is None or price is None else Partner(rule.name, rate, price)
