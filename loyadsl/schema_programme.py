"""The YAML programme (the YAML twin of .loya, docs/language.md "The YAML twin") as pydantic models
(issue 16, item 2): ``loya schema programme`` prints their JSON Schema, which yaml-language-server
uses to complete and validate YAML programmes in any editor (docs/editor.md), and the reader
(``syntax/yaml_twin.py``) takes the keys each mapping allows from them.

Values are the .loya text after the keyword, read as written (``version: 2025.1`` is "2025.1"): a
leaf is a string for the reader and "a string, number or boolean" in the schema, since another YAML
reader (the editor's) takes ``priority: 10`` for a number. What the strings mean (expressions,
actions, clause values) is the parser's business; the schema checks the structure: which sections,
which keys in each mapping, which values are lists, mappings or single values.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

Scalar = Annotated[str, WithJsonSchema({"type": ["string", "number", "boolean"]})]
Value = Scalar | None  # YAML null (or nothing) means absent
Flag = Annotated[Literal["true", "false"], WithJsonSchema({"type": "boolean"})]
Names = list[Value]


def _spaced(name: str, doc: str | None = None) -> Any:
    """A key written with spaces (``max discount``)."""
    return Field(None, alias=name, description=doc)


class _Mapping(BaseModel):
    # `defer_build`: the reader only needs the field names at import; validation builds the schema on first use
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=False, defer_build=True)


# ------------------------------------------------------------------------------------ programme header


class Points(_Mapping):
    minor: Value = None
    value: Value = Field(None, description="the money value of a point, e.g. `1.00 RUB`")


class Tax(_Mapping):
    prices: Value = Field(description="`included` or `excluded` (docs/commerce.md)")
    rate: Value = Field(None, description="a percentage, e.g. `20%`")
    basis: Value = None


class Partner(_Mapping):
    rate: Value = Field(description="the share of points the partner earns, e.g. `50%`")
    price: Value = Field(description="the price of a point to the partner, e.g. `0.80 RUB`")


OneKeyList = list[dict[str, Value]]


class Header(_Mapping):
    """`programme:`: the programme's name and settings."""

    name: Value = Field(description="the programme's name (required)")
    version: Value = None
    currency: Value = Field(None, description="an ISO 4217 code, e.g. RUB")
    minor: Value = Field(None, description="minor digits of the currency (only with `currency`)")
    points: Points | None = None
    timezone: Value = Field(None, description="an IANA time zone, e.g. Europe/Moscow")
    rounding: dict[str, Value] | OneKeyList | None = Field(None, description="{discount: MODE, points: MODE}")
    allocation: Value = None
    tax: Tax | None = None
    totals: Names | None = Field(None, description="the line kinds receipt.total counts")
    fraud: dict[str, Value] | OneKeyList | None = Field(
        None, description="`max points per PERIOD`, `max receipts per PERIOD`, `velocity: N per DURATION`")
    staff: dict[str, Value] | OneKeyList | None = None
    partners: dict[str, Partner] | list[dict[str, Partner]] | None = None


# ------------------------------------------------------------------------------------ declarations


class ListDecl(_Mapping):
    """`{KIND: NAME, items: [...]}` or `{KIND: NAME, from: FILE, column: COLUMN}`: one KIND key."""

    skus: Value = None
    stores: Value = None
    categories: Value = None
    brands: Value = None
    channels: Value = None
    strings: Value = None
    items: Names | None = None
    from_: Value = Field(None, alias="from")
    column: Value = None


class Group(_Mapping):
    name: Value
    title: Value = None
    priority: Value = None
    stacking: Value = Field(None, description="first_by_priority, best_for_customer, stack_all or stack_up_to N")
    basis: Value = Field(None, description="original or discounted")
    arm: Value = None
    order: Value = None


Then = Value | list[Value | list[Value]]
ClauseList = list[dict[str, Then]]


class Clauses(_Mapping):
    """The clause keys of a campaign or template; their values are the .loya text after the keyword."""

    clauses: ClauseList | None = Field(None, description="clauses as one-key mappings, when kinds repeat")
    group: Value = None
    priority: Value = None
    valid: Value = Field(None, description="e.g. `2025-01-01 .. 2025-12-31`")
    weekdays: Value | Names = None
    hours: Value = Field(None, description="e.g. `10:00 .. 16:00`")
    stores: Value | Names = None
    channels: Value | Names = None
    audience: Value = None
    when: Value = None
    then: Then = Field(None, description="one item per `then` clause: an action, or a list of actions")
    limit: Value = None
    max_discount: Value = _spaced("max discount")
    max_points: Value = _spaced("max points")
    coupon: Value = None
    budget: Value = None
    arm: Value = None
    exclusive: Value = None
    redistribute: Value = None
    reward: Value = None
    message: Value = None
    redemptions: Value = None


class Template(Clauses):
    name: Value
    title: Value = None
    params: dict[str, Value] | OneKeyList | None = Field(None, description="{PARAM: TYPE}")


class Campaign(Clauses):
    name: Value
    title: Value = None
    uses: Value = Field(None, description="a template use, e.g. `every_nth_free(items = n_plus_one, n = 3)`")


class Account(_Mapping):
    name: Value
    title: Value = None
    activation: Value = None
    expiry: Value = None
    spend: Value = None
    credit: Value = None
    repay: Value = None
    shortfall: Value = None
    notify: Value = None
    default: Flag | None = None


class Redemption(_Mapping):
    accounts: Value | Names = None
    max_share: Value = _spaced("max share")
    min_payment: Value = _spaced("min payment")
    exclude: Value = None
    accrue_on_redeemed: Flag | None = _spaced("accrue on redeemed")
    steps: Value = None
    accrue: Value = None


class Level(_Mapping):
    level: Value
    threshold: Value
    benefits: dict[str, Value] | OneKeyList | None = None


class Tiers(_Mapping):
    name: Value
    title: Value = None
    qualify: Value = Field(description="e.g. `spend over quarter`")
    levels: list[Level] | None = None


class Counter(_Mapping):
    """`{counter: NAME, reset: ...}` or `{chips: NAME, earn: ..., valid: ..., reset: ...}`."""

    counter: Value = None
    chips: Value = None
    title: Value = None
    earn: Value = None
    valid: Value = None
    reset: Value = None


class Coupons(_Mapping):
    name: Value
    title: Value = None
    code: Value = None
    valid: Value = None
    uses: Value = None
    per_customer: Value = _spaced("per customer")


class Certificates(_Mapping):
    name: Value
    title: Value = None
    sold_skus: Names | Value = _spaced("sold skus")
    expiry: Value = None
    use: Literal["multi", "single"] | None = None
    per_unit: Flag | None = _spaced("per unit")


class Referral(_Mapping):
    qualify: Value = None
    referrer: Value = None
    newcomer: Value = None


class Experiment(_Mapping):
    name: Value
    title: Value = None
    salt: Value = None
    arms: dict[str, Value] | OneKeyList | None = Field(None, description="{ARM: SHARE}, e.g. {offer: 45%}")
    anonymous: Value = None


class Assertion(_Mapping):
    name: Value
    title: Value = None
    that: Value = None


class Lifecycle(_Mapping):
    new: Value = None
    active: Value = None
    sleeping: Value = None


class Score(_Mapping):
    name: Value
    title: Value = None
    of: Value
    bins: Names | None = None


class Segment(_Mapping):
    name: Value
    title: Value = None
    when: Value


class Step(_Mapping):
    after: Value = None
    if_: Value = Field(None, alias="if")
    do: Then = None


class Trigger(_Mapping):
    name: Value
    title: Value = None
    event: Value = None
    exit: Value = None
    window: Value = None
    cap: Value = None
    quiet: Value = None
    steps: list[Step] | None = None
    exits: Names | None = None  # `[on coupon redeemed, on segment left vip, ...]` (docs/triggers.md, "Exits")


Profile = dict[str, Value]


class Declaration(_Mapping):
    """One entry of `declarations:` (when kinds interleave): a one-key mapping naming its kind."""

    list_: ListDecl | None = Field(None, alias="list")
    group: Group | None = None
    template: Template | None = None
    campaign: Campaign | None = None
    account: Account | None = None
    redemption: Redemption | None = None
    tiers: Tiers | None = None
    counter: Counter | None = None
    coupons: Coupons | None = None
    certificates: Certificates | None = None
    referral: Referral | None = None
    experiment: Experiment | None = None
    assert_: Assertion | None = Field(None, alias="assert")
    profile: Profile | None = None
    lifecycle: Lifecycle | None = None
    score: Score | None = None
    segment: Segment | None = None
    trigger: Trigger | None = None


class YamlProgramme(_Mapping):
    """A loyalty programme in YAML: `programme`, `imports`, then its declarations by section."""

    programme: Header | None = None
    imports: Names | None = Field(None, description="e.g. ['std:n_plus_one']")
    lists: list[ListDecl] | None = None
    groups: list[Group] | None = None
    templates: list[Template] | None = None
    campaigns: list[Campaign] | None = None
    accounts: list[Account] | None = None
    redemption: Redemption | list[Redemption] | None = None
    tiers: Tiers | list[Tiers] | None = None
    counters: list[Counter] | None = None
    coupons: list[Coupons] | None = None
    certificates: list[Certificates] | None = None
    referral: Referral | list[Referral] | None = None
    experiments: list[Experiment] | None = None
    asserts: list[Assertion] | None = None
    profile: Profile | list[Profile] | None = None
    lifecycle: Lifecycle | list[Lifecycle] | None = None
    scores: list[Score] | None = None
    segments: list[Segment] | None = None
    triggers: list[Trigger] | None = None
    strategies: list[dict[str, Any]] | None = Field(
        None, description="offer strategies, each a strategy file's content (docs/offers.md); `loya offers` checks them")
    declarations: list[Declaration] | None = None


def keys(model: type[BaseModel]) -> tuple[str, ...]:
    """The keys a mapping of this model allows, as written in YAML, in declaration order."""
    return tuple(f.alias or name for name, f in model.model_fields.items())
