"""`loya diff --max-*-delta`: each case of data/delta_guards/cases.txt runs the command on the two
programmes of test_diff.py and checks its exit code and the guard's verdict (or the LOY616 refusal);
then the CI formats carry a failing guard as LOY615."""

from __future__ import annotations

import json
from pathlib import Path

import junitparser
import pytest
from typer.testing import CliRunner

from loyadsl.cli import app

HERE = Path(__file__).parent
HISTORY = HERE / "data" / "history" / "receipts.jsonl"
CASES = HERE / "data" / "delta_guards" / "cases.txt"


def _cases() -> list[tuple[int, list[str], str]]:
    cases = []
    for line in CASES.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            code, options, text = (part.strip() for part in line.split("|"))
            option, _, value = options.partition(" ")
            cases.append((int(code), [option, value], text))
    return cases


@pytest.fixture
def programmes(tmp_path: Path) -> list[str]:
    from test_diff import BIG, CASHBACK, FOOD5, HEAD

    old, new = tmp_path / "old.loya", tmp_path / "new.loya"
    old.write_text(HEAD.format(version="1", currency="RUB") + FOOD5 + CASHBACK.format(rate="10%"), encoding="utf-8")
    new.write_text(HEAD.format(version="2", currency="RUB") + BIG + CASHBACK.format(rate="20%"), encoding="utf-8")
    return ["diff", str(old), str(new), "-r", str(HISTORY)]


@pytest.mark.parametrize(("exit_code", "options", "text"), _cases(), ids=lambda v: str(v)[:40])
def test_delta_guard(programmes: list[str], exit_code: int, options: list[str], text: str) -> None:
    result = CliRunner().invoke(app, [*programmes, "-f", "json", *options])
    assert result.exit_code == exit_code, result.output
    doc = json.loads(result.stdout)
    if exit_code == 2:
        assert doc["error"]["code"] == "LOY616" and text in doc["error"]["message"]
        return
    guards = [a for a in doc["assertions"] if a.get("code") == "LOY615"]
    assert guards and all(a["expr"].startswith(options[0]) for a in guards)
    assert any(text in a["detail"] for a in guards), [a["detail"] for a in guards]
    assert any(not a["ok"] for a in guards) is (exit_code == 1)


def test_a_failing_guard_in_junit_and_as_annotations(programmes: list[str], tmp_path: Path) -> None:
    report = tmp_path / "guards.xml"
    guards = ["--max-cost-delta", "90%", "--max-discount-delta", "50%"]
    result = CliRunner().invoke(app, [*programmes, *guards, "-f", "junit", "-o", str(report)])
    assert result.exit_code == 1
    assert "error[LOY615]: guard failed: --max-discount-delta 50%: totals.discount moved by 51.72%" in result.output
    [suite] = list(junitparser.JUnitXml.fromfile(str(report)))
    assert (suite.tests, suite.failures) == (2, 1)
    annotations = CliRunner().invoke(app, [*programmes, *guards, "-f", "github"])
    assert annotations.exit_code == 1
    assert "::error" in annotations.stdout and "LOY615" in annotations.stdout
