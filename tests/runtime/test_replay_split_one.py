"""``ledger.splits.split`` takes shortcuts for one line and for a single unit; they must give exactly
what the largest-remainder allocation (``money.allocate``) gives, ties to the smaller line_no."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from loyadsl.runtime.ledger.splits import split
from loyadsl.runtime.money import allocate


def _reference(total: int, weights: list[int], line_nos: list[int]) -> list[int]:
    """``split`` as it was written before its shortcuts."""
    if not weights:
        return []
    if sum(weights) <= 0:
        weights = [1] * len(weights)
    sign = -1 if total < 0 else 1
    return [sign * p for p in allocate(abs(total), weights, "largest_remainder", line_nos)]


@settings(max_examples=400, deadline=None)
@given(st.integers(-5, 5), st.lists(st.integers(-3, 50), max_size=8), st.randoms(use_true_random=False))
def test_split_matches_the_allocation(total: int, weights: list[int], rnd: object) -> None:
    line_nos = list(range(1, len(weights) + 1))
    rnd.shuffle(line_nos)  # type: ignore[attr-defined]
    assert split(total, weights, line_nos) == _reference(total, weights, line_nos)


def test_one_unit_goes_to_the_heaviest_line_ties_to_the_smaller_line_no() -> None:
    assert split(1, [5, 9, 9], [1, 3, 2]) == [0, 0, 1]
    assert split(-1, [0, 0, 0], [3, 1, 2]) == [0, -1, 0]
    assert split(1, [0, 7, 0], [1, 2, 3]) == [0, 1, 0]
    assert split(7, [0], [4]) == [7]
