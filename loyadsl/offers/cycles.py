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
    rate: float = 0.0  # purchase days per day, recent ones weighing more (decayed_rate)

    @property
    def next(self) -> int | None:
        """Ordinal of the day the next purchase is due."""
        return None if self.every is None else self.last + round(self.every)

    def chance(self, window: int) -> float:
        """P(a purchase in the next ``window`` days) for purchases at the decayed ``rate`` (Poisson)."""
        return 1.0 - math.exp(-self.rate * window)


def decayed_rate(days: list[int], first: int, as_of: int, half_life: int) -> float:
    """Purchase days per day since ``first``, each weighted by 2^(-age / half_life), over the weighted
    exposure: preferences drift, so recent purchases say more about the next weeks."""
    k = math.log(2) / half_life
    weight = sum(math.exp(-k * (as_of - d)) for d in days)
    exposure = (1.0 - math.exp(-k * (as_of - first + 1))) / k
    return weight / exposure


def cycles(visits: list[Visit], as_of: int, half_life: int) -> dict[str, Cycle]:
    """Every category the customer bought, with its cycle and its decayed rate."""
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
        out[category] = Cycle(n, ds[-1], (2 * spend[category] + n) // (2 * n), every,
                              decayed_rate(ds, visits[0].day, as_of, half_life))
    return out
