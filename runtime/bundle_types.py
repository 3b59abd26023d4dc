"""The bundle's model: the typed, validated structures ``bundle.load_bundle`` builds and the
verifier, the code generator (jit) and the engine read (docs/bundle.md).

Its own module, below both the loader and the verifier: ``bundle`` imports ``verify``, and both
import these types, so neither imports the other's module back. ``loyadsl.runtime.bundle`` re-exports
every name here, its public path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .commerce import Commerce
from .declarations import NO_CAMPAIGN_STATE, NO_STATE, CampaignState, StateDecls
from .experiments import ArmGate, Experiment
from .triggers.spec import Send, Trigger

Instr = tuple[Any, ...]  # (Op,) or (Op, operand); operands are vetted by ``verify``
Code = tuple[Instr, ...]


@dataclass(frozen=True, slots=True)
class ComboSpec:
    parts: tuple[tuple[int, int], ...]  # (predicate index, units needed per set)
    reward: str  # percent_on_part | amount_per_set | set_price
    part: int | None  # the discounted part (percent_on_part)


Constant = int | str | bool | frozenset[str] | ComboSpec


@dataclass(frozen=True, slots=True)
class Manifest:
    format_version: int
    compiler_version: str
    programme_name: str
    programme_version: str | None
    source_hash: str
    sources: tuple[tuple[str, str], ...]  # (path, sha256)


@dataclass(frozen=True, slots=True)
class FraudLimits:
    """The programme's anti-fraud limits per card (docs/limits-fraud.md): the most points per period
    (receipt, day, week, month, year), the most receipts per period, and a velocity flag for more
    than ``velocity[0]`` receipts in a window of ``velocity[1]`` seconds."""

    points: tuple[tuple[str, int], ...] = ()
    receipts: tuple[tuple[str, int], ...] = ()
    velocity: tuple[int, int] | None = None

    def to_dict(self) -> dict[str, object]:
        return {"points": [list(p) for p in self.points], "receipts": [list(r) for r in self.receipts],
                "velocity": None if self.velocity is None else list(self.velocity)}


@dataclass(frozen=True, slots=True)
class Partner:
    """A coalition partner: its receipts (channel ``name``) earn ``rate`` (ppm) of the points the
    campaigns give; points earned and spent there are settled at ``price`` (money minor units per
    10^points_minor points)."""

    name: str
    rate: int
    price: int


@dataclass(frozen=True, slots=True)
class People:
    """The header's staff rule (``("segment", "employees")`` or ``("attr", "employee")``; staff earn
    no points) and partners (docs/limits-fraud.md)."""

    staff: tuple[str, str] | None = None
    partners: tuple[Partner, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"staff": None if self.staff is None else list(self.staff),
                "partners": [{"name": p.name, "rate": p.rate, "price": p.price} for p in self.partners]}


@dataclass(frozen=True, slots=True)
class Settings:
    currency: str
    minor: int
    points_minor: int
    point_value: int  # money minor units one point (x 10^points_minor) is worth
    timezone: str
    rounding_discount: str
    rounding_points: str
    allocation: str
    commerce: Commerce | None = None  # line kinds and tax (docs/commerce.md); None: not declared
    fraud: FraudLimits | None = None  # anti-fraud limits (docs/limits-fraud.md)
    people: People | None = None  # staff and partners (docs/limits-fraud.md)


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    title: str | None
    priority: int
    stacking: str
    stacking_limit: int | None
    basis: str
    order: str = "priority"  # or "declared": campaigns one after another as written (docs/order.md)


@dataclass(frozen=True, slots=True)
class SetFilter:
    negated: bool
    values: frozenset[str]

    def admits(self, value: str) -> bool:
        return (value in self.values) is not self.negated


@dataclass(frozen=True, slots=True)
class AudienceSummary:
    known: bool
    tiers: tuple[str, ...]
    segments: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Footprint:
    """The window and filters the engine checks before running code, plus what analyses read."""

    dates: tuple[int, int] | None  # inclusive proleptic ordinals
    weekdays: frozenset[int] | None  # ISO
    hours: tuple[int, int] | None  # seconds, [start, end), end <= start crosses midnight
    stores: SetFilter | None
    channels: SetFilter | None
    needs_skus: tuple[str, ...] | None
    categories: tuple[str, ...] = ()
    skus: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    min_total: int | None = None
    audience: AudienceSummary | None = None
    effects: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Limits:
    applications: int | None
    discount: int | None
    points: int | None


@dataclass(frozen=True, slots=True)
class Span:
    file: str
    line: int
    col: int
    end_line: int
    end_col: int


@dataclass(frozen=True, slots=True)
class Campaign:
    index: int
    name: str
    title: str | None
    group: int
    priority: int
    order: int
    footprint: Footprint
    audience: Code | None
    condition: Code | None
    actions: Code
    limits: Limits
    multiplier_base: str | None
    span: Span | None
    cost_fixed: int
    cost_per_line: int
    state: CampaignState = NO_CAMPAIGN_STATE  # account, coupon, usage limit, budget (docs/state.md)
    arm: ArmGate | None = None  # the experiment arms it runs for (docs/experiments.md)
    exclusive: str | None = None  # "receipt" | "lines" (docs/order.md)
    redistribute: bool = False  # what floors cut goes to its other lines (docs/order.md)


@dataclass(frozen=True, slots=True)
class Bundle:
    manifest: Manifest
    settings: Settings
    constants: tuple[Constant, ...]
    predicates: tuple[Code, ...]
    groups: tuple[Group, ...]
    campaigns: tuple[Campaign, ...]
    sku_index: dict[str, tuple[int, ...]]
    cost_fixed: int
    cost_per_line: int
    state: StateDecls = NO_STATE  # accounts, tiers, counters, coupons ... (docs/state.md)
    experiments: tuple[Experiment, ...] = ()  # docs/experiments.md
    triggers: tuple[Trigger, ...] = ()  # docs/triggers.md (the payload's optional "triggers")
    messages: tuple[tuple[str, tuple[Send, ...]], ...] = ()  # campaign -> its till messages ("messages")
    digest: str = ""
    signed: bool = False
    key_id: str | None = None
    signature_verified: bool = False
    bytecode_verified: bool = False  # set by load_bundle; an Engine verifies a bundle that is not
