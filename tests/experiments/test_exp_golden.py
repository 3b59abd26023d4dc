"""Golden experiment cases as data: each folder of golden/ holds a programme, receipts (JSON Lines),
optionally customer states, and per receipt the expected arms, campaigns and totals. The expected
arms follow from the bucket test vectors of docs/experiments.md (each programme's comment says
which). The YAML twin of every programme must give the same outcomes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, load_bundle
from loyadsl.runtime.model import Outcome
from loyadsl.syntax.parser import parse
from loyadsl.syntax.yaml_twin import to_yaml

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "programme.loya").is_file())


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def project(outcome: dict[str, Any]) -> dict[str, Any]:
    return {
        "arms": outcome.get("arms"),
        "applied": outcome["applied"],
        "rejected": {r["campaign"]: r["reason"] for r in outcome["rejected"]},
        "discount_total": outcome["discount_total"],
        "points_total": outcome["points_total"],
    }


def run(case: Path, text: str, file: str) -> dict[str, Any]:
    data, result = compile_text(text, file, case / file)
    assert data is not None, [str(d) for d in result.diagnostics]
    engine = Engine(load_bundle(data))
    customers = {c["id"]: c for c in _jsonl(case / "customers.jsonl")}
    out = {}
    for receipt in _jsonl(case / "receipts.jsonl"):
        outcome = engine.evaluate(receipt, customers.get(receipt["customer_id"]), explain=True)
        stored = outcome.to_dict()
        plain = engine.evaluate(receipt, customers.get(receipt["customer_id"])).to_dict()  # the fast path too
        assert project(plain) == project(stored)
        assert Outcome.from_dict(json.loads(json.dumps(stored))).arms == outcome.arms  # kept through JSON
        out[receipt["receipt_id"]] = project(stored)
        for experiment, arm in (outcome.arms or {}).items():  # the trace names each arm
            said = f"experiment {experiment}: arm {arm} (bucket" if arm else f"experiment {experiment}: anonymous"
            assert any(line.startswith(said) for line in outcome.trace), outcome.trace
    return out


@pytest.mark.parametrize("name", CASES)
def test_exp_golden(name: str) -> None:
    case = GOLDEN / name
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    assert run(case, (case / "programme.loya").read_text(encoding="utf-8"), "programme.loya") == expected


@pytest.mark.parametrize("name", CASES)
def test_exp_golden_yaml_twin(name: str) -> None:
    case = GOLDEN / name
    module, diags = parse((case / "programme.loya").read_text(encoding="utf-8"), "programme.loya")
    assert module is not None, diags
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    assert run(case, to_yaml(module), "programme.yaml") == expected


def test_exp_golden_covers_the_rules() -> None:
    assert {"arm_gates_a_campaign", "anonymous_rule", "group_arm", "two_experiments", "stateful_path"} <= set(CASES)
