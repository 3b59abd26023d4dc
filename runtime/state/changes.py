"""``apply`` and ``invert``: the changes of docs/state.md section 6 folded into a state, all or nothing."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..declarations import StateDecls
from ..errors import StateError
from .accounts import _debt, _lot, _take
from .applied import _applied, _remember, _unapplied
from .applier import _Applier, _Failed, _time
from .counters import _counter, _qualify, _receipt, _referral, _returned, _tier, _usage
from .coupons import (
    _certificate,
    _certificate_issue,
    _certificate_void,
    _coupon_expire,
    _coupon_issue,
    _coupon_unuse,
    _coupon_use,
)
from .jsontypes import iso
from .records import AccountState, CustomerState, Qualification, _clone


def _ignore(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    """``transfer`` (another customer's state) and ``budget`` (the host's): not this state's."""


_HANDLERS: dict[str, Callable[[_Applier, dict[str, Any], Mapping[str, Any]], None]] = {
    "lot": _lot, "take": _take, "debt": _debt, "counter": _counter,
    "coupon_use": _coupon_use, "coupon_unuse": _coupon_unuse, "coupon_issue": _coupon_issue,
    "coupon_expire": _coupon_expire, "certificate": _certificate, "certificate_issue": _certificate_issue,
    "certificate_void": _certificate_void, "qualify": _qualify, "tier": _tier, "usage": _usage,
    "receipt": _receipt, "referral": _referral, "returned": _returned, "transfer": _ignore, "budget": _ignore,
    "applied": _applied, "unapplied": _unapplied,
}


def apply(state: CustomerState, changes: Sequence[Mapping[str, Any]], decls: StateDecls | None = None
          ) -> CustomerState:
    """The state after the changes (docs/state.md §6), all or nothing: a change that does not fit
    raises ``StateError`` (LOY503) naming it, and nothing is applied. Pure: the result shares what
    did not change with ``state``, which is never mutated. With ``decls``, debts are checked against
    credit limits, coupon uses against the series, and shared coupon codes are recognised."""
    return _Applier(state, decls, in_place=False).run(changes, _HANDLERS)


def apply_in_place(state: CustomerState, changes: Sequence[Mapping[str, Any]],
                   decls: StateDecls | None = None) -> None:
    """``apply`` writing into ``state`` itself (for a simulator's own copy, see ``working_copy``),
    still all or nothing. Never use it on a state shared with anyone: its parts may be shared with
    the states ``apply`` made it from."""
    _Applier(state, decls, in_place=True).run(changes, _HANDLERS)


def working_copy(state: CustomerState) -> CustomerState:
    """A copy that shares nothing ``apply_in_place`` writes to (records it replaces whole, like
    coupons or counters' values, stay shared)."""
    copy = _clone(state)
    d = copy.__dict__
    d["accounts"] = {name: _deep_account(acc) for name, acc in state.accounts.items()}
    for field in ("counters", "coupon_uses", "applied"):
        d[field] = dict(d[field])
    for field in ("usage", "returns"):
        d[field] = {key: dict(inner) for key, inner in d[field].items()}
    if state.shared is not None:
        shared = d["shared"] = _clone(state.shared)
        shared.__dict__["accounts"] = {name: _deep_account(acc) for name, acc in state.shared.accounts.items()}
    return copy


def _deep_account(acc: AccountState) -> AccountState:
    copy = _clone(acc)
    copy.__dict__["lots"] = [_clone(lot) for lot in acc.lots]
    return copy


def invert(state: CustomerState, changes: Sequence[Mapping[str, Any]], decls: StateDecls | None = None
           ) -> list[dict[str, Any]]:
    """The changes that undo ``changes`` applied to ``state``: ``apply(apply(s, cs), invert(s, cs))
    == s``. Each change's inverse, in reverse order; removals (``coupon_expire``,
    ``certificate_void``, the first ``qualify`` of a record) take what they removed from the state
    before them. ``transfer`` and ``budget`` are negated (they are not this state's)."""
    out: list[dict[str, Any]] = []
    applier = _Applier(state, decls, in_place=False)
    root = applier.root.__dict__
    for i, change in enumerate(changes):
        op = change.get("op")
        try:
            out.append(_inverse(root, change))
            _HANDLERS[str(op)](applier, root, change)
        except (_Failed, LookupError, StopIteration, TypeError) as exc:
            raise StateError(f"{op} cannot be inverted: {exc}", f"changes[{i}]") from None
    out.reverse()
    return out


def _inverse(root: dict[str, Any], c: Mapping[str, Any]) -> dict[str, Any]:
    op = c.get("op")
    if op == "lot" and c["points"] < 0:  # a removal: the lot comes back as it was, where it was
        holder = root["shared"].accounts if c.get("shared") is True and root["shared"] is not None else root["accounts"]
        lots = holder[c["account"]].lots
        at = next(i for i, lot in enumerate(lots) if lot.id == c["lot"])
        lot = lots[at]
        return {"op": "lot", "account": c["account"], "lot": lot.id, "points": lot.points,
                "active_from": iso(lot.active_from), "expires": None if lot.expires is None else iso(lot.expires),
                "receipt": lot.receipt, "campaign": lot.campaign, "shared": c.get("shared") is True, "at": at}
    if op in ("lot", "take", "debt", "transfer"):
        return {**c, "points": -c["points"]}
    if op in ("counter", "certificate", "usage", "receipt", "budget"):
        return {**c, "delta": -c["delta"]}
    if op == "coupon_use":
        return {**c, "op": "coupon_unuse"}
    if op == "coupon_unuse":
        return {**c, "op": "coupon_use"}
    if op == "coupon_issue":
        data = c.get("coupon", c)
        return {"op": "coupon_expire", "code": data["code"], "series": data["series"]}
    if op == "coupon_expire":
        coupon = next(x for x in root["coupons"] if x.code == c["code"])
        return {"op": "coupon_issue", **coupon.model_dump(mode="json")}
    if op == "certificate_issue":
        return {"op": "certificate_void", "code": c.get("certificate", c)["code"]}
    if op == "certificate_void":
        cert = next(x for x in root["certificates"] if x.code == c["code"])
        return {"op": "certificate_issue", **cert.model_dump(mode="json")}
    if op == "qualify":
        q: Qualification | None = root["qualification"]
        if "from" in c:
            old = c["from"]
            new = None if c.get("period") is None else {
                "period": c["period"], "value": c["delta"], "previous": c.get("previous", 0)}
            if old is None:
                return {"op": "qualify", "period": None, "delta": 0, "previous": 0, "from": new}
            return {"op": "qualify", "period": old["period"], "delta": old["value"], "previous": old["previous"],
                    "from": new}
        if q is None:  # the change creates the record: its inverse removes it
            return {"op": "qualify", "period": None, "delta": 0, "previous": 0,
                    "from": {"period": c["period"], "value": c["delta"], "previous": 0}}
        return {**c, "delta": -c["delta"]}
    if op == "tier":
        return {**c, "from": c.get("to"), "to": c.get("from")}
    if op == "referral":
        return {**c, "rewarded": not c.get("rewarded")}
    if op == "returned":
        return {**c, "lines": [[line_no, -amount] for line_no, amount in c["lines"]]}
    if op == "applied":
        at = _time(c, "at") or 0
        kept = _remember(root["applied"], c["id"], at)
        dropped = [[key, iso(when)] for key, when in {**root["applied"], c["id"]: at}.items() if key not in kept]
        return {**c, "op": "unapplied", "dropped": dropped}
    if op == "unapplied":
        return {**c, "op": "applied"}
    raise _Failed(f"unknown op {op!r}")

