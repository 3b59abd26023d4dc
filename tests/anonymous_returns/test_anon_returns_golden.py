"""Returns of anonymous receipts (docs/state.md section 7), as data: each ``cases/*.json`` names a
programme of this folder and ``steps``: ``{"receipt": R}`` (an anonymous sale, booked) or ``{"return":
ID, "id": RETURN_ID, "lines": {line_no: qty} | null, "now": T}``; each step's expected figures
(``discount_total`` of a sale; ``money``, ``full`` of a return) and the programme-wide ``counters``
after it (usage-limit uses by key, budget given by campaign). A refused step names its ``error`` code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from anon_host import AnonymousHost

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, LoyaError, load_bundle

HERE = Path(__file__).parent
CASES = sorted((HERE / "cases").glob("*.json"))


def engine_of(name: str) -> Engine:
    data, result = compile_text((HERE / name).read_text(encoding="utf-8"), name)
    assert data is not None, [str(d) for d in result.diagnostics]
    return Engine(load_bundle(data))


def run_step(host: AnonymousHost, step: dict[str, Any]) -> dict[str, Any]:
    try:
        if "receipt" in step:
            return {"discount_total": host.sell(step["receipt"]).discount_total}
        lines = None if step["lines"] is None else {int(k): v for k, v in step["lines"].items()}
        refund = host.give_back(step["return"], lines, step["now"], step["id"])
        return {"money": refund.money, "full": refund.full}
    except LoyaError as exc:
        return {"error": exc.code}


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_anon_returns_golden(case: Path) -> None:
    spec = json.loads(case.read_text(encoding="utf-8"))
    host = AnonymousHost(engine_of(spec["programme"]))
    for i, step in enumerate(spec["steps"]):
        got = {**run_step(host, step["step"]), "counters": host.counters()}
        expected = {k: v for k, v in step.items() if k not in ("step", "why")}
        assert {k: got.get(k) for k in expected} == expected, f"step {i}: {step.get('why', '')}"
