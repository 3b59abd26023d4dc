"""The typed IR: what the checker produces and what codegen and the analyses read.

Values are already scaled to integers (money in minor units, percent in millionths, ...), names are
resolved, templates expanded. Each campaign keeps its window, filters and conditions as data, next
to the code, so analyses can reason about it without running it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from loyadsl.check.types import Type
from loyadsl.diagnostics import Span
from loyadsl.runtime.bundle_types import FraudLimits, People
from loyadsl.runtime.commerce import Commerce
from loyadsl.runtime.declarations import (
    Account,
    Budget,
    CatalogueReward,
    CertificateSeries,
    CouponSeries,
    RedemptionLimit,
    Referral,
    Tiers,
    UsageLimit,
)
from loyadsl.runtime.experiments import Arm
from loyadsl.runtime.opcodes import Op
from loyadsl.runtime.segments.decls import Lifecycle, Metric, ProfileField, Score
from loyadsl.runtime.triggers.spec import Send, Trigger

Value = int | str | bool | frozenset[str]


@dataclass(frozen=True)
class IExpr:
    type: Type


@dataclass(frozen=True)
class Const(IExpr):
    value: Value


@dataclass(frozen=True)
class Load(IExpr):
    """A field of the receipt, the customer or the current line (``source``: receipt|customer|line)."""

    source: str
    field: str


@dataclass(frozen=True)
class LoadAttr(IExpr):
    source: str  # customer | line
    name: str


@dataclass(frozen=True)
class Arith(IExpr):
    op: Op  # ADD SUB MUL MIN MAX
    left: IExpr
    right: IExpr


@dataclass(frozen=True)
class Neg(IExpr):
    operand: IExpr


@dataclass(frozen=True)
class MulDiv(IExpr):
    """round(left * right / denominator) by ``mode``: money x percent, money x quantity."""

    left: IExpr
    right: IExpr
    denominator: int
    mode: str


@dataclass(frozen=True)
class Cmp(IExpr):
    op: Op  # EQ NE LT LE GT GE
    left: IExpr
    right: IExpr


@dataclass(frozen=True)
class In(IExpr):
    item: IExpr
    collection: IExpr
    op: Op  # IN | CATEGORY_IN | SUBSET_ANY


@dataclass(frozen=True)
class NotE(IExpr):
    operand: IExpr


@dataclass(frozen=True)
class Logic(IExpr):
    op: Op  # AND | OR
    operands: tuple[IExpr, ...]


@dataclass(frozen=True)
class Agg(IExpr):
    func: Op  # SUM COUNT QTY UNITS
    predicate: IExpr  # a bool expression over the line


@dataclass(frozen=True)
class StateLoad(IExpr):
    """A value of the customer's state before the receipt: ``counter.NAME`` / ``chips.NAME``
    (COUNTER), ``balance.ACCOUNT`` (BALANCE), ``tier.BENEFIT`` (BENEFIT)."""

    op: Op  # COUNTER | BALANCE | BENEFIT
    name: str


# ----------------------------------------------------------------------------------------- actions


@dataclass(frozen=True)
class IAction:
    span: Span | None = field(default=None, compare=False, kw_only=True)


@dataclass(frozen=True)
class Reward(IAction):
    """One reward instruction: ``op`` is an action opcode, ``args`` its stack operands in order."""

    op: Op
    predicate: IExpr
    args: tuple[IExpr, ...]


@dataclass(frozen=True)
class ComboReward(IAction):
    parts: tuple[tuple[IExpr, int], ...]  # (line predicate, units needed)
    reward: str  # percent_on_part | amount_per_set | set_price
    part: int | None
    value: IExpr


@dataclass(frozen=True)
class StateAction(IAction):
    """A request on the customer's state: ADD_COUNTER / SPEND_COUNTER (value: a count), ISSUE_COUPON."""

    op: Op
    name: str  # the counter or coupon series
    value: IExpr | None = None
    skus: frozenset[str] | None = None  # GIFT: the SKUs to choose one of (its value: the price); docs/rewards.md


@dataclass(frozen=True)
class TierChoice(IAction):
    subject: IExpr
    branches: tuple[tuple[Op, IExpr, tuple[IAction, ...]], ...]  # (GE|GT, threshold, actions)


def flat_actions(actions: Iterable[IAction]) -> Iterator[IAction]:
    """Every action, those in a tier choice's branches included (depth first, in source order)."""
    for a in actions:
        yield a
        if isinstance(a, TierChoice):
            for _, _, inner in a.branches:
                yield from flat_actions(inner)


# ----------------------------------------------------------------------------------------- programme


@dataclass(frozen=True)
class SetFilter:
    negated: bool
    values: frozenset[str]


@dataclass(frozen=True)
class ICampaign:
    name: str
    title: str | None
    group: int
    priority: int
    order: int
    dates: tuple[int, int] | None  # inclusive ordinals
    weekdays: tuple[int, ...] | None
    hours: tuple[int, int] | None  # seconds, [start, end)
    stores: SetFilter | None
    channels: SetFilter | None
    audience: IExpr | None
    condition: IExpr | None
    actions: tuple[IAction, ...]
    limit_applications: int | None
    max_discount: int | None
    max_points: int | None
    multiplier_base: str | None
    span: Span | None
    account: str | None = None  # where its accruals go (the default account without `to`)
    coupon: str | None = None  # the series a presented coupon must belong to
    usage_limit: UsageLimit | None = None  # `limit N per day..customer`
    budget: Budget | None = None
    arm: ArmGate | None = None  # `arm coffee.treatment` (on the campaign or its group)
    exclusive: str | None = None  # `exclusive receipt|lines` (docs/order.md)
    redistribute: bool = False  # `redistribute floors`
    reward: CatalogueReward | None = None  # `reward 500 points from bonus stock 100`: a catalogue reward (docs/rewards.md)
    redemptions: tuple[RedemptionLimit, ...] = ()  # `redemptions N [per store] [per day]`
    discount_cap: tuple[str, int] | None = None  # `max discount MONEY per PERIOD` (per customer)


@dataclass(frozen=True)
class ArmGate:
    """The campaign runs only for customers in one of ``arms`` of the experiment (docs/experiments.md)."""

    experiment: str
    arms: tuple[str, ...]  # in the experiment's declared order


@dataclass(frozen=True)
class IExperiment:
    """An experiment: arms (the holdout among them, named "holdout") own buckets in declared order."""

    name: str
    title: str | None
    salt: str
    arms: tuple[Arm, ...]  # weights in basis points, summing to BUCKETS
    holdout: bool  # whether the arm named "holdout" is the holdout
    anonymous: str | None  # the arm whose campaigns anonymous receipts get (None: none of them)


@dataclass(frozen=True)
class IGroup:
    name: str
    title: str | None
    priority: int
    stacking: str
    stacking_limit: int | None
    basis: str
    order: str = "priority"  # or "declared" (docs/order.md)


@dataclass(frozen=True)
class Settings:
    currency: str
    minor: int
    points_minor: int
    point_value: int  # money minor units per point (in point minor units x 10^points_minor)
    timezone: str
    rounding_discount: str
    rounding_points: str
    allocation: str
    commerce: Commerce | None = None  # line kinds and tax (docs/commerce.md); None: not declared
    fraud: FraudLimits | None = None  # the header's anti-fraud limits
    people: People | None = None  # the header's staff rule and partners


# ----------------------------------------------------------------------------------------- state
# Declarations without code are the runtime's own types (runtime/declarations.py), so what the
# writer emits and what the loader reads are the same values; those holding a line selection keep
# it as an expression until codegen puts it in the predicate table.


@dataclass(frozen=True)
class IRedemption:
    accounts: tuple[str, ...]
    max_share: int  # ppm
    min_payment: int  # money
    exclude: IExpr | None  # lines that may not be paid by points
    accrue_on_redeemed: bool
    steps: int = 1  # points (in point minor units) are redeemed in whole multiples of this (docs/units.md)
    earn_with_burn: bool = True  # False: `accrue never when redeemed` (docs/order.md)


@dataclass(frozen=True)
class IEarn:
    count: int
    per: int  # money step
    predicate: IExpr  # lines whose payable counts


@dataclass(frozen=True)
class ICounter:
    name: str
    title: str | None
    kind: str  # counter | chips
    reset: str
    earn: IEarn | None
    valid: tuple[int, int] | None


@dataclass(frozen=True)
class IState:
    accounts: tuple[Account, ...] = ()
    default_account: str | None = None
    redemption: IRedemption | None = None
    tiers: Tiers | None = None
    counters: tuple[ICounter, ...] = ()
    coupons: tuple[CouponSeries, ...] = ()
    certificates: tuple[CertificateSeries, ...] = ()
    referral: Referral | None = None
    segments: ISegments | None = None  # docs/segments.md


@dataclass(frozen=True)
class SourceFile:
    path: str  # relative to the main file's folder (or std:NAME)
    sha256: str


@dataclass(frozen=True)
class IAssert:
    """``assert NAME { SUBJECT <= LIMIT }`` (docs/collisions.md, "Assertions"): ``unit`` is the limit's type
    (percent in millionths, money in minor units, points in point minor units)."""

    name: str
    title: str | None
    subject: str  # discount | points | line_discount
    unit: str  # percent | money | points
    limit: int
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Programme:
    name: str
    version: str | None
    settings: Settings
    groups: tuple[IGroup, ...]
    campaigns: tuple[ICampaign, ...]
    sources: tuple[SourceFile, ...]
    state: IState = field(default_factory=IState)
    experiments: tuple[IExperiment, ...] = ()
    asserts: tuple[IAssert, ...] = ()  # checked by loyadsl/analysis/bounds.py, not part of the bundle
    triggers: tuple[Trigger, ...] = ()  # docs/triggers.md
    messages: tuple[tuple[str, tuple[Send, ...]], ...] = ()  # campaign -> its till messages (docs/triggers.md)


# ----------------------------------------------------------------------------------------- segments (docs/segments.md)


@dataclass(frozen=True)
class ISegments:
    """Profile fields, the purchase history kept (``horizon`` days of buckets, ``tracks``: line
    selections by their text), the metrics code reads, lifecycle, scores and segments (name, title,
    condition over the customer)."""

    profile: tuple[ProfileField, ...]
    horizon: int
    tracks: tuple[tuple[str, IExpr], ...]
    metrics: tuple[Metric, ...]
    lifecycle: Lifecycle | None
    scores: tuple[Score, ...]
    segments: tuple[tuple[str, str | None, IExpr], ...]
