"""Observed order dependence of equal-priority groups (docs/collisions.md, "Observed order dependence"):
golden cases as data (order_dependence/: programme, receipts, expected section), each differing
receipt re-checked with the runtime in both orders, and nothing for a programme without ties."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from loyadsl.api import compile_file
from loyadsl.runtime import Engine
from loyadsl.simulate.group_order import has_ties, reversed_ties

HERE = Path(__file__).parent / "order_dependence"
ROOT = Path(__file__).resolve().parents[2]


def loya(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "loyadsl.cli", *args], capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("od") / "sim.json"
    run = loya("simulate", str(HERE / "programme.loya"), "-r", str(HERE / "receipts.jsonl"), "-f", "json",
               "-o", str(out))
    assert run.returncode == 0, run.stderr
    return json.loads(out.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_sim_order_dependence_golden(report: dict[str, Any]) -> None:
    want = json.loads((HERE / "expected.json").read_text(encoding="utf-8"))
    assert report["order_dependence"] == want["order_dependence"]


def test_sim_order_dependence_agrees_with_both_orders(report: dict[str, Any]) -> None:
    """Every receipt evaluated in declared and reversed order by hand: the differing ones, their total
    cost difference and the example are the report's (the programme keeps no state)."""
    data, _ = compile_file(HERE / "programme.loya")
    assert data is not None
    actual = Engine.from_bytes(data)
    other = Engine(reversed_ties(actual.bundle))
    assert [g.name for g in other.groups][:2] == ["fixed", "percent"]
    assert [g.name for g in actual.groups][:2] == ["percent", "fixed"]

    def cost(o: Any) -> int:
        return o.discount_total + o.points_total * 100  # a point is 1.00 RUB

    diffs = {}
    for line in (HERE / "receipts.jsonl").read_text(encoding="utf-8").splitlines():
        receipt = json.loads(line)
        a, b = actual.evaluate(receipt), other.evaluate(receipt)
        if cost(a) != cost(b):
            diffs[receipt["receipt_id"]] = (cost(a), cost(b))
    [row] = report["order_dependence"]
    assert row["receipts_differing"] == len(diffs) == 3
    assert row["cost_difference"] == sum(b - a for a, b in diffs.values())
    example = row["example"]
    assert diffs[example["receipt_id"]] == (example["cost"], example["cost_reversed"])
    assert abs(example["cost_reversed"] - example["cost"]) == row["max_abs"] == max(abs(b - a) for a, b in diffs.values())


def test_sim_no_ties_no_section() -> None:
    data, _ = compile_file(ROOT / "examples" / "supermarket" / "programme.loya")
    assert data is not None and not has_ties(Engine.from_bytes(data).bundle)
    run = loya("simulate", str(ROOT / "tests" / "experiments" / "simulate" / "programme.loya"), "-r",
               str(HERE / "receipts.jsonl"), "-f", "json")
    assert run.returncode == 0, run.stderr
    assert "order_dependence" not in json.loads(run.stdout)


def test_sim_order_dependence_in_html(tmp_path: Path) -> None:
    html = tmp_path / "od.html"
    run = loya("simulate", str(HERE / "programme.loya"), "-r", str(HERE / "receipts.jsonl"), "-f", "html",
               "-o", str(html))
    assert run.returncode == 0, run.stderr
    page = html.read_text(encoding="utf-8")
    assert "Order dependence of equal-priority groups" in page and "R1" in page


@pytest.mark.parametrize(("programme", "receipts"), [
    (HERE / "programme.loya", HERE / "receipts.jsonl"),
    (ROOT / "tests" / "experiments" / "simulate" / "cuped.loya", ROOT / "examples" / "supermarket" / "receipts.jsonl"),
], ids=["order_dependence", "arms_and_pre_period"])
def test_sim_new_sections_are_the_same_with_any_number_of_workers(programme: Path, receipts: Path) -> None:
    """Partition tallies travel back from worker processes (the engines they use stay there) and merge."""
    from loyadsl.simulate.run import Simulation

    data, _ = compile_file(programme)
    assert data is not None
    one = Simulation(data, [receipts]).run()
    two = Simulation(data, [receipts], workers=2, partitions=3).run()
    for report in (one, two):
        for key in ("workers", "partitions"):
            report["input"].pop(key)
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)
    assert "order_dependence" in one or one["experiments"][0]["campaigns"]
