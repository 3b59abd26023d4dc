"""Experiment assignment: published hash vectors, convergence to the weights, stickiness."""

from __future__ import annotations

import pytest

from loyadsl.runtime.experiments import BUCKETS, Arm, arm_of, bounds, bucket

# The same vectors are published in docs/experiments.md (any implementation must reproduce them).
VECTORS = [
    ("spring-2026", "C0001", 9614),
    ("spring-2026", "C0002", 7852),
    ("spring-2026", "", 7289),
    ("", "C0001", 2057),
    ("весна", "клиент-42", 7698),
]


@pytest.mark.parametrize(("salt", "customer", "expected"), VECTORS)
def test_hash_vectors(salt: str, customer: str, expected: int) -> None:
    assert bucket(salt, customer) == expected


def test_shares_converge_to_weights_over_100000_ids() -> None:
    # Tolerance: 0.5 percentage points per arm. With n = 100,000 the standard error of a 50 % share
    # is 0.16 pp, so 0.5 pp is more than 3 sigma for every arm; a biased hash fails it.
    arms = [Arm("offer", 5000), Arm("lite", 3000), Arm("control", 2000)]
    counts = dict.fromkeys(("offer", "lite", "control"), 0)
    n = 100_000
    for i in range(n):
        counts[arm_of(arms, "exp-1", f"C{i}")] += 1
    for arm in arms:
        assert abs(counts[arm.name] / n - arm.weight / BUCKETS) < 0.005, counts


def test_weight_change_between_neighbours_moves_only_the_boundary_buckets() -> None:
    before = [Arm("a", 4000), Arm("b", 4000), Arm("control", 2000)]
    after = [Arm("a", 4500), Arm("b", 3500), Arm("control", 2000)]
    ids = [f"C{i}" for i in range(20_000)]
    moved = [c for c in ids if arm_of(before, "s", c) != arm_of(after, "s", c)]
    assert all(4000 <= bucket("s", c) < 4500 for c in moved)
    assert all(arm_of(before, "s", c) == "b" and arm_of(after, "s", c) == "a" for c in moved)
    assert 0.03 < len(moved) / len(ids) < 0.07  # 5 % of buckets


def test_bad_weights_are_refused() -> None:
    with pytest.raises(ValueError, match="sum to 9000"):
        bounds([Arm("a", 5000), Arm("b", 4000)])
    with pytest.raises(ValueError, match="negative"):
        bounds([Arm("a", -1), Arm("b", 10001)])
