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
    per: str = "receipt"


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
class Import(Node):
    path: str  # "std:n_plus_one" (stdlib_mechanics/n_plus_one.loya) or a path relative to the file


@dataclass(frozen=True)
class Rounding(Node):
    target: str  # "discount" | "points"
    mode: str  # floor | ceil | half_up | half_even


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


@dataclass(frozen=True)
class Module(Node):
    """One source file. ``header`` is required in the main file and absent in imported ones."""

    header: Header | None
    imports: tuple[Import, ...]
    decls: tuple[Decl, ...]
