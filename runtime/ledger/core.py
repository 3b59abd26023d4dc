"""The ``Ledger``: what a bundle's state declarations make of receipts and returns, built once per engine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

from ..bundle import Bundle
from ..declarations import Account, CampaignState, CertificateSeries, Expiry
from ..model import CustomerView, Line
from ..money import ceil_div
from ..state import (
    CustomerState,
    expiry_time,
    local_midnight,
)
from .session import Session
from .splits import LocalFn, Matcher

_UNKNOWN = object()  # (a cached expiry may be None: never)

# ------------------------------------------------------------------------------------------ the ledger


class Ledger:
    """What a bundle's state declarations make of receipts and returns; built once per engine."""

    def __init__(self, bundle: Bundle, matchers: Sequence[Matcher], local: LocalFn) -> None:
        self.bundle = bundle
        self.decls = decls = bundle.state
        s = bundle.settings
        self.zone = ZoneInfo(s.timezone)
        self.local = local
        self.matchers = matchers
        self.point_value = s.point_value
        self.points_scale = 10**s.points_minor
        self.accounts = {a.name: a for a in decls.accounts}
        self._ends: dict[tuple[str, int], int | None] = {}  # (account, local day) -> its lots' expiry (``lot_expiry``)
        self.credit = any(a.credit for a in decls.accounts)  # debts exist only on credit accounts
        self.default_account = decls.default_account or (decls.accounts[0].name if decls.accounts else None)
        self.counters = {c.name: c for c in decls.counters}
        self.series = {c.name: c for c in decls.coupons}
        self.shared_codes = {c.text: c for c in decls.coupons if c.code == "shared"}
        self.used_series = {c.state.coupon for c in bundle.campaigns if c.state.coupon is not None}
        self.certificate_skus: dict[str, CertificateSeries] = {}
        for series in decls.certificates:
            for sku in sorted(series.skus):
                self.certificate_skus.setdefault(sku, series)
        self.campaigns: dict[str, CampaignState] = {c.name: c.state for c in bundle.campaigns}
        self.gated = frozenset(c.index for c in bundle.campaigns
                               if c.state.coupon is not None or c.state.usage_limit is not None
                               or c.state.budget is not None or c.state.reward is not None
                               or bool(c.state.redemptions) or c.state.discount_cap is not None)
        self.rewards = {c.name: c.state.reward for c in bundle.campaigns if c.state.reward is not None}
        # what a receipt's ``finish`` may have to do: the steps none of the campaigns asks for are skipped
        self.usage_limited = any(c.state.usage_limit is not None for c in bundle.campaigns)
        self.discount_capped = any(c.state.discount_cap is not None for c in bundle.campaigns)
        self.budgeted = any(c.state.budget is not None for c in bundle.campaigns)
        self.redemption_limited = any(c.state.redemptions for c in bundle.campaigns)
        levels = decls.tiers.levels if decls.tiers is not None else ()
        self.tier_names = [level.name for level in levels]  # what a receipt's tier check reads, made once
        self.tier_thresholds = tuple(level.threshold for level in levels)
        self.tier_rank: dict[str | None, int] = {}
        for i, name in enumerate(self.tier_names):
            self.tier_rank.setdefault(name, i)
        # An outcome's per-line detail: its payment record's ``lines`` and the ``lines`` of the lots,
        # counters and qualification it makes, which only a return of the receipt (and its JSON) reads.
        # Off (the simulator's own copy, for a receipt no return refers to): the record's lines are
        # None and those changes have none; every figure, check and state write is the same.
        self.detail = True

    # -------------------------------------------------------------------------------- conversions
    def money_of(self, points: int) -> int:
        """What points pay: ⌊points × value / 10^points_minor⌋ (floor: no fraction of money is made)."""
        return points * self.point_value // self.points_scale

    def points_for(self, money: int) -> int:
        """Points that pay ``money``: ⌈money × 10^points_minor / value⌉ (ceil: no fraction of a point is
        lost)."""
        return ceil_div(money * self.points_scale, self.point_value)

    def local_midnight(self, day: int) -> int:
        """UTC seconds of local midnight at the start of a local date (ordinal)."""
        return local_midnight(day, self.zone)

    def expiry(self, expiry: Expiry, utc: int, day: int | None = None) -> int | None:
        """When something made at ``utc`` (local date ``day``, when known) expires (None: never)."""
        return expiry_time(expiry, utc, self.zone, day)

    def lot_expiry(self, decl: Account, utc: int, day: int) -> int | None:
        """When a lot made in the account at ``utc`` (local date ``day``) expires (``expiry``): an expiry at
        the end of a period is the same for every lot of a day, remembered per account and day."""
        if decl.expiry.kind != "end_of":
            return self.expiry(decl.expiry, utc, day)
        key = (decl.name, day)
        found = self._ends.get(key, _UNKNOWN)
        if found is _UNKNOWN:
            if len(self._ends) > 4096:
                self._ends.clear()
            found = self._ends[key] = self.expiry(decl.expiry, utc, day)
        return found  # type: ignore[return-value]

    def account_for(self, campaign: str | None) -> str | None:
        if campaign is None:
            return self.default_account
        state = self.campaigns.get(campaign)
        return (state.account if state is not None else None) or self.default_account

    def open(self, receipt_id: str, state: CustomerState | None, view: CustomerView, utc: int, lines: Sequence[Line],
             coupons: Sequence[str], budgets: Mapping[str, int] | None, expired: Sequence[str] = (),
             rewards: Sequence[str] = (), stock: Mapping[str, int] | None = None,
             redemptions: Mapping[str, int] | None = None, store: str | None = None, held: int = 0) -> Session:
        """A receipt's session on a state already advanced to ``utc`` (None: anonymous) and its view;
        ``expired``: coupon codes that advancing to ``utc`` just took away; ``redemptions``: the uses of
        programme-wide usage limits so far (runtime/redemptions.py), ``store`` the receipt's; ``held``: the
        points other open sessions hold (``Engine.evaluate``), not available to the payment."""
        return Session(self, receipt_id, state, view, utc, lines, coupons, budgets, expired, rewards, stock,
                       redemptions, store, held)


