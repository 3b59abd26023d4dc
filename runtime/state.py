"""The customer state between receipts (docs/state.md, section 3) and the one function that changes it.

``CustomerState`` is the JSON record a host keeps per customer, validated once (``from_dict``) and
then immutable; ``apply`` is the only code that writes state: it folds the changes of section 6 into
a *new* state (the input is shared, never mutated), all or nothing. ``view`` is what bytecode reads
at a moment, ``advance`` what time passing does (expiry, resets, tier reviews), as changes again.

Units: money and points integers (minor units); times are integers internally, whole seconds since
0001-01-01 00:00 UTC (``runtime.model.utc_seconds``), and ISO 8601 strings with an offset in JSON;
local dates are proleptic ordinals (``date.toordinal``) in the programme's time zone.

Canonical form (so ``from_dict(to_dict(s)) == s`` and applying changes then their inverses gives the
*same* state back): segments and children's birthdays sorted, coupons and certificates sorted by
code, qualification days by date, applied ids by time (then id); a counter, usage count, coupon use
count or returned quantity of 0 is absent, and an account with no lots and no debt is absent. Lots
keep their order (creation).
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import IO, Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    Strict,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from . import jsonio
from .declarations import Account as AccountDecl
from .declarations import Counter, CouponSeries, Expiry, Level, StateDecls
from .errors import CustomerError, LoyaError, StateError
from .limits import MAX_APPLIED_IDS, MAX_CUSTOMER_BYTES, MAX_TEXT_CHARS, MAX_VALUE
from .model import CustomerView, _show, _surrogate, utc_seconds

_MISSING: Any = object()
_UTC_EPOCH = dt.datetime(1, 1, 1, tzinfo=dt.UTC)  # utc second 86400 (ordinal 1)
_SPECIAL_PERIODS = {"never": "all", "customer": "all"}
LIMIT = "LOY507"  # a customer record exceeds a limit of runtime/limits.py

# ------------------------------------------------------------------------------------- JSON types


def _time_in(value: Any) -> int:
    """An ISO 8601 date-time with an offset (or an aware datetime) -> UTC seconds; fractions of a
    second are dropped (floor), so the canonical form has whole seconds. (``utc_seconds`` inlined:
    this runs twice per lot when a state is read.)"""
    if type(value) is str:
        try:
            when = _fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected an ISO 8601 date and time with an offset, got {_show(value)}") from None
    elif isinstance(value, dt.datetime):
        when = value
    else:
        raise ValueError(f"expected an ISO 8601 date and time with an offset, got {_show(value)}")
    offset = when.utcoffset()
    if offset is None:
        raise ValueError(f"needs a UTC offset, e.g. {when.isoformat()}+00:00")
    utc = (when.toordinal() * 86400 + when.hour * 3600 + when.minute * 60 + when.second
           - offset.days * 86400 - offset.seconds)
    if not _FIRST_TIME <= utc <= _LAST_TIME:
        raise ValueError("the time is out of range (0001-01-01..9999-12-31 UTC)")
    return utc


_fromisoformat = dt.datetime.fromisoformat


_FIRST_TIME, _LAST_TIME = 86400, dt.date.max.toordinal() * 86400 + 86399  # what a datetime can show in UTC


def _in_range(utc: int) -> int:
    if not _FIRST_TIME <= utc <= _LAST_TIME:
        raise ValueError("the time is out of range (0001-01-01..9999-12-31 UTC)")
    return utc


def _date_in(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date (YYYY-MM-DD), got a date and time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"expected a date (YYYY-MM-DD), got {_show(value)}")


def iso(utc: int) -> str:
    """UTC seconds -> the canonical ISO 8601 form, ``2026-01-15T10:00:00+00:00``."""
    return (_UTC_EPOCH + dt.timedelta(seconds=utc - 86400)).isoformat()


def parse_time(value: str | int | dt.datetime) -> int:
    """An ISO 8601 string with an offset, an aware datetime or UTC seconds -> UTC seconds."""
    if type(value) is int:
        return value
    return _time_in(value)


# A point in time: an int (UTC seconds) in Python, an ISO 8601 string with an offset in JSON.
Time = Annotated[int, BeforeValidator(_time_in), PlainSerializer(iso, return_type=str),
                 WithJsonSchema({"type": "string", "format": "date-time"})]
Date = Annotated[dt.date, BeforeValidator(_date_in), WithJsonSchema({"type": "string", "format": "date"})]
Count = Annotated[int, Field(ge=0)]
Positive = Annotated[int, Field(gt=0)]
Day = Annotated[tuple[Annotated[int, Field(gt=0)], Count], Strict(False)]  # [local date ordinal, value]

_CONFIG = ConfigDict(frozen=True, extra="ignore", strict=True)


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
    """A bonus account: ``balance`` = Σ lot.left − ``debt`` (checked, never repaired)."""

    model_config = _CONFIG
    balance: int
    debt: Count = 0
    lots: list[Lot] = Field(default_factory=list)


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

    _view: CustomerView | None = PrivateAttr(default=None)

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
    def from_dict(cls, data: Any, decls: StateDecls | None = None) -> CustomerState:
        """Validate a customer record (JSON); the first problem raises ``CustomerError`` (LOY502)
        naming its JSON path. With ``decls``, debts are also checked against the credit limits."""
        if not isinstance(data, dict):
            raise CustomerError(f"a customer is a JSON object, got {_show(data)}")
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
        return self.model_dump(mode="json")


def read_customer(text: bytes | str, where: str | None = None, decls: StateDecls | None = None) -> CustomerState:
    """One customer record as JSON text (a document, or a line of a customers file) -> the validated
    state: the one reader of customer files (``loya eval`` and ``loya simulate``). JSON is read under
    the limits (``jsonio``); every problem is a ``CustomerError`` whose place starts with ``where``
    (``customers.jsonl:7``) and goes on with the JSON path."""
    if len(text) > MAX_CUSTOMER_BYTES:
        raise CustomerError(f"{len(text):,} bytes (at most {MAX_CUSTOMER_BYTES:,})", where, LIMIT)
    data = jsonio.load(text, code="LOY502", what="the customer", max_bytes=MAX_CUSTOMER_BYTES, where=where)
    try:
        return CustomerState.from_dict(data, decls)
    except CustomerError as exc:
        if where is None:
            raise
        message = exc.message[len(exc.where) + 2:] if exc.where else exc.message
        raise CustomerError(message, f"{where}: {exc.where}" if exc.where else where, exc.code) from None


def read_customers(file: IO[bytes], name: str, problems: list[LoyaError],
                   decls: StateDecls | None = None) -> dict[str, CustomerState]:
    """A customers file (JSON Lines, one record a line, blank lines skipped) -> the states by id. A bad
    line, or an id met twice, goes to ``problems`` as a ``CustomerError`` at ``name:line`` and the
    rest is still read; the caller decides whether any problem stops it."""
    states: dict[str, CustomerState] = {}
    first: dict[str, int] = {}
    for number, line in jsonio.lines(file, MAX_CUSTOMER_BYTES):
        where = f"{name}:{number}"
        try:
            state = read_customer(line, where, decls)
        except LoyaError as exc:
            problems.append(exc)
            continue
        if state.id in first:
            problems.append(CustomerError(f"customer {state.id!r} appears twice (first on line {first[state.id]})",
                                          f"{where}: id"))
            continue
        first[state.id] = number
        states[state.id] = state
    return states


def _check_sizes(data: dict[str, Any]) -> None:
    """Every string (keys too) at most MAX_TEXT_CHARS characters of real text (no lone surrogate) and
    every integer within ±MAX_VALUE, in one pass without recursion; the place is built only for an
    error (each node keeps a link to its parent, so the pass is linear however deep the record)."""
    stack: list[tuple[Any, Any]] = [(data, None)]
    pop, push = stack.pop, stack.append
    while stack:
        value, at = pop()
        kind = type(value)
        if kind is dict:
            for key, item in value.items():
                if type(key) is str:
                    _check_text(key, at, "a key")
                push((item, (at, key)))
        elif kind is list:
            for index, item in enumerate(value):
                push((item, (at, index)))
        elif kind is str:
            _check_text(value, at, "a string")
        elif kind is int and not -MAX_VALUE <= value <= MAX_VALUE:
            raise CustomerError(f"{_show(value)} is more than {MAX_VALUE} in size", _path(at) or None, LIMIT)


def _check_text(text: str, at: Any, what: str) -> None:
    if len(text) > MAX_TEXT_CHARS:
        raise CustomerError(f"{what} of {len(text):,} characters (at most {MAX_TEXT_CHARS:,})", _path(at) or None,
                            LIMIT)
    if not text.isascii() and _surrogate(text):
        raise CustomerError(f"{what} with a lone surrogate (\\ud800-\\udfff), which is not text", _path(at) or None)


def _path(at: Any) -> str:
    """The JSON path of a node from its (parent, key) links: ``accounts.bonus.lots[2].id``."""
    parts: list[int | str] = []
    while at is not None:
        at, key = at
        parts.append(key)
    return _where(reversed(parts))


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the customer state (what ``from_dict`` accepts, less the consistency rules)."""
    return CustomerState.model_json_schema(mode="validation")


def _message(error: Mapping[str, Any]) -> str:
    msg = str(error["msg"])
    return msg[len("Value error, "):] if msg.startswith("Value error, ") else msg


def _where(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part != "[key]":
            out += f".{part}"
    return out.lstrip(".")


# ------------------------------------------------------------------------------------ consistency


def _check_and_normalise(s: CustomerState) -> None:
    """Refuse an inconsistent record (``CustomerError`` with the path) and put it in canonical form."""
    d = s.__dict__
    d["segments"] = sorted(set(s.segments))
    d["children_birthdays"] = sorted(s.children_birthdays)
    d["accounts"] = _check_accounts(s.accounts, "accounts")
    d["counters"] = {name: c for name, c in s.counters.items() if c.value}
    d["coupon_uses"] = {name: n for name, n in s.coupon_uses.items() if n}
    d["usage"] = _drop_zeros(s.usage)
    for receipt, lines in s.returns.items():
        for key in lines:
            if not (key.isascii() and key.isdigit() and key[0] != "0"):
                raise CustomerError(f"a line number is a positive integer, got {key!r}", f"returns.{receipt}")
    d["returns"] = _drop_zeros(s.returns)
    d["applied"] = _by_time(s.applied)
    _unique((c.code for c in s.coupons), "coupons", "code", "coupon code")
    d["coupons"] = sorted(s.coupons, key=_code)
    _unique((c.code for c in s.certificates), "certificates", "code", "certificate code")
    for i, cert in enumerate(s.certificates):
        if cert.balance > cert.value:
            raise CustomerError(f"{cert.balance} is more than the certificate's value {cert.value}",
                                f"certificates[{i}].balance")
    d["certificates"] = sorted(s.certificates, key=_code)
    q = s.qualification
    if q is not None and q.days:
        days = sorted(q.days)
        for i in range(1, len(days)):
            if days[i][0] == days[i - 1][0]:
                raise CustomerError(f"day {days[i][0]} appears twice", "qualification.days")
        total = sum(v for _, v in days)
        if total != q.value:
            raise CustomerError(f"is {q.value}, but the days add up to {total}", "qualification.value")
        q.__dict__["days"] = [day for day in days if day[1]]
    sh = s.shared
    if sh is not None:
        if s.id not in sh.members:
            raise CustomerError(f"customer {s.id} is not a member of shared account {sh.id}", "shared.members")
        if sh.owner not in sh.members:
            raise CustomerError(f"the owner {sh.owner} is not a member", "shared.owner")
        sh.__dict__["accounts"] = _check_accounts(sh.accounts, "shared.accounts")


def _check_accounts(accounts: dict[str, AccountState], where: str) -> dict[str, AccountState]:
    for name, acc in accounts.items():
        at = f"{where}.{name}"
        _unique((lot.id for lot in acc.lots), f"{at}.lots", "id", "lot id")
        left = 0
        for i, lot in enumerate(acc.lots):
            if lot.left > lot.points:
                raise CustomerError(f"{lot.left} left is more than the lot's {lot.points} points",
                                    f"{at}.lots[{i}].left")
            left += lot.left
        if acc.balance != left - acc.debt:
            raise CustomerError(f"is {acc.balance}, but the lots have {left} left and the debt is {acc.debt} "
                                f"(balance = left - debt = {left - acc.debt})", f"{at}.balance")
    return {name: acc for name, acc in accounts.items() if acc.lots or acc.debt}


def check_limits(state: CustomerState, decls: StateDecls) -> None:
    """Checks that need the programme: a debt only on a credit account, within its limit."""
    credit = {a.name: a.credit for a in decls.accounts}
    places = [("accounts", state.accounts)]
    if state.shared is not None:
        places.append(("shared.accounts", state.shared.accounts))
    for where, accounts in places:
        for name, acc in accounts.items():
            limit = credit.get(name)
            if limit is not None and acc.debt > limit:
                raise CustomerError(f"{acc.debt} is more than the account's credit limit {limit}",
                                    f"{where}.{name}.debt")


def _unique(values: Iterable[str], where: str, field: str, what: str) -> None:
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            raise CustomerError(f"{what} {value!r} appears twice", f"{where}[{i}].{field}")
        seen.add(value)


def _drop_zeros(nested: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    out = {}
    for key, inner in nested.items():
        kept = {k: v for k, v in inner.items() if v}
        if kept:
            out[key] = kept
    return out


def _by_time(applied: Mapping[str, int]) -> dict[str, int]:
    """Applied ids in canonical order: oldest first, ties by id."""
    return dict(sorted(applied.items(), key=_when_then_id))


def _when_then_id(item: tuple[str, int]) -> tuple[int, str]:
    return item[1], item[0]


def _code(item: Coupon | Certificate) -> str:
    return item.code


# ----------------------------------------------------------------------------------------- periods


def period_key(local_ordinal: int, period: str) -> str:
    """The key of the calendar period holding a local date: day ``2026-11-23``, week ``2026-W48``
    (ISO), month ``2026-11``, quarter ``2026-Q4``, year ``2026``; ``all`` for customer / never."""
    d = dt.date.fromordinal(local_ordinal)
    if period == "day":
        return d.isoformat()
    if period == "week":
        year, week, _ = d.isocalendar()
        return f"{year:04d}-W{week:02d}"
    if period == "month":
        return f"{d.year:04d}-{d.month:02d}"
    if period == "quarter":
        return f"{d.year:04d}-Q{(d.month - 1) // 3 + 1}"
    if period == "year":
        return f"{d.year:04d}"
    if period in _SPECIAL_PERIODS:
        return "all"
    raise ValueError(f"unknown period {period!r}")


def period_start(local_ordinal: int, period: str) -> int:
    """The ordinal of the first day of the calendar period holding a local date."""
    d = dt.date.fromordinal(local_ordinal)
    if period == "day":
        return local_ordinal
    if period == "week":
        return local_ordinal - d.weekday()
    if period == "month":
        return dt.date(d.year, d.month, 1).toordinal()
    if period == "quarter":
        return dt.date(d.year, (d.month - 1) // 3 * 3 + 1, 1).toordinal()
    if period == "year":
        return dt.date(d.year, 1, 1).toordinal()
    raise ValueError(f"period {period!r} has no start")


def period_end(local_ordinal: int, period: str) -> int:
    """The ordinal of the first day of the *next* calendar period (the end is exclusive)."""
    d = dt.date.fromordinal(local_ordinal)
    if period == "day":
        return local_ordinal + 1
    if period == "week":
        return local_ordinal - d.weekday() + 7
    if period in ("month", "quarter"):
        month = d.month + 1 if period == "month" else (d.month - 1) // 3 * 3 + 4
        return dt.date(d.year + (month > 12), (month - 1) % 12 + 1, 1).toordinal()
    if period == "year":
        return dt.date(d.year + 1, 1, 1).toordinal()
    raise ValueError(f"period {period!r} has no end")


def local_date(zone: ZoneInfo) -> Callable[[int], int]:
    """``utc seconds -> local date ordinal`` in a zone (the ``local`` that ``view`` takes)."""

    def local(utc: int) -> int:
        return (_UTC_EPOCH + dt.timedelta(seconds=utc - 86400)).astimezone(zone).toordinal()

    return local


def local_midnight(local_ordinal: int, zone: ZoneInfo) -> int:
    """UTC seconds of the local midnight starting a date (the first instant of the day when a DST
    change skips midnight)."""
    start = dt.datetime.combine(dt.date.fromordinal(local_ordinal), dt.time(), tzinfo=zone)
    return utc_seconds(start.astimezone(dt.UTC))


def expiry_time(expiry: Expiry, from_utc: int, zone: ZoneInfo) -> int | None:
    """When something made at ``from_utc`` expires (UTC seconds, exclusive), or None for never:
    ``after`` N seconds, or ``end_of`` a period: local midnight starting the day after the period's
    last day (one period later with ``next``)."""
    if expiry.kind == "never":
        return None
    if expiry.kind == "after":
        return from_utc + expiry.seconds
    if expiry.kind == "end_of" and expiry.period is not None:
        end = period_end(local_date(zone)(from_utc), expiry.period)
        if expiry.next:
            end = period_end(end, expiry.period)
        return local_midnight(end, zone)
    raise ValueError(f"unknown expiry {expiry!r}")


def qualification_period(decls: StateDecls, local_ordinal: int) -> str:
    """The key qualify changes carry: the tiers' calendar period, or ``rolling`` for a window."""
    tiers = decls.tiers
    if tiers is None:
        raise ValueError("the programme declares no tiers")
    if tiers.period.kind == "rolling":
        return "rolling"
    return period_key(local_ordinal, tiers.period.kind)


def counter_period(decl: Counter, local_ordinal: int) -> str:
    """The period key a counter change carries: by the counter's reset (``all`` when never)."""
    return period_key(local_ordinal, decl.reset)


def level_for(decls: StateDecls, value: int) -> Level | None:
    """The highest tier level whose threshold is at most ``value`` (None without tiers)."""
    tiers = decls.tiers
    if tiers is None or not tiers.levels:
        return None
    found = tiers.levels[0]
    for level in tiers.levels:
        if level.threshold <= value:
            found = level
    return found


# ------------------------------------------------------------------------------------------- view


class _Index:
    """The declarations by name, built once per ``StateDecls``."""

    __slots__ = ("accounts", "counters", "coupons", "entry", "levels", "position")

    def __init__(self, decls: StateDecls) -> None:
        self.accounts: dict[str, AccountDecl] = {a.name: a for a in decls.accounts}
        self.counters: dict[str, Counter] = {c.name: c for c in decls.counters}
        self.coupons: dict[str, CouponSeries] = {c.name: c for c in decls.coupons}
        levels = decls.tiers.levels if decls.tiers is not None else ()
        self.levels: dict[str, Level] = {level.name: level for level in levels}
        self.position: dict[str, int] = {level.name: i for i, level in enumerate(levels)}
        self.entry: Level | None = levels[0] if levels else None


_INDEXES: dict[int, tuple[StateDecls, _Index]] = {}


def _index(decls: StateDecls) -> _Index:
    found = _INDEXES.get(id(decls))
    if found is not None and found[0] is decls:
        return found[1]
    if len(_INDEXES) > 64:
        _INDEXES.clear()
    index = _Index(decls)
    _INDEXES[id(decls)] = (decls, index)
    return index


def _active(account: AccountState, now: int) -> int:
    """Points spendable at ``now``: active lots' left minus the debt."""
    total = -account.debt
    for lot in account.lots:
        left = lot.left
        if left and lot.active_from <= now:
            expires = lot.expires
            if expires is None or now < expires:
                total += left
    return total


def view(state: CustomerState, decls: StateDecls, now_utc: int, local: Callable[[int], int]) -> CustomerView:
    """What bytecode reads about the customer at ``now_utc`` (UTC seconds); ``local(utc)`` gives the
    local date ordinal in the programme's zone (``local_date(zone)``, or the engine's cached one).

    counters: declared counters and chips whose stored period is the current one (chips after their
    promotion read 0); balances: active lots' left minus debt, per account, plus the shared account's
    for a member who may redeem from it; benefits: of the customer's level (the entry level without
    one); tier: the level's name (the entry level's when the customer has none).
    """
    base = state.view
    index = _index(decls)
    counters: dict[str, int] = {}
    if state.counters:
        today = local(now_utc)
        keys: dict[str, str] = {}
        for name, c in state.counters.items():
            decl = index.counters.get(name)
            if decl is None or (decl.valid is not None and today > decl.valid[1]):
                continue
            key = keys.get(decl.reset)
            if key is None:
                key = keys[decl.reset] = period_key(today, decl.reset)
            if c.period == key:
                counters[name] = c.value
    balances = {name: _active(acc, now_utc) for name, acc in state.accounts.items()}
    shared = state.shared
    if shared is not None and shared.accounts:
        member = shared.members.get(state.id)
        if member is not None and member.redeem:
            for name, acc in shared.accounts.items():
                balances[name] = balances.get(name, 0) + _active(acc, now_utc)
    tier = base.tier
    benefits: Mapping[str, int] = {}
    if index.entry is not None:
        level = index.levels.get(tier) if tier else None
        if level is None:
            level = index.entry
        tier, benefits = level.name, level.benefits
    return CustomerView(True, base.id, tier, base.segments, base.attrs, counters, balances, benefits, state.receipts)


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
    return _make(type(obj), dict(obj.__dict__))


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    return _clone(value)


class _Failed(Exception):
    """Why one change does not fit; ``_Applier.run`` names the change. ``code``: the error's code when
    it is more precise than LOY503 (LOY510: applied already)."""

    def __init__(self, message: str, code: str = "LOY503") -> None:
        super().__init__(message)
        self.code = code


class _Applier:
    """Applies changes, all or nothing. Copy-on-write (``apply``): the root is a fresh copy and any
    object on the path to a write is copied once (``own``), so the input state is never touched. In
    place (``apply_in_place``): writes go to the state itself and are logged, and a failure undoes
    them. Objects are frozen pydantic models: writes go to their ``__dict__`` (only ever on objects
    this applier owns)."""

    __slots__ = ("decls", "fresh", "index", "root", "undo")

    def __init__(self, state: CustomerState, decls: StateDecls | None, in_place: bool) -> None:
        self.decls = decls
        self.index = _index(decls) if decls is not None else None
        self.undo: list[tuple[Any, Any, Any]] | None = [] if in_place else None
        self.fresh: set[int] | None = None if in_place else set()
        self.root: CustomerState = state if in_place else _clone(state)

    # --- ownership and logged writes

    def own(self, holder: Any, key: Any) -> Any:
        """``holder[key]``, copied first unless this applier made it (in place: as is)."""
        value = holder[key]
        fresh = self.fresh
        if fresh is None or id(value) in fresh:
            return value
        value = _copy(value)
        fresh.add(id(value))
        holder[key] = value  # the holder is owned already
        return value

    def put(self, holder: Any, key: Any, value: Any) -> None:
        """``holder[key] = value`` (``_MISSING``: delete), logged when in place."""
        if self.undo is not None:
            self.undo.append((holder, key, holder.get(key, _MISSING)))
        if value is _MISSING:
            holder.pop(key, None)
        else:
            holder[key] = value

    def append(self, items: list[Any], value: Any) -> None:
        if self.undo is not None:
            self.undo.append((items, _APPEND, None))
        items.append(value)

    def rollback(self) -> None:
        assert self.undo is not None
        for holder, key, old in reversed(self.undo):
            if key is _APPEND:
                holder.pop()
            elif old is _MISSING:
                holder.pop(key, None)
            else:
                holder[key] = old
        self.undo.clear()

    def run(self, changes: Sequence[Mapping[str, Any]]) -> CustomerState:
        root = self.root.__dict__
        for i, change in enumerate(changes):
            op = change.get("op") if type(change) is dict or isinstance(change, Mapping) else None
            handler = _HANDLERS.get(op) if isinstance(op, str) else None
            try:
                if handler is None:
                    raise _Failed("not a change (no known op)" if op is None else f"unknown op {op!r}")
                handler(self, root, change)
            except _Failed as exc:
                if self.undo is not None:
                    self.rollback()
                raise StateError(f"{op} does not fit the state: {exc}", f"changes[{i}]", exc.code) from None
        _SET_PRIVATE(self.root, {"_view": None})  # the cached view is stale
        return self.root

    # --- parts

    def accounts(self, root: dict[str, Any], change: Mapping[str, Any]) -> tuple[dict[str, AccountState], str]:
        if change.get("shared") is True:
            if root["shared"] is None:
                raise _Failed("the customer has no shared account")
            shared = self.own(root, "shared")
            return self.own(shared.__dict__, "accounts"), "shared account "
        return self.own(root, "accounts"), "account "

    def account(self, root: dict[str, Any], change: Mapping[str, Any], create: bool = False
                ) -> tuple[dict[str, AccountState], str, AccountState]:
        accounts, what = self.accounts(root, change)
        name = _str(change, "account")
        if name not in accounts:
            if not create:
                raise _Failed(f"{what}{name!r} has no lots and no debt")
            self.put(accounts, name, _make(AccountState, {"balance": 0, "debt": 0, "lots": []}))
            if self.fresh is not None:
                self.fresh.add(id(accounts[name]))
                self.fresh.add(id(accounts[name].lots))
        return accounts, name, self.own(accounts, name)

    def drop_if_empty(self, accounts: dict[str, AccountState], name: str) -> None:
        acc = accounts[name]
        if not acc.lots and not acc.debt:
            self.put(accounts, name, _MISSING)

    def count(self, holder: dict[str, int], key: str, delta: int, what: str) -> None:
        value = holder.get(key, 0) + delta
        if value < 0:
            raise _Failed(f"{what} would be {value}")
        self.put(holder, key, value if value else _MISSING)

    def nested_count(self, root: dict[str, Any], field: str, outer: str, inner: str, delta: int, what: str) -> None:
        table = self.own(root, field)
        if outer not in table:
            if delta < 0:
                raise _Failed(f"{what} would be {delta}")
            self.put(table, outer, {})
            if self.fresh is not None:
                self.fresh.add(id(table[outer]))
        counts = self.own(table, outer)
        self.count(counts, inner, delta, what)
        if not counts:
            self.put(table, outer, _MISSING)


def _str(change: Mapping[str, Any], key: str) -> str:
    value = change.get(key)
    if type(value) is not str:
        raise _Failed(f"{key} must be a string, got {_show(value if key in change else _MISSING)}")
    return value


def _int(change: Mapping[str, Any], key: str) -> int:
    value = change.get(key)
    if type(value) is not int:
        raise _Failed(f"{key} must be an integer, got {_show(value if key in change else _MISSING)}")
    return value


def _time(change: Mapping[str, Any], key: str, optional: bool = False) -> int | None:
    value = change.get(key)
    if value is None and optional:
        return None
    try:
        return _in_range(value) if type(value) is int else _time_in(value)
    except ValueError as exc:
        raise _Failed(f"{key}: {exc}") from None


def _opt_str(change: Mapping[str, Any], key: str) -> str | None:
    value = change.get(key)
    if value is not None and type(value) is not str:
        raise _Failed(f"{key} must be a string or null, got {_show(value)}")
    return value


def _find_lot(acc: AccountState, lot_id: str) -> int:
    for i, lot in enumerate(acc.lots):
        if lot.id == lot_id:
            return i
    return -1


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


def _counter(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    """Adds ``delta`` in ``period``. A counter at 0 is absent and starts in any period; one holding
    a count of another period must be reset (by ``advance``) first."""
    name, delta, period = _str(c, "name"), _int(c, "delta"), _str(c, "period")
    counters = a.own(root, "counters")
    old = counters.get(name)
    if old is not None and old.period != period:
        raise _Failed(f"counter {name!r} holds {old.value} for period {old.period}, not {period} (reset it first)")
    value = (old.value if old is not None else 0) + delta
    if value < 0:
        raise _Failed(f"counter {name!r} would be {value}")
    a.put(counters, name, _make(CounterState, {"value": value, "period": period}) if value else _MISSING)


def _index_of(items: list[Any], code: str) -> int:
    """Where ``code`` is in ``items`` (coupons or certificates, sorted by code: the canonical form),
    or -1; a binary search, so a receipt issuing thousands of them stays fast."""
    i = bisect_left(items, code, key=_code)
    return i if i < len(items) and items[i].code == code else -1


def _coupon_index(root: dict[str, Any], code: str) -> int:
    return _index_of(root["coupons"], code)


def _with_item(items: list[Any], item: Any) -> list[Any]:
    """``items`` (sorted by code) with ``item`` inserted in order."""
    at = bisect_left(items, item.code, key=_code)
    return [*items[:at], item, *items[at:]]


def _coupon_use(a: _Applier, root: dict[str, Any], c: Mapping[str, Any], delta: int = 1) -> None:
    code, series = _str(c, "code"), _str(c, "series")
    found = _coupon_index(root, code)
    decl = a.index.coupons.get(series) if a.index is not None else None
    if found >= 0:
        coupon = root["coupons"][found]
        if coupon.series != series:
            raise _Failed(f"coupon {code!r} is of series {coupon.series!r}, not {series!r}")
        uses_left = coupon.uses_left - delta
        if uses_left < 0:
            raise _Failed(f"coupon {code!r} is used up")
        if decl is not None and uses_left > decl.uses:
            raise _Failed(f"coupon {code!r} would have {uses_left} uses left; the series allows {decl.uses}")
        coupons = list(root["coupons"])
        coupons[found] = _make(Coupon, {**coupon.__dict__, "uses_left": uses_left})
        a.put(root, "coupons", coupons)
    elif delta > 0 and not (decl is not None and decl.code == "shared" and decl.text == code):
        raise _Failed(f"the customer holds no coupon {code!r}" + (
            "" if a.decls is not None else " (a shared code needs the declarations: apply(..., decls=...))"))
    uses = a.own(root, "coupon_uses")
    a.count(uses, series, delta, f"the uses of series {series!r}")
    if decl is not None and decl.per_customer is not None and delta > 0 and uses[series] > decl.per_customer:
        raise _Failed(f"series {series!r} allows {decl.per_customer} uses per customer")


def _coupon_unuse(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    _coupon_use(a, root, c, -1)


def _coupon_issue(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    data = c.get("coupon", c)
    if not isinstance(data, Mapping):
        raise _Failed("coupon must be an object")
    code = _str(data, "code")
    if code == "":
        raise _Failed("a coupon code is not empty")
    if _coupon_index(root, code) >= 0:
        raise _Failed(f"the customer holds coupon {code!r} already")
    uses_left = _int(data, "uses_left") if "uses_left" in data else 1
    if uses_left < 0:
        raise _Failed("uses_left must be >= 0")
    issued = _time(data, "issued")
    coupon = _make(Coupon, {"code": code, "series": _str(data, "series"), "issued": issued,
                            "valid_from": _time(data, "valid_from") if "valid_from" in data else issued,
                            "valid_to": _time(data, "valid_to", optional=True), "uses_left": uses_left})
    a.put(root, "coupons", _with_item(root["coupons"], coupon))


def _coupon_expire(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    code = _str(c, "code")
    found = _coupon_index(root, code)
    if found < 0:
        raise _Failed(f"the customer holds no coupon {code!r}")
    a.put(root, "coupons", root["coupons"][:found] + root["coupons"][found + 1:])


def _certificate_index(root: dict[str, Any], code: str) -> int:
    return _index_of(root["certificates"], code)


def _certificate(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    code, delta = _str(c, "code"), _int(c, "delta")
    found = _certificate_index(root, code)
    if found < 0:
        raise _Failed(f"the customer holds no certificate {code!r}")
    cert = root["certificates"][found]
    balance = cert.balance + delta
    if not 0 <= balance <= cert.value:
        raise _Failed(f"certificate {code!r} has {cert.balance} of {cert.value}; {delta:+d} does not fit")
    certificates = list(root["certificates"])
    certificates[found] = _make(Certificate, {**cert.__dict__, "balance": balance})
    a.put(root, "certificates", certificates)


def _certificate_issue(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    data = c.get("certificate", c)
    if not isinstance(data, Mapping):
        raise _Failed("certificate must be an object")
    code = _str(data, "code")
    if code == "" or _certificate_index(root, code) >= 0:
        raise _Failed(f"certificate code {code!r} is empty or held already")
    value = _int(data, "value")
    balance = _int(data, "balance") if "balance" in data else value
    multi_use = data.get("multi_use", True)
    if not 0 <= balance <= value or type(multi_use) is not bool:
        raise _Failed("a certificate needs 0 <= balance <= value and a boolean multi_use")
    cert = _make(Certificate, {"code": code, "series": _str(data, "series"), "value": value, "balance": balance,
                               "expires": _time(data, "expires", optional=True), "multi_use": multi_use})
    a.put(root, "certificates", _with_item(root["certificates"], cert))


def _certificate_void(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    code = _str(c, "code")
    found = _certificate_index(root, code)
    if found < 0:
        raise _Failed(f"the customer holds no certificate {code!r}")
    a.put(root, "certificates", root["certificates"][:found] + root["certificates"][found + 1:])


def _record(q: Qualification | None) -> dict[str, Any] | None:
    return None if q is None else {"period": q.period, "value": q.value, "previous": q.previous}


def _qualify(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    """``{period, delta, day?}`` adds to the current period (and day, in a rolling window); with
    ``from`` (the record it replaces, or null) it is a review: the record becomes
    ``{period, value: delta, previous}`` (period null: no record)."""
    q: Qualification | None = root["qualification"]
    delta = _int(c, "delta")
    if "from" in c:
        if c["from"] != _record(q):
            raise _Failed(f"the qualification is {_record(q)}, not {c['from']}")
        period = _opt_str(c, "period")
        previous = _int(c, "previous") if "previous" in c else 0
        if delta < 0 or previous < 0:
            raise _Failed("a qualification value is >= 0")
        days = list(q.days) if q is not None else []
        if days and period is not None and sum(v for _, v in days) != delta:
            raise _Failed("a review keeps the days of a rolling window, which add up to more than the value")
        a.put(root, "qualification", None if period is None else _make(
            Qualification, {"period": period, "value": delta, "previous": previous, "days": days}))
        return
    period = _str(c, "period")
    if q is not None and q.period != period:
        raise _Failed(f"the qualification is kept for {q.period}, not {period} (a review comes first)")
    value = (q.value if q is not None else 0) + delta
    if value < 0:
        raise _Failed(f"the qualification would be {value}")
    days = list(q.days) if q is not None else []
    if "day" in c:
        day = _int(c, "day")
        by_day = dict(days)
        held = by_day.pop(day, 0) + delta
        if held < 0:
            raise _Failed(f"day {day} would have {held}")
        if held:
            by_day[day] = held
        days = sorted(by_day.items())
    elif days:
        raise _Failed("a rolling window's qualification changes by day")
    a.put(root, "qualification", _make(Qualification, {
        "period": period, "value": value, "previous": q.previous if q is not None else 0, "days": days}))


def _tier(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    old, new = _opt_str(c, "from"), _opt_str(c, "to")
    if root["tier"] != old:
        raise _Failed(f"the tier is {root['tier']!r}, not {old!r}")
    a.put(root, "tier", new)


def _usage(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    campaign, period = _str(c, "campaign"), _str(c, "period")
    a.nested_count(root, "usage", campaign, period, _int(c, "delta"), f"the usage of {campaign!r} in {period}")


def _receipt(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    receipts = root["receipts"] + _int(c, "delta")
    if receipts < 0:
        raise _Failed(f"the purchase count would be {receipts}")
    a.put(root, "receipts", receipts)


def _referral(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    rewarded = c.get("rewarded")
    if type(rewarded) is not bool:
        raise _Failed("rewarded must be true or false")
    ref: ReferralState | None = root["referral"]
    if ref is None:
        raise _Failed("the customer was not referred")
    if ref.rewarded == rewarded:
        raise _Failed(f"the referral is {'rewarded' if rewarded else 'not rewarded'} already")
    a.put(root, "referral", _make(ReferralState, {"referred_by": ref.referred_by, "rewarded": rewarded}))


def _returned(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    receipt = _str(c, "receipt")
    lines = c.get("lines")
    if not isinstance(lines, list):
        raise _Failed("lines must be an array of [line_no, thousandths]")
    for pair in lines:
        if (not isinstance(pair, list | tuple) or len(pair) != 2 or type(pair[0]) is not int or pair[0] < 1
                or type(pair[1]) is not int):
            raise _Failed(f"a returned line is [line_no, thousandths], got {_show(pair)}")
        a.nested_count(root, "returns", receipt, str(pair[0]), pair[1],
                       f"the returned quantity of {receipt} line {pair[0]}")


def _applied(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    """Remember a receipt's or a return's id (``at``: its time); an id remembered already is refused
    (LOY510), so one outcome is never applied twice. Past ``MAX_APPLIED_IDS`` the oldest are forgotten."""
    key, at = _str(c, "id"), _time(c, "at")
    assert at is not None
    held: dict[str, int] = root["applied"]
    if key in held:
        raise _Failed(f"{key} was applied to customer {root['id']} already (at {iso(held[key])}); "
                      "applying it again would count it twice", "LOY510")
    a.put(root, "applied", _remember(held, key, at))


def _remember(held: dict[str, int], key: str, at: int) -> dict[str, int]:
    """``held`` with ``key`` added, less the oldest past the bound."""
    newest = next(reversed(held), None)
    if newest is None or (at, key) > (held[newest], newest):
        out = {**held, key: at}  # the usual case: the newest
    else:
        out = _by_time({**held, key: at})
    while len(out) > MAX_APPLIED_IDS:
        del out[next(iter(out))]
    return out


def _unapplied(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    """The inverse of ``applied``: forget the id and remember again the ids it made forget (``dropped``,
    ``[[id, at], ...]``)."""
    key = _str(c, "id")
    held: dict[str, int] = dict(root["applied"])
    dropped = c.get("dropped") or []
    if not isinstance(dropped, list) or not all(isinstance(p, list) and len(p) == 2 and type(p[0]) is str
                                                for p in dropped):
        raise _Failed("dropped must be an array of [id, time]")
    if key not in held and not any(pair[0] == key for pair in dropped):
        raise _Failed(f"{key} is not among the applied ids")
    held.pop(key, None)
    for old, when in dropped:
        if old != key:
            held[old] = _time({"at": when}, "at") or 0
    a.put(root, "applied", _by_time(held))


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
    return _Applier(state, decls, in_place=False).run(changes)


def apply_in_place(state: CustomerState, changes: Sequence[Mapping[str, Any]],
                   decls: StateDecls | None = None) -> None:
    """``apply`` writing into ``state`` itself (for a simulator's own copy, see ``working_copy``),
    still all or nothing. Never use it on a state shared with anyone: its parts may be shared with
    the states ``apply`` made it from."""
    _Applier(state, decls, in_place=True).run(changes)


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


# ---------------------------------------------------------------------------------------- advance


def advance(state: CustomerState, decls: StateDecls, now_utc: int, zone: ZoneInfo | Callable[[int], int]
            ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What time passing up to ``now_utc`` does, as (changes, events); ``zone`` is the programme's
    zone or a ``utc -> local date ordinal`` function. Idempotent: after applying the changes, the
    same call gives no changes (notices, being events, come again; hosts dedupe them by account and
    date).

    * lots past ``expires`` with points left: ``take`` reason ``expire`` (+ ``points_expired`` per
      account); lots expiring within the account's ``notify``: ``points_expiring`` per account and
      last local date they can be spent;
    * counters holding a count of an ended period, chips after their promotion: back to 0 (a
      ``counter`` change of minus the value *in the period it was counted in*, reason ``reset`` or
      ``burn``; a counter at 0 is absent and starts afresh in any period);
    * coupons past ``valid_to``: ``coupon_expire``; certificates past ``expires`` with a balance:
      ``certificate`` of minus the balance, reason ``expire``;
    * tiers, calendar period: when the record's period has ended, a review: the qualification moves
      to the current period (``previous`` = the value of the period just ended, 0 if the record is
      older) and the tier becomes the highest level reached by that value (``tier`` reason
      ``review`` + ``tier_changed``); rolling window: days that left the window are dropped and the
      tier comes down to the level the rest reaches. A customer without a qualification record
      has nothing to review.
    """
    local = local_date(zone) if isinstance(zone, ZoneInfo) else zone
    today = local(now_utc)
    index = _index(decls)
    changes: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    places: list[tuple[bool, dict[str, AccountState]]] = [(False, state.accounts)]
    if state.shared is not None:
        places.append((True, state.shared.accounts))
    for shared, accounts in places:
        for name in sorted(accounts):
            decl = index.accounts.get(name)
            notify = decl.notify if decl is not None else 0
            expired = 0
            soon: dict[int, int] = {}
            for lot in accounts[name].lots:
                if not lot.left or lot.expires is None:
                    continue
                if lot.expires <= now_utc:
                    changes.append({"op": "take", "account": name, "lot": lot.id, "points": lot.left,
                                    "reason": "expire", "shared": shared})
                    expired += lot.left
                elif notify and lot.expires - now_utc <= notify:
                    last_day = local(lot.expires - 1)
                    soon[last_day] = soon.get(last_day, 0) + lot.left
            if expired:
                events.append({"event": "points_expired", "account": name, "points": expired, "shared": shared})
            for day in sorted(soon):
                events.append({"event": "points_expiring", "account": name, "points": soon[day],
                               "date": dt.date.fromordinal(day).isoformat(), "shared": shared})
    keys: dict[str, str] = {}
    for name in sorted(state.counters):
        counter = state.counters[name]
        cdecl = index.counters.get(name)
        if cdecl is None:
            continue  # not the programme's (any more): left alone, never read
        if cdecl.valid is not None and today > cdecl.valid[1]:
            reason = "burn"
        else:
            key = keys.get(cdecl.reset)
            if key is None:
                key = keys[cdecl.reset] = period_key(today, cdecl.reset)
            if counter.period == key:
                continue
            reason = "reset"
        changes.append({"op": "counter", "name": name, "delta": -counter.value, "period": counter.period,
                        "reason": reason})
    for coupon in state.coupons:
        if coupon.valid_to is not None and coupon.valid_to <= now_utc:
            changes.append({"op": "coupon_expire", "code": coupon.code, "series": coupon.series})
    for cert in state.certificates:
        if cert.balance and cert.expires is not None and cert.expires <= now_utc:
            changes.append({"op": "certificate", "code": cert.code, "delta": -cert.balance, "reason": "expire"})
    if decls.tiers is not None and decls.tiers.levels and state.qualification is not None:
        _review(state, decls, index, today, changes, events)
    return changes, events


def _review(state: CustomerState, decls: StateDecls, index: _Index, today: int, changes: list[dict[str, Any]],
            events: list[dict[str, Any]]) -> None:
    tiers = decls.tiers
    q = state.qualification
    assert tiers is not None and q is not None and index.entry is not None
    kind = tiers.period.kind
    current = index.position.get(state.tier) if state.tier is not None else 0
    if kind == "rolling":
        if q.period != "rolling":  # the programme moved to a rolling window: start one
            changes.append({"op": "qualify", "period": "rolling", "delta": 0, "previous": 0, "from": _record(q)})
            value = 0
        else:
            first = today - (tiers.period.days or 0) + 1
            value = q.value
            for day, amount in q.days:
                if day < first:
                    changes.append({"op": "qualify", "period": "rolling", "delta": -amount, "day": day,
                                    "reason": "window"})
                    value -= amount
        level = level_for(decls, value)
        assert level is not None
        if current is not None and index.position[level.name] >= current:
            return
    else:
        key = period_key(today, kind)
        if q.period == key:
            return
        before = period_key(period_start(today, kind) - 1, kind)
        finished = q.value if q.period == before else 0
        changes.append({"op": "qualify", "period": key, "delta": 0, "previous": finished, "from": _record(q),
                        "reason": "review"})
        level = level_for(decls, finished)
        assert level is not None
        if state.tier == level.name or (state.tier is None and level is index.entry):
            return
    changes.append({"op": "tier", "from": state.tier, "to": level.name, "reason": "review"})
    events.append({"event": "tier_changed", "from": state.tier, "to": level.name, "reason": "review"})


# -------------------------------------------------------------------------------- shared accounts


def create_shared(state: CustomerState, shared_id: str) -> CustomerState:
    """Make the customer the owner of a new shared account (with every right)."""
    if state.shared is not None:
        raise StateError(f"customer {state.id} belongs to shared account {state.shared.id} already", "shared")
    owner = Member(accrue=True, redeem=True, redeem_limit=None)
    return state.model_copy(update={"shared": SharedAccount(id=shared_id, owner=state.id, members={state.id: owner})})


def add_member(state: CustomerState, actor_id: str, member_id: str, rights: Member | Mapping[str, Any]
               ) -> CustomerState:
    """The owner's state with ``member_id`` added to its shared account; anyone else is refused."""
    shared = _owned_shared(state, actor_id, "add members")
    if member_id in shared.members:
        raise StateError(f"{member_id} is a member of shared account {shared.id} already", "shared.members")
    return _with_members(state, shared, {**shared.members, member_id: _rights(rights)})


def remove_member(state: CustomerState, actor_id: str, member_id: str) -> CustomerState:
    """The owner's state without ``member_id`` (the owner cannot remove themselves)."""
    shared = _owned_shared(state, actor_id, "remove members")
    if member_id not in shared.members:
        raise StateError(f"{member_id} is not a member of shared account {shared.id}", "shared.members")
    if member_id == shared.owner:
        raise StateError(f"the owner {member_id} cannot leave shared account {shared.id}", "shared.members")
    return _with_members(state, shared, {k: v for k, v in shared.members.items() if k != member_id})


def set_rights(state: CustomerState, actor_id: str, member_id: str, rights: Member | Mapping[str, Any]
               ) -> CustomerState:
    """The owner's state with a member's rights replaced."""
    shared = _owned_shared(state, actor_id, "change rights")
    if member_id not in shared.members:
        raise StateError(f"{member_id} is not a member of shared account {shared.id}", "shared.members")
    return _with_members(state, shared, {**shared.members, member_id: _rights(rights)})


def _owned_shared(state: CustomerState, actor_id: str, what: str) -> SharedAccount:
    shared = state.shared
    if shared is None:
        raise StateError(f"customer {state.id} has no shared account", "shared")
    if actor_id != shared.owner or state.id != shared.owner:
        raise StateError(f"only the owner {shared.owner} may {what} of shared account {shared.id}, "
                         f"not {actor_id}", "shared.owner")
    return shared


def _rights(rights: Member | Mapping[str, Any]) -> Member:
    if isinstance(rights, Member):
        return rights
    try:
        return Member.model_validate(dict(rights))
    except (ValidationError, TypeError, ValueError) as exc:
        detail = _message(exc.errors()[0]) if isinstance(exc, ValidationError) else str(exc)
        raise StateError(f"rights are {{accrue, redeem, redeem_limit}}: {detail}", "rights") from None


def _with_members(state: CustomerState, shared: SharedAccount, members: dict[str, Member]) -> CustomerState:
    return state.model_copy(update={"shared": shared.model_copy(update={"members": members})})
