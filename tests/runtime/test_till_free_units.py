"""``Pricer.free_units`` counts the free units per line in closed form; here it agrees with the rule
written out unit by unit (docs/bundle.md: units by value, most expensive first, ties by line_no; in each
complete group of ``every`` the last ``free`` positions are free; a budget takes the first ones)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from loyadsl.runtime.model import Line
from loyadsl.runtime.rewards import Pricer


def _expanded(lines: list[Line], basis: list[int], free: int, every: int,
              budget: int | None) -> tuple[list[int], int | None]:
    units = sorted((-(line.price * basis[line.index] // line.amount if line.amount else 0), line.line_no, line.index)
                   for line in lines for _ in range(line.units))
    full = len(units) // every * every
    free = min(free, every)
    vec = [0] * len(lines)
    for position, (neg_value, _, i) in enumerate(units[:full]):
        if position % every >= every - free and budget != 0:
            vec[i] += -neg_value
            budget = None if budget is None else budget - 1
    return vec, budget


_LINE = st.tuples(st.integers(0, 7), st.integers(0, 5_000), st.integers(0, 3))  # units, unit price, basis cut


@given(st.lists(_LINE, min_size=1, max_size=6), st.integers(-1, 4), st.integers(-1, 6),
       st.none() | st.integers(0, 5), st.booleans())
def test_free_units_agrees_with_the_rule_unit_by_unit(spec: list[tuple[int, int, int]], free: int, every: int,
                                                      budget: int | None, ordered: bool) -> None:
    lines = []
    for index, (units, price, _) in enumerate(spec):
        line = Line.of(len(spec) - index if not ordered else index + 1, f"S{index}", "c", units * 1000, price,
                       units * price)
        line.index = index
        lines.append(line)
    basis = [line.amount - cut * line.amount // 4 for line, (_, _, cut) in zip(lines, spec, strict=True)]
    r: Any = SimpleNamespace(match=lambda ref: lines, basis=basis, budget=budget, vec=None, nlines=len(lines))
    pricer = Pricer.__new__(Pricer)
    pricer.free_units(r, 0, free, every)
    if free <= 0 or every <= 0:
        assert r.vec is None and r.budget == budget
        return
    assert (r.vec, r.budget) == _expanded(lines, basis, free, every, budget)
