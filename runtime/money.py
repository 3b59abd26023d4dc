"""Exact integer money: division with a named rounding mode, and allocation of a whole over parts.

Money is integer minor units, quantities integer thousandths, percentages integer ppm. Nothing here
ever touches a float. ``half_up`` rounds ties away from zero (as ``decimal.ROUND_HALF_UP``),
``half_even`` to the even neighbour (banker's rounding); both are exact for negative numbers too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

ALLOCATION_MODES = ("largest_remainder", "largest_line")


def floor_div(n: int, d: int) -> int:
    """⌊n / d⌋ for d > 0."""
    return n // d


def ceil_div(n: int, d: int) -> int:
    """⌈n / d⌉ for d > 0."""
    return -(-n // d)


def half_up_div(n: int, d: int) -> int:
    """n / d rounded to the nearest integer, ties away from zero, for d > 0."""
    q, r = divmod(n, d)  # n / d = q + r / d with 0 <= r < d
    twice = 2 * r
    if twice > d or (twice == d and q >= 0):
        return q + 1
    return q


def half_even_div(n: int, d: int) -> int:
    """n / d rounded to the nearest integer, ties to the even one, for d > 0."""
    q, r = divmod(n, d)
    twice = 2 * r
    if twice > d or (twice == d and q & 1):
        return q + 1
    return q


ROUNDERS: dict[str, Callable[[int, int], int]] = {
    "floor": floor_div,
    "ceil": ceil_div,
    "half_up": half_up_div,
    "half_even": half_even_div,
}


def div_round(n: int, d: int, mode: str) -> int:
    """n / d rounded by ``mode`` (floor, ceil, half_up, half_even); d must not be zero."""
    if d < 0:
        n, d = -n, -d
    if d == 0:
        raise ZeroDivisionError("div_round by zero")
    return ROUNDERS[mode](n, d)


def allocate(
    total: int, weights: Sequence[int], mode: str = "largest_remainder", ties: Sequence[int] | None = None
) -> list[int]:
    """Split ``total`` over non-negative ``weights`` so that the parts sum exactly to ``total``.

    Every part starts as ⌊total × w / Σw⌋; the remainder R (0 <= R < number of parts) then goes
    one unit each to the R largest fractional remainders (``largest_remainder``, Hamilton) or all
    to the largest weight (``largest_line``). Ties go to the smaller ``ties`` key (default: the
    smaller index). All-zero weights give all zeros.
    """
    w_sum = sum(weights)
    n = len(weights)
    if w_sum <= 0:
        return [0] * n
    if n == 1:  # one part (its weight is the sum): the whole
        return [total]
    parts = [total * w // w_sum for w in weights]
    rest = total - sum(parts)
    if not rest:  # an amount that divides: no remainder to hand out
        return parts
    if mode == "largest_line":
        if ties is None:
            best = weights.index(max(weights))  # the first of equals
        else:
            best = min(range(n), key=lambda i: (-weights[i], ties[i]))
        parts[best] += rest
        return parts
    rems = [total * w % w_sum for w in weights]  # 0 <= rem < Σw, so 0 < rest < n
    if rest == 1:  # one unit: the largest remainder, the first of equals (with ``ties``: when it is alone)
        top = max(rems)
        if ties is None or rems.count(top) == 1:
            parts[rems.index(top)] += 1
            return parts
    # a reversed sort is still stable: equal remainders keep index order
    order = sorted(range(n), key=rems.__getitem__, reverse=True)
    if ties is not None and rems[order[rest - 1]] == rems[order[rest]]:
        # equal remainders across the cut: which of them get a unit is the ``ties`` keys' choice (elsewhere
        # the same parts are chosen whatever the order among equals)
        order = sorted(range(n), key=lambda i: (-rems[i], ties[i]))
    for i in order[:rest]:
        parts[i] += 1
    return parts


def allocate_units(total: int, weights: Sequence[int], counts: Sequence[int], mode: str) -> list[int]:
    """``allocate`` over individual units given as runs: ``counts[i]`` units of weight ``weights[i]``.

    Returns each run's total; equal to expanding the runs into single units (in order), allocating,
    and summing back, without ever expanding them.
    """
    w_sum = sum(w * c for w, c in zip(weights, counts, strict=True))
    if w_sum <= 0:
        return [0] * len(weights)
    per_unit = [total * w // w_sum for w in weights]
    parts = [u * c for u, c in zip(per_unit, counts, strict=True)]
    rest = total - sum(parts)
    if rest:
        n = len(weights)
        if mode == "largest_line":
            best = max((i for i in range(n) if counts[i] > 0), key=weights.__getitem__)
            parts[best] += rest
        else:
            rems = [total * w % w_sum for w in weights]
            for i in sorted(range(n), key=rems.__getitem__, reverse=True):
                take = min(counts[i], rest)
                parts[i] += take
                rest -= take
                if not rest:
                    break
    return parts


def minor_text(value: int, places: int) -> str:
    """An amount in minor units (``places`` decimals) as exact decimal text: ``-1234.50``."""
    sign, value = ("-" if value < 0 else ""), abs(value)
    if not places:
        return f"{sign}{value}"
    whole, frac = divmod(value, 10**places)
    return f"{sign}{whole}.{frac:0{places}d}"
