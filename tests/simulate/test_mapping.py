"""Column mappings: the two ways to write one, every check on them, and the conversions they make."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyadsl.simulate.mapping import IDENTITY, FieldError, Mapping, MappingError, load_mapping

HEAD = {"receipt_id": "R1", "customer_id": "C1", "datetime": "2026-03-02T10:15:00+03:00", "store_id": "S1"}


def line(**fields: Any) -> dict[str, Any]:
    return {"line_no": 1, "sku": "A", "category": "c", "qty": 1, "unit_price": 100, "amount": 100, **fields}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "map.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------- the two forms


def test_spec_string_covers_columns_scale_defaults_attrs_and_options() -> None:
    m = Mapping.from_spec("receipt_id=CHECK_ID, sku=ITEM,scale.amount=100,default.store_id=7,attrs.dept=DEPT,"
                          "timezone=Europe/Moscow,date=D,time=T,datetime_format=%d.%m.%Y %H:%M,delimiter=;,"
                          "decimal=comma,derive=unit_price")
    assert m.columns == {"receipt_id": "CHECK_ID", "sku": "ITEM"}
    assert m.scale == {"amount": Decimal(100)}
    assert m.defaults == {"store_id": "7"}
    assert m.attrs == {"dept": "DEPT"}
    assert m.timezone is not None and m.timezone.key == "Europe/Moscow"
    assert (m.date_column, m.time_column, m.datetime_format) == ("D", "T", "%d.%m.%Y %H:%M")
    assert (m.delimiter, m.decimal_comma, m.derive) == (";", True, "unit_price")


def test_yaml_file_equals_spec_string(tmp_path: Path) -> None:
    path = write(tmp_path, "columns: {receipt_id: CHECK_ID, sku: ITEM, attrs: {dept: DEPT}}\n"
                           "scale: {amount: 100, qty: 0.001}\ndefaults: {store_id: '7'}\n")
    from_file = Mapping.from_file(path)
    from_spec = Mapping.from_spec("receipt_id=CHECK_ID,sku=ITEM,attrs.dept=DEPT,scale.amount=100,"
                                  "scale.qty=0.001,default.store_id=7")
    for name in ("columns", "attrs", "scale", "defaults"):
        assert getattr(from_file, name) == getattr(from_spec, name)
    assert from_file.scale["qty"] == Decimal("0.001")  # exactly, not the double nearest 0.001


def test_load_mapping_picks_one_form() -> None:
    assert load_mapping() is IDENTITY
    assert load_mapping("sku=ITEM").columns == {"sku": "ITEM"}
    with pytest.raises(MappingError, match="not both"):
        load_mapping("sku=ITEM", "map.yaml")


@pytest.mark.parametrize(("spec", "message"), [
    ("skuu=ITEM", "unknown field `skuu` (did you mean `sku`?)"),
    ("ITEM", "`ITEM` is not FIELD=COLUMN"),
    ("scale.price=100", "scale: unknown field `price`"),
    ("scale.amount=0", "scale.amount: expected a number > 0"),
    ("scale.amount=lots", "scale.amount: expected a number > 0"),
    ("default.receipt_id=1", "receipt_id cannot have a default"),
    ("default.colour=red", "defaults: unknown field `colour`"),
    ("timezone=Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
    ("derive=qty", "derive: expected amount or unit_price"),
    ("time=T", "datetime.time needs datetime.date"),
    ("datetime=DT,date=D", "either columns.datetime or datetime.date"),
    ("delimiter=;;", "csv.delimiter: one character"),
    ("encoding=klingon", "unknown encoding 'klingon'"),
    ("format=xlsx", "format: expected one of csv, jsonl, parquet"),
])
def test_bad_spec_names_the_problem(spec: str, message: str) -> None:
    with pytest.raises(MappingError) as info:
        Mapping.from_spec(spec)
    assert message in str(info.value)
    assert str(info.value).startswith("--map")


@pytest.mark.parametrize(("text", "message"), [
    ("columns: [a, b]\n", "map.yaml: columns: expected an object"),
    ("colums: {sku: ITEM}\n", "unknown key `colums` (did you mean `columns`?)"),
    ("columns: {sku: }\n", "columns.sku: expected a column name"),
    ("datetime: {date: D, clock: T}\n", "map.yaml: datetime: unknown key `clock`"),
    ("- just a list\n", "a mapping is a YAML object"),
    ("decimal: ';'\n", "decimal: expected . or ,"),
])
def test_bad_file_names_the_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(MappingError) as info:
        Mapping.from_file(write(tmp_path, text))
    assert message in str(info.value)


def test_yaml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"map\.yaml:2:1: not valid YAML"):
        Mapping.from_file(write(tmp_path, "columns:\n\tsku: ITEM\n"))


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="cannot read the mapping"):
        Mapping.from_file(tmp_path / "absent.yaml")


def test_empty_file_is_the_identity(tmp_path: Path) -> None:
    assert Mapping.from_file(write(tmp_path, "")).columns == {}


# ------------------------------------------------------------------------------------- columns check


def test_check_columns_of_a_whole_schema() -> None:
    m = Mapping.from_spec("sku=ITEM")
    header = ["receipt_id", "datetime", "store_id", "ITEM", "category", "qty", "unit_price", "amount"]
    m.check_columns(header, None, "f.csv", complete=True)
    with pytest.raises(MappingError, match=r"f\.csv: no column `ITEM` for sku; the file has: amount, "):
        m.check_columns([c for c in header if c != "ITEM"], None, "f.csv", complete=True)
    with pytest.raises(MappingError, match=r"no column `store_id` for store_id \(map one: --map store_id=COLUMN"):
        IDENTITY.check_columns([c for c in header if c != "store_id"], None, "f.csv", complete=True)
    # a default or a derivation stands in for a column
    Mapping.from_spec("default.store_id=1").check_columns(
        [c for c in header if c != "store_id"] + ["sku"], None, "f.csv", complete=True)
    Mapping.from_spec("derive=amount").check_columns(
        [c for c in header if c != "amount"] + ["sku"], None, "f.csv", complete=True)
    with pytest.raises(MappingError, match=r"no column `DEPT` for attrs\.dept"):
        Mapping.from_spec("attrs.dept=DEPT").check_columns([*header, "sku"], None, "f.csv", complete=True)


def test_check_columns_of_one_record_only_checks_mapped_required_fields() -> None:
    m = Mapping.from_spec("sku=ITEM,customer_id=CARD")
    m.check_columns(HEAD.keys() - {"customer_id"}, ["ITEM"], "f.jsonl:1", complete=False)  # CARD optional
    with pytest.raises(MappingError, match=r"f\.jsonl:1: no column `ITEM` for sku; the lines have: sku"):
        m.check_columns(HEAD.keys(), ["sku"], "f.jsonl:1", complete=False)


# ------------------------------------------------------------------------------------- conversions


def test_identity_keeps_a_canonical_receipt() -> None:
    lines = [line(brand="B", attrs={"organic": "yes"}), line(line_no=2, qty=0.768, min_price=50)]
    built = IDENTITY.build({**HEAD, "lines": lines, "week": 1}, lines)
    assert built == {**HEAD, "lines": lines}  # unknown fields (week) are not part of a receipt


def test_decimal_money_is_scaled_exactly() -> None:
    m = Mapping.from_spec("scale.unit_price=100,scale.amount=100")
    built = m.build(HEAD, [line(unit_price="12.34", amount="24.68", qty="2"), line(line_no=2, unit_price=0.1,
                                                                                  amount=Decimal("0.30"), qty=3)])
    assert [(x["unit_price"], x["amount"], x["qty"]) for x in built["lines"]] == [(1234, 2468, 2), (10, 30, 3)]
    with pytest.raises(FieldError, match=r"lines\[0\]\.amount: '12.345' is not a whole number of minor units"):
        m.build(HEAD, [line(amount="12.345")])


def test_decimal_money_without_scale_says_how_to_fix() -> None:
    with pytest.raises(FieldError, match=r"scale: \{unit_price: 100\} reads decimal currency"):
        IDENTITY.build(HEAD, [line(unit_price="12.34")])
    assert IDENTITY.build(HEAD, [line(unit_price="1234")])["lines"][0]["unit_price"] == 1234


def test_decimal_comma_and_spaces() -> None:
    m = Mapping.from_spec("decimal=comma,scale.amount=100")
    built = m.build(HEAD, [line(amount="1 234,50", qty="0,768")])
    assert (built["lines"][0]["amount"], built["lines"][0]["qty"]) == (123450, 0.768)


def test_quantities() -> None:
    build = IDENTITY.build
    assert build(HEAD, [line(qty="2")])["lines"][0]["qty"] == 2
    assert build(HEAD, [line(qty="0.768")])["lines"][0]["qty"] == 0.768
    with pytest.raises(FieldError, match=r"lines\[0\]\.qty: at most 3 decimals, got '0.7685'"):
        build(HEAD, [line(qty="0.7685")])
    with pytest.raises(FieldError, match=r"lines\[0\]\.qty: expected a number, got 'two'"):
        build(HEAD, [line(qty="two")])
    grams = Mapping.from_spec("scale.qty=0.001")
    assert grams.build(HEAD, [line(qty="768")])["lines"][0]["qty"] == 0.768


def test_derived_amount_and_price_round_half_up() -> None:
    amount = Mapping.from_spec("derive=amount").build(HEAD, [line(amount=None, unit_price=333, qty=0.5)])
    assert amount["lines"][0]["amount"] == 167  # 166.5 -> 167
    price = Mapping.from_spec("derive=unit_price").build(HEAD, [line(unit_price=None, amount=1000, qty=3)])
    assert price["lines"][0]["unit_price"] == 333
    given_amount = Mapping.from_spec("derive=amount").build(HEAD, [line(amount=90, unit_price=50, qty=2)])
    assert given_amount["lines"][0]["amount"] == 90  # a multi-buy price the export states stays


def test_missing_line_numbers_follow_row_order() -> None:
    built = IDENTITY.build(HEAD, [line(line_no=None, sku="A"), line(line_no=None, sku="B")])
    assert [(x["line_no"], x["sku"]) for x in built["lines"]] == [(1, "A"), (2, "B")]
    assert next(iter(built["lines"][0])) == "line_no"
    partly = IDENTITY.build(HEAD, [line(line_no=None), line(line_no=5)])  # some given: no guessing
    assert "line_no" not in partly["lines"][0] and partly["lines"][1]["line_no"] == 5


def test_defaults_fill_missing_and_null_values() -> None:
    m = Mapping.from_spec("default.category=,default.store_id=1,default.currency=USD")
    built = m.build({**HEAD, "store_id": None}, [line(category=None)])
    assert (built["store_id"], built["currency"], built["lines"][0]["category"]) == ("1", "USD", "")


def test_integer_identifiers_become_strings() -> None:
    built = IDENTITY.build({**HEAD, "receipt_id": 31198515122, "customer_id": 993, "store_id": 32004},
                           [line(sku=840361)])
    assert (built["receipt_id"], built["customer_id"], built["store_id"], built["lines"][0]["sku"]) == \
        ("31198515122", "993", "32004", "840361")
    assert IDENTITY.build({**HEAD, "receipt_id": 1.5}, [line()])["receipt_id"] == 1.5  # left for validation


def test_absent_required_fields_stay_absent_for_validation_to_name() -> None:
    built = IDENTITY.build({"receipt_id": "R1"}, [line()])
    assert "store_id" not in built and "datetime" not in built and built["customer_id"] is None


def test_line_attributes_from_columns() -> None:
    m = Mapping.from_spec("attrs.dept=DEPT,attrs.size=SIZE")
    built = m.build(HEAD, [line(DEPT="GROCERY", SIZE=12, attrs={"organic": "yes"}), line(line_no=2, DEPT=None)])
    assert built["lines"][0]["attrs"] == {"organic": "yes", "dept": "GROCERY", "size": "12"}
    assert "attrs" not in built["lines"][1]


@pytest.mark.parametrize(("spec", "head", "expected"), [
    ("timezone=America/New_York", {"datetime": "2017-07-04T09:16:13"}, "2017-07-04T09:16:13-04:00"),
    ("timezone=America/New_York", {"datetime": "2017-01-04T09:16:13"}, "2017-01-04T09:16:13-05:00"),
    ("timezone=America/New_York", {"datetime": "2017-01-04T09:16:13+01:00"}, "2017-01-04T09:16:13+01:00"),
    ("date=D,time=T,datetime_format=%d.%m.%Y %H:%M:%S,timezone=Europe/Moscow",
     {"D": "02.03.2026", "T": "10:15:00"}, "2026-03-02T10:15:00+03:00"),
    ("date=D,time=T,timezone=UTC", {"D": "2026-03-02", "T": "10:15"}, "2026-03-02T10:15:00+00:00"),
    ("date=D,timezone=UTC", {"D": "2026-03-02"}, "2026-03-02T00:00:00+00:00"),
    ("datetime_format=unix,timezone=Europe/Moscow", {"datetime": "1772435700"}, "2026-03-02T10:15:00+03:00"),
    ("datetime_format=unix_ms", {"datetime": 1772435700000}, "2026-03-02T07:15:00+00:00"),
])
def test_datetimes(spec: str, head: dict[str, Any], expected: str) -> None:
    built = Mapping.from_spec(spec).build({**HEAD, "datetime": None, **head}, [line()])
    assert built["datetime"] == expected


def test_datetime_problems() -> None:
    with pytest.raises(FieldError, match="has no UTC offset; set timezone in the mapping"):
        Mapping.from_spec("datetime_format=%d.%m.%Y").build({**HEAD, "datetime": "02.03.2026"}, [line()])
    with pytest.raises(FieldError, match=r"datetime: expected the format '%d.%m.%Y', got '2026-03-02'"):
        Mapping.from_spec("datetime_format=%d.%m.%Y").build({**HEAD, "datetime": "2026-03-02"}, [line()])
    with pytest.raises(FieldError, match="the date column `D` is empty"):
        Mapping.from_spec("date=D").build(HEAD, [line()])
    with pytest.raises(FieldError, match="expected unix seconds"):
        Mapping.from_spec("datetime_format=unix").build({**HEAD, "datetime": "soon"}, [line()])


def test_flat_rows_must_agree_on_receipt_fields() -> None:
    rows = [{**HEAD, **line()}, {**HEAD, **line(line_no=2), "customer_id": "C2"}]
    with pytest.raises(FieldError, match="customer_id: the rows of one receipt disagree: 'C1' at 7, 'C2' at 9"):
        IDENTITY.build(rows[0], rows, [7, 9])


def test_state_fields_from_cells() -> None:
    m = Mapping.from_spec("coupons=C,redeem=P,certificates=G")
    built = m.build({**HEAD, "C": "WEL-1; SUMMER25", "P": "max", "G": "GC-1:20000;GC-2"}, [line()])
    assert built["coupons"] == ["WEL-1", "SUMMER25"]
    assert built["redeem"] == {"points": "max"}
    assert built["certificates"] == [{"code": "GC-1", "amount": 20000}, {"code": "GC-2"}]
    assert m.build({**HEAD, "P": "500"}, [line()])["redeem"] == {"points": 500}
    with pytest.raises(FieldError, match="redeem: expected points"):
        m.build({**HEAD, "P": "lots"}, [line()])


def test_a_return_keeps_line_numbers_and_quantities() -> None:
    built = IDENTITY.build({**HEAD, "return_of": "R0"}, [{"line_no": "2", "qty": "1", "sku": "A"}])
    assert built["return_of"] == "R0" and built["lines"] == [{"line_no": 2, "qty": 1}]


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_scaled_money_is_exact_for_any_two_decimal_amount(value: Decimal) -> None:
    m = Mapping.from_spec("scale.amount=100")
    built = m.build(HEAD, [line(amount=str(value))])
    assert built["lines"][0]["amount"] == int(value * 100)
