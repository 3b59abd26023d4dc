"""The change kinds of docs/state.md section 6, one typed record each, in one table (``CHANGES``: op
-> record class), and the functions everything dispatches through it: ``parse`` (a JSON change -> its
record), ``apply`` and ``apply_in_place`` (all or nothing), ``invert``.

``Outcome.changes`` stay JSON objects (the public contract, byte for byte); a record is what a change
*is* inside: ``from_dict`` validates one and reads its times, ``apply`` writes it into a state,
``invert`` gives the record that undoes it (from the state before it), ``to_dict`` writes its JSON.
What a return undoes of each kind is the ledger's (``ledger.undo``), dispatched on the same records.

The ledger makes the usual kinds of a receipt's changes as records (``TYPED``); ``apply``, ``apply_in_place``
and ``invert`` take them as they are, beside JSON ones, checking with ``verify`` what ``from_dict``
would check of their JSON (text lengths, time ranges), so a typed change is refused exactly as its
JSON would be. ``Changes`` is an outcome's changes holding those records and writing their JSON on first
read (the replay applies the records and rarely reads the JSON)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple, Protocol, Self, overload

from ..declarations import StateDecls
from ..errors import StateError
from .accounts import DebtChange, LotChange, TakeChange
from .applied import Applied, Unapplied
from .applier import _Applier, _Failed, _int, _new, _str
from .chains import ChainChange
from .counters import CounterChange, ReceiptChange, ReferralChange, ReturnedChange, UsageChange
from .coupons import (
    CertificateChange,
    CertificateIssue,
    CertificateVoid,
    CouponExpire,
    CouponIssue,
    CouponUnuse,
    CouponUse,
)
from .history import HistoryChange, HistoryPrune
from .model_scores import ScoresChange
from .records import _SET_PRIVATE, AccountState, CustomerState, _clone
from .redemption import RedemptionChange
from .stock import StockChange
from .tiers import QualifyChange, ReceiptQualify, TierChange


class Change(Protocol):
    """What every change kind is: a record read from and written to JSON, applied and inverted."""

    @classmethod
    def from_dict(cls, c: Mapping[str, Any]) -> Self: ...

    def to_dict(self) -> dict[str, Any]: ...

    def apply(self, a: _Applier) -> None: ...

    def invert(self, fields: dict[str, Any]) -> Change: ...


class Transfer(NamedTuple):
    """Points for another customer (a referral reward for the referrer): ``Engine.receive`` makes them
    that customer's changes; this state ignores it."""

    customer: str
    account: str
    points: int
    reason: str | None = None
    lot: str | None = None
    receipt: str | None = None

    @classmethod
    def from_dict(cls, c: Mapping[str, Any]) -> Transfer:
        return _new(cls, (c.get("customer"), c.get("account"), c.get("points"), c.get("reason"), c.get("lot"),
                    c.get("receipt")))

    def to_dict(self) -> dict[str, Any]:
        return {"op": "transfer", "customer": self.customer, "account": self.account, "points": self.points,
                "reason": self.reason, "lot": self.lot, "receipt": self.receipt}

    def apply(self, a: _Applier) -> None:
        """Not this state's."""

    def invert(self, fields: dict[str, Any]) -> Transfer:
        return self._replace(points=-self.points)


class Budget(NamedTuple):
    """What a budgeted campaign gave (``kind`` money or points): programme-wide, the host keeps budgets;
    this state ignores it."""

    campaign: str
    kind: str
    delta: int
    receipt: str | None = None

    @classmethod
    def from_dict(cls, c: Mapping[str, Any]) -> Budget:
        return _new(cls, (_str(c, "campaign"), _str(c, "kind"), _int(c, "delta"), c.get("receipt")))

    def to_dict(self) -> dict[str, Any]:
        out = {"op": "budget", "campaign": self.campaign, "kind": self.kind, "delta": self.delta}
        if self.receipt is not None:
            out["receipt"] = self.receipt
        return out

    def apply(self, a: _Applier) -> None:
        """Not this state's."""

    def invert(self, fields: dict[str, Any]) -> Budget:
        return self._replace(delta=-self.delta)


# The change kinds, by op: the one table apply, invert, the ledger's returns and docs/state.md use.
CHANGES: dict[str, type[Change]] = {
    "lot": LotChange, "take": TakeChange, "debt": DebtChange,
    "counter": CounterChange,
    "coupon_use": CouponUse, "coupon_unuse": CouponUnuse, "coupon_issue": CouponIssue, "coupon_expire": CouponExpire,
    "certificate": CertificateChange, "certificate_issue": CertificateIssue, "certificate_void": CertificateVoid,
    "qualify": QualifyChange, "tier": TierChange,
    "usage": UsageChange, "budget": Budget, "receipt": ReceiptChange, "referral": ReferralChange,
    "transfer": Transfer, "returned": ReturnedChange,
    "applied": Applied, "unapplied": Unapplied,
    "stock": StockChange,  # a catalogue reward's stock, programme-wide (docs/rewards.md)
    "history": HistoryChange, "history_prune": HistoryPrune,
    "chain": ChainChange,
    "redemption": RedemptionChange,
    "scores": ScoresChange,  # a model's scores replaced whole (docs/offers.md)
}


# The kinds the ledger makes as records (a receipt's usual changes), each with its ``verify``.
TYPED: dict[type, str] = {Applied: "applied", LotChange: "lot", CounterChange: "counter", QualifyChange: "qualify",
                          ReceiptQualify: "qualify", ReceiptChange: "receipt", TierChange: "tier"}


def parse(change: Any) -> Change:
    """A change as JSON -> its record (``_Failed`` naming what is wrong); a typed change (``TYPED``) is
    checked (``verify``) and kept."""
    if type(change) in TYPED:
        change.verify()
        return change
    op = change.get("op") if type(change) is dict or isinstance(change, Mapping) else None
    kind = CHANGES.get(op) if isinstance(op, str) else None
    if kind is None:
        raise _Failed("not a change (no known op)" if op is None else f"unknown op {op!r}")
    return kind.from_dict(change)


def read_change(change: Any, where: str) -> Change:
    """A change as JSON -> its record; one that is not a change of section 6 is a ``StateError`` (LOY503)
    at ``where``."""
    try:
        return parse(change)
    except _Failed as exc:
        raise StateError(f"not a {_op(change)} change: {exc}", where) from None


def _op(change: Any) -> Any:
    return change.get("op") if isinstance(change, Mapping) else TYPED.get(type(change))


def as_json(change: Any) -> dict[str, Any]:
    """A change as the outcome shows it: a typed one's JSON (``to_dict``), a JSON one as it is."""
    return change if type(change) is dict else change.to_dict()


class Changes(Sequence[dict[str, Any]]):
    """An outcome's changes as the ledger made them (``items``: JSON objects and typed records, in
    order), read as the tuple of their JSON objects, which is made on first read and kept. Equal to
    that tuple; ``apply``, ``apply_in_place`` and ``invert`` take ``items`` without the JSON."""

    __slots__ = ("_json", "items")

    def __init__(self, items: tuple[Any, ...]) -> None:
        self.items = items
        self._json: tuple[dict[str, Any], ...] | None = None

    def json(self) -> tuple[dict[str, Any], ...]:
        out = self._json
        if out is None:
            out = self._json = tuple(map(as_json, self.items))
        return out

    @overload
    def __getitem__(self, i: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, i: slice) -> tuple[dict[str, Any], ...]: ...

    def __getitem__(self, i: int | slice) -> dict[str, Any] | tuple[dict[str, Any], ...]:
        return self.json()[i]

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.json())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Changes):
            return self.json() == other.json()
        return self.json() == other if isinstance(other, tuple) else NotImplemented

    __hash__ = None  # type: ignore[assignment]  # JSON objects inside: not hashable

    def __repr__(self) -> str:
        return repr(self.json())

    def __reduce__(self) -> tuple[Any, ...]:
        return tuple, (self.json(),)  # pickled (a worker's outcome): the plain tuple


def items(changes: Sequence[Any]) -> Sequence[Any]:
    """What to apply of ``changes``: the records and JSON of a ``Changes``, else ``changes`` itself."""
    return changes.items if type(changes) is Changes else changes


def _run(a: _Applier, changes: Sequence[Mapping[str, Any]]) -> CustomerState:
    kinds, typed = CHANGES, TYPED
    for i, change in enumerate(items(changes)):
        try:
            if type(change) in typed:  # the ledger's record: what from_dict would check, then applied
                change.verify()
                change.apply(a)
                continue
            op = change.get("op") if type(change) is dict else None  # the usual JSON case, without parse's checks
            kind = kinds.get(op) if type(op) is str else None
            (parse(change) if kind is None else kind.from_dict(change)).apply(a)
        except _Failed as exc:
            if a.undo is not None:
                a.rollback()
            raise StateError(f"{_op(change)} does not fit the state: {exc}", f"changes[{i}]", exc.code) from None
    _SET_PRIVATE(a.root, {"_view": None})  # the cached view is stale
    return a.root


# The record classes ``apply_records`` takes: the ledger's usual kinds (``TYPED``'s keys).
TYPED_KINDS: frozenset[type] = frozenset(TYPED)


def apply_records(state: CustomerState, records: Sequence[Any], decls: StateDecls | None = None) -> None:
    """``apply_in_place`` of changes the caller knows are all the ledger's typed records (every type in
    ``TYPED_KINDS``, e.g. a replay's ``Changes.items``): the same checks (``verify``), writes, undo log and
    refusals (``StateError`` naming ``changes[i]``, with its code), without ``_run``'s test per change for
    JSON. A replay applies most receipts' changes this way."""
    a = _Applier(state, decls, in_place=True)
    i = 0
    try:
        for change in records:
            change.verify()
            change.apply(a)
            i += 1
    except _Failed as exc:
        a.rollback()
        raise StateError(f"{_op(records[i])} does not fit the state: {exc}", f"changes[{i}]", exc.code) from None
    _SET_PRIVATE(state, {"_view": None})  # the cached view is stale


def apply(state: CustomerState, changes: Sequence[Mapping[str, Any]], decls: StateDecls | None = None
          ) -> CustomerState:
    """The state after the changes (docs/state.md §6), all or nothing: a change that does not fit
    raises ``StateError`` (LOY503; LOY510 applied already; LOY511 a value past ``MAX_VALUE``, LOY512 a
    text past ``MAX_TEXT_CHARS``) naming it, and nothing is applied. Pure: the result shares what did
    not change with ``state``, which is never mutated. With ``decls``, debts are checked against credit limits, coupon uses against the
    series, and shared coupon codes are recognised."""
    return _run(_Applier(state, decls, in_place=False), changes)


def apply_in_place(state: CustomerState, changes: Sequence[Mapping[str, Any]],
                   decls: StateDecls | None = None) -> None:
    """``apply`` writing into ``state`` itself (for a simulator's own copy, see ``working_copy``),
    still all or nothing. Never use it on a state shared with anyone: its parts may be shared with
    the states ``apply`` made it from."""
    _run(_Applier(state, decls, in_place=True), changes)


def working_copy(state: CustomerState) -> CustomerState:
    """A copy that shares nothing ``apply_in_place`` writes to (records it replaces whole, like
    coupons or counters' values, stay shared)."""
    copy = _clone(state)
    d = copy.__dict__
    d["accounts"] = {name: _deep_account(acc) for name, acc in state.accounts.items()}
    for field in ("counters", "coupon_uses", "applied", "chains"):
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
    == s``. Each change's inverse (``Change.invert``, from the state before it), in reverse order:
    removals (``coupon_expire``, ``certificate_void``, the first ``qualify`` of a record) take what
    they removed from that state; ``transfer`` and ``budget`` are negated (they are not this state's)."""
    out: list[Change] = []
    applier = _Applier(state, decls, in_place=False)
    for i, change in enumerate(items(changes)):
        try:
            record = parse(change)
            out.append(record.invert(applier.fields))
            record.apply(applier)
        except (_Failed, LookupError, StopIteration, TypeError) as exc:
            raise StateError(f"{_op(change)} cannot be inverted: {exc}", f"changes[{i}]") from None
    return [record.to_dict() for record in reversed(out)]
