"""The bundle's payload (docs/bundle.md) as pydantic models (issue 16, item 2): ``loya schema bundle``
prints its JSON Schema, for a POS team reading bundles in another language.

The schema states the payload's structure: its sections, the required fields and their types,
integers only (no floats: money in minor units, shares in ppm), the closed vocabularies (stacking,
basis, rounding, allocation). What a structure cannot say — an index within the bundle's predicates
or groups, a sorted set, the bytecode's typing — the loader checks (``runtime/bundle.py``, LOY404
and LOY405) and docs/bundle.md describes. Sections that grow with features (a campaign's state
fields, ``settings.commerce``, ``triggers``) are typed where named and open to more keys.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema

from loyadsl.runtime.bundle import BASES, ORDERS, STACKING_MODES
from loyadsl.runtime.limits import MAX_VALUE
from loyadsl.runtime.money import ALLOCATION_MODES
from loyadsl.runtime.opcodes import COMBO_REWARDS, ROUNDING_MODES


def _in(values: tuple[str, ...]) -> AfterValidator:
    """A string from the runtime's own vocabulary (one source: the loader checks the same tuple)."""
    def check(value: str) -> str:
        if value not in values:
            raise ValueError(f"expected one of {', '.join(values)}")
        return value
    return AfterValidator(check)


def _enum(values: tuple[str, ...]) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "enum": list(values)})


Int = Annotated[int, Field(ge=-MAX_VALUE, le=MAX_VALUE)]
Count = Annotated[int, Field(ge=0, le=MAX_VALUE)]
# the compiler writes identifiers; the loader reads a name as any text (a name is only ever compared), and
# the schema is no stricter than the till (tests/test_schema_contracts.py)
Name = Annotated[str, StringConstraints(min_length=0)]
Instruction = Annotated[list[Any], Field(min_length=1, max_length=2, description="[OP] or [OP, operand]")]
Code = list[Instruction]
RoundingMode = Annotated[str, _in(ROUNDING_MODES), _enum(ROUNDING_MODES)]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class Source(_Closed):
    path: str
    sha256: str


class ProgrammeName(_Closed):
    name: str
    version: str | None = None


class Manifest(_Closed):
    format_version: Literal[2, 3] = Field(description="equal to the envelope's format_version")
    compiler_version: str
    programme: ProgrammeName
    source_hash: str
    sources: list[Source]


class Rounding(_Closed):
    discount: RoundingMode
    points: RoundingMode


class Settings(_Open):
    """Money and points settings; ``commerce``, ``fraud`` and ``people`` only when declared."""

    timezone: str = Field(description="an IANA time zone")
    currency: str
    minor: int = Field(ge=0, le=18)
    points_minor: int = Field(ge=0, le=18)
    point_value: int = Field(ge=1, description="the money value of one point, minor units")
    rounding: Rounding
    allocation: Annotated[str, _in(ALLOCATION_MODES), _enum(ALLOCATION_MODES)]
    commerce: dict[str, Any] | None = None
    fraud: dict[str, Any] | None = None
    people: dict[str, Any] | None = None


class SetConstant(_Closed):
    set: list[str] = Field(description="sorted, unique")


class Combo(_Closed):
    parts: list[Annotated[list[Count], Field(min_length=2, max_length=2)]] = Field(
        description="[predicate index, units per set]")
    reward: Annotated[str, _in(COMBO_REWARDS), _enum(COMBO_REWARDS)]
    part: Count | None


class ComboConstant(_Closed):
    combo: Combo


Constant = Int | str | bool | SetConstant | ComboConstant


class Group(_Open):
    name: Name
    title: str | None = None
    priority: Int
    stacking: Annotated[str, _in(STACKING_MODES), _enum(STACKING_MODES)]
    stacking_limit: Count | None = None
    basis: Annotated[str, _in(BASES), _enum(BASES)]
    order: Annotated[str, _in(ORDERS), _enum(ORDERS)] | None = None


class Cost(_Closed):
    fixed: Count
    per_line: Count


class Limits(_Closed):
    applications: Count | None
    discount: Count | None
    points: Count | None


class Span(_Closed):
    """Where a campaign is written (1-based; 0 where the source has no position, as the loader allows)."""

    file: str
    line: int = Field(ge=0)
    col: int = Field(ge=0)
    end_line: int = Field(ge=0)
    end_col: int = Field(ge=0)


class Footprint(_Open):
    """What a campaign can touch, for tools (collisions, the till's pre-filter)."""

    hours: Annotated[list[Count], Field(min_length=2, max_length=2)] | None = None
    weekdays: list[Annotated[int, Field(ge=1, le=7)]] | None = None
    dates: Annotated[list[Int], Field(min_length=2, max_length=2)] | None = None
    stores: dict[str, Any] | None = None
    channels: dict[str, Any] | None = None
    skus: list[str] | None = None
    categories: list[str] | None = None
    brands: list[str] | None = None
    effects: list[str] | None = None


class Campaign(_Open):
    name: Name
    title: str | None = None
    group: Count = Field(description="an index into groups")
    priority: Int
    order: Int | None = None
    condition: Code | None
    audience: Code | None = None
    actions: Code
    limits: Limits
    cost: Cost
    footprint: Footprint | None = None
    span: Span | None = None


class State(_Open):
    """The customer-state declarations (docs/state.md): accounts, redemption, tiers, counters, coupons,
    certificates, referral."""

    accounts: list[dict[str, Any]] = []
    default_account: str | None = None
    redemption: dict[str, Any] | None = None
    tiers: dict[str, Any] | None = None
    counters: list[dict[str, Any]] = []
    coupons: list[dict[str, Any]] = []
    certificates: list[dict[str, Any]] = []
    referral: dict[str, Any] | None = None


class BundlePayload(_Open):
    """The JSON after the envelope line of a bundle file (docs/bundle.md, "The payload")."""

    manifest: Manifest
    settings: Settings
    predicates: list[Code]
    constants: list[Constant]
    groups: list[Group]
    campaigns: list[Campaign]
    sku_index: dict[str, list[Count]]
    cost: Cost
    state: State
    experiments: list[dict[str, Any]] | None = None
    triggers: list[dict[str, Any]] | None = None
    messages: list[dict[str, Any]] | dict[str, Any] | None = None
