"""The receipt decoder's paths (runtime/model.py), each on its own: ``_plain`` (the plain receipt's
types, the fewest checks), ``_fast`` (all of the schema's types) and ``careful`` (field by field, the
reference). ``Receipt.from_dict`` and ``Receipt.from_json`` try them in that order, so a path that
refused too much (slow) or took too much (lenient) could hide behind the next one; here it cannot.
Whatever a path's types accept, the path reads as ``careful`` reads it, or refuses it, and only when
``careful`` raises; the public decoders give ``careful``'s receipt or ``careful``'s error (code, place,
message); and nothing outside runtime/model.py reaches a path but through them.
"""

from __future__ import annotations

import ast
import copy
import json
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rt_asm import bundle_bytes

from loyadsl.runtime import Engine, LoyaError, Receipt, jsonio
from loyadsl.runtime.limits import MAX_RECEIPT_BYTES
from loyadsl.runtime.model import (
    _REFUSED,
    _convert,
    _decode_json,
    _decode_plain,
    _digits_ok,
    _fast,
    _plain,
    _ReceiptIn,
    _ReceiptPlain,
)

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 10**15  # MAX_VALUE
LINE_FIELDS = ("line_no", "sku", "category", "brand", "qty", "units", "price", "amount", "min_price", "floor",
               "attrs", "index", "kind", "tax_rate")
RECEIPT_FIELDS = ("receipt_id", "customer_id", "store", "channel", "currency", "datetime", "utc", "total", "units",
                  "ordered", "floors", "coupons", "redeem", "certificates", "rewards", "stateful")
Read = tuple[Any, ...]


def _fields(receipt: Receipt) -> Read:
    """Everything a receipt holds, its datetime's offset and its mix's slots too (so equal means the same)."""
    mix = receipt.mix and tuple(getattr(receipt.mix, name) for name in type(receipt.mix).__slots__)
    return ("receipt", tuple(getattr(receipt, f) for f in RECEIPT_FIELDS), receipt.datetime.utcoffset(), mix,
            tuple(tuple(getattr(line, f) for f in LINE_FIELDS) for line in receipt.lines))


def _read(decode: Callable[[Any], Receipt], data: Any) -> Read:
    try:
        return _fields(decode(data))
    except LoyaError as exc:
        return ("error", exc.code, getattr(exc, "where", None), str(exc))


def _careful_text(text: bytes) -> Receipt:
    return Receipt.careful(jsonio.load(text, code="LOY501", what="the receipt", max_bytes=MAX_RECEIPT_BYTES,
                                       floats=True))


# Each path: its types (a decoder that raises when they refuse) and its checks. None: the types refuse.
def _plain_text(text: bytes) -> Any:
    decoded = _decode_plain(text)
    if not _digits_ok(decoded):
        raise ValueError
    return decoded


def _fast_text(text: bytes) -> Any:
    decoded = _decode_json(text)
    if not _digits_ok(decoded):
        raise ValueError
    return decoded


DICT_PATHS: dict[str, tuple[Callable[[Any], Any], Callable[[Any, bool], Receipt]]] = {
    "plain": (lambda data: _convert(data, _ReceiptPlain), _plain),
    "fast": (lambda data: _convert(data, _ReceiptIn), _fast),
}
TEXT_PATHS: dict[str, tuple[Callable[[Any], Any], Callable[[Any, bool], Receipt]]] = {
    "plain": (_plain_text, _plain),
    "fast": (_fast_text, _fast),
}


def _path(types: Callable[[Any], Any], check: Callable[[Any, bool], Receipt], text: bool, data: Any) -> Read | None:
    try:
        decoded = types(data)
    except _REFUSED:
        return None
    try:
        return _fields(check(decoded, text))
    except _REFUSED:
        return ("refused",)
    except LoyaError as exc:  # the state fields' checks, shared with careful
        return ("error", exc.code, getattr(exc, "where", None), str(exc))


def _agree(paths: dict[str, Any], text: bool, data: Any, careful: Read) -> list[str]:
    """Which paths of ``paths`` read ``data`` otherwise than ``careful`` (empty: all agree)."""
    differ = []
    for name, (types, check) in paths.items():
        got = _path(types, check, text, data)
        if got is None:
            continue
        if careful[0] == "receipt":
            ok = got == careful or (name == "fast" and _commerce(data) and got == ("refused",))
        else:
            ok = got in (("refused",), careful)
        if not ok:
            differ.append(f"{name}: {got!r:.300} against careful {careful!r:.300}")
    return differ


def _commerce(data: Any) -> bool:
    """Whether a receipt says a line's kind or tax rate, or its tax: ``_fast`` leaves those to careful
    (docs/commerce.md)."""
    if type(data) is bytes:
        data = json.loads(data)
    lines = data.get("lines")
    return data.get("tax") is not None or (type(lines) is list and any(
        type(line) is dict and (line.get("kind") is not None or line.get("tax_rate") is not None) for line in lines))


def _check(data: Any) -> None:
    careful = _read(Receipt.careful, data)
    assert not _agree(DICT_PATHS, False, data, careful)
    assert _read(Receipt.from_dict, data) == careful
    try:
        text = json.dumps(data, allow_nan=False).encode("utf-8")
    except (ValueError, UnicodeEncodeError):  # not JSON (NaN, a lone surrogate): no text to read
        return
    try:  # a dict of text (the simulator's direct reader's): the paths skip the search for lone surrogates
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        pass
    else:
        assert not _agree(DICT_PATHS, True, data, careful)
        assert _read(lambda d: Receipt.from_dict(d, text=True), data) == careful
    careful_text = _read(_careful_text, text)
    assert not _agree(TEXT_PATHS, True, text, careful_text)
    assert _read(Receipt.from_json, text) == careful_text


# ------------------------------------------------------------------------------ receipts to read

VALID_DATETIMES = ["2025-11-04T10:34:31+03:00", "2025-11-04T10:34:31.250+03:00", "2025-11-04T10:34:31Z",
                   "2025-11-04T10:34:31-05:00", "2025-11-04 10:34:31+0300", "2025-11-04T10:34:31+03:00:30",
                   "2025-11-04T10:34:31+03:00:00.5", "2025-11-04T10:34:31.75+03:00:00.5",
                   "1900-01-01T00:00:00+00:00", "2199-12-31T23:59:59+00:00"]
DATETIMES = [*VALID_DATETIMES, "2025-11-04T10:34:31", "1900-01-01T02:59:59+03:00", "2199-12-31T23:59:59-00:01",
             "2025-02-29T10:00:00+03:00", "2025-11-04", "now", "", None, 5]
TEXTS = ["SKU00001", "", "a", "Ромашка", "\U0001f600", "\ud800", "a\udfffb", "x" * 1000, "x" * 1001, None, 5]
CATEGORIES = ["dairy/milk", "dairy", "", "Ромашка/чай", "a/" * 15 + "a", "a/" * 16 + "a", "c\ud800", "x" * 1001, None]
VALID_QTYS: list[Any] = [1, 2, 3, 0.5, 0.768, 1.25, 2.0, 0.001]
# an edge value per field, each path must read alike (a line's optional and derived fields too)
LINE_EDGES: dict[str, list[Any]] = {
    "line_no": [1, 2, 0, -1, LIMIT, LIMIT + 1, 1.0, True, None],
    "sku": TEXTS, "category": CATEGORIES,
    "qty": [*VALID_QTYS, 10**6, 10**6 + 1, 0, -1, 1.0005, 1e-7, 1e6, float("nan"), True, "1", None],
    "unit_price": [0, 1, LIMIT, LIMIT + 1, -1, 2**63, 1.5, True, None],
    "amount": [0, 1, LIMIT, LIMIT + 1, -1, 2**63, 1.5, True, None],
    "brand": ["BR001", "", None, "\ud800", "x" * 1001, 5],
    "min_price": [None, 0, 100, 10**6, LIMIT + 1, -1, "1"],
    "attrs": [None, {}, {"colour": "red"}, {"k": "\ud800"}, {"\udfff": "v"}, {"k": 1}, [],
              {str(i): "v" for i in range(65)}],
    "kind": [None, "goods", "service", "deposit", "other"],
    "tax_rate": [None, 0, 20, 20.5, 101],
    "units": [0, 5, "x"], "floor": [0, 3, "x"], "index": [0, 2], "price": [5], "extra": [1, "x", None],
}
HEAD_EDGES: dict[str, list[Any]] = {
    "receipt_id": TEXTS, "store_id": TEXTS, "datetime": DATETIMES,
    "customer_id": [None, "", "C1", "\ud800", "x" * 1001, 5],
    "channel": [None, "pos", "web", "\ud800", 1],
    "currency": [None, "RUB", "\ud800"],
    "lines": [[], None, "x", [1]],
    "coupons": [None, [], ["A"], [""], "A"],
    "redeem": [None, {"points": 5}, {"points": "max"}, {"points": 10**40}, 5],
    "certificates": [None, [{"code": "G"}], [{"code": "G", "amount": 0}]],
    "rewards": [None, ["gift"], [""]],
    "tax": [None, "included", "excluded", "INCLUDED"],
    "extra": [1, None],
}
_MISSING = object()


@st.composite
def valid_lines(draw: st.DrawFn, line_no: int) -> dict[str, Any]:
    """A plain line as tills write it: unit_price × qty, rounded (or a minor unit off, as a till may)."""
    qty = draw(st.sampled_from(VALID_QTYS))
    price = draw(st.sampled_from([0, 99, 4290, 69590, 123457]))
    amount = round(price * round(qty * 1000) / 1000) + draw(st.sampled_from([0, 0, 0, 1, -1]))
    line: dict[str, Any] = {"line_no": line_no, "sku": draw(st.sampled_from(["SKU00001", "Ромашка", "\U0001f600"])),
                            "category": draw(st.sampled_from(CATEGORIES[:5])), "qty": qty, "unit_price": price,
                            "amount": max(amount, 0)}
    if draw(st.booleans()):
        line["brand"] = "BR154"
    if draw(st.integers(0, 3)) == 0:
        line["attrs"] = {"department": "PASTRY"}
    return line


@st.composite
def receipts(draw: st.DrawFn) -> dict[str, Any]:
    """A valid receipt of up to six lines (numbered in order or not), then up to three edits: a field of a
    line or of the head set to an edge value or removed, a line_no met twice, an amount off by more than
    the tolerance, amounts past the total's limit."""
    count = draw(st.integers(1, 6))
    numbers = draw(st.sampled_from([list(range(1, count + 1)), list(range(count, 0, -1))]))
    receipt: dict[str, Any] = {"receipt_id": "R1", "store_id": "S043", "datetime": draw(st.sampled_from(VALID_DATETIMES)),
                               "lines": [draw(valid_lines(n)) for n in numbers]}
    if draw(st.booleans()):
        receipt["customer_id"] = "C1"
    for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2, 3]))):
        kind = draw(st.integers(0, 9))
        line = draw(st.sampled_from(receipt["lines"]))
        if kind <= 4:
            key = draw(st.sampled_from(sorted(LINE_EDGES)))
            _edit(line, key, draw(st.sampled_from([*LINE_EDGES[key], _MISSING])))
        elif kind <= 7:
            key = draw(st.sampled_from(sorted(HEAD_EDGES)))
            _edit(receipt, key, draw(st.sampled_from([*HEAD_EDGES[key], _MISSING])))
        elif kind == 8:
            if type(line.get("amount")) is int:  # (an earlier edit may have removed it or made it None)
                line["amount"] += draw(st.sampled_from([2, -2, 600, -600]))
        else:
            for each in receipt["lines"]:
                each.update(line_no=1) if draw(st.booleans()) else each.update(qty=1, unit_price=LIMIT, amount=LIMIT)
        if type(receipt.get("lines")) is not list or not all(type(x) is dict for x in receipt["lines"]) \
                or not receipt["lines"]:
            break
    return receipt


def _edit(target: dict[str, Any], key: str, value: Any) -> None:
    if value is _MISSING:
        target.pop(key, None)
    else:
        target[key] = value


@settings(max_examples=1000, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(receipts())
def test_every_path_reads_as_careful_reads(data: dict[str, Any]) -> None:
    _check(data)


# ---------------------------------------------------------------- which path takes which receipt

PLAIN = {"receipt_id": "R00000001", "customer_id": "C27541418", "datetime": "2025-11-04T10:34:31+03:00",
         "store_id": "S043", "lines": [
             {"line_no": 1, "sku": "SKU02794", "category": "alcohol/wine", "brand": "BR154", "qty": 1,
              "unit_price": 69590, "amount": 69590},
             {"line_no": 2, "sku": "SKU02366", "category": "cheese", "qty": 0.768, "unit_price": 4290,
              "amount": 3295}]}
# (what, an edit of PLAIN's second line or head, the path that takes it: plain, fast or careful)
TAKEN: list[tuple[str, dict[str, Any], dict[str, Any], str]] = [
    ("a plain receipt", {}, {}, "plain"),
    ("attributes", {"attrs": {"department": "PASTRY"}}, {}, "plain"),
    ("null attributes, a null kind", {"attrs": None, "kind": None, "tax_rate": None}, {}, "plain"),
    ("an unknown line field", {"name": "EGGS"}, {}, "plain"),
    ("coupons and points", {}, {"coupons": ["C1"], "redeem": {"points": 5}}, "plain"),
    ("a fractional UTC offset", {}, {"datetime": "2025-11-04T10:34:31+03:00:00.5"}, "plain"),
    ("a min_price", {"min_price": 4000}, {}, "fast"),
    ("a null brand", {"brand": None}, {}, "fast"),
    ("a floor given", {"floor": 5}, {}, "fast"),
    ("a service line", {"kind": "service"}, {}, "careful"),
    ("goods said", {"kind": "goods"}, {}, "careful"),
    ("a tax rate", {"tax_rate": 20}, {}, "careful"),
    ("tax included", {}, {"tax": "included"}, "careful"),
    ("a rounded amount", {"amount": 3294}, {}, "plain"),
    ("an amount off", {"amount": 3400}, {}, "error"),
    ("four decimals of qty", {"qty": 0.7685}, {}, "error"),
    ("a lone surrogate", {"sku": "\ud800"}, {}, "error"),
    ("no offset", {}, {"datetime": "2025-11-04T10:34:31"}, "error"),
]


def _edited(line: dict[str, Any], head: dict[str, Any]) -> dict[str, Any]:
    data = json.loads(json.dumps(PLAIN))
    data["lines"][1].update(line)
    data.update(head)
    return data


def _taken(data: Any) -> str:
    """The first path of ``from_dict`` that gives ``data`` a receipt (or "error": none does)."""
    for name, (types, check) in DICT_PATHS.items():
        got = _path(types, check, False, data)
        if got is not None and got[0] == "receipt":
            return name
    return "careful" if _read(Receipt.careful, data)[0] == "receipt" else "error"


@pytest.mark.parametrize(("what", "line", "head", "path"), TAKEN, ids=[case[0] for case in TAKEN])
def test_each_receipt_takes_its_path(what: str, line: dict[str, Any], head: dict[str, Any], path: str) -> None:
    """The common receipts stay on the plain path (else the speed would be gone unnoticed), and every
    path reads them as careful does."""
    data = _edited(line, head)
    assert _taken(data) == path
    _check(data)


# ---------------------------------------------------------------------- what users reach

PRIVATE = {"_plain", "_fast", "_finish", "_convert", "_decode_plain", "_decode_json", "_ReceiptPlain",
           "_ReceiptPlainText", "_ReceiptIn", "_LinePlain", "_LinePlainText", "_digits_ok"}


def test_only_the_checked_decoders_are_reachable() -> None:
    """No module of the package but runtime/model.py names a path of the decoder: a receipt from a user
    (a till, the server, the simulator, the CLI) is read by ``from_dict`` or ``from_json``, which fall
    back to ``careful``. (schemas.py reads ``_ReceiptText``'s types to write the schema, not to decode.)"""
    found = []
    for path in sorted((ROOT / "loyadsl").rglob("*.py")):
        if path == ROOT / "loyadsl" / "runtime" / "model.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.ImportFrom) else \
                [node.attr] if isinstance(node, ast.Attribute) else [node.id] if isinstance(node, ast.Name) else []
            found += [f"{path.relative_to(ROOT)}:{node.lineno} {name}" for name in names if name in PRIVATE]
    assert not found


def test_a_refusal_on_a_fast_path_is_the_careful_error_everywhere() -> None:
    """A receipt whose types the plain path accepts but whose amount is off: every public way in says
    careful's LOY505 at the line's amount, none takes it."""
    data = _edited({"amount": 3400}, {})
    assert _convert(data, _ReceiptPlain) is not None  # the plain types take it: the checks must refuse
    engine = Engine.from_bytes(bundle_bytes([]))
    errors = []
    for decode in (Receipt.from_dict, lambda d: Receipt.from_json(json.dumps(d).encode()), engine.evaluate):
        with pytest.raises(LoyaError) as caught:
            decode(data)
        errors.append((caught.value.code, getattr(caught.value, "where", None)))
    assert errors == [("LOY505", "lines[1].amount")] * 3



def test_lines_without_attrs_share_one_empty_attrs_that_refuses_writes() -> None:
    """Lines without attrs, or with null attrs, get one shared empty dict on every path (msgspec takes it as
    the plain types' default as it is, so ``_plain`` writes none): equal to ``{}``, and no caller can fill
    it (filling it would fill every such line's, in every receipt); pickled and copied, it stays that one."""
    first, second = Receipt.from_dict(_edited({}, {})), Receipt.from_dict(_edited({"attrs": None}, {}))
    texts = Receipt.from_json(json.dumps(_edited({}, {})).encode())
    careful = Receipt.careful(_edited({}, {}))
    every = [line.attrs for line in (*first.lines, *second.lines, *texts.lines, *careful.lines)]
    assert every == [{}] * 8
    assert len({id(attrs) for attrs in every}) == 1
    shared = every[0]
    for write in (lambda: shared.__setitem__("k", "v"), lambda: shared.update(k="v"), lambda: shared.setdefault("k"),
                  lambda: shared.pop("k"), shared.popitem, shared.clear, lambda: shared.__ior__({"k": "v"}),
                  lambda: shared.__delitem__("k")):
        with pytest.raises(TypeError):
            write()
    assert shared == {} and pickle.loads(pickle.dumps(shared)) is shared and copy.deepcopy(shared) is shared
    assert type(first.lines) is tuple and type(texts.lines) is tuple
