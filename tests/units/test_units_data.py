"""Unit-level discounts and redemption in steps (docs/units.md) as data:

* every ``*.test.yaml`` here is a golden `loya test` file (programme + receipts + hand-computed outcome),
  run from the .loya programme and again from its YAML twin;
* every ``errors/*.loya`` states in ``# expect:`` comments each code and position the checker must
  report, and nothing else; its YAML twin reports the same codes;
* the example of docs/units.md compiles and gives the outcome the page states.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from loyadsl.api import check_text, compile_text
from loyadsl.mechtest.runner import run_file
from loyadsl.runtime import Engine, load_bundle
from loyadsl.syntax.formatter import format_loya
from loyadsl.syntax.parser import parse
from loyadsl.syntax.yaml_twin import to_yaml

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
TESTS = sorted(HERE.glob("*.test.yaml"))
ERRORS = sorted((HERE / "errors").glob("*.loya"))
EXPECT = re.compile(r"(LOY\d{3}) (\d+):(\d+)")
MINE = {"LOY265", "LOY266", "LOY267", "LOY268"}


@pytest.mark.parametrize("path", TESTS, ids=lambda p: p.name)
def test_units_golden_file_passes(path: Path) -> None:
    result = run_file(path, path.name)
    assert not result.errors, [str(d) for d in result.errors]
    assert result.cases and not [str(d) for c in result.cases for d in c.diagnostics]


@pytest.mark.parametrize("path", TESTS, ids=lambda p: p.name)
def test_units_golden_file_passes_on_the_yaml_twin(path: Path, tmp_path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    programme = re.search(r"^file: (\S+)$", text, re.M)
    assert programme is not None
    module, diags = parse((HERE / programme.group(1)).read_text(encoding="utf-8"), programme.group(1))
    assert module is not None, diags
    (tmp_path / "programme.yaml").write_text(to_yaml(module), encoding="utf-8")
    test = tmp_path / path.name
    test.write_text(text.replace(f"file: {programme.group(1)}", "file: programme.yaml"), encoding="utf-8")
    result = run_file(test, path.name)
    assert not result.errors, [str(d) for d in result.errors]
    assert result.cases and not [str(d) for c in result.cases for d in c.diagnostics]


def expected(text: str) -> list[tuple[str, int, int]]:
    return sorted((code, int(row), int(col)) for line in text.splitlines() if line.startswith(("# expect:", "    # expect:"))
                  for code, row, col in EXPECT.findall(line))


@pytest.mark.parametrize("path", ERRORS, ids=lambda p: p.name)
def test_units_errors_have_codes_and_spans(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    result = check_text(text, path.name)
    got = sorted((d.code, d.span.line, d.span.col) for d in result.diagnostics if d.span is not None and d.is_error)
    assert got == expected(text), [str(d) for d in result.diagnostics]
    assert all(d.hint for d in result.diagnostics if d.code in MINE)
    assert result.programme is None


@pytest.mark.parametrize("path", ERRORS, ids=lambda p: p.name)
def test_units_errors_yaml_twin_reports_the_same_codes(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    module, diags = parse(text, path.name)
    assert module is not None, diags
    result = check_text(to_yaml(module), "programme.yaml")
    assert sorted(d.code for d in result.diagnostics if d.is_error) == sorted(c for c, _, _ in expected(text))


def test_units_every_code_has_an_error_case() -> None:
    found = {code for path in ERRORS for code, _, _ in expected(path.read_text(encoding="utf-8"))}
    assert found >= MINE


def _docs_example() -> tuple[str, dict[str, object], dict[str, object]]:
    """docs/units.md's example: the programme, the receipt and the outcome it states."""
    page = (ROOT / "docs" / "units.md").read_text(encoding="utf-8")
    blocks = dict(re.findall(r"<!-- (\w+) -->\n```\w+\n(.*?)```", page, re.S))
    return blocks["programme"], json.loads(blocks["receipt"]), json.loads(blocks["outcome"])


def test_units_docs_example_gives_what_the_page_says(tmp_path: Path) -> None:
    programme, receipt, stated = _docs_example()
    data, result = compile_text(programme, "example.loya", tmp_path / "example.loya")
    assert data is not None, [str(d) for d in result.diagnostics]
    outcome = Engine(load_bundle(data)).evaluate(receipt).to_dict()
    assert {"discount": [line["discount"] for line in outcome["lines"]], "discount_total": outcome["discount_total"],
            "applied": list(outcome["applied"])} == stated


def test_units_golden_programme_formats_to_itself() -> None:
    for source in HERE.glob("*.loya"):
        text = source.read_text(encoding="utf-8")
        assert format_loya(text, source.name) == (text, [])
