"""Reading receipts: each format, gzip, mappings, every quarantine reason with its location, strict
mode, the quarantine file, real data (The Complete Journey), and read = valid + bad."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyadsl.simulate.inputs import (
    Bad,
    InputError,
    QuarantineWriter,
    Record,
    StrictError,
    check_inputs,
    detect_format,
    read_receipts,
    records_only,
    write_quarantine,
)
from loyadsl.simulate.mapping import Mapping, MappingError

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data" / "inputs"
CJ_SLICE = Path(__file__).parent / "data" / "completejourney" / "first230.jsonl.gz"
CJ_SAMPLE = ROOT.parent / "shared" / "data" / "completejourney_sample.jsonl.gz"
CJ_MAPPING = ROOT / "examples" / "completejourney" / "mapping.yaml"

R1 = {"receipt_id": "R1", "customer_id": "C1", "datetime": "2026-03-02T10:15:00+03:00", "store_id": "S1",
      "lines": [{"line_no": 1, "sku": "MILK", "category": "dairy/milk", "brand": "BR1", "qty": 2, "unit_price": 8990,
                 "amount": 17980},
                {"line_no": 2, "sku": "CHEESE", "category": "dairy/cheese", "qty": 0.768, "unit_price": 65000,
                 "amount": 49920}]}


def read(path: Path | str, mapping: Mapping | None = None, **options: Any) -> tuple[list[Record], list[Bad]]:
    good: list[Record] = []
    bad: list[Bad] = []
    for item in read_receipts(path, mapping, **options):
        (bad if isinstance(item, Bad) else good).append(item)  # type: ignore[arg-type]
    return good, bad


def where(items: list[Record] | list[Bad]) -> list[str]:
    return [item.source.rpartition("/")[2] for item in items]


def gz(path: Path, tmp_path: Path) -> Path:
    out = tmp_path / (path.name + ".gz")
    out.write_bytes(gzip.compress(path.read_bytes()))
    return out


# ------------------------------------------------------------------------------------------- JSONL


def test_jsonl_receipts_with_their_lines() -> None:
    good, bad = read(DATA / "receipts.jsonl")
    assert bad == []
    assert where(good) == ["receipts.jsonl:1", "receipts.jsonl:3", "receipts.jsonl:4", "receipts.jsonl:5"]
    assert good[0].receipt == R1
    assert good[1].receipt["customer_id"] is None and good[1].receipt["lines"][0]["attrs"] == {"organic": "yes"}
    assert good[2].receipt["redeem"] == {"points": "max"} and good[2].receipt["coupons"] == ["WEL-7K2M9Q"]
    assert good[3].receipt == {"receipt_id": "X1", "customer_id": "C1", "datetime": "2026-03-06T09:00:00+03:00",
                               "store_id": "S1", "return_of": "R1", "lines": [{"line_no": 1, "qty": 1}]}
    source, receipt, parsed = good[0]  # the receipt validated once, as the replay is given it
    assert source.endswith("receipts.jsonl:1") and receipt is good[0].receipt
    assert parsed is not None and (parsed.receipt_id, parsed.total) == ("R1", sum(x["amount"] for x in R1["lines"]))
    assert good[3].parsed is None  # a return stays JSON


def test_gzip_reads_the_same(tmp_path: Path) -> None:
    plain, _ = read(DATA / "receipts.jsonl")
    packed, bad = read(gz(DATA / "receipts.jsonl", tmp_path))
    assert bad == [] and [r.receipt for r in packed] == [r.receipt for r in plain]
    assert where(packed)[0] == "receipts.jsonl.gz:1"


def test_gzip_is_told_by_its_bytes_not_its_name(tmp_path: Path) -> None:
    path = tmp_path / "receipts.jsonl"
    path.write_bytes(gzip.compress((DATA / "receipts.jsonl").read_bytes()))
    assert len(read(path)[0]) == 4


EXPECTED_BAD = [  # bad.jsonl: line, reason (line 1 is good)
    (2, "lines[0].unit_price: expected an integer >= 0 (minor units), got -100"),
    (3, "bad JSON: Expecting value (column 31)"),
    (4, "datetime: needs a UTC offset"),
    (5, "store_id: required, expected a string"),
    (6, "duplicate receipt_id 'B1', first seen at {dir}/bad.jsonl:1"),
    (7, "a receipt is a JSON object, got an array"),
    (8, "lines[0].qty: at most 3 decimals, got 1.2345"),
    (9, "lines: expected a non-empty array of lines"),
    (10, "lines[0].line_no: required: which line of the original receipt is returned"),
    (11, "currency: 'USD', but the programme counts in RUB"),
]


def test_every_quarantine_reason_with_its_location() -> None:
    good, bad = read(DATA / "bad.jsonl", currency="RUB")
    assert where(good) == ["bad.jsonl:1"]
    assert [(b.source, b.reason[:len(reason.format(dir=DATA))]) for b, (_, reason) in zip(bad, EXPECTED_BAD,
                                                                                           strict=True)] == \
        [(f"{DATA}/bad.jsonl:{n}", reason.format(dir=DATA)) for n, reason in EXPECTED_BAD]
    assert bad[1].record == '{"receipt_id":"B3", "lines": ['  # a line that is not JSON: its text
    assert [b.code for b in bad] == ["LOY501", "LOY603", "LOY501", "LOY501", "LOY605", "LOY603", "LOY501", "LOY501",
                                     "LOY501", "LOY606"]
    assert bad[0].record["receipt_id"] == "B2"  # otherwise the record as read


def test_without_a_currency_any_is_accepted() -> None:
    good, _ = read(DATA / "bad.jsonl")
    assert "B9" in {r.receipt["receipt_id"] for r in good}


def test_duplicates_across_files(tmp_path: Path) -> None:
    copy = tmp_path / "again.jsonl"
    shutil.copy(DATA / "receipts.jsonl", copy)
    good, bad = read_many([DATA / "receipts.jsonl", copy])
    assert len(good) == 4 and len(bad) == 4
    assert bad[0].reason == f"duplicate receipt_id 'R1', first seen at {DATA}/receipts.jsonl:1"
    assert bad[0].source == f"{copy}:1"


def read_many(paths: list[Path]) -> tuple[list[Record], list[Bad]]:
    good: list[Record] = []
    bad: list[Bad] = []
    for item in read_receipts(paths):
        (bad if isinstance(item, Bad) else good).append(item)  # type: ignore[arg-type]
    return good, bad


def test_strange_bytes_and_values(tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl"
    line = json.dumps({**R1, "receipt_id": "R9"}).encode()
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(R1).encode() + b"\n  \n\xff\xfe{}\n\"text\"\n[[[\n" + line + b"\n")
    good, bad = read(path)
    assert where(good) == ["odd.jsonl:1", "odd.jsonl:6"]
    assert [(b.source.rpartition(":")[2], b.reason) for b in bad] == [
        ("3", "not UTF-8 text"), ("4", "a receipt is a JSON object, got a string"),
        ("5", "bad JSON: Expecting value (column 4)")]


def test_a_mapped_column_absent_from_the_first_record_is_a_mapping_error() -> None:
    items = read_receipts(DATA / "receipts.jsonl", Mapping.from_spec("sku=ITEM"))
    with pytest.raises(MappingError, match=r"receipts\.jsonl:1: no column `ITEM` for sku; the lines have: amount"):
        next(items)


# --------------------------------------------------------------------------------------------- CSV


def test_csv_rows_grouped_into_receipts(tmp_path: Path) -> None:
    good, bad = read(DATA / "receipts.csv")
    assert bad == [] and where(good) == ["receipts.csv:2", "receipts.csv:5"]
    assert good[0].receipt == R1
    assert good[1].receipt["customer_id"] is None and "brand" not in good[1].receipt["lines"][0]
    packed, _ = read(gz(DATA / "receipts.csv", tmp_path))
    assert [r.receipt for r in packed] == [r.receipt for r in good]


def test_a_retail_export_through_a_yaml_mapping() -> None:
    good, bad = read(DATA / "retail_cp1251.csv", Mapping.from_file(DATA / "retail_map.yaml"))
    assert bad == [] and where(good) == ["retail_cp1251.csv:2", "retail_cp1251.csv:4"]
    first = good[0].receipt
    assert (first["receipt_id"], first["customer_id"], first["datetime"], first["store_id"], first["currency"]) == \
        ("1001", "77001", "2026-03-02T10:15:00+03:00", "12", "RUB")
    assert [(x["line_no"], x["category"], x["qty"], x["unit_price"], x["amount"]) for x in first["lines"]] == \
        [(1, "Молоко", 2, 8990, 17980), (2, "Сыр", 0.768, 65000, 49920)]
    assert good[1].receipt["customer_id"] is None


CSV_HEAD = "receipt_id,customer_id,datetime,store_id,line_no,sku,category,qty,unit_price,amount\n"
ROW = "{rid},C1,2026-03-02T10:15:00+03:00,S1,{n},A,x,1,{price},100\n"


def csv_file(tmp_path: Path, body: str, name: str = "x.csv") -> Path:
    path = tmp_path / name
    path.write_text(CSV_HEAD + body, encoding="utf-8")
    return path


def test_csv_quarantine_reasons_with_their_lines(tmp_path: Path) -> None:
    body = (ROW.format(rid="A", n=1, price=100)
            + ROW.format(rid="B", n=1, price=100) + "B,C1,too,few\n" + ROW.format(rid="B", n=3, price=100)
            + ",,,,,,,,,\n"                                     # blank: not a record
            + ROW.format(rid="C", n=1, price=100) + ROW.format(rid="C", n=2, price=-5)
            + ROW.format(rid="D", n=1, price=100) + ROW.format(rid="D", n=2, price=100).replace("C1", "C2")
            + ROW.format(rid="A", n=1, price=100)                 # A again, not adjacent
            + "x,y\n"                                            # no usable id: alone
            + ROW.format(rid="E", n=1, price="1.5"))
    good, bad = read(csv_file(tmp_path, body))
    assert where(good) == ["x.csv:2"]
    assert [(b.source.rpartition(":")[2], b.reason) for b in bad] == [
        ("3", "line 4: the row has 4 cells, the header 10"),
        ("7", f"lines[1].unit_price: expected an integer >= 0 (minor units), got -5 (at {tmp_path}/x.csv:8)"),
        ("9", "customer_id: the rows of one receipt disagree: 'C1' at 9, 'C2' at 10"),
        ("11", f"duplicate receipt_id 'A', first seen at {tmp_path}/x.csv:2"),
        ("12", "line 12: the row has 2 cells, the header 10"),
        ("13", "lines[0].unit_price: '1.5' is not a whole number of minor units; "
               f"scale: {{unit_price: 100}} reads decimal currency (at {tmp_path}/x.csv:13)")]
    assert len(bad[0].record) == 3  # the whole receipt, its broken row included
    assert bad[0].record[1] == ["B", "C1", "too", "few"]


def test_csv_quoted_newlines_keep_line_numbers_true(tmp_path: Path) -> None:
    body = ROW.format(rid="A", n=1, price=100).replace(",A,x,", ',"A\nB",x,') + ROW.format(rid="B", n=1, price=-1)
    _, bad = read(csv_file(tmp_path, body))
    assert bad[0].source.endswith("x.csv:4")


def test_csv_not_in_its_encoding(tmp_path: Path) -> None:
    path = csv_file(tmp_path, ROW.format(rid="A", n=1, price=100))
    path.write_bytes(path.read_bytes() + ROW.format(rid="B", n=1, price=100).replace("S1", "S\xff").encode("latin-1"))
    good, bad = read(path)
    assert where(good) == ["x.csv:2"]
    assert bad[0].source.endswith("x.csv:3") and "not utf-8-sig text (set csv.encoding" in bad[0].reason
    assert "S\ufffd" in bad[0].record[0]


def test_csv_header_problems(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"x\.csv: no column `ITEM` for sku"):
        list(read_receipts(csv_file(tmp_path, ""), Mapping.from_spec("sku=ITEM")))
    path = tmp_path / "twice.csv"
    path.write_text("sku,sku\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"twice\.csv:1: column `sku` appears twice"):
        list(read_receipts(path))
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    assert list(read_receipts(empty)) == []


def test_csv_without_line_numbers_numbers_rows(tmp_path: Path) -> None:
    path = tmp_path / "n.tsv"
    path.write_text("receipt_id\tdatetime\tstore_id\tsku\tcategory\tqty\tunit_price\tamount\n"
                    "A\t2026-03-02T10:15:00+03:00\tS1\tX\tc\t1\t100\t100\n"
                    "A\t2026-03-02T10:15:00+03:00\tS1\tY\tc\t2\t100\t200\n", encoding="utf-8")
    good, bad = read(path)
    assert bad == [] and [(x["line_no"], x["sku"]) for x in good[0].receipt["lines"]] == [(1, "X"), (2, "Y")]


# ------------------------------------------------------------------------------------------ Parquet


def test_parquet_nested(tmp_path: Path) -> None:
    path = tmp_path / "nested.parquet"
    rows = [R1, {**R1, "receipt_id": "R2", "customer_id": None},
            {**R1, "receipt_id": "R3", "lines": [{**R1["lines"][0], "unit_price": -1}]}]
    pq.write_table(pa.Table.from_pylist(rows), path)
    good, bad = read(path)
    assert where(good) == ["nested.parquet:1", "nested.parquet:2"]
    assert good[0].receipt == R1  # struct fields absent from a line (brand) read as null: left out
    assert [(b.source.rpartition(":")[2], b.reason[:24]) for b in bad] == [("3", "lines[0].unit_price: exp")]
    packed = tmp_path / "nested.parquet.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    assert [r.receipt for r in read(packed)[0]] == [r.receipt for r in good]


def test_parquet_line_attributes_as_struct_or_map(tmp_path: Path) -> None:
    lines = [{**R1["lines"][0], "attrs": {"organic": "yes"}}, {**R1["lines"][1], "attrs": {"farm": "F1"}}]
    path = tmp_path / "struct.parquet"
    pq.write_table(pa.Table.from_pylist([{**R1, "lines": lines}]), path)  # attrs: a struct of both keys
    good, bad = read(path)
    assert bad == [] and [x["attrs"] for x in good[0].receipt["lines"]] == [{"organic": "yes"}, {"farm": "F1"}]
    line_type = pa.struct([("line_no", pa.int64()), ("sku", pa.string()), ("category", pa.string()),
                           ("qty", pa.float64()), ("unit_price", pa.int64()), ("amount", pa.int64()),
                           ("attrs", pa.map_(pa.string(), pa.string()))])
    table = pa.table({"receipt_id": ["M1"], "customer_id": ["C1"], "datetime": [R1["datetime"]], "store_id": ["S1"],
                      "lines": pa.array([[{"line_no": 1, "sku": "A", "category": "x", "qty": 1.0, "unit_price": 5,
                                           "amount": 5, "attrs": [("organic", "no")]}]], pa.list_(line_type))})
    pq.write_table(table, path)
    good, bad = read(path)
    assert bad == [] and good[0].receipt["lines"][0]["attrs"] == {"organic": "no"}


def test_parquet_flat_typed_export_through_a_mapping(tmp_path: Path) -> None:
    import datetime as dt
    from decimal import Decimal

    path = tmp_path / "flat.parquet"
    when = dt.datetime(2026, 3, 2, 7, 15, tzinfo=dt.UTC)
    table = pa.table({
        "basket_id": pa.array([31198515122, 31198515122, 42], pa.int64()),
        "household": pa.array([993, 993, None], pa.int64()),
        "ts": pa.array([when, when, when], pa.timestamp("s", tz="UTC")),
        "store": pa.array([1, 1, 2], pa.int32()),
        "product": pa.array([840361, 859075, 1], pa.int64()),
        "sales": pa.array([Decimal("1.09"), Decimal("3.78"), Decimal("0.50")], pa.decimal128(10, 2)),
        "quantity": pa.array([1.0, 2.0, 0.768]),
    })
    pq.write_table(table, path, row_group_size=2)
    mapping = Mapping.from_spec("receipt_id=basket_id,customer_id=household,datetime=ts,store_id=store,sku=product,"
                                "amount=sales,qty=quantity,scale.amount=100,derive=unit_price,default.category=,"
                                "timezone=America/New_York")
    good, bad = read(path, mapping)
    assert bad == [] and where(good) == ["flat.parquet:1", "flat.parquet:3"]
    first = good[0].receipt
    assert (first["receipt_id"], first["customer_id"], first["datetime"], first["store_id"]) == \
        ("31198515122", "993", "2026-03-02T07:15:00+00:00", "1")
    assert [(x["sku"], x["qty"], x["amount"], x["unit_price"]) for x in first["lines"]] == \
        [("840361", 1, 109, 109), ("859075", 2, 378, 189)]
    assert good[1].receipt["lines"][0]["qty"] == 0.768 and good[1].receipt["lines"][0]["unit_price"] == 65


def test_parquet_problems(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    path.write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match=r"x\.parquet: not a Parquet file"):
        list(read_receipts(path))
    pq.write_table(pa.table({"receipt_id": ["A"]}), path)
    with pytest.raises(MappingError, match="no column `datetime` for datetime"):
        list(read_receipts(path))


# ------------------------------------------------------------------------------------------ files


def test_file_problems(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        list(read_receipts(tmp_path / "absent.jsonl"))
    with pytest.raises(InputError, match="cannot tell the format"):
        detect_format(tmp_path / "receipts.xlsx")
    assert detect_format(Path("a.CSV.gz")) == "csv" and detect_format(Path("a.ndjson")) == "jsonl"
    assert detect_format(Path("a.dat"), Mapping.from_spec("format=csv")) == "csv"
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(gzip.compress((DATA / "receipts.jsonl").read_bytes() * 20)[:-30])
    with pytest.raises(InputError, match=r"cut\.jsonl\.gz:\d+: cannot read on"):
        list(read_receipts(cut))


def test_check_inputs_fails_fast(tmp_path: Path) -> None:
    check_inputs([DATA / "receipts.jsonl", DATA / "receipts.csv"])
    check_inputs(DATA / "retail_cp1251.csv", Mapping.from_file(DATA / "retail_map.yaml"))
    with pytest.raises(MappingError, match=r"receipts\.csv: no column `ДАТА` for datetime\.date"):
        check_inputs(DATA / "receipts.csv", Mapping.from_spec("date=ДАТА"))
    with pytest.raises(MappingError, match=r"receipts\.jsonl:1: no column `ITEM` for sku"):
        check_inputs(DATA / "receipts.jsonl", Mapping.from_spec("sku=ITEM"))
    with pytest.raises(InputError, match="no such file"):
        check_inputs([DATA / "receipts.jsonl", tmp_path / "absent.csv"])
    nested = tmp_path / "nested.parquet"
    pq.write_table(pa.Table.from_pylist([R1]), nested)
    with pytest.raises(MappingError, match=r"no column `PRICE` for unit_price; the lines have: amount, brand"):
        check_inputs(nested, Mapping.from_spec("unit_price=PRICE"))


# ------------------------------------------------------------------------------------------ strict, quarantine


def test_strict_stops_at_the_first_bad_record() -> None:
    items = read_receipts(DATA / "bad.jsonl", strict=True)
    assert next(items).receipt["receipt_id"] == "B1"  # type: ignore[union-attr]
    with pytest.raises(StrictError) as info:
        next(items)
    assert str(info.value) == f"{DATA}/bad.jsonl:2: lines[0].unit_price: expected an integer >= 0 (minor units), got -100"
    assert info.value.bad.source == f"{DATA}/bad.jsonl:2"
    assert not isinstance(info.value, InputError)  # a finding (exit 1), not an I/O failure (exit 2)


def test_quarantine_file(tmp_path: Path) -> None:
    _, bad = read(DATA / "bad.jsonl", currency="RUB")
    count = write_quarantine(bad, tmp_path / "bad.out.jsonl")
    lines = [json.loads(x) for x in (tmp_path / "bad.out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert count == len(lines) == len(EXPECTED_BAD)
    assert lines[0] == {"source": f"{DATA}/bad.jsonl:2", "code": "LOY501", "reason": bad[0].reason,
                        "record": bad[0].record}
    assert lines[1]["record"] == '{"receipt_id":"B3", "lines": ['


def test_quarantine_streams_and_keeps_undecodable_bytes(tmp_path: Path) -> None:
    kept: list[Record] = []
    with QuarantineWriter(tmp_path / "q.jsonl") as q:
        kept = list(records_only(read_receipts(DATA / "bad.jsonl"), q.add))
        q.add(Bad("f:1", "odd", "S\udcff"))
    assert q.count == len(EXPECTED_BAD) and len(kept) == 2
    last = json.loads((tmp_path / "q.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    assert last["record"] == "S\udcff"
    with pytest.raises(InputError, match="cannot write the quarantine"):
        QuarantineWriter(tmp_path / "no" / "such" / "dir.jsonl")


# ------------------------------------------------------------------------------------------ real data


def cj_check(path: Path, receipts: int) -> None:
    """Every receipt reads through the example mapping, and its lines add up to the source's total."""
    good, bad = read(path, Mapping.from_file(CJ_MAPPING), currency="USD")
    assert bad == []
    assert len(good) == receipts
    with gzip.open(path, "rt", encoding="utf-8") as f:
        totals = [json.loads(line)["total_minor"] for line in f]
    assert [sum(x["amount"] for x in r.receipt["lines"]) for r in good] == totals
    lines = [x for r in good for x in r.receipt["lines"]]
    assert any(x["category"] == "" for x in lines)  # product data missing: default category
    assert any(type(x["qty"]) is float and x["attrs"].get("uom") == "gal" for x in lines)  # fuel
    assert all(x["line_no"] == i for r in good for i, x in enumerate(r.receipt["lines"], 1))


def test_complete_journey_slice_reads_without_quarantine() -> None:
    cj_check(CJ_SLICE, 230)


@pytest.mark.skipif(not CJ_SAMPLE.is_file(), reason="../shared/data (the project's data folder) is not here")
def test_complete_journey_sample_reads_without_quarantine() -> None:
    cj_check(CJ_SAMPLE, 2541)


# ------------------------------------------------------------------------------------------ property

GOOD = {"receipt_id": "G", "customer_id": "C1", "datetime": "2026-03-02T10:15:00+03:00", "store_id": "S1",
        "lines": [{"line_no": 1, "sku": "A", "category": "x", "qty": 1, "unit_price": 100, "amount": 100}]}
BREAKERS = {
    "json": lambda text: text[:-3],
    "negative": lambda text: text.replace('"unit_price": 100', '"unit_price": -1'),
    "no_store": lambda text: text.replace('"store_id": "S1", ', ""),
    "no_offset": lambda text: text.replace("+03:00", ""),
    "array": lambda text: "[" + text + "]",
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.just("good"), st.just("dup"), st.just("blank"), st.sampled_from(sorted(BREAKERS))),
                max_size=30))
def test_read_is_valid_plus_bad(tmp_path: Path, kinds: list[str]) -> None:
    texts, expect_good, expect_bad = [], [], []
    seen_first = False  # a valid receipt with id G1 has been read (line 1 is G1, and so is every "dup")
    for number, kind in enumerate(kinds, 1):
        text = json.dumps({**GOOD, "receipt_id": "G1" if kind == "dup" else f"G{number}"})
        if kind == "blank":
            text = "   "
        elif kind in BREAKERS:
            text = BREAKERS[kind](text)
            expect_bad.append(number)
        elif kind == "dup" and seen_first:
            expect_bad.append(number)
        else:
            expect_good.append(number)
            seen_first = seen_first or kind == "dup" or number == 1
        texts.append(text)
    path = tmp_path / "mix.jsonl"
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    items = list(read_receipts(path))
    good = [int(i.source.rpartition(":")[2]) for i in items if isinstance(i, Record)]
    bad = [int(i.source.rpartition(":")[2]) for i in items if isinstance(i, Bad)]
    assert len(items) == sum(1 for k in kinds if k != "blank") == len(good) + len(bad)  # none lost or invented
    assert (good, bad) == (expect_good, expect_bad)
