"""Purchase cycles per customer and category: how often the customer buys it (the mean gap between
purchase days), when they last did and when the next purchase is due. A category bought on one day
only has no cycle (``every`` None): the model says so rather than inventing one."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .history import Visit


@dataclass(frozen=True)
class Cycle:
    n: int  # purchase days with the category
    last: int  # ordinal of the last one
    spend: int  # mean minor units per purchase day (half up)
    every: float | None  # mean gap in days; None with one purchase day

    @property
    def next(self) -> int | None:
        """Ordinal of the day the next purchase is due."""
        return None if self.every is None else self.last + round(self.every)

    def chance(self, as_of: int, window: int) -> float:
        """P(a purchase in [as_of, as_of + window)) with exponential gaps of mean ``every``; for one
        purchase day, the one gap seen so far (as_of - last) stands in for the mean."""
        every = self.every if self.every is not None else max(as_of - self.last, 1) * 2.0
        return 1.0 - math.exp(-window / max(every, 1.0))


def cycles(visits: list[Visit]) -> dict[str, Cycle]:
    """Every category the customer bought, with its cycle."""
    days: dict[str, list[int]] = {}
    spend: dict[str, int] = {}
    for visit in visits:
        for category, amount in visit.categories.items():
            days.setdefault(category, []).append(visit.day)
            spend[category] = spend.get(category, 0) + amount
    out = {}
    for category, ds in sorted(days.items()):
        n = len(ds)
        every = (ds[-1] - ds[0]) / (n - 1) if n > 1 else None
        out[category] = Cycle(n, ds[-1], (2 * spend[category] + n) // (2 * n), every)
    return out
