"""Line kinds and the tax model (docs/commerce.md): what a receipt's lines are (goods, services,
delivery, returned deposits, corrections), which of them campaigns see and totals count, and the tax
in each line before and after the discounts, in exact integers with a declared rounding.

A programme that declares none of it and a receipt without ``kind``, ``tax_rate`` or ``tax`` never
reach this module: the engine's path and the outcome's JSON stay as they were.

Rates are ppm of the amount (20% = 200,000), like every percentage of the language.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .money import ROUNDERS

KINDS = ("goods", "service", "delivery", "deposit", "correction")
NEGATIVE_KINDS = frozenset({"deposit", "correction"})  # may have negative amounts; no campaign touches them
VISIBLE_KINDS = frozenset({"goods", "service"})  # what a selection sees unless it names `kind`
DEFAULT_TOTALS = ("goods", "service")  # the kinds `receipt.total` counts unless the programme says
PRICES = ("included", "excluded")
BASES = ("gross", "net")
PPM = 1_000_000
MAX_RATE = PPM  # 100%

TAX_RATE = "LOY555"  # a receipt line's tax_rate is not a percentage in 0..100 with at most 4 decimals
LINE_KIND = "LOY556"  # an unknown line kind, or a negative amount on a line that is not a deposit or correction
RECEIPT_TAX = "LOY557"  # the receipt's `tax` is not "included" or "excluded"


@dataclass(frozen=True)
class Commerce:
    """What a programme declares (the bundle's ``settings.commerce``): whether receipt amounts include
    tax (``prices``; a receipt's ``tax`` field overrides it), the basis campaigns compute on (None: the
    prices as given), the rate of lines without ``tax_rate``, the rounding of each line's tax, and the
    kinds ``receipt.total`` counts."""

    prices: str = "included"
    basis: str | None = None
    rate: int = 0
    rounding: str = "half_up"
    totals: tuple[str, ...] = DEFAULT_TOTALS
    taxed: bool = False  # the programme wrote `tax ...`: every outcome reports tax

    def to_json(self) -> dict[str, Any]:
        return {"prices": self.prices, "basis": self.basis, "rate": self.rate, "rounding": self.rounding,
                "totals": list(self.totals), "taxed": self.taxed}


NO_COMMERCE = Commerce()


class Mix:
    """What a receipt says beyond the plain schema: each line's kind and tax rate (None: the
    programme's), and the receipt's ``tax`` ("included", "excluded" or None: the programme's)."""

    __slots__ = ("kinds", "plain", "rates", "tax", "taxed")

    def __init__(self, kinds: tuple[str, ...], rates: tuple[int | None, ...], tax: str | None) -> None:
        self.kinds = kinds
        self.rates = rates
        self.tax = tax
        self.plain = all(kind == "goods" for kind in kinds)  # only goods: campaigns see every line
        self.taxed = tax is not None or any(rate is not None for rate in rates)  # the outcome reports tax


def tax_in(amount: int, rate: int, included: bool, rnd: Callable[[int, int], int]) -> int:
    """The tax an amount carries: of a gross amount ``rate / (1 + rate)`` of it, of a net one ``rate``
    of it; rounded once. Exact for negative amounts too (the rounders are)."""
    return rnd(amount * rate, PPM + rate) if included else rnd(amount * rate, PPM)


def rates(mix: Mix | None, n: int, commerce: Commerce) -> list[int]:
    if mix is None:
        return [commerce.rate] * n
    return [commerce.rate if rate is None else rate for rate in mix.rates]


def converted(amount: int, rate: int, to_gross: bool, rnd: Callable[[int, int], int]) -> int:
    """A net amount made gross (``to_gross``) or a gross one made net."""
    return amount + tax_in(amount, rate, False, rnd) if to_gross else amount - tax_in(amount, rate, True, rnd)


def counted_total(amounts: Sequence[int], kinds: Sequence[str], totals: tuple[str, ...]) -> int:
    """What ``receipt.total`` is: the amounts of the lines whose kinds the programme counts."""
    return sum([amount for amount, kind in zip(amounts, kinds, strict=True) if kind in totals])


def report(line_nos: Sequence[int], kinds: Sequence[str], line_rates: Sequence[int], amounts: Sequence[int],
           payable: Sequence[int], basis: str, prices: str, rounding: str) -> dict[str, Any]:
    """The outcome's ``tax``: per line the rate, the tax in the original amount and in what is left to
    pay, and the payable net and gross of tax; then the sums (each the exact sum of its lines)."""
    rnd = ROUNDERS[rounding]
    included = basis == "gross"
    out: list[dict[str, Any]] = []
    sums: dict[str, int] = {"tax_before": 0, "tax_after": 0, "net": 0, "gross": 0}
    for line_no, kind, rate, amount, pay in zip(line_nos, kinds, line_rates, amounts, payable, strict=True):
        before, after = tax_in(amount, rate, included, rnd), tax_in(pay, rate, included, rnd)
        net, gross = (pay - after, pay) if included else (pay, pay + after)
        row: dict[str, Any] = {"line_no": line_no, "kind": kind, "rate": rate, "tax_before": before, "tax_after": after,
               "net": net, "gross": gross}
        for key in sums:
            sums[key] += row[key]
        out.append(row)
    return {"prices": prices, "basis": basis, "rounding": rounding, **sums, "lines": out}
