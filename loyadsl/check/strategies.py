"""Offer strategies declared in a programme (docs/offers.md, "Strategies in the language"): each is
checked as `loya offers issue` checks a strategy file (``offers/strategy_loya.py``), and against the
programme: its currency, and the coupon series its offers issue, which the programme must declare
(the series' campaign gives the discount at the till)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from loyadsl.diagnostics import did_you_mean, error

if TYPE_CHECKING:
    from loyadsl.check.checker import Checker


def check_strategies(checker: Checker) -> bool:
    """Report each strategy's problems; whether all are sound."""
    from loyadsl.offers.strategy_loya import check_strategy

    ok = True
    series = list(checker.table.coupons)
    currency = checker.settings.currency if checker.settings is not None else None
    for decl in checker.table.strategies.values():
        strategy, diags = check_strategy(decl)
        for d in diags:
            checker.report(d)
        if strategy is None or any(d.is_error for d in diags):
            ok = False
            continue
        if currency is not None and strategy.currency != currency:
            place = next((s.span for s in decl.settings if s.key == "currency"), decl.span)
            checker.report(error("LOY633", f"strategy `{decl.name}` counts in {strategy.currency}, the programme in "
                                           f"{currency}", place))
            ok = False
        for offer, template in zip(strategy.offers, decl.offers, strict=True):
            names = [offer.coupon] if isinstance(offer.coupon, str) else list(offer.coupon.values())
            for name in names:
                if name not in checker.table.coupons:
                    at = next((s for s in template.settings if s.key == "coupon"), template)
                    checker.report(error("LOY633", f"offer `{offer.name}` issues coupon series `{name}`, which the "
                                                   "programme does not declare", at.span,
                                         did_you_mean(name, series) or f"declare it: `coupons {name} {{ ... }}` and "
                                         "a campaign with `coupon " + name + "`"))
                    ok = False
    return ok
