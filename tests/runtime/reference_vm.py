"""A plain interpreter of the bytecode, for the differential test of the code generator (runtime/jit.py).

Written from the semantics alone (runtime/opcodes.py's table and comments, docs/bundle.md, the
verifier's rules), and as unlike the generator as it can be: a program counter walks a block's
instructions over a stack of values, IF/ELSE/AND/OR jump to their matching END, a predicate runs
once per line, an aggregate or an action re-selects its lines, and rounding is computed with
``fractions.Fraction``. Test code: it is slow, simple and never shipped.

What it computes is what the generated functions return: a predicate's selected lines, a block's
value, and for a campaign its rejection reason (docs/bundle.md, "Evaluation": footprint, experiment arm, audience,
condition) or, when it runs its actions, the reward calls ``(op, reference, arguments)`` in order.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from loyadsl.runtime.bundle import Bundle, Campaign, Code
from loyadsl.runtime.experiments import arm_of
from loyadsl.runtime.model import CustomerView, Line
from loyadsl.runtime.opcodes import OPCODES, Op

Call = tuple[str, Any, tuple[int, ...]]  # (op, predicate or combo index | state name, popped arguments)


@dataclass
class ReceiptFacts:
    """What RECEIPT reads, by the field names of ``opcodes.RECEIPT_FIELDS``, and the lines."""

    fields: dict[str, Any]
    lines: Sequence[Line]


def category_below(category: str, members: frozenset[str]) -> bool:
    """The category is a member, or a path below one (``dairy/milk`` below ``dairy``)."""
    return any(category == m or category.startswith(m + "/") for m in members)


def rounded(n: int, d: int, mode: str) -> int:
    x = Fraction(n, d)
    if mode == "floor":
        return math.floor(x)
    if mode == "ceil":
        return math.ceil(x)
    if mode == "half_even":
        return round(x)  # Fraction rounds ties to even
    assert mode == "half_up"  # ties away from zero
    magnitude = math.floor(abs(x) + Fraction(1, 2))
    return magnitude if x >= 0 else -magnitude


BINARY: dict[Op, Callable[[Any, Any], Any]] = {
    Op.ADD: operator.add, Op.SUB: operator.sub, Op.MUL: operator.mul, Op.MIN: min, Op.MAX: max,
    Op.EQ: operator.eq, Op.NE: operator.ne, Op.LT: operator.lt, Op.LE: operator.le, Op.GT: operator.gt,
    Op.GE: operator.ge, Op.IN: lambda item, members: item in members, Op.CATEGORY_IN: category_below,
    Op.SUBSET_ANY: lambda a, b: bool(a & b),
}
UNARY: dict[Op, Callable[[Any], Any]] = {Op.NEG: operator.neg, Op.NOT: operator.not_}
AGGREGATE: dict[Op, Callable[[Sequence[Line]], int]] = {
    Op.SUM: lambda lines: sum(line.amount for line in lines),
    Op.COUNT: len,
    Op.QTY: lambda lines: sum(line.qty for line in lines),
    Op.UNITS: lambda lines: sum(line.units for line in lines),
}
STATE_READS = {Op.COUNTER: "counters", Op.BALANCE: "balances", Op.BENEFIT: "benefits"}


def matching(code: Code) -> dict[int, int]:
    """For each IF, AND, OR: the index of its ELSE (IF with an else arm) or END; for each ELSE: its END."""
    jumps: dict[int, int] = {}
    open_: list[int] = []
    for pc, instr in enumerate(code):
        op = instr[0]
        if op in (Op.IF, Op.AND, Op.OR):
            open_.append(pc)
        elif op == Op.ELSE:
            jumps[open_[-1]] = pc
            open_[-1] = pc
        elif op == Op.END:
            jumps[open_.pop()] = pc
    return jumps


class ReferenceVM:
    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        self.jumps = {id(code): matching(code) for code in self._codes()}

    def _codes(self) -> list[Code]:
        blocks = [c for camp in self.bundle.campaigns for c in (camp.audience, camp.condition, camp.actions)]
        return [*self.bundle.predicates, *(c for c in blocks if c is not None)]

    # ------------------------------------------------------------------------------- blocks
    def select(self, index: int, receipt: ReceiptFacts, cu: CustomerView) -> list[Line]:
        code = self.bundle.predicates[index]
        return [line for line in receipt.lines if self.run(code, receipt, cu, line)[0] == [True]]

    def value(self, code: Code, receipt: ReceiptFacts, cu: CustomerView) -> bool:
        stack, calls = self.run(code, receipt, cu)
        assert not calls and len(stack) == 1 and type(stack[0]) is bool
        return stack[0]

    def campaign(self, c: Campaign, receipt: ReceiptFacts, cu: CustomerView) -> tuple[str | None, list[Call]]:
        reason = self.footprint(c, receipt)
        if reason is None and c.arm is not None:  # docs/experiments.md: the arm, by the documented hash
            x = self.bundle.experiments[c.arm.experiment]
            arm = arm_of(x.arms, x.salt, cu.id) if cu.id else x.anonymous
            if arm not in c.arm.arms:
                reason = "not_in_arm"
        if reason is None and c.audience is not None and not self.value(c.audience, receipt, cu):
            reason = "audience"
        if reason is None and c.condition is not None and not self.value(c.condition, receipt, cu):
            reason = "condition_false"
        if reason is not None:
            return reason, []
        stack, calls = self.run(c.actions, receipt, cu)
        assert stack == []
        return None, calls

    @staticmethod
    def footprint(c: Campaign, receipt: ReceiptFacts) -> str | None:
        f, r = c.footprint, receipt.fields
        if f.dates is not None and not f.dates[0] <= r["date"] <= f.dates[1]:
            return "outside_dates"
        if f.weekdays is not None and r["weekday"] not in f.weekdays:
            return "wrong_weekday"
        if f.hours is not None:
            start, end = f.hours
            inside = start <= r["time"] < end if start < end else (r["time"] >= start or r["time"] < end)
            if not inside:
                return "outside_hours"
        for flt, value, reason in ((f.stores, r["store"], "store_not_eligible"),
                                   (f.channels, r["channel"], "channel_not_eligible")):
            if flt is not None and (value in flt.values) == flt.negated:
                return reason
        if f.needs_skus is not None and not any(line.sku in f.needs_skus for line in receipt.lines):
            return "no_eligible_items"
        return None

    # ------------------------------------------------------------------------------- the machine
    def run(self, code: Code, receipt: ReceiptFacts, cu: CustomerView,
            line: Line | None = None) -> tuple[list[Any], list[Call]]:
        """Run one block to its RET: the stack it leaves and the reward calls it made."""
        jumps = self.jumps[id(code)]
        constants = self.bundle.constants
        stack: list[Any] = []
        calls: list[Call] = []
        pc = 0
        while True:
            op = code[pc][0]
            operand: Any = code[pc][1] if len(code[pc]) > 1 else None
            pc += 1
            if op == Op.RET:
                return stack, calls
            if op in BINARY:
                b, a = stack.pop(), stack.pop()
                stack.append(BINARY[op](a, b))
            elif op in UNARY:
                stack.append(UNARY[op](stack.pop()))
            elif op == Op.MULDIV:
                b, a = stack.pop(), stack.pop()
                stack.append(rounded(a * b, operand[0], operand[1]))
            elif op == Op.CONST:
                stack.append(constants[operand])
            elif op == Op.RECEIPT:
                stack.append(receipt.fields[operand])
            elif op == Op.CUSTOMER:
                stack.append(getattr(cu, operand))
            elif op == Op.CUSTOMER_ATTR:
                stack.append(cu.attrs.get(constants[operand], ""))
            elif op == Op.LINE:
                stack.append(getattr(line, operand))
            elif op == Op.LINE_ATTR:
                assert line is not None
                stack.append(line.attrs.get(constants[operand], ""))
            elif op in STATE_READS:
                stack.append(getattr(cu, STATE_READS[op]).get(constants[operand], 0))
            elif op in AGGREGATE:
                stack.append(AGGREGATE[op](self.select(operand, receipt, cu)))
            elif op in (Op.AND, Op.OR):
                decided = stack.pop() is (op == Op.OR)  # AND decided by false, OR by true
                if decided:
                    stack.append(op == Op.OR)
                    pc = jumps[pc - 1] + 1
            elif op == Op.IF:
                if not stack.pop():
                    pc = jumps[pc - 1] + 1  # past the ELSE into the else arm, or past END
            elif op == Op.ELSE:  # the then arm is done
                pc = jumps[pc - 1] + 1
            elif op == Op.END:
                pass
            else:  # an action
                spec = OPCODES[op]
                n = len(spec.pops)
                args = tuple(stack[len(stack) - n:])
                del stack[len(stack) - n:]
                named = spec.names is not None or spec.operand == "const"  # GIFT: a constant set of SKUs
                calls.append((str(op), constants[operand] if named else operand, args))
