"""Golden tests of line kinds and tax (docs/commerce.md): each folder of tests/commerce/golden holds a
programme, a receipt and the outcome worked out by hand; the YAML twin of every programme and its
formatted text must give the same outcome, and the per-line figures must add up to the totals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, load_bundle
from loyadsl.syntax.parser import parse
from loyadsl.syntax.printer import format_module
from loyadsl.syntax.yaml_twin import to_yaml

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "programme.loya").is_file())


def project(outcome: dict[str, Any]) -> dict[str, Any]:
    return {
        "total": outcome["total"],
        "discount_total": outcome["discount_total"],
        "payable": outcome["payable"],
        "lines": [[line["line_no"], line["discount"], line["payable"]] for line in outcome["lines"]],
        "applied": outcome["applied"],
        "rejected": {r["campaign"]: r["reason"] for r in outcome["rejected"]},
        "tax": outcome.get("tax"),
    }


def run(case: Path, text: str, file: str) -> dict[str, Any]:
    data, result = compile_text(text, file, case / file)
    assert data is not None, [str(d) for d in result.diagnostics]
    receipt = json.loads((case / "receipt.json").read_text(encoding="utf-8"))
    outcome = Engine(load_bundle(data)).evaluate(receipt).to_dict()
    assert outcome["payable"] == sum(line["payable"] for line in outcome["lines"])
    tax = outcome.get("tax")
    if tax is not None:
        for key in ("tax_before", "tax_after", "net", "gross"):
            assert tax[key] == sum(line[key] for line in tax["lines"])
        assert tax["net"] + tax["tax_after"] == tax["gross"]
    return project(outcome)


@pytest.mark.parametrize("name", CASES)
def test_commerce_golden(name: str) -> None:
    case = GOLDEN / name
    text = (case / "programme.loya").read_text(encoding="utf-8")
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    assert run(case, text, "programme.loya") == expected
    module, diags = parse(text, "programme.loya")
    assert module is not None and not diags
    assert run(case, to_yaml(module), "programme.yaml") == expected
    assert run(case, format_module(module), "programme.loya") == expected
