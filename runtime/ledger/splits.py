"""Splits of a whole over receipt lines, exactly (largest remainder), and deterministic codes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from ..model import Line
from ..money import allocate

MILLION = 1_000_000
_PART = itemgetter(1)  # a (line_no, part) pair's part

Change = dict[str, Any]
Matcher = Callable[[Sequence[Line], Any], Sequence[Line]]
LocalFn = Callable[[int], tuple[int, int, int]]  # utc seconds -> (local date ordinal, weekday, second of day)
Request = tuple[str, str, int]  # rewards.Request: (add | spend | issue, name, count)


def _hash_code(*parts: str, length: int = 8) -> str:
    """A deterministic code part: the first characters of the base32 (A-Z, 2-7: no 0/O or 1/I to
    confuse) of sha256 over ``parts``."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    # base32 writes each 5 bytes (40 bits) as 8 characters on their own: the first ``length`` characters
    # are those of the first ⌈length / 8⌉ five-byte blocks, each written here as four pairs of characters
    # (10 bits each, ``_B32_PAIRS``) instead of base64's Python loop and its bytes
    out: list[str] = []
    for start in range(0, 5 * -(-length // 8), 5):
        block = int.from_bytes(digest[start:start + 5], "big")
        out += (_B32_PAIRS[block >> 30], _B32_PAIRS[block >> 20 & 1023], _B32_PAIRS[block >> 10 & 1023],
                _B32_PAIRS[block & 1023])
    return "".join(out)[:length]


_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # RFC 4648's base32 alphabet (``base64.b32encode``)
_B32_PAIRS = tuple(a + b for a in _B32 for b in _B32)  # the two characters of each 10-bit value


# ------------------------------------------------------------------------------------------ splits


def split(total: int, weights: Sequence[int], line_nos: Sequence[int]) -> list[int]:
    """``total`` (any sign) over ``weights`` exactly, ties to the smaller line_no; equal weights when
    every weight is zero, so a whole is never lost."""
    if not weights:
        return []
    if len(weights) == 1:  # one line takes it all (the usual receipt of a single line)
        return [total]
    if sum(weights) <= 0:
        weights = [1] * len(weights)
    if (total == 1 or total == -1) and min(weights) >= 0:  # one unit ("add 1 to ..."): see _one
        return _one(total, weights, line_nos)
    if total >= 0:
        return allocate(total, weights, "largest_remainder", line_nos)  # (a new list)
    return [-p for p in allocate(-total, weights, "largest_remainder", line_nos)]


def _one(total: int, weights: Sequence[int], line_nos: Sequence[int]) -> list[int]:
    """``split`` of a single unit over non-negative weights with a positive sum, without sorting: each
    line's floor share is 0 (or the whole unit, when one line holds all the weight) and its remainder
    its weight, so the unit goes to the heaviest line, ties to the smaller line_no — what the
    largest-remainder rule gives (tests/runtime/test_replay_split_one.py compares the two)."""
    top = max(weights)
    best = weights.index(top)
    if weights.count(top) == 1:  # one heaviest line: it takes the unit, whatever the line numbers
        out = [0] * len(weights)
        out[best] = total
        return out
    best = 0
    for i in range(1, len(weights)):
        w, b = weights[i], weights[best]
        if w > b or (w == b and line_nos[i] < line_nos[best]):
            best = i
    out = [0] * len(weights)
    out[best] = total
    return out


def pairs(line_nos: Sequence[int], parts: Sequence[int]) -> list[list[int]]:
    """``[[line_no, part], ...]`` leaving out zero parts (the ``lines`` of a change)."""
    # [n, p] lists of the (n, p) pairs whose part is not zero, made in C (no Python frame per line)
    return list(map(list, filter(_PART, zip(line_nos, parts, strict=True))))


def fill(rows: Sequence[int], columns: Sequence[int]) -> list[list[int]]:
    """A matrix with the given row sums and column sums (equal totals, non-negative), filled in order
    (the north-west corner rule): how each lot's take splits over the lines its points paid for."""
    if len(rows) == 1 and rows[0] == sum(columns) and min(columns, default=0) >= 0:
        return [list(columns)]  # one row (one lot): it takes every column whole
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


