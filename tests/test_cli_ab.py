"""`loya ab assign` and `loya ab plan`: assignment agrees with the runtime hash; power analysis
agrees with statsmodels' published value (Cohen's d = 0.5, alpha 0.05, power 0.8: 63.77 per group)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from loyadsl.ab import plan
from loyadsl.runtime import LoyaError
from loyadsl.runtime.experiments import Arm, arm_of


def loya(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "loyadsl.cli", *args], capture_output=True, text=True, check=False)


def test_assign_csv_matches_the_runtime(tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("C0001\n\n C0002 \nC0003\n", encoding="utf-8")
    run = loya("ab", "assign", str(ids), "--salt", "spring-2026", "--arm", "offer=50", "--arm", "control=50")
    assert run.returncode == 0, run.stderr
    rows = list(csv.reader(io.StringIO(run.stdout)))
    arms = [Arm("offer", 5000), Arm("control", 5000)]
    assert rows[0] == ["customer", "experiment", "arm"]
    assert rows[1:] == [[c, "spring-2026", arm_of(arms, "spring-2026", c)] for c in ("C0001", "C0002", "C0003")]
    assert rows[1][2] == "control"  # bucket 9614 (docs/experiments.md)


def test_assign_json(tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("C0001\n", encoding="utf-8")
    run = loya("ab", "assign", str(ids), "--salt", "s", "--arm", "a=33.33", "--arm", "b=66.67",
               "--experiment", "x", "-f", "json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)[0]["experiment"] == "x"


@pytest.mark.parametrize(("arms", "message"), [
    (["offer=60", "control=30"], "sum to 90%"),
    (["offer=100"], "two or more arms"),
    (["offer=50", "offer=50"], "distinct names"),
    (["offer:50", "control=50"], "NAME=PERCENT"),
    (["offer=50.001", "control=49.999"], "NAME=PERCENT"),
])
def test_bad_arms_are_loy720(tmp_path: Path, arms: list[str], message: str) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("C1\n", encoding="utf-8")
    args = [a for spec in arms for a in ("--arm", spec)]
    run = loya("ab", "assign", str(ids), "--salt", "s", *args)
    assert run.returncode == 2 and "error[LOY720]: --arm: " in run.stderr and message in run.stderr, run.stderr
    assert run.stdout == ""


def test_unreadable_ids_are_loy407(tmp_path: Path) -> None:
    run = loya("ab", "assign", str(tmp_path / "missing.txt"), "--salt", "s", "--arm", "a=50", "--arm", "b=50")
    assert run.returncode == 2 and "error[LOY407]" in run.stderr


def test_plan_matches_statsmodels_published_value() -> None:
    # statsmodels docs / Cohen (1988): d = 0.5, alpha 0.05, power 0.8 -> 63.77 per group.
    assert plan(sd=100.0, alpha=0.05, power=0.8, mde=50.0, n=None)["n_per_arm"] == pytest.approx(63.77, abs=0.01)
    back = plan(sd=100.0, alpha=0.05, power=0.8, mde=None, n=64)
    assert back["mde"] == pytest.approx(50.0, abs=0.2)


def test_plan_cli_rounds_up() -> None:
    run = loya("ab", "plan", "--mean", "1000", "--sd", "100", "--mde", "50")
    assert run.returncode == 0, run.stderr
    assert "customers per arm: 64" in run.stdout and "TTestIndPower" in run.stdout


@pytest.mark.parametrize("args", [["--sd", "0", "--mde", "5"], ["--sd", "10"], ["--sd", "10", "--mde", "1", "--n", "5"],
                                  ["--sd", "10", "--mde", "-1"], ["--sd", "10", "--n", "1"]])
def test_bad_plan_figures_are_loy720(args: list[str]) -> None:
    run = loya("ab", "plan", "--mean", "100", *args)
    assert run.returncode == 2 and "error[LOY720]" in run.stderr, run.stderr


def test_missing_extra_is_loy721(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "statsmodels.stats.power", None)
    with pytest.raises(LoyaError) as caught:
        plan(sd=1.0, alpha=0.05, power=0.8, mde=0.5, n=None)
    assert caught.value.code == "LOY721" and "loyadsl[ab]" in caught.value.message


def _table(tmp_path: Path, rows: list[tuple[str, str, int, int]], header: str = "customer,arm,revenue,pre") -> Path:
    path = tmp_path / "outcomes.csv"
    path.write_text(header + "\n" + "".join(f"{c},{a},{r},{p}\n" for c, a, r, p in rows), encoding="utf-8")
    return path


def _sample(n: int, lift: int, seed: int = 7) -> list[tuple[str, str, int, int]]:
    import random
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        pre = rnd.randint(500, 5000)
        arm = "offer" if i % 2 else "control"
        rows.append((f"C{i}", arm, pre + rnd.randint(-300, 300) + (lift if arm == "offer" else 0), pre))
    return rows


def test_report_interval_is_scipys_welch_and_cuped_narrows_it(tmp_path: Path) -> None:
    from scipy import stats
    rows = _sample(400, 100)
    offer = [float(r) for _, a, r, _ in rows if a == "offer"]
    control = [float(r) for _, a, r, _ in rows if a == "control"]
    ci = stats.ttest_ind(offer, control, equal_var=False).confidence_interval(0.95)
    plain = loya("ab", "report", str(_table(tmp_path, [(c, a, r, 0) for c, a, r, _ in rows])))
    assert plain.returncode == 0, plain.stderr
    assert f"[{ci.low:+.2f}, {ci.high:+.2f}]" in plain.stdout and "NOT significant" in plain.stdout
    adjusted = loya("ab", "report", str(_table(tmp_path, rows)))
    assert "CUPED" in adjusted.stdout and "offer: +" in adjusted.stdout and ": significant" in adjusted.stdout
    assert "sample ratio check" in adjusted.stdout and ": ok" in adjusted.stdout


def test_report_flags_a_sample_ratio_mismatch(tmp_path: Path) -> None:
    rows = [r for r in _sample(2000, 0) if r[1] == "offer" or int(r[0][1:]) % 4 == 0]  # control halved
    run = loya("ab", "report", str(_table(tmp_path, rows)), "--arm", "offer=50", "--arm", "control=50")
    assert run.returncode == 0 and "MISMATCH" in run.stdout, run.stdout + run.stderr


@pytest.mark.parametrize(("text", "message"), [
    ("customer,arm\nC1,offer\n", ":1: needs columns"),
    ("customer,arm,revenue\nC1,offer,12.5\n", ":2: revenue, cost, receipts and pre are integers"),
    ("customer,arm,revenue\nC1,offer,1\nC1,control,2\n", ":3: customer 'C1' appears twice"),
])
def test_bad_tables_are_loy620(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    run = loya("ab", "report", str(path))
    assert run.returncode == 2 and "error[LOY620]" in run.stderr and message in run.stderr, run.stderr


def test_report_needs_two_customers_an_arm_and_a_control(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("customer,arm,revenue\nC1,offer,1\nC2,control,2\nC3,control,3\n", encoding="utf-8")
    assert "error[LOY620]" in loya("ab", "report", str(path)).stderr
    assert "error[LOY720]: --control" in loya("ab", "report", str(path), "--control", "holdout").stderr


def test_report_json_has_the_text_figures_and_null_for_a_statistic_that_is_no_number(tmp_path: Path) -> None:
    """`-f json`: the figures the text prints (docs/schemas/ab-report.schema.json); arms without variance
    give a t-test without a p-value, written as null (JSON has no NaN)."""
    from loyadsl import schemas
    from loyadsl.schema_check import check_json

    rows = _sample(200, 300)
    text = loya("ab", "report", str(_table(tmp_path, rows))).stdout
    report = json.loads(loya("ab", "report", str(_table(tmp_path, rows)), "-f", "json").stdout)
    assert check_json(schemas.MODELS["ab-report"], report) == []
    offer = next(u for u in report["uplift"] if u["arm"] == "offer")
    assert f"offer: {offer['difference']['estimate']:+.2f} [{offer['difference']['low']:+.2f}, " in text
    flat = _table(tmp_path, [(f"c{i}", "control" if i % 2 else "offer", 100, 0) for i in range(4)],
                  header="customer,arm,revenue,pre")
    run = loya("ab", "report", str(flat), "-f", "json")
    assert run.returncode == 0 and '"p": null' in run.stdout and "NaN" not in run.stdout
    assert check_json(schemas.MODELS["ab-report"], json.loads(run.stdout)) == []
