"""LOY304: a selection that wants a value from one list and excludes it by another (``sku in promo and
sku not in excluded`` where the two lists share SKUs): the shared values are never selected, which is
seldom what the author meant (a SKU on both the white and the black list)."""

from __future__ import annotations

from collections.abc import Iterator

from loyadsl.compile import ir
from loyadsl.compile.footprint import _children
from loyadsl.diagnostics import Diagnostic, warning
from loyadsl.runtime.opcodes import Op

CODE = "LOY304"


def check(c: ir.ICampaign) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for expr in _expressions(c):
        for conjunction in _conjunctions(expr):
            found += _clashes(c, conjunction)
    return found


def _expressions(c: ir.ICampaign) -> Iterator[ir.IExpr]:
    for e in (c.audience, c.condition):
        if e is not None:
            yield e
    for action in c.actions:
        if isinstance(action, ir.Reward):
            yield action.predicate
        elif isinstance(action, ir.ComboReward):
            yield from (predicate for predicate, _ in action.parts)


def _conjunctions(e: ir.IExpr) -> Iterator[list[ir.IExpr]]:
    """Every conjunction in ``e`` (an ``and``, or a lone expression), as its list of conjuncts."""
    yield _conjuncts(e)
    stack = [e]
    while stack:
        node = stack.pop()
        for child in _children(node):
            if isinstance(child, ir.Logic) and child.op == Op.AND and not (
                    isinstance(node, ir.Logic) and node.op == Op.AND):
                yield _conjuncts(child)
            stack.append(child)


def _conjuncts(e: ir.IExpr) -> list[ir.IExpr]:
    if isinstance(e, ir.Logic) and e.op == Op.AND:
        return [c for operand in e.operands for c in _conjuncts(operand)]
    return [e]


def _member(e: ir.IExpr) -> tuple[str, frozenset[str]] | None:
    """(field, values) of ``FIELD in [values]`` on a line or the receipt, else None."""
    if isinstance(e, ir.In) and e.op == Op.IN and isinstance(e.item, ir.Load) \
            and isinstance(e.collection, ir.Const) and isinstance(e.collection.value, frozenset):
        return f"{e.item.source}.{e.item.field}", e.collection.value
    return None


def _clashes(c: ir.ICampaign, conjuncts: list[ir.IExpr]) -> list[Diagnostic]:
    wanted = [m for e in conjuncts if (m := _member(e)) is not None]
    excluded = [m for e in conjuncts if isinstance(e, ir.NotE) and (m := _member(e.operand)) is not None]
    found = []
    for field, values in wanted:
        for other, unwanted in excluded:
            both = sorted(values & unwanted)
            if other == field and both:
                name = field.split(".", 1)[1]
                shown = ", ".join(f'"{v}"' for v in both[:5]) + (f" and {len(both) - 5} more" if len(both) > 5 else "")
                whole = " (all of them: it selects nothing)" if not values - unwanted else ""
                found.append(warning(
                    CODE, f"campaign `{c.name}` wants {name} in one list and not in another, and both name "
                          f"{shown}: those are never selected{whole}", c.span,
                    f"take {shown} off one of the lists, or drop the `not in` if they should count"))
    return found
