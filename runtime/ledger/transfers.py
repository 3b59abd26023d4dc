"""The referrer's side of a ``transfer``: ``receive``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import StateError
from ..state import (
    CustomerState,
    iso,
)
from .core import Ledger
from .lots import _accounts, _member
from .splits import MILLION, Change


def receive(ledger: Ledger, state: CustomerState, transfer: Mapping[str, Any], utc: int) -> list[Change]:
    """The referrer's side of a ``transfer`` (a referral reward made by another customer's receipt):
    an accrual into the named account at ``utc``, like a campaign's (the shared account for a member
    with ``accrue``, debt repaid first, the account's activation and expiry), without lines."""
    if transfer.get("op") != "transfer":
        raise StateError(f"not a transfer: op {transfer.get('op')!r}", "op")
    if transfer.get("customer") != state.id:
        raise StateError(f"the transfer is for customer {transfer.get('customer')!r}, not {state.id!r}", "customer")
    account, points, lot_id = transfer.get("account"), transfer.get("points"), transfer.get("lot")
    decl = ledger.accounts.get(account) if isinstance(account, str) else None
    if decl is None:
        raise StateError(f"unknown account {account!r}", "account")
    if type(points) is not int or points <= 0:
        raise StateError(f"a transfer gives a positive whole number of points, got {points!r}", "points")
    if not isinstance(lot_id, str) or not lot_id:
        raise StateError("a transfer names the lot it makes", "lot")
    member = _member(state)
    shared = member is not None and bool(member.accrue)
    held = _accounts(state, shared).get(decl.name)
    debt = held.debt if held is not None else 0
    repaid = min(debt, points * decl.repay // MILLION) if debt > 0 else 0
    receipt = transfer.get("receipt")
    if lot_id in state.applied:
        raise StateError(f"the transfer {lot_id} was received by customer {state.id} already", "lot", "LOY510")
    out: list[Change] = [{"op": "applied", "id": lot_id, "at": iso(utc), "receipt": receipt}]
    if repaid:
        out.append({"op": "debt", "account": decl.name, "points": -repaid, "reason": "repay", "shared": shared,
                    "receipt": receipt})
    if points > repaid:
        expires = ledger.expiry(decl.expiry, utc)
        out.append({"op": "lot", "account": decl.name, "lot": lot_id, "points": points - repaid,
                    "active_from": iso(utc + decl.activation), "expires": None if expires is None else iso(expires),
                    "receipt": receipt, "campaign": None, "shared": shared, "reason": str(transfer.get("reason"))})
    return out


