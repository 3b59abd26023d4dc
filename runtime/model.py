"""What the engine reads and returns: receipts and lines (plain slotted classes, validated once at the
edge and cheap to read on the hot path), what bytecode reads about the customer, and the
outcome (immutable named tuples, with ``to_dict()`` giving plain JSON). The customer record itself is
``state.CustomerState`` (``runtime.Customer`` is the same class); the state package imports this
module, never the other way round.

Units: money in integer minor units, quantities in integer thousandths (0.768 kg -> 768).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, NamedTuple, TypeVar, overload

import msgspec
from msgspec import Meta, Struct

from . import jsonio
from .commerce import KINDS, LINE_KIND, NEGATIVE_KINDS, PRICES, RECEIPT_TAX, TAX_RATE, Mix
from .errors import ReceiptError, RefundError
from .limits import (
    MAX_CATEGORY_LEVELS,
    MAX_DATE,
    MAX_INT_DIGITS,
    MAX_LINE_ATTRS,
    MAX_PRESENTED,
    MAX_QTY,
    MAX_RECEIPT_BYTES,
    MAX_RECEIPT_LINES,
    MAX_TEXT_CHARS,
    MAX_VALUE,
    MIN_DATE,
)

LIMIT = "LOY504"  # a receipt exceeds a limit of runtime/limits.py
MISMATCH = "LOY505"  # a line's amount is not unit_price x qty within the tolerance
FIRST_UTC = MIN_DATE.toordinal() * 86400  # utc_seconds of MIN_DATE 00:00 UTC
LAST_UTC = MAX_DATE.toordinal() * 86400 + 86399  # ... and of MAX_DATE 23:59:59 UTC
_surrogate = re.compile("[\ud800-\udfff]").search  # a lone surrogate: not text, cannot be written as UTF-8


class _NoAttrs(dict[str, str]):
    """The attributes of every line that has none: one empty dict that all such lines share and that
    refuses writes (a caller filling one line's would fill every line's). A ``dict`` subclass, so msgspec
    takes it as the plain line's default as it is, where a ``{}`` default is a new dict for every line
    (~240 instructions a line, made and freed)."""

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("a line without attrs shares its empty attrs with every such line: they cannot be written")

    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> str:  # pickled and copied as the one object it is
        return "_NO_ATTRS"


_NO_ATTRS: dict[str, str] = _NoAttrs()
_NO_COUNTS: Mapping[str, int] = MappingProxyType({})
_NO_TEXTS: Mapping[str, str] = MappingProxyType({})  # docs/segments.md: no profile texts
_MISSING: Any = object()
_new_object = object.__new__

# ------------------------------------------------------------------------------------------ lines


# The receipt's JSON schema as types: msgspec checks a receipt against them in C (types, ranges,
# lengths), ten times faster than Python can; what types cannot say (qty as exact thousandths,
# amounts against unit_price × qty, lone surrogates, category levels, line_no order) is checked by
# ``_fast`` in one short loop, or by ``_plain``, shorter still, for the receipt most tills send (whose
# types refuse the optional fields it would otherwise check). Anything they refuse goes through the
# careful path, which says exactly what is wrong (``Receipt.from_dict``).
_Count = Annotated[int, Meta(ge=1, le=MAX_VALUE)]
_Minor = Annotated[int, Meta(ge=0, le=MAX_VALUE)]
_Text = Annotated[str, Meta(max_length=MAX_TEXT_CHARS)]
_Name = Annotated[str, Meta(min_length=1, max_length=MAX_TEXT_CHARS)]
if TYPE_CHECKING:
    _Qty = int  # what the decoder leaves in ``Line.qty``: exact thousandths
else:  # what receipt JSON may write: whole or decimal units
    _Qty = Annotated[int, Meta(gt=0, le=MAX_QTY)] | Annotated[float, Meta(gt=0, le=MAX_QTY)]
_Attrs = Annotated[dict[_Text, _Text], Meta(max_length=MAX_LINE_ATTRS)]
if TYPE_CHECKING:
    _Kind = str
    _Rate = int  # ppm once decoded
else:  # runtime/commerce.py's KINDS; a percentage, at most 4 decimals
    _Kind = Literal["goods", "service", "delivery", "deposit", "correction"]
    _Rate = Annotated[int, Meta(ge=0, le=100)] | Annotated[float, Meta(ge=0, le=100)]


class Line(Struct, gc=False, eq=False, rename={"price": "unit_price"}):
    """One receipt line. ``qty`` is in thousandths, ``floor`` the least the line may cost (⌈min_price ×
    qty⌉, else 0), ``index`` the position in the receipt; ``units``, the whole units (⌊qty⌋), is computed
    where it is read (a property: few read it, and a decoder's write into a msgspec struct costs more than
    the reads).

    The fields up to ``attrs`` are the line's JSON (``price`` is ``unit_price``); ``floor`` and ``index``
    are derived, always set by the receipt's decoder whatever the JSON says (make lines with ``Line.of``)."""

    line_no: _Count
    sku: _Name
    category: _Text
    qty: _Qty
    price: _Minor
    amount: _Minor
    brand: _Text | None = ""
    min_price: _Minor | None = None
    attrs: _Attrs | None = None
    floor: int = 0
    index: int = 0
    kind: _Kind | None = None  # docs/commerce.md: goods (None once decoded) | service | delivery | deposit | ...
    tax_rate: _Rate | None = None  # a percentage in JSON, ppm once decoded (by the careful path)

    @classmethod
    def of(cls, line_no: int, sku: str, category: str, qty: int, price: int, amount: int, brand: str = "",
           min_price: int | None = None, attrs: dict[str, str] | None = None, kind: str | None = None,
           tax_rate: int | None = None) -> Line:
        """A line from checked values, ``qty`` in thousandths, with its derived fields (``tax_rate`` in
        ppm, ``kind`` None for goods)."""
        floor = 0 if min_price is None else -(-min_price * qty // 1000)
        return cls(line_no, sku, category, qty, price, amount, brand, min_price,
                   _NO_ATTRS if attrs is None else attrs, floor, 0, kind, tax_rate)

    @property
    def units(self) -> int:
        """The whole units, ⌊qty⌋."""
        return self.qty // 1000

    def __repr__(self) -> str:
        return f"Line({self.line_no}, {self.sku!r}, qty={self.qty}, price={self.price}, amount={self.amount})"


class _ReceiptIn(Struct, gc=False):
    """A receipt's JSON as types (the state fields are checked by the careful path's functions)."""

    receipt_id: _Text
    store_id: _Text
    datetime: str
    lines: Annotated[list[Line], Meta(min_length=1, max_length=MAX_RECEIPT_LINES)]
    customer_id: _Text | None = None
    channel: _Text | None = None
    currency: _Text | None = None
    coupons: Any = None
    redeem: Any = None
    certificates: Any = None
    rewards: Any = None  # catalogue rewards chosen (docs/rewards.md)
    tax: Any = None  # docs/commerce.md: "included" | "excluded"


_convert = msgspec.convert
_LONGEST = 10**MAX_INT_DIGITS  # jsonio refuses an integer of more digits (LOY501) anywhere in a text


def _digits_ok(receipt: _ReceiptIn) -> bool:
    """Whether the integers of ``redeem`` and ``certificates`` (typed ``int``, which msgspec reads at any
    size and cannot bound past 64 bits) have digits jsonio reads; else the careful path says LOY501."""
    redeem, certificates = receipt.redeem, receipt.certificates
    if redeem is None and certificates is None:
        return True
    values = [*(redeem or {}).values(), *(v for c in certificates or () for v in c.values())]
    return all(type(v) is not int or -_LONGEST < v < _LONGEST for v in values)
class _LineText(Line, forbid_unknown_fields=True):
    """A line of receipt JSON text read by the schema: no field beyond the schema's, since jsonio's
    limits (digits, depth) hold for all of a text, which the schema cannot check in fields it skips."""


class _ReceiptText(_ReceiptIn, forbid_unknown_fields=True):
    lines: Annotated[list[_LineText], Meta(min_length=1, max_length=MAX_RECEIPT_LINES)]  # type: ignore[assignment]  # lines of the strict kind
    coupons: list[str] | None = None  # typed: an Any field would take any value, unchecked by jsonio's limits
    redeem: dict[str, int | str] | None = None  # integers of any size: see ``_digits_ok``
    certificates: list[dict[str, str | int]] | None = None
    rewards: list[str] | None = None
    tax: Literal["included", "excluded"] | None = None


if TYPE_CHECKING:
    _Zero = int
else:
    _Zero = Literal[0]


class _LinePlain(Line):
    """The line most tills write: its types refuse what ``_plain`` then need not check (a null brand,
    ``min_price``, ``kind``, ``tax_rate``, a ``floor``); a receipt with any of them takes ``_fast``."""

    brand: _Text = ""
    min_price: None = None
    attrs: _Attrs | None = _NO_ATTRS  # absent: the shared empty attrs, so no write (see ``_NoAttrs``)
    floor: _Zero = 0
    kind: None = None
    tax_rate: None = None


class _LinePlainText(_LinePlain, forbid_unknown_fields=True):
    """``_LinePlain`` in JSON text: no field beyond the schema's (see ``_LineText``)."""


class _ReceiptPlain(_ReceiptIn):
    """The receipt most tills send: plain lines and no ``tax`` (``_plain`` reads it)."""

    lines: Annotated[tuple[_LinePlain, ...], Meta(min_length=1, max_length=MAX_RECEIPT_LINES)]  # type: ignore[assignment]  # plain lines, the receipt's tuple
    tax: None = None


class _ReceiptPlainText(_ReceiptText):
    """``_ReceiptPlain`` in JSON text."""

    lines: Annotated[tuple[_LinePlainText, ...], Meta(min_length=1, max_length=MAX_RECEIPT_LINES)]  # type: ignore[assignment]  # plain lines, the receipt's tuple
    tax: None = None


_decode_json = msgspec.json.Decoder(_ReceiptText).decode
_decode_plain = msgspec.json.Decoder(_ReceiptPlainText).decode
_REFUSED = (msgspec.ValidationError, msgspec.DecodeError, ValueError, OverflowError, TypeError)


class Receipt:
    """A validated receipt. Lines keep the given order; ``ordered`` says whether that order is also
    ascending ``line_no`` (the tie-breaker of every mechanic), so the engine can skip re-sorting.
    ``utc`` is the time as seconds since 0001-01-01 UTC; ``floors`` whether any line has a min_price.

    The state fields (docs/state.md, "Receipt additions"): ``coupons`` presented (codes),
    ``redeem`` (points to pay with, ``"max"``, or None), ``certificates`` presented as (code, amount
    or None for "as much as needed"); ``stateful`` says whether any of them is there."""

    __slots__ = ("certificates", "channel", "coupons", "currency", "customer_id", "datetime", "floors", "lines",
                 "mix", "ordered", "receipt_id", "redeem", "rewards", "stateful", "store", "total", "units", "utc")

    def __init__(
        self,
        receipt_id: str,
        customer_id: str | None,
        datetime: dt.datetime,
        store: str,
        lines: list[Line] | tuple[Line, ...],
        channel: str = "pos",
        currency: str | None = None,
        coupons: Sequence[str] = (),
        redeem: int | str | None = None,
        certificates: Sequence[tuple[str, int | None]] = (),
        rewards: Sequence[str] = (),
        tax: str | None = None,
    ) -> None:
        self.receipt_id = receipt_id
        self.customer_id = customer_id
        self.datetime = datetime
        self.utc = utc_seconds(datetime)
        self.store = store
        self.channel = channel
        self.currency = currency
        self.coupons = tuple(coupons)
        self.redeem = redeem
        self.certificates = tuple(certificates)
        self.rewards = tuple(rewards)  # catalogue rewards chosen (docs/rewards.md)
        self.stateful = bool(self.coupons or self.certificates or self.rewards) or redeem is not None
        self.lines = tuple(lines)
        self.total = self.units = 0
        self.ordered = True
        self.floors = False
        previous = 0
        for index, line in enumerate(self.lines):
            line.index = index
            self.total += line.amount
            self.units += line.qty
            self.floors = self.floors or line.floor > 0
            self.ordered = self.ordered and line.line_no > previous
            previous = line.line_no
        self.mix = _mix(self.lines, tax)

    @classmethod
    def from_dict(cls, data: Any, *, text: bool = False) -> Receipt:
        """Validate receipt JSON (MECHANICS.md's schema plus optional channel, currency, min_price,
        attrs) under the limits of ``runtime/limits.py``; any problem raises ``ReceiptError`` naming
        the place: LOY501 malformed, LOY504 a limit exceeded, LOY505 an amount that is not
        unit_price × qty (docs/bundle.md, "Receipt").

        The schema's types check a receipt in C: first the plain receipt's (``_plain``), then all of
        the schema's (``_fast``); one they refuse, or that fails the checks they cannot make, goes
        through ``careful``, which accepts exactly the same receipts and says what is wrong with the
        others (tests/fuzz/test_fuzz_decode.py and tests/runtime/test_rt_decode_paths.py prove all
        three agree).

        ``text``: a promise that every string of ``data`` was decoded from JSON text by a decoder that
        refuses lone surrogates (msgspec's JSON decoder), as the simulator's direct reader makes its
        receipts; the types' paths then skip the search for them, as ``from_json`` does. ``careful``
        still checks them when the types' paths refuse the receipt. A dict from anywhere else (a
        caller's own, ``json.loads``'s, which reads ``"\\ud800"`` as a lone surrogate) takes the default."""
        if type(data) is dict:
            try:
                plain = _convert(data, _ReceiptPlain)
            except _REFUSED:
                try:
                    return _fast(_convert(data, _ReceiptIn), text)
                except _REFUSED:
                    pass
            else:
                try:
                    return _plain(plain, text)
                except _REFUSED:
                    pass
        return cls.careful(data)

    @classmethod
    def from_json(cls, data: bytes) -> Receipt:
        """``from_dict`` of receipt JSON text, decoded straight into the schema's types; text that
        they refuse is read by ``jsonio.load`` under its limits and goes through ``careful``. Errors
        are ``LoyaError`` LOY501 (unreadable JSON), else as ``from_dict``. The decoder refuses a lone
        surrogate (``\\ud800``) and bytes that are not UTF-8, so text needs no check for them."""
        if len(data) <= MAX_RECEIPT_BYTES:
            try:
                plain = _decode_plain(data)
            except _REFUSED:
                try:
                    decoded = _decode_json(data)
                    if _digits_ok(decoded):
                        return _fast(decoded, True)
                except _REFUSED:
                    pass
            else:
                try:
                    if (plain.redeem is None and plain.certificates is None) or _digits_ok(plain):
                        return _plain(plain, True)
                except _REFUSED:
                    pass
        return cls.careful(jsonio.load(data, code="LOY501", what="the receipt", max_bytes=MAX_RECEIPT_BYTES,
                                       floats=True))

    @classmethod
    def careful(cls, data: Any) -> Receipt:
        """``from_dict`` in Python, field by field: lines are checked by one test each; only a line
        that fails it goes through the check that says what is wrong (``_line``, which refuses
        exactly what the one test does not pass)."""
        if type(data) is not dict:
            raise ReceiptError(f"a receipt is a JSON object, got {_show(data)}")
        get = data.get
        receipt_id, customer_id, store = get("receipt_id", _MISSING), get("customer_id"), get("store_id", _MISSING)
        if not (type(receipt_id) is str and type(store) is str and (customer_id is None or type(customer_id) is str)
                and len(ids := receipt_id + store + (customer_id or "")) <= MAX_TEXT_CHARS
                and (ids.isascii() or not _surrogate(ids))):  # else say which one is wrong
            _text(receipt_id, "receipt_id")
            if customer_id is not None:
                _text(customer_id, "customer_id", "a string or null")
            _text(store, "store_id")
        channel = get("channel")
        channel = "pos" if channel is None else _text(channel, "channel")
        currency = get("currency")
        if currency is not None:
            currency = _text(currency, "currency")
        when = _parse_datetime(get("datetime", _MISSING), "datetime")
        utc = utc_seconds(when)
        if not FIRST_UTC <= utc <= LAST_UTC:
            raise ReceiptError(f"{when.isoformat()} is out of range ({MIN_DATE}..{MAX_DATE} UTC)", "datetime", LIMIT)
        raw_lines = get("lines", _MISSING)
        if type(raw_lines) is not list or not raw_lines:
            raise _expected("lines", "a non-empty array of lines", raw_lines)
        if len(raw_lines) > MAX_RECEIPT_LINES:
            raise ReceiptError(f"{len(raw_lines):,} lines (at most {MAX_RECEIPT_LINES:,})", "lines", LIMIT)

        lines: list[Line] = []
        append = lines.append
        total = units = previous = 0
        ordered = True
        floors = False
        new = object.__new__
        most, texts, categories = MAX_VALUE, MAX_TEXT_CHARS, _CATEGORIES
        for i, d in enumerate(raw_lines):
            try:
                line_no, sku, category = d["line_no"], d["sku"], d["category"]
                qty, price, amount = d["qty"], d["unit_price"], d["amount"]
                brand = d.get("brand", "")
                plain = len(d) == 7 - (brand == "")  # the six required fields and a brand: nothing optional
            except (KeyError, TypeError, AttributeError):
                _line(d, i)  # raises the precise error
                raise ReceiptError("malformed line", f"lines[{i}]") from None  # pragma: no cover
            kind = type(qty)
            if kind is int and 0 < qty <= MAX_QTY:
                qty *= 1000
            elif kind is float and 0 < qty <= MAX_QTY and round(qty * 1000) / 1000 == qty:  # see _thousandths
                qty = round(qty * 1000)
            else:
                plain = False
            if (plain and type(line_no) is int and 0 < line_no <= most
                    and type(sku) is str and type(category) is str and type(brand) is str
                    and 0 < len(sku) <= texts and len(brand) <= texts
                    and (sku.isascii() or not _surrogate(sku)) and (brand.isascii() or not _surrogate(brand))
                    and (category in categories or _category_ok(category))
                    and type(price) is int and 0 <= price <= most and type(amount) is int and 0 <= amount <= most
                    and (amount * 1000 == price * qty or _close(amount, price, qty))):
                line = Line(line_no, sku, category, qty, price, amount, brand, None, _NO_ATTRS, 0, i)
            else:  # something to say, or optional fields to check: the careful path
                line = _line(d, i)
                line.index = i
                amount, qty, line_no = line.amount, line.qty, line.line_no
                floors = floors or line.floor > 0
            append(line)
            total += amount
            units += qty
            if line_no <= previous:
                ordered = False
            previous = line_no
        if not -MAX_VALUE <= total <= MAX_VALUE:
            raise ReceiptError(f"the amounts add up to {total}, more than {MAX_VALUE}", "lines", LIMIT)
        if not ordered and len({line.line_no for line in lines}) != len(lines):
            seen: set[int] = set()
            for i, line in enumerate(lines):
                if line.line_no in seen:
                    raise ReceiptError(f"line_no {line.line_no} appears twice", f"lines[{i}].line_no")
                seen.add(line.line_no)
        receipt = new(cls)
        receipt.receipt_id, receipt.customer_id, receipt.store = receipt_id, customer_id or None, store
        receipt.channel, receipt.currency, receipt.datetime, receipt.utc = channel, currency, when, utc
        receipt.lines, receipt.total, receipt.units = tuple(lines), total, units
        receipt.ordered, receipt.floors = ordered, floors
        _present(receipt, get("coupons"), get("redeem"), get("certificates"), get("rewards"))
        tax = get("tax")
        if tax is not None and tax not in PRICES:
            raise ReceiptError(f'expected "included" or "excluded", got {_show(tax)}', "tax", RECEIPT_TAX)
        receipt.mix = _mix(receipt.lines, tax)
        return receipt


def _fast(data: _ReceiptIn, text: bool) -> Receipt:
    """A receipt whose JSON the schema's types accepted, if it passes what they cannot check: exact
    thousandths, amounts, text, categories, the datetime, the order and uniqueness of line_no. Raises
    ``ValueError`` (no message: ``careful`` will say what is wrong) for anything else. ``text``: read
    from JSON text, which holds no lone surrogate."""
    lines = data.lines
    total = units = previous = 0
    ordered = True
    floors = False
    categories = _CATEGORIES
    for index, line in enumerate(lines):
        qty = line.qty
        if type(qty) is int:
            qty *= 1000
        else:
            qty = round(qty * 1000)
            if qty / 1000 != line.qty:
                raise ValueError
        line.qty = qty
        line.index = index
        amount = line.amount
        if amount * 1000 != line.price * qty and not _close(amount, line.price, qty):
            raise ValueError
        sku, brand, category = line.sku, line.brand, line.category
        if not ((category in categories or _category_ok(category)) and (sku.isascii() or not _surrogate(sku))):
            raise ValueError
        if brand is None:
            line.brand = ""
        elif not brand.isascii() and _surrogate(brand):
            raise ValueError
        if line.attrs is None:
            line.attrs = _NO_ATTRS
        elif not _attrs_ok(line.attrs):
            raise ValueError
        if line.kind is not None or line.tax_rate is not None:  # docs/commerce.md: the careful path reads them
            raise ValueError
        if line.min_price is None:
            line.floor = 0
        else:
            line.floor = -(-line.min_price * qty // 1000)
            floors = floors or line.floor > 0
        total += amount
        units += qty
        if line.line_no <= previous:
            ordered = False
        previous = line.line_no
    if data.tax is not None:
        raise ValueError
    return _finish(data, total, units, ordered, floors, text)


def _plain(data: _ReceiptPlain | _ReceiptPlainText, text: bool) -> Receipt:
    """``_fast`` of a receipt of plain lines (``_LinePlain``: no min_price, kind or tax_rate, a brand
    that is a string), so fewer checks: the same receipts pass, with the same fields."""
    lines = data.lines
    total = units = previous = 0
    ordered = True
    categories = _CATEGORIES
    for index, line in enumerate(lines):
        qty, amount = line.qty, line.amount
        if type(qty) is int:  # whole units: the amount is exact at once, else within the tolerance
            if amount != line.price * qty and not _close(amount, line.price, qty * 1000):
                raise ValueError
            qty *= 1000
        else:
            thousandths = round(qty * 1000)
            if thousandths / 1000 != qty:
                raise ValueError
            qty = thousandths
            if amount * 1000 != line.price * qty and not _close(amount, line.price, qty):
                raise ValueError
        line.qty = qty
        line.index = index
        if line.category not in categories and not _category_ok(line.category):
            raise ValueError
        if text:  # no lone surrogate in text: attrs absent or null is all there is to see
            if line.attrs is None:  # null in JSON (absent is the shared empty attrs)
                line.attrs = _NO_ATTRS
        else:
            attrs = line.attrs
            if attrs is None:
                line.attrs = _NO_ATTRS
            elif attrs and not _attrs_ok(attrs):
                raise ValueError
            sku, brand = line.sku, line.brand
            if not (sku.isascii() and brand.isascii()) and (_surrogate(sku) or _surrogate(brand)):
                raise ValueError
        total += amount
        units += qty
        line_no = line.line_no
        if line_no <= previous:
            ordered = False
        previous = line_no
    return _finish(data, total, units, ordered, False, text)


def _finish(data: _ReceiptIn, total: int, units: int, ordered: bool, floors: bool, text: bool) -> Receipt:
    """The receipt of ``_fast`` or ``_plain`` once its lines are checked: the total, line_no met once,
    the header's text, the datetime and the state fields."""
    lines = data.lines
    if total > MAX_VALUE or (not ordered and len({line.line_no for line in lines}) != len(lines)):
        raise ValueError
    receipt = _new_object(Receipt)
    receipt.receipt_id = receipt_id = data.receipt_id
    receipt.store = store = data.store_id
    customer_id = data.customer_id
    receipt.customer_id = customer_id or None  # "": no card
    channel = data.channel
    receipt.channel = "pos" if channel is None else channel
    receipt.currency = currency = data.currency
    if not text:
        ids = receipt_id + store + (customer_id or "") + (channel or "") + (currency or "")
        if not ids.isascii() and _surrogate(ids):
            raise ValueError
    receipt.datetime = when = _fromisoformat(data.datetime)
    zone = when.tzinfo  # fromisoformat's zones are fixed offsets: ``utc_seconds`` without its calls
    offset = None if zone is None else zone.utcoffset(None)
    if offset is None:
        raise ValueError
    receipt.utc = utc = ((when.toordinal() - offset.days) * 86400  # small integers first: one sum past 2^30, not five
                         + (when.hour * 3600 + when.minute * 60 + when.second - offset.seconds))
    if not FIRST_UTC <= utc <= LAST_UTC:
        raise ValueError
    receipt.lines = tuple(lines)
    receipt.total = total
    receipt.units = units
    receipt.ordered = ordered
    receipt.floors = floors
    receipt.mix = None
    if data.coupons is None and data.redeem is None and data.certificates is None and data.rewards is None:
        receipt.coupons = receipt.certificates = receipt.rewards = ()
        receipt.redeem = None
        receipt.stateful = False
    else:
        _present(receipt, data.coupons, data.redeem, data.certificates, data.rewards)
    return receipt


_fromisoformat = dt.datetime.fromisoformat


def _present(receipt: Receipt, coupons: Any, redeem: Any, certificates: Any, rewards: Any = None) -> None:
    """The receipt's state fields (docs/state.md, "Receipt additions"), checked; both paths share it."""
    if coupons is None and redeem is None and certificates is None and rewards is None:
        receipt.coupons, receipt.redeem, receipt.certificates, receipt.stateful = (), None, (), False
        receipt.rewards = ()
        return
    receipt.rewards = _rewards(rewards)
    receipt.coupons = _coupons(coupons)
    receipt.redeem = _redeem(redeem)
    receipt.certificates = _certificates(certificates)
    if len(receipt.coupons) + len(receipt.certificates) > MAX_PRESENTED:
        raise ReceiptError(f"{len(receipt.coupons) + len(receipt.certificates)} coupons and certificates "
                           f"presented (at most {MAX_PRESENTED})", "coupons", LIMIT)
    receipt.stateful = True


def _attrs_ok(attrs: dict[str, str]) -> bool:
    for key, value in attrs.items():  # a loop, not all(...): a line has an attribute or two
        if not (key.isascii() and value.isascii()) and (_surrogate(key) or _surrogate(value)):
            return False
    return True


_CATEGORIES: set[str] = set()  # categories found valid: a small vocabulary, so a line's check is one lookup


def _category_ok(category: str) -> bool:
    """Whether a category passes ``_line``'s checks (length, levels, text); remembered if so, when at
    most 128 characters long and while fewer than 65,536 are (8 MB at most; the rest are checked
    each time)."""
    ok = (len(category) <= MAX_TEXT_CHARS and category.count("/") < MAX_CATEGORY_LEVELS
          and (category.isascii() or not _surrogate(category)))
    if ok and len(category) <= 128 and len(_CATEGORIES) < 65536:
        _CATEGORIES.add(category)
    return ok


def _close(amount: int, price: int, qty: int) -> bool:
    """Whether ``amount`` is ``price`` × ``qty`` (thousandths) give or take the roundings of the amount
    and the unit price: |amount − price × qty| <= 1 + qty / 2 minor units, i.e. ``price`` may be the
    amount per unit rounded to the minor unit (docs/bundle.md, "Receipt"). Exact, in thousandths of a
    minor unit."""
    return -2000 - qty <= 2 * (amount * 1000 - price * qty) <= 2000 + qty


def _rewards(value: Any) -> tuple[str, ...]:
    """The catalogue rewards a receipt chooses (docs/rewards.md): names, at most ``MAX_PRESENTED``."""
    if value is None:
        return ()
    if type(value) is not list:
        raise _expected("rewards", "an array of reward names", value)
    if len(value) > MAX_PRESENTED:
        raise ReceiptError(f"{len(value)} rewards (at most {MAX_PRESENTED})", "rewards", LIMIT)
    for i, name in enumerate(value):
        _text(name, f"rewards[{i}]", "a non-empty string (a reward's name)", empty=False)
    return tuple(value)


def _coupons(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if type(value) is not list:
        raise _expected("coupons", "an array of coupon codes", value)
    if len(value) > MAX_PRESENTED:
        raise ReceiptError(f"{len(value)} coupons (at most {MAX_PRESENTED})", "coupons", LIMIT)
    for i, code in enumerate(value):
        _text(code, f"coupons[{i}]", "a non-empty string (a coupon code)", empty=False)
    return tuple(value)


def _redeem(value: Any) -> int | str | None:
    if value is None:
        return None
    if type(value) is not dict or set(value) != {"points"}:
        raise _expected("redeem", 'an object {"points": N} or {"points": "max"}', value)
    points = value["points"]
    if points == "max" or (type(points) is int and points >= 0):
        if type(points) is int and points > MAX_VALUE:
            raise ReceiptError(f"{_show(points)} is more than {MAX_VALUE}", "redeem.points", LIMIT)
        return points
    raise _expected("redeem.points", 'an integer >= 0 (point minor units) or "max"', points)


def _certificates(value: Any) -> tuple[tuple[str, int | None], ...]:
    if value is None:
        return ()
    if type(value) is not list:
        raise _expected("certificates", "an array of {code, amount?}", value)
    if len(value) > MAX_PRESENTED:
        raise ReceiptError(f"{len(value)} certificates (at most {MAX_PRESENTED})", "certificates", LIMIT)
    out: list[tuple[str, int | None]] = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        where = f"certificates[{i}]"
        if type(item) is not dict:
            raise _expected(where, "an object {code, amount?}", item)
        unknown = sorted(_show(key) for key in set(item) - {"code", "amount"})
        if unknown:
            raise ReceiptError(f"unknown field {unknown[0]} (a certificate has code and amount)", where)
        code = _text(item.get("code", _MISSING), f"{where}.code", "a non-empty string", empty=False)
        amount = item.get("amount")
        if amount is not None and (type(amount) is not int or amount <= 0):
            raise _expected(f"{where}.amount", "an integer > 0 (minor units)", amount)
        if amount is not None and amount > MAX_VALUE:
            raise ReceiptError(f"{_show(amount)} is more than {MAX_VALUE}", f"{where}.amount", LIMIT)
        if code in seen:
            raise ReceiptError(f"certificate {code!r} is presented twice", f"{where}.code")
        seen.add(code)
        out.append((code, amount))
    return tuple(out)


def _text(value: Any, where: str, what: str = "a string", empty: bool = True) -> str:
    """A string field of a receipt: at most MAX_TEXT_CHARS characters of real text (no lone surrogate,
    which no UTF-8 output could write); ``empty=False`` also refuses ""."""
    if type(value) is not str or not (empty or value):
        raise _expected(where, what, value)
    if len(value) > MAX_TEXT_CHARS:
        raise ReceiptError(f"{len(value):,} characters (at most {MAX_TEXT_CHARS:,})", where, LIMIT)
    if not value.isascii() and _surrogate(value):
        raise ReceiptError("contains a lone surrogate (\\ud800-\\udfff), which is not text", where)
    return value


def _whole(value: Any, where: str, what: str, least: int) -> int:
    """An integer field of a line, ``least`` <= value <= MAX_VALUE."""
    if type(value) is not int or value < least:
        raise _expected(where, what, value)
    if value > MAX_VALUE:
        raise ReceiptError(f"{_show(value)} is more than {MAX_VALUE}", where, LIMIT)
    return value


def utc_datetime(seconds: int) -> dt.datetime:
    """The inverse of ``utc_seconds``: an aware UTC datetime."""
    return dt.datetime(1, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=seconds - 86400)


def utc_seconds(when: dt.datetime) -> int:
    """An aware datetime as whole seconds since 0001-01-01 00:00 UTC (integer, no float timestamp)."""
    offset = when.utcoffset()
    if offset is None:
        raise ReceiptError("needs a UTC offset", "datetime")
    return (when.toordinal() * 86400 + when.hour * 3600 + when.minute * 60 + when.second
            - offset.days * 86400 - offset.seconds)


def _line(d: Any, i: int) -> Line:
    """Check a line field by field, saying exactly what is wrong."""
    at = f"lines[{i}]"
    if type(d) is not dict:
        raise ReceiptError(f"a line is a JSON object, got {_show(d)}", at)
    get = d.get
    line_no = _whole(get("line_no", _MISSING), f"{at}.line_no", "an integer >= 1", 1)
    sku = _text(get("sku", _MISSING), f"{at}.sku", "a non-empty string", empty=False)
    category = _text(get("category", _MISSING), f"{at}.category")
    if category.count("/") >= MAX_CATEGORY_LEVELS:
        raise ReceiptError(f"a category path of {category.count('/') + 1} levels (at most {MAX_CATEGORY_LEVELS})",
                           f"{at}.category", LIMIT)
    brand = get("brand")
    brand = "" if brand is None else _text(brand, f"{at}.brand")
    thousandths = _thousandths(get("qty", _MISSING), f"{at}.qty")
    kind, tax_rate = _kind(get("kind"), at), _tax_rate(get("tax_rate"), at)
    least = -MAX_VALUE if kind in NEGATIVE_KINDS else 0
    what = "an integer (minor units)" if least else "an integer >= 0 (minor units)"
    price, amount = get("unit_price", _MISSING), get("amount", _MISSING)
    if least == 0 and kind is not None and ((type(price) is int and price < 0) or (type(amount) is int and amount < 0)):
        raise ReceiptError(f"a negative amount on a {kind} line: only deposit and correction lines may be negative",
                           f"{at}.amount", LINE_KIND)
    price = _whole(price, f"{at}.unit_price", what, least)
    amount = _whole(amount, f"{at}.amount", what, least)
    if not _close(amount, price, thousandths):
        exact = _units(price * thousandths)
        raise ReceiptError(f"{amount} is not unit_price × qty = {price} × {_units(thousandths)} = {exact}, give or "
                           "take the roundings (1 + qty / 2 minor units)", f"{at}.amount", MISMATCH)
    min_price = get("min_price")
    if min_price is not None:
        min_price = _whole(min_price, f"{at}.min_price", "an integer >= 0 (minor units)", 0)
    attrs = get("attrs")
    if attrs is not None:
        if type(attrs) is not dict:
            raise _expected(f"{at}.attrs", "an object of strings", attrs)
        if len(attrs) > MAX_LINE_ATTRS:
            raise ReceiptError(f"{len(attrs)} attrs (at most {MAX_LINE_ATTRS})", f"{at}.attrs", LIMIT)
        for key, value in attrs.items():
            _text(key, f"{at}.attrs", "string keys")
            _text(value, f"{at}.attrs.{key}")
    return Line.of(line_no, sku, category, thousandths, price, amount, brand, min_price, attrs, kind, tax_rate)


def _kind(value: Any, at: str) -> str | None:
    """A line's ``kind`` (docs/commerce.md); goods is None, as when absent."""
    if value is None or value == "goods":
        return None
    if value not in KINDS:
        raise ReceiptError(f"expected one of {', '.join(KINDS)}, got {_show(value)}", f"{at}.kind", LINE_KIND)
    return str(value)


def _tax_rate(value: Any, at: str) -> int | None:
    """A line's ``tax_rate``, a percentage (0..100, at most 4 decimals), as ppm (20 -> 200000)."""
    if value is None:
        return None
    if type(value) is int and 0 <= value <= 100:
        return value * 10_000
    if type(value) is float and math.isfinite(value) and 0 <= value <= 100:
        ppm = round(value * 10_000)
        if ppm / 10_000 == value:
            return ppm
    raise ReceiptError(f"expected a percentage from 0 to 100 with at most 4 decimals, got {_show(value)}",
                       f"{at}.tax_rate", TAX_RATE)


def _mix(lines: Sequence[Line], tax: str | None) -> Mix | None:
    """The receipt's kinds and tax rates (runtime/commerce.py), None when it has neither nor ``tax``."""
    if tax is None and all(line.kind is None and line.tax_rate is None for line in lines):
        return None
    return Mix(tuple(line.kind or "goods" for line in lines), tuple(line.tax_rate for line in lines), tax)


def _units(thousandths: int) -> str:
    """Thousandths as a decimal: 1500 -> "1.5"."""
    whole, frac = divmod(thousandths, 1000)
    return f"{whole}.{frac:03d}".rstrip("0").rstrip(".") if frac else str(whole)


def _thousandths(qty: Any, where: str) -> int:
    """A JSON number of units as exact thousandths: 0.768 -> 768; more decimals are an error.

    A float qualifies iff it is the double nearest to m/1000 for an integer m, i.e. its shortest
    decimal form has at most three decimals; int/int division in Python is correctly rounded, so
    the test is exact.
    """
    kind = type(qty)
    if kind is int:
        if qty <= 0:
            raise ReceiptError(f"must be > 0, got {qty}", where)
        if qty > MAX_QTY:
            raise ReceiptError(f"must be <= {MAX_QTY}, got {qty}", where)
        return qty * 1000
    if kind is not float:
        raise _expected(where, "a number", qty)
    if not math.isfinite(qty):
        raise _expected(where, "a finite number", qty)
    if qty <= 0:
        raise ReceiptError(f"must be > 0, got {qty!r}", where)
    if qty > MAX_QTY:
        raise ReceiptError(f"must be <= {MAX_QTY}, got {qty!r}", where)
    thousandths = round(qty * 1000)
    if thousandths / 1000 != qty:
        raise ReceiptError(f"at most 3 decimals, got {qty!r}", where)
    return thousandths


def _parse_datetime(value: Any, where: str) -> dt.datetime:
    if type(value) is not str:
        raise _expected(where, "an ISO 8601 string with a UTC offset", value)
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _expected(where, "an ISO 8601 date and time", value) from None
    if when.tzinfo is None or when.utcoffset() is None:
        raise ReceiptError(f"needs a UTC offset, e.g. {value}+03:00", where)
    return when


def _show(value: Any) -> str:
    """A short, printable form of a value for a message: at most 40 characters, a lone surrogate
    escaped, a huge integer by its size (``str`` of one past 4,300 digits raises)."""
    if value is _MISSING:
        return "nothing (missing)"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, float):
        text = repr(value)
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**40:
        return "an integer of more than 40 digits"
    elif isinstance(value, str):
        value = value[:40]
        text = json.dumps(value, ensure_ascii=_surrogate(value) is not None)
    elif isinstance(value, int | bool) or value is None:
        text = json.dumps(value)
    else:
        return type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def _expected(where: str, what: str, value: Any) -> ReceiptError:
    if value is _MISSING:
        return ReceiptError(f"required, expected {what}", where)
    return ReceiptError(f"expected {what}, got {_show(value)}", where)


# ---------------------------------------------------------------------------------------- customer


class CustomerView:
    """What bytecode reads about a customer, precomputed once per receipt (segments as a frozen set).

    ``counters`` (counter and chips values of the current period), ``balances`` (active points per
    account) and ``benefits`` (of the customer's tier level) come from ``state.view`` at a moment;
    they are read-only (the empty ones are shared) and read as ``cu.counters.get(name, 0)``.
    """

    __slots__ = ("attrs", "balances", "benefits", "counters", "id", "known", "metrics", "profile", "receipts",
                 "segments", "tier")

    def __init__(self, known: bool, id: str, tier: str, segments: frozenset[str], attrs: dict[str, str],
                 counters: Mapping[str, int] = _NO_COUNTS, balances: Mapping[str, int] = _NO_COUNTS,
                 benefits: Mapping[str, int] = _NO_COUNTS, receipts: int = 0,
                 metrics: Mapping[str, int] = _NO_COUNTS, profile: Mapping[str, str] = _NO_TEXTS) -> None:
        self.known = known
        self.id = id
        self.tier = tier
        self.segments = segments
        self.attrs = attrs
        self.counters = counters
        self.balances = balances
        self.benefits = benefits
        self.receipts = receipts
        self.metrics = metrics  # docs/segments.md: METRIC reads (history, profile numbers and flags)
        self.profile = profile  # PROFILE reads (text profile fields)


ANONYMOUS = CustomerView(False, "", "", frozenset(), {})


# ----------------------------------------------------------------------------------------- outcome


# The outcome types are named tuples: immutable, slot-free (``__slots__ = ()``) and about four times
# cheaper to create than frozen dataclasses (0.12 vs 0.5 µs each), which matters with one per line.
# An outcome's lines and effects are kept as plain tuples (``Rows``) and become named tuples when
# read: the collector untracks plain tuples of ints and strings but never a named tuple, so a caller
# holding many outcomes would otherwise make every full collection walk ~10 objects per receipt.

T = TypeVar("T", bound=tuple[Any, ...])


class Rows(Sequence[T], Generic[T]):
    """An immutable sequence of named tuples stored as plain tuples, each made on access; equal to
    (and hashing like) the tuple of those named tuples."""

    __slots__ = ("kind", "rows")

    def __init__(self, kind: type[T], rows: tuple[tuple[Any, ...], ...]) -> None:
        self.kind = kind
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...
    def __getitem__(self, index: int | slice) -> T | tuple[T, ...]:
        if isinstance(index, slice):
            return tuple([_new(self.kind, row) for row in self.rows[index]])
        return _new(self.kind, self.rows[index])

    def __iter__(self) -> Iterator[T]:
        kind = self.kind
        return iter([_new(kind, row) for row in self.rows])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Rows):
            return self.rows == other.rows
        if isinstance(other, tuple):
            return self.rows == other  # a named tuple equals the plain tuple of its fields
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.rows)

    def __repr__(self) -> str:
        return repr(tuple(self))

    def __reduce__(self) -> tuple[Any, ...]:
        return Rows, (self.kind, self.rows)


class LineRows(Rows["LineOutcome"]):
    """An outcome's ``lines``: the ``Rows`` of ``LineOutcome``, kept as the columns the engine has
    (the receipt's lines, amounts, what is left to pay, points or None) until first read, so an outcome
    nobody reads line by line costs no tuple per line."""

    __slots__ = ("columns",)

    def __init__(self, lines: Sequence[Line], amounts: list[int], left: list[int],
                 points: list[int] | Callable[[], list[int] | None] | None) -> None:
        self.kind = LineOutcome
        self.columns: tuple[Sequence[Line], list[int], list[int], list[int] | Callable[[], list[int] | None] | None] \
            | None = (lines, amounts, left, points)

    def __getattr__(self, name: str) -> Any:  # only ``rows`` is ever missing: made once, on first read
        if name != "rows" or self.columns is None:
            raise AttributeError(name)
        lines, amounts, left, points = self.columns
        if callable(points):  # allocated on first read (the engine's deferred points, ``LazyRows``)
            points = points()
        self.rows = tuple([(line.line_no, line.sku, amount, amount - rest, rest, pts) for line, amount, rest, pts
                           in zip(lines, amounts, left, points or (0,) * len(left), strict=True)])
        self.columns = None
        return self.rows


class LazyRows(Rows[T]):
    """``Rows`` whose last rows are made on first read: ``rows`` is ``eager + more()``. The engine
    defers per-line points this way (runtime/engine.py, ``_Eval.points_rows``), so an outcome whose effects
    nobody reads costs no allocation; what is read is what an eager outcome holds."""

    __slots__ = ("columns",)

    def __init__(self, kind: type[T], eager: tuple[tuple[Any, ...], ...],
                 more: Callable[[], tuple[tuple[Any, ...], ...]]) -> None:
        self.kind = kind
        self.columns: tuple[tuple[tuple[Any, ...], ...], Callable[[], tuple[tuple[Any, ...], ...]]] | None = \
            (eager, more)

    def __getattr__(self, name: str) -> Any:  # only ``rows`` is ever missing: made once, on first read
        if name != "rows" or self.columns is None:
            raise AttributeError(name)
        eager, more = self.columns
        self.rows = eager + more()
        self.columns = None
        return self.rows


_new = tuple.__new__


def line_rows(lines: Sequence[Line], amounts: list[int], left: list[int],
              points: list[int] | Callable[[], list[int] | None] | None) -> LineRows:
    """``LineRows(lines, amounts, left, points)`` without the call through the type to its Python
    ``__init__`` (the engine's outcome, once a receipt)."""
    rows = _new_object(LineRows)
    rows.kind = LineOutcome
    rows.columns = (lines, amounts, left, points)
    return rows


def lazy_rows(kind: type[T], eager: tuple[tuple[Any, ...], ...],
              more: Callable[[], tuple[tuple[Any, ...], ...]]) -> LazyRows[T]:
    """``LazyRows(kind, eager, more)``, as ``line_rows``."""
    rows: LazyRows[T] = _new_object(LazyRows)
    rows.kind = kind
    rows.columns = (eager, more)
    return rows


def plain_rows(kind: type[T], eager: tuple[tuple[Any, ...], ...]) -> Rows[T]:
    """``Rows(kind, eager)``, as ``line_rows``."""
    rows: Rows[T] = _new_object(Rows)
    rows.kind = kind
    rows.rows = eager
    return rows


class LineOutcome(NamedTuple):
    line_no: int
    sku: str
    amount: int  # original
    discount: int
    payable: int
    points: int

    def to_dict(self) -> dict[str, Any]:
        return {"line_no": self.line_no, "sku": self.sku, "amount": self.amount, "discount": self.discount,
                "payable": self.payable, "points": self.points}


class Effect(NamedTuple):
    """What one campaign gave, per line in receipt order: ``requested`` by its mechanic (after its own
    limits), ``applied`` after the lines' capping (the same tuple when nothing was capped); ``total``
    is Σapplied, ``capped`` = Σrequested − Σapplied."""

    campaign: str
    group: str
    kind: str  # "discount" | "points"
    requested: tuple[int, ...]
    applied: tuple[int, ...]
    total: int
    capped: int

    def to_dict(self) -> dict[str, Any]:
        return {"campaign": self.campaign, "group": self.group, "kind": self.kind,
                "requested": list(self.requested), "applied": list(self.applied), "total": self.total,
                "capped": self.capped}


class Rejection(NamedTuple):
    campaign: str
    reason: str
    detail: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"campaign": self.campaign, "reason": self.reason, "detail": self.detail}


class Outcome(NamedTuple):
    """What a receipt gets. The last four fields are the customer-state part (docs/state.md): None
    when the evaluation involved no state (a programme without state declarations, a receipt without
    coupons, redemption or certificates, and no ``CustomerState``), and then ``to_dict`` leaves them
    out, so stateless outcomes keep their JSON. ``payment``: how the payable is paid, per line too
    (with each line's quantity, which a return needs); ``coupons``: per presented code, its status;
    ``changes``: what ``state.apply`` makes of the customer; ``events``: notices, not state."""

    receipt_id: str
    currency: str
    total: int
    discount_total: int
    payable: int
    points_total: int
    lines: Sequence[LineOutcome]  # Rows: named tuples made on access
    effects: Sequence[Effect]
    applied: tuple[str, ...]
    rejected: tuple[Rejection, ...]
    trace: tuple[str, ...]
    payment: dict[str, Any] | None = None
    coupons: tuple[dict[str, Any], ...] | None = None
    changes: tuple[dict[str, Any], ...] | None = None
    events: tuple[dict[str, Any], ...] | None = None
    arms: dict[str, str | None] | None = None  # per experiment, the customer's arm (None: anonymous); None without
    hints: tuple[dict[str, Any], ...] | None = None  # what nearly applied campaigns lack (evaluate(hints=True))
    tax: dict[str, Any] | None = None  # per line tax before and after (docs/commerce.md); None without
    flags: tuple[dict[str, Any], ...] | None = None  # anti-fraud flags (runtime/fraud.py); None without limits
    messages: tuple[dict[str, Any], ...] | None = None  # campaigns' till messages (docs/triggers.md); None without

    def to_dict(self) -> dict[str, Any]:
        out = {
            "receipt_id": self.receipt_id,
            "currency": self.currency,
            "total": self.total,
            "discount_total": self.discount_total,
            "payable": self.payable,
            "points_total": self.points_total,
            "lines": _line_dicts(self.lines),
            "effects": _effect_dicts(self.effects),
            "applied": list(self.applied),
            "rejected": [{"campaign": c, "reason": r, "detail": d} for c, r, d in self.rejected],  # Rejection.to_dict
            "trace": list(self.trace),
        }
        if self.changes is not None:
            out["payment"] = self.payment
            out["coupons"] = list(self.coupons or ())
            out["changes"] = list(self.changes)
            out["events"] = list(self.events or ())
        if self.arms is not None:
            out["arms"] = dict(self.arms)
        if self.hints is not None:
            out["hints"] = [dict(h) for h in self.hints]
        if self.tax is not None:
            out["tax"] = self.tax
        if self.flags is not None:
            out["flags"] = [dict(f) for f in self.flags]
        if self.messages is not None:
            out["messages"] = [dict(m) for m in self.messages]
        return out

    @classmethod
    def from_dict(cls, data: Any) -> Outcome:
        """Load an outcome a till stored as JSON (``to_dict``), e.g. to refund it later. Everything is
        checked, since a refund computes money from it; problems raise ``RefundError`` (LOY503)
        naming the place."""
        return _outcome(data)


def _line_dicts(lines: Sequence[LineOutcome]) -> list[dict[str, Any]]:
    """``[line.to_dict() for line in lines]``, from the plain rows of ``Rows`` without a named tuple
    and a call per line (test_outcome_to_dict)."""
    if isinstance(lines, Rows) and lines.kind is LineOutcome:
        return [{"line_no": n, "sku": sku, "amount": a, "discount": d, "payable": p, "points": pts}
                for n, sku, a, d, p, pts in lines.rows]
    return [line.to_dict() for line in lines]


def _effect_dicts(effects: Sequence[Effect]) -> list[dict[str, Any]]:
    """``[effect.to_dict() for effect in effects]``, as ``_line_dicts``."""
    if isinstance(effects, Rows) and effects.kind is Effect:
        return [{"campaign": c, "group": g, "kind": k, "requested": list(rq), "applied": list(ap), "total": t,
                 "capped": cp} for c, g, k, rq, ap, t, cp in effects.rows]
    return [effect.to_dict() for effect in effects]


# ------------------------------------------------------------------------------------ outcome JSON


def _outcome(data: Any) -> Outcome:
    o = _dict(data, "outcome")
    lines: list[tuple[int, str, int, int, int, int]] = []
    for i, item in enumerate(_list(o, "lines")):
        d, where = _dict(item, f"lines[{i}]"), f"lines[{i}]"
        lines.append((_int(d, "line_no", where, 1), _string(d, "sku", where), _int(d, "amount", where),
                      _int(d, "discount", where), _int(d, "payable", where), _int(d, "points", where)))
    effects = []
    for i, item in enumerate(_list(o, "effects")):
        d, where = _dict(item, f"effects[{i}]"), f"effects[{i}]"
        want, got = tuple(_ints(d, "requested", where)), tuple(_ints(d, "applied", where))
        if len(want) != len(lines) or len(got) != len(lines):
            raise RefundError(f"expected one amount per line ({len(lines)})", f"{where}.requested")
        effects.append((_string(d, "campaign", where), _string(d, "group", where), _string(d, "kind", where),
                        want, got, _int(d, "total", where), _int(d, "capped", where)))
    rejected = []
    for i, item in enumerate(_list(o, "rejected")):
        d, where = _dict(item, f"rejected[{i}]"), f"rejected[{i}]"
        detail = d.get("detail")
        if detail is not None and type(detail) is not str:
            raise RefundError("expected a string or null", f"{where}.detail")
        rejected.append(Rejection(_string(d, "campaign", where), _string(d, "reason", where), detail))
    applied = _strings(o, "applied")
    trace = _strings(o, "trace") if o.get("trace") is not None else ()
    payment: dict[str, Any] | None = None
    changes = coupons = events = None
    if o.get("changes") is not None:
        if o.get("payment") is not None:
            payment = _dict(o["payment"], "payment")
        changes = tuple(_dict(c, f"changes[{i}]") for i, c in enumerate(_list(o, "changes")))
        for i, change in enumerate(changes):
            _string(change, "op", f"changes[{i}]")
        coupons = tuple(_dict(c, f"coupons[{i}]") for i, c in enumerate(o.get("coupons") or []))
        events = tuple(_dict(e, f"events[{i}]") for i, e in enumerate(o.get("events") or []))
    total, discount, payable = _int(o, "total", ""), _int(o, "discount_total", ""), _int(o, "payable", "")
    if payable != total - discount or sum(line[4] for line in lines) != payable:
        raise RefundError("payable is not total - discount_total, or not the sum of the lines' payable", "payable")
    return Outcome(_string(o, "receipt_id", ""), _string(o, "currency", ""), total, discount, payable,
                   _int(o, "points_total", ""), Rows(LineOutcome, tuple(lines)), Rows(Effect, tuple(effects)),
                   applied, tuple(rejected), trace, payment, coupons, changes, events, _arms(o), None,
                   None if o.get("tax") is None else _dict(o["tax"], "tax"))


def _arms(o: dict[str, Any]) -> dict[str, str | None] | None:
    arms = o.get("arms")
    if arms is None:
        return None
    arms = _dict(arms, "arms")
    for name, arm in arms.items():
        if arm is not None and type(arm) is not str:
            raise RefundError(f"expected a string or null, got {_show(arm)}", f"arms.{name}")
    return arms


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _dict(value: Any, where: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise RefundError(f"expected an object, got {_show(value)}", where)
    return value


def _list(d: dict[str, Any], key: str, where: str = "") -> list[Any]:
    value = d.get(key, _MISSING)
    if type(value) is not list:
        raise RefundError(f"expected an array, got {_show(value)}", _at(where, key))
    return value


def _int(d: dict[str, Any], key: str, where: str, minimum: int | None = None) -> int:
    value = d.get(key, _MISSING)
    if type(value) is not int or (minimum is not None and value < minimum):
        bound = f" >= {minimum}" if minimum is not None else ""
        raise RefundError(f"expected an integer{bound}, got {_show(value)}", _at(where, key))
    return value


def _ints(d: dict[str, Any], key: str, where: str) -> list[int]:
    items = _list(d, key, where)
    for i, value in enumerate(items):
        if type(value) is not int:
            raise RefundError(f"expected an integer, got {_show(value)}", f"{_at(where, key)}[{i}]")
    return items


def _string(d: dict[str, Any], key: str, where: str) -> str:
    value = d.get(key, _MISSING)
    if type(value) is not str:
        raise RefundError(f"expected a string, got {_show(value)}", _at(where, key))
    return value


def _strings(d: dict[str, Any], key: str) -> tuple[str, ...]:
    items = _list(d, key)
    for i, value in enumerate(items):
        if type(value) is not str:
            raise RefundError(f"expected a string, got {_show(value)}", f"{key}[{i}]")
    return tuple(items)
