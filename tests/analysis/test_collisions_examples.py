"""The example programmes' collision matrices: expected answers as data (cases/*.json), the witness of
every ``meet`` re-evaluated, and the two commands in text and JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from loyadsl.analysis.cli import load
from loyadsl.analysis.collisions import analyse, fired
from loyadsl.cli import app

ROOT = Path(__file__).resolve().parents[2]
CASES = sorted((Path(__file__).parent / "cases").glob("*_pairs.json"))
EXAMPLES = sorted(ROOT.glob("examples/*/programme.loya"))
runner = CliRunner()


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_expected_answers(case: Path) -> None:
    data = json.loads(case.read_text())
    programme, engine = load(ROOT / data["programme"])
    verdicts = analyse(programme, engine, [(p["a"], p["b"]) for p in data["pairs"]])
    for want, got in zip(data["pairs"], verdicts, strict=True):
        assert got.answer == want["answer"], (want, got)
        if "reason" in want:
            assert got.reason == want["reason"]
        if "lost_includes" in want:  # a shared witness may hold more campaigns' lines than the pair's
            assert got.resolution is not None and set(want["lost_includes"]) <= set(got.resolution["lost"])


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_every_witness_of_an_example_fires_both(path: Path) -> None:
    programme, engine = load(path)
    verdicts = analyse(programme, engine)
    assert len(verdicts) == len(programme.campaigns) * (len(programme.campaigns) - 1) // 2
    for v in verdicts:
        if v.answer == "meet":
            assert v.witness is not None
            assert {v.a, v.b} <= fired(engine.evaluate(v.witness["receipt"], v.witness["customer"]))


def run(*args: str) -> Any:
    return runner.invoke(app, list(args))


def test_collisions_text_and_json() -> None:
    prog = str(ROOT / "examples/supermarket/programme.loya")
    text = run("collisions", prog, "--pairs", "gold_fresh,happy_dairy;happy_dairy,weekend_wine")
    assert text.exit_code == 0, text.output
    assert "gold_fresh" in text.output and "M" in text.output and "·" in text.output
    data = json.loads(run("collisions", prog, "-f", "json", "--pairs", "happy_dairy,weekend_wine").output)
    assert data["pairs"] == [{"a": "happy_dairy", "b": "weekend_wine", "answer": "disjoint",
                              "reason": "weekdays do not overlap"}]


@pytest.mark.parametrize("pairs", ["gold_fresh,nope", "gold_fresh", "a,b,c"])
def test_bad_pairs_are_loy710(pairs: str) -> None:
    result = run("collisions", str(ROOT / "examples/supermarket/programme.loya"), "-f", "json", "--pairs", pairs)
    assert result.exit_code == 2
    assert json.loads(result.output)["error"]["code"] == "LOY710"


def test_a_broken_programme_is_loy711(tmp_path: Path) -> None:
    bad = tmp_path / "bad.loya"
    bad.write_text('programme "t" {\n    currency RUB minor 2\n}\ncampaign c { group nope }\n')
    for args in (("collisions", str(bad)), ("find-sku", str(bad), "K1")):
        result = run(*args, "-f", "json")
        assert result.exit_code == 1
        assert json.loads(result.output)["error"]["code"] == "LOY711"


def test_find_sku() -> None:
    prog = str(ROOT / "examples/supermarket/programme.loya")
    data = json.loads(run("find-sku", prog, "SKU01848", "-f", "json").output)
    how = {row["campaign"]: row["how"] for row in data["campaigns"]}
    assert how["coffee_lovers"] == "if its category in grocery/coffee_beans"
    assert how["base_cashback"] == "any line"
    text = run("find-sku", prog, "SKU01848")
    assert text.exit_code == 0 and "coffee_lovers" in text.output
