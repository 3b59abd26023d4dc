"""The bytecode verifier: what makes running a bundle safe and its cost bounded.

Every block is checked by abstract interpretation over value kinds, as a WebAssembly validator does:
known instructions with well-formed operands, only the instructions its block kind allows, a stack
that never underflows and holds the kinds each instruction pops, properly nested IF/ELSE/AND/OR/END
whose inner blocks work only on the values they push themselves (AND/OR: exactly one bool; both
arms of IF/ELSE: the same kinds), RET last, and the right final stack. Predicates cannot iterate
(no aggregates, no actions), so evaluation is at most ``fixed + per_line x lines`` units; the cost
each campaign declares must be that number (LOY405), and the bundle's, for a receipt of one line, at
most ``MAX_STATIC_COST`` (LOY411; the engine refuses longer receipts over it, LOY520). Every integer the code can compute
is proved to stay within ``MAX_INTERMEDIATE`` (LOY410; see ``check_block``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from .bundle_types import Bundle, Code, ComboSpec, Instr
from .errors import BundleError
from .limits import MAX_INTERMEDIATE, MAX_NESTING, MAX_READ, MAX_STATIC_COST
from .opcodes import BOOL, INT, NAMED_KINDS, OPCODES, ROUNDING_MODES, SET, STR, Block, Op, OpSpec, code_cost

_FIELDS = {spec.fields: dict(spec.fields) for spec in OPCODES.values()}
_FINAL = {Block.PREDICATE: [BOOL], Block.AUDIENCE: [BOOL], Block.CONDITION: [BOOL], Block.ACTIONS: []}


def verify(bundle: Bundle) -> None:
    """Raise ``BundleError`` (LOY405, LOY410, LOY411), naming the campaign, block and instruction, for the
    first fault."""
    names = {kind: frozenset(declared_names(bundle, kind)) for kind in NAMED_KINDS}  # looked up per instruction
    for i, code in enumerate(bundle.predicates):
        check_block(bundle, code, Block.PREDICATE, f"predicates[{i}]", names)
    total_fixed = total_per_line = 0
    for c in bundle.campaigns:
        fixed = per_line = 0
        for name, kind in (("audience", Block.AUDIENCE), ("condition", Block.CONDITION), ("actions", Block.ACTIONS)):
            code = getattr(c, name)
            if code is None:
                continue
            check_block(bundle, code, kind, f"campaigns[{c.index}] ({c.name}) {name}", names)
            f, p = block_cost(bundle, code)
            fixed += f
            per_line += p
        if (fixed, per_line) != (c.cost_fixed, c.cost_per_line):
            raise BundleError("LOY405", f"campaigns[{c.index}] ({c.name}) declares cost {c.cost_fixed} + "
                                        f"{c.cost_per_line}·lines but its code costs {fixed} + {per_line}·lines "
                                        "(changed bundle or incompatible compiler)")
        total_fixed += fixed
        total_per_line += per_line
    if (total_fixed, total_per_line) != (bundle.cost_fixed, bundle.cost_per_line):
        raise BundleError("LOY405", f"the bundle declares cost {bundle.cost_fixed} + {bundle.cost_per_line}·lines "
                                    f"but its campaigns cost {total_fixed} + {total_per_line}·lines")
    if bundle.state.segments is not None:  # docs/segments.md: each segment's condition, an AUDIENCE block
        for i, seg in enumerate(bundle.state.segments.segments):
            check_block(bundle, seg.code, Block.AUDIENCE, f"state.segments.segments[{i}] ({seg.name})", names)
    least = total_fixed + total_per_line  # a receipt of one line; the engine refuses longer ones over the cap
    if least > MAX_STATIC_COST:
        raise BundleError("LOY411", f"the bundle costs {total_fixed} + {total_per_line}·lines, {least:,} units for a "
                                    f"receipt of one line (at most {MAX_STATIC_COST:,})")


def block_cost(bundle: Bundle, code: Code | None) -> tuple[int, int]:
    """(fixed, per_line) of one block, by the rule in ``opcodes.code_cost``."""
    if code is None:
        return 0, 0

    def combo_predicates(index: int) -> list[int]:
        combo = bundle.constants[index]
        assert isinstance(combo, ComboSpec)
        return [p for p, _ in combo.parts]

    return code_cost(code, lambda p: len(bundle.predicates[p]), combo_predicates)


class _Frame:
    __slots__ = ("floor", "op", "then_kinds", "then_sizes")

    def __init__(self, op: Op, floor: int) -> None:
        self.op = op
        self.floor = floor  # stack height at entry: the inner block may not pop below it
        self.then_kinds: list[str] | None = None
        self.then_sizes: list[int] = []


def check_block(bundle: Bundle, code: Code, block: Block, where: str,
                names: dict[str, frozenset[str]] | None = None) -> None:
    """Verify one code block of kind ``block``; ``where`` names it in messages.

    Beside each value's kind the verifier keeps a bound on its magnitude (``sizes``: |x| <= size; 0
    for a non-int): a constant's own, ``MAX_READ`` for what is read from the receipt, the customer or
    the state, and for arithmetic what its operands' bounds allow. A block whose bound exceeds
    ``MAX_INTERMEDIATE`` anywhere is refused (LOY410), so evaluation never meets a huge integer."""
    if not code:
        raise BundleError("LOY405", "empty code block (every block ends with RET)", where)
    _BlockCheck(bundle, code, block, where, names).run()


class _BlockCheck:
    """The abstract interpretation of one block: the kinds and bounds on its stack, its open frames."""

    def __init__(self, bundle: Bundle, code: Code, block: Block, where: str,
                 names: dict[str, frozenset[str]] | None) -> None:
        self.bundle, self.code, self.block, self.where, self.names = bundle, code, block, where, names
        self.stack: list[str] = []
        self.sizes: list[int] = []
        self.frames: list[_Frame] = []
        self.pc = 0

    def run(self) -> None:
        for pc, instr in enumerate(self.code):
            self.pc = pc
            spec = self._spec(instr)
            control = _CONTROL.get(instr[0])
            if control is not None:
                if control(self, instr[0]):
                    return
            else:
                self._value(instr, spec)
        raise BundleError("LOY405", "the block does not end with RET", self.where)

    def fail(self, message: str, error: str = "LOY405") -> NoReturn:
        """Refuse the block at the instruction being checked."""
        pc, code = self.pc, self.code
        op = code[pc][0] if 0 <= pc < len(code) else None
        at = f"{self.where}, instruction {pc}" + (f" ({op})" if isinstance(op, str) else "")
        raise BundleError(error, message, at)

    def pop(self, want: str) -> tuple[str, int]:
        frames = self.frames
        if len(self.stack) <= (frames[-1].floor if frames else 0):
            if frames:
                self.fail(f"pops a value from outside its {frames[-1].op} block")
            self.fail("stack underflow")
        kind = self.stack.pop()
        if want not in ("any", kind):
            self.fail(f"expects {want} on the stack, found {kind}")
        return kind, self.sizes.pop()

    def _spec(self, instr: Instr) -> OpSpec:
        """The instruction's spec, once it is known, allowed in this block and has its operand."""
        op = instr[0]
        spec = OPCODES.get(op)
        if spec is None:
            self.fail(f"unknown instruction {op!r}")
        if self.block not in spec.blocks:
            allowed = ", ".join(sorted(b.value for b in spec.blocks))
            self.fail(f"{op} is not allowed in a {self.block.value} block (only in: {allowed})")
        if spec.operand is None and len(instr) != 1:
            self.fail(f"{op} takes no operand")
        if spec.operand is not None and len(instr) != 2:
            self.fail(f"{op} needs an operand ({spec.operand})")
        return spec

    def _ret(self, op: Op) -> bool:
        if self.pc != len(self.code) - 1:
            self.fail("RET must be the last instruction, and only there")
        if self.frames:
            self.fail(f"{self.frames[-1].op} is not closed by END")
        final = _FINAL[self.block]
        if self.stack != final:
            self.fail(f"a {self.block.value} block must leave {_show(final)} on the stack, leaves {_show(self.stack)}")
        return True

    def _open(self, op: Op) -> bool:
        """AND, OR, IF: pop the bool, open a frame whose inner block works on what it pushes itself."""
        self.pop(BOOL)
        # pure AND/OR chains compile flat; IF, and AND/OR around actions, become nested statements
        actions = self.block is Block.ACTIONS
        if (op == Op.IF or actions) and sum(1 for f in self.frames if f.op == Op.IF or actions) >= MAX_NESTING:
            self.fail(f"IF (or AND/OR around actions) nested deeper than {MAX_NESTING}")
        self.frames.append(_Frame(op, len(self.stack)))
        return False

    def _else(self, op: Op) -> bool:
        frames = self.frames
        if not frames or frames[-1].op != Op.IF or frames[-1].then_kinds is not None:
            self.fail("ELSE without a matching IF")
        frame = frames[-1]
        frame.then_kinds, frame.then_sizes = self.stack[frame.floor :], self.sizes[frame.floor :]
        del self.stack[frame.floor :], self.sizes[frame.floor :]
        return False

    def _end(self, op: Op) -> bool:
        if not self.frames:
            self.fail("END without a matching IF, AND or OR")
        frame = self.frames.pop()
        pushed = self.stack[frame.floor :]
        if frame.op in (Op.AND, Op.OR) and pushed != [BOOL]:
            self.fail(f"the inner block of {frame.op} must push exactly one bool, pushes {_show(pushed)}")
        if frame.op == Op.IF and pushed != (frame.then_kinds or []):
            arms = "IF" if frame.then_kinds is None else "both arms of IF/ELSE"
            self.fail(f"{arms} must leave the same stack: {_show(frame.then_kinds or [])} vs {_show(pushed)}")
        for i, size in enumerate(frame.then_sizes):  # either arm's value: the larger bound
            self.sizes[frame.floor + i] = max(self.sizes[frame.floor + i], size)
        return False

    def _value(self, instr: Instr, spec: OpSpec) -> None:
        """Any other instruction: its operand checked, its operands popped, its value pushed with its bound."""
        pushed_kind = self._operand(spec, instr)
        if spec.pops == ("any", "any"):
            right, _ = self.pop("any")
            self.pop(right)
            args: list[int] = []
        else:
            args = [self.pop(want)[1] for want in reversed(spec.pops)][::-1]
        if pushed_kind is None:
            return
        size = _size(self.bundle, instr, args) if pushed_kind == INT else 0
        if size > MAX_INTERMEDIATE:
            self.fail(f"may compute an integer of {size.bit_length()} bits; evaluation stays within "
                      f"{MAX_INTERMEDIATE.bit_length()} bits (with every read at most {MAX_READ:,})", "LOY410")
        self.stack.append(pushed_kind)
        self.sizes.append(size)

    # ---- operands: the kind an instruction pushes, once its operand is checked (by ``OpSpec.operand``)

    def _operand(self, spec: OpSpec, instr: Instr) -> str | None:
        if spec.operand is None:
            return spec.pushes
        return _OPERANDS[spec.operand](self, spec, instr[1])

    def _operand_field(self, spec: OpSpec, value: Any) -> str | None:
        fields = _FIELDS[spec.fields]
        if not isinstance(value, str) or value not in fields:
            self.fail(f"unknown field {value!r} (known: {', '.join(fields)})")
        return fields[value]

    def _operand_muldiv(self, spec: OpSpec, value: Any) -> str | None:
        if not (isinstance(value, list | tuple) and len(value) == 2 and type(value[0]) is int and value[0] > 0
                and value[1] in ROUNDING_MODES):
            self.fail(f"the operand must be [denominator > 0, rounding mode], got {value!r}")
        return spec.pushes

    def _index(self, value: Any, table: str, size: int) -> int:
        if type(value) is not int:
            self.fail(f"the operand must be an index, got {value!r}")
        if not 0 <= value < size:
            self.fail(f"no {table} {value} (the bundle has {size})")
        return value

    def _operand_predicate(self, spec: OpSpec, value: Any) -> str | None:
        self._index(value, "predicate", len(self.bundle.predicates))
        return spec.pushes

    def _operand_combo(self, spec: OpSpec, value: Any) -> str | None:
        const = self.bundle.constants[self._index(value, "constant", len(self.bundle.constants))]
        if not isinstance(const, ComboSpec):
            self.fail(f"constant {value} is not a combo")
        for p, need in const.parts:
            if not 0 <= p < len(self.bundle.predicates) or need < 1:
                self.fail(f"combo constant {value} has a bad part ({p}, {need})")
        return spec.pushes

    def _operand_const(self, spec: OpSpec, value: Any) -> str | None:
        const = self.bundle.constants[self._index(value, "constant", len(self.bundle.constants))]
        const_kind = _const_kind(const)
        if spec.names is not None:  # COUNTER, BALANCE, BENEFIT and the state requests: a declared name
            self._declared(spec.names, value, const, const_kind)
            return spec.pushes
        if spec.pushes is None:  # an action's constant that is not a name: GIFT's SKUs (docs/rewards.md)
            if const_kind != SET or not const:
                self.fail(f"constant {value} must be a non-empty set of SKUs, is {const_kind or 'combo'}")
            return None
        if spec.pushes == "const":
            if const_kind is None:
                self.fail(f"constant {value} is a combo, which CONST cannot load")
            return const_kind
        if const_kind != spec.pushes:  # CUSTOMER_ATTR / LINE_ATTR: the attribute's name
            self.fail(f"constant {value} must be a {spec.pushes}, is {const_kind or 'combo'}")
        return spec.pushes

    def _declared(self, kind: str, value: int, const: Any, const_kind: str | None) -> None:
        """A state op's constant: the name of a declared ``kind``."""
        if const_kind != STR:
            self.fail(f"constant {value} must be the name of a {kind} (a string), is {const_kind or 'combo'}")
        if const in (self.names[kind] if self.names is not None else declared_names(self.bundle, kind)):
            return
        declared = declared_names(self.bundle, kind)
        self.fail(f"constant {value} ({str(const)[:40]!r}) is not a declared {kind}"
                  + (f" (declared: {', '.join(declared[:10])}{', ...' if len(declared) > 10 else ''})" if declared
                     else f" (the bundle declares no {kind})"))


# the structured instructions (True: the block ends); every other one pops its operands and may push a value
_CONTROL: dict[str, Callable[[_BlockCheck, Op], bool]] = {
    Op.RET: _BlockCheck._ret, Op.AND: _BlockCheck._open, Op.OR: _BlockCheck._open, Op.IF: _BlockCheck._open,
    Op.ELSE: _BlockCheck._else, Op.END: _BlockCheck._end}
# an operand's check by its kind (``OpSpec.operand``): the kind the instruction pushes
_OPERANDS: dict[str, Callable[[_BlockCheck, OpSpec, Any], str | None]] = {
    "field": _BlockCheck._operand_field, "muldiv": _BlockCheck._operand_muldiv,
    "predicate": _BlockCheck._operand_predicate, "combo": _BlockCheck._operand_combo,
    "const": _BlockCheck._operand_const}

def _size(bundle: Bundle, instr: Instr, args: list[int]) -> int:
    """A bound on the magnitude of the int ``instr`` pushes, from its operands' bounds ``args``."""
    op = instr[0]
    if op == Op.CONST:
        return abs(bundle.constants[instr[1]])  # type: ignore[arg-type]
    if not args:  # a read: a field, an aggregate over the lines, the customer's state
        return MAX_READ
    if op == Op.NEG:
        return args[0]
    if op in (Op.MIN, Op.MAX):
        return max(args)
    if op in (Op.ADD, Op.SUB):
        return args[0] + args[1]
    product = args[0] * args[1]  # MUL; MULDIV's intermediate, which must fit too
    if op == Op.MULDIV and product <= MAX_INTERMEDIATE:
        return -(-product // instr[1][0])
    return product


def declared_names(bundle: Bundle, kind: str) -> tuple[str, ...]:
    """The names a state op's operand may take: counters (and chips), accounts, the tier ladder's
    benefits, coupon series."""
    state = bundle.state
    if kind == "counter":
        return tuple(c.name for c in state.counters)
    if kind == "account":
        return tuple(a.name for a in state.accounts)
    if kind == "benefit":
        return tuple(state.tiers.levels[0].benefits) if state.tiers is not None and state.tiers.levels else ()
    if kind == "series":
        return tuple(c.name for c in state.coupons)
    if kind in ("metric", "profile"):  # docs/segments.md
        seg = state.segments
        if seg is None:
            return ()
        return tuple(m.key for m in seg.metrics) if kind == "metric" else tuple(
            f.name for f in seg.profile if f.type in ("string", "one_of"))
    raise AssertionError(kind)  # pragma: no cover - opcodes.NAMED_KINDS


def _const_kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, str):
        return STR
    if isinstance(value, frozenset):
        return SET
    return None


def _show(kinds: list[str]) -> str:
    return "[" + ", ".join(kinds) + "]" if kinds else "nothing"
