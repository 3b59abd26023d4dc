"""Programme-wide usage limits: the first N redemptions of a campaign over all customers, overall,
per store and/or per local day (``redemptions 100 per store per day``, docs/limits-fraud.md).

Like budgets, the counts are the host's, not a customer's: the engine reads what each limit has
used (``Engine.evaluate(redemptions=...)``, keyed by ``redemption_key``), lets a campaign run only
while its limits have room, and returns one ``redemption`` change per limit it used (a reservation).
The host commits them all or none, refusing a change whose limit was reached meanwhile (LOY570):
``RedemptionBook`` does it in memory; the processing server does it in SQL with one conditional
upsert per key (loyadsl/server/sql.py). A full return gives the uses back (the change negated).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .declarations import RedemptionLimit
from .errors import LoyaError
from .state.redemption import RedemptionChange, redemption_key

__all__ = ["REFUSED", "RedemptionBook", "RedemptionChange", "RedemptionLimit", "limit_reached", "redemption_changes",
           "redemption_key"]

REFUSED = "LOY570"  # a limit reached between calculate and apply


def redemption_changes(changes: Iterable[Mapping[str, Any]]) -> list[RedemptionChange]:
    return [RedemptionChange.from_dict(c) for c in changes if c.get("op") == "redemption"]


class RedemptionBook:
    """Programme-wide counts held in memory (a till that is the only one, tests, the simulator):
    ``used`` is what ``Engine.evaluate(redemptions=...)`` reads, ``commit`` books a receipt's changes."""

    def __init__(self) -> None:
        self.used: dict[str, int] = {}

    def commit(self, changes: Iterable[Mapping[str, Any]]) -> None:
        """Book the receipt's ``redemption`` changes, all or none: one past its limit (another receipt
        took the last use since this one was evaluated) raises LOY570 and nothing is booked."""
        wanted: dict[str, int] = {}
        limits: dict[str, RedemptionChange] = {}
        for change in redemption_changes(changes):
            wanted[change.key] = wanted.get(change.key, 0) + change.delta
            limits[change.key] = change
        for key, delta in wanted.items():
            change = limits[key]
            if delta > 0 and self.used.get(key, 0) + delta > change.limit:
                raise limit_reached(change)
        for key, delta in wanted.items():
            self.used[key] = max(0, self.used.get(key, 0) + delta)


def limit_reached(change: RedemptionChange) -> LoyaError:
    where = (f" at store {change.store!r}" if change.store is not None else "") + \
        (f" on {change.day}" if change.day is not None else "")
    return LoyaError(REFUSED, f"campaign {change.campaign!r} reached its limit of {change.limit} redemptions{where} "
                              "after this receipt was calculated; nothing was applied: calculate the receipt again",
                     "changes")
