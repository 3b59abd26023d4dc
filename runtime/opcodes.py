"""The bytecode instruction set: the one table the compiler emits from and the verifier checks against.

An instruction is a JSON array ``[MNEMONIC]`` or ``[MNEMONIC, OPERAND]``. Values on the stack have one
of four kinds: ``int`` (every number: money in minor units, points in point minor units, quantities in
thousandths, percentages in millionths of the whole (10% = 100000), counts, dates as proleptic
ordinals, times of day in seconds), ``bool``, ``str`` and ``set`` (a frozen set of strings).

Control flow is structured, as in WebAssembly: ``IF .. [ELSE ..] END``, ``AND .. END`` and
``OR .. END`` nest properly, there are no jumps and no loops. Iteration exists only inside the
aggregate and action instructions, which walk the receipt's lines with a predicate block. So every
block terminates, and its cost is bounded by ``fixed + per_line x lines``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any

INT, BOOL, STR, SET = "int", "bool", "str", "set"


class Block(Enum):
    """Which kind of code block an instruction may appear in."""

    PREDICATE = "predicate"  # runs per line, returns bool; may read LINE fields
    AUDIENCE = "audience"  # returns bool; may read CUSTOMER only
    CONDITION = "condition"  # returns bool; receipt, customer, aggregates
    ACTIONS = "actions"  # returns nothing; emits rewards


ALL = frozenset(Block)
NOT_LINE = frozenset({Block.AUDIENCE, Block.CONDITION, Block.ACTIONS})
RECEIPT_LEVEL = frozenset({Block.CONDITION, Block.ACTIONS})
LINE_ONLY = frozenset({Block.PREDICATE})
ACTIONS_ONLY = frozenset({Block.ACTIONS})


@dataclass(frozen=True)
class OpSpec:
    """Stack effect and where the instruction may appear.

    ``pops`` lists the kinds popped, deepest first; ``pushes`` the kind pushed (or None).
    ``operand`` names what the operand is: None, "const" (index into the constant pool),
    "predicate" (index into the predicate table), "field" (a name from the op's ``fields``),
    "muldiv" ([denominator, rounding mode]), "combo" (index of a combo spec in the constant pool).
    For EQ/NE the two operands may be of any one kind ("any").
    """

    pops: tuple[str, ...]
    pushes: str | None
    blocks: frozenset[Block]
    operand: str | None = None
    fields: tuple[tuple[str, str], ...] = ()  # for operand "field": (name, kind pushed)
    cost: int = 1  # static cost units, once per run of the block (see ``code_cost``)
    per_line: int = 0  # units per line (per part's line for COMBO) of its own work beyond its predicate
    names: str | None = None  # for state ops: the const operand is a string naming a declared
    # counter | account | benefit | series (the bundle's "state" section), see ``NAMED_KINDS``


class Op(StrEnum):
    """The instruction mnemonics: a ``str`` enum, so a member is its mnemonic (``Op.ADD == "ADD"``, and
    it is written to JSON as ``"ADD"``). The loader turns a bundle's mnemonics into members once."""

    CONST = "CONST"
    RECEIPT = "RECEIPT"
    CUSTOMER = "CUSTOMER"
    CUSTOMER_ATTR = "CUSTOMER_ATTR"
    LINE = "LINE"
    LINE_ATTR = "LINE_ATTR"
    ADD = "ADD"
    SUB = "SUB"
    MUL = "MUL"
    NEG = "NEG"
    MULDIV = "MULDIV"
    MIN = "MIN"
    MAX = "MAX"
    EQ = "EQ"
    NE = "NE"
    LT = "LT"
    LE = "LE"
    GT = "GT"
    GE = "GE"
    NOT = "NOT"
    IN = "IN"
    CATEGORY_IN = "CATEGORY_IN"
    SUBSET_ANY = "SUBSET_ANY"
    AND = "AND"
    OR = "OR"
    IF = "IF"
    ELSE = "ELSE"
    END = "END"
    RET = "RET"
    SUM = "SUM"
    COUNT = "COUNT"
    QTY = "QTY"
    UNITS = "UNITS"
    DISCOUNT_LINES = "DISCOUNT_LINES"
    DISCOUNT_TOTAL = "DISCOUNT_TOTAL"
    DISCOUNT_AMOUNT = "DISCOUNT_AMOUNT"
    DISCOUNT_PER_UNIT = "DISCOUNT_PER_UNIT"
    SET_PRICE = "SET_PRICE"
    FREE_UNITS = "FREE_UNITS"
    FREE_CHEAPEST = "FREE_CHEAPEST"
    COMBO = "COMBO"
    ACCRUE_TOTAL = "ACCRUE_TOTAL"
    ACCRUE_FIXED = "ACCRUE_FIXED"
    COUNTER = "COUNTER"
    BALANCE = "BALANCE"
    BENEFIT = "BENEFIT"
    ADD_COUNTER = "ADD_COUNTER"
    SPEND_COUNTER = "SPEND_COUNTER"
    ISSUE_COUPON = "ISSUE_COUPON"
    # unit-level discounts (docs/units.md)
    NTH_UNIT_PERCENT = "NTH_UNIT_PERCENT"
    NTH_UNIT_PERCENT_LINE = "NTH_UNIT_PERCENT_LINE"
    NTH_UNIT_AMOUNT = "NTH_UNIT_AMOUNT"
    NTH_UNIT_PRICE = "NTH_UNIT_PRICE"
    GIFT = "GIFT"  # docs/rewards.md: a product line for the till to add
    METRIC = "METRIC"
    PROFILE = "PROFILE"


ROUNDING_MODES = ("floor", "ceil", "half_up", "half_even")

RECEIPT_FIELDS = (
    ("total", INT),  # sum of original amounts, minor units
    ("payable", INT),  # what is left to pay when the campaign's group starts
    ("lines", INT),  # number of lines
    ("units", INT),  # sum of quantities, thousandths
    ("store", STR),
    ("channel", STR),
    ("date", INT),  # local date, proleptic Gregorian ordinal
    ("weekday", INT),  # local ISO weekday, 1 = Monday
    ("time", INT),  # local time of day, seconds
)
CUSTOMER_FIELDS = (
    ("known", BOOL),
    ("id", STR),
    ("tier", STR),
    ("segments", SET),
    ("receipts", INT),  # purchases so far (docs/state.md)
)
LINE_FIELDS = (
    ("sku", STR),
    ("category", STR),
    ("brand", STR),
    ("qty", INT),  # thousandths
    ("units", INT),  # whole units: floor(qty)
    ("price", INT),  # unit price, minor units
    ("amount", INT),  # original amount, minor units
    ("payable", INT),  # what is left of it when the campaign's group starts (docs/order.md)
    ("discounted", BOOL),  # payable < amount
    ("kind", STR),  # goods | service | delivery | deposit | correction (docs/commerce.md)
)

# Cost weights (docs/bundle.md, "Static cost"): one unit is about one simple operation of generated
# code on one value (~20 ns in realistic code, ~140 ns at worst: bench/hostile.py). A block's run costs
# its call (RET); each line an aggregate or an action reads costs its predicate and the op's own work
# on the line; an action's work includes the engine's (the discount or points vector, its allocation,
# capping and application to the receipt's lines).
BLOCK_CALL = 4
ACTION_LINE = 8
UNIT_LINE = 12  # sorts the selected lines' units by value
COMBO_LINE = 160  # per part: sorts, takes the cheapest units (when parts share lines, a binary search of up to
# 33 takes for the most sets they can fill: log2(MAX_QTY x MAX_RECEIPT_LINES)), walks the sets' make-up

OPCODES: dict[Op, OpSpec] = {
    # constants and loads
    Op.CONST: OpSpec((), "const", ALL, "const"),  # pushes the kind of the constant
    Op.RECEIPT: OpSpec((), "field", RECEIPT_LEVEL, "field", RECEIPT_FIELDS),
    Op.CUSTOMER: OpSpec((), "field", ALL, "field", CUSTOMER_FIELDS),
    Op.CUSTOMER_ATTR: OpSpec((), STR, ALL, "const"),  # operand: const index of the attribute name
    Op.LINE: OpSpec((), "field", LINE_ONLY, "field", LINE_FIELDS),
    Op.LINE_ATTR: OpSpec((), STR, LINE_ONLY, "const"),
    # arithmetic on ints
    Op.ADD: OpSpec((INT, INT), INT, ALL),
    Op.SUB: OpSpec((INT, INT), INT, ALL),
    Op.MUL: OpSpec((INT, INT), INT, ALL),
    Op.NEG: OpSpec((INT,), INT, ALL),
    Op.MULDIV: OpSpec((INT, INT), INT, ALL, "muldiv"),  # round(a * b / denominator, mode)
    Op.MIN: OpSpec((INT, INT), INT, ALL),
    Op.MAX: OpSpec((INT, INT), INT, ALL),
    # comparisons
    Op.EQ: OpSpec(("any", "any"), BOOL, ALL),
    Op.NE: OpSpec(("any", "any"), BOOL, ALL),
    Op.LT: OpSpec((INT, INT), BOOL, ALL),
    Op.LE: OpSpec((INT, INT), BOOL, ALL),
    Op.GT: OpSpec((INT, INT), BOOL, ALL),
    Op.GE: OpSpec((INT, INT), BOOL, ALL),
    # logic and sets
    Op.NOT: OpSpec((BOOL,), BOOL, ALL),
    Op.IN: OpSpec((STR, SET), BOOL, ALL),  # string in set
    Op.CATEGORY_IN: OpSpec((STR, SET), BOOL, ALL),  # category equals or lies below a member path
    Op.SUBSET_ANY: OpSpec((SET, SET), BOOL, ALL),  # the two sets intersect
    # structured control: AND/OR pop a bool; if it decides the result they push it and skip to the
    # matching END, else the inner block must push one bool, which becomes the result.
    Op.AND: OpSpec((BOOL,), None, ALL),
    Op.OR: OpSpec((BOOL,), None, ALL),
    Op.IF: OpSpec((BOOL,), None, ALL),
    Op.ELSE: OpSpec((), None, ALL),
    Op.END: OpSpec((), None, ALL),
    Op.RET: OpSpec((), None, ALL, cost=BLOCK_CALL),  # the last instruction of every block, and only there
    # aggregates over the lines selected by a predicate (original amounts)
    Op.SUM: OpSpec((), INT, RECEIPT_LEVEL, "predicate", per_line=1),
    Op.COUNT: OpSpec((), INT, RECEIPT_LEVEL, "predicate", per_line=1),
    Op.QTY: OpSpec((), INT, RECEIPT_LEVEL, "predicate", per_line=1),
    Op.UNITS: OpSpec((), INT, RECEIPT_LEVEL, "predicate", per_line=1),
    # actions: pop their operands, emit a reward request; the engine turns requests into money
    Op.DISCOUNT_LINES: OpSpec((INT,), None, ACTIONS_ONLY, "predicate", per_line=ACTION_LINE),  # ppm, per line
    Op.DISCOUNT_TOTAL: OpSpec((INT,), None, ACTIONS_ONLY, "predicate", per_line=ACTION_LINE),  # ppm of the sum, allocated
    Op.DISCOUNT_AMOUNT: OpSpec((INT,), None, ACTIONS_ONLY, "predicate", per_line=ACTION_LINE),  # money, allocated
    Op.DISCOUNT_PER_UNIT: OpSpec((INT,), None, ACTIONS_ONLY, "predicate", per_line=UNIT_LINE),  # money per whole unit
    Op.SET_PRICE: OpSpec((INT,), None, ACTIONS_ONLY, "predicate", per_line=ACTION_LINE),  # new unit price
    Op.FREE_UNITS: OpSpec((INT, INT), None, ACTIONS_ONLY, "predicate", per_line=UNIT_LINE),  # free, every
    Op.FREE_CHEAPEST: OpSpec((INT,), None, ACTIONS_ONLY, "predicate", per_line=UNIT_LINE),  # count
    Op.COMBO: OpSpec((INT,), None, ACTIONS_ONLY, "combo", per_line=COMBO_LINE),  # value (ppm or money)
    Op.ACCRUE_TOTAL: OpSpec((INT,), None, ACTIONS_ONLY, "predicate", per_line=ACTION_LINE),  # ppm of the accrual basis
    Op.ACCRUE_FIXED: OpSpec((INT,), None, ACTIONS_ONLY, "predicate", per_line=ACTION_LINE),  # points, allocated
    # customer state (docs/state.md): reads push the value before the receipt; requests act after it
    Op.COUNTER: OpSpec((), INT, ALL, "const", names="counter"),  # a counter's or chips' value
    Op.BALANCE: OpSpec((), INT, ALL, "const", names="account"),  # active points of the account
    Op.BENEFIT: OpSpec((), INT, ALL, "const", names="benefit"),  # the customer's level's benefit, else 0
    Op.ADD_COUNTER: OpSpec((INT,), None, ACTIONS_ONLY, "const", names="counter"),  # count (< 0 counts as 0)
    Op.SPEND_COUNTER: OpSpec((INT,), None, ACTIONS_ONLY, "const", names="counter"),  # count
    Op.ISSUE_COUPON: OpSpec((), None, ACTIONS_ONLY, "const", names="series"),  # one coupon of the series
    # unit-level discounts (docs/units.md): value, the unit's position K, the group size N; units sorted as
    # for FREE_UNITS, position K of each complete group of N gets the value: ppm rounded per unit, ppm
    # rounded per line, money off (at most the unit's value)
    Op.NTH_UNIT_PERCENT: OpSpec((INT, INT, INT), None, ACTIONS_ONLY, "predicate", per_line=UNIT_LINE),
    Op.NTH_UNIT_PERCENT_LINE: OpSpec((INT, INT, INT), None, ACTIONS_ONLY, "predicate", per_line=UNIT_LINE),
    Op.NTH_UNIT_AMOUNT: OpSpec((INT, INT, INT), None, ACTIONS_ONLY, "predicate", per_line=UNIT_LINE),
    Op.NTH_UNIT_PRICE: OpSpec((INT, INT, INT), None, ACTIONS_ONLY, "predicate", per_line=UNIT_LINE),  # new unit price
    Op.GIFT: OpSpec((INT,), None, ACTIONS_ONLY, "const"),  # a set of SKUs to choose one of; pops the price
    # profile and purchase history (docs/segments.md): values at the receipt's time, before it
    Op.METRIC: OpSpec((), INT, ALL, "const", names="metric"),  # a declared metric (spend(90 days), age(...), ...)
    Op.PROFILE: OpSpec((), STR, ALL, "const", names="profile"),  # a text profile field ("" when not filled)
}

NAMED_KINDS = ("counter", "account", "benefit", "series", "metric", "profile")  # what a state op's name operand may name

ACTION_OPS = frozenset(op for op, spec in OPCODES.items() if spec.blocks == ACTIONS_ONLY)
STATE_ACTION_OPS = frozenset(op for op in ACTION_OPS if OPCODES[op].names is not None)
AGGREGATE_OPS = frozenset({Op.SUM, Op.COUNT, Op.QTY, Op.UNITS})
COMBO_REWARDS = ("percent_on_part", "amount_per_set", "set_price")


def code_cost(
    code: Sequence[Sequence[Any]],
    predicate_length: Callable[[int], int],
    combo_predicates: Callable[[int], Iterable[int]],
) -> tuple[int, int]:
    """(fixed, per_line) static cost of a block: each instruction's ``cost``, plus, for an instruction
    that walks the lines with a predicate (or a combo's predicates), the predicate's length and the
    op's ``per_line`` work for each line. The compiler stamps this into the bundle and the verifier
    recomputes it: one rule, here (docs/bundle.md, "Static cost")."""
    fixed = per_line = 0
    for instr in code:
        spec = OPCODES[instr[0]]
        fixed += spec.cost
        if spec.operand == "predicate":
            per_line += predicate_length(instr[1]) + spec.per_line
        elif spec.operand == "combo":
            per_line += sum(predicate_length(p) + spec.per_line for p in combo_predicates(instr[1]))
    return fixed, per_line
