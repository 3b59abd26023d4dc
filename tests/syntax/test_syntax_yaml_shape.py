"""The shape rules of a YAML programme, as data (yaml_shape/cases.yaml): each bad fragment is refused by the
reader with LOY106 at its exact line:column, and by the schema check (LOY124) at the same place in the
same words, since both run the one shape check (loyadsl/syntax/yaml_shape.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from loyadsl.schema_check import check_yaml_programme
from loyadsl.syntax.parser import parse
from loyadsl.syntax.yaml_twin import parse_yaml, to_yaml

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
    checked = check_yaml_programme(case["yaml"], "p.yaml")  # the schema check: the same place and words
    assert {d.code for d in checked} == {"LOY124"} and checked[0].span is not None, [str(d) for d in checked]
    assert (checked[0].span.line, checked[0].span.col) == (first.span.line, first.span.col), str(checked[0])
    assert checked[0].message.endswith(f": {first.message}")
    if first.hint:
        assert checked[0].hint == first.hint

def test_every_case_is_a_different_fragment() -> None:
    assert len({c["yaml"] for c in CASES}) == len(CASES) and len({c["rule"] for c in CASES}) == len(CASES)


PROGRAMMES = sorted((Path(__file__).parent / "programmes").glob("*.loya"))


def _keys(node: Node) -> list[ScalarNode]:
    """Every key of a composed document, outermost first, but those of `strategies` (a strategy's
    settings are any words: `loya offers` reads them)."""
    if isinstance(node, MappingNode):
        return [found for key, value in node.value if key.value != "strategies"
                for found in [key, *_keys(value)]]
    if isinstance(node, SequenceNode):
        return [key for item in node.value for key in _keys(item)]
    return []


@pytest.mark.parametrize("path", PROGRAMMES, ids=[p.name for p in PROGRAMMES])
def test_a_misspelt_key_anywhere_is_reported_at_that_key(path: Path) -> None:
    """In the twin of each syntax programme, misspell one key at a time: the reader either accepts it (a
    name the author chooses: a profile field, a rounding target) or refuses it first at that key."""
    module, _ = parse(path.read_text("utf-8"), path.name)
    assert module is not None
    text = to_yaml(module)
    refused = 0
    for key in _keys(yaml.compose(text)):
        start, end = key.start_mark.index, key.end_mark.index
        mutant = text[:start] + key.value + "zq" + text[end:]
        again, diags = parse_yaml(mutant, "p.yaml")
        if again is None:
            refused += 1
            first = diags[0]
            assert first.span is not None and (first.code, first.span.line, first.span.col) == (
                "LOY106", key.start_mark.line + 1, key.start_mark.column + 1), (key.value, [str(d) for d in diags])
    assert refused > 0
