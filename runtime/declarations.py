"""The programme's state declarations as the runtime reads them (docs/state.md, "Bundle").

Plain frozen data: ``bundle.load_bundle`` builds them from the payload's ``"state"`` section after
validating it, the ledger (``state``, ``ledger``) reads them. Units as in the bundle: durations in
seconds, money in minor units, points in point minor units, percentages in ppm, dates as ordinals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .segments.decls import SegmentDecls

PERIODS = ("day", "week", "month", "quarter", "year")
RESETS = ("never", "month", "quarter", "year")
SPEND_ORDERS = ("soonest_expiring", "oldest_first", "newest_first")
SHORTFALL_POLICIES = ("report", "negative", "other_lots")


@dataclass(frozen=True, slots=True)
class Expiry:
    kind: str  # never | after | end_of
    seconds: int = 0  # for after
    period: str | None = None  # month | quarter | year, for end_of
    next: bool = False  # end of the *next* period


NEVER = Expiry("never")


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    title: str | None = None
    activation: int = 0
    expiry: Expiry = NEVER
    spend: str = "soonest_expiring"
    credit: int = 0  # the account may go down to -credit
    repay: int = 1_000_000  # ppm of each later accrual that repays debt
    shortfall: str = "report"
    notify: int = 0  # seconds before expiry when "points burn soon" notices start (0: none)


@dataclass(frozen=True, slots=True)
class Redemption:
    accounts: tuple[str, ...]
    max_share: int = 1_000_000  # ppm of the eligible payable
    min_payment: int = 0  # money left for other tender
    exclude: int | None = None  # predicate index: lines that may not be paid by points
    accrue_on_redeemed: bool = False
    steps: int = 1  # points are redeemed in whole multiples of this, point minor units (docs/units.md)
    earn_with_burn: bool = True  # False: a receipt that redeems points accrues none (docs/order.md)


@dataclass(frozen=True, slots=True)
class TierPeriod:
    kind: str  # rolling | month | quarter | year
    days: int | None = None  # for rolling


@dataclass(frozen=True, slots=True)
class Level:
    name: str
    threshold: int  # money (spend) or count (receipts)
    benefits: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Tiers:
    name: str
    title: str | None
    measure: str  # spend | receipts
    period: TierPeriod
    levels: tuple[Level, ...]  # ascending thresholds, the first is the entry level


@dataclass(frozen=True, slots=True)
class Earn:
    count: int  # awarded per step
    per: int  # money step
    predicate: int  # lines whose payable counts


@dataclass(frozen=True, slots=True)
class Counter:
    name: str
    title: str | None = None
    kind: str = "counter"  # counter | chips
    reset: str = "never"
    earn: Earn | None = None
    valid: tuple[int, int] | None = None  # chips: promotion window (inclusive ordinals); burn after


@dataclass(frozen=True, slots=True)
class CouponSeries:
    name: str
    title: str | None = None
    code: str = "unique"  # unique | shared
    text: str = ""  # prefix of unique codes, or the shared code
    valid_for: int | None = None  # seconds after issue
    valid: tuple[int, int] | None = None  # inclusive local date ordinals
    uses: int = 1
    per_customer: int | None = None


@dataclass(frozen=True, slots=True)
class CertificateSeries:
    name: str
    title: str | None = None
    skus: frozenset[str] = frozenset()
    expiry: Expiry = NEVER
    multi_use: bool = True
    per_unit: bool = False  # one certificate per whole unit sold (else one per line); docs/rewards.md


@dataclass(frozen=True, slots=True)
class Referral:
    qualify: int = 0
    referrer: int = 0
    referrer_account: str | None = None
    newcomer: int = 0
    newcomer_account: str | None = None


@dataclass(frozen=True, slots=True)
class UsageLimit:
    count: int
    per: str  # day | week | month | quarter | year | customer


@dataclass(frozen=True, slots=True)
class Budget:
    kind: str  # money | points
    amount: int


@dataclass(frozen=True, slots=True)
class RedemptionLimit:
    """``redemptions COUNT [per store] [per day]``."""

    count: int
    store: bool = False
    day: bool = False

    @property
    def scope(self) -> str:
        parts = [p for p, on in (("per store", self.store), ("per day", self.day)) if on]
        return " ".join(parts) or "overall"

    def to_dict(self) -> dict[str, int | bool]:
        return {"count": self.count, "store": self.store, "day": self.day}


@dataclass(frozen=True, slots=True)
class StateDecls:
    """Everything the programme declares about state; empty when it declares nothing."""

    accounts: tuple[Account, ...] = ()
    default_account: str | None = None
    redemption: Redemption | None = None
    tiers: Tiers | None = None
    counters: tuple[Counter, ...] = ()
    coupons: tuple[CouponSeries, ...] = ()
    certificates: tuple[CertificateSeries, ...] = ()
    referral: Referral | None = None
    segments: SegmentDecls | None = None  # docs/segments.md

    @property
    def empty(self) -> bool:
        return not (self.accounts or self.redemption or self.tiers or self.counters or self.coupons
                    or self.certificates or self.referral or self.segments)

    def account(self, name: str) -> Account:
        return next(a for a in self.accounts if a.name == name)

    def counter(self, name: str) -> Counter:
        return next(c for c in self.counters if c.name == name)


@dataclass(frozen=True, slots=True)
class CatalogueReward:
    """A campaign that is a catalogue reward (docs/rewards.md): the receipt chooses it, it costs ``points``
    from ``account`` and, with a ``stock``, is given at most that many times over all customers."""

    account: str
    points: int
    stock: int | None = None


@dataclass(frozen=True, slots=True)
class CampaignState:
    """What one campaign declares about state (``Campaign.state`` in the bundle)."""

    account: str | None = None
    coupon: str | None = None
    usage_limit: UsageLimit | None = None
    budget: Budget | None = None
    reward: CatalogueReward | None = None  # a catalogue reward (docs/rewards.md)
    redemptions: tuple[RedemptionLimit, ...] = ()  # `redemptions N [per store] [per day]` (programme-wide)
    discount_cap: tuple[str, int] | None = None  # `max discount MONEY per PERIOD`: (period, money) per customer


NO_CAMPAIGN_STATE = CampaignState()
NO_STATE = StateDecls()
