"""The bundle's payload (docs/bundle.md, "The payload") as one msgspec model: the loader validates a
payload against it (LOY404, naming the JSON path of the first mismatch) and ``loya schema bundle``
prints its JSON Schema, so the schema a POS team reads and the check a till makes are one thing.

The model states the shape: sections, required keys (a key that is present but may be null has no
default), types (integers only: money in minor units, shares in ppm), ranges and the closed
vocabularies. Sections are closed (an unknown key is refused). What a shape cannot say — an index
within the bundle's predicates, groups or campaigns, a name declared twice, a sorted set, a time
zone, the bytecode's typing — the loader checks after it (``bundle.py``, LOY404 and LOY405). The
readers of ``state.segments``, ``triggers`` and ``messages`` check their references likewise.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias, TypeVar

import msgspec
import msgspec.inspect as mi

from .commerce import BASES as TAX_BASES
from .commerce import KINDS, MAX_RATE, PRICES
from .declarations import PERIODS, RESETS, SHORTFALL_POLICIES, SPEND_ORDERS
from .experiments import BUCKETS
from .limits import MAX_DATE, MAX_DURATION_DAYS, MIN_DATE
from .money import ALLOCATION_MODES
from .opcodes import COMBO_REWARDS, ROUNDING_MODES
from .segments.decls import MAX_HORIZON, MAX_TRACKS, METRIC_KINDS, PROFILE_TYPES
from .triggers.spec import CHANNELS, CONDITIONS, EVENTS, EXITS, MAX_CAP, MAX_EXITS, MAX_STEPS, MAX_TRIGGERS

STACKING_MODES = ("stack_all", "stack_up_to", "first_by_priority", "best_for_customer", "lowest_discount")
BASES = ("original", "discounted")
ORDERS = ("priority", "declared")  # a group's application order (docs/order.md)
EXCLUSIVE = ("receipt", "lines")  # a campaign's exclusivity
FIRST_DAY, LAST_DAY = MIN_DATE.toordinal(), MAX_DATE.toordinal()  # dates are proleptic ordinals
LONGEST = MAX_DURATION_DAYS * 86_400  # a duration in seconds: date arithmetic stays within datetime's range
PPM = 1_000_000
T = TypeVar("T")

# The closed vocabularies, each from the runtime's own tuple (one source: what the engine reads).
if TYPE_CHECKING:  # to a type checker a word; to msgspec, one of the tuple's
    Stacking: TypeAlias = str
    Basis: TypeAlias = str
    GroupOrder: TypeAlias = str
    Exclusive: TypeAlias = str
    Rounding: TypeAlias = str
    Allocation: TypeAlias = str
    ComboReward: TypeAlias = str
    Kind: TypeAlias = str
    Prices: TypeAlias = str
    TaxBasis: TypeAlias = str
    Period: TypeAlias = str
    Reset: TypeAlias = str
    SpendOrder: TypeAlias = str
    Shortfall: TypeAlias = str
    Per: TypeAlias = str
    FraudPeriod: TypeAlias = str
    ProfileType: TypeAlias = str
    MetricKind: TypeAlias = str
    EventKind: TypeAlias = str
    ExitKind: TypeAlias = str
    Channel: TypeAlias = str
    Condition: TypeAlias = str
else:
    Stacking, Basis, GroupOrder, Exclusive = (Literal[v] for v in (STACKING_MODES, BASES, ORDERS, EXCLUSIVE))
    Rounding, Allocation, ComboReward = (Literal[v] for v in (ROUNDING_MODES, ALLOCATION_MODES, COMBO_REWARDS))
    Kind, Prices, TaxBasis = (Literal[v] for v in (KINDS, PRICES, TAX_BASES))
    Period, Reset, SpendOrder, Shortfall = (Literal[v] for v in (PERIODS, RESETS, SPEND_ORDERS, SHORTFALL_POLICIES))
    Per, FraudPeriod = Literal[(*PERIODS, "customer")], Literal[("receipt", *PERIODS)]
    ProfileType, MetricKind = Literal[PROFILE_TYPES], Literal[METRIC_KINDS]
    EventKind, ExitKind, Channel, Condition = (Literal[v] for v in (EVENTS, EXITS, CHANNELS, CONDITIONS))


Count = Annotated[int, msgspec.Meta(ge=0)]  # an amount, a count: never negative
Positive = Annotated[int, msgspec.Meta(ge=1)]
Index = Annotated[int, msgspec.Meta(ge=0, description="an index into another section of the bundle")]
Digits = Annotated[int, msgspec.Meta(ge=0, le=18)]
Ppm = Annotated[int, msgspec.Meta(ge=0, le=PPM, description="parts per million")]
Seconds = Annotated[int, msgspec.Meta(ge=0, le=LONGEST)]
Duration = Annotated[int, msgspec.Meta(ge=1, le=LONGEST, description="seconds")]
TimeOfDay = Annotated[int, msgspec.Meta(ge=0, le=86_400, description="seconds since midnight")]
Weekday = Annotated[int, msgspec.Meta(ge=1, le=7, description="ISO: Monday is 1")]
Day = Annotated[int, msgspec.Meta(ge=FIRST_DAY, le=LAST_DAY, description="a date as its proleptic ordinal")]
Instruction = Annotated[list[Any], msgspec.Meta(min_length=1, max_length=2, description="[OP] or [OP, operand]")]
Days = Annotated[tuple[Day, Day], msgspec.Meta(description="[start, end]")]
Code = list[Instruction]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Many = Annotated[list[T], msgspec.Meta(max_length=1000)]
HistoryDays = Annotated[int, msgspec.Meta(ge=0, le=MAX_HORIZON)]
StageDays = Annotated[int, msgspec.Meta(ge=1, le=100_000)]
Bound = Annotated[int, msgspec.Meta(ge=-10**15, le=10**15)]


class _Closed(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """A section: an unknown key is refused. (``gc=False``: a payload is a tree, no struct is in a cycle,
    so the collector need not track them.)"""


# ------------------------------------------------------------------------------------ manifest, settings


class Source(_Closed, kw_only=True):
    path: str
    sha256: str


class ProgrammeName(_Closed, kw_only=True):
    name: str
    version: str | None = None


class Manifest(_Closed, kw_only=True):
    format_version: Annotated[int, msgspec.Meta(description="equal to the envelope's format_version")]
    compiler_version: str
    programme: ProgrammeName
    source_hash: str
    sources: list[Source]


class RoundingModes(_Closed, kw_only=True):
    discount: Rounding
    points: Rounding


class Commerce(_Closed, kw_only=True):
    """Line kinds and tax (docs/commerce.md)."""

    prices: Prices
    basis: TaxBasis | None = None
    rate: Annotated[int, msgspec.Meta(ge=0, le=MAX_RATE, description="parts per million")]
    rounding: Rounding
    totals: list[Kind]
    taxed: bool


class Fraud(_Closed, kw_only=True):
    """Anti-fraud limits per card (docs/limits-fraud.md): [period, most] rows and [count, seconds]."""

    points: list[Annotated[tuple[FraudPeriod, Positive], msgspec.Meta(description="[period, most]")]]
    receipts: list[Annotated[tuple[Period, Positive], msgspec.Meta(description="[period, most]")]]
    velocity: Annotated[tuple[Positive, Positive], msgspec.Meta(description="[count, seconds]")] | None


class Partner(_Closed, kw_only=True):
    name: str
    rate: Annotated[int, msgspec.Meta(ge=1, le=PPM, description="parts per million")]
    price: Count


class People(_Closed, kw_only=True):
    """Staff and coalition partners (docs/limits-fraud.md)."""

    staff: Annotated[tuple[Literal["segment", "attr"], str], msgspec.Meta(description="[segment | attr, text]")] | None
    partners: list[Partner]


class Settings(_Closed, kw_only=True):
    timezone: Annotated[str, msgspec.Meta(description="an IANA time zone")]
    currency: str
    minor: Digits
    points_minor: Digits
    point_value: Annotated[int, msgspec.Meta(ge=1, description="the money value of one point, minor units")]
    rounding: RoundingModes
    allocation: Allocation
    commerce: Commerce | None = None
    fraud: Fraud | None = None
    people: People | None = None


# ------------------------------------------------------------------------------------ constants, groups


class Combo(_Closed, kw_only=True):
    parts: Annotated[list[Annotated[tuple[Index, Positive], msgspec.Meta(description="[predicate, need]")]],
                     msgspec.Meta(min_length=1, description="at least one part")]
    reward: ComboReward
    part: Count | None


class ConstantObject(_Closed, kw_only=True):
    """A set constant ``{"set": [sorted, unique strings]}`` or a combo ``{"combo": {...}}``, exactly one."""

    set: list[str] | msgspec.UnsetType = msgspec.UNSET
    combo: Combo | msgspec.UnsetType = msgspec.UNSET


Constant = int | str | bool | ConstantObject


class Group(_Closed, kw_only=True):
    name: str
    title: str | None = None
    priority: int
    stacking: Stacking
    stacking_limit: Positive | None = None
    basis: Basis
    order: GroupOrder = "priority"


# ------------------------------------------------------------------------------------ campaigns


class SetFilter(_Closed, kw_only=True):
    """``{"in": [...]}`` or ``{"not_in": [...]}``, exactly one."""

    in_: list[str] | msgspec.UnsetType = msgspec.field(default=msgspec.UNSET, name="in")
    not_in: list[str] | msgspec.UnsetType = msgspec.UNSET


class AudienceSummary(_Closed, kw_only=True):
    known: bool = False
    tiers: list[str] = []
    segments: list[str] = []


class Footprint(_Closed, kw_only=True):
    """What a campaign can touch: the window and filters the engine checks before running its code,
    and what tools read (collisions, the till's pre-filter)."""

    dates: Days | None = None
    weekdays: list[Weekday] | None = None
    hours: Annotated[tuple[TimeOfDay, TimeOfDay], msgspec.Meta(description="[start, end]")] | None = None
    stores: SetFilter | None = None
    channels: SetFilter | None = None
    needs_skus: list[str] | None = None
    categories: list[str] = []
    skus: list[str] = []
    brands: list[str] = []
    min_total: int | None = None
    audience: AudienceSummary | None = None
    effects: list[Literal["discount", "points"]] = []


class Limits(_Closed, kw_only=True):
    applications: Count | None = None
    discount: Count | None = None
    points: Count | None = None


class Cost(_Closed, kw_only=True):
    fixed: Count
    per_line: Count


class Span(_Closed, kw_only=True):
    """Where a campaign is written (1-based; 0 where the source has no position)."""

    file: str
    line: Count
    col: Count
    end_line: Count
    end_col: Count


class UsageLimit(_Closed, kw_only=True):
    count: Positive
    per: Per


class Budget(_Closed, kw_only=True):
    kind: Literal["money", "points"]
    amount: Count


class Reward(_Closed, kw_only=True):
    """A catalogue reward's price and stock (docs/rewards.md)."""

    account: str | None
    points: Positive
    stock: Count | None


class RedemptionLimit(_Closed, kw_only=True):
    count: Positive
    store: bool
    day: bool


class ArmGate(_Closed, kw_only=True):
    experiment: Index
    arms: Annotated[list[str], msgspec.Meta(min_length=1, description="at least one arm")]


class Campaign(_Closed, kw_only=True):
    name: str
    title: str | None = None
    group: Index
    priority: int
    order: int
    footprint: Footprint
    audience: Code | None
    condition: Code | None
    actions: Code
    limits: Limits
    cost: Cost
    multiplier_base: str | None = None
    span: Span | None = None
    account: str | None
    coupon: str | None
    usage_limit: UsageLimit | None
    budget: Budget | None
    reward: Reward | None = None
    redemptions: list[RedemptionLimit] = []
    discount_cap: Annotated[tuple[Per, Positive], msgspec.Meta(description="[period, money]")] | None = None
    arm: ArmGate | None = None
    exclusive: Exclusive | None = None
    redistribute: bool = False


# ------------------------------------------------------------------------------------ customer state


class Never(_Closed, kw_only=True, tag_field="kind", tag="never"):
    pass


class After(_Closed, kw_only=True, tag_field="kind", tag="after"):
    seconds: Duration


class EndOf(_Closed, kw_only=True, tag_field="kind", tag="end_of"):
    period: Literal["month", "quarter", "year"]
    next: bool


Expiry = Never | After | EndOf


class Account(_Closed, kw_only=True):
    name: str
    title: str | None = None
    activation: Seconds
    expiry: Expiry
    spend: SpendOrder
    credit: Count
    repay: Ppm
    shortfall: Shortfall
    notify: Seconds


class Redemption(_Closed, kw_only=True):
    accounts: Annotated[list[str], msgspec.Meta(min_length=1, description="at least one account")]
    max_share: Ppm
    min_payment: Count
    exclude: Index | None
    accrue_on_redeemed: bool
    steps: Positive = 1
    earn_with_burn: bool = True


class TierPeriod(_Closed, kw_only=True):
    kind: Literal["rolling", "month", "quarter", "year"]
    days: Annotated[int, msgspec.Meta(ge=1, le=36_600)] | None  # null unless rolling


class Level(_Closed, kw_only=True):
    name: str
    threshold: Count
    benefits: dict[str, Count]


class Tiers(_Closed, kw_only=True):
    name: str
    title: str | None = None
    measure: Literal["spend", "receipts"]
    period: TierPeriod
    levels: Annotated[list[Level], msgspec.Meta(min_length=1, description="at least one level")]


class Earn(_Closed, kw_only=True):
    count: Positive
    per: Positive
    predicate: Index


class Counter(_Closed, kw_only=True):
    name: str
    title: str | None = None
    kind: Literal["counter", "chips"]
    reset: Reset
    earn: Earn | None
    valid: Days | None


class CouponSeries(_Closed, kw_only=True):
    name: str
    title: str | None = None
    code: Literal["unique", "shared"]
    text: str
    valid_for: Duration | None
    valid: Days | None
    uses: Positive
    per_customer: Positive | None


class CertificateSeries(_Closed, kw_only=True):
    name: str
    title: str | None = None
    skus: Annotated[list[str], msgspec.Meta(min_length=1, description="at least one SKU")]
    expiry: Expiry
    multi_use: bool
    per_unit: bool = False


class Referral(_Closed, kw_only=True):
    qualify: Count
    referrer: Count
    referrer_account: str | None
    newcomer: Count
    newcomer_account: str | None


class ProfileField(_Closed, kw_only=True):
    name: Text
    type: ProfileType
    slot: Annotated[Text, msgspec.Meta(description="where the customer state keeps it")]
    options: Many[Text]


class Track(_Closed, kw_only=True):
    key: Annotated[Text, msgspec.Meta(description="the selection as written: the customer state's key")]
    predicate: Index


class Metric(_Closed, kw_only=True):
    key: Text
    kind: MetricKind
    days: HistoryDays
    track: Index | None
    field: Text | None


class Lifecycle(_Closed, kw_only=True):
    new: StageDays
    active: StageDays
    sleeping: StageDays


class Score(_Closed, kw_only=True):
    name: Text
    metric: Annotated[Text, msgspec.Meta(description="the key of the metric it bins")]
    bins: Many[Annotated[tuple[Annotated[int, msgspec.Meta(ge=0, le=999)], Bound | None, Bound | None],
                         msgspec.Meta(description="[score, low, high]")]]


class SegmentDef(_Closed, kw_only=True):
    name: Text
    title: Text | None
    code: Code


class Segments(_Closed, kw_only=True):
    """Profile fields, purchase history, metrics and segments (docs/segments.md)."""

    profile: Many[ProfileField]
    horizon: Annotated[int, msgspec.Meta(ge=0, le=MAX_HORIZON, description="days of purchase history kept")]
    tracks: Annotated[list[Track], msgspec.Meta(max_length=MAX_TRACKS)]
    metrics: Many[Metric]
    lifecycle: Lifecycle | None
    scores: Many[Score]
    segments: Many[SegmentDef]


class State(_Closed, kw_only=True):
    """The customer-state declarations (docs/state.md)."""

    accounts: list[Account]
    default_account: str | None
    redemption: Redemption | None
    tiers: Tiers | None
    counters: list[Counter]
    coupons: list[CouponSeries]
    certificates: list[CertificateSeries]
    referral: Referral | None
    segments: Segments | None = None  # present only when the programme declares segments


class Arm(_Closed, kw_only=True):
    name: str
    weight: Annotated[int, msgspec.Meta(ge=1, le=BUCKETS)]


class Experiment(_Closed, kw_only=True):
    name: str
    title: str | None = None
    salt: str
    arms: list[Arm]
    holdout: bool
    anonymous: str | None = None


# ------------------------------------------------------------------------------------ triggers, messages


class Event(_Closed, kw_only=True):
    """What starts a chain (docs/triggers.md); a key the event kind does not use is absent."""

    kind: EventKind
    number: Positive | None = None
    items: Count | None = None
    skus: list[str] = []
    offset: int = 0
    child: bool = False
    segment: str | None = None
    to: str | None = None
    field: str | None = None
    seconds: Count = 0


class Exit(_Closed, kw_only=True):
    kind: ExitKind
    segment: str | None = None
    to: str | None = None


class Send(_Closed, kw_only=True):
    channel: Channel
    template: Annotated[list[Any], msgspec.Meta(description="the parts templates.render reads")]


class TillSend(_Closed, kw_only=True):
    channel: Literal["receipt", "cashier"]
    template: list[Any]


class Accrue(_Closed, kw_only=True, tag_field="do", tag="accrue"):
    points: int
    account: str


class Issue(_Closed, kw_only=True, tag_field="do", tag="issue"):
    series: str


class Add(_Closed, kw_only=True, tag_field="do", tag="add"):
    counter: str
    count: int


class SendAction(_Closed, kw_only=True, tag_field="do", tag="send"):
    sends: Annotated[list[Send], msgspec.Meta(min_length=1, description="at least one channel")]


Action = Accrue | Issue | Add | SendAction


class Step(_Closed, kw_only=True):
    after: Annotated[Count, msgspec.Meta(description="seconds")]
    if_: Condition | None = msgspec.field(default=None, name="if")
    actions: list[Action]


Minute = Annotated[int, msgspec.Meta(ge=0, le=1439, description="a minute of the day")]


class Trigger(_Closed, kw_only=True):
    name: str
    title: str | None = None
    event: Event
    steps: Annotated[list[Step], msgspec.Meta(min_length=1, max_length=MAX_STEPS)]
    exit: Literal["purchase"] | None = None
    window: Count = 0
    cap: Annotated[tuple[Annotated[int, msgspec.Meta(ge=1, le=MAX_CAP)], Positive],
                   msgspec.Meta(description="[count, seconds]")] | None = None
    quiet: Annotated[tuple[Minute, Minute], msgspec.Meta(description="[start, end] minutes of the day")] | None = None
    exits: Annotated[list[Exit], msgspec.Meta(max_length=MAX_EXITS)] = []


class BundlePayload(_Closed, kw_only=True):
    """The JSON after the envelope line of a bundle file (docs/bundle.md, "The payload")."""

    manifest: Manifest
    settings: Settings
    predicates: list[Code]
    constants: list[Annotated[Constant, msgspec.Meta(
        description='int, string, bool, {"set": [sorted strings]} or {"combo": {...}}')]]
    groups: list[Group]
    campaigns: list[Campaign]
    sku_index: dict[str, list[Index]]
    cost: Cost
    state: State
    experiments: list[Experiment] = []
    triggers: Annotated[list[Trigger], msgspec.Meta(max_length=MAX_TRIGGERS)] | None = None  # docs/triggers.md
    messages: dict[str, Annotated[list[TillSend], msgspec.Meta(min_length=1)]] | None = None  # campaign -> till messages


# ------------------------------------------------------------------------------------ validation


class Mismatch(Exception):
    """Where (``campaigns[2].group``, "" for the whole payload) and how a document differs from the model."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(path, message)
        self.path, self.message = path, message


def validate(document: Any, kind: type[T] = BundlePayload) -> T:  # type: ignore[assignment]
    """The document as the model's ``kind`` (the payload's structs), or ``Mismatch`` at the first place
    it differs."""
    try:
        return msgspec.convert(document, kind, strict=True)
    except msgspec.ValidationError as exc:
        raise _mismatch(str(exc), document, kind) from None


_AT = re.compile(r"(.*?)(?: - at `\$(.*)`)?\Z", re.S)
_KEY = re.compile(r"Object (missing required|contains unknown) field `(.*)`\Z", re.S)
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")
_TYPE = re.compile(r"Expected `([^`]*)`, got `([^`]*)`\Z")
_LENGTH = re.compile(r"Expected `array` of length")
_BOUND = re.compile(r"Expected `int` ([<>]=) (-?\d+)\Z")
_WORDS = {"str": "string", "object": "object", "array": "array", "null": "null"}


class _Place:
    """A step of the walk down the document and the model's types, side by side."""

    def __init__(self, node: Any, kind: Any) -> None:
        self.node, self.kind, self.about, self.tags = node, kind, "", ()
        self._settle()

    def _settle(self) -> None:
        """Unwrap metadata (keeping its description) and pick, of a union, the member the node meets."""
        while True:
            if isinstance(self.kind, mi.Metadata):
                self.about = (self.kind.extra_json_schema or {}).get("description", self.about)
                self.kind = self.kind.type
            elif isinstance(self.kind, mi.UnionType) and isinstance(self.node, dict | list):
                wanted = (mi.StructType, mi.DictType) if isinstance(self.node, dict) else (mi.ListType, mi.TupleType)
                members: list[Any] = [t for t in self.kind.types if isinstance(_bare(t), wanted)]
                self.tags = tuple(t.tag for t in members if getattr(t, "tag_field", None))
                node: Any = self.node
                tagged = [t for t in members if getattr(t, "tag_field", None) and node.get(t.tag_field) == t.tag]
                if not (tagged or members):
                    return
                self.kind = (tagged or members)[0]
            else:
                return

    def down(self, step: str | int) -> _Place:
        node, kind = self.node, self.kind
        child = node.get(step) if isinstance(node, dict) else (
            node[step] if isinstance(node, list) and isinstance(step, int) and step < len(node) else None)
        if isinstance(kind, mi.StructType) and isinstance(step, str):
            if step == kind.tag_field:
                place = _Place(child, mi.AnyType())
                place.tags = self.tags
                return place
            field = next((f for f in kind.fields if f.encode_name == step), None)
            return _Place(child, field.type if field is not None else mi.AnyType())
        if isinstance(kind, mi.TupleType) and isinstance(step, int):
            return _Place(child, kind.item_types[step] if step < len(kind.item_types) else mi.AnyType())
        return _Place(child, getattr(kind, "value_type", None) or getattr(kind, "item_type", None) or mi.AnyType())


def _bare(kind: Any) -> Any:
    while isinstance(kind, mi.Metadata):
        kind = kind.type
    return kind


def _mismatch(text: str, document: Any, model: Any) -> Mismatch:
    """msgspec's ``Expected `int`, got `str` - at `$.campaigns[0].priority``` as a path and a message in
    the loader's words; a missing or unknown key is named in the path, a mapping's key (msgspec writes
    ``[...]``) is found."""
    found = _AT.match(text)
    message, where = (found.group(1), found.group(2) or "") if found else (text, "")
    steps: list[str | int] = []
    place = _Place(document, mi.type_info(model))
    for name, index in _STEP.findall(where):
        step: str | int = name or (int(index) if index != "..." else _bad_key(place.node, place.kind))
        steps.append(step)
        place = place.down(step)
    named = _KEY.match(message)
    if named:
        steps.append(named.group(2))
        if named.group(1) == "missing required":
            return Mismatch(json_path(steps), "required field is missing")
        keys = [f.encode_name for f in getattr(place.kind, "fields", ())]
        return Mismatch(json_path(steps), f"unknown field (expected one of {', '.join(keys)})")
    return Mismatch(json_path(steps), _words(message, place))


def _words(message: str, place: _Place) -> str:
    """msgspec's message about the value at ``place``, said as the loader says it."""
    value, about = place.node, place.about
    if message.startswith("Invalid"):  # a value outside a closed vocabulary
        choices = getattr(place.kind, "values", None) or place.tags
        return f"expected one of {', '.join(map(str, choices))}, got {_show(value)}"
    if isinstance(value, list) and about and (_LENGTH.match(message) or isinstance(place.kind, mi.TupleType)):
        return f"expected {about}, got {len(value)} items"
    bound = _BOUND.match(message)
    if bound and about.startswith("an index"):
        return f"index {value} out of range"
    if bound:
        return f"must be {bound.group(1)} {bound.group(2)}, got {value}"
    typed = _TYPE.match(message)
    if typed:
        wanted = [_WORDS.get(w, w) for w in typed.group(1).split(" | ")]
        if isinstance(place.kind, mi.UnionType) and about:
            wanted = [about]
        return f"expected {' or '.join(wanted)}, got {_WORDS.get(typed.group(2), typed.group(2))}"
    return message[:1].lower() + message[1:]


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)[:40] if isinstance(value, str | int | float | None) else \
        type(value).__name__


def _bad_key(mapping: Any, kind: Any) -> str:
    """The first key of ``mapping`` whose value the mapping's value type refuses (msgspec stops there)."""
    value_type = getattr(kind, "value_type", None)
    if not isinstance(mapping, dict) or value_type is None:
        return "..."
    python_type: Any = dict[str, _python(value_type)]  # type: ignore[misc]
    for key, value in mapping.items():
        try:
            msgspec.convert({key: value}, python_type, strict=True)
        except msgspec.ValidationError:
            return str(key)
    return "..."


def _python(kind: Any) -> Any:
    """The Python annotation of a (simple) inspected type: enough to re-check one mapping's value."""
    kind = _bare(kind)
    if isinstance(kind, mi.IntType):
        return Annotated[int, msgspec.Meta(ge=kind.ge, le=kind.le)]
    if isinstance(kind, mi.ListType):
        return Annotated[list[_python(kind.item_type)],  # type: ignore[misc]
                         msgspec.Meta(min_length=kind.min_length, max_length=kind.max_length)]
    if isinstance(kind, mi.StructType):
        return kind.cls
    if isinstance(kind, mi.StrType):
        return str
    return Any


def json_path(steps: list[str | int]) -> str:
    """``["campaigns", 0, "group"]`` -> ``campaigns[0].group``."""
    out = ""
    for step in steps:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out
