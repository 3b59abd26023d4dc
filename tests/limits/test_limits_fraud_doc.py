"""The examples of docs/limits-fraud.md run: each ```loya block compiles, and the ```json block after
it lists receipts (filled in with a default time and one 100.00 line; or ``{"customers": [states
before], "receipts": [...]}``) that, evaluated in order on one
host (tests/limits/test_limits_golden.py's ``Host``: uses committed, states applied), get the campaigns,
points and anti-fraud flags it says."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from test_limits_golden import Host

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, load_bundle
from loyadsl.runtime.state import CustomerState

DOC = Path(__file__).resolve().parents[2] / "docs" / "limits-fraud.md"
BLOCK = re.compile(r"^```(loya|json)\n(.*?)^```", re.M | re.S)
DEFAULT = {"datetime": "2026-03-01T12:00:00+03:00", "store_id": "S1",
           "lines": [{"line_no": 1, "sku": "A", "category": "food", "qty": 1, "unit_price": 10000, "amount": 10000}]}


def examples() -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for kind, body in BLOCK.findall(DOC.read_text(encoding="utf-8")):
        if kind == "loya":
            out.append((body, None))
        elif out and out[-1][1] is None:
            out[-1] = (out[-1][0], json.loads(body))
    return out


def test_the_page_has_examples_with_receipts() -> None:
    assert sum(1 for _, steps in examples() if steps) >= 3


@pytest.mark.parametrize("index", range(len(examples())))
def test_the_example_runs(index: int) -> None:
    text, steps = examples()[index]
    data, result = compile_text(text, "example.loya")
    assert data is not None, [str(d) for d in result.diagnostics]
    host = Host(Engine(load_bundle(data)))
    if isinstance(steps, dict):  # {"customers": [states before], "receipts": [...]}
        for raw in steps["customers"]:
            host.states[raw["id"]] = CustomerState.from_dict(raw, host.engine.bundle.state)
        steps = steps["receipts"]
    for step in steps or ():
        receipt = {**DEFAULT, **step["receipt"]}
        got = host.calculate(receipt)
        assert host.apply(receipt["receipt_id"]) == {"ok": True}
        assert {k: got[k] for k in step if k != "receipt"} == {k: v for k, v in step.items() if k != "receipt"}, \
            receipt["receipt_id"]
