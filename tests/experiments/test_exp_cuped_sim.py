"""CUPED from a simulation (docs/experiments.md, "CUPED from a simulation"): the replay keeps each
customer's pre-period (receipts before the experiment's start) apart, recomputed here independently;
`loya ab report` adjusts by it, and its theta and variance reduction are statsmodels' OLS slope and R²."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from loyadsl.ab import cuped_fit
from loyadsl.api import compile_file
from loyadsl.runtime import Engine

ROOT = Path(__file__).resolve().parents[2]
PROGRAMME = Path(__file__).parent / "simulate" / "cuped.loya"
RECEIPTS = ROOT / "examples" / "supermarket" / "receipts.jsonl"
START = dt.date(2025, 3, 1)  # the window of the campaign that joins the experiment


def loya(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "loyadsl.cli", *args], capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("sim") / "sim.json"
    run = loya("simulate", str(PROGRAMME), "-r", str(RECEIPTS), "-f", "json", "-o", str(out))
    assert run.returncode == 0, run.stderr
    [x] = json.loads(out.read_text(encoding="utf-8"))["experiments"]
    return out, x


def independent() -> dict[str, list[int]]:
    """customer -> [pre, revenue, receipts from the start]: every sale with a customer id evaluated once
    (the programme keeps no state), split by its local date in the programme's zone."""
    data, _ = compile_file(PROGRAMME)
    assert data is not None
    engine = Engine.from_bytes(data)
    out: dict[str, list[int]] = {}
    for line in RECEIPTS.read_text(encoding="utf-8").splitlines():
        receipt = json.loads(line)
        if "return_of" in receipt or receipt.get("customer_id") is None:
            continue
        paid = engine.evaluate(receipt).payable
        day = dt.datetime.fromisoformat(receipt["datetime"]).astimezone(engine.zone).date()
        row = out.setdefault(receipt["customer_id"], [0, 0, 0])
        if day < START:
            row[0] += paid
        else:
            row[1] += paid
            row[2] += 1
    return out


def test_exp_simulation_keeps_the_pre_period_apart(simulated: tuple[Path, dict[str, Any]]) -> None:
    _, x = simulated
    assert x["start"] == START.isoformat() and x["customer_fields"][-1] == "pre"
    rows = {r[0]: dict(zip(x["customer_fields"], r, strict=True)) for r in x["customers"]}
    want = independent()
    assert set(rows) == set(want)
    assert any(w[0] > 0 for w in want.values()) and any(w[1] > 0 for w in want.values())
    for customer, (pre, revenue, receipts) in want.items():
        got = rows[customer]
        assert (got["pre"], got["revenue"], got["receipts"]) == (pre, revenue, receipts), customer


def test_exp_cuped_fit_is_the_ols_slope_and_r_squared(simulated: tuple[Path, dict[str, Any]]) -> None:
    sm = pytest.importorskip("statsmodels.api")
    _, x = simulated
    groups: dict[str, list[dict[str, int]]] = {}
    for r in x["customers"]:
        row = dict(zip(x["customer_fields"], r, strict=True))
        groups.setdefault(row["arm"], []).append({"revenue": row["revenue"], "pre": row["pre"]})
    pre = [r["pre"] for rows in groups.values() for r in rows]
    revenue = [r["revenue"] for rows in groups.values() for r in rows]
    ols = sm.OLS(revenue, sm.add_constant(pre)).fit()
    theta, mean_x, reduction = cuped_fit(groups)
    assert theta == pytest.approx(ols.params[1], rel=1e-9)
    assert reduction == pytest.approx(ols.rsquared, rel=1e-9)
    assert mean_x == pytest.approx(sum(pre) / len(pre))


def test_exp_ab_report_of_a_simulation_prints_the_variance_reduction(simulated: tuple[Path, dict[str, Any]]) -> None:
    path, x = simulated
    run = loya("ab", "report", str(path), "--control", "control")
    assert run.returncode == 0, run.stderr
    groups: dict[str, list[dict[str, int]]] = {}
    for r in x["customers"]:
        row = dict(zip(x["customer_fields"], r, strict=True))
        groups.setdefault(row["arm"], []).append({"revenue": row["revenue"], "pre": row["pre"]})
    theta, _, reduction = cuped_fit(groups)
    assert f"CUPED on `pre`: theta {theta:.4g}, variance of revenue per customer reduced by {reduction:.1%}" \
        in run.stdout
    assert "interval by Welch's t-test (scipy.stats.ttest_ind, equal_var=False), CUPED on `pre`:" in run.stdout


def test_exp_no_window_no_pre_period() -> None:
    """An experiment one of whose campaigns has no window runs from the start of history: no `pre`."""
    from loyadsl.simulate.pre_period import first_days

    data, _ = compile_file(PROGRAMME.with_name("programme.loya"))
    assert data is not None
    assert first_days(Engine.from_bytes(data).bundle) == {}
    data, _ = compile_file(PROGRAMME)
    assert data is not None
    assert first_days(Engine.from_bytes(data).bundle) == {"basket": START.toordinal()}
