"""`loya simulate --assert` and `loya diff --assert` in the CI formats: a failing assertion is an error
result (SARIF, validated against the 2.1.0 schema), a failed testcase (JUnit, read by junitparser) and
an `::error` annotation; its reason reaches stderr even with `-o`; a misspelt figure is a usage error
(exit 2) with a did-you-mean hint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import junitparser
import pytest
from test_cli_formats import ANNOTATION, junit_suites, sarif_validator
from typer.testing import CliRunner

from loyadsl.cli import app

ROOT = Path(__file__).resolve().parents[1]
PROGRAMME = ROOT / "examples" / "supermarket" / "programme.loya"
GUARDS = ["--assert", "totals.cost_share <= 1%", "--assert", "totals.receipts >= 1"]  # the first fails


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("h") / "receipts.jsonl"
    lines = (ROOT / "examples" / "supermarket" / "receipts.jsonl").read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[:200]) + "\n", encoding="utf-8")
    return path


def simulate(history: Path, *args: str | Path) -> Any:
    return CliRunner().invoke(app, ["simulate", str(PROGRAMME), "-r", str(history), *map(str, args)])


def test_sarif_has_the_failing_assertion_as_an_error_result(history: Path) -> None:
    result = simulate(history, *GUARDS, "-f", "sarif")
    assert result.exit_code == 1, result.output
    log = json.loads(result.stdout)
    sarif_validator().validate(log)
    [found] = log["runs"][0]["results"]
    assert found["ruleId"] == "LOY614" and found["level"] == "error"
    assert found["message"]["text"].startswith("assertion failed: totals.cost_share <= 1%: totals.cost_share is ")


def test_junit_has_a_testcase_per_assertion(history: Path) -> None:
    result = simulate(history, *GUARDS, "-f", "junit")
    assert result.exit_code == 1
    [suite] = junit_suites(result.stdout)
    cases = {case.name: case for case in suite}
    assert set(cases) == {"totals.cost_share <= 1%", "totals.receipts >= 1"}
    assert cases["totals.receipts >= 1"].is_passed
    [failure] = cases["totals.cost_share <= 1%"].result
    assert isinstance(failure, junitparser.Failure) and "expected <= 1.00%" in (failure.message or "")


def test_github_annotates_the_failing_assertion_only(history: Path) -> None:
    result = simulate(history, *GUARDS, "-f", "github")
    assert result.exit_code == 1
    [line] = result.stdout.splitlines()
    assert ANNOTATION.match(line) and line.startswith("::error title=LOY614::assertion failed: totals.cost_share <= 1%25")


@pytest.mark.parametrize("fmt", ["json", "table", "sarif", "junit"])
def test_a_failing_assertion_prints_its_reason_with_output(history: Path, tmp_path: Path, fmt: str) -> None:
    result = simulate(history, *GUARDS, "-f", fmt, "-o", tmp_path / "report")
    assert result.exit_code == 1 and (tmp_path / "report").exists()
    assert "error[LOY614]: assertion failed: totals.cost_share <= 1%" in result.stderr
    assert "totals.receipts" not in result.stderr  # a passing one stays quiet


def test_all_passing_exits_0(history: Path) -> None:
    result = simulate(history, "--assert", "totals.receipts >= 1", "-f", "junit")
    assert result.exit_code == 0 and "LOY614" not in result.output
    quiet = simulate(history, "--assert", "totals.receipts >= 1", "-f", "github")
    assert quiet.exit_code == 0 and quiet.stdout == ""  # no annotation, not even an empty line


@pytest.mark.parametrize(("guard", "hint"), [
    ("totals.cost_shar <= 3%", "did you mean `cost_share`?"),
    ("totals.recepits >= 1", "did you mean `receipts`?"),
    ("total.receipts >= 1", "did you mean `totals`?"),
    ("campaigns.welcome_isue.cost <= 5000.00 RUB", "did you mean `welcome_issue`?"),
])
def test_a_misspelt_figure_is_a_usage_error_with_a_hint(history: Path, guard: str, hint: str) -> None:
    result = simulate(history, "--assert", guard, "-f", "sarif")
    assert result.exit_code == 2 and "LOY602" in result.stderr and hint in result.stderr, result.output


def test_diff_reports_its_assertions_in_junit(history: Path) -> None:
    result = CliRunner().invoke(app, ["diff", str(PROGRAMME), str(PROGRAMME), "-r", str(history), *GUARDS,
                                      "-f", "junit"])
    assert result.exit_code == 1, result.output
    [suite] = junit_suites(result.stdout)
    assert suite.name.startswith("loya diff ") and suite.failures == 1 and suite.tests == 2
