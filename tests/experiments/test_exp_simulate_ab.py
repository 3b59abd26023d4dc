"""`loya simulate` reports each customer's arm, and `loya ab report` takes that report directly:
per-arm figures agree with the customers' rows and the documented hash, the SRM check uses the
declared weights, and the bootstrap interval is deterministic and agrees with Welch's on normal data."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from loyadsl.ab import bootstrap, compare
from loyadsl.runtime.experiments import Arm, arm_of

ROOT = Path(__file__).resolve().parents[2]
PROGRAMME = Path(__file__).parent / "simulate" / "programme.loya"
RECEIPTS = ROOT / "examples" / "supermarket" / "receipts.jsonl"


def loya(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "loyadsl.cli", *args], capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("sim") / "sim.json"
    run = loya("simulate", str(PROGRAMME), "-r", str(RECEIPTS), "-f", "json", "-o", str(out))
    assert run.returncode == 0, run.stderr
    return out, json.loads(out.read_text(encoding="utf-8"))


def test_exp_simulation_lists_each_customer_in_the_arm_of_the_hash(simulated: tuple[Path, dict[str, Any]]) -> None:
    _, report = simulated
    [experiment] = report["experiments"]
    arms = [Arm("offer", 4500), Arm("control", 4500), Arm("holdout", 1000)]
    fields = experiment["customer_fields"]
    rows = [dict(zip(fields, row, strict=True)) for row in experiment["customers"]]
    assert rows and all(r["arm"] == arm_of(arms, "basket-2025", r["customer"]) for r in rows)
    assert [r["customer"] for r in rows] == sorted({r["customer"] for r in rows})
    by_arm = {a["name"]: a for a in experiment["arms"]}
    for name, arm in by_arm.items():
        mine = [r for r in rows if r["arm"] == name]
        assert arm["customers"] == len(mine)
        for key in ("receipts", "revenue", "discount", "points", "cost"):
            assert arm[key] == sum(r[key] for r in mine), key
    assert by_arm["offer"]["discount"] > 0 and by_arm["control"]["discount"] == by_arm["holdout"]["discount"] == 0
    assert sum(a["receipts"] for a in by_arm.values()) + experiment["anonymous_receipts"] == report["totals"]["receipts"]
    assert experiment["anonymous_receipts"] == sum(1 for line in RECEIPTS.read_text(encoding="utf-8").splitlines()
                                                   if json.loads(line).get("customer_id") is None)


def test_exp_ab_report_reads_the_simulation(simulated: tuple[Path, dict[str, Any]]) -> None:
    path, report = simulated
    run = loya("ab", "report", str(path), "--control", "control")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("sample ratio check (chi-square vs weights)") and lines[0].endswith(": ok")
    counts = {a["name"]: a["customers"] for a in report["experiments"][0]["arms"]}
    assert any(line.startswith(f"offer  {counts['offer']}  ") for line in lines)
    assert "Welch's t-test" in run.stdout and f"n {counts['offer']} vs {counts['control']}" in run.stdout


def test_exp_ab_report_bootstrap_is_deterministic(simulated: tuple[Path, dict[str, Any]]) -> None:
    path, _ = simulated
    first = loya("ab", "report", str(path), "--control", "control", "--method", "bootstrap")
    second = loya("ab", "report", str(path), "--control", "control", "--method", "bootstrap")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout and "BCa bootstrap (scipy.stats.bootstrap" in first.stdout


def test_exp_bootstrap_agrees_with_welch_on_normal_data() -> None:
    rng = random.Random(7)
    treated = [rng.gauss(105, 20) for _ in range(400)]
    control = [rng.gauss(100, 20) for _ in range(400)]
    diff, low, high, p = bootstrap(treated, control, 0.95)
    w_diff, w_low, w_high, _ = compare(treated, control, 0.95)
    assert p is None and diff == pytest.approx(w_diff) and low < diff < high
    assert low == pytest.approx(w_low, abs=0.6) and high == pytest.approx(w_high, abs=0.6)  # width ~5.6


@pytest.mark.parametrize(("content", "code", "args"), [
    ({"kind": "simulation", "totals": {}}, "LOY622", ()),
    ({"kind": "simulation", "experiments": [{"name": "x", "arms": [{"name": "a"}]}]}, "LOY622", ()),
    ({"kind": "simulation", "experiments": [{"name": "x"}]}, "LOY720", ("--experiment", "y")),
])
def test_exp_ab_report_refuses_a_report_without_the_experiment(tmp_path: Path, content: dict[str, Any], code: str,
                                                               args: tuple[str, ...]) -> None:
    path = tmp_path / "sim.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    run = loya("ab", "report", str(path), *args)
    assert run.returncode == 2 and f"error[{code}]" in run.stderr, run.stderr


def test_exp_simulation_views_show_the_arms(tmp_path: Path) -> None:
    html = tmp_path / "sim.html"
    run = loya("simulate", str(PROGRAMME), "-r", str(RECEIPTS), "-f", "html", "-o", str(html))
    assert run.returncode == 0, run.stderr
    page = html.read_text(encoding="utf-8")
    assert "Experiment arms" in page and "holdout" in page and "10.00%" in page
    table = loya("simulate", str(PROGRAMME), "-r", str(RECEIPTS))
    assert table.returncode == 0, table.stderr
    assert "Receipts without a customer id are in no arm" in table.stdout
