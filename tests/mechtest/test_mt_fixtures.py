"""`loya test` on data: each folder of fixtures/ holds test files (and the programmes they name) and
`expected.json`: the exit code, the (code, line) of every diagnostic in order, and how many cases ran."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from loyadsl.cli import app

FIXTURES = Path(__file__).parent / "fixtures"
CASES = sorted(p.name for p in FIXTURES.iterdir() if (p / "expected.json").is_file())


def loya_test(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["test", *map(str, args)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout


def found(report: dict[str, Any]) -> list[list[Any]]:
    diagnostics = [d for f in report["files"] for d in [*f["errors"], *(x for c in f["cases"] for x in c["diagnostics"])]]
    return [[d["code"], d["span"]["line"]] for d in diagnostics]


@pytest.mark.parametrize("name", CASES)
def test_fixture(name: str) -> None:
    folder = FIXTURES / name
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    code, out = loya_test(folder, "--format", "json")
    report = json.loads(out)
    assert found(report) == expected["diagnostics"]
    assert report["summary"]["cases"] == expected["cases"]
    assert code == expected["exit"]


def test_every_fixture_folder_has_a_test_file() -> None:
    assert len(CASES) >= 10
    assert all(list((FIXTURES / name).glob("*.test.yaml")) for name in CASES)
