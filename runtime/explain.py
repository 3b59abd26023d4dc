"""Why a campaign's audience or condition was false: the comparison that decided, with its values, for
the trace (``explain=True``), e.g. ``receipt.total 840.00 < 1000.00``.

Two passes over the block's verified bytecode, both only when a trace asks:

* ``_Shown`` decompiles it into display text (``receipt.total``, ``sum(lines where category in
  ["dairy"])``) with each value's unit, numbering the comparisons in code order;
* ``_Recording`` is the code generator of runtime/jit.py with each comparison routed through ``rec(k,
  a, b)``, which records the values and returns the comparison's result, so the explanation runs the
  very code the engine ran.

The last comparison evaluated decides an ``and``/``or`` chain's value (evaluation stops there), so it
is the one reported, written as the relation that held: ``840.00 < 1000.00`` when ``>= 1000.00`` was
false. A block without a comparison (``customer.known``) has no detail.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from .bundle_types import Bundle, Campaign, Code, ComboSpec
from .jit import _BINARY, Program, _Gen
from .money import minor_text
from .opcodes import AGGREGATE_OPS, Op

# op -> (as written, its negation, the test)
_COMPARE: dict[Op, tuple[str, str, Callable[[Any, Any], bool]]] = {
    Op.EQ: ("==", "!=", operator.eq), Op.NE: ("!=", "==", operator.ne), Op.LT: ("<", ">=", operator.lt),
    Op.LE: ("<=", ">", operator.le), Op.GT: (">", "<=", operator.gt), Op.GE: (">=", "<", operator.ge),
    Op.IN: ("in", "not in", lambda a, b: a in b),
}
_RECEIPT_UNITS = {"total": "money", "payable": "money", "units": "qty", "date": "date", "time": "time",
                  "weekday": "weekday"}
_LINE_UNITS = {"amount": "money", "price": "money", "qty": "qty"}
_AGGREGATE = {Op.SUM: ("sum", "money"), Op.COUNT: ("count", ""), Op.QTY: ("qty", "qty"), Op.UNITS: ("units", "")}
_WEEKDAYS = ("", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# what a receipt adds to make a value grow (``receipt.payable`` shrinks with discounts: never a hint)
_RECEIPT_GROWS = {"total": "money", "lines": "lines", "units": "units"}
_AGGREGATE_GROWS = {Op.SUM: "money", Op.COUNT: "lines", Op.QTY: "qty", Op.UNITS: "units"}


class Shown(NamedTuple):
    text: str
    unit: str  # money, qty, points, date, time, weekday, or "" (a count, a string, a set)
    grows: str = ""  # what the receipt adds to make it grow: "money", "lines", "units", "qty" ("": no such thing)
    constant: bool = False


class Hint(NamedTuple):
    """What a receipt lacks for a campaign's condition to hold (an upsell hint for the cashier)."""

    campaign: str
    what: str  # the value that falls short, as the trace writes it (``receipt.total``)
    add: int  # how much more of it: minor units, lines, whole units or thousandths (``unit``)
    unit: str  # money, lines, units or qty
    text: str  # ``add 120.00 RUB``, ``add 1 more line of lines where category in ["dairy"]``


NEAR = (3, 10)  # a hint only when what is missing is at most 3/10 of the threshold: "nearly applied"


class Explainer:
    """Explanations for one engine's bundle; each block's recording function is made on first use."""

    def __init__(self, bundle: Bundle, program: Program) -> None:
        self.bundle = bundle
        self.program = program
        self._made: dict[tuple[int, str], tuple[Callable[..., Any], list[tuple[Shown, Shown, Op]]]] = {}

    def why(self, campaign: Campaign, block: str, r: Any, cu: Any) -> str | None:
        """The comparison that made ``block`` (``audience`` or ``condition``) of ``campaign`` false."""
        code = campaign.audience if block == "audience" else campaign.condition
        if code is None:
            return None
        key = (campaign.index, block)
        if key not in self._made:
            self._made[key] = self._make(code)
        run, shown = self._made[key]
        if not shown:
            return None
        seen: list[tuple[int, Any, Any, bool]] = []

        def rec(k: int, a: Any, b: Any) -> bool:
            held = _COMPARE[shown[k][2]][2](a, b)
            seen.append((k, a, b, held))
            return held

        run(r, cu, rec)
        if not seen:
            return None
        k, a, b, held = seen[-1]
        left, right, op = shown[k]
        written, negated, _ = _COMPARE[op]
        unit = left.unit or right.unit
        return f"{left.text} {self._value(a, unit)} {written if held else negated} {self._value(b, unit)}"

    def gap(self, campaign: Campaign, r: Any, cu: Any) -> Hint | None:
        """What the receipt lacks for ``campaign``'s condition to hold, when one growing value falls
        short of a constant threshold (``receipt.total >= 1000.00 RUB``, ``units(lines where ...) >= 3``)
        by at most ``NEAR`` of it, and the condition, re-run with that value raised by the gap and
        everything else as it is, holds; else None."""
        code = campaign.condition
        if code is None:
            return None
        key = (campaign.index, "condition")
        if key not in self._made:
            self._made[key] = self._make(code)
        run, shown = self._made[key]
        seen: list[tuple[int, Any, Any]] = []

        def rec(k: int, a: Any, b: Any) -> bool:
            seen.append((k, a, b))
            return _COMPARE[shown[k][2]][2](a, b)

        if not shown or run(r, cu, rec) or not seen:
            return None
        k, a, b = seen[-1]
        left, right, op = shown[k]
        if op not in (Op.GE, Op.GT) or not left.grows or not right.constant or type(a) is not int:
            return None
        need = b - a + (1 if op == Op.GT else 0)
        if need <= 0 or need * NEAR[1] > max(b, 1) * NEAR[0]:
            return None
        if left.grows in ("units", "lines") and left.unit == "qty":  # receipt.units counts thousandths
            need = -(-need // 1000) * 1000

        def raised(j: int, x: Any, y: Any) -> bool:
            return _COMPARE[shown[j][2]][2](x + need if j == k else x, y)

        if not run(r, cu, raised):
            return None
        return Hint(campaign.name, left.text, need, left.grows, self._hint_text(left, need))

    def _hint_text(self, left: Shown, need: int) -> str:
        where = left.text[left.text.index("(") + 1:-1] if left.text.endswith(")") else ""
        of = f" of {where}" if where and where != "lines" else ""
        if left.grows == "money":
            return f"add {minor_text(need, self.bundle.settings.minor)} {self.bundle.settings.currency}{of}"
        if left.grows == "lines":
            return f"add {need} more {'line' if need == 1 else 'lines'}{of}"
        count = need // 1000 if left.unit == "qty" else need
        if left.grows == "units":
            return f"add {count} more {'unit' if count == 1 else 'units'}{of}"
        return f"add {self._value(need, 'qty')} more{of}"

    def _make(self, code: Code) -> tuple[Callable[..., Any], list[tuple[Shown, Shown, Op]]]:
        namespace = dict(self.program.namespace)
        gen = _Recording(self.bundle, code, namespace, "_x")
        stmts, result = gen.run()
        assert result is not None
        source = "def x(r, cu, rec):\n" + "".join(f"    {line}\n" for line in [*stmts, f"return {result.text}"])
        exec(compile(source, "<loyadsl explain>", "exec"), namespace)  # our own source, as runtime/jit.py's
        return namespace["x"], _Shown(self.bundle).comparisons(code)

    def _value(self, value: Any, unit: str) -> str:
        s = self.bundle.settings
        if isinstance(value, str):
            return f'"{value}"'
        if isinstance(value, frozenset | set):
            return _listing(value)
        if isinstance(value, bool) or not isinstance(value, int):
            return str(value).lower()
        if unit == "money":
            return minor_text(value, s.minor)
        if unit == "qty":
            return minor_text(value, 3).rstrip("0").rstrip(".") if value % 1000 else str(value // 1000)
        if unit == "points":
            return minor_text(value, s.points_minor)
        if unit == "date" and dt.date.min.toordinal() <= value <= dt.date.max.toordinal():
            return dt.date.fromordinal(value).isoformat()
        if unit == "time" and 0 <= value <= 86400:
            return f"{value // 3600:02d}:{value // 60 % 60:02d}"
        if unit == "weekday" and 1 <= value <= 7:
            return _WEEKDAYS[value]
        return str(value)


class _Recording(_Gen):
    """runtime/jit.py's generator with each comparison as ``rec(k, a, b)``, numbered in code order."""

    def __init__(self, bundle: Bundle, code: Code, namespace: dict[str, Any], temps: str) -> None:
        super().__init__(bundle, code, namespace, temps)
        self.compared = 0

    def binary(self, op: Op) -> None:
        if op not in _COMPARE:
            super().binary(op)
            return
        b, a = self.stack.pop(), self.stack.pop()
        self.push(f"rec({self.compared}, {a.text}, {b.text})", a, b)
        self.compared += 1


class _Shown:
    """Display text of a block's values, and its comparisons in code order: (left, right, op)."""

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle

    def comparisons(self, code: Code) -> list[tuple[Shown, Shown, Op]]:
        found: list[tuple[Shown, Shown, Op]] = []
        self._run(code, found)
        return found

    def _run(self, code: Code, found: list[tuple[Shown, Shown, Op]] | None) -> Shown | None:
        stack: list[Shown] = []
        frames: list[tuple[Op, Shown, int, list[Shown] | None]] = []  # op, condition, floor, then-values
        for instr in code:
            op = instr[0]
            if op == Op.RET:
                break
            if op in _COMPARE:
                b, a = stack.pop(), stack.pop()
                if found is not None:
                    found.append((a, b, op))
                stack.append(Shown(f"{a.text} {_COMPARE[op][0]} {b.text}", ""))
            elif op in (Op.AND, Op.OR, Op.IF):
                frames.append((op, stack.pop(), len(stack), None))
            elif op == Op.ELSE:
                kind, cond, floor, _ = frames.pop()
                frames.append((kind, cond, floor, stack[floor:]))
                del stack[floor:]
            elif op == Op.END:
                self._end(frames.pop(), stack)
            else:
                stack.append(self._value(op, instr, stack))
        return stack[-1] if stack else None

    def _end(self, frame: tuple[Op, Shown, int, list[Shown] | None], stack: list[Shown]) -> None:
        kind, cond, floor, then = frame
        if kind in (Op.AND, Op.OR):
            right = stack.pop()
            stack.append(Shown(f"{cond.text} {kind.lower()} {right.text}", ""))
            return
        values = stack[floor:]
        del stack[floor:]
        if then is None:
            then, values = values, []
        stack.extend(Shown(f"({t.text} if {cond.text} else {e.text})", t.unit or e.unit)
                     for t, e in zip(then, values, strict=False))

    def _value(self, op: Op, instr: Sequence[Any], stack: list[Shown]) -> Shown:
        b = self.bundle
        if op == Op.CONST:
            return Shown(_constant(b.constants[int(instr[1])]), "", constant=True)
        if op == Op.RECEIPT:
            return Shown(f"receipt.{instr[1]}", _RECEIPT_UNITS.get(instr[1], ""), _RECEIPT_GROWS.get(instr[1], ""))
        if op == Op.CUSTOMER:
            return Shown(f"customer.{instr[1]}", "")
        if op == Op.LINE:
            return Shown(str(instr[1]), _LINE_UNITS.get(instr[1], ""))
        if op in (Op.CUSTOMER_ATTR, Op.LINE_ATTR):
            owner = "customer.attr." if op == Op.CUSTOMER_ATTR else "attr."
            return Shown(owner + str(b.constants[int(instr[1])]), "")
        if op in (Op.COUNTER, Op.BALANCE, Op.BENEFIT):
            return Shown(f'{op.lower()}("{b.constants[int(instr[1])]}")', "points" if op == Op.BALANCE else "")
        if op in (Op.METRIC, Op.PROFILE):  # docs/segments.md
            return Shown(f'{op.lower()}("{b.constants[int(instr[1])]}")', "")
        if op in AGGREGATE_OPS:
            word, unit = _AGGREGATE[op]
            pred = self._run(b.predicates[int(instr[1])], None)
            where = "lines" if pred is None or pred.text == "true" else f"lines where {pred.text}"
            return Shown(f"{word}({where})", unit, _AGGREGATE_GROWS[op])
        if op in (Op.NOT, Op.NEG):
            a = stack.pop()
            return Shown(f"not {a.text}" if op == Op.NOT else f"-{a.text}", a.unit)
        if op == Op.MULDIV:
            y, x = stack.pop(), stack.pop()
            return Shown(f"{x.text} × {y.text} / {int(instr[1][0])}", x.unit or y.unit)
        y, x = stack.pop(), stack.pop()
        if op in (Op.MIN, Op.MAX):
            return Shown(f"{op.lower()}({x.text}, {y.text})", x.unit or y.unit)
        if op == Op.CATEGORY_IN:
            return Shown(f"{x.text} in {y.text}", "")
        if op == Op.SUBSET_ANY:
            return Shown(f"{x.text} has any of {y.text}", "")
        return Shown(f"{x.text} {_BINARY.get(op, op.lower())} {y.text}", x.unit or y.unit)


def _constant(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, frozenset):
        return _listing(value)
    if isinstance(value, ComboSpec):
        return "combo"
    return str(value)


def _listing(values: frozenset[Any] | set[Any]) -> str:
    shown = sorted(map(str, values))
    more = f", … {len(shown) - 5} more" if len(shown) > 5 else ""
    return "[" + ", ".join(f'"{v}"' for v in shown[:5]) + more + "]"
