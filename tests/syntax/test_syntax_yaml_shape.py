"""The shape rules of a YAML programme, as data (yaml_shape/cases.yaml): each bad fragment is refused by the
reader with LOY106 at its exact line:column, and by the schema check (LOY124), since both validate with
the one model (loyadsl/schema_programme.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from loyadsl.schema_check import check_yaml_programme
from loyadsl.syntax.yaml_twin import parse_yaml

CASES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "yaml_shape" / "cases.yaml").read_text("utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["rule"] for c in CASES])
def test_each_shape_rule_at_its_position(case: dict[str, Any]) -> None:
    module, diags = parse_yaml(case["yaml"], "p.yaml")
    assert module is None and diags
    first = diags[0]
    assert first.span is not None
    assert f"{first.code} {first.span.line}:{first.span.col}" == case["error"], [str(d) for d in diags]
    assert case["message"] in first.message
    if "hint" in case:
        assert first.hint == case["hint"]
    if case.get("schema", True):  # the schema check refuses it too: one model for both
        assert {d.code for d in check_yaml_programme(case["yaml"], "p.yaml")} == {"LOY124"}

def test_every_case_is_a_different_fragment() -> None:
    assert len({c["yaml"] for c in CASES}) == len(CASES) and len({c["rule"] for c in CASES}) == len(CASES)
