"""Changes to bonus accounts: ``lot`` (accrue, or remove an untouched lot), ``take`` (from a lot) and
``debt`` (borrow or repay on a credit account). Each is one record: read from JSON (``from_dict``),
applied, inverted and written back (``to_dict``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from ..limits import MAX_TEXT_CHARS, MAX_VALUE
from .applier import (
    _FIRST,
    _LAST,
    _Applier,
    _Failed,
    _find_lot,
    _int,
    _new,
    _opt_str,
    _str,
    _text,
    _time,
    _when,
    over,
)
from .jsontypes import iso
from .records import _APPEND, Lot, _make, holds_lot, lot_back, lot_gone

Lines = list[list[int]] | None  # [[line_no, part], ...] of a change a return undoes line by line


def _shared(c: Mapping[str, Any]) -> bool:
    return c.get("shared") is True


class LotChange(NamedTuple):
    """A new lot of ``points`` in ``account`` (``active_from``, ``expires``; ``at``: where a removed lot
    stood, when ``invert`` makes it again); negative points remove that lot untouched (a return)."""

    account: str
    lot: str
    points: int
    active_from: int | None = None
    expires: int | None = None
    receipt: str | None = None
    campaign: str | None = None
    shared: bool = False
    lines: Lines = None
    reason: str | None = None
    at: int | None = None

    @classmethod
    def from_dict(cls, c: Mapping[str, Any]) -> LotChange:
        points, lot = _int(c, "points"), _str(c, "lot")
        if not points:
            raise _Failed("a lot has points (negative: the removal of an untouched lot)")
        account = _str(c, "account")
        if points < 0:
            return cls(account, lot, points, receipt=c.get("receipt"), shared=_shared(c), lines=c.get("lines"),
                       reason=c.get("reason"))
        at = c.get("at")
        return _new(cls, (account, lot, points, _time(c, "active_from"), _time(c, "expires", optional=True),
                    _opt_str(c, "receipt"), _opt_str(c, "campaign"), _shared(c), c.get("lines"),
                    c.get("reason"), at if type(at) is int else None))

    def verify(self) -> None:
        """What ``from_dict`` checks, of a record the ledger made (its types right by construction)."""
        points, active, expires = self.points, self.active_from, self.expires
        if (points > 0 and len(self.lot) + len(self.account) + len(self.receipt or "") + len(self.campaign or "")
                <= MAX_TEXT_CHARS and active is not None and _FIRST <= active <= _LAST
                and (expires is None or _FIRST <= expires <= _LAST)):
            return  # the usual lot: every text short, every time in range (what follows checks each)
        _text("lot", self.lot)
        if not self.points:
            raise _Failed("a lot has points (negative: the removal of an untouched lot)")
        _text("account", self.account)
        if self.points > 0:
            _time({"active_from": active}, "active_from")  # required: None is refused as JSON's null
            _when("expires", self.expires)
            _text("receipt", self.receipt)
            _text("campaign", self.campaign)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": "lot", "account": self.account, "lot": self.lot, "points": self.points}
        if self.points < 0:
            if self.reason is not None:
                out["reason"] = self.reason
            out["shared"], out["receipt"] = self.shared, self.receipt
            return out
        assert self.active_from is not None
        out.update(active_from=iso(self.active_from), expires=None if self.expires is None else iso(self.expires),
                   receipt=self.receipt, campaign=self.campaign, shared=self.shared)
        for key in ("lines", "reason", "at"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    def apply(self, a: _Applier) -> None:
        points = self.points
        if points > 0 and a.undo is not None and not self.shared and self.at is None:
            acc = a.fields["accounts"].get(self.account)
            if acc is not None:
                self._append(a, acc)  # the usual accrual, in place, to an account that exists
                return
        accounts, name, acc = a.account(a.fields, self.account, self.shared, create=points > 0)
        if points > 0:
            if holds_lot(acc, self.lot, keep=a.undo is not None):  # in place: the account lives on
                raise _Failed(f"lot {self.lot!r} is already in account {name!r}")
            if points > MAX_VALUE:
                raise over(points, f"lot {self.lot!r}")
            lot = _make(Lot, {"id": self.lot, "points": points, "left": points, "active_from": self.active_from,
                              "expires": self.expires, "receipt": self.receipt, "campaign": self.campaign})
            at = self.at
            if at is not None and 0 <= at < len(acc.lots):
                a.put(acc.__dict__, "lots", [*acc.lots[:at], lot, *acc.lots[at:]])
            else:
                at = len(acc.lots)
                a.append(a.own(acc.__dict__, "lots"), lot)
            lot_back(acc, at, lot, new=True)
        else:
            found = _find_lot(acc, self.lot)
            if found < 0:
                raise _Failed(f"no lot {self.lot!r} in account {name!r}")
            lot = acc.lots[found]
            if lot.points != -points or lot.left != lot.points:
                raise _Failed(f"lot {self.lot!r} has {lot.left} of {lot.points} points left; only an untouched lot "
                              f"of {-points} can be removed")
            a.put(acc.__dict__, "lots", acc.lots[:found] + acc.lots[found + 1:])
            lot_gone(acc, self.lot)
        balance = acc.balance + points
        if balance > MAX_VALUE:
            raise over(balance, f"the balance of account {name!r}")
        a.put(acc.__dict__, "balance", balance)
        a.drop_if_empty(accounts, name)

    def _append(self, a: _Applier, acc: Any) -> None:
        """``apply`` of a new lot at the end of an existing account of the customer, in place: the same
        checks and writes as the general way, without its lookups."""
        undo = a.undo
        assert undo is not None
        points, fields = self.points, acc.__dict__
        if holds_lot(acc, self.lot, keep=True):
            raise _Failed(f"lot {self.lot!r} is already in account {self.account!r}")
        if points > MAX_VALUE:
            raise over(points, f"lot {self.lot!r}")
        lot = _make(Lot, {"id": self.lot, "points": points, "left": points, "active_from": self.active_from,
                          "expires": self.expires, "receipt": self.receipt, "campaign": self.campaign})
        lots = fields["lots"]
        undo.append((lots, _APPEND, None))
        lots.append(lot)
        lot_back(acc, len(lots) - 1, lot, new=True)
        balance = fields["balance"] + points
        if balance > MAX_VALUE:
            raise over(balance, f"the balance of account {self.account!r}")
        undo.append((fields, "balance", fields["balance"]))
        fields["balance"] = balance

    def invert(self, fields: dict[str, Any]) -> LotChange:
        if self.points > 0:
            return self._replace(points=-self.points, reason=None, at=None)
        holder = fields["shared"].accounts if self.shared and fields["shared"] is not None else fields["accounts"]
        lots = holder[self.account].lots
        at = next(i for i, lot in enumerate(lots) if lot.id == self.lot)
        lot = lots[at]  # a removal: the lot comes back as it was, where it was
        return LotChange(self.account, lot.id, lot.points, lot.active_from, lot.expires, lot.receipt, lot.campaign,
                         self.shared, at=at)


class TakeChange(NamedTuple):
    """``points`` taken from a lot's ``left`` (reason ``redeem``, ``expire``, ``return``); negative points
    give back to the lot."""

    account: str
    lot: str
    points: int
    reason: str | None = None
    lines: Lines = None
    shared: bool = False
    receipt: str | None = None

    @classmethod
    def from_dict(cls, c: Mapping[str, Any]) -> TakeChange:
        return _new(cls, (_str(c, "account"), _str(c, "lot"), _int(c, "points"), c.get("reason"),
                    c.get("lines"), _shared(c), c.get("receipt")))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": "take", "account": self.account, "lot": self.lot, "points": self.points,
                               "reason": self.reason}
        if self.lines is not None:
            out["lines"] = self.lines
        out["shared"] = self.shared
        if self.receipt is not None:
            out["receipt"] = self.receipt
        return out

    def apply(self, a: _Applier) -> None:
        points, lot_id = self.points, self.lot
        _, name, acc = a.account(a.fields, self.account, self.shared)
        found = _find_lot(acc, lot_id)
        if found < 0:
            raise _Failed(f"no lot {lot_id!r} in account {name!r}")
        old = acc.lots[found]
        left = old.left - points
        if left < 0:
            raise _Failed(f"lot {lot_id!r} has {old.left} left, {points} taken")
        if left > old.points:
            raise _Failed(f"lot {lot_id!r} would have {left} left of {old.points} points")
        balance = acc.balance - points
        if balance > MAX_VALUE:
            raise over(balance, f"the balance of account {name!r}")
        lot = a.own(a.own(acc.__dict__, "lots"), found)
        a.put(lot.__dict__, "left", left)
        a.put(acc.__dict__, "balance", balance)
        if points < 0:
            lot_back(acc, found, lot, new=False)  # points given back: the lot holds some again

    def invert(self, fields: dict[str, Any]) -> TakeChange:
        return self._replace(points=-self.points)


class DebtChange(NamedTuple):
    """A credit account's debt: + ``points`` borrowed, − repaid (reason ``redeem``, ``repay``, ``return``);
    within the account's credit limit when the declarations are given."""

    account: str
    points: int
    reason: str | None = None
    lines: Lines = None
    shared: bool = False
    receipt: str | None = None

    @classmethod
    def from_dict(cls, c: Mapping[str, Any]) -> DebtChange:
        return _new(cls, (_str(c, "account"), _int(c, "points"), c.get("reason"), c.get("lines"), _shared(c),
                    c.get("receipt")))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": "debt", "account": self.account, "points": self.points, "reason": self.reason,
                               "shared": self.shared}
        if self.receipt is not None:
            out["receipt"] = self.receipt
        if self.lines is not None:
            out["lines"] = self.lines
        return out

    def apply(self, a: _Applier) -> None:
        points = self.points
        accounts, name, acc = a.account(a.fields, self.account, self.shared, create=points >= 0)
        debt = acc.debt + points
        if debt < 0:
            raise _Failed(f"account {name!r} owes {acc.debt}, {-points} repaid")
        if a.index is not None:
            decl = a.index.accounts.get(name)
            limit = decl.credit if decl is not None else 0
            if debt > limit:
                raise _Failed(f"a debt of {debt} is over account {name!r}'s credit limit {limit}")
        balance = acc.balance - points
        if debt > MAX_VALUE or balance > MAX_VALUE:
            raise over(max(debt, balance), f"the {'debt' if debt > MAX_VALUE else 'balance'} of account {name!r}")
        a.put(acc.__dict__, "debt", debt)
        a.put(acc.__dict__, "balance", balance)
        a.drop_if_empty(accounts, name)

    def invert(self, fields: dict[str, Any]) -> DebtChange:
        return self._replace(points=-self.points)
