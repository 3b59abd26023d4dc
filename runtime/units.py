"""Unit-level discounts (docs/units.md): a percentage or an amount off the K-th unit of every group of N.

``discount 50% on unit 2 of every 2 units of lines where P`` ("the second unit half price"). The
selected lines' whole units (⌊qty⌋) are ordered as for ``free F in N units``: by unit value, most
expensive first, ties by ``line_no``; they form consecutive groups of N, and in each complete group
the unit at position K gets the discount. ``cheapest unit`` is position N, ``most_expensive unit``
position 1. Without ``of every N units`` (``discount 50% on cheapest unit of lines where P``) the
selected units are one group, whose cheapest unit is its last position (K = -1 in the bytecode).
``limit M per receipt`` caps the discounted units, in that order.

A line is a run of equal units, so the picked positions of a line are counted in closed form, never
expanded: a 10⁶-unit line costs what a one-unit line costs. A percentage is rounded per unit (each
unit's discount rounded, times the units) or per line (the line's picked units rounded once); money
off a unit is at most the unit's value. Every amount is an integer per line, so the parts sum exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from .model import Line

MILLION = 1_000_000
Pick = tuple[int, int, int]  # (line index, unit value, picked units)


class Context(Protocol):
    """What the mechanic reads and writes on the engine's evaluation context (as rewards.Context)."""

    basis: list[int]
    vec: list[int] | None
    budget: int | None
    nlines: int

    def match(self, index: int) -> Sequence[Line]: ...


class NthUnit:
    """The three pricing functions of the unit-level discount ops, under a bundle's discount rounding."""

    def __init__(self, rnd: Callable[[int, int], int]) -> None:
        self.round = rnd

    def rewards(self) -> dict[str, Callable[..., None]]:
        return {"NTH_UNIT_PERCENT": self.percent, "NTH_UNIT_PERCENT_LINE": self.percent_line,
                "NTH_UNIT_AMOUNT": self.amount, "NTH_UNIT_PRICE": self.price}

    def percent(self, r: Context, ref: int, ppm: int, nth: int, every: int) -> None:
        """P% off each picked unit, rounded per unit."""
        ppm, rnd = min(max(0, ppm), MILLION), self.round
        _give(r, [(i, count * rnd(value * ppm, MILLION)) for i, value, count in picks(r, ref, nth, every)])

    def percent_line(self, r: Context, ref: int, ppm: int, nth: int, every: int) -> None:
        """P% off the picked units of each line, rounded once per line."""
        ppm, rnd = min(max(0, ppm), MILLION), self.round
        _give(r, [(i, rnd(count * value * ppm, MILLION)) for i, value, count in picks(r, ref, nth, every)])

    def amount(self, r: Context, ref: int, money: int, nth: int, every: int) -> None:
        """Money off each picked unit, at most the unit's value."""
        money = max(0, money)
        _give(r, [(i, count * min(money, value)) for i, value, count in picks(r, ref, nth, every)])


    def price(self, r: Context, ref: int, money: int, nth: int, every: int) -> None:
        """Each picked unit costs ``money``: its value less that, never below zero."""
        money = max(0, money)
        _give(r, [(i, count * (value - money)) for i, value, count in picks(r, ref, nth, every) if value > money])


def picks(r: Context, ref: int, nth: int, every: int) -> list[Pick]:
    """The picked units per line: position ``nth`` (1-based) of each complete group of ``every`` units,
    the units ordered by value, most expensive first (ties: line_no); at most ``r.budget`` of them.
    ``every`` 0: one group of all the selected units, where a negative ``nth`` counts from the cheapest
    end (-1 is the cheapest unit)."""
    sel = r.match(ref)
    if not sel or every < 0 or (every > 0 and not 1 <= nth <= every):
        return []
    basis, budget = r.basis, r.budget
    runs = sorted((-(line.price * basis[line.index] // line.amount if line.amount else 0), line.line_no, line.index,
                   line.units) for line in sel if line.units > 0)
    total = sum(run[3] for run in runs)
    if every == 0:  # one group: all the units
        every, k = total, (nth - 1 if nth > 0 else total + nth)
        if not 0 <= k < total:
            return []
    else:
        k = nth - 1
    full = total // every * every  # positions in complete groups

    def picked_below(x: int) -> int:  # picked positions in [0, x)
        return x // every + (1 if x % every > k else 0)

    out: list[Pick] = []
    position = 0
    for neg_value, _, i, units in runs:
        if position >= full or budget == 0:
            break
        count = picked_below(min(position + units, full)) - picked_below(position)
        if budget is not None:
            count = min(count, budget)
            budget -= count
        if count:
            out.append((i, -neg_value, count))
        position += units
    r.budget = budget
    return out


def _give(r: Context, amounts: list[tuple[int, int]]) -> None:
    """Add each line's discount to the campaign's requested discount vector."""
    if not amounts:
        return
    vec = r.vec
    if vec is None:
        vec = r.vec = [0] * r.nlines
    for i, amount in amounts:
        vec[i] += amount
