"""Segments as data (docs/segments.md): the golden `loya test` files of tests/segments/cases run from
their .loya programme and again from its YAML twin, and the compile-time errors of
tests/segments/diagnostics/cases.yaml with their codes, places and hints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from loyadsl.api import check_text
from loyadsl.mechtest.runner import run_file
from loyadsl.syntax.parser import parse
from loyadsl.syntax.yaml_twin import to_yaml

HERE = Path(__file__).parent
TESTS = sorted((HERE / "cases").glob("*.test.yaml"))
HEADER = ('programme "Seg" { currency RUB minor 2  timezone "Europe/Moscow" }\n'
          "group base { priority 100  stacking stack_all  basis original }\n")
DIAGNOSTICS: list[dict[str, Any]] = yaml.safe_load((HERE / "diagnostics" / "cases.yaml").read_text("utf-8"))


def _passes(path: Path) -> None:
    result = run_file(path, path.name)
    assert not result.errors, [str(d) for d in result.errors]
    assert result.cases and not [str(d) for c in result.cases for d in c.diagnostics]


@pytest.mark.parametrize("path", TESTS, ids=lambda p: p.stem)
def test_golden_case_from_loya(path: Path) -> None:
    _passes(path)


@pytest.mark.parametrize("path", TESTS, ids=lambda p: p.stem)
def test_golden_case_from_the_yaml_twin(path: Path, tmp_path: Path) -> None:
    spec = yaml.safe_load(path.read_text("utf-8"))
    module, diags = parse((path.parent / spec["file"]).read_text("utf-8"))
    assert module is not None and not diags
    (tmp_path / "programme.yaml").write_text(to_yaml(module), "utf-8")
    spec["file"] = "programme.yaml"
    twin = tmp_path / path.name
    twin.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), "utf-8")
    _passes(twin)


def test_a_wrong_expectation_fails(tmp_path: Path) -> None:
    path = TESTS[0]
    (tmp_path / "p.loya").write_text((path.parent / yaml.safe_load(path.read_text("utf-8"))["file"])
                                     .read_text("utf-8"), "utf-8")
    spec = yaml.safe_load(path.read_text("utf-8"))
    spec["file"] = "p.loya"
    spec["cases"][0]["steps"][0]["expect"]["events"] = []  # the newcomer's segment_entered is missing
    (tmp_path / "t.test.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), "utf-8")
    result = run_file(tmp_path / "t.test.yaml", "t.test.yaml")
    assert [d for c in result.cases for d in c.diagnostics]


@pytest.mark.parametrize("case", DIAGNOSTICS, ids=lambda c: c["name"])
def test_compile_time_error(case: dict[str, Any]) -> None:
    diags = [d for d in check_text(HEADER + case["body"], "seg.loya").diagnostics if d.is_error]
    got = [(d.code, d.span.line - 2 if d.span else None, d.span.col if d.span else None) for d in diags]
    assert got == [(e["code"], e["line"], e["col"]) for e in case["expect"]], [str(d) for d in diags]
    for d, e in zip(diags, case["expect"], strict=True):
        assert e.get("message", "") in d.message
        assert e.get("hint", "") in (d.hint or "")
