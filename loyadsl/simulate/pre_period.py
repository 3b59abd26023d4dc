"""Where an experiment starts, so a replay can keep each customer's pre-period apart (docs/experiments.md,
"CUPED from a simulation").

An experiment has no dates of its own: it starts on the first day of the earliest window of the
campaigns that join it (`valid FROM .. TO`, in the programme's time zone). When one of them has no
window the experiment runs from the start of history and has no pre-period. Receipts before the
start are the customer's pre-period: what they paid then is the covariate ``pre`` that CUPED
(`loya ab report`) uses; the experiment's sums count from the start on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from loyadsl.runtime import Engine
from loyadsl.runtime.bundle import Bundle
from loyadsl.runtime.model import Receipt

_NONE: frozenset[str] = frozenset()


class Starts:
    """experiment -> its first local day (proleptic ordinal), for the experiments that have one."""

    def __init__(self, days: dict[str, int] | None = None, local: Callable[[int], int] | None = None) -> None:
        self.days = days or {}
        self.local = local

    @classmethod
    def of(cls, engine: Engine) -> Starts:
        days = first_days(engine.bundle)
        return cls(days, engine.local_date) if days else cls()

    def __getstate__(self) -> dict[str, Any]:
        """A partition's tally travels back from its worker without the engine's clock (it does not pickle)."""
        return {"days": self.days}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.days, self.local = state["days"], None

    def before(self, receipt: Receipt) -> frozenset[str]:
        """The experiments that have not started on the receipt's local day."""
        if not self.days or self.local is None:
            return _NONE
        day = self.local(receipt.utc)
        return frozenset(x for x, start in self.days.items() if day < start)


def first_days(b: Bundle) -> dict[str, int]:
    """experiment -> the first day of the earliest window of its campaigns, when every one has a window."""
    joined: dict[str, list[int | None]] = {}
    for c in b.campaigns:
        if c.arm is not None:
            dates = c.footprint.dates
            joined.setdefault(b.experiments[c.arm.experiment].name, []).append(dates[0] if dates else None)
    return {x: min(d for d in firsts if d is not None) for x, firsts in joined.items() if None not in firsts}
