"""The report contracts as pydantic models (issue 16, item 2): the `loya simulate -f json` report
(docs/simulate.md), the `loya diff -f json` comparison (docs/simulate.md), the `loya collisions -f json`
matrix (docs/collisions.md), and the `loya ab assign -f json` table and `loya ab report -f json`
analysis (docs/experiments.md). ``loyadsl.schemas`` turns them into the JSON
Schemas under docs/schemas/; ``validate_report`` checks a document against one, naming the path.

The reports are outputs: a reader must ignore keys it does not know (a section another feature adds,
as ``experiments``, ``flags`` or ``settlement`` only appear when the programme declares them), so the
models allow extra keys and type every key they name. Money is integer minor units, shares ppm,
ratios decimal strings ("12.34"), dates ISO strings.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, TypeAdapter, ValidationError

Count = int  # a number of things (receipts, customers, units in thousandths)
Money = int  # minor units
Ratio = str  # a decimal written as text, e.g. "12.34"


class _Open(BaseModel):
    """A report object: its named keys are typed, others are allowed (a newer report may add them)."""

    model_config = ConfigDict(extra="allow", strict=True)


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# ------------------------------------------------------------------------------------ simulation report


class Programme(_Open):
    name: str
    version: str | None
    digest: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")
    currency: str | None
    minor: int = Field(ge=0)
    points_minor: int = Field(ge=0)


class Input(_Open):
    """What was read: receipts read, simulated, quarantined, skipped; returns; customers; the run's shape."""

    read: Count = Field(ge=0)
    simulated: Count = Field(ge=0)
    quarantined: Count = Field(ge=0)
    skipped: Count = Field(ge=0)
    returns: Count = Field(ge=0)
    customers: Count = Field(ge=0)
    anonymous: Count = Field(ge=0)
    first: str | None
    last: str | None
    line_attributes: dict[str, Count]


class Totals(_Open):
    turnover: Money
    revenue: Money
    receipts: Count = Field(ge=0)
    units: Count
    lines: Count
    receipts_with_card: Count = Field(ge=0)
    discount: Money
    points_accrued: int
    points_redeemed: int
    points_expired: int
    points_returned: int
    coupons_issued: Count
    coupons_redeemed: Count
    active_customers: Count
    liability: int
    card_share_ppm: int
    average_receipt: Ratio
    frequency: Ratio
    items_per_receipt: Ratio
    average_item_price: Ratio
    cost: Money
    cost_share_ppm: int


class CampaignRow(_Open):
    name: str
    group: str
    receipts: Count = Field(ge=0)
    participants: Count = Field(ge=0)
    turnover: Money
    units: Count
    discount: Money
    points_accrued: int
    points_expired: int
    points_returned: int
    coupons_issued: Count
    coupons_redeemed: Count
    revenue: Money
    cost: Money
    cost_share_ppm: int
    return_on_cost: Ratio | None


class Collision(_Open):
    """Receipts on which campaigns of one group were eligible together, and who won them."""

    group: str
    campaigns: list[str]
    receipts: Count
    won: dict[str, Count]


class Week(_Open):
    start: str
    receipts: Count
    revenue: Money
    discount: Money
    points_accrued: int
    points_redeemed: int
    points_expired: int
    liability: int
    tiers: dict[str, Count]


class Series(_Open):
    period: Literal["week"]
    points: list[Week]


class Budget(_Open):
    campaign: str
    kind: str
    amount: int
    given: int
    left: int
    exhausted_on: str | None
    exhausted_by: str | None


class LimitRow(_Open):
    """A stocked reward or a usage-limit count (per store and local day, as its scope says) that was used."""

    kind: str
    campaign: str
    store: str | None
    day: str | None
    amount: int
    used: int
    left: int
    exhausted_by: str | None


class Requests(_Open):
    requests: Count
    outcomes: dict[str, Count]
    reasons: dict[str, Count]


class SplitRow(_Open):
    key: str
    receipts: Count
    turnover: Money
    revenue: Money
    discount: Money
    points: int
    cost: Money
    cost_share_ppm: int


class BurnMonth(_Open):
    month: str
    points: int


class Assertion(_Open):
    expr: str
    ok: bool
    value: Any
    expected: Any
    detail: str


class Arm(_Open):
    name: str
    weight_bp: int
    share_ppm: int
    customers: Count
    receipts: Count
    revenue: Money
    discount: Money
    points: int
    cost: Money


class Experiment(_Open):
    """One experiment: its arms' sums and one row a customer in the order of ``customer_fields``."""

    name: str
    salt: str
    anonymous_receipts: Count
    arms: list[Arm]
    customer_fields: list[str]
    customers: list[list[str | int]]


class TriggerRow(_Open):
    trigger: str
    title: str | None
    event: str
    window_days: int
    entered: Count
    came_back: Count
    coupons_issued: Count
    coupons_redeemed: Count
    points: int
    cost: Money
    came_back_ppm: int
    messages: dict[str, Count]


class Flag(_Open):
    flag: str
    receipts: Count


class Settlement(_Open):
    partner: str
    rate_ppm: int
    price: Money
    receipts: Count
    points_earned: int
    points_spent: int
    billed: Money
    owed: Money
    net: Money


class SimulationReport(_Open):
    """`loya simulate -f json`: a replay's figures (docs/simulate.md, "The report")."""

    kind: Literal["simulation"]
    programme: Programme
    input: Input
    totals: Totals
    campaigns: list[CampaignRow]
    collisions: list[Collision]
    series: Series
    budgets: list[Budget]
    limits: list[LimitRow] | None = None
    requests: dict[str, Requests]
    splits: dict[str, list[SplitRow]]
    burn_forecast: list[BurnMonth]
    assumptions: list[str]
    assertions: list[Assertion]
    experiments: list[Experiment] | None = None
    triggers: list[TriggerRow] | None = None
    flags: list[Flag] | None = None
    settlement: list[Settlement] | None = None


# ------------------------------------------------------------------------------------ collisions


class Resolution(_Open):
    """How the groups resolved the witness receipt: who applied, who lost to stacking, the totals."""

    applied: list[str]
    lost: list[str]
    discount_total: Money
    points_total: int


class Witness(_Open):
    """A receipt (docs/schemas/receipt.schema.json) and customer on which both campaigns fire."""

    receipt: dict[str, Any]
    customer: dict[str, Any] | None


class Verdict(_Open):
    a: str
    b: str
    answer: Literal["disjoint", "meet", "unknown"]
    reason: str | None = None
    witness: Witness | None = None
    resolution: Resolution | None = None


class Span(_Closed):
    file: str
    line: int = Field(ge=1)
    col: int = Field(ge=1)
    end_line: int = Field(ge=1)
    end_col: int = Field(ge=1)


class Finding(_Open):
    """A diagnostic (LOY310: always shadowed, LOY311: never fires), as `loya check -f json` writes them."""

    code: str = Field(pattern=r"^LOY[0-9]{3}$")
    severity: Literal["error", "warning"]
    message: str
    span: Span | None
    hint: str | None
    notes: list[str]


class CollisionsReport(_Open):
    """`loya collisions -f json`: one verdict per pair of campaigns (docs/collisions.md)."""

    programme: str
    pairs: list[Verdict]
    findings: list[Finding] | None = None


# ------------------------------------------------------------------------------------ A/B


class Assignment(_Closed):
    customer: str
    experiment: str
    arm: str


class AbAssignments(RootModel[list[Assignment]]):
    """`loya ab assign -f json`: the arm of each customer (docs/experiments.md)."""


# ------------------------------------------------------------------------------------ diff


class Change(_Closed):
    """A figure under OLD and NEW, and NEW - OLD."""

    old: int
    new: int
    delta: int


class Changed(_Open):
    receipts: Count = Field(ge=0)
    customers: Count = Field(ge=0)


class DiffTotals(_Open):
    revenue: Change
    discount: Change
    points_accrued: Change
    points_redeemed: Change
    cost: Change
    cost_share_ppm: Change
    liability: Change
    participants: Change
    collisions: Change


class DiffCampaign(_Open):
    """A campaign of either programme; one only in one of them counts zero in the other."""

    name: str
    group: str | None
    status: Literal["added", "removed", "changed", "same"]
    receipts: Change
    participants: Change
    discount: Change
    points_accrued: Change
    cost: Change


class DiffCollision(_Open):
    campaigns: list[str]
    group: str
    receipts: Change


class CampaignsMet(_Closed):
    added: list[str]
    removed: list[str]


class DiffCustomer(_Open):
    """One of the ``top`` customers whose cost changed the most; ``receipts``: their changed receipts."""

    customer_id: str
    receipts: Count = Field(ge=0)
    discount: Change
    points_accrued: Change
    cost: Change


class DiffReceipt(_Open):
    """One of the ``top`` receipts whose cost changed the most."""

    receipt_id: str
    customer_id: str | None
    store_id: str
    datetime: str
    discount: Change
    points_accrued: Change
    cost: Change
    campaigns: CampaignsMet


class DiffRow(_Open):
    """A store, a weekday (``mon``..``sun``) or an hour (``00``..``23``) of the local time."""

    key: str
    receipts: Count = Field(ge=0)
    changed: Count = Field(ge=0)
    discount: Change
    points_accrued: Change
    cost: Change


class Breakdowns(_Open):
    store: list[DiffRow]
    weekday: list[DiffRow]
    hour: list[DiffRow]


class DiffWeek(_Open):
    start: str
    discount: Change
    points_accrued: Change
    cost: Change


class DiffSeries(_Open):
    period: Literal["week"]
    points: list[DiffWeek]


class DiffReport(_Open):
    """`loya diff -f json`: OLD and NEW replayed over one history (docs/simulate.md, "Diff JSON")."""

    kind: Literal["diff"]
    old: Programme
    new: Programme
    input: Input
    top: int = Field(ge=0)
    changed: Changed
    totals: DiffTotals
    campaigns: list[DiffCampaign]
    collisions: list[DiffCollision]
    customers: list[DiffCustomer]
    receipts: list[DiffReceipt]
    breakdowns: Breakdowns
    series: DiffSeries
    assertions: list[Assertion]


# ------------------------------------------------------------------------------------ A/B report

Stat = float | None  # a statistic; null when it is not a number (arms without variance)


class SampleRatio(_Open):
    """The sample ratio check: the arms' sizes against their weights (chi-square)."""

    chi2: Stat
    p: Stat
    ok: bool


class AbArm(_Open):
    arm: str
    customers: Count = Field(ge=0)
    receipts: Count = Field(ge=0)
    revenue: Money
    cost: Money
    revenue_per_customer: float
    average_receipt: float | None
    frequency: float


class Cuped(_Open):
    """CUPED on the pre-period covariate ``pre``: the slope and the share of variance removed."""

    theta: Stat
    variance_reduction: Stat


class Interval(_Closed):
    estimate: Stat
    low: Stat
    high: Stat


class Uplift(_Open):
    """One arm against the control: revenue per customer, and the incremental revenue net of cost."""

    arm: str
    difference: Interval
    p: Stat  # null for the bootstrap
    customers: Count
    control_customers: Count
    significant: bool
    incremental_net: Interval
    cost: Money


class AbReport(_Open):
    """`loya ab report -f json`: per-arm figures, the sample ratio check and the uplift against the
    control (docs/experiments.md)."""

    kind: Literal["ab-report"]
    control: str
    alpha: float = Field(gt=0, lt=1)
    method: Literal["welch", "bootstrap"]
    test: str
    sample_ratio: SampleRatio
    arms: list[AbArm]
    cuped: Cuped | None
    uplift: list[Uplift]


REPORTS: dict[str, type[BaseModel]] = {"simulation": SimulationReport, "collisions": CollisionsReport,
                                       "ab-assignments": AbAssignments, "diff": DiffReport,
                                       "ab-report": AbReport}


def problems(name: str, document: Any) -> list[tuple[str, str]]:
    """Every mismatch of a (parsed JSON) document with report ``name``: (path like ``totals.cost``, why)."""
    try:
        TypeAdapter(REPORTS[name]).validate_python(document)
    except ValidationError as exc:
        return [(json_path(e["loc"]), e["msg"]) for e in exc.errors()]
    return []


def json_path(loc: tuple[int | str, ...]) -> str:
    """``("campaigns", 0, "cost")`` -> ``campaigns[0].cost``."""
    out = ""
    for key in loc:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out
