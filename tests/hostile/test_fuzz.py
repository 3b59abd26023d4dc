"""Generated hostile input: receipts and customer records with wrong types, huge values, long and odd
strings (lone surrogates, NUL, right-to-left marks), missing and unknown fields. ``Receipt.from_dict``,
``CustomerState.from_dict`` and ``Engine.evaluate`` (the supermarket example) either accept them or
raise a ``LoyaError`` with a registered code and a printable message: nothing else."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyadsl.api import compile_file
from loyadsl.runtime import Engine, LoyaError, Receipt, load_bundle
from loyadsl.runtime.codes import CODES
from loyadsl.runtime.state import CustomerState, read_customer

ROOT = Path(__file__).resolve().parent.parent.parent
LINE = {"line_no": 1, "sku": "SKU1", "category": "dairy/milk", "brand": "BR1", "qty": 1, "unit_price": 100,
        "amount": 100}
RECEIPT = {"receipt_id": "R1", "customer_id": "C1", "datetime": "2025-03-05T12:00:00+03:00", "store_id": "S001",
           "lines": [LINE]}
CUSTOMER = {"id": "C1", "tier": "silver", "segments": ["vip"], "attributes": {"city": "Москва"}, "receipts": 3,
            "accounts": {"bonus": {"balance": 50, "lots": [{"id": "L1", "points": 50, "left": 50,
                                                                "active_from": "2025-01-01T00:00:00+03:00"}]}},
            "coupons": [{"code": "WELCOME", "series": "welcome", "issued": "2025-01-01T00:00:00+03:00",
                         "valid_from": "2025-01-01T00:00:00+03:00"}]}

odd_text = st.one_of(
    st.text(max_size=6),
    st.sampled_from(["", "\x00", "\ud800", "a\udfff", "\u202e", "\ufeff", "🙂", "а/б", "a" * 1001, "a/" * 600,
                     "2025-03-05T12:00:00+03:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00",
                     "2025-02-30T00:00:00Z", "max"]),
)
huge = st.sampled_from([0, -1, 1, 10**15, 10**15 + 1, -(10**15) - 1, 2**63, 10**40, -(10**40), 10**4000])
scalars = st.one_of(st.none(), st.booleans(), huge, st.integers(-10**6, 10**6),
                    st.floats(allow_nan=True, allow_infinity=True), odd_text)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(odd_text, inner, max_size=3),
                      max_leaves=8)


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [at] if at else []
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*at, index))
    return out


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any], extra_keys: list[str]) -> dict[str, Any]:
    """``base`` with a few places replaced by hostile values, deleted, or unknown fields added."""
    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(data)
        if not paths:
            break
        *head, last = draw(st.sampled_from(paths))
        holder: Any = data
        for part in head:
            holder = holder[part]
        action = draw(st.integers(0, 5))
        if action == 0 and isinstance(holder, dict):
            del holder[last]
        elif action == 1 and isinstance(holder, dict):
            holder[draw(st.sampled_from(extra_keys) | odd_text)] = draw(values)
        else:
            holder[last] = draw(values)
    return data


@pytest.fixture(scope="module")
def engine() -> Engine:
    data, result = compile_file(ROOT / "examples" / "supermarket" / "programme.loya")
    assert data is not None, result.diagnostics
    return Engine(load_bundle(data))


def _only_coded(call: Any) -> None:
    try:
        call()
    except LoyaError as exc:
        assert exc.code in CODES and exc.code != "LOY999", exc
        exc.message.encode("utf-8")  # printable
        assert len(exc.message) < 2000


RECEIPT_KEYS = ["coupons", "redeem", "certificates", "channel", "currency", "min_price", "attrs", "return_of"]
CUSTOMER_KEYS = ["registered", "birthday", "children_birthdays", "counters", "certificates", "qualification",
                 "usage", "referral", "shared", "returns", "coupon_uses", "consents"]


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutated(RECEIPT, RECEIPT_KEYS))
def test_hostile_receipts_only_raise_coded_errors(engine: Engine, receipt: dict[str, Any]) -> None:
    _only_coded(lambda: Receipt.from_dict(copy.deepcopy(receipt)))
    _only_coded(lambda: engine.evaluate(copy.deepcopy(receipt)).to_dict())
    _only_coded(lambda: engine.evaluate(copy.deepcopy(receipt), CUSTOMER).to_dict())


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutated(CUSTOMER, CUSTOMER_KEYS))
def test_hostile_customers_only_raise_coded_errors(engine: Engine, customer: dict[str, Any]) -> None:
    _only_coded(lambda: CustomerState.from_dict(copy.deepcopy(customer)))
    _only_coded(lambda: engine.evaluate(copy.deepcopy(RECEIPT), copy.deepcopy(customer)).to_dict())
    try:
        text = json.dumps(customer)
    except ValueError:  # an integer too long for str(): JSON text cannot hold it either
        return
    _only_coded(lambda: read_customer(text, "c.jsonl:1"))
