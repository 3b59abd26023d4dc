"""JSON Schemas of the contracts, generated from the models that validate them (issue 16, item 2):
the receipt from the msgspec types of its fast decoder (``runtime/model.py``), the bundle payload from
the loader's msgspec model (``runtime/bundle_model.py``), the customer state from its pydantic model
(``runtime/state/records.py``), the YAML programme and the reports from the pydantic models of
``schema_programme`` and ``schema_reports``. ``loya schema NAME`` prints one; the files under
``docs/schemas/`` are these, checked by a test to be up to date.

A schema says what a document's shape is; a few rules only the validator can check (an amount equal
to unit_price × qty, a line_no met twice, a category's depth) are in the docs it links to.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import msgspec
from pydantic import BaseModel, TypeAdapter

from loyadsl.runtime.model import _LineText, _ReceiptText
from loyadsl.runtime.state import CustomerState
from loyadsl.schema_bundle import BundlePayload
from loyadsl.schema_bundle import schema as bundle_schema
from loyadsl.schema_programme import YamlProgramme
from loyadsl.schema_reports import REPORTS

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def receipt() -> dict[str, Any]:
    """A sale as a till sends it (docs/bundle.md, "Receipt"; the state fields: docs/state.md)."""
    raw = json.dumps(msgspec.json.schema(_ReceiptText))
    raw = raw.replace(f'"{_ReceiptText.__name__}"', '"Receipt"').replace(f'"{_LineText.__name__}"', '"Line"')
    raw = raw.replace(f"#/$defs/{_ReceiptText.__name__}", "#/$defs/Receipt").replace(
        f"#/$defs/{_LineText.__name__}", "#/$defs/Line")
    schema: dict[str, Any] = json.loads(raw)
    for name, text in (("Receipt", "A sale: header fields, lines, and the state fields (coupons, redeem, "
                                    "certificates, rewards), and tax (docs/commerce.md). Fields not named here are ignored."),
                       ("Line", "A line: line_no, sku, category, qty, unit_price and amount (minor units, "
                                "amount = unit_price × qty), optional brand, min_price and attrs, kind and "
                                "tax_rate (a percentage; docs/commerce.md).")):
        schema["$defs"][name]["title"] = name
        schema["$defs"][name]["description"] = text
        schema["$defs"][name].pop("additionalProperties", None)  # unknown fields are ignored, not refused
    for field in ("amount", "unit_price"):  # negative on deposit and correction lines (docs/commerce.md)
        prop = schema["$defs"]["Line"]["properties"][field]
        prop.pop("minimum", None)
        prop["description"] = "minor units; >= 0 except on deposit and correction lines"
    return {"$schema": DRAFT, "$id": "https://loyadsl.dev/schemas/receipt.schema.json", **schema}


def customer() -> dict[str, Any]:
    """A customer's state as `loya simulate`, `loya eval` and the engine read it (docs/state.md, section 3)."""
    schema = CustomerState.model_json_schema(mode="validation")
    return {"$schema": DRAFT, "$id": "https://loyadsl.dev/schemas/customer.schema.json", **schema}


def _from_model(name: str, model: type[Any], doc: str) -> Callable[[], dict[str, Any]]:
    def schema() -> dict[str, Any]:
        body = bundle_schema() if model is BundlePayload else TypeAdapter(model).json_schema(mode="validation")
        return {"$schema": DRAFT, "$id": f"https://loyadsl.dev/schemas/{name}.schema.json", **body,
                "description": doc}
    return schema


# The programme, the bundle and the reports (loyadsl/schema_programme.py, schema_bundle.py, schema_reports.py).
MODELS: dict[str, type[BaseModel] | type[BundlePayload]] = {"customer": CustomerState, "programme": YamlProgramme,
                                      "bundle": BundlePayload, **REPORTS}
_DOCS = {
    "programme": "A loyalty programme in YAML, the twin of .loya (docs/language.md, \"The YAML twin\"); values "
                 "are the .loya text after each keyword.",
    "bundle": "The payload of a compiled bundle, the JSON after its envelope line (docs/bundle.md).",
    "simulation": "The report of `loya simulate -f json` (docs/simulate.md). Readers ignore keys they do not know.",
    "collisions": "The matrix of `loya collisions -f json` (docs/collisions.md).",
    "diff": "The comparison of `loya diff -f json`: OLD and NEW over one history (docs/simulate.md, \"Diff JSON\"). "
            "Readers ignore keys they do not know.",
    "ab-assignments": "The table of `loya ab assign -f json` (docs/experiments.md).",
    "ab-report": "The analysis of `loya ab report -f json`: arms, sample ratio check, uplift (docs/experiments.md).",
}
SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    "receipt": receipt, "customer": customer,
    **{name: _from_model(name, MODELS[name], doc) for name, doc in _DOCS.items()},
}


def text(name: str) -> str:
    """The schema as the file under docs/schemas/ holds it."""
    return json.dumps(SCHEMAS[name](), indent=1, ensure_ascii=False, sort_keys=True) + "\n"
