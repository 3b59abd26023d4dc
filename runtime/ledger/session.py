"""One receipt's state work: ``Session`` puts together its gates, payment and changes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from ..declarations import CouponSeries
from ..model import CustomerView, Line
from ..state import (
    CustomerState,
)
from .finish import _Finisher
from .gates import _Gates
from .payment import _Payer

if TYPE_CHECKING:
    from .core import Ledger

_LINE_NO = attrgetter("line_no")




class Session(_Gates, _Payer, _Finisher):
    """One receipt's state work. The engine calls ``gate`` and ``reserve`` per campaign, ``pay`` once
    the discounts are final, and ``finish`` for the changes."""

    def __init__(self, ledger: Ledger, receipt_id: str, state: CustomerState | None, view: CustomerView, utc: int,
                 lines: Sequence[Line], coupons: Sequence[str], budgets: Mapping[str, int] | None,
                 expired: Sequence[str] = (), rewards: Sequence[str] = (),
                 stock: Mapping[str, int] | None = None, redemptions: Mapping[str, int] | None = None,
                 store: str | None = None, held: int = 0) -> None:
        self.ledger = ledger
        self.receipt_id = receipt_id
        self.state = state
        self.view = view
        self.utc = utc
        self.day = ledger.local(utc)[0]
        self.lines = lines
        self.line_nos = list(map(_LINE_NO, lines))
        self.budgets = budgets
        self.budget_left: dict[str, int] = {}
        self.reserved: dict[str, int] = {}
        self.coupon_report: list[dict[str, Any]] = []
        self.valid_coupons: dict[str, tuple[str, CouponSeries]] = {}  # series -> (code, series)
        self.notes: dict[str, str] = {}  # campaign -> why it was gated (for explain)
        self._lot_times: dict[str, tuple[int, int | None]] = {}
        self._periods: dict[str, str] = {}
        self.redemptions = redemptions  # programme-wide uses so far (None: limits recorded, not enforced)
        self.store = store
        self.held = held  # points other open sessions hold: not available to the payment (``_Payer._redeem``)
        if coupons:
            self._check_coupons(coupons, frozenset(expired))
        self.open_catalogue(rewards, stock)  # the catalogue rewards the receipt chooses (docs/rewards.md)

