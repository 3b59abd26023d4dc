"""The AST: what both front ends (.loya text and YAML) produce, and what the checker reads.

Every node is a frozen dataclass. ``span`` is excluded from equality, so a programme parsed from
.loya and the same programme parsed from YAML compare equal: that is the round-trip contract.
Literals keep their exact source text (``"1000.00"``); units and scales are the checker's business.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from loyadsl.diagnostics import Span


@dataclass(frozen=True)
class Node:
    span: Span | None = field(default=None, compare=False, repr=False, kw_only=True)


# ----------------------------------------------------------------------------------------- expressions


@dataclass(frozen=True)
class Expr(Node):
    pass


@dataclass(frozen=True)
class NumberLit(Expr):
    text: str  # "3", "2.5"


@dataclass(frozen=True)
class MoneyLit(Expr):
    amount: str  # "1000.00"
    currency: str  # "RUB" ("₽" is normalised to "RUB", "$" to "USD", "€" to "EUR" by the parser)


@dataclass(frozen=True)
class PointsLit(Expr):
    amount: str  # "100"


@dataclass(frozen=True)
class PercentLit(Expr):
    value: str  # "10", "2.5"


@dataclass(frozen=True)
class QuantityLit(Expr):
    amount: str
    unit: str  # "kg" | "units"


@dataclass(frozen=True)
class DurationLit(Expr):
    amount: int
    unit: str  # "days" | "hours" | "minutes"


@dataclass(frozen=True)
class StringLit(Expr):
    value: str


@dataclass(frozen=True)
class BoolLit(Expr):
    value: bool


@dataclass(frozen=True)
class SetLit(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Ref(Expr):
    """A dotted name: ``receipt.total``, ``customer.attr.city``, ``n_plus_one``, ``category``."""

    path: tuple[str, ...]


@dataclass(frozen=True)
class Unary(Expr):
    op: str  # "-"
    operand: Expr


@dataclass(frozen=True)
class BinOp(Expr):
    op: str  # "+", "-", "*"
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Compare(Expr):
    op: str  # "==", "!=", "<", "<=", ">", ">="
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Membership(Expr):
    """``x in S`` / ``x not in S``; ``category "dairy"`` is sugar for ``category in ["dairy"]``."""

    item: Expr
    collection: Expr
    negated: bool = False


@dataclass(frozen=True)
class BoolOp(Expr):
    op: str  # "and" | "or"
    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Not(Expr):
    operand: Expr


@dataclass(frozen=True)
class Selection(Node):
    """``lines`` (every line) or ``lines where PREDICATE``."""

    predicate: Expr | None = None


@dataclass(frozen=True)
class Aggregate(Expr):
    func: str  # "sum" (money) | "count" (lines) | "qty" (quantity) | "units" (whole units)
    selection: Selection


# ----------------------------------------------------------------------------------------- actions


@dataclass(frozen=True)
class Action(Node):
    pass


@dataclass(frozen=True)
class Target(Node):
    """``on receipt`` (selection None) or ``on lines where P``."""

    selection: Selection | None = None


@dataclass(frozen=True)
class Discount(Action):
    """``discount 10% on lines where P`` (each line, rounded per line), ``discount 10% on receipt``
    (the total, allocated), ``discount 100.00 RUB on ...`` (allocated), ``... per unit on lines``."""

    value: Expr
    target: Target
    per_unit: bool = False


@dataclass(frozen=True)
class PriceOverride(Action):
    """``price 99.90 RUB on lines where P``: the unit price becomes the value."""

    price: Expr
    selection: Selection


@dataclass(frozen=True)
class FreeUnits(Action):
    """``free 1 in 3 units of lines where P``: units sorted by price, the cheapest of each group free."""

    free: Expr
    every: Expr
    selection: Selection


@dataclass(frozen=True)
class FreeCheapest(Action):
    """``free cheapest 1 unit of lines where P``."""

    count: Expr
    selection: Selection


@dataclass(frozen=True)
class ComboPart(Node):
    name: str
    need: Expr
    selection: Selection


@dataclass(frozen=True)
class Combo(Action):
    """``combo { a: 1 of lines where P  b: 1 of lines where Q } discount 50% on b``.

    reward: "percent_on_part" (value a percent, ``part`` names the part), "amount_per_set" (money off
    each set), "set_price" (each set costs the value)."""

    parts: tuple[ComboPart, ...]
    reward: str
    value: Expr
    part: str | None = None


@dataclass(frozen=True)
class TierBranch(Node):
    op: str  # ">=" | ">"
    threshold: Expr
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class Tiers(Action):
    """``tiers receipt.total { >= 5000.00 RUB: ...  >= 2500.00 RUB: ... }``: the first met applies."""

    subject: Expr
    branches: tuple[TierBranch, ...]


@dataclass(frozen=True)
class Accrue(Action):
    """``accrue 3% on lines where P`` / ``accrue 100 points`` / ``accrue x5 of base on lines where P``.

    With ``multiplier_of`` the value is the multiplier k and the campaign pays (k - 1) times the
    named campaign's percentage as extra points."""

    value: Expr
    target: Target
    multiplier_of: str | None = None
    account: str | None = None  # ``... to promo``: the bonus account credited (else the default one)


@dataclass(frozen=True)
class CounterAdd(Action):
    """``add 1 to coffee`` / ``add units(lines where category "coffee") to coffee``: a counter or chips."""

    value: Expr
    counter: str


@dataclass(frozen=True)
class CounterSpend(Action):
    """``spend 6 from coffee``: the campaign applies only if the balance covers it."""

    value: Expr
    counter: str


@dataclass(frozen=True)
class IssueCoupon(Action):
    """``issue welcome``: one coupon of the series, for a later purchase."""

    series: str


@dataclass(frozen=True)
class UnitDiscount(Action):
    """``discount 50% on unit 2 of every 2 units of lines where P [rounded per unit|line]`` (docs/units.md).

    ``pick`` is "nth" (``unit K``, ``nth`` the K), "cheapest" or "most_expensive"; ``value`` a percentage
    or money off each picked unit; ``rounding`` "unit", "line" or None (as written: None prints nothing)."""

    value: Expr
    pick: str
    every: Expr | None  # None: one group of all the selected units (``discount 50% on cheapest unit of lines``)
    selection: Selection
    nth: Expr | None = None
    rounding: str | None = None
    price: bool = False  # ``price 1.00 RUB on unit 2 of every 2 units ...``: the picked unit costs the value


@dataclass(frozen=True)
class Gift(Action):
    """``gift "MUG1" [at 99.00 RUB]`` / ``gift one of ["MUG1", "MUG2"]`` / ``gift one of mugs``: a product
    line the till adds (docs/rewards.md); ``choice`` when written ``one of``."""

    skus: Expr  # a StringLit, or (``one of``) a SetLit or a Ref to a skus list
    choice: bool = False
    price: Expr | None = None  # money; None: free


# ----------------------------------------------------------------------------------------- clauses


@dataclass(frozen=True)
class Clause(Node):
    pass


@dataclass(frozen=True)
class GroupClause(Clause):
    group: str


@dataclass(frozen=True)
class PriorityClause(Clause):
    priority: int


@dataclass(frozen=True)
class ValidClause(Clause):
    start: dt.date | None
    end: dt.date | None


@dataclass(frozen=True)
class WeekdaysClause(Clause):
    days: tuple[str, ...]  # "mon".."sun", in the order written; ranges are expanded by the parser


@dataclass(frozen=True)
class HoursClause(Clause):
    start: dt.time
    end: dt.time  # exclusive; end <= start means the window crosses midnight


@dataclass(frozen=True)
class SetFilterClause(Clause):
    """``stores moscow`` / ``stores not ["S1"]`` / ``channels [pos, online]``."""

    kind: str  # "stores" | "channels"
    values: Expr  # a SetLit or a Ref to a list
    negated: bool = False


@dataclass(frozen=True)
class AudienceClause(Clause):
    condition: Expr


@dataclass(frozen=True)
class WhenClause(Clause):
    condition: Expr


@dataclass(frozen=True)
class ThenClause(Clause):
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class LimitClause(Clause):
    """``limit 2 per receipt`` (applications: free units, discounted units, combo sets) or
    ``max discount 500.00 RUB per receipt`` / ``max points 1000 per receipt``."""

    kind: str  # "applications" | "discount" | "points"
    value: Expr
    per: str = "receipt"  # applications also: day | week | month | quarter | year | customer (state)


@dataclass(frozen=True)
class CouponClause(Clause):
    """``coupon welcome``: the campaign applies only when a valid coupon of the series is presented."""

    series: str


@dataclass(frozen=True)
class BudgetClause(Clause):
    """``budget 100000.00 RUB`` or ``budget 1000000 points``: what the campaign may give in total."""

    value: Expr


@dataclass(frozen=True)
class RewardClause(Clause):
    """``reward 500 points [from bonus] [stock 100]``: a catalogue reward the receipt chooses, paid with
    points of the account (docs/rewards.md)."""

    points: Expr
    account: str | None = None  # None: the default account
    stock: Expr | None = None  # units over all customers; None: no limit


@dataclass(frozen=True)
class ArmRef(Node):
    """``coffee.treatment``: an arm of an experiment (docs/experiments.md)."""

    experiment: str
    arm: str


@dataclass(frozen=True)
class ArmClause(Clause):
    """``arm coffee.treatment``: the campaign runs only for customers in that arm of the experiment."""

    ref: ArmRef


@dataclass(frozen=True)
class ExclusiveClause(Clause):
    """``exclusive receipt`` (when it applies, no other campaign does) or ``exclusive lines`` (no other
    campaign discounts the lines it discounted); docs/order.md."""

    scope: str  # "receipt" | "lines"


@dataclass(frozen=True)
class RedistributeClause(Clause):
    """``redistribute floors``: what lines' floors cut off the campaign's discount goes to its other lines."""


@dataclass(frozen=True)
class RedemptionsClause(Clause):
    """``redemptions 1000``, ``redemptions 50 per store per day``: the first N uses of the campaign over
    all customers, overall or per store and/or per local day (docs/limits-fraud.md)."""

    value: Expr
    per: tuple[str, ...] = ()  # "store", "day" (in the order written)


# ----------------------------------------------------------------------------------------- declarations


@dataclass(frozen=True)
class Decl(Node):
    name: str


@dataclass(frozen=True)
class CsvSource(Node):
    path: str
    column: str


@dataclass(frozen=True)
class ListDecl(Decl):
    """``skus n_plus_one = ["A", "B"]`` or ``skus premium from "premium.csv" column "sku"``."""

    kind: str  # "skus" | "stores" | "categories" | "brands" | "channels" | "strings"
    items: tuple[str, ...] | None = None
    source: CsvSource | None = None


@dataclass(frozen=True)
class GroupDecl(Decl):
    title: str | None = None
    priority: int | None = None
    stacking: str | None = None  # stack_all | stack_up_to | first_by_priority | best_for_customer | lowest_discount
    stacking_limit: int | None = None  # N of stack_up_to
    basis: str | None = None  # original | discounted
    arm: ArmRef | None = None  # ``arm coffee.treatment``: every campaign of the group joins that arm
    order: str | None = None  # ``order declared``: campaigns apply in declaration order (priority otherwise)


@dataclass(frozen=True)
class Param(Node):
    name: str
    type_name: str  # money | points | percent | count | quantity | string | bool | skus | stores | ...


@dataclass(frozen=True)
class Arg(Node):
    name: str
    value: Expr


@dataclass(frozen=True)
class TemplateUse(Node):
    template: str
    args: tuple[Arg, ...]


@dataclass(frozen=True)
class TemplateDecl(Decl):
    params: tuple[Param, ...]
    clauses: tuple[Clause, ...]
    title: str | None = None


@dataclass(frozen=True)
class CampaignDecl(Decl):
    title: str | None
    clauses: tuple[Clause, ...]
    uses: TemplateUse | None = None


@dataclass(frozen=True)
class ExperimentArm(Node):
    """``arm treatment 45%`` or ``holdout 10%`` (named "holdout": nothing may join it)."""

    name: str
    weight: PercentLit
    holdout: bool = False


@dataclass(frozen=True)
class ExperimentDecl(Decl):
    """``experiment coffee "Coffee test" { salt "2026-q4"  arm treatment 50%  arm control 40%
    holdout 10%  anonymous control }``: arms own bucket ranges in declared order (docs/experiments.md).

    ``salt`` None: the experiment's name is the salt. ``anonymous``: the arm whose campaigns a receipt
    without a customer id gets (None: no campaign bound to this experiment); it never enters the arm."""

    title: str | None = None
    salt: str | None = None
    arms: tuple[ExperimentArm, ...] = ()
    anonymous: str | None = None


@dataclass(frozen=True)
class AssertDecl(Decl):
    """``assert max_off "No receipt gets more than 40% off" { discount <= 40% }``: a bound on every receipt
    that the compiler proves, or breaks with a witness (docs/collisions.md, "Assertions")."""

    title: str | None
    subject: str  # discount | points | line_discount (the checker says which are known)
    limit: Expr


# ----------------------------------------------------------------------------------------- state declarations
# docs/state.md: what lives between receipts. Values stay expressions (literals with units), the
# checker types and scales them.


@dataclass(frozen=True)
class ExpiryRule(Node):
    """``expiry never`` | ``expiry 365 days`` | ``expiry end of quarter`` | ``expiry end of next quarter``."""

    kind: str  # "never" | "after" | "end_of"
    duration: Expr | None = None  # a DurationLit, for "after"
    period: str | None = None  # month | quarter | year, for "end_of"
    next: bool = False  # "end of next quarter"


@dataclass(frozen=True)
class AccountDecl(Decl):
    """``account bonus "Bonuses" { activation 14 days  expiry 365 days  spend soonest_expiring
    credit 500 points  repay 50%  shortfall report  notify 7 days  default }``."""

    title: str | None = None
    activation: Expr | None = None  # duration
    expiry: ExpiryRule | None = None
    spend_order: str | None = None  # soonest_expiring | oldest_first | newest_first
    credit: Expr | None = None  # points: the account may go down to -credit
    repay: Expr | None = None  # percent of each later accrual that repays debt (default 100%)
    shortfall: str | None = None  # report | negative | other_lots: a return of points already spent
    notify: Expr | None = None  # duration: "N points burn in D days" notices
    default: bool = False


@dataclass(frozen=True)
class RedemptionDecl(Decl):
    """``redemption { accounts bonus, promo  max share 50%  min payment 1.00 RUB
    exclude lines where category "tobacco"  accrue on redeemed }``; ``name`` is always "redemption"."""

    accounts: tuple[str, ...] = ()
    max_share: Expr | None = None  # percent of the payable
    min_payment: Expr | None = None  # money left to pay in other tender
    exclude: Selection | None = None
    accrue_on_redeemed: bool = False
    steps: Expr | None = None  # points: redeemed only in whole multiples of this (docs/units.md)
    accrue: str | None = None  # ``accrue on paid`` ("paid", the default stated) | ``accrue never when redeemed`` ("never")


@dataclass(frozen=True)
class Period(Node):
    """``rolling 365 days`` | ``month`` | ``quarter`` | ``year``."""

    kind: str  # rolling | month | quarter | year
    days: Expr | None = None  # a DurationLit in days, for rolling


@dataclass(frozen=True)
class TierLevel(Node):
    """``level gold >= 30000 RUB { cashback 7%  multiplier 2 }``."""

    name: str
    threshold: Expr  # money (measure spend) or a number (measure receipts)
    benefits: tuple[Arg, ...] = ()


@dataclass(frozen=True)
class TierLadderDecl(Decl):
    """``tiers status "Status" { qualify spend over quarter  level base >= 0 RUB { ... } ... }``."""

    title: str | None
    measure: str  # spend | receipts
    period: Period
    levels: tuple[TierLevel, ...]


@dataclass(frozen=True)
class CounterDecl(Decl):
    """``counter coffee "Coffee card" { reset quarter }`` or
    ``chips stickers "Knives" { earn 1 per 500 RUB [of lines where S]  valid 2026-09-01 .. 2026-12-31 }``."""

    kind: str  # counter | chips
    title: str | None = None
    reset: str | None = None  # never | month | quarter | year
    earn: Expr | None = None  # count awarded per step
    earn_per: Expr | None = None  # money step
    earn_selection: Selection | None = None
    valid_start: dt.date | None = None  # chips: the promotion's window; chips burn after it
    valid_end: dt.date | None = None


@dataclass(frozen=True)
class CouponSeriesDecl(Decl):
    """``coupons welcome "Welcome" { code unique "WEL-"  valid 30 days  uses 1  per customer 1 }``;
    ``code shared "SUMMER25"``; ``valid 2026-06-01 .. 2026-08-31``."""

    title: str | None = None
    code_kind: str = "unique"  # unique | shared
    code: str = ""  # the prefix of unique codes, or the shared code
    valid_for: Expr | None = None  # duration after issue
    valid_start: dt.date | None = None
    valid_end: dt.date | None = None
    uses: Expr | None = None  # uses per coupon (default 1)
    per_customer: Expr | None = None  # uses of the series per customer


@dataclass(frozen=True)
class CertificateDecl(Decl):
    """``certificates gift "Gift card" { sold skus [GC500, GCFLEX]  expiry 365 days  multi use }``."""

    title: str | None = None
    skus: Expr | None = None  # a SetLit or a Ref to a skus list
    expiry: ExpiryRule | None = None
    multi_use: bool = True
    per_unit: bool = False  # `per unit`: a certificate per whole unit sold (docs/rewards.md)


@dataclass(frozen=True)
class ReferralDecl(Decl):
    """``referral { qualify 500.00 RUB  referrer 300 points [to bonus]  newcomer 200 points [to bonus] }``;
    ``name`` is always "referral"."""

    qualify: Expr | None = None  # money: the least payable of the first purchase
    referrer: Expr | None = None  # points
    referrer_account: str | None = None
    newcomer: Expr | None = None
    newcomer_account: str | None = None


@dataclass(frozen=True)
class Import(Node):
    path: str  # "std:n_plus_one" (stdlib_mechanics/n_plus_one.loya) or a path relative to the file


@dataclass(frozen=True)
class Rounding(Node):
    target: str  # "discount" | "points"
    mode: str  # floor | ceil | half_up | half_even


@dataclass(frozen=True)
class FraudSetting(Node):
    """A programme header's anti-fraud limit: ``max points 5000 per day`` (kind points),
    ``max receipts 10 per day`` (receipts), ``velocity 3 per 10 minutes`` (velocity)."""

    kind: str  # points | receipts | velocity
    value: Expr
    per: str | None = None  # points, receipts: receipt | day | week | month | year
    window: Expr | None = None  # velocity: a duration


@dataclass(frozen=True)
class StaffRule(Node):
    """``staff segment "employees"`` / ``staff attr "employee"``: who is staff (no points for staff)."""

    by: str  # segment | attr
    value: str


@dataclass(frozen=True)
class PartnerRule(Node):
    """``partner fuelco rate 50% price 0.80 RUB``: receipts of channel ``fuelco`` earn at the rate; the
    points earned and spent there are settled with the partner at the price per point."""

    name: str
    rate: Expr
    price: Expr


@dataclass(frozen=True)
class Header(Node):
    name: str
    version: str | None = None
    currency: str | None = None
    minor: int | None = None
    points_minor: int | None = None
    point_value: MoneyLit | None = None
    timezone: str | None = None
    rounding: tuple[Rounding, ...] = ()
    allocation: str | None = None  # largest_remainder | largest_line
    tax: TaxSetting | None = None  # docs/commerce.md
    totals: TotalsSetting | None = None  # the line kinds receipt.total counts
    fraud: tuple[FraudSetting, ...] = ()  # anti-fraud limits (docs/limits-fraud.md)
    people: tuple[StaffRule | PartnerRule, ...] = ()  # staff and partners (docs/limits-fraud.md)


@dataclass(frozen=True)
class TaxSetting(Node):
    """``tax included|excluded [RATE] [basis gross|net]`` (docs/commerce.md)."""

    prices: str
    rate: PercentLit | None = None
    basis: str | None = None


@dataclass(frozen=True)
class TotalsSetting(Node):
    """``totals goods, delivery``: the line kinds ``receipt.total`` counts (docs/commerce.md)."""

    kinds: tuple[str, ...]


@dataclass(frozen=True)
class Module(Node):
    """One source file. ``header`` is required in the main file and absent in imported ones."""

    header: Header | None
    imports: tuple[Import, ...]
    decls: tuple[Decl, ...]


# ----------------------------------------------------------------------------------------- profile and segments
# docs/segments.md: typed profile fields, lifecycle thresholds, scores with bins, segments, and calls
# of the history functions (``spend(90 days)``, ``bought(category "coffee", 90 days)``, ``age(...)``).


@dataclass(frozen=True)
class Call(Expr):
    """``NAME(args)``: a history or profile function (``spend(90 days)``, ``recency()``, ``filled(...)``)."""

    func: str
    args: tuple[Expr, ...] = ()


@dataclass(frozen=True)
class ProfileField(Node):
    name: str
    type: str  # date | dates | string | bool | count | one_of
    options: tuple[str, ...] = ()  # one_of


@dataclass(frozen=True)
class ProfileDecl(Decl):
    """``profile { birth_date date  gender one_of ["f", "m"]  favourite_store string }`` (name: ``profile``)."""

    fields: tuple[ProfileField, ...] = ()


@dataclass(frozen=True)
class LifecycleStage(Node):
    stage: str  # new | active | sleeping
    days: Expr


@dataclass(frozen=True)
class LifecycleDecl(Decl):
    """``lifecycle { new 30 days  active 90 days  sleeping 365 days }`` (name: ``lifecycle``)."""

    stages: tuple[LifecycleStage, ...] = ()


@dataclass(frozen=True)
class ScoreBin(Node):
    score: int
    low: Expr | None = None  # None: open below
    high: Expr | None = None  # None: open above


@dataclass(frozen=True)
class ScoreDecl(Decl):
    """``score recency "R" { of recency()  bin 5: 0 .. 30  bin 1: 366 .. }``: bins inclusive, ascending."""

    title: str | None = None
    of: Expr | None = None
    bins: tuple[ScoreBin, ...] = ()


@dataclass(frozen=True)
class SegmentDecl(Decl):
    """``segment sleeping "Sleeping" { when lifecycle.sleeping and ltv() >= 5000 RUB }``."""

    title: str | None = None
    when: Expr | None = None
# ----------------------------------------------------------------------------------------- triggers (docs/triggers.md)


@dataclass(frozen=True)
class TriggerOn(Node):
    """What starts a chain: ``on first purchase``, ``on purchase number 3 items 5 skus [...]``, ``on birthday
    before 3 days``, ``on child birthday``, ``on registration``, ``on segment entered vip``, ``on tier changed
    to gold``, ``on accrual``, ``on redemption``, ``on points expiring``, ``on profile filled email``,
    ``on no purchase for 60 days``. ``kind`` is the event's (spec.EVENTS; ``first purchase`` is a purchase
    with ``number`` 1, printed as written)."""

    kind: str
    first: bool = False
    number: int | None = None
    items: int | None = None
    skus: Expr | None = None
    shift: DurationLit | None = None
    before: bool = False
    child: bool = False
    name: str | None = None  # segment, tier level (``to``), profile field
    idle: DurationLit | None = None


@dataclass(frozen=True)
class MessageSend(Node):
    """``push "text {{ balance }}"``: a channel and its template's source text."""

    channel: str
    text: str


@dataclass(frozen=True)
class TriggerAction(Node):
    """``accrue 100 points [to bonus]``, ``issue welcome``, ``add 1 to visits``, ``send push "..." else sms
    "..."`` (the cascade: each next channel when the one before was not delivered)."""

    kind: str  # accrue | issue | add | send
    amount: Expr | None = None
    target: str | None = None
    sends: tuple[MessageSend, ...] = ()


@dataclass(frozen=True)
class TriggerStep(Node):
    """``step [after 3 days] [if no purchase | if purchase] { actions }``."""

    after: DurationLit | None
    condition: str | None  # no_purchase | purchase
    actions: tuple[TriggerAction, ...]


@dataclass(frozen=True)
class TriggerSetting(Node):
    """``exit on purchase``, ``window 30 days``, ``cap 2 per 7 days``, ``quiet 22:00 .. 09:00``."""

    word: str
    count: int | None = None
    duration: DurationLit | None = None
    start: dt.time | None = None
    end: dt.time | None = None
    exit: TriggerOn | None = None  # word `exit_on`: `exit on coupon redeemed | segment left vip | ...`


@dataclass(frozen=True)
class TriggerDecl(Decl):
    """``trigger NAME ["title"] { on ...  settings and steps in any order }``."""

    title: str | None
    on: TriggerOn
    settings: tuple[TriggerSetting, ...] = ()
    steps: tuple[TriggerStep, ...] = ()


@dataclass(frozen=True)
class MessageClause(Clause):
    """``message receipt "You earned {{ accrued }} points"``: a campaign's message for the receipt or the
    cashier's screen when it applies (docs/triggers.md, "Messages")."""

    channel: str
    text: str


# ----------------------------------------------------------------------------------------- offer strategies


@dataclass(frozen=True)
class StrategySetting(Node):
    """``NAME value`` in a strategy or an offer (docs/offers.md): an expression (``10%``, ``14 days``,
    ``due``, ``["COFFEE"]``, ``"text"``), or ``pairs`` for ``coupon { COFFEE: coffee_10 }``."""

    key: str
    value: Expr | None = None
    pairs: tuple[tuple[str, str], ...] | None = None


@dataclass(frozen=True)
class OfferTemplate(Node):
    """``offer NAME { settings }`` inside a strategy."""

    name: str
    settings: tuple[StrategySetting, ...] = ()


@dataclass(frozen=True)
class StrategyDecl(Decl):
    """``strategy NAME ["title"] { settings  offer NAME { ... } ... }``: who gets which personal offer
    (docs/offers.md); checked by ``loyadsl/offers/strategy_loya.py``."""

    title: str | None
    settings: tuple[StrategySetting, ...] = ()
    offers: tuple[OfferTemplate, ...] = ()
