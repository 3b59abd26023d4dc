"""The spill's trusted path: a receipt validated when read (``Receipt.from_dict``, the path users'
input takes) and rebuilt from its packed fields for the replay (``partition.receipt_of``, no second
validation) is the same receipt, slot for slot, line for line."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import marshal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from loyadsl.runtime.limits import MAX_VALUE
from loyadsl.runtime.model import Line, Receipt
from loyadsl.simulate.inputs import Record, read_receipts
from loyadsl.simulate.mapping import load_mapping
from loyadsl.simulate.partition import pack, receipt_json, unpack

DATA = Path(__file__).parent / "data"
CJ_MAPPING = Path(__file__).resolve().parents[2] / "examples" / "completejourney" / "mapping.yaml"


def slots(obj: Any) -> dict[str, Any]:
    names = getattr(type(obj), "__struct_fields__", None) or type(obj).__slots__  # a line's kind may be a Line's subclass
    return {name: getattr(obj, name) for name in names}


def assert_same(rebuilt: Receipt, validated: Receipt) -> None:
    mine, theirs = slots(rebuilt), slots(validated)
    lines, their_lines = mine.pop("lines"), theirs.pop("lines")
    mix, their_mix = mine.pop("mix"), theirs.pop("mix")  # a Mix compares by identity: by its slots here
    assert (mix is None) == (their_mix is None)
    assert mix is None or slots(mix) == slots(their_mix)
    assert mine == theirs
    assert mine["datetime"].utcoffset() == theirs["datetime"].utcoffset()
    assert [slots(line) for line in lines] == [slots(line) for line in their_lines]
    assert all(isinstance(line, Line) and type(line).__struct_fields__ == Line.__struct_fields__ for line in lines)


def roundtrip(receipt: Receipt) -> Receipt:
    """Through the spill's payload, as the replay gets it."""
    rebuilt, _ = unpack(pack(Record("f:1", {}, receipt)))
    assert rebuilt is not None
    return rebuilt


def test_fields_past_msgpack_integers_stay_exact() -> None:
    """A receipt whose figures do not fit msgpack's 64 bits is packed in marshal, still exactly."""
    receipt = Receipt.from_dict({"receipt_id": "R1", "datetime": "2026-03-06T09:00:00+03:00", "store_id": "S1",
                                 "lines": [{"line_no": 1, "sku": "A", "category": "c", "qty": 1, "unit_price": 5,
                                            "amount": 5}]})
    receipt.total = 2**70
    assert_same(roundtrip(receipt), receipt)
    assert type(marshal.loads(pack(Record("f:1", {}, receipt)))[0]) is tuple


def test_a_receipt_of_other_types_than_the_decoders_rebuilds_as_it_was() -> None:
    """A receipt made by its constructor may hold what the decoder never makes (a channel of None, a
    brand of None): the typed decode of the payload refuses it, and it is rebuilt as it is."""
    lines = [Line.of(1, "A", "c", 1000, 5, 5), Line.of(2, "B", "c", 500, 4, 2, brand=None)]  # type: ignore[arg-type]
    receipt = Receipt("R1", None, dt.datetime(2026, 3, 6, 9, tzinfo=dt.UTC), "S1", lines,
                      channel=None)  # type: ignore[arg-type]
    rebuilt = roundtrip(receipt)
    assert rebuilt.channel is None and rebuilt.lines[1].brand is None
    assert_same(rebuilt, receipt)


def test_the_fixtures_rebuild_exactly() -> None:
    records = [item for item in read_receipts([DATA / "inputs" / "receipts.jsonl"]) if isinstance(item, Record)]
    with gzip.open(DATA / "completejourney" / "first230.jsonl.gz", "rt", encoding="utf-8") as f:
        assert sum(1 for _ in f) == 230
    records += [item for item in read_receipts([DATA / "completejourney" / "first230.jsonl.gz"],
                                               load_mapping(file=CJ_MAPPING)) if isinstance(item, Record)]
    purchases = [r for r in records if r.parsed is not None]
    assert len(purchases) > 230 and any(r.parsed.stateful for r in purchases)  # type: ignore[union-attr]
    for record in purchases:
        assert record.parsed is not None
        assert_same(roundtrip(record.parsed), Receipt.from_dict(record.receipt))


@pytest.mark.parametrize(("kinds", "tax"), [((None, "service"), None), ((None, None), "included"),
                                            (("deposit", None), "excluded")])
def test_a_receipt_of_line_kinds_or_tax_keeps_its_mix(kinds: tuple[str | None, ...], tax: str | None) -> None:
    lines = [{"line_no": n, "sku": "A", "category": "c", "qty": 1, "unit_price": 5, "amount": 5, "tax_rate": 20}
             for n in (1, 2)]
    for item, kind in zip(lines, kinds, strict=True):
        if kind is not None:
            item["kind"] = kind
    data = {"receipt_id": "R1", "datetime": "2026-03-06T09:00:00+03:00", "store_id": "S1", "lines": lines,
            **({"tax": tax} if tax else {})}
    validated = Receipt.from_dict(data)
    assert validated.mix is not None
    assert_same(roundtrip(validated), validated)


def test_the_payload_keeps_the_json_and_a_return_stays_json() -> None:
    data = {"receipt_id": "X1", "customer_id": "C1", "datetime": "2026-03-06T09:00:00+03:00", "store_id": "S1",
            "return_of": "R1", "lines": [{"line_no": 1, "qty": 0.5}], "n": 10**30}
    parsed, packed = unpack(pack(Record("f:1", data)))  # 10**30: past msgpack, the payload is marshal
    assert parsed is None and type(packed) is bytes and receipt_json(packed) == data
    del data["n"]
    parsed, packed = unpack(pack(Record("f:1", data)))  # msgpack, the JSON left encoded until asked for
    assert parsed is None and type(packed) is memoryview
    assert receipt_json(packed) == data and list(receipt_json(packed)) == list(data)


line = st.fixed_dictionaries(
    {"sku": st.text(min_size=1, max_size=8), "category": st.sampled_from(["", "a", "a/b", "dairy/milk/2%"]),
     "qty": st.one_of(st.integers(1, 10**6), st.sampled_from([0.5, 0.768, 1.25, 2.001])),
     "unit_price": st.integers(0, 10**9)},
    optional={"brand": st.text(max_size=5), "min_price": st.integers(0, 10**6),
              "attrs": st.dictionaries(st.text(min_size=1, max_size=4), st.text(max_size=4), max_size=3)})


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(line, min_size=1, max_size=6), customer=st.one_of(st.none(), st.text(max_size=5)),
       offset=st.sampled_from(["+03:00", "Z", "-05:30", "+00:00", "+05:45:30"]),
       extra=st.fixed_dictionaries({}, optional={
           "channel": st.sampled_from(["pos", "app"]), "currency": st.sampled_from(["RUB", "USD"]),
           "coupons": st.lists(st.text(min_size=1, max_size=4), max_size=2),
           "redeem": st.one_of(st.just({"points": "max"}), st.builds(lambda n: {"points": n}, st.integers(0, 99))),
           "certificates": st.just([{"code": "GC-1", "amount": 100}, {"code": "GC-2"}])}),
       order=st.permutations(range(6)))
def test_any_valid_receipt_rebuilds_exactly(lines: list[dict[str, Any]], customer: str | None, offset: str,
                                            extra: dict[str, Any], order: list[int]) -> None:
    numbers = [n + 1 for n in order if n < len(lines)]
    for number, item in zip(numbers, lines, strict=True):
        item["line_no"] = number
        item["amount"] = item["unit_price"] * round(item["qty"] * 1000) // 1000
    assume(sum(item["amount"] for item in lines) <= MAX_VALUE)  # a valid receipt: its total within the limits
    data = {"receipt_id": "R1", "customer_id": customer, "datetime": f"2026-03-02T10:15:00.25{offset}",
            "store_id": "S1", "lines": lines, **extra}
    validated = Receipt.from_dict(json.loads(json.dumps(data)))
    assert_same(roundtrip(validated), validated)
