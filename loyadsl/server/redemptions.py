"""Programme-wide usage limits on the processing server (runtime/redemptions.py): the counts live in
the ``budgets`` table beside the budgets, one row per limit's key (a JSON array, which no campaign
name can be), so no migration was needed.

Calculate and confirm evaluate against the counts as read (the engine then skips a campaign whose
limit is used up). Confirm books the receipt's ``redemption`` changes with one conditional upsert
per key, in the confirm's own transaction: the row's count goes up only while it stays within the
limit, atomically in both databases (PostgreSQL re-checks the condition on the row it waited for;
SQLite has one writer). A use that no longer fits (another till took the last one after this
receipt was evaluated) refuses the confirm with LOY809, cause LOY570, and the transaction, customer
state included, rolls back: nothing is applied. A full return gives the uses back.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from loyadsl.runtime import Engine
from loyadsl.runtime.redemptions import REFUSED, limit_reached, redemption_changes
from loyadsl.server.errors import CHANGED, Problem
from loyadsl.server.store import Tx


@functools.lru_cache(maxsize=64)
def limited(engine: Engine) -> bool:
    """Whether the programme has usage limits (once per engine: a bundle never changes)."""
    return any(c.state.redemptions for c in engine.bundle.campaigns)


def used(tx: Tx, engine: Engine) -> dict[str, int] | None:
    """What each limit has used so far (None: the programme has no such limit)."""
    return tx.redemptions() if limited(engine) else None


def commit(tx: Tx, changes: Iterable[dict[str, Any]]) -> None:
    """Book a receipt's (or a return's) uses, each within its limit, or refuse the whole request."""
    wanted: dict[str, tuple[Any, int]] = {}
    for change in redemption_changes(changes):
        _, delta = wanted.get(change.key, (change, 0))
        wanted[change.key] = (change, delta + change.delta)
    for key, (change, delta) in sorted(wanted.items()):  # one order: no deadlock between two confirms
        if delta and not tx.take_redemption(key, delta, change.limit):
            exc = limit_reached(change)
            raise Problem(CHANGED, exc.message, "receipt", cause=REFUSED)
