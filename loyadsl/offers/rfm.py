"""RFM scores with declared bins: recency (days since the last purchase), frequency (purchase days)
and monetary (spend, minor units), each 1 (worst) to len(edges) + 1 (best)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right


def recency(days: int, edges: list[int]) -> int:
    """Fewer days is better: at most edges[0] days scores highest."""
    return len(edges) + 1 - bisect_left(edges, days)


def upward(value: int, edges: list[int]) -> int:
    """More is better: below edges[0] scores 1, at least edges[-1] scores highest."""
    return 1 + bisect_right(edges, value)
