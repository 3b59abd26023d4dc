"""The simulation report's campaign table per experiment arm (docs/experiments.md, "Campaigns per
arm"): recomputed independently by evaluating every receipt with the engine, and consistent with the
arms' own sums; shown in the terminal and in HTML."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from loyadsl.api import compile_file
from loyadsl.runtime import Engine

ROOT = Path(__file__).resolve().parents[2]
PROGRAMME = Path(__file__).parent / "simulate" / "programme.loya"
RECEIPTS = ROOT / "examples" / "supermarket" / "receipts.jsonl"


def loya(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "loyadsl.cli", *args], capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("sim") / "sim.json"
    run = loya("simulate", str(PROGRAMME), "-r", str(RECEIPTS), "-f", "json", "-o", str(out))
    assert run.returncode == 0, run.stderr
    [x] = json.loads(out.read_text(encoding="utf-8"))["experiments"]
    return x  # type: ignore[no-any-return]


def expected() -> dict[tuple[str, str], dict[str, Any]]:
    """Every sale with a customer id, evaluated once: per (arm, campaign) receipts, customers, discount,
    points and revenue (the programme keeps no state, so each receipt stands alone)."""
    data, _ = compile_file(PROGRAMME)
    assert data is not None
    engine = Engine.from_bytes(data)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for line in RECEIPTS.read_text(encoding="utf-8").splitlines():
        receipt = json.loads(line)
        if "return_of" in receipt or receipt.get("customer_id") is None:
            continue
        outcome = engine.evaluate(receipt)
        arm = outcome.arms["basket"]
        given: dict[str, list[int]] = {name: [0, 0] for name in outcome.applied}
        for name, _g, kind, _r, _a, total, _c in outcome.effects:
            given.setdefault(name, [0, 0])[kind != "discount"] += total
        for name, (discount, points) in given.items():
            row = out.setdefault((arm, name), {"receipts": 0, "customers": set(), "discount": 0, "points": 0,
                                               "revenue": 0})
            row["receipts"] += 1
            row["customers"].add(receipt["customer_id"])
            row["discount"] += discount
            row["points"] += points
            row["revenue"] += outcome.payable
    return out


def test_exp_arm_campaigns_match_an_independent_evaluation(experiment: dict[str, Any]) -> None:
    want = expected()
    got = {(r["arm"], r["campaign"]): r for r in experiment["campaigns"]}
    assert set(got) == set(want) == {("offer", "basket_offer"), ("offer", "cashback"), ("control", "cashback"),
                                     ("holdout", "cashback")}
    for key, w in want.items():
        g = got[key]
        assert (g["receipts"], g["customers"], g["discount"], g["points"], g["revenue"]) == \
            (w["receipts"], len(w["customers"]), w["discount"], w["points"], w["revenue"]), key
        assert g["cost"] == g["discount"] + g["points"] * 100  # a point is worth 1.00 RUB
        whole, frac = divmod((2 * g["revenue"] * 100 // g["cost"] + 1) // 2, 100)
        assert g["return_on_cost"] == f"{whole}.{frac:02d}"


def test_exp_arm_campaigns_add_up_to_the_arms(experiment: dict[str, Any]) -> None:
    arms = {a["name"]: a for a in experiment["arms"]}
    for name, arm in arms.items():
        rows = [r for r in experiment["campaigns"] if r["arm"] == name]
        assert sum(r["discount"] for r in rows) == arm["discount"]
        assert sum(r["points"] for r in rows) == arm["points"]
        assert all(r["receipts"] <= arm["receipts"] and r["customers"] <= arm["customers"] for r in rows)


def test_exp_arm_campaigns_in_the_terminal_and_html(tmp_path: Path) -> None:
    html = tmp_path / "sim.html"
    run = loya("simulate", str(PROGRAMME), "-r", str(RECEIPTS), "-f", "html", "-o", str(html))
    assert run.returncode == 0, run.stderr
    page = html.read_text(encoding="utf-8")
    assert "Campaigns per arm" in page and "basket_offer" in page and "19.00" in page
    table = loya("simulate", str(PROGRAMME), "-r", str(RECEIPTS))
    assert table.returncode == 0 and "Campaigns per arm" in table.stdout, table.stderr
