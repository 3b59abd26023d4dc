"""Checker rules of the unit-level discounts (docs/units.md):
``discount V on unit K|cheapest unit|most_expensive unit of every N units of lines where P [rounded per unit|line]``.

* V is a percentage (at most 100%) or money, and gives something (LOY221, LOY207, LOY202);
* N is a constant count of at least 1 (LOY266); K a constant from 1 to N (LOY265); without
  `of every N units` the selected units are one group, K at least 1;
* `rounded per ...` rounds a percentage: with money, whose amount off a unit is exact, it is LOY267;
* ``price M on unit K ...``: each picked unit costs M (money, zero allowed: free; LOY202, LOY221).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from loyadsl.check import types as t
from loyadsl.compile import ir
from loyadsl.diagnostics import error
from loyadsl.runtime.opcodes import Op
from loyadsl.syntax import nodes as n

ALL_UNITS = 0  # the group size of a discount without `of every N units`: one group of all the selected units
CHEAPEST = -1  # its cheapest unit's position: the last (runtime/units.py)

if TYPE_CHECKING:
    from loyadsl.check.checker import Checker, Scope


def unit_discount(c: Checker, a: n.UnitDiscount, scope: Scope) -> ir.IAction | None:
    """The reward of a unit-level discount, or None after reporting what is wrong."""
    value = c.expr(a.value, scope, None)
    every = c._constant_int(a.every, scope, t.COUNT, "the group size") if a.every is not None else ALL_UNITS
    nth = c._constant_int(a.nth, scope, t.COUNT, "the unit's position") if a.nth is not None else None
    pred = c._selection(a.selection, scope)
    if value is None or every is None or pred is None or (a.nth is not None and nth is None):
        return None
    if a.every is not None and every < 1:
        c.report(error("LOY266", f"a group of {every} units has no unit to discount", a.every.span,
                       "the group size is at least 1: `of every 2 units` for \"the second unit\""))
        return None
    # one group of all the units (every 0): the cheapest is the last position, -1
    position = {"cheapest": every or CHEAPEST, "most_expensive": 1}.get(a.pick, nth)
    assert position is not None
    if a.nth is not None and (position < 1 or (every and position > every)):  # (cheapest, most expensive: in range)
        if every:
            c.report(error("LOY265", f"unit {position} is not in a group of {every} units", a.nth.span,
                           f"the position is 1 to {every}: `unit {every}` is the group's cheapest, `unit 1` its "
                           "most expensive"))
        else:
            c.report(error("LOY265", f"unit {position} names no unit", a.nth.span,
                           "positions start at 1: `unit 1` is the most expensive unit, `cheapest unit` the cheapest"))
        return None
    if a.price:  # the parser takes no rounding here: a price is exact
        if value.type != t.MONEY:
            c.report(error("LOY202", f"a unit's price is money, not {value.type}", a.value.span,
                           "write e.g. `price 1.00 " + c._currency() + " on unit 2 of every 2 units of ...`"))
            return None
        if not c._gives(value, a.value.span, "a price", zero=True):
            return None
        op = Op.NTH_UNIT_PRICE
        return ir.Reward(op, pred, (value, ir.Const(t.COUNT, position), ir.Const(t.COUNT, every)), span=a.span)
    if value.type not in (t.PERCENT, t.MONEY):
        c.report(error("LOY202", f"a discount is a percentage or money, not {value.type}", a.value.span,
                       "write e.g. `50%` or `10.00 " + c._currency() + "`"))
        return None
    if not c._gives(value, a.value.span, "a discount"):
        return None
    if value.type == t.MONEY:
        if a.rounding is not None:
            c.report(error("LOY267", f"`rounded per {a.rounding}` rounds a percentage; money off a unit is exact",
                           a.span, "remove `rounded per ...`, or write the discount as a percentage"))
            return None
        op = Op.NTH_UNIT_AMOUNT
    else:
        if isinstance(value, ir.Const) and isinstance(value.value, int) and value.value > t.PPM:
            c.report(error("LOY207", "a discount cannot exceed 100%", a.value.span))
            return None
        op = Op.NTH_UNIT_PERCENT_LINE if a.rounding == "line" else Op.NTH_UNIT_PERCENT
    return ir.Reward(op, pred, (value, ir.Const(t.COUNT, position), ir.Const(t.COUNT, every)), span=a.span)


def redemption_steps(c: Checker, e: n.Expr | None) -> int | None:
    """``redemption { steps 100 points }``: points are redeemed only in whole multiples of this (in point
    minor units); None when absent or wrong (reported: LOY202 for another type, LOY268 below one point)."""
    if e is None:
        return None
    steps = c.constant(e, t.POINTS, "the redemption's step")
    if steps is None:
        return None
    if steps < 1:
        c.report(error("LOY268", f"a redemption step of {c.shown(steps, t.POINTS)} is no step", e.span,
                       "write the least number of points a redemption takes, e.g. `steps 100 points`"))
        return None
    return steps
