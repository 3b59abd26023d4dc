"""Splits of a whole over receipt lines, exactly (largest remainder), and deterministic codes."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from ..model import Line
from ..money import allocate

MILLION = 1_000_000

Change = dict[str, Any]
Matcher = Callable[[Sequence[Line], Any], Sequence[Line]]
LocalFn = Callable[[int], tuple[int, int, int]]  # utc seconds -> (local date ordinal, weekday, second of day)
Request = tuple[str, str, int]  # rewards.Request: (add | spend | issue, name, count)


def _hash_code(*parts: str, length: int = 8) -> str:
    """A deterministic code part: the first characters of the base32 (A-Z, 2-7: no 0/O or 1/I to
    confuse) of sha256 over ``parts``."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return base64.b32encode(digest).decode()[:length]


# ------------------------------------------------------------------------------------------ splits


def split(total: int, weights: Sequence[int], line_nos: Sequence[int]) -> list[int]:
    """``total`` (any sign) over ``weights`` exactly, ties to the smaller line_no; equal weights when
    every weight is zero, so a whole is never lost."""
    if not weights:
        return []
    if sum(weights) <= 0:
        weights = [1] * len(weights)
    sign = -1 if total < 0 else 1
    parts = allocate(abs(total), weights, "largest_remainder", line_nos)
    return [sign * p for p in parts]


def pairs(line_nos: Sequence[int], parts: Sequence[int]) -> list[list[int]]:
    """``[[line_no, part], ...]`` leaving out zero parts (the ``lines`` of a change)."""
    return [[n, p] for n, p in zip(line_nos, parts, strict=True) if p]


def fill(rows: Sequence[int], columns: Sequence[int]) -> list[list[int]]:
    """A matrix with the given row sums and column sums (equal totals, non-negative), filled in order
    (the north-west corner rule): how each lot's take splits over the lines its points paid for."""
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


