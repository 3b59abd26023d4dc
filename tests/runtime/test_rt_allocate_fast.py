"""``money.allocate`` answers its common cases without the general sort (one part, an amount that divides,
a single unit left over, no equal remainders across the cut, the products and floors in C): it must give
exactly what the general largest-remainder / largest-line rule gives, ties to the ``ties`` keys.
``ledger.splits._hash_code`` encodes only the digest's blocks it keeps: the same codes as the whole;
``pairs`` is made in C and ``fill`` of a single row is its columns: both as the general loops give."""

from __future__ import annotations

import base64
import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from loyadsl.runtime.ledger.finish import payment_lines, selected_weights
from loyadsl.runtime.ledger.payment import redeemable
from loyadsl.runtime.ledger.splits import _hash_code, fill, pairs
from loyadsl.runtime.model import Line
from loyadsl.runtime.money import allocate


def _general(total: int, weights: list[int], mode: str, ties: list[int] | None) -> list[int]:
    """``allocate`` as it was written before its shortcuts (fe2e7f2)."""
    w_sum = sum(weights)
    if w_sum <= 0:
        return [0] * len(weights)
    parts = [total * w // w_sum for w in weights]
    rest = total - sum(parts)
    if rest:
        n = len(weights)
        if mode == "largest_line":
            if ties is None:
                best = weights.index(max(weights))
            else:
                best = min(range(n), key=lambda i: (-weights[i], ties[i]))
            parts[best] += rest
        else:
            rems = [total * w % w_sum for w in weights]
            if ties is None:
                order = sorted(range(n), key=rems.__getitem__, reverse=True)
            else:
                order = sorted(range(n), key=lambda i: (-rems[i], ties[i]))
            for i in order[:rest]:
                parts[i] += 1
    return parts


# small weights and totals make equal remainders (and ties across the cut) common
_WEIGHTS = st.one_of(st.lists(st.integers(0, 6), max_size=9), st.lists(st.integers(-3, 10**6), max_size=9),
                     st.lists(st.sampled_from([3, 3, 5, 7]), max_size=9))


@settings(max_examples=1500, deadline=None)
@given(st.integers(-10**7, 10**7) | st.integers(-12, 12), _WEIGHTS, st.sampled_from(["largest_remainder", "largest_line"]),
       st.booleans(), st.randoms(use_true_random=False))
def test_allocate_matches_the_general_rule(total: int, weights: list[int], mode: str, with_ties: bool,
                                           rnd: object) -> None:
    ties = None
    if with_ties:
        ties = list(range(1, len(weights) + 1))
        rnd.shuffle(ties)  # type: ignore[attr-defined]
    assert allocate(total, weights, mode, ties) == _general(total, weights, mode, ties)
    assert allocate(total, tuple(weights), mode, ties) == _general(total, weights, mode, ties)


def test_allocate_equal_remainders_across_the_cut_follow_the_ties() -> None:
    assert allocate(2, [1, 1, 1], "largest_remainder", [3, 1, 2]) == [0, 1, 1]
    assert allocate(1, [1, 1, 1], "largest_remainder", [3, 2, 1]) == [0, 0, 1]
    assert allocate(1, [1, 1, 1], "largest_remainder") == [1, 0, 0]
    assert allocate(7, [5], "largest_remainder") == [7]
    assert allocate(-7, [2, 5], "largest_remainder") == _general(-7, [2, 5], "largest_remainder", None)


@given(st.lists(st.text(max_size=12), min_size=1, max_size=4), st.integers(1, 30))
def test_hash_code_is_the_whole_digest_base32_prefix(parts: list[str], length: int) -> None:
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    assert _hash_code(*parts, length=length) == base64.b32encode(digest).decode()[:length]


def _fill_general(rows: list[int], columns: list[int]) -> list[list[int]]:
    """``fill`` as it was written before its one-row shortcut (the north-west corner rule)."""
    out = [[0] * len(columns) for _ in rows]
    left = list(columns)
    j = 0
    for i, need in enumerate(rows):
        while need > 0 and j < len(left):
            take = min(need, left[j])
            out[i][j] += take
            need -= take
            left[j] -= take
            if left[j] == 0:
                j += 1
    return out


@settings(max_examples=600, deadline=None)
@given(st.lists(st.integers(0, 40), max_size=8), st.lists(st.integers(0, 60), min_size=1, max_size=4),
       st.integers(-3, 3), st.booleans())
def test_fill_matches_the_north_west_corner(columns: list[int], cuts: list[int], off: int, negative: bool) -> None:
    if negative and columns:
        columns[0] = -columns[0]
    total = sum(columns)
    rows = [min(c, total) for c in cuts]  # rows summing to the columns' total when they can (and off by ``off``)
    rows[-1] = max(total - sum(rows[:-1]), 0)
    for shape in (rows, [total], [total + off]):
        assert fill(shape, columns) == _fill_general(shape, columns)


@given(st.lists(st.integers(-3, 3), max_size=9))
def test_pairs_match_the_comprehension(parts: list[int]) -> None:
    line_nos = [10 + i for i in range(len(parts))]
    assert pairs(line_nos, parts) == [[n, p] for n, p in zip(line_nos, parts, strict=True) if p]
    assert all(type(pair) is list for pair in pairs(line_nos, parts))


@given(st.lists(st.tuples(st.integers(-50, 500), st.booleans(), st.booleans()), max_size=9))
def test_ledger_line_helpers_match_the_general_loops(rows: list[tuple[int, bool, bool]]) -> None:
    """``redeemable``, ``selected_weights`` and ``payment_lines`` take C shortcuts for the usual receipt
    (nothing excluded or sold, every line selected); the general comprehensions they replace give the same."""
    left = [a for a, _, _ in rows]
    n = len(left)
    lines = [Line.of(i + 3, f"S{i}", "c", 1000 + i, max(a, 0), max(a, 0)) for i, a in enumerate(left)]
    for i, line in enumerate(lines):
        line.index = i
    picked = [line for line, (_, keep, _) in zip(lines, rows, strict=True) if keep]
    for selected in (picked, lines):
        general = [0] * n
        for line in selected:
            general[line.index] = left[line.index]
        assert selected_weights(selected, left) == general
    for excluded, sold in (({i for i, (_, _, x) in enumerate(rows) if x}, [False] * n), (set(), [False] * n),
                           (set(), [x for _, _, x in rows])):
        assert redeemable(left, excluded, sold) == \
            [0 if (i in excluded or sold[i]) else max(left[i], 0) for i in range(n)]
    by_points, by_certs = [a // 3 for a in left], [a // 5 for a in left]
    to_pay = [a - p - c for a, p, c in zip(left, by_points, by_certs, strict=True)]
    want = [{"line_no": line.line_no, "qty": line.qty, "payable": pay, "points_money": p, "certificates": c,
             "to_pay": t} for line, pay, p, c, t in zip(lines, left, by_points, by_certs, to_pay, strict=True)]
    got = payment_lines(lines, [line.line_no for line in lines], left, by_points, by_certs, to_pay)
    assert got == want and [list(d) for d in got] == [list(d) for d in want]  # the keys in the same order
