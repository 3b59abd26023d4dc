"""IR to bytecode: structured stack code, one constant pool and one predicate table per bundle.

Constants and line predicates are deduplicated across campaigns, so a SKU list used by five
campaigns is stored once and its predicate runs once per receipt line.
"""

from __future__ import annotations

import json
from typing import Any

from loyadsl.compile import ir
from loyadsl.runtime.opcodes import AGGREGATE_OPS, OPCODES, Op, code_cost

Instr = list[Any]


class Pool:
    """The bundle's constant pool and predicate table."""

    def __init__(self) -> None:
        self.constants: list[Any] = []
        self._const_index: dict[str, int] = {}
        self.predicates: list[list[Instr]] = []
        self._pred_index: dict[str, int] = {}

    def const(self, value: Any) -> int:
        encoded = encode_constant(value)
        key = json.dumps(encoded, sort_keys=True, ensure_ascii=False)
        if key not in self._const_index:
            self._const_index[key] = len(self.constants)
            self.constants.append(encoded)
        return self._const_index[key]

    def predicate(self, expr: ir.IExpr) -> int:
        code = Emitter(self).block(expr)
        key = json.dumps(code, ensure_ascii=False)
        if key not in self._pred_index:
            self._pred_index[key] = len(self.predicates)
            self.predicates.append(code)
        return self._pred_index[key]


def encode_constant(value: Any) -> Any:
    if isinstance(value, frozenset):
        return {"set": sorted(value)}
    return value


class Emitter:
    """Emits one code block."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.code: list[Instr] = []

    def block(self, expr: ir.IExpr | None = None, actions: tuple[ir.IAction, ...] | None = None) -> list[Instr]:
        if expr is not None:
            self.expr(expr)
        if actions is not None:
            for action in actions:
                self.action(action)
        self.code.append([Op.RET])
        return self.code

    def emit(self, op: Op, operand: Any = None) -> None:
        assert op in OPCODES, op
        self.code.append([op] if operand is None else [op, operand])

    # -------------------------------------------------------------------------------- expressions

    def expr(self, e: ir.IExpr) -> None:
        getattr(self, f"_expr_{type(e).__name__}")(e)  # by node name; the checker makes no other node

    def _expr_Const(self, e: ir.Const) -> None:
        self.emit(Op.CONST, self.pool.const(e.value))

    def _expr_Load(self, e: ir.Load) -> None:
        self.emit({"receipt": Op.RECEIPT, "customer": Op.CUSTOMER, "line": Op.LINE}[e.source], e.field)

    def _expr_LoadAttr(self, e: ir.LoadAttr) -> None:
        self.emit(Op.CUSTOMER_ATTR if e.source == "customer" else Op.LINE_ATTR, self.pool.const(e.name))

    def _binary(self, left: ir.IExpr, right: ir.IExpr, op: Op) -> None:
        self.expr(left)
        self.expr(right)
        self.emit(op)

    def _expr_Arith(self, e: ir.Arith) -> None:
        self._binary(e.left, e.right, e.op)

    def _expr_Cmp(self, e: ir.Cmp) -> None:
        self._binary(e.left, e.right, e.op)

    def _expr_In(self, e: ir.In) -> None:
        self._binary(e.item, e.collection, e.op)

    def _expr_Neg(self, e: ir.Neg) -> None:
        self.expr(e.operand)
        self.emit(Op.NEG)

    def _expr_NotE(self, e: ir.NotE) -> None:
        self.expr(e.operand)
        self.emit(Op.NOT)

    def _expr_MulDiv(self, e: ir.MulDiv) -> None:
        self.expr(e.left)
        self.expr(e.right)
        self.emit(Op.MULDIV, [e.denominator, e.mode])

    def _expr_Logic(self, e: ir.Logic) -> None:
        # a AND b AND c  ->  a AND b AND c END END
        self.expr(e.operands[0])
        for operand in e.operands[1:]:
            self.emit(e.op)
            self.expr(operand)
        for _ in e.operands[1:]:
            self.emit(Op.END)

    def _expr_Agg(self, e: ir.Agg) -> None:
        assert e.func in AGGREGATE_OPS
        self.emit(e.func, self.pool.predicate(e.predicate))

    def _expr_StateLoad(self, e: ir.StateLoad) -> None:
        self.emit(e.op, self.pool.const(e.name))

    # -------------------------------------------------------------------------------- actions

    def action(self, a: ir.IAction) -> None:
        getattr(self, f"_action_{type(a).__name__}")(a)  # by node name

    def _action_Reward(self, a: ir.Reward) -> None:
        for arg in a.args:
            self.expr(arg)
        self.emit(a.op, self.pool.predicate(a.predicate))

    def _action_ComboReward(self, a: ir.ComboReward) -> None:
        parts = [[self.pool.predicate(pred), need] for pred, need in a.parts]
        index = self.pool.const({"combo": {"parts": parts, "reward": a.reward, "part": a.part}})
        self.expr(a.value)
        self.emit(Op.COMBO, index)

    def _action_TierChoice(self, a: ir.TierChoice) -> None:
        self._tiers(a.subject, list(a.branches))

    def _action_StateAction(self, a: ir.StateAction) -> None:
        if a.value is not None:
            self.expr(a.value)
        self.emit(a.op, self.pool.const(a.skus if a.skus is not None else a.name))  # GIFT: its SKUs

    def _tiers(self, subject: ir.IExpr, branches: list[tuple[Op, ir.IExpr, tuple[ir.IAction, ...]]]) -> None:
        op, threshold, actions = branches[0]
        self.expr(subject)
        self.expr(threshold)
        self.emit(op)
        self.emit(Op.IF)
        for action in actions:
            self.action(action)
        if branches[1:]:
            self.emit(Op.ELSE)
            self._tiers(subject, branches[1:])
        self.emit(Op.END)


def block_cost(code: list[Instr] | None, predicates: list[list[Instr]], constants: list[Any]) -> tuple[int, int]:
    """(fixed, per_line) of one block, by the rule the verifier also applies (``opcodes.code_cost``)."""
    if code is None:
        return 0, 0
    return code_cost(code, lambda p: len(predicates[p]),
                     lambda k: [p for p, _ in constants[k]["combo"]["parts"]])
