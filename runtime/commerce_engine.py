"""What the engine does for receipts with line kinds or tax (docs/commerce.md), kept out of its common
path: a receipt without ``kind``, ``tax_rate`` or ``tax``, under a programme that declares no ``tax``,
never calls it.

* ``price``: a receipt on the programme's basis: when campaigns compute on gross amounts and the
  receipt's are net (or the other way round), each line's amount, unit price and minimum price are
  converted at its rate, rounded by the declared tax rounding.
* ``see``: what campaigns see: goods and service lines, and delivery lines only for selections that
  name ``kind``; deposit and correction lines never. ``receipt.total`` counts the declared kinds.
* ``report``: the outcome's ``tax``: per line the tax before and after the discounts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .bundle_types import Bundle
from .commerce import NO_COMMERCE, VISIBLE_KINDS, converted, counted_total, rates, report
from .model import Line, Outcome, Receipt
from .money import ROUNDERS
from .opcodes import Op

_OPEN_KINDS = VISIBLE_KINDS | {"delivery"}  # what a selection naming `kind` may select


class _KindMatches(dict[int, Sequence[Line]]):
    """Each predicate's lines among those campaigns may see, computed on first use (as the engine's
    ``_Matches``): a predicate that reads ``kind`` gets delivery lines too."""

    __slots__ = ("cu", "matchers", "named", "open", "visible")

    def __init__(self, matchers: Sequence[Callable[..., Sequence[Line]]], visible: tuple[Line, ...],
                 open_: tuple[Line, ...], named: frozenset[int], cu: Any) -> None:
        self.matchers, self.visible, self.open, self.named, self.cu = matchers, visible, open_, named, cu

    def __missing__(self, index: int) -> Sequence[Line]:
        found = self[index] = self.matchers[index](self.open if index in self.named else self.visible, self.cu)
        return found


class CommercePlan:
    """An engine's line kinds and tax settings, prepared once."""

    def __init__(self, bundle: Bundle, matchers: Sequence[Callable[..., Sequence[Line]]]) -> None:
        declared = bundle.settings.commerce
        self.settings = declared or NO_COMMERCE
        self.taxed = declared is not None and declared.taxed
        self.matchers = matchers
        self.named = frozenset(i for i, code in enumerate(bundle.predicates)
                               if any(instr[0] is Op.LINE and instr[1:] == ("kind",) for instr in code))
        self.round = ROUNDERS[self.settings.rounding]

    def _modes(self, receipt: Receipt) -> tuple[str, str]:
        """(prices, basis) of a receipt: what its amounts are, and what campaigns compute on."""
        mix, s = receipt.mix, self.settings
        prices = mix.tax if mix is not None and mix.tax is not None else s.prices
        return prices, s.basis or ("gross" if prices == "included" else "net")

    def price(self, receipt: Receipt) -> Receipt:
        """The receipt on the campaigns' basis (itself when its amounts are on it already)."""
        prices, basis = self._modes(receipt)
        if (basis == "gross") == (prices == "included"):
            return receipt
        gross, rnd = basis == "gross", self.round
        lines = []
        for line, rate in zip(receipt.lines, rates(receipt.mix, len(receipt.lines), self.settings), strict=True):
            min_price = None if line.min_price is None else converted(line.min_price, rate, gross, rnd)
            lines.append(Line.of(line.line_no, line.sku, line.category, line.qty, converted(line.price, rate, gross, rnd),
                                 converted(line.amount, rate, gross, rnd), line.brand or "", min_price, line.attrs, line.kind,
                                 line.tax_rate))
        mix = receipt.mix
        priced = Receipt(receipt.receipt_id, receipt.customer_id, receipt.datetime, receipt.store, lines,
                         receipt.channel, receipt.currency, receipt.coupons, receipt.redeem, receipt.certificates,
                         rewards=receipt.rewards, tax=None if mix is None else mix.tax)
        priced.utc = receipt.utc
        return priced

    def see(self, r: Any, receipt: Receipt, cu: Any) -> None:
        """Make the context ``r`` show campaigns only the lines they may see, and the declared total."""
        assert receipt.mix is not None
        kinds = receipt.mix.kinds
        visible = tuple(line for line, kind in zip(receipt.lines, kinds, strict=True) if kind in VISIBLE_KINDS)
        open_ = tuple(line for line, kind in zip(receipt.lines, kinds, strict=True) if kind in _OPEN_KINDS)
        r.match = _KindMatches(self.matchers, visible, open_, self.named, cu).__getitem__
        r.total = counted_total([line.amount for line in receipt.lines], kinds, self.settings.totals)
        r.units = sum(line.qty for line in visible)

    def report(self, outcome: Outcome, receipt: Receipt) -> Outcome:
        """The outcome with its ``tax``: per line, before and after the discounts (when the programme
        declares ``tax`` or the receipt gives rates or its ``tax``)."""
        mix, n = receipt.mix, len(receipt.lines)
        if not self.taxed and (mix is None or not mix.taxed):
            return outcome
        prices, basis = self._modes(receipt)
        kinds = mix.kinds if mix is not None else ("goods",) * n
        tax = report([line.line_no for line in receipt.lines], kinds, rates(mix, n, self.settings),
                     [line.amount for line in receipt.lines], [row.payable for row in outcome.lines], basis, prices,
                     self.settings.rounding)
        return outcome._replace(tax=tax)


