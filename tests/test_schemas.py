"""The contracts' JSON Schemas (loyadsl/schemas.py, `loya schema`): generated from the validating
models, checked in under docs/schemas/, and they accept every receipt and customer the examples hold
and refuse what the models refuse for shape."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from loyadsl import schemas
from loyadsl.runtime import Receipt, ReceiptError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@pytest.mark.parametrize("name", sorted(schemas.SCHEMAS))
def test_the_checked_in_schema_is_up_to_date(name: str) -> None:
    assert (ROOT / "docs" / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8") == schemas.text(name), \
        f"run: loya schema {name} -o docs/schemas/{name}.schema.json"


def _jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_every_example_receipt_and_customer_is_valid() -> None:
    receipt = jsonschema.Draft202012Validator(schemas.receipt())
    customer = jsonschema.Draft202012Validator(schemas.customer())
    sales = [r for r in _jsonl(EXAMPLES / "supermarket" / "receipts.jsonl") if "return_of" not in r]
    assert len(sales) > 300
    for r in sales:
        receipt.validate(r)
        Receipt.from_dict(r)
    for c in _jsonl(EXAMPLES / "supermarket" / "customers.jsonl"):
        customer.validate(c)


@pytest.mark.parametrize("change", [{"lines": []}, {"receipt_id": 7}, {"lines": [{"line_no": 1}]},
                                    {"customer_id": ["C1"]}, {"coupons": "WEL-1"}])
def test_a_shape_the_model_refuses_the_schema_refuses(change: dict[str, object]) -> None:
    first = {**_jsonl(EXAMPLES / "supermarket" / "receipts.jsonl")[0], **change}
    with pytest.raises(ReceiptError):
        Receipt.from_dict(first)
    assert not jsonschema.Draft202012Validator(schemas.receipt()).is_valid(first)
