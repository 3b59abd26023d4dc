"""The bundle's payload (docs/bundle.md, "The payload") as one msgspec model: the loader validates a
payload against it (LOY404, naming the JSON path of the first mismatch) and ``loya schema bundle``
prints its JSON Schema, so the schema a POS team reads and the check a till makes are one thing.

The model states the shape: sections, required keys (a key that is present but may be null has no
default), types (integers only: money in minor units, shares in ppm), ranges and the closed
vocabularies. Sections are closed (an unknown key is refused). What a shape cannot say — an index
within the bundle's predicates, groups or campaigns, a name declared twice, a sorted set, a time
zone, the bytecode's typing — the loader checks after it (``bundle.py``, LOY404 and LOY405). The
sections other modules read (``triggers``, ``messages``, ``state.segments``) are theirs to check.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec
import msgspec.inspect as mi

from .commerce import BASES as TAX_BASES
from .commerce import KINDS, MAX_RATE, PRICES
from .declarations import PERIODS, RESETS, SHORTFALL_POLICIES, SPEND_ORDERS
from .experiments import BUCKETS
from .limits import MAX_DATE, MAX_DURATION_DAYS, MIN_DATE
from .money import ALLOCATION_MODES
from .opcodes import COMBO_REWARDS, ROUNDING_MODES

STACKING_MODES = ("stack_all", "stack_up_to", "first_by_priority", "best_for_customer", "lowest_discount")
BASES = ("original", "discounted")
ORDERS = ("priority", "declared")  # a group's application order (docs/order.md)
EXCLUSIVE = ("receipt", "lines")  # a campaign's exclusivity
FIRST_DAY, LAST_DAY = MIN_DATE.toordinal(), MAX_DATE.toordinal()  # dates are proleptic ordinals
LONGEST = MAX_DURATION_DAYS * 86_400  # a duration in seconds: date arithmetic stays within datetime's range
PPM = 1_000_000

# The closed vocabularies, each from the runtime's own tuple (one source: what the engine reads).
if TYPE_CHECKING:
    Stacking = Basis = GroupOrder = Exclusive = Rounding = Allocation = ComboReward = Kind = Prices = TaxBasis \
        = Period = Reset = SpendOrder = Shortfall = Per = FraudPeriod = str
else:
    Stacking, Basis, GroupOrder, Exclusive = (Literal[v] for v in (STACKING_MODES, BASES, ORDERS, EXCLUSIVE))
    Rounding, Allocation, ComboReward = (Literal[v] for v in (ROUNDING_MODES, ALLOCATION_MODES, COMBO_REWARDS))
    Kind, Prices, TaxBasis = (Literal[v] for v in (KINDS, PRICES, TAX_BASES))
    Period, Reset, SpendOrder, Shortfall = (Literal[v] for v in (PERIODS, RESETS, SPEND_ORDERS, SHORTFALL_POLICIES))
    Per, FraudPeriod = Literal[(*PERIODS, "customer")], Literal[("receipt", *PERIODS)]


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
Code = list[Instruction]


class _Closed(msgspec.Struct, forbid_unknown_fields=True):
    pass


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

    points: list[tuple[FraudPeriod, Positive]]
    receipts: list[tuple[Period, Positive]]
    velocity: tuple[Positive, Positive] | None


class Partner(_Closed, kw_only=True):
    name: str
    rate: Annotated[int, msgspec.Meta(ge=1, le=PPM, description="parts per million")]
    price: Count


class People(_Closed, kw_only=True):
    """Staff and coalition partners (docs/limits-fraud.md)."""

    staff: tuple[Literal["segment", "attr"], str] | None
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
    parts: Annotated[list[tuple[Index, Positive]], msgspec.Meta(
        min_length=1, description="[predicate index, units per set]")]
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

    dates: tuple[Day, Day] | None = None
    weekdays: list[Weekday] | None = None
    hours: tuple[TimeOfDay, TimeOfDay] | None = None
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
    arms: Annotated[list[str], msgspec.Meta(min_length=1)]


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
    discount_cap: tuple[Per, Positive] | None = None
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
    accounts: Annotated[list[str], msgspec.Meta(min_length=1)]
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
    levels: Annotated[list[Level], msgspec.Meta(min_length=1)]


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
    valid: tuple[Day, Day] | None


class CouponSeries(_Closed, kw_only=True):
    name: str
    title: str | None = None
    code: Literal["unique", "shared"]
    text: str
    valid_for: Duration | None
    valid: tuple[Day, Day] | None
    uses: Positive
    per_customer: Positive | None


class CertificateSeries(_Closed, kw_only=True):
    name: str
    title: str | None = None
    skus: Annotated[list[str], msgspec.Meta(min_length=1)]
    expiry: Expiry
    multi_use: bool
    per_unit: bool = False


class Referral(_Closed, kw_only=True):
    qualify: Count
    referrer: Count
    referrer_account: str | None
    newcomer: Count
    newcomer_account: str | None


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
    segments: dict[str, Any] | None = None  # docs/segments.md (checked by runtime/segments)


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


class BundlePayload(_Closed, kw_only=True):
    """The JSON after the envelope line of a bundle file (docs/bundle.md, "The payload")."""

    manifest: Manifest
    settings: Settings
    predicates: list[Code]
    constants: list[Constant]
    groups: list[Group]
    campaigns: list[Campaign]
    sku_index: dict[str, list[Index]]
    cost: Cost
    state: State
    experiments: list[Experiment] = []
    triggers: list[Any] | None = None  # docs/triggers.md (checked by runtime/triggers)
    messages: dict[str, Any] | list[Any] | None = None


# ------------------------------------------------------------------------------------ validation


class Mismatch(Exception):
    """Where (``campaigns[2].group``, "" for the whole payload) and how a document differs from the model."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(path, message)
        self.path, self.message = path, message


_AT = re.compile(r"(.*?)(?: - at `\$(.*)`)?\Z", re.S)
_KEY = re.compile(r"Object (?:missing required|contains unknown) field `(.*)`\Z", re.S)
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")


def validate(document: Any) -> BundlePayload:
    """The payload as the model's structs, or ``Mismatch`` at the first place it differs."""
    try:
        return msgspec.convert(document, BundlePayload, strict=True)
    except msgspec.ValidationError as exc:
        raise _mismatch(str(exc), document) from None


def _mismatch(text: str, document: Any) -> Mismatch:
    """msgspec's ``Expected `int`, got `str` - at `$.campaigns[0].priority``` as a path and message; a
    missing or unknown key is named in the path, a mapping's key (msgspec writes ``[...]``) is found."""
    match = _AT.match(text)
    message, where = (match.group(1), match.group(2) or "") if match else (text, "")
    steps: list[str | int] = []
    node, kind = document, mi.type_info(BundlePayload)
    for name, index in _STEP.findall(where):
        kind = _inner(kind, node)
        if name:
            steps.append(name)
            field = next((f for f in getattr(kind, "fields", ()) if f.encode_name == name), None)
            kind = field.type if field is not None else mi.AnyType()
            node = node.get(name) if isinstance(node, dict) else None
        elif index == "...":
            key = _bad_key(node, kind)
            steps.append(key)
            kind = getattr(kind, "value_type", mi.AnyType())
            node = node.get(key) if isinstance(node, dict) else None
        else:
            steps.append(int(index))
            items = getattr(kind, "item_types", None)
            kind = items[int(index)] if items else getattr(kind, "item_type", mi.AnyType())
            node = node[int(index)] if isinstance(node, list) and int(index) < len(node) else None
    key = _KEY.match(message)
    if key:
        steps.append(key.group(1))
        message = "required key is missing" if "missing" in message else "unknown key (not in the bundle format)"
    return Mismatch(json_path(steps), message[:1].lower() + message[1:])


def _inner(kind: Any, node: Any) -> Any:
    """A type without its metadata, and of a union the member a JSON object or array would meet."""
    while isinstance(kind, mi.Metadata):
        kind = kind.type
    if isinstance(kind, mi.UnionType):
        wanted = (mi.StructType, mi.DictType) if isinstance(node, dict) else (mi.ListType, mi.TupleType)
        members = [t for t in kind.types if isinstance(t, wanted)]
        tagged = [t for t in members if getattr(t, "tag_field", None) and node.get(t.tag_field) == t.tag]
        kind = (tagged or members or [kind])[0]
    return kind


def _bad_key(mapping: Any, kind: Any) -> str:
    """The first key of ``mapping`` whose value the mapping's value type refuses (msgspec stops there)."""
    value_type = getattr(kind, "value_type", None)
    if not isinstance(mapping, dict) or value_type is None:
        return "..."
    python_type = dict[str, _python(value_type)]  # type: ignore[misc]
    for key, value in mapping.items():
        try:
            msgspec.convert({key: value}, python_type, strict=True)
        except msgspec.ValidationError:
            return str(key)
    return "..."


def _python(kind: Any) -> Any:
    """The Python annotation of a (simple) inspected type: enough to re-check one mapping's value."""
    while isinstance(kind, mi.Metadata):
        kind = kind.type
    if isinstance(kind, mi.IntType):
        return Annotated[int, msgspec.Meta(ge=kind.ge, le=kind.le)]
    if isinstance(kind, mi.ListType):
        return list[_python(kind.item_type)]  # type: ignore[misc]
    if isinstance(kind, mi.StrType):
        return str
    return Any


def json_path(steps: list[str | int]) -> str:
    """``["campaigns", 0, "group"]`` -> ``campaigns[0].group``."""
    out = ""
    for step in steps:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out
