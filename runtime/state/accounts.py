"""Changes to bonus accounts: ``lot`` (accrue, or remove an untouched lot), ``take`` (from a lot) and
``debt`` (borrow or repay on a credit account)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .applier import _Applier, _Failed, _find_lot, _int, _opt_str, _str, _time
from .records import Lot, _make


def _lot(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    """A new lot (positive points), or the removal of an untouched one (negative: the inverse)."""
    points = _int(c, "points")
    lot_id = _str(c, "lot")
    if not points:
        raise _Failed("a lot has points (negative: the removal of an untouched lot)")
    accounts, name, acc = a.account(root, c, create=points > 0)
    found = _find_lot(acc, lot_id)
    if points > 0:
        if found >= 0:
            raise _Failed(f"lot {lot_id!r} is already in account {name!r}")
        lot = _make(Lot, {"id": lot_id, "points": points, "left": points, "active_from": _time(c, "active_from"),
                          "expires": _time(c, "expires", optional=True), "receipt": _opt_str(c, "receipt"),
                          "campaign": _opt_str(c, "campaign")})
        at = c.get("at")  # where a removed lot stood (its re-creation by ``invert``); else at the end
        if type(at) is int and 0 <= at < len(acc.lots):
            a.put(acc.__dict__, "lots", [*acc.lots[:at], lot, *acc.lots[at:]])
        else:
            a.append(a.own(acc.__dict__, "lots"), lot)
    else:
        if found < 0:
            raise _Failed(f"no lot {lot_id!r} in account {name!r}")
        lot = acc.lots[found]
        if lot.points != -points or lot.left != lot.points:
            raise _Failed(f"lot {lot_id!r} has {lot.left} of {lot.points} points left; only an untouched lot "
                          f"of {-points} can be removed")
        a.put(acc.__dict__, "lots", acc.lots[:found] + acc.lots[found + 1:])
    a.put(acc.__dict__, "balance", acc.balance + points)
    a.drop_if_empty(accounts, name)


def _take(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    points = _int(c, "points")
    lot_id = _str(c, "lot")
    _, name, acc = a.account(root, c)
    found = _find_lot(acc, lot_id)
    if found < 0:
        raise _Failed(f"no lot {lot_id!r} in account {name!r}")
    old = acc.lots[found]
    left = old.left - points
    if left < 0:
        raise _Failed(f"lot {lot_id!r} has {old.left} left, {points} taken")
    if left > old.points:
        raise _Failed(f"lot {lot_id!r} would have {left} left of {old.points} points")
    lot = a.own(a.own(acc.__dict__, "lots"), found)
    a.put(lot.__dict__, "left", left)
    a.put(acc.__dict__, "balance", acc.balance - points)


def _debt(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    points = _int(c, "points")
    accounts, name, acc = a.account(root, c, create=points >= 0)
    debt = acc.debt + points
    if debt < 0:
        raise _Failed(f"account {name!r} owes {acc.debt}, {-points} repaid")
    if a.index is not None:
        decl = a.index.accounts.get(name)
        limit = decl.credit if decl is not None else 0
        if debt > limit:
            raise _Failed(f"a debt of {debt} is over account {name!r}'s credit limit {limit}")
    a.put(acc.__dict__, "debt", debt)
    a.put(acc.__dict__, "balance", acc.balance - points)
    a.drop_if_empty(accounts, name)

