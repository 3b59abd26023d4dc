"""Exact rounding and allocation (runtime/money.py)."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyadsl.runtime.money import allocate, allocate_units, div_round

DECIMAL_MODES = {"floor": ROUND_FLOOR, "ceil": ROUND_CEILING, "half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}


@pytest.mark.parametrize(
    ("n", "d", "mode", "want"),
    [
        (7, 2, "floor", 3), (-7, 2, "floor", -4), (7, 2, "ceil", 4), (-7, 2, "ceil", -3),
        (5, 2, "half_up", 3), (-5, 2, "half_up", -3), (7, 2, "half_even", 4), (5, 2, "half_even", 2),
        (-5, 2, "half_even", -2), (-7, 2, "half_even", -4), (1, 3, "half_up", 0), (2, 3, "half_up", 1),
        (7, -2, "floor", -4), (0, 5, "ceil", 0),
    ],
)
def test_div_round_cases(n: int, d: int, mode: str, want: int) -> None:
    assert div_round(n, d, mode) == want


@given(st.integers(-10**30, 10**30), st.integers(-10**12, 10**12).filter(bool), st.sampled_from(list(DECIMAL_MODES)))
def test_div_round_matches_decimal(n: int, d: int, mode: str) -> None:
    with localcontext() as ctx:
        ctx.prec = 80
        want = (Decimal(n) / Decimal(d)).quantize(Decimal(1), rounding=DECIMAL_MODES[mode])
    assert div_round(n, d, mode) == int(want)


def test_div_round_by_zero() -> None:
    with pytest.raises(ZeroDivisionError):
        div_round(1, 0, "floor")


def test_largest_remainder_ties_go_to_the_smaller_index() -> None:
    assert allocate(2, [1, 1, 1], "largest_remainder") == [1, 1, 0]
    assert allocate(100, [1, 1, 1], "largest_remainder") == [34, 33, 33]
    assert allocate(10, [3, 3, 4], "largest_remainder") == [3, 3, 4]
    assert allocate(1, [1, 1], "largest_remainder", ties=[2, 1]) == [0, 1]


def test_largest_line_gives_the_whole_remainder_to_the_largest_weight() -> None:
    # MECHANICS.md (d): floors, then the remainder to the largest amount (first of equals)
    parts = allocate(50000, [30000, 120001, 120001, 7], "largest_line")
    base = [50000 * w // 270009 for w in (30000, 120001, 120001, 7)]
    assert parts == [base[0], base[1] + 50000 - sum(base), base[2], base[3]]
    assert allocate(5, [2, 3, 3], "largest_line", ties=[3, 2, 1]) == [1, 1, 3]


def test_all_zero_weights_give_zeros() -> None:
    assert allocate(100, [0, 0], "largest_remainder") == [0, 0]
    assert allocate(100, [], "largest_line") == []
    assert allocate_units(7, [0, 0], [3, 1], "largest_remainder") == [0, 0]


weights_st = st.lists(st.integers(0, 10**9), min_size=1, max_size=30)


@given(st.integers(0, 10**12), weights_st, st.sampled_from(["largest_remainder", "largest_line"]))
def test_allocate_sums_exactly_and_is_non_negative(total: int, weights: list[int], mode: str) -> None:
    parts = allocate(total, weights, mode)
    assert len(parts) == len(weights)
    if sum(weights) > 0:
        assert sum(parts) == total
    assert all(p >= 0 for p in parts)
    assert all(p == 0 for p, w in zip(parts, weights, strict=True) if w == 0)


@given(st.integers(0, 10**6), st.lists(st.tuples(st.integers(0, 10**5), st.integers(0, 6)), min_size=1, max_size=8),
       st.sampled_from(["largest_remainder", "largest_line"]))
def test_allocate_units_equals_expanding_the_runs(total: int, runs: list[tuple[int, int]], mode: str) -> None:
    weights, counts = [w for w, _ in runs], [c for _, c in runs]
    grouped = allocate_units(total, weights, counts, mode)
    expanded = allocate(total, [w for w, c in runs for _ in range(c)], mode)
    back, k = [], 0
    for c in counts:
        back.append(sum(expanded[k : k + c]))
        k += c
    assert grouped == back
