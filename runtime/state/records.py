"""The customer state's records (docs/state.md, section 3): pydantic models, frozen and validated once;
``CustomerState`` is the whole record. ``_make`` and ``_clone`` build models from fields known to be
valid, without validation (what ``apply`` writes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from ..declarations import StateDecls
from ..errors import CustomerError
from ..model import CustomerView, _show
from .chain_record import ChainState
from .checks import _check_and_normalise, _check_sizes, _message, _where, check_limits, sizes_within
from .history_record import History
from .jsontypes import _CONFIG, Count, Date, Day, Time
from .model_scores_record import ModelScores

# ----------------------------------------------------------------------------------------- models


class Lot(BaseModel):
    """Points accrued at once: ``left`` of ``points`` remain, spendable from ``active_from`` until
    ``expires`` (exclusive; None: never)."""

    model_config = _CONFIG
    id: str
    points: Count
    left: Count
    active_from: Time
    expires: Time | None = None
    receipt: str | None = None
    campaign: str | None = None


class AccountState(BaseModel):
    """A bonus account: ``balance`` = Σ lot.left − ``debt`` (checked, never repaired).

    Its private fields are hints about its lots, not part of its value (``lot_hints``): they let the
    scans of every receipt skip what cannot matter in a long-lived customer's lots."""

    model_config = _CONFIG
    balance: int
    debt: Count = 0
    lots: list[Lot] = Field(default_factory=list)

    _live: int = PrivateAttr(default=0)  # every lot before this index has no points left
    _due: int | None = PrivateAttr(default=None)  # no lot with points left expires before (None: unknown)
    _ripe: int | None = PrivateAttr(default=None)  # no lot with points left is active only after (None: unknown)
    _ids: set[str] | None = PrivateAttr(default=None)  # the lots' ids (None: not kept)
    _act: tuple[int, int] | None = PrivateAttr(default=None)  # (t, i): every lot before index i is active at t

    def __eq__(self, other: object) -> bool:
        """Equal fields (the hints are not part of the value)."""
        if not isinstance(other, AccountState):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # a list inside: not hashable

    def __copy__(self) -> AccountState:
        return _clone(self)  # hints of its own (pydantic's copy would share the ids' set)


class CounterState(BaseModel):
    """A counter's or chips' value within ``period`` (a period key; ``all`` when never reset)."""

    model_config = _CONFIG
    value: Count
    period: str


class Coupon(BaseModel):
    model_config = _CONFIG
    code: str = Field(min_length=1)
    series: str
    issued: Time
    valid_from: Time
    valid_to: Time | None = None  # exclusive; None: no end
    uses_left: Count = 1


class Certificate(BaseModel):
    model_config = _CONFIG
    code: str = Field(min_length=1)
    series: str
    value: Count
    balance: Count
    expires: Time | None = None
    multi_use: bool = True


class Qualification(BaseModel):
    """The tier measure of the current period (``value``), of the one before (``previous``) and, for
    a rolling window (period ``rolling``), per local day inside the window."""

    model_config = _CONFIG
    period: str
    value: Count = 0
    previous: Count = 0
    days: list[Day] = Field(default_factory=list)


class ReferralState(BaseModel):
    model_config = _CONFIG
    referred_by: str | None = None
    rewarded: bool = False


class Member(BaseModel):
    """A member's rights on a shared account."""

    model_config = _CONFIG
    accrue: bool = True
    redeem: bool = False
    redeem_limit: Count | None = None  # points per receipt; None: no limit


class SharedAccount(BaseModel):
    model_config = _CONFIG
    id: str
    owner: str
    members: dict[str, Member]
    accounts: dict[str, AccountState] = Field(default_factory=dict)


class CustomerState(BaseModel):
    """A loyalty customer and everything the programme remembers about them (docs/state.md §3).

    Immutable: ``apply`` returns a new state that shares unchanged parts with the old one. Unknown
    fields are ignored, so the record can grow without breaking older tills. ``view`` (the property)
    is the time-free part of what bytecode reads; ``state.view(state, decls, now, local)`` adds the
    counters, balances and tier benefits at a moment.
    """

    model_config = _CONFIG

    id: str
    registered: Date | None = None
    birthday: Date | None = None
    children_birthdays: list[Date] = Field(default_factory=list)
    gender: str | None = None
    city: str | None = None
    registration_channel: str | None = None
    consents: dict[str, bool] = Field(default_factory=dict)
    attributes: dict[str, str] = Field(default_factory=dict)
    segments: list[str] = Field(default_factory=list)
    tier: str | None = None
    receipts: Count = 0
    accounts: dict[str, AccountState] = Field(default_factory=dict)
    counters: dict[str, CounterState] = Field(default_factory=dict)
    coupons: list[Coupon] = Field(default_factory=list)
    coupon_uses: dict[str, Count] = Field(default_factory=dict)
    certificates: list[Certificate] = Field(default_factory=list)
    qualification: Qualification | None = None
    usage: dict[str, dict[str, Count]] = Field(default_factory=dict)
    referral: ReferralState | None = None
    shared: SharedAccount | None = None
    returns: dict[str, dict[str, Count]] = Field(default_factory=dict)
    applied: dict[str, Time] = Field(default_factory=dict, description=(
        "ids of the receipts, returns and transfers applied (-> their time), the newest MAX_APPLIED_IDS: "
        "applying one again is refused with LOY510"))
    history: History | None = None  # docs/segments.md: kept only by programmes with segments
    chains: dict[str, ChainState] = Field(default_factory=dict, description=(
        "trigger chains by trigger name (docs/triggers.md): at most one record per declared trigger"))
    scores: ModelScores | None = None  # docs/offers.md: a model's scores, written by `loya offers score`

    _view: CustomerView | None = PrivateAttr(default=None)


    @field_validator("id")
    @classmethod
    def _a_card(cls, value: str) -> str:
        if not value:
            raise ValueError("an empty id is no card (a receipt with it is anonymous): a customer needs an id")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CustomerState:
        _check_and_normalise(self)
        return self

    def __eq__(self, other: object) -> bool:
        """Equal fields (the cached view is not part of the value)."""
        if not isinstance(other, CustomerState):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # mutable containers inside: not hashable

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> CustomerState:
        copy = super().model_copy(update=update, deep=deep)
        _SET_PRIVATE(copy, {"_view": None})
        return copy

    @property
    def view(self) -> CustomerView:
        """Profile, tier name, segments, attributes and purchase count (no time-dependent parts)."""
        cached = self.__pydantic_private__["_view"]  # type: ignore[index]  # (self._view is ~10x slower)
        if cached is None:
            cached = CustomerView(True, self.id, self.tier or "", frozenset(self.segments), dict(self.attributes),
                                  receipts=self.receipts)
            _SET_PRIVATE(self, {"_view": cached})
        return cached

    @classmethod
    def from_dict(cls, data: Any, decls: StateDecls | None = None, text: str | None = None) -> CustomerState:
        """Validate a customer record (JSON); the first problem raises ``CustomerError`` (LOY502)
        naming its JSON path. With ``decls``, debts are also checked against the credit limits.
        ``text``: the JSON text ``data`` was decoded from, if known (its sizes may then be seen in it
        at once: ``sizes_within``; the checks are the same)."""
        if not isinstance(data, dict):
            raise CustomerError(f"a customer is a JSON object, got {_show(data)}")
        if text is None or not sizes_within(text):
            _check_sizes(data)
        try:
            state = cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise CustomerError(_message(first), _where(first["loc"]) or None) from None
        if decls is not None:
            check_limits(state, decls)
        return state

    def to_dict(self) -> dict[str, Any]:
        """The canonical JSON form: every field, times in UTC with ``+00:00``, lists in canonical
        order (``bundle.canonical_json`` of it gives canonical bytes: keys sorted)."""
        out = self.model_dump(mode="json")
        if out["history"] is None:  # docs/segments.md: only programmes with segments keep one
            del out["history"]
        if not out["chains"]:
            del out["chains"]  # no trigger chain: the record as it was before triggers (docs/triggers.md)
        if out["scores"] is None:
            del out["scores"]  # no model scores: the record as it was before them (docs/offers.md)
        return out


# ------------------------------------------------------------------------------------------ apply

_APPEND: Any = object()  # undo marker: pop what was appended


# BaseModel's slots, written directly: making a model from known-valid fields costs ~0.5 µs this way
# (model_construct: ~3 µs)
_SET_FIELDS_SET = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_SET_EXTRA = BaseModel.__dict__["__pydantic_extra__"].__set__
_SET_PRIVATE = BaseModel.__dict__["__pydantic_private__"].__set__
_new_object = object.__new__
_set_attr = object.__setattr__


def _make(cls: type[BaseModel], fields: dict[str, Any]) -> Any:
    """A model from fields already known to be valid (no validation)."""
    obj = _new_object(cls)
    _set_attr(obj, "__dict__", fields)
    _SET_FIELDS_SET(obj, set(fields))
    _SET_EXTRA(obj, None)
    _SET_PRIVATE(obj, {"_view": None} if cls is CustomerState else None)
    return obj


def _clone(obj: Any) -> Any:
    copy = _make(type(obj), dict(obj.__dict__))
    if type(obj) is AccountState and obj.__pydantic_private__:  # the same lots: the same bounds hold
        hints = obj.__pydantic_private__
        _SET_PRIVATE(copy, {"_live": hints["_live"], "_due": hints["_due"], "_ripe": hints["_ripe"], "_ids": None,
                            "_act": hints.get("_act")})
    return copy


# ------------------------------------------------------------------------------------ lot hints
#
# A customer replayed over years holds thousands of lots, most of them spent; the scans of each
# receipt (what expires, the balances, finding a lot) would grow with them. An account keeps hints
# about its lots instead, each a bound that stays true whatever is written, or moved by the writes
# that could break it (``lot_back``, ``lot_gone``; a rollback forgets them all, ``forget_hints``):
#   _live  every lot before this index has no points left (lots run out and expire oldest first);
#   _due   no lot with points left expires before this time;
#   _ripe  no lot with points left becomes active after this time;
#   _ids   the set of the lots' ids (kept by the simulator's in-place writes only);
#   _act   (t, i): every lot before index i is active at time t (a lot's start never changes, so only a
#          lot put before i, or one removed, breaks it: then it is dropped).
# A scan sets them exactly; a fresh account has none (0, None, None, None).

_NEVER = 1 << 62  # a time after every time: no lot with points left expires (or becomes active)


def lot_hints(acc: AccountState) -> dict[str, Any]:
    """The account's hints (see above), made on first use."""
    hints = acc.__pydantic_private__
    if hints is None:
        hints = {"_live": 0, "_due": None, "_ripe": None, "_ids": None, "_act": None}
        _SET_PRIVATE(acc, hints)
    return hints


def live_from(acc: AccountState) -> int:
    """The index from which the account's lots may hold points: every lot before it has none left."""
    hints = lot_hints(acc)
    i = hints["_live"]
    lots = acc.lots
    n = len(lots)
    while i < n and not lots[i].left:
        i += 1
    hints["_live"] = i
    return i


def set_bounds(acc: AccountState, due: int, ripe: int) -> None:
    """What a full scan of the live lots found: the soonest expiry and the latest start of a lot with
    points left (``_NEVER``, 0: none)."""
    hints = lot_hints(acc)
    hints["_due"], hints["_ripe"] = due, ripe


def lot_back(acc: AccountState, index: int, lot: Lot, new: bool) -> None:
    """The lot at ``index`` holds points again (``new``: it was just made there): the hints take it in."""
    hints = acc.__pydantic_private__
    if not hints:
        return
    if hints["_live"] > index:
        hints["_live"] = index
    due, ripe = hints["_due"], hints["_ripe"]
    if due is not None and lot.expires is not None and lot.expires < due:
        hints["_due"] = lot.expires
    if ripe is not None and lot.active_from > ripe:
        hints["_ripe"] = lot.active_from
    ids = hints["_ids"]
    if new and ids is not None:
        ids.add(lot.id)
    act = hints.get("_act")
    if new and act is not None and index < act[1]:
        hints["_act"] = None


def lot_gone(acc: AccountState, lot_id: str) -> None:
    """The lot ``lot_id`` was removed from the account."""
    hints = acc.__pydantic_private__
    if hints and hints["_ids"] is not None:
        hints["_ids"].discard(lot_id)
    if hints:
        hints["_act"] = None  # the lots after it moved down


def forget_hints(acc: AccountState) -> None:
    """Drop the hints (after writes they did not follow: a rollback)."""
    _SET_PRIVATE(acc, None)


def holds_lot(acc: AccountState, lot_id: str, keep: bool) -> bool:
    """Whether the account has a lot ``lot_id``; ``keep``: by a set of the ids kept from now on (for
    a state changed in place, whose account lives on), else by a scan."""
    hints = lot_hints(acc)
    ids = hints["_ids"]
    if ids is None:
        if not keep:
            return find_lot(acc, lot_id) >= 0
        ids = hints["_ids"] = {lot.id for lot in acc.lots}
    return lot_id in ids


def find_lot(acc: AccountState, lot_id: str) -> int:
    """The index of the lot ``lot_id`` in the account (-1: none): the live lots first, then the
    spent ones (lot ids are unique within an account, so the order of the search changes nothing)."""
    lots = acc.lots
    start = live_from(acc)
    for i in range(start, len(lots)):
        if lots[i].id == lot_id:
            return i
    for i in range(start):
        if lots[i].id == lot_id:
            return i
    return -1


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    return _clone(value)


