"""Reading a customer's lots for the ledger: spend order, what is active, walking sources for points."""

from __future__ import annotations

from typing import Any, NamedTuple

from ..state import (
    AccountState,
    CustomerState,
    Member,
)

# ------------------------------------------------------------------------------------------ state reads


class _Lot(NamedTuple):
    account: str
    shared: bool
    id: str
    left: int
    active_from: int
    expires: int | None


def _accounts(state: CustomerState, shared: bool) -> dict[str, AccountState]:
    if shared:
        return dict(state.shared.accounts) if state.shared is not None else {}
    return dict(state.accounts)


def _member(state: CustomerState | None) -> Member | None:
    """The customer's rights in their shared account, or None."""
    if state is None or state.shared is None:
        return None
    return state.shared.members.get(state.id)


def _lots(account_state: AccountState, account: str, shared: bool) -> list[_Lot]:
    return [_Lot(account, shared, lot.id, lot.left, lot.active_from, lot.expires) for lot in account_state.lots]


def spend_order(lots: list[_Lot], order: str) -> list[_Lot]:
    """Lots in the account's redemption order; ties by lot id, so the order is total."""
    if order == "oldest_first":
        return sorted(lots, key=lambda lot: (lot.active_from, lot.id))
    if order == "newest_first":
        return sorted(lots, key=lambda lot: (-lot.active_from, lot.id))
    return sorted(lots, key=lambda lot: (lot.expires is None, lot.expires or 0, lot.active_from, lot.id))


def _active(lot: _Lot, now: int) -> bool:
    return lot.left > 0 and lot.active_from <= now and (lot.expires is None or lot.expires > now)


def _walk(sources: list[tuple[str, Any]], need: int | None,
          shared_room: int | None) -> list[tuple[str, Any, int]]:
    """What to take from each source, in order, for ``need`` points (None: all there is); the shared
    account's sources together give at most ``shared_room`` (a member's redeem_limit)."""
    taken: list[tuple[str, Any, int]] = []
    for kind, item in sources:
        if need is not None and need <= 0:
            break
        amount, shared = (item.left, item.shared) if kind == "lot" else (item[2], item[1])
        if shared and shared_room is not None:
            amount = min(amount, shared_room)
        take = amount if need is None else min(amount, need)
        if take <= 0:
            continue
        if shared and shared_room is not None:
            shared_room -= take
        taken.append((kind, item, take))
        if need is not None:
            need -= take
    return taken


def held(sources: list[tuple[str, Any]]) -> int:
    """What ``_walk(sources, None, None)`` takes in all, without walking: each source of ``_sources``
    holds a positive amount (an active lot's left, a credit's room) and, with no need and no shared
    room, is taken whole (tests/state/test_redeem_sources.py compares the two)."""
    return sum([item.left if kind == "lot" else item[2] for kind, item in sources])
