"""Receipt and customer validation (runtime/model.py): precise errors, never anything else."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rt_asm import DELETE, line, receipt, set_at

from loyadsl.runtime import Customer, CustomerError, LoyaError, Receipt, ReceiptError
from loyadsl.runtime.limits import MAX_VALUE


def test_a_benchmark_receipt_parses_exactly() -> None:
    r = Receipt.from_dict(receipt(line("A", 46590, 0.768, "snacks/nuts", "BR120", amount=35781), line("B", 100, 3)))
    first, second = r.lines
    assert (first.qty, first.units, first.price, first.amount, first.brand) == (768, 0, 46590, 35781, "BR120")
    assert (second.qty, second.units, second.index) == (3000, 3, 1)
    assert r.total == 35781 + 300 and r.units == 3768 and r.ordered and r.channel == "pos"
    assert r.datetime == dt.datetime(2025, 3, 5, 12, tzinfo=dt.timezone(dt.timedelta(hours=3)))


@pytest.mark.parametrize(("qty", "thousandths"), [(0.001, 1), (1.5, 1500), (2.35, 2350), (0.1, 100), (7, 7000),
                                                  (1e3, 1000000), (0.768, 768)])
def test_quantities_are_exact_thousandths(qty: float, thousandths: int) -> None:
    assert Receipt.from_dict(receipt(line("A", 100, qty))).lines[0].qty == thousandths


def broken(path: list[Any], value: Any) -> dict[str, Any]:
    data = receipt(line("A", 100, 2), line("B", 50, 1), line("C", 10, 1), line("D", 10, 1))
    return set_at(data, path, value)


@pytest.mark.parametrize(
    ("path", "value", "where", "says"),
    [
        (["lines", 3, "qty"], -1, "lines[3].qty", "must be > 0, got -1"),
        (["lines", 3, "qty"], 0, "lines[3].qty", "must be > 0"),
        (["lines", 0, "qty"], 0.0005, "lines[0].qty", "at most 3 decimals"),
        (["lines", 0, "qty"], float("nan"), "lines[0].qty", "finite"),
        (["lines", 0, "qty"], True, "lines[0].qty", "expected a number, got true"),
        (["lines", 0, "qty"], "1", "lines[0].qty", "expected a number"),
        (["lines", 1, "unit_price"], 1.5, "lines[1].unit_price", "integer"),
        (["lines", 1, "amount"], False, "lines[1].amount", "got false"),
        (["lines", 1, "amount"], DELETE, "lines[1].amount", "required"),
        (["lines", 2, "line_no"], 1, "lines[2].line_no", "appears twice"),
        (["lines", 2, "line_no"], 0, "lines[2].line_no", ">= 1"),
        (["lines", 2, "sku"], "", "lines[2].sku", "non-empty"),
        (["lines", 2, "category"], None, "lines[2].category", "a string"),
        (["lines", 2, "brand"], 7, "lines[2].brand", "a string"),
        (["lines", 2, "min_price"], -1, "lines[2].min_price", ">= 0"),
        (["lines", 2, "attrs"], {"a": 1}, "lines[2].attrs.a", "a string"),
        (["lines", 2], [], "lines[2]", "JSON object"),
        (["lines"], [], "lines", "non-empty"),
        (["datetime"], "2025-03-05T12:00:00", "datetime", "UTC offset"),
        (["datetime"], "yesterday", "datetime", "ISO 8601"),
        (["datetime"], DELETE, "datetime", "required"),
        (["receipt_id"], 5, "receipt_id", "a string"),
        (["store_id"], None, "store_id", "a string"),
        (["customer_id"], 12, "customer_id", "a string or null"),
        (["channel"], 1, "channel", "a string"),
    ],
)
def test_receipt_errors_name_the_place(path: list[Any], value: Any, where: str, says: str) -> None:
    with pytest.raises(ReceiptError) as info:
        Receipt.from_dict(broken(path, value))
    assert info.value.code == "LOY501"
    assert info.value.where == where
    assert says in info.value.message and info.value.message.startswith(where)


def test_the_brief_example_message() -> None:
    with pytest.raises(ReceiptError, match=r"^lines\[3\]\.qty: must be > 0, got -1$"):
        Receipt.from_dict(broken(["lines", 3, "qty"], -1))


def test_optional_fields() -> None:
    r = Receipt.from_dict(receipt(line("A", 100, 2, min_price=80, attrs={"country": "RU"}, brand=None),
                                  channel="online", currency="RUB"))
    (only,) = r.lines
    assert only.floor == 160 and only.attrs == {"country": "RU"} and only.brand == ""
    assert r.channel == "online" and r.currency == "RUB" and r.floors
    weighted = Receipt.from_dict(receipt(line("W", 999, 0.333, min_price=999, amount=333))).lines[0]
    assert weighted.floor == 333  # ⌈999 × 0.333⌉ = ⌈332.667⌉


def test_unordered_line_numbers_are_kept_in_the_given_order() -> None:
    r = Receipt.from_dict(receipt(line("A", 1, line_no=5), line("B", 1, line_no=2)))
    assert [x.line_no for x in r.lines] == [5, 2] and not r.ordered


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**20) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=20,
)
line_keys = st.sampled_from(["line_no", "sku", "category", "brand", "qty", "unit_price", "amount", "min_price",
                             "attrs", "other"])


@st.composite
def almost_receipts(draw: st.DrawFn) -> Any:
    """Valid receipts with a few fields replaced by arbitrary JSON, or arbitrary JSON."""
    if draw(st.integers(0, 9)) == 0:
        return draw(json_values)
    data = receipt(*[line(f"S{i}", draw(st.integers(0, 10**6)), draw(st.integers(1, 5))) for i in range(3)])
    lines = data["lines"]
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.booleans()):
            data[draw(st.sampled_from(["receipt_id", "customer_id", "datetime", "store_id", "lines", "channel",
                                       "currency"]))] = draw(json_values)
        else:
            lines[draw(st.integers(0, 2))][draw(line_keys)] = draw(json_values)
    return data


@settings(max_examples=400)
@given(almost_receipts())
def test_from_dict_raises_only_receipt_errors(data: Any) -> None:
    try:
        Receipt.from_dict(data)
    except ReceiptError as exc:
        assert exc.code in ("LOY501", "LOY504", "LOY505") and exc.message  # malformed, a limit, an amount
        json.dumps(exc.message)


def test_customer_from_dict() -> None:
    c = Customer.from_dict({"id": "C1", "tier": "gold", "segments": ["vip"], "attributes": {"city": "Москва"},
                            "birthday": "1990-05-17", "balance": 10})
    assert c.birthday == dt.date(1990, 5, 17) and c.view.segments == frozenset({"vip"}) and c.view.known
    assert Customer.from_dict({"id": "C2"}).view.tier == ""


@pytest.mark.parametrize(("data", "where"), [({"id": 5}, "id"), ({}, "id"), ({"id": "C", "segments": "vip"}, "segments"),
                                             ({"id": "C", "segments": ["a", 1]}, "segments[1]"),
                                             ({"id": "C", "birthday": "someday"}, "birthday"), ([1], None)])
def test_customer_errors(data: Any, where: str | None) -> None:
    with pytest.raises(CustomerError) as info:
        Customer.from_dict(data)
    assert info.value.code == "LOY502" and info.value.where == where
    assert isinstance(info.value, LoyaError)


_LINE_FIELDS = ("line_no", "sku", "category", "brand", "qty", "units", "price", "amount", "min_price", "floor",
                "attrs", "index")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.fixed_dictionaries(
    {"sku": st.sampled_from(["A", "B"]), "category": st.sampled_from(["", "dairy/milk"]),
     "qty": st.one_of(st.integers(1, 10**9), st.integers(1, 10**6).map(lambda m: m / 1000)),
     "unit_price": st.integers(0, 10**6), "off": st.integers(-600, 600)},
    optional={"brand": st.sampled_from([None, "", "BR1"]), "min_price": st.sampled_from([None, 5]),
              "attrs": st.sampled_from([None, {"k": "v"}]), "extra": st.just(1)}), min_size=1, max_size=5))
def test_the_fast_line_path_agrees_with_the_careful_one(items: list[dict[str, Any]]) -> None:
    from loyadsl.runtime.model import _line

    data = receipt()  # amounts within a few minor units of unit_price × qty: some in the tolerance, some not
    data["lines"] = [dict(item, line_no=i + 1, amount=max(0, item["unit_price"] * round(item["qty"] * 1000) // 1000
                                                          + item.pop("off") // 100))
                     for i, item in enumerate(items)]
    try:
        parsed = Receipt.from_dict(data)
    except ReceiptError as exc:  # the careful path refuses the same line, with the same code
        if exc.code == "LOY504":  # every line passes, but together they add up to more than MAX_VALUE
            assert exc.where == "lines" and sum(line["amount"] for line in data["lines"]) > MAX_VALUE
            return
        assert exc.code == "LOY505"
        index = int(exc.where.split("]")[0].removeprefix("lines["))
        with pytest.raises(ReceiptError) as careful:
            _line(data["lines"][index], index)
        assert (careful.value.code, careful.value.where) == (exc.code, exc.where)
        return
    for i, (got, raw) in enumerate(zip(parsed.lines, data["lines"], strict=True)):
        want = _line(raw, i)
        want.index = i
        assert [getattr(got, f) for f in _LINE_FIELDS] == [getattr(want, f) for f in _LINE_FIELDS]
    assert parsed.total == sum(x.amount for x in parsed.lines) and parsed.units == sum(x.qty for x in parsed.lines)
    assert parsed.floors == any(x.floor > 0 for x in parsed.lines)


def test_outcome_rows_behave_like_tuples_of_named_tuples() -> None:
    import pickle

    from loyadsl.runtime import LineOutcome
    from loyadsl.runtime.model import Rows

    plain = ((1, "A", 100, 10, 90, 3), (2, "B", 50, 0, 50, 1))
    rows = Rows(LineOutcome, plain)
    named = tuple(LineOutcome(*row) for row in plain)
    assert rows == named and named == rows and rows == Rows(LineOutcome, plain) and hash(rows) == hash(named)
    assert rows != Rows(LineOutcome, plain[:1]) and rows != list(named)
    assert len(rows) == 2 and rows[1].payable == 50 and rows[-1] == named[-1] and rows[:1] == named[:1]
    assert [x.points for x in rows] == [3, 1] and list(reversed(rows)) == list(reversed(named))
    assert named[0] in rows and rows.index(named[1]) == 1 and repr(rows) == repr(named)
    assert pickle.loads(pickle.dumps(rows)) == rows and type(rows[0]) is LineOutcome
