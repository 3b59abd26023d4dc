"""Experiment compile errors as data: each errors/*.loya file states, in `# expect:` comments, every
code and position the checker must report (LOY230-LOY237) and nothing else; its YAML twin must
report the same codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from loyadsl.api import check_text
from loyadsl.syntax.parser import parse
from loyadsl.syntax.yaml_twin import to_yaml

ERRORS = Path(__file__).parent / "errors"
CASES = sorted(p.name for p in ERRORS.glob("*.loya"))
EXPECT = re.compile(r"(LOY\d{3}) (\d+):(\d+)")


def expected(text: str) -> list[tuple[str, int, int]]:
    found = []
    for line in text.splitlines():
        if line.startswith("# expect:"):
            found += [(code, int(row), int(col)) for code, row, col in EXPECT.findall(line)]
    return sorted(found)


@pytest.mark.parametrize("name", CASES)
def test_exp_errors_have_codes_and_spans(name: str) -> None:
    text = (ERRORS / name).read_text(encoding="utf-8")
    result = check_text(text, name)
    got = sorted((d.code, d.span.line, d.span.col) for d in result.diagnostics if d.span is not None)
    assert got == expected(text), [str(d) for d in result.diagnostics]
    assert all(d.is_error and d.hint for d in result.diagnostics)
    assert result.programme is None


@pytest.mark.parametrize("name", CASES)
def test_exp_errors_yaml_twin_reports_the_same_codes(name: str) -> None:
    text = (ERRORS / name).read_text(encoding="utf-8")
    if "# not in YAML" in text:
        pytest.skip("the case cannot be written in YAML")
    module, diags = parse(text, name)
    assert module is not None, diags
    result = check_text(to_yaml(module), "programme.yaml")
    assert sorted(d.code for d in result.diagnostics) == [code for code, _, _ in expected(text)]


def test_exp_every_experiment_code_has_a_case() -> None:
    codes = {code for name in CASES for code, _, _ in expected((ERRORS / name).read_text(encoding="utf-8"))}
    assert codes == {f"LOY23{i}" for i in range(8)}
