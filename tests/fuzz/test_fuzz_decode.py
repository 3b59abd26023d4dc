"""The receipt decoder has fast paths (runtime/model.py): the schema's types checked in C (``_plain``
and ``_fast``, through ``Receipt.from_dict`` and ``Receipt.from_json``) and the field-by-field
``Receipt.careful``. They must accept exactly the same receipts, read them the same, and refuse the
others with the same error: these properties prove it on valid, edge and mutated receipts
(tests/runtime/test_rt_decode_paths.py runs each path on its own)."""

from __future__ import annotations

import json
import os
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyadsl.runtime import LoyaError, Receipt, jsonio
from loyadsl.runtime.limits import MAX_RECEIPT_BYTES
from loyadsl.runtime.model import _convert, _fast, _ReceiptIn

from . import corpus, strategies

LIMIT = 10**15  # MAX_VALUE
EXAMPLES = int(os.environ.get("FUZZ_N", "1500"))  # FUZZ_N=20000 for a long hunt
TEXTS = ["", "a", "a/b", "\ud800", "a\udfffb", "Ромашка", "x" * 1000, "x" * 1001, "a/" * 15 + "a", "a/" * 16 + "a",
         None, 1, True, ["a"]]
NUMBERS = [0, 1, 2, -1, 7, LIMIT, LIMIT + 1, 2**63, 10**40, 1.5, 2.0, float("nan"), float("inf"), True, "5", None]
EDGES: dict[str, list[Any]] = {
    "line_no": [0, 1, 2, 3, LIMIT, LIMIT + 1, -1, 1.0, True, None, "1"],
    "qty": [1, 2, 0.5, 0.001, 1.0005, 2.0, 0, -1, 1e-7, 10**6, 10**6 + 1, 1e6, float("nan"), float("inf"), True,
            "1", None],
    "unit_price": NUMBERS, "amount": NUMBERS, "min_price": NUMBERS,
    "attrs": [{}, {"colour": "red"}, {"\ud800": "x"}, {"k": "\udfff"}, {"k": 1}, {"": ""}, {"k": "x" * 1001},
              {str(i): "v" for i in range(65)}, [], "a", None],
    "units": [5, "x", None], "floor": [5, "x"], "index": [7, [1]], "price": [1, "x"],
    "coupons": [["A"], [""], ["\ud800"], "A", [1], None], "redeem": [{"points": 5}, {"points": "max"}, 5, None, {"points": 10**40}, {"points": -(10**40) + 1}],
    "certificates": [[{"code": "G"}], [{"code": "G", "amount": 0}], [{"code": "G"}, {"code": "G"}], None,
                     [{"code": "G", "amount": 10**40}]],
    "datetime": [*strategies.EDGE_DATETIMES, None, 5],
    "lines": [[], None, "x", [1]],
    "kind": ["goods", "service", "delivery", "deposit", "correction", "", "other", None, 1, ["goods"]],
    "tax_rate": [0, 7, 19, 20.5, 100, 100.5, 101, -1, 0.0001, 1e-9, float("nan"), True, "19", None],
    "rewards": [["gift"], [], [""], ["a", "a"], "gift", [1], None, ["x" * 1001]],
    "tax": ["included", "excluded", "", "INCLUDED", 1, None],
}
LINE_KEYS = ["line_no", "sku", "category", "brand", "qty", "unit_price", "amount", "min_price", "attrs", "units",
             "floor", "index", "price", "kind", "tax_rate"]
HEAD_KEYS = ["receipt_id", "customer_id", "store_id", "datetime", "channel", "currency", "lines", "coupons",
             "redeem", "certificates", "rewards", "tax"]


@st.composite
def edited(draw: st.DrawFn) -> Any:
    """A valid receipt with one to three targeted edits: a field set to an edge value of its own kind or
    removed, a line duplicated, lines renumbered, amounts made huge (a total past the limit), an
    amount off by more than the tolerance."""
    valid = [r for r in corpus.receipts() if len(r["lines"]) > 1]
    receipt = json.loads(json.dumps(draw(strategies._pick(valid))))
    for _ in range(draw(strategies._pick([1, 1, 1, 2, 3]))):
        kind = draw(st.integers(0, 7))
        lines = receipt.get("lines") if isinstance(receipt.get("lines"), list) else []
        dicts = [line for line in lines if isinstance(line, dict)]
        if kind <= 2 and dicts:
            line = draw(strategies._pick(dicts))
            key = draw(strategies._pick(LINE_KEYS))
            if draw(st.integers(0, 7)):
                line[key] = draw(strategies._pick(EDGES.get(key, TEXTS)))
            else:
                line.pop(key, None)
        elif kind <= 4:
            key = draw(strategies._pick(HEAD_KEYS))
            if draw(st.integers(0, 7)):
                receipt[key] = draw(strategies._pick(EDGES.get(key, TEXTS)))
            else:
                receipt.pop(key, None)
        elif kind == 5 and dicts:
            lines.append(dict(draw(strategies._pick(dicts))))
        elif kind == 6 and dicts:
            for line in dicts:
                line["line_no"] = draw(st.integers(1, 3))
        elif dicts:
            line = draw(strategies._pick(dicts))
            if draw(st.booleans()):
                for line in dicts:
                    line.update(qty=1, unit_price=LIMIT, amount=LIMIT)
            elif isinstance(line.get("amount"), int):
                line["amount"] += draw(strategies._pick([1, 2, 3, -1, -2, 1000]))
    return receipt


RECEIPTS = st.one_of(edited(), strategies.receipt_json(), strategies.mutated_receipt(),
                     strategies._pick(list(corpus.receipts())))
LINE_FIELDS = ("line_no", "sku", "category", "brand", "qty", "units", "price", "amount", "min_price", "floor",
               "attrs", "index", "kind", "tax_rate")
RECEIPT_FIELDS = ("receipt_id", "customer_id", "store", "channel", "currency", "datetime", "utc", "total", "units",
                  "ordered", "floors", "coupons", "redeem", "certificates", "rewards", "mix", "stateful")


def _read(decode: Any, data: Any) -> tuple[str, Any]:
    try:
        receipt = decode(data)
    except LoyaError as exc:
        return "error", (exc.code, str(exc))
    return "receipt", (tuple(_plain(getattr(receipt, f)) for f in RECEIPT_FIELDS),
                       tuple(tuple(getattr(line, f) for f in LINE_FIELDS) for line in receipt.lines))


@settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(RECEIPTS)
def test_fast_and_careful_paths_agree(data: Any) -> None:
    careful = _read(Receipt.careful, data)
    assert _read(Receipt.from_dict, data) == careful
    try:
        text = json.dumps(data, allow_nan=False).encode("utf-8")
    except (ValueError, UnicodeEncodeError):  # a value JSON cannot write (a lone surrogate, NaN)
        return
    # JSON text reads as jsonio reads it (its limits hold for all of the text), then as above
    assert _read(Receipt.from_json, text) == _read(_careful_text, text)
    _text_dict_agrees(text)


def _text_dict_agrees(text: bytes) -> None:
    """A dict that msgspec decoded from JSON text (as the simulator's direct reader's receipts are)
    reads through ``from_dict(text=True)``, which skips the search for lone surrogates, as careful reads it."""
    try:
        data = msgspec.json.decode(text)
    except msgspec.DecodeError:  # msgspec refuses it (a lone surrogate escape): the reader's general path
        return
    assert _read(lambda d: Receipt.from_dict(d, text=True), data) == _read(Receipt.careful, data)


def _plain(value: Any) -> Any:
    """A slotted value (the receipt's ``Mix``) as a tuple of its slots, so equal reads compare equal."""
    slots = getattr(type(value), "__slots__", None)
    return tuple(getattr(value, name) for name in slots) if slots else value


def _careful_text(text: bytes) -> Receipt:
    return Receipt.careful(jsonio.load(text, code="LOY501", what="the receipt", max_bytes=MAX_RECEIPT_BYTES,
                                       floats=True))


def test_valid_receipts_take_the_fast_path() -> None:
    """Every valid receipt of the example and golden corpus is accepted by the C-checked path itself,
    not only through the careful fallback (else the speed would be gone unnoticed)."""
    valid = [data for data in corpus.receipts() if _read(Receipt.careful, data)[0] == "receipt"]
    assert len(valid) > 20
    for data in valid:
        if type(data) is dict:
            _fast(_convert(data, _ReceiptIn), False)


def _single_edits() -> list[tuple[str, Any]]:
    """Every one-field edit of two valid receipts (one with a float qty): each line field and each
    header field set to each edge value of its kind, or removed; exhaustive, where the random
    search above would meet a given edit only by luck."""
    valid = [r for r in corpus.receipts() if len(r["lines"]) > 1]
    bases = [valid[0], next(r for r in valid if any(type(line["qty"]) is float for line in r["lines"]))]
    cases: list[tuple[str, Any]] = []
    for b, base in enumerate(bases):
        for key in LINE_KEYS:
            for value in [*EDGES.get(key, TEXTS), _MISSING]:
                receipt = json.loads(json.dumps(base))
                _edit(receipt["lines"][-1], key, value)
                cases.append((f"{b}:lines[-1].{key}={value!r:.20}", receipt))
        for key in HEAD_KEYS:
            for value in [*EDGES.get(key, TEXTS), _MISSING]:
                receipt = json.loads(json.dumps(base))
                _edit(receipt, key, value)
                cases.append((f"{b}:{key}={value!r:.20}", receipt))
    return cases


_MISSING = object()


def _edit(target: dict[str, Any], key: str, value: Any) -> None:
    if value is _MISSING:
        target.pop(key, None)
    else:
        target[key] = value


def test_every_single_edit_reads_the_same_on_both_paths() -> None:
    differ = [name for name, receipt in _single_edits()
              if _read(Receipt.from_dict, receipt) != _read(Receipt.careful, receipt)]
    assert not differ


def test_every_single_edit_as_json_text_reads_the_same_on_both_paths() -> None:
    """The same edits written as JSON text: the schema's decoder and jsonio + careful agree (an
    integer past jsonio's 40 digits in ``redeem`` once slipped through the schema)."""
    differ = []
    for name, receipt in _single_edits():
        try:
            text = json.dumps(receipt, allow_nan=False).encode("utf-8")
        except (ValueError, UnicodeEncodeError):
            continue
        if _read(Receipt.from_json, text) != _read(_careful_text, text):
            differ.append(name)
        _text_dict_agrees(text)
    assert not differ
