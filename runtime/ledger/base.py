"""The receipt a ``Session`` works on: the attributes every part of it reads, and period keys."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from ..declarations import CouponSeries, RedemptionLimit
from ..model import CustomerView, Line
from ..state import (
    CustomerState,
    period_key,
)

if TYPE_CHECKING:
    from .core import Ledger

_SKU = attrgetter("sku")




class _Receipt:
    """What every part of a receipt's ``Session`` reads (set by ``Session.__init__``), and the
    receipt's period keys."""

    ledger: Ledger
    receipt_id: str
    state: CustomerState | None
    view: CustomerView
    utc: int
    day: int
    lines: Sequence[Line]
    line_nos: list[int]
    budgets: Mapping[str, int] | None
    budget_left: dict[str, int]
    redemptions: Mapping[str, int] | None
    store: str | None
    held: int  # points other open sessions hold (``Engine.evaluate``)
    reserved: dict[str, int]
    coupon_report: list[dict[str, Any]]
    valid_coupons: dict[str, tuple[str, CouponSeries]]
    notes: dict[str, str]
    _lot_times: dict[str, tuple[int, int | None]]
    _periods: dict[str, str]
    reward_changes: list[dict[str, Any]]  # catalogue rewards' takes and stock (ledger/catalogue.py)
    reward_events: list[dict[str, Any]]
    gifts: list[dict[str, Any]]
    reward_taken: dict[tuple[bool, str, str], int]  # (shared, account, lot) -> points the rewards take  # gift events: lines for the till to add (docs/rewards.md)
    shortage: str  # why the last ``reserve`` failed: insufficient_balance (counters) | insufficient_points

    def sells(self) -> bool:
        """Whether a line's SKU sells a certificate (``Ledger.certificate_skus``): asked in C, so a receipt
        that sells none (the usual one) skips the per-line loops of the payment, the sale and the tier."""
        skus = self.ledger.certificate_skus
        return bool(skus) and not skus.keys().isdisjoint(map(_SKU, self.lines))

    def period(self, kind: str) -> str:
        """The key of the receipt's period of a kind (day, week, ..., never), made once per receipt."""
        key = self._periods.get(kind)
        if key is None:
            key = self._periods[kind] = period_key(self.day, kind)
        return key

    def redemption_scope(self, limit: RedemptionLimit) -> tuple[str | None, str | None]:
        """The (store, local day) a limit counts this receipt in; None for a scope it does not have."""
        return (self.store or "" if limit.store else None), (self.period("day") if limit.day else None)
