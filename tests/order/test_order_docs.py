"""docs/order.md's examples run: each ```loya programme with the receipt (and customer) after it gives
the outcome the page shows (discount and points per line, rejections)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, load_bundle

PAGE = Path(__file__).resolve().parents[2] / "docs" / "order.md"
BLOCK = re.compile(r"^```(loya|json)\n(.*?)^```", re.M | re.S)


def examples() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for kind, text in BLOCK.findall(PAGE.read_text(encoding="utf-8")):
        if kind == "loya":
            found.append({"programme": text})
            continue
        data = json.loads(text)
        key = "receipt" if "receipt_id" in data else "outcome" if "lines_discount" in data else "customer"
        found[-1][key] = data
    return found


EXAMPLES = examples()


def test_the_page_has_an_example_per_feature() -> None:
    text = "".join(e["programme"] for e in EXAMPLES)
    for feature in ("exclusive receipt", "exclusive lines", "order declared", "not discounted", "payable <",
                    "redistribute floors", "accrue never when redeemed"):
        assert feature in text, feature
    assert all({"receipt", "outcome"} <= set(e) for e in EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: str(EXAMPLES.index(e)))
def test_order_docs_example(example: dict[str, Any]) -> None:
    data, result = compile_text(example["programme"], "example.loya")
    assert data is not None, [str(d) for d in result.diagnostics]
    outcome = Engine(load_bundle(data)).evaluate(example["receipt"], example.get("customer")).to_dict()
    got = {"lines_discount": [line["discount"] for line in outcome["lines"]],
           "lines_points": [line["points"] for line in outcome["lines"]],
           "rejected": {r["campaign"]: r["reason"] for r in outcome["rejected"]}}
    assert got == example["outcome"]
