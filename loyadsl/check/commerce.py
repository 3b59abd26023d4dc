"""Checks of the commerce settings and selections (docs/commerce.md): the header's ``tax`` and
``totals``, and ``kind`` in a selection. Codes LOY275-LOY277."""

from __future__ import annotations

from typing import Protocol

from loyadsl.diagnostics import Diagnostic, Span, did_you_mean, error
from loyadsl.runtime.commerce import BASES, DEFAULT_TOTALS, KINDS, MAX_RATE, NEGATIVE_KINDS, PRICES, Commerce
from loyadsl.syntax import nodes as n


class Checker(Protocol):
    def report(self, diag: Diagnostic) -> None: ...
    def _scaled(self, text: str, digits: int, span: Span | None, what: str) -> int | None: ...


def commerce_settings(checker: Checker, h: n.Header, rounding: str) -> Commerce | None:
    """The programme's ``tax`` and ``totals`` as the runtime reads them; None when it states neither."""
    if h.tax is None and h.totals is None:
        return None
    prices, basis, rate = "included", None, 0
    tax = h.tax
    if tax is not None:
        if tax.prices not in PRICES:
            checker.report(error("LOY276", f"`tax {tax.prices}`: prices are `included` or `excluded`", tax.span,
                                 did_you_mean(tax.prices, PRICES) or "write `tax included` or `tax excluded`"))
        else:
            prices = tax.prices
        if tax.basis is not None and tax.basis not in BASES:
            checker.report(error("LOY276", f"`basis {tax.basis}`: campaigns compute on `gross` or `net` amounts",
                                 tax.span, did_you_mean(tax.basis, BASES) or "write `basis gross` or `basis net`"))
        else:
            basis = tax.basis
        if tax.rate is not None:
            scaled = checker._scaled(tax.rate.value, 4, tax.rate.span, "a percentage")
            if scaled is not None and scaled > MAX_RATE:
                checker.report(error("LOY275", f"a tax rate of {tax.rate.value}% is more than 100%", tax.rate.span,
                                     "a rate is a share of the net price, from 0% to 100%"))
            elif scaled is not None:
                rate = scaled
    totals: tuple[str, ...] = DEFAULT_TOTALS
    if h.totals is not None:
        for kind in h.totals.kinds:
            if kind not in KINDS:
                checker.report(error("LOY276", f"`totals`: unknown line kind `{kind}`", h.totals.span,
                                     did_you_mean(kind, KINDS) or f"the kinds are {', '.join(KINDS)}"))
        totals = tuple(kind for kind in KINDS if kind in h.totals.kinds)
    return Commerce(prices, basis, rate, rounding, totals, tax is not None)


def check_kinds(checker: Checker, e: n.Membership) -> None:
    """``kind "delivery"`` / ``kind in [...]``: known kinds only, and never deposit or correction lines,
    which no campaign sees (LOY277)."""
    if not (isinstance(e.item, n.Ref) and e.item.path == ("kind",) and isinstance(e.collection, n.SetLit)):
        return
    for item in e.collection.items:
        if not isinstance(item, n.StringLit):
            continue
        if item.value not in KINDS:
            checker.report(error("LOY277", f"unknown line kind `{item.value}`", item.span,
                                 did_you_mean(item.value, KINDS) or f"the kinds are {', '.join(KINDS)}"))
        elif item.value in NEGATIVE_KINDS and not e.negated:
            checker.report(error("LOY277", f"no campaign sees {item.value} lines: they are never discounted "
                                           "and earn nothing", item.span,
                                 "count them in `receipt.total` with the header's `totals` instead"))
