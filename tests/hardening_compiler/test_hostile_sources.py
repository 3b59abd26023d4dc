"""Hostile programmes, as data: each file in sources/ starts with `# expect: LOYnnn` (or `# expect: ok`).

Every one is checked through the api (as a file, and as text with no path) and through `loya check`
and `loya compile`: it yields exactly the expected error code, every error has a span, and nothing
raises (an uncaught exception is what `loya` reports as LOY999).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loyadsl.api import check_file, check_text
from loyadsl.cli import app
from loyadsl.runtime.codes import CODES

SOURCES = Path(__file__).parent / "sources"
CASES = sorted([*SOURCES.glob("*.loya"), *SOURCES.glob("*.yaml")])
EXPECT = re.compile(r"\ufeff?# expect: (LOY\d{3}|ok)\r?\n")


def expected(path: Path) -> str:
    match = EXPECT.match(path.read_text(encoding="utf-8"))
    assert match, f"{path.name} must start with `# expect: LOYnnn`"
    return match.group(1)


def error_codes(diagnostics: list[dict[str, object]]) -> set[object]:
    return {d["code"] for d in diagnostics if d["severity"] == "error"}


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_the_api_reports_exactly_the_expected_code_with_a_span(path: Path) -> None:
    code = expected(path)
    assert code == "ok" or code in CODES
    result = check_file(path)
    errors = [d for d in result.diagnostics if d.is_error]
    assert {d.code for d in errors} == (set() if code == "ok" else {code}), [d.to_dict() for d in errors]
    assert all(d.span is not None for d in errors), [d.to_dict() for d in errors]


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_the_same_text_with_no_path_never_raises(path: Path) -> None:
    result = check_text(path.read_text(encoding="utf-8"), path.name)
    errors = [d for d in result.diagnostics if d.is_error]
    assert bool(errors) == (expected(path) != "ok")
    assert all(d.span is not None for d in errors)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_loya_check_and_compile_report_the_code(path: Path, tmp_path: Path) -> None:
    code = expected(path)
    runner = CliRunner()
    checked = runner.invoke(app, ["check", "--format", "json", str(path)])
    assert checked.exception is None or isinstance(checked.exception, SystemExit), checked.exception
    assert checked.exit_code == (0 if code == "ok" else 1), checked.output
    assert error_codes(json.loads(checked.stdout)["diagnostics"]) == (set() if code == "ok" else {code})
    compiled = runner.invoke(app, ["compile", "--format", "json", str(path), "-o", str(tmp_path / "b.loyab")])
    assert compiled.exception is None or isinstance(compiled.exception, SystemExit), compiled.exception
    assert compiled.exit_code == (0 if code == "ok" else 1), compiled.output
    assert (tmp_path / "b.loyab").exists() == (code == "ok")


HEAD = 'programme "P" {\n    currency RUB minor 2\n    timezone "Europe/Moscow"\n}\n'


@pytest.mark.parametrize("text", [
    HEAD + "skus " + "a" * 500_000 + ' = ["x"]\n',  # a name of half the source
    HEAD + 'skus a = ["' + "\\n" * 400_000 + '"]\n',  # escapes: unescaping is linear
    HEAD + 'skus a = ["' + "\\u{1F600}" * 90_000 + '"]\n',
    HEAD + 'skus a = ["' + "x" * 900_000 + '"]\n',
], ids=["long-name", "many-escapes", "many-unicode-escapes", "long-string"])
def test_long_names_and_strings_are_checked(text: str) -> None:
    result = check_text(text, "long.loya")
    assert not [d for d in result.diagnostics if d.is_error]


def test_text_holding_a_surrogate_is_refused_where_it_is() -> None:
    [diag] = check_text(HEAD + "# \ud800\n", "s.loya").diagnostics
    assert (diag.code, diag.span and (diag.span.line, diag.span.col)) == ("LOY114", (5, 3))
