"""The direct reader (``simulate/direct.py``) against the general path it shortcuts: on random JSONL
histories through several column mappings, reading with it and without it gives the same records
(receipt JSON, key order included, and the validated receipt) and the same quarantine entries (code,
reason, record, in order), or the same error. The histories mix receipts the direct reader takes with
everything it must leave to the general path: values to convert, wrong types, nulls, returns, state
fields, duplicates, another currency, and text that only the general decode checks (bytes that are
not UTF-8, surrogate escapes, an integer past the digit limit, deep nesting)."""

from __future__ import annotations

import itertools
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from loyadsl.simulate import inputs
from loyadsl.simulate.direct import decoder
from loyadsl.simulate.errors import SimulationError
from loyadsl.simulate.inputs import Bad, read_receipts
from loyadsl.simulate.mapping import IDENTITY, Mapping, load_mapping
from loyadsl.simulate.partition import receipt_fields

CJ = Path(__file__).resolve().parents[2] / "examples" / "completejourney" / "mapping.yaml"
MAPPINGS = {
    "cj": load_mapping(file=CJ),
    "renamed": Mapping.from_dict({"columns": {"receipt_id": "ID", "sku": "ITEM", "unit_price": "PRICE",
                                              "customer_id": "CARD", "line_no": "N"},
                                  "defaults": {"brand": "", "store_id": "S0", "qty": 1, "channel": "web"},
                                  "attrs": {"dept": "DEPT"}, "lines": "items"}),
    "plain": Mapping.from_dict({"defaults": {"currency": "USD"}}),
    "three": Mapping.from_dict({"columns": {"unit_price": "unit_price_minor"},  # attributes from three columns
                                "attrs": {"uom": "uom", "dept": "DEPT", "department": "department"}}),
}

texts = st.sampled_from(["A", "B1", "", "ROLLS", "Cat/Sub", "é", "x" * 3, "1.5", "12", " 3 "])
numbers = st.one_of(st.integers(-3, 400), st.sampled_from([0.5, 1.25, 2.0, 0.0005, 10**20, 1e300, True]))
values = st.one_of(st.none(), texts, numbers, st.just([["k", "v"]]), st.just({"k": "v", "n": None}))
LINE_KEYS = ["line_no", "N", "sku", "ITEM", "category", "brand", "qty", "unit_price", "PRICE", "unit_price_minor",
             "amount", "amount_minor", "min_price", "department", "uom", "DEPT", "attrs", "name", "extra"]
good_line = st.fixed_dictionaries({
    "sku": st.sampled_from(["1095275", "9", "A-1"]), "ITEM": st.sampled_from(["1095275", "9"]),
    "category": st.sampled_from(["ROLLS", "BAG SNACKS", ""]), "qty": st.sampled_from([1, 2, 0.5, 1.25]),
    "unit_price": st.sampled_from([50, 109, 0]), "PRICE": st.sampled_from([50, 109]),
    "unit_price_minor": st.sampled_from([50, 109]), "amount": st.sampled_from([50, 109, 218, 25]),
    "amount_minor": st.sampled_from([50, 109, 218, 25]), "brand": st.sampled_from(["National", "Private"])},
    optional={"department": st.sampled_from(["PASTRY", None, "É"]), "uom": st.sampled_from(["gal", None]),
              "DEPT": st.sampled_from(["D1", None]), "attrs": st.sampled_from([{"k": "v"}, {"n": None}, None]),
              "name": st.sampled_from(["ROLLS: BAGELS", "x\\u00e9"]), "line_no": st.sampled_from([1, 2, 3]),
              "N": st.sampled_from([1, 2])})
odd_line = st.fixed_dictionaries({}, optional={key: values for key in LINE_KEYS})
lines = st.lists(st.one_of(good_line, good_line, odd_line, st.sampled_from([None, 3, "line", []])), max_size=4)
head = st.fixed_dictionaries({
    "receipt_id": st.sampled_from(["R1", "R2", "R3", "R4", 7, None]),
    "ID": st.sampled_from(["R1", "R2", "R3"]),
    "customer_id": st.sampled_from(["900", "1228", None, ""]), "CARD": st.sampled_from(["C1", None]),
    "datetime": st.sampled_from(["2017-01-01T06:53:26-05:00", "2017-01-02T07:00:00+00:00", "2017-01-01",
                                 "yesterday", 5, None]),
    "store_id": st.sampled_from(["330", "406", 7, None])},
    optional={"currency": st.sampled_from(["USD", "EUR", None, 3]), "channel": st.sampled_from(["pos", None]),
              "return_of": st.sampled_from(["R1", None]), "coupons": st.sampled_from([["C"], None]),
              "redeem": st.sampled_from([{"points": 5}, None]), "week": numbers, "adjustments": st.just([]),
              "paid_minor": numbers})
# what is written into a line's text besides its JSON: at the end of an object the reader skips
TAILS = [b"", b"", b"", b', "zz": "\\ud800"', b', "zz": "\xff"', b', "zz": "\xed\xa0\x80"',
         b', "zz": ' + b"7" * 4400, b', "zz": ' + b"[" * 40 + b"]" * 40, b', "zz": NaN', b', "zz": 1e400',
         b', "zz": "\\ud83d\\ude00"', ', "zz": "é"'.encode()]


@st.composite
def history(draw: Any) -> list[bytes]:
    out = []
    for _ in range(draw(st.integers(1, 6))):
        receipt = draw(head)
        receipt[draw(st.sampled_from(["lines", "lines", "items"]))] = draw(lines)
        text = json.dumps(receipt, ensure_ascii=False).encode("utf-8")
        out.append(text[:-1] + draw(st.sampled_from(TAILS)) + b"}")
    return out


def outcome(path: Path, mapping: Mapping, direct: bool) -> Any:
    inputs.DIRECT_READING = direct
    try:
        got: list[Any] = []
        for item in read_receipts([path], mapping, currency="USD"):
            if isinstance(item, Bad):
                got.append(("bad", json.dumps(item.to_dict(), ensure_ascii=True, default=str), item.receipt_id))
            else:
                got.append(("record", item.source, json.dumps(item.receipt),
                            None if item.parsed is None else receipt_fields(item.parsed)))
        return got
    except SimulationError as exc:
        return ("error", type(exc).__name__, str(exc))
    finally:
        inputs.DIRECT_READING = True


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(MAPPINGS)), lines_=history())
@example(name="cj", lines_=[
    b'{"receipt_id":"R1","customer_id":"900","datetime":"2017-01-01T06:53:26-05:00","store_id":"330","lines":'
    b'[{"sku":"1","category":"ROLLS","department":"PASTRY","brand":"National","qty":1,"unit_price_minor":50,'
    b'"amount_minor":50}]}'] * 2)
def test_the_direct_reader_reads_as_the_general_path(name: str, lines_: list[bytes]) -> None:
    mapping = MAPPINGS[name]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "history.jsonl")
        path.write_bytes(b"\n".join(lines_) + b"\n")
        assert outcome(path, mapping, True) == outcome(path, mapping, False)


def test_the_direct_reader_takes_the_usual_receipt() -> None:
    """Not a test that cannot fail: the CJ receipt is read directly, as the general path reads it."""
    raw = (b'{"receipt_id":"R1","customer_id":"900","datetime":"2017-01-01T06:53:26-05:00","store_id":"330",'
           b'"week":1,"lines":[{"sku":"1","name":"ROLLS: BAGELS","category":"ROLLS","department":"PASTRY",'
           b'"brand":"National","qty":1,"unit_price_minor":50,"amount_minor":50,"paid_minor":50}],"adjustments":[]}')
    direct = decoder(MAPPINGS["cj"])
    assert direct is not None
    assert direct(raw) == {"receipt_id": "R1", "customer_id": "900", "datetime": "2017-01-01T06:53:26-05:00",
                           "store_id": "330", "currency": "USD",
                           "lines": [{"line_no": 1, "sku": "1", "category": "ROLLS", "brand": "National", "qty": 1,
                                      "unit_price": 50, "amount": 50, "attrs": {"department": "PASTRY"}}]}
    assert direct(raw.replace(b'"qty":1', b'"qty":"1"')) is None  # a value to convert: the general path's
    assert inputs._plain_text(raw) and not inputs._plain_text(raw + b"\xff")
    assert not inputs._plain_text(b'{"a": ' + b"1" * (sys.get_int_max_str_digits() + 1) + b"}")


@pytest.mark.parametrize("spec", [{"scale": {"amount": 100}}, {"derive": "amount"}, {"timezone": "Europe/Moscow"},
                                  {"datetime": {"date": "D"}}, {"defaults": {"qty": "1"}},
                                  {"columns": {"sku": "X", "category": "X"}}])
def test_mappings_that_convert_have_no_direct_reader(spec: dict[str, Any]) -> None:
    assert decoder(Mapping.from_dict(spec)) is None
    assert decoder(IDENTITY) is None


@pytest.mark.parametrize("spec", [{"defaults": {"channel": "p\ud800s"}}, {"defaults": {"category": "\udfff"}},
                                  {"attrs": {"d\ud800": "DEPT"}}])
def test_mappings_that_write_no_text_have_no_direct_reader(spec: dict[str, Any]) -> None:
    """The direct reader's receipts are validated as text (no search for lone surrogates): a mapping
    that would write one into them (a default, an attribute's name) is read the general way, whose
    validation refuses it."""
    assert decoder(Mapping.from_dict(spec)) is None
    clean = {key: {k.encode("utf-8", "replace").decode(): v.encode("utf-8", "replace").decode()
                   for k, v in value.items()} for key, value in spec.items()}
    assert decoder(Mapping.from_dict(clean)) is not None  # the same mapping in text has one


@pytest.mark.parametrize("name", ["cj", "renamed", "three"])
def test_the_attributes_columns_are_read_as_the_general_path_reads_them(name: str) -> None:
    """Every mix of the attribute columns present, null and absent, on valid receipts (the generated
    reader writes the attrs of one or two columns case by case)."""
    mapping = MAPPINGS[name]
    options: list[Any] = ["absent", None, "X"]
    history = []
    for number, (dept, department, uom) in enumerate(itertools.product(options, options, options), 1):
        line: dict[str, Any] = {"sku": "1", "ITEM": "1", "category": "ROLLS", "brand": "National", "qty": 1,
                                "unit_price": 50, "PRICE": 50, "unit_price_minor": 50, "amount": 50,
                                "amount_minor": 50}
        for key, value in (("DEPT", dept), ("department", department), ("uom", uom)):
            if value != "absent":
                line[key] = value
        receipt = {"receipt_id": f"R{number}", "ID": f"R{number}", "customer_id": "900", "CARD": "C1",
                   "datetime": "2017-01-01T06:53:26-05:00", "store_id": "330", "lines": [line], "items": [line]}
        history.append(json.dumps(receipt).encode())
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "history.jsonl")
        path.write_bytes(b"\n".join(history) + b"\n")
        direct, general = outcome(path, mapping, True), outcome(path, mapping, False)
        assert direct == general
        assert sum(1 for item in direct if item[0] == "record") == len(history)
        assert any("attrs" in item[2] for item in direct)
