"""Programmes with `when` conditions, audiences and windows over midnight (cases/col_*.json next to
their .loya): the expected answer and reason of each pair, with the solver and without it, and the
findings (code, line, message). Every ``meet`` witness is re-evaluated by the runtime."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from loyadsl.analysis.cli import load
from loyadsl.analysis.collisions import Verdict, analyse, fired
from loyadsl.analysis.findings import findings

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
CASES = sorted((HERE / "cases").glob("col_*.json"))
sys.path.insert(0, str(ROOT / "bench"))


def case(path: Path) -> tuple[dict[str, Any], Any, Any]:
    data = json.loads(path.read_text())
    programme, engine = load(path.parent / data["programme"])
    return data, programme, engine


def check(want: dict[str, Any], got: Verdict) -> None:
    assert got.answer == want["answer"], (want, got)
    if "reason" in want:
        assert got.reason == want["reason"]
    if "lost_includes" in want:
        assert got.resolution is not None and set(want["lost_includes"]) <= set(got.resolution["lost"])


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_pairs_with_the_solver(path: Path) -> None:
    data, programme, engine = case(path)
    verdicts = analyse(programme, engine, [(p["a"], p["b"]) for p in data["pairs"]])
    for want, got in zip(data["pairs"], verdicts, strict=True):
        check(want, got)
        if got.answer == "meet":
            assert got.witness is not None
            assert {got.a, got.b} <= fired(engine.evaluate(got.witness["receipt"], got.witness["customer"]))


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_pairs_without_the_solver(path: Path) -> None:
    data, programme, engine = case(path)
    verdicts = analyse(programme, engine, [(p["a"], p["b"]) for p in data["without_solver"]], solver=False)
    for want, got in zip(data["without_solver"], verdicts, strict=True):
        check(want, got)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_findings(path: Path) -> None:
    data, programme, engine = case(path)
    found = findings(programme, engine)
    assert [(d.code, d.span.line if d.span else None) for d in found] == \
        [(f["code"], f["line"]) for f in data["findings"]]
    for want, got in zip(data["findings"], found, strict=True):
        assert got.message.startswith(want["message_starts"]) and got.severity == "warning" and got.hint


def test_every_witness_of_a_generated_programme_fires_both() -> None:
    """The shared search's witnesses hold many campaigns' lines: each still fires its pair."""
    from genprog import programme as generated

    from loyadsl.api import compile_text
    from loyadsl.runtime import Engine

    data, result = compile_text(generated(36))
    assert data is not None and result.programme is not None
    engine = Engine.from_bytes(data)
    verdicts = analyse(result.programme, engine)
    assert len(verdicts) == 36 * 35 // 2
    met = [v for v in verdicts if v.answer == "meet"]
    assert len(met) > len(verdicts) // 2
    for v in met:
        assert v.witness is not None
        assert {v.a, v.b} <= fired(engine.evaluate(v.witness["receipt"], v.witness["customer"])), v
