"""Verified bytecode -> Python functions, once, when an engine is built.

A small stack VM spends most of its time dispatching; generating Python source from the structured
bytecode and compiling it once removes the dispatch entirely: a predicate becomes the condition of a
list comprehension that filters a receipt's lines at C speed.

The code generator runs the bytecode symbolically: the stack holds Python expressions (as text),
instructions combine them, IF/AND/OR become ``if`` statements only when an arm has statements of its
own (otherwise ternaries and ``and``/``or`` chains), and deep expressions are spilled into
temporaries so any verified block compiles. Safety: the source only ever contains names we make up
(``K3`` for constant 3, ``_t5`` for temporaries), attribute names from our own field tables and
verified integer indexes; constant *values* live in the namespace the code runs in, which has no
builtins. A hostile bundle therefore cannot write code, only data.

What the generated functions take:

* ``m<i>(lines, cu) -> lines`` for predicate i: the lines it selects (the receipt's own sequence
  when the predicate is constantly true; callers must not mutate the result).
* ``c<i>(r, cu) -> reason | None`` for campaign i: its whole decision in one function, in the order
  of docs/bundle.md: window and filters (dates, weekdays, hours, stores, channels), needed SKUs,
  experiment arm, audience, condition, each returning its rejection reason; then the actions, whose rewards call
  ``R_<OP>(r, ref, args...)`` (``ref``: the predicate, or the combo constant, index), the engine's
  pricing functions, which record what the campaign asks for on ``r``.

``r`` is the evaluation context: ``total payable nlines units store channel date weekday time``,
``match(i)`` (predicate i's lines for this receipt, computed once and shared by every campaign) and
``wants(i)`` (whether the receipt has one of campaign i's needed SKUs). ``cu`` is a ``CustomerView``
(``known id tier segments attrs receipts``, and the dicts ``counters balances benefits`` that the
state reads look names up in); a line has ``sku category brand qty units price amount attrs``.
State requests call ``R_ADD_COUNTER(r, name, n)``, ``R_SPEND_COUNTER(r, name, n)`` and
``R_ISSUE_COUPON(r, series)`` with the name itself; ``rewards`` needs only the ops the bundle uses.

The same text, for the driver that inlines campaigns (runtime/driver.py): ``Program.bodies`` holds each
campaign's gates and actions as statements (``c<i>`` is made from them), ``Program.filters`` each
predicate's condition when its matcher is one list comprehension.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .bundle_types import Bundle, Campaign, Code, ComboSpec, Instr
from .codecache import CodeCache, compiled
from .errors import BundleError
from .money import ROUNDERS, allocate, ceil_div, half_even_div, half_up_div
from .opcodes import ACTION_OPS, AGGREGATE_OPS, OPCODES, Op

SPILL_DEPTH = 24  # expressions deeper than this go into a temporary (Python's parser nests ~200 deep)
CHAIN_PARTS = 32  # a longer ``and``/``or`` chain goes into a temporary: each END joins a bounded list (linear)

_RECEIPT_ATTR = {"total": "total", "payable": "payable", "lines": "nlines", "units": "units", "store": "store",
                 "channel": "channel", "date": "date", "weekday": "weekday", "time": "time"}
_CUSTOMER_ATTR = {"known": "known", "id": "id", "tier": "tier", "segments": "segments", "receipts": "receipts"}
_LINE_ATTR = {"sku": "sku", "category": "category", "brand": "brand", "qty": "qty", "units": "units",
              "price": "price", "amount": "amount", "kind": "kind"}
_LIVE = {"payable": "now[l.index]", "discounted": "(now[l.index] < l.amount)"}
_LINE_EXPR = {"kind": '(l.kind or "goods")'}  # a goods line's kind is None once decoded (runtime/model.py)
_BINARY = {Op.ADD: "+", Op.SUB: "-", Op.MUL: "*", Op.EQ: "==", Op.NE: "!=", Op.LT: "<", Op.LE: "<=", Op.GT: ">",
           Op.GE: ">=", Op.IN: "in"}
_AGGREGATE = {Op.SUM: "_sum_amount", Op.COUNT: "_len", Op.QTY: "_sum_qty", Op.UNITS: "_sum_units"}
_ROUND = {"ceil": "_ceil", "half_up": "_half_up", "half_even": "_half_even"}


def category_in(members: frozenset[str], category: str) -> bool:
    """Whether the category is one of ``members`` or lies below one (``dairy/milk`` lies below
    ``dairy``): one C-level ``startswith`` over the members, never the category's prefixes, so a
    long, deep category costs what a short one does."""
    return category in members or category.startswith(tuple(m + "/" for m in members))


class CategoryMemo(dict[str, bool]):
    """``category_in`` for one constant set, remembered per category: categories are a small
    vocabulary, so a predicate's category test is one dict lookup per line."""

    __slots__ = ("below", "members")

    def __init__(self, members: frozenset[str]) -> None:
        super().__init__()
        self.members = members
        self.below = tuple(sorted(m + "/" for m in members))

    def __missing__(self, category: str) -> bool:
        found = category in self.members or category.startswith(self.below)
        if len(self) < 65536:
            self[category] = found
        return found


def _sum_amount(lines: Sequence[Any]) -> int:
    return sum([line.amount for line in lines])


def _sum_qty(lines: Sequence[Any]) -> int:
    return sum([line.qty for line in lines])


def _sum_units(lines: Sequence[Any]) -> int:
    return sum([line.units for line in lines])


HELPERS: dict[str, Any] = {
    "_min": min, "_max": max, "_len": len, "_sum_amount": _sum_amount, "_sum_qty": _sum_qty,
    "_sum_units": _sum_units, "_category_in": category_in, "_ceil": ceil_div, "_half_up": half_up_div,
    "_half_even": half_even_div,
}


@dataclass(frozen=True)
class Gate:
    """One check of a campaign's decision: ``stmts`` then ``fail`` (an expression) rejects it with
    ``reason``; ``reads`` are the predicates the check reads (their lines, through ``r.match``)."""

    stmts: tuple[str, ...]
    fail: str
    reason: str
    reads: tuple[int, ...] = ()


class Body:
    """A campaign's code as statements for inlining (runtime/driver.py): its gates in the documented
    order, then its actions; the same text its function ``c<i>`` runs, with ``return`` taken out.
    Its names are the module's (``namespace``) and temporaries of its own (``_t<i>_<n>``).

    ``fast``: the actions with their rewards written out (``_FastAction``) for a driver that keeps the
    campaign's discount per line, accruals and points total in its locals ``vec``, ``acc``, ``pts``; the
    rewards it still calls read ``r.vec`` and ``r.budget`` (``calls``). Written when first asked for: the
    driver inlines at most ``INLINE`` campaigns, and a large programme's others never need them (for 1,000
    campaigns, writing them all was a fifth of the engine's build). Their names are those the actions'
    already bound, so writing them later adds nothing to the namespace."""

    __slots__ = ("_depth", "_fast", "_write", "actions", "gates", "reads")

    def __init__(self, gates: tuple[Gate, ...], actions: tuple[str, ...], reads: tuple[int, ...], depth: int,
                 write: Callable[[], tuple[tuple[str, ...], bool]]) -> None:
        self.gates = gates
        self.actions = actions
        self.reads = reads  # the predicates the actions read
        self._depth = depth  # of the gates and actions
        self._write = write  # the fast actions and whether they call a reward
        self._fast: tuple[tuple[str, ...], bool] | None = None

    def _written(self) -> tuple[tuple[str, ...], bool]:
        if self._fast is None:
            self._fast = self._write()
        return self._fast

    @property
    def fast(self) -> tuple[str, ...]:
        return self._written()[0]

    @property
    def calls(self) -> bool:
        return self._written()[1]

    @property
    def depth(self) -> int:
        """The deepest indentation of its statements, fast actions included, in levels (``Filled`` reads are
        no deeper)."""
        return max([self._depth, *map(_depth, self.fast)])


@dataclass(frozen=True)
class Filled:
    """A predicate whose lines the driver computed before the campaigns (runtime/driver.py, its scan): the
    local holding them, and the one holding the sum of their original amounts (None: not summed), which is
    an accrual's weight on the original basis."""

    lines: str
    amounts: str | None = None


@dataclass(frozen=True)
class Program:
    """A bundle's code as Python functions, indexed like the bundle's predicates and campaigns."""

    matchers: tuple[Callable[..., Sequence[Any]], ...]
    campaigns: tuple[Callable[[Any, Any], str | None], ...]
    source: str  # the generated module, for the curious and for debugging
    namespace: dict[str, Any] = field(default_factory=dict, repr=False)  # its names (runtime/explain.py reuses them)
    # per predicate, the condition on ``l`` (over ``cu``) its matcher filters the lines by, for a caller
    # that builds the list itself ("True": every line); None when it needs statements or reads ``now``
    filters: tuple[str | None, ...] = ()
    bodies: tuple[Body, ...] = ()  # per campaign, its code for inlining
    receipt_fields: frozenset[str] = frozenset()  # the receipt's fields (``Op.RECEIPT``) any of its code reads
    # campaign i's actions as ``Body.fast`` has them, but reading the predicates a driver computed itself from its
    # locals (``Filled``): ``fast(i, filled)``; None: a program made by hand, without it
    fast: Callable[[int, Mapping[int, Filled]], tuple[str, ...]] | None = None

    def fast_actions(self, i: int, filled: Mapping[int, Filled]) -> tuple[str, ...]:
        """Campaign i's ``Body.fast``, reading the predicates of ``filled`` from the driver's locals."""
        if not filled or self.fast is None:
            return self.bodies[i].fast
        return self.fast(i, filled)


def compile_bundle(bundle: Bundle, rewards: Mapping[str, Callable[..., None]],
                   code_cache: CodeCache | None = None) -> Program:
    """Generate and compile the whole (verified) bundle as one Python module; ``rewards`` maps each
    action op to the function that prices it; ``code_cache`` keeps the compiled module (runtime/codecache.py)."""
    namespace: dict[str, Any] = {"__builtins__": {}, **HELPERS, **_fast_names(bundle)}
    used = {instr[0] for c in bundle.campaigns for instr in c.actions}
    for op in sorted(ACTION_OPS):
        if op in rewards:
            namespace[f"R_{op}"] = rewards[op]
        elif op in used:  # an engine older than the bundle's instructions: refuse, never fail mid-receipt
            raise BundleError("LOY405", f"this engine cannot run {op}, which the bundle uses")
    for i, value in enumerate(bundle.constants):
        if not isinstance(value, ComboSpec):
            namespace[f"K{i}"] = value
    filters: list[str | None] = []
    chunks = []
    for i, code in enumerate(bundle.predicates):
        chunk, condition = _predicate(i, code, bundle, namespace)
        chunks.append(chunk)
        filters.append(condition)
    bodies = [_body(c, bundle, namespace, filters) for c in bundle.campaigns]
    chunks += [_campaign(c, body) for c, body in zip(bundle.campaigns, bodies, strict=True)]
    source = "\n".join(chunks)
    try:
        exec(compiled(source, f"<bundle {bundle.digest[:19] or 'unsigned'}>", code_cache), namespace)
    except (SyntaxError, RecursionError, MemoryError, ValueError) as exc:  # pragma: no cover - verifier's job
        raise BundleError("LOY405", f"the bytecode cannot be compiled: {type(exc).__name__}: {exc}") from None
    return Program(
        matchers=tuple(namespace[f"m{i}"] for i in range(len(bundle.predicates))),
        campaigns=tuple(namespace[f"c{i}"] for i in range(len(bundle.campaigns))),
        source=source,
        namespace=namespace,
        filters=tuple(filters),
        bodies=tuple(bodies),
        receipt_fields=frozenset(str(instr[1]) for code in _codes(bundle) for instr in code if instr[0] == Op.RECEIPT),
        fast=lambda i, filled: _fast(bundle.campaigns[i], bundle, namespace, filters, filled),
    )


def _codes(bundle: Bundle) -> list[Code]:
    """Every block of the bundle's bytecode: predicates, then each campaign's audience, condition, actions."""
    return [*bundle.predicates, *(code for c in bundle.campaigns for code in (c.audience, c.condition, c.actions)
                                   if code is not None)]


def _def(name: str, params: str, body: list[str]) -> str:
    return f"def {name}({params}):\n" + "".join(f"    {line}\n" for line in body)


def live(code: Code) -> bool:
    """Whether a predicate reads what is left of lines (``payable``, ``discounted``): its matcher then
    takes ``now``, the lines' payable at the group's start, and its result is never cached."""
    return any(instr[0] == Op.LINE and instr[1] in _LIVE for instr in code)


def _predicate(index: int, code: Code, bundle: Bundle, namespace: dict[str, Any]) -> tuple[str, str | None]:
    """The matcher's source, and its filter (``Program.filters``)."""
    stmts, result = _Gen(bundle, code, namespace, "_p").run()
    assert result is not None
    now = ", now" if live(code) else ""
    if stmts:
        return (_def(f"p{index}", f"l, cu{now}", [*stmts, f"return {result.text}"])
                + _def(f"m{index}", f"ls, cu{now}", [f"return [l for l in ls if p{index}(l, cu{now})]"])), None
    if result.always_true:
        return _def(f"m{index}", "ls, cu", ["return ls"]), "True"
    return _def(f"m{index}", f"ls, cu{now}", [f"return [l for l in ls if {result.text}]"]), \
        None if now else result.text


def reads(code: Code | None, bundle: Bundle) -> tuple[int, ...]:
    """The predicates a block reads the lines of (aggregates, rewards, a combo's parts), sorted."""
    found: set[int] = set()
    for instr in code or ():
        operand = OPCODES[instr[0]].operand
        if operand == "predicate":
            found.add(int(instr[1]))
        elif operand == "combo":
            spec = bundle.constants[int(instr[1])]
            assert isinstance(spec, ComboSpec)
            found.update(p for p, _ in spec.parts)
    return tuple(sorted(found))


def _campaign(c: Campaign, body: Body) -> str:
    """One function deciding and running the campaign, checks in the documented order."""
    out: list[str] = []
    for gate in body.gates:
        out += [*gate.stmts, f"if {gate.fail}: return '{gate.reason}'"]
    return _def(f"c{c.index}", "r, cu", [*out, *body.actions, "return None"])


def _body(c: Campaign, bundle: Bundle, namespace: dict[str, Any], filters: Sequence[str | None] = ()) -> Body:
    """The campaign's gates, in the order of docs/bundle.md (window and filters: dates, weekdays, hours,
    stores, channels; needed SKUs, experiment arm, audience, condition), and its actions."""
    f = c.footprint
    gates: list[Gate] = []

    def bind(suffix: str, value: Any) -> str:
        name = f"F{c.index}_{suffix}"
        namespace[name] = value
        return name

    if f.dates is not None:
        gates.append(Gate((), f"not {bind('d0', f.dates[0])} <= r.date <= {bind('d1', f.dates[1])}", "outside_dates"))
    if f.weekdays is not None:
        gates.append(Gate((), f"r.weekday not in {bind('wd', f.weekdays)}", "wrong_weekday"))
    if f.hours is not None:
        start, end = bind("h0", f.hours[0]), bind("h1", f.hours[1])
        if f.hours[1] > f.hours[0]:
            gates.append(Gate((), f"not {start} <= r.time < {end}", "outside_hours"))
        else:  # crosses midnight: outside is [end, start)
            gates.append(Gate((), f"{end} <= r.time < {start}", "outside_hours"))
    for attr, flt, reason in (("store", f.stores, "store_not_eligible"), ("channel", f.channels, "channel_not_eligible")):
        if flt is not None:
            test = "in" if flt.negated else "not in"
            gates.append(Gate((), f"r.{attr} {test} {bind(attr, flt.values)}", reason))
    if f.needs_skus is not None:
        gates.append(Gate((), f"not r.wants({c.index})", "no_eligible_items"))
    if c.arm is not None:  # r.in_arms: per experiment, the arm whose campaigns the receipt gets (docs/experiments.md)
        gates.append(Gate((), f"r.in_arms[{c.arm.experiment}] not in {bind('arm', c.arm.arms)}", "not_in_arm"))
    for code, temps, reason in ((c.audience, "_a", "audience"), (c.condition, "_c", "condition_false")):
        if code is not None:
            stmts, result = _Gen(bundle, code, namespace, f"{temps}{c.index}_").run()
            assert result is not None
            gates.append(Gate(tuple(stmts), f"not {result.text}", reason, reads(code, bundle)))
    actions, _ = _Gen(bundle, c.actions, namespace, f"_t{c.index}_").run()
    depth = max((_depth(line) for gate in gates for line in gate.stmts), default=0)

    def write() -> tuple[tuple[str, ...], bool]:
        fast = _FastAction(bundle, filters)
        return _fast(c, bundle, namespace, filters, {}, fast), fast.calls

    return Body(tuple(gates), tuple(actions), reads(c.actions, bundle), max([depth, *map(_depth, actions)]), write)


def _fast(c: Campaign, bundle: Bundle, namespace: dict[str, Any], filters: Sequence[str | None],
          filled: Mapping[int, Filled], fast: _FastAction | None = None) -> tuple[str, ...]:
    """The campaign's actions with their rewards written out (``_FastAction``); the predicates of ``filled``
    read from the driver's locals."""
    stmts, _ = _Gen(bundle, c.actions, namespace, f"_t{c.index}_", fast or _FastAction(bundle, filters, filled)).run()
    return tuple(stmts)


def _depth(line: str) -> int:
    return (len(line) - len(line.lstrip(" "))) // 4


class _E:
    """An expression on the symbolic stack: its source text, nesting depth, and, for ``and``/``or``
    chains, the operands (so chains stay flat instead of nesting)."""

    __slots__ = ("always_true", "chain", "const", "depth", "negates", "parts", "text")

    def __init__(self, text: str, depth: int = 1, chain: str | None = None, parts: list[str] | None = None,
                 always_true: bool = False, const: int | None = None) -> None:
        self.text = text
        self.const = const  # the constant's index, for CONST
        self.depth = depth
        self.chain = chain
        self.parts = parts
        self.always_true = always_true
        self.negates: _E | None = None  # set when this is ``not negates``


class _Frame:
    __slots__ = ("cond", "floor", "op", "outer", "then_out", "then_stack")

    def __init__(self, op: Op, cond: _E, outer: list[str], floor: int) -> None:
        self.op = op
        self.cond = cond
        self.outer = outer  # the statement buffer to return to at END
        self.floor = floor
        self.then_out: list[str] | None = None
        self.then_stack: list[_E] | None = None


class _Gen:
    """Generates the statements and the result expression of one verified block."""

    def __init__(self, bundle: Bundle, code: Code, namespace: dict[str, Any], temps: str = "_t",
                 fast: _FastAction | None = None) -> None:
        self.bundle = bundle
        self.fast = fast  # write the rewards out (``Body.fast``), else call them
        self.namespace = namespace  # where the generated code's names live
        self.temp_prefix = temps  # blocks sharing one function get their own temporaries
        self.code = code
        self.effects = any(instr[0] in ACTION_OPS for instr in code)  # else: pure, and no expression raises
        self.stack: list[_E] = []
        self.out: list[str] = []
        self.frames: list[_Frame] = []
        self.temps = 0

    def temp(self) -> str:
        self.temps += 1
        return f"{self.temp_prefix}{self.temps}"

    def push(self, text: str, *operands: _E, chain: str | None = None, parts: list[str] | None = None,
             depth: int | None = None) -> None:
        if depth is None:
            depth = 1
            for e in operands:
                if e.depth >= depth:
                    depth = e.depth + 1
        if depth > SPILL_DEPTH:
            self.spill(text)
        else:
            self.stack.append(_E(text, depth, chain, parts))

    def spill(self, text: str) -> None:
        """Push the value of ``text`` through a temporary, computed by a statement here."""
        name = self.temp()
        self.out.append(f"{name} = {text}")
        self.stack.append(_E(name))

    def run(self) -> tuple[list[str], _E | None]:
        for instr in self.code:
            op = instr[0]
            if op == Op.RET:
                break
            handler = _HANDLERS.get(op)
            if handler is not None:
                handler(self, instr)
            elif op in _BINARY:
                self.binary(op)
            elif op in AGGREGATE_OPS:
                self.push(f"{_AGGREGATE[op]}(r.match({int(instr[1])}))")
            elif op in ACTION_OPS:
                self.action(op, instr)
            else:  # pragma: no cover - the verifier knows every op
                raise BundleError("LOY405", f"no code generator for {op}")
        return self.out, (self.stack[-1] if self.stack else None)

    def binary(self, op: Op) -> None:
        b, a = self.stack.pop(), self.stack.pop()
        self.push(f"({a.text} {_BINARY[op]} {b.text})", a, b)

    # ---------------------------------------------------------------------------------- loads
    def op_CONST(self, instr: Instr) -> None:
        index = int(instr[1])
        value = self.bundle.constants[index]
        self.stack.append(_E(f"K{index}", always_true=value is True, const=index))

    def op_RECEIPT(self, instr: Instr) -> None:
        self.push(f"r.{_RECEIPT_ATTR[instr[1]]}")

    def op_CUSTOMER(self, instr: Instr) -> None:
        self.push(f"cu.{_CUSTOMER_ATTR[instr[1]]}")

    def op_LINE(self, instr: Instr) -> None:
        live = _LIVE.get(instr[1])  # docs/order.md: read from ``now``, the group's start (``live``)
        self.push(live if live is not None else _LINE_EXPR.get(instr[1]) or f"l.{_LINE_ATTR[instr[1]]}")

    def op_CUSTOMER_ATTR(self, instr: Instr) -> None:
        self.push(f"cu.attrs.get(K{int(instr[1])}, '')")

    def op_LINE_ATTR(self, instr: Instr) -> None:
        self.push(f"l.attrs.get(K{int(instr[1])}, '')")

    # customer state: the name is a verified string constant, looked up in the view's dicts
    def op_COUNTER(self, instr: Instr) -> None:
        self.push(f"cu.counters.get(K{int(instr[1])}, 0)")

    def op_BALANCE(self, instr: Instr) -> None:
        self.push(f"cu.balances.get(K{int(instr[1])}, 0)")

    def op_BENEFIT(self, instr: Instr) -> None:
        self.push(f"cu.benefits.get(K{int(instr[1])}, 0)")

    def op_METRIC(self, instr: Instr) -> None:  # docs/segments.md
        self.push(f"cu.metrics.get(K{int(instr[1])}, 0)")

    def op_PROFILE(self, instr: Instr) -> None:
        self.push(f"cu.profile.get(K{int(instr[1])}, '')")

    # ---------------------------------------------------------------------------------- arithmetic
    def op_NEG(self, instr: Instr) -> None:
        a = self.stack.pop()
        self.push(f"(-{a.text})", a)

    def op_MIN(self, instr: Instr) -> None:
        b, a = self.stack.pop(), self.stack.pop()
        self.push(f"_min({a.text}, {b.text})", a, b)

    def op_MAX(self, instr: Instr) -> None:
        b, a = self.stack.pop(), self.stack.pop()
        self.push(f"_max({a.text}, {b.text})", a, b)

    def op_MULDIV(self, instr: Instr) -> None:
        denominator, mode = int(instr[1][0]), str(instr[1][1])
        b, a = self.stack.pop(), self.stack.pop()
        if mode == "floor":
            self.push(f"(({a.text} * {b.text}) // {denominator})", a, b)
        else:
            self.push(f"{_ROUND[mode]}({a.text} * {b.text}, {denominator})", a, b)

    # ---------------------------------------------------------------------------------- logic, sets
    def op_NOT(self, instr: Instr) -> None:
        a = self.stack.pop()
        if a.negates is not None:  # not not x -> x
            self.stack.append(a.negates)
            return
        self.push(f"(not {a.text})", a)
        if self.stack[-1].text != a.text:  # not spilled
            self.stack[-1].negates = a

    def op_CATEGORY_IN(self, instr: Instr) -> None:
        members, category = self.stack.pop(), self.stack.pop()
        if members.const is not None:  # a constant set: remember the answer per category
            name = f"C{members.const}"
            value = self.bundle.constants[members.const]
            assert isinstance(value, frozenset)
            self.namespace.setdefault(name, CategoryMemo(value))
            self.push(f"{name}[{category.text}]", category)
        else:
            self.push(f"_category_in({members.text}, {category.text})", category, members)

    def op_SUBSET_ANY(self, instr: Instr) -> None:
        b, a = self.stack.pop(), self.stack.pop()
        self.push(f"(not {a.text}.isdisjoint({b.text}))", a, b)

    # ---------------------------------------------------------------------------------- control
    def op_AND(self, instr: Instr) -> None:
        self._open(Op.AND)

    def op_OR(self, instr: Instr) -> None:
        self._open(Op.OR)

    def op_IF(self, instr: Instr) -> None:
        self._open(Op.IF)

    def _open(self, op: Op) -> None:
        cond = self.stack.pop()
        self.frames.append(_Frame(op, cond, self.out, len(self.stack)))
        self.out = []

    def op_ELSE(self, instr: Instr) -> None:
        frame = self.frames[-1]
        frame.then_out, frame.then_stack = self.out, self.stack[frame.floor :]
        del self.stack[frame.floor :]
        self.out = []

    def op_END(self, instr: Instr) -> None:
        frame = self.frames.pop()
        inner_out, self.out = self.out, frame.outer
        if frame.op in (Op.AND, Op.OR):
            self._end_logic(frame, inner_out)
        else:
            self._end_if(frame, inner_out)

    def _end_logic(self, frame: _Frame, inner_out: list[str]) -> None:
        word = frame.op.lower()
        left, right = frame.cond, self.stack.pop()
        if inner_out and not self.effects:  # pure code cannot fail: run it unguarded, keep the chain flat
            self.out += inner_out
            inner_out = []
        if not inner_out:  # a flat chain: (a and b and c)
            parts: list[str] = []
            depth = 1
            for side in (left, right):
                flat = side.chain == word and side.parts
                parts += side.parts if flat and side.parts else [side.text]
                depth = max(depth, side.depth if flat else side.depth + 1)
            text = f"({f' {word} '.join(parts)})"
            if len(parts) > CHAIN_PARTS:  # pure, so evaluating it as a statement changes nothing but order
                self.spill(text)
            else:
                self.push(text, chain=word, parts=parts, depth=depth)
            return
        name = self.temp()  # the inner block has effects: only when the left side does not decide
        test = name if word == "and" else f"not {name}"
        self.out += [f"{name} = {left.text}", f"if {test}:", *_indent(inner_out), f"    {name} = {right.text}"]
        self.stack.append(_E(name))

    def _end_if(self, frame: _Frame, inner_out: list[str]) -> None:
        if frame.then_stack is None:  # no ELSE: the inner block is the then-arm
            then_out, then_stack, else_out, else_stack = inner_out, self.stack[frame.floor :], [], []
        else:
            assert frame.then_out is not None
            then_out, then_stack, else_out, else_stack = frame.then_out, frame.then_stack, inner_out, \
                self.stack[frame.floor :]
        del self.stack[frame.floor :]
        if not then_out and not else_out and len(then_stack) <= 1:
            if then_stack:  # one value, no statements: a conditional expression
                a, b = then_stack[0], else_stack[0]
                self.push(f"({a.text} if {frame.cond.text} else {b.text})", a, b, frame.cond)
            return  # nothing happens either way
        results = [self.temp() for _ in then_stack]
        then_body = then_out + [f"{t} = {e.text}" for t, e in zip(results, then_stack, strict=True)]
        else_body = else_out + [f"{t} = {e.text}" for t, e in zip(results, else_stack, strict=True)]
        self.out += [f"if {frame.cond.text}:", *_indent(then_body or ["pass"])]
        if else_body:
            self.out += ["else:", *_indent(else_body)]
        self.stack.extend(_E(t) for t in results)

    # ---------------------------------------------------------------------------------- actions
    def action(self, op: Op, instr: Instr) -> None:
        n = len(OPCODES[op].pops)
        args = self.stack[len(self.stack) - n :]
        del self.stack[len(self.stack) - n :]
        # state requests get the name (a string constant), rewards the predicate or combo index
        ref = f"K{int(instr[1])}" if OPCODES[op].operand == "const" else str(int(instr[1]))  # GIFT: its SKUs
        if self.fast is not None:
            self.out += self.fast.action(op, ref, args)
            return
        self.out.append(f"R_{op}(r, {ref}{''.join(', ' + a.text for a in args)})")


MILLION = 1_000_000


def select(i: int, condition: str | None) -> list[str]:
    """The statements setting ``_xs`` to predicate i's lines (``condition``: its filter, else None), as
    ``r.match`` gives them: a plain filter computed into the driver's ``M`` (``r.matches``) on first use.
    A filter the driver (runtime/driver.py) computed up front is read from its local instead (``Filled``,
    ``_FastAction.select``)."""
    if condition is None:
        return [f"_xs = M[{i}]"]
    if condition == "True":
        return ["_xs = lines"]
    # ``M.get``, not ``in M`` then ``M[i]``: ``M`` is a ``dict`` subclass, whose ``in`` and subscript CPython
    # calls through its type's generic slots (a method call each), a dearer path than one ``get``
    return [f"_xs = M.get({i})", f"if _xs is None: _xs = M[{i}] = [l for l in lines if {condition}]"]


def _fast_names(bundle: Bundle) -> dict[str, Any]:
    """The names ``_FastAction``'s statements use beyond the module's: the settings' rounding functions,
    allocation and its mode (values, never source text)."""
    s = bundle.settings
    return {"_allocate": allocate, "_zip": zip, "_amode": s.allocation, "_round_d": ROUNDERS[s.rounding_discount],
            "_round_p": ROUNDERS[s.rounding_points]}


class _FastAction:
    """The statements of one reward written out for the driver (runtime/driver.py), the same arithmetic
    as runtime/rewards.py's ``Pricer`` (tests/fuzz/test_fuzz_driver.py compares them): accruals append to
    ``acc`` and add their rounded total to ``pts`` at once (the group's basis does not change while a
    campaign runs, so this is ``Pricer.points_total`` of the list); line discounts add to ``vec``; the
    allocations of ``discount ... on`` run at once, or wait in ``spread`` when it is a list (a group that
    takes its first candidates prices its winners only, ``Pricer.settle``). Any other reward is called, with
    ``vec`` and ``spread`` handed over through ``r``. The driver's locals read: ``r M lines basis n ordered
    vec acc pts spread``; the temporaries are ``_x*``, one reward's
    own (every statement list stands alone); ``M`` is ``r.matches``, ``lines`` the receipt's."""

    def __init__(self, bundle: Bundle, filters: Sequence[str | None], filled: Mapping[int, Filled] | None = None) -> None:
        s = bundle.settings
        self.bundle, self.filters, self.filled = bundle, filters, filled or {}
        self.calls = False
        self.floor = s.rounding_discount == "floor"
        self.floor_points = s.rounding_points == "floor"
        self.scale, self.den = int(10**s.points_minor), int(MILLION * s.point_value)

    def action(self, op: Op, ref: str, args: list[_E]) -> list[str]:
        # the arguments first, as a call has them; a constant that is not negative needs no ``max(0, _)``
        values = [f"_xv{k} = {a.text}" for k, a in enumerate(args)]
        write = getattr(self, f"op_{op}", None)
        if write is not None:
            out = write(int(ref))
            if args and self._natural(args[0]):
                out = [line for line in out if line != "_xv0 = _max(0, _xv0)"]
            return [*values, *self.select(int(ref)), "if _xs:", *_indent(out)]
        if op == Op.COMBO:  # a part without lines gives no set: the call only when every part has some
            spec = self.bundle.constants[int(ref)]
            assert isinstance(spec, ComboSpec)
            out = self.call(op, ref, len(args))
            for p, _ in reversed(spec.parts):
                out = [*self.select(int(p)), "if _xs:", *_indent(out)]
            return [*values, *out]
        # a reward over a predicate's lines finds them computed (a plain filter here, not through ``r.match``'s
        # matcher on a miss): filters are pure, so computing one before the call changes nothing but where
        select = self.select(int(ref)) if OPCODES[op].operand == "predicate" else []
        return [*values, *select, *self.call(op, ref, len(args))]

    def _natural(self, arg: _E) -> bool:
        value = self.bundle.constants[arg.const] if arg.const is not None else None
        return type(value) is int and value >= 0

    def every(self, i: int) -> bool:
        """Whether predicate i selects every line (constantly true)."""
        return i < len(self.filters) and self.filters[i] == "True"

    def select(self, i: int) -> list[str]:
        """``_xs``, predicate i's lines, as ``r.match`` gives them (the driver's ``M`` is ``r.matches``);
        a plain filter computed here, into ``M``, on first use, unless the driver computed it (``filled``)."""
        filled = self.filled.get(i)
        if filled is not None:
            return [f"_xs = {filled.lines}"]
        return select(i, self.filters[i] if i < len(self.filters) else None)

    def weight(self, i: int) -> list[str]:
        """``_xw``, the selected lines' basis in total, for an accrual: the driver's running sum of their original
        amounts when it keeps one (it does only for a group on the original basis, whose basis they are), else
        the sum, once a group: ``W`` is the driver's memo of the group's basis per predicate (the basis does
        not change within a group, nor do a predicate's lines: every campaign accruing on them finds it)."""
        filled = self.filled.get(i)
        if filled is not None and filled.amounts is not None:
            return [f"_xw = {filled.amounts}"]
        if self.every(i):
            return ["_xw = sum(basis)"]
        return [f"_xw = W.get({i})", f"if _xw is None: _xw = W[{i}] = sum([basis[l.index] for l in _xs])"]

    def call(self, op: Op, ref: str, n: int) -> list[str]:
        self.calls = True
        return ["r.vec = vec; r.spread = spread", f"R_{op}(r, {ref}{''.join(f', _xv{k}' for k in range(n))})",
                "vec = r.vec; r.spread = None"]

    def _points(self, value: str) -> str:
        if self.floor_points:
            return f"_xw * {value} * {self.scale} // {self.den}"
        return f"_round_p(_xw * {value} * {self.scale}, {self.den})"

    def op_ACCRUE_TOTAL(self, i: int) -> list[str]:
        return ["_xv0 = _max(0, _xv0)", "if acc is None: acc = []", "acc.append(('ACCRUE_TOTAL', _xs, _xv0))",
                *self.weight(i), f"if _xw > 0: pts += {self._points('_xv0')}"]

    def op_ACCRUE_FIXED(self, i: int) -> list[str]:
        return ["_xv0 = _max(0, _xv0)", "if acc is None: acc = []", "acc.append(('ACCRUE_FIXED', _xs, _xv0))",
                *self.weight(i), "if _xw > 0: pts += _xv0"]

    def op_DISCOUNT_LINES(self, i: int) -> list[str]:
        part = f"basis[_xi] * _xv0 // {MILLION}" if self.floor else f"_round_d(basis[_xi] * _xv0, {MILLION})"
        return ["_xv0 = _max(0, _xv0)", "if vec is None: vec = [0] * n",
                "for l in _xs:", "    _xi = l.index", f"    vec[_xi] += {part}"]

    def op_DISCOUNT_TOTAL(self, i: int) -> list[str]:
        whole = f"_xt * _xv0 // {MILLION}" if self.floor else f"_round_d(_xt * _xv0, {MILLION})"
        return ["_xv0 = _max(0, _xv0)", *self._weights(self.every(i)), f"_xa = {whole}", *self._spread(self.every(i))]

    def op_DISCOUNT_AMOUNT(self, i: int) -> list[str]:  # ``_xa``: min(amount, _xt) without the calls
        every = self.every(i)
        return ["_xv0 = _max(0, _xv0)", *self._weights(every), "_xa = _xv0 if _xv0 < _xt else _xt", *self._spread(every)]

    @staticmethod
    def _weights(every: bool) -> list[str]:
        """``_xw``, the selected lines' basis (the basis itself when every line is selected: allocation
        only reads its weights), and ``_xt`` their sum."""
        return ["_xw = basis" if every else "_xw = [basis[l.index] for l in _xs]", "_xt = sum(_xw)"]

    def _spread(self, every: bool) -> list[str]:
        """``Pricer._spread`` run at once: ``_xa`` allocated over the lines ``_xs`` by their weights ``_xw``
        (sum ``_xt``). ``largest_line`` over lines in order is written out (``money.allocate``'s arithmetic:
        the parts by weight, the rest to the first largest weight), else called."""
        if self.bundle.settings.allocation == "largest_line":
            allocate = ["if ordered:",
                        "    _xp = [_xa * _xq // _xt for _xq in _xw]",
                        "    _xq = _xa - sum(_xp)",
                        "    if _xq: _xp[_xw.index(_max(_xw))] += _xq",
                        "else: _xp = _allocate(_xa, _xw, _amode, [l.line_no for l in _xs])"]
        else:
            allocate = ["_xp = _allocate(_xa, _xw, _amode, None if ordered else [l.line_no for l in _xs])"]
        whole = ["    if vec is None: vec = _xp"] if every else ["    if vec is None and len(_xs) == n: vec = _xp"]
        return ["if not _xa:", "    if vec is None: vec = [0] * n",
                "elif spread is not None: spread.append((_xs, _xw, _xa, _xa if _xt > 0 else 0))",  # ``Pricer.settle``
                "else:", *_indent(allocate), *whole,
                "    else:",
                "        if vec is None: vec = [0] * n",
                "        for l, _xq in _zip(_xs, _xp): vec[l.index] += _xq"]


_HANDLERS: dict[Op, Callable[[_Gen, Instr], None]] = {  # dispatch by name: op_CONST handles Op.CONST
    Op[name[3:]]: fn for name, fn in vars(_Gen).items() if name.startswith("op_")}


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]
