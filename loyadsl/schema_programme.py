"""The YAML programme (the YAML twin of .loya, docs/language.md "The YAML twin") as pydantic models
(issue 16, item 2): ``loya schema programme`` prints their JSON Schema, which yaml-language-server
uses to complete and validate YAML programmes in any editor (docs/editor.md), and the reader
(``syntax/yaml_twin.py``) validates every document with them before it reads it.

Values are the .loya text after the keyword, read as written (``version: 2025.1`` is "2025.1"): a
leaf is a string for the reader and "a string, number or boolean" in the schema, since another YAML
reader (the editor's) takes ``priority: 10`` for a number. What the strings mean (expressions,
actions, clause values) is the parser's business; the schema checks the structure: which sections,
which keys in each mapping, which values are lists, mappings or single values.

So the rules here are the reader's shape rules (``syntax/yaml_shape.py`` reports them, LOY106): a key that is given must have a value (``Text``) unless null
means absent (``Value``: titles, list items and a few header settings); a list of "one-key
mappings" has exactly one key in each entry; the checks across keys (a list's kind, a counter's kind,
clauses as keys or as a list) are model validators raising ``shape_error``, which may name the key
or value they are about (``at``) and a hint.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

Scalar = Annotated[str, WithJsonSchema({"type": ["string", "number", "boolean"]})]
Text = Scalar  # a key given must have a value: `when:` alone is an error (an optional key's default is None)
Value = Scalar | None  # YAML null (or nothing) means absent
Flag = Annotated[Literal["true", "false"], WithJsonSchema({"type": "boolean"})]
Names = list[Text]
Items = list[Value]  # a list's items are read as written, `~` and `''` included


V = TypeVar("V")
OneKey = Annotated[dict[str, V], Field(min_length=1, max_length=1)]  # an entry of a list used where keys repeat
Pairs = dict[str, V] | list[OneKey[V]]  # a mapping, or one-key mappings where keys repeat (`rounding`, `arms`)


def shape_error(message: str, at: tuple[str, ...] = (), key: bool = False, hint: str | None = None) -> Exception:
    """A rule across keys, broken: the reader reports ``message`` (LOY106) at the mapping, or at its
    value (or key, with ``key``) under ``at``."""
    return PydanticCustomError("loy_shape", message, {"at": at, "key": key, "hint": hint})


def absent(doc: str | None = None, alias: str | None = None) -> Any:
    """An optional key (absent: None); ``alias``: the key as written, with spaces (``max discount``)."""
    return Field(None, alias=alias, description=doc)


class _Mapping(BaseModel):
    # `defer_build`: the reader only needs the field names at import; validation builds the schema on first use
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=False, defer_build=True)
    what: ClassVar[str] = "a mapping"  # how messages name a mapping of this kind


class _OneKey(_Mapping):
    """A one-key mapping naming its kind (an entry of `declarations` or of `clauses`)."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1, "maxProperties": 1})
    entries: ClassVar[str] = "a list"  # the list it is an entry of

    @model_validator(mode="before")
    @classmethod
    def _one(cls, data: Any) -> Any:
        if isinstance(data, dict) and len(data) != 1:
            raise shape_error(f"each entry of {cls.entries} is a mapping with one key")
        return data


# ------------------------------------------------------------------------------------ programme header


class Points(_Mapping):
    what = "`points`"
    minor: Value = None
    value: Value = absent("the money value of a point, e.g. `1.00 RUB`")


class Tax(_Mapping):
    what = "`tax`"
    prices: Text = Field(description="`included` or `excluded` (docs/commerce.md)")
    rate: Value = absent("a percentage, e.g. `20%`")
    basis: Text = absent()


class Partner(_Mapping):
    what = "a partner"
    rate: Text = Field(description="the share of points the partner earns, e.g. `50%`")
    price: Text = Field(description="the price of a point to the partner, e.g. `0.80 RUB`")


class Header(_Mapping):
    """`programme:`: the programme's name and settings."""

    what = "`programme`"
    name: Text = Field(description="the programme's name (required)")
    version: Value = None
    currency: Text = absent("an ISO 4217 code, e.g. RUB")
    minor: Value = absent("minor digits of the currency (only with `currency`)")
    points: Points = absent()
    timezone: Value = absent("an IANA time zone, e.g. Europe/Moscow")
    rounding: Pairs[Text] = absent("{discount: MODE, points: MODE}")
    allocation: Text = absent()
    tax: Tax = absent()
    totals: Names = absent("the line kinds receipt.total counts")
    fraud: Pairs[Text] = absent(
        "`max points per PERIOD`, `max receipts per PERIOD`, `velocity: N per DURATION`")
    staff: Pairs[Text] = absent()
    partners: Pairs[Partner] = absent()


# ------------------------------------------------------------------------------------ declarations


LIST_KINDS = ("skus", "stores", "categories", "brands", "channels", "strings")


class ListDecl(_Mapping):
    """`{KIND: NAME, items: [...]}` or `{KIND: NAME, from: FILE, column: COLUMN}`: one KIND key."""

    what = "a list"
    skus: Text = absent()
    stores: Text = absent()
    categories: Text = absent()
    brands: Text = absent()
    channels: Text = absent()
    strings: Text = absent()
    items: Items = absent()
    from_: Text = absent(alias="from")
    column: Text = absent()

    @model_validator(mode="after")
    def _one_source(self) -> ListDecl:
        if sum(getattr(self, kind) is not None for kind in LIST_KINDS) != 1:
            raise shape_error("a list states its kind and name once, e.g. `skus: n_plus_one`")
        if (self.items is None) == (self.from_ is None) or (self.from_ is None) != (self.column is None):
            raise shape_error("a list has either `items` or both `from` and `column`")
        return self


class Group(_Mapping):
    what = "a group"
    name: Text
    title: Value = None
    priority: Text = absent()
    stacking: Text = absent("first_by_priority, best_for_customer, stack_all or stack_up_to N")
    basis: Text = absent("original or discounted")
    arm: Text = absent()
    order: Text = absent()


Then = Text | list[Text | list[Text]]
Listed = Text | Names  # `stores: [S001, S002]` or `stores: S001_list`


class _ClauseKeys(_Mapping):
    """The clause keys of a campaign or template; their values are the .loya text after the keyword."""

    group: Text = absent()
    priority: Text = absent()
    valid: Text = absent("e.g. `2025-01-01 .. 2025-12-31`")
    weekdays: Listed = absent()
    hours: Text = absent("e.g. `10:00 .. 16:00`")
    stores: Listed = absent()
    channels: Listed = absent()
    audience: Text = absent()
    when: Text = absent()
    then: Then = absent("one item per `then` clause: an action, or a list of actions")
    limit: Text = absent()
    max_discount: Text = absent(alias="max discount")
    max_points: Text = absent(alias="max points")
    coupon: Text = absent()
    budget: Text = absent()
    arm: Text = absent()
    exclusive: Text = absent()
    redistribute: Text = absent()
    reward: Text = absent()
    message: Text = absent()
    redemptions: Text = absent()


class ClauseEntry(_ClauseKeys, _OneKey):
    """An entry of `clauses`: one clause key (when clause kinds repeat)."""

    what, entries = "a clause", "`clauses`"
    unknown: ClassVar[str] = "unknown clause `{key}`"


CLAUSE_KEYS = tuple(f.alias or name for name, f in _ClauseKeys.model_fields.items())


class Clauses(_ClauseKeys):
    clauses: list[ClauseEntry] = absent("clauses as one-key mappings, when kinds repeat")

    @model_validator(mode="after")
    def _keys_or_list(self) -> Clauses:
        if self.clauses is not None and self.model_fields_set & set(_ClauseKeys.model_fields):
            raise shape_error("write clauses either as keys or in `clauses`, not both", at=("clauses",))
        return self


class Template(Clauses):
    what = "a template"
    name: Text
    title: Value = None
    params: Pairs[Text] | None = absent("{PARAM: TYPE}")


class Campaign(Clauses):
    what = "a campaign"
    name: Text
    title: Value = None
    uses: Text = absent("a template use, e.g. `every_nth_free(items = n_plus_one, n = 3)`")


class Account(_Mapping):
    what = "an account"
    name: Text
    title: Value = None
    activation: Text = absent()
    expiry: Text = absent()
    spend: Text = absent()
    credit: Text = absent()
    repay: Text = absent()
    shortfall: Text = absent()
    notify: Text = absent()
    default: Flag = absent()


class Redemption(_Mapping):
    what = "`redemption`"
    accounts: Text | Annotated[Names, Field(min_length=1)] = absent()
    max_share: Text = absent(alias="max share")
    min_payment: Text = absent(alias="min payment")
    exclude: Text = absent()
    accrue_on_redeemed: Flag = absent(alias="accrue on redeemed")
    steps: Text = absent()
    accrue: Text = absent()


class Level(_Mapping):
    what = "a tier level"
    level: Text
    threshold: Text
    benefits: Pairs[Text] | None = None


class Tiers(_Mapping):
    what = "a tier ladder"
    name: Text
    title: Value = None
    qualify: Text = Field(description="e.g. `spend over quarter`")
    levels: list[Level] = absent()


class Counter(_Mapping):
    """`{counter: NAME, reset: ...}` or `{chips: NAME, earn: ..., valid: ..., reset: ...}`."""

    what = "a counter"
    counter: Text = absent()
    chips: Text = absent()
    title: Value = None
    earn: Text = absent()
    valid: Text = absent()
    reset: Text = absent()

    @model_validator(mode="after")
    def _one_kind(self) -> Counter:
        if (self.counter is None) == (self.chips is None):
            raise shape_error("a counter states its kind and name once: `counter: coffee` or `chips: stickers`")
        for key in ("earn", "valid"):
            if self.counter is not None and getattr(self, key) is not None:
                raise shape_error(f"a counter has no `{key}`", at=(key,), key=True,
                                  hint="only chips earn and have a `valid` window")
        return self


class Coupons(_Mapping):
    what = "a coupon series"
    name: Text
    title: Value = None
    code: Text = absent()
    valid: Text = absent()
    uses: Text = absent()
    per_customer: Text = absent(alias="per customer")


class Certificates(_Mapping):
    what = "a certificate series"
    name: Text
    title: Value = None
    sold_skus: Listed = absent(alias="sold skus")
    expiry: Text = absent()
    use: Literal["multi", "single"] = absent()
    per_unit: Flag = absent(alias="per unit")


class Referral(_Mapping):
    what = "`referral`"
    qualify: Text = absent()
    referrer: Text = absent()
    newcomer: Text = absent()


class Experiment(_Mapping):
    what = "an experiment"
    name: Text
    title: Value = None
    salt: Text = absent()
    arms: Pairs[Text] = Field(description="{ARM: SHARE}, e.g. {offer: 45%}")
    anonymous: Text = absent()


class Assertion(_Mapping):
    what = "an assertion"
    name: Text
    title: Value = None
    that: Text


class Lifecycle(_Mapping):
    what = "`lifecycle`"
    new: Text = absent()
    active: Text = absent()
    sleeping: Text = absent()


class Score(_Mapping):
    what = "a score"
    name: Text
    title: Value = None
    of: Text
    bins: Names = absent()


class Segment(_Mapping):
    what = "a segment"
    name: Text
    title: Value = None
    when: Text


class Step(_Mapping):
    what = "a step"
    after: Text = absent()
    if_: Text = absent(alias="if")
    do: Names


class Trigger(_Mapping):
    what = "a trigger"
    name: Text
    title: Value = None
    event: Text = Field(description="e.g. `first purchase`")
    exit: Text = absent()
    window: Text = absent()
    cap: Text = absent()
    quiet: Text = absent()
    steps: list[Step]
    exits: Names = absent()  # `[on coupon redeemed, on segment left vip, ...]` (docs/triggers.md, "Exits")


# ------------------------------------------------------------------------------------ offer strategies (docs/offers.md)


Setting = Text | Names | dict[str, Text]  # `holdout: 10%`, `categories: [coffee, tea]`, `coupon: {COFFEE: c10}`
_WORD = re.compile(r"[^\W\d]\w*\Z")  # the grammar's NAME (grammar/loya.lark): what .loya reads as a setting


def _words(data: Any, under: tuple[str, ...] = ()) -> None:
    """Settings and rules (the keys of ``data``, found ``under`` a key of the mapping) are words, as in .loya."""
    for key in data if isinstance(data, dict) else ():
        if not _WORD.match(key):
            raise shape_error(f"`{key}` is not a setting name", at=(*under, key),
                              hint="a setting is a word: letters, digits and _, as in .loya")


class Offer(_Mapping):
    """An offer of a strategy: its settings, and its rules under `when`."""

    what = "an offer"
    name: Text
    coupon: Setting = absent()
    discount: Setting = absent()
    amount: Setting = absent()
    valid: Setting = absent()
    target: Setting = absent()
    categories: Setting = absent()
    top: Setting = absent()
    when: dict[str, Setting] = absent("the offer's rules, e.g. {p_alive_below: 0.5}")
    message: Setting = absent()
    cashier: Setting = absent()
    code_prefix: Setting = absent()

    @model_validator(mode="before")
    @classmethod
    def _rules(cls, data: Any) -> Any:
        rules = data.get("when") if isinstance(data, dict) else None
        _words(rules, under=("when",))
        for key in rules if isinstance(rules, dict) else ():
            if key in cls.model_fields and key != "when":  # an offer's own setting would be given twice
                raise shape_error(f"`{key}` is a setting of the offer, not a rule", at=("when", key), key=True,
                                  hint="move it out of `when`")
        return data


class Strategy(_Mapping):
    """A strategy file's content: `strategy: NAME`, its settings (any word), and its offers."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"propertyNames": {"pattern": _WORD.pattern}})
    __pydantic_extra__: dict[str, Setting] = Field(init=False)
    what = "a strategy"
    strategy: Text
    title: Value = None
    offers: list[Offer] = absent()

    @model_validator(mode="before")
    @classmethod
    def _settings(cls, data: Any) -> Any:
        _words(data)
        return data


Profile = dict[str, Text]


class Declaration(_OneKey):
    """One entry of `declarations:` (when kinds interleave): a one-key mapping naming its kind."""

    what, entries = "a declaration", "`declarations`"
    unknown: ClassVar[str] = "unknown declaration `{key}`"
    list_: ListDecl = absent(alias="list")
    group: Group = absent()
    template: Template = absent()
    campaign: Campaign = absent()
    account: Account = absent()
    redemption: Redemption = absent()
    tiers: Tiers = absent()
    counter: Counter = absent()
    coupons: Coupons = absent()
    certificates: Certificates = absent()
    referral: Referral = absent()
    experiment: Experiment = absent()
    assert_: Assertion = absent(alias="assert")
    profile: Profile = absent()
    lifecycle: Lifecycle = absent()
    score: Score = absent()
    segment: Segment = absent()
    trigger: Trigger = absent()
    strategy: Strategy = absent()


class YamlProgramme(_Mapping):
    """A loyalty programme in YAML: `programme`, `imports`, then its declarations by section."""

    what = "the document"
    programme: Header = absent()
    imports: Names = absent("e.g. ['std:n_plus_one']")
    lists: list[ListDecl] = absent()
    groups: list[Group] = absent()
    templates: list[Template] = absent()
    campaigns: list[Campaign] = absent()
    accounts: list[Account] = absent()
    redemption: Redemption | list[Redemption] = absent()
    tiers: Tiers | list[Tiers] = absent()
    counters: list[Counter] = absent()
    coupons: list[Coupons] = absent()
    certificates: list[Certificates] = absent()
    referral: Referral | list[Referral] = absent()
    experiments: list[Experiment] = absent()
    asserts: list[Assertion] = absent()
    profile: Profile | list[Profile] = absent()
    lifecycle: Lifecycle | list[Lifecycle] = absent()
    scores: list[Score] = absent()
    segments: list[Segment] = absent()
    triggers: list[Trigger] = absent()
    strategies: list[Strategy] = absent(
        "offer strategies, each a strategy file's content (docs/offers.md); `loya offers` checks them")
    declarations: list[Declaration] = absent()


def keys(model: type[BaseModel]) -> tuple[str, ...]:
    """The keys a mapping of this model allows, as written in YAML, in declaration order."""
    return tuple(f.alias or name for name, f in model.model_fields.items())
