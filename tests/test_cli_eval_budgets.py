"""`loya eval --budgets FILE`: what each budgeted campaign has left, passed to Engine.evaluate (issue 17)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROGRAMME = ROOT / "tests" / "golden_state" / "p27_campaign_budgets" / "programme.loya"
RECEIPT = {"receipt_id": "R1", "customer_id": "C1", "datetime": "2026-03-05T12:00:00+03:00", "store_id": "S1",
           "lines": [{"line_no": 1, "sku": "A", "category": "food", "qty": 1, "unit_price": 50000, "amount": 50000}]}


def loya(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "loyadsl.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


def evaluate(tmp_path: Path, budgets: str | None) -> subprocess.CompletedProcess[str]:
    receipt = tmp_path / "r.json"
    receipt.write_text(json.dumps(RECEIPT), encoding="utf-8")
    args: list[str | Path] = ["eval", PROGRAMME, receipt, "--format", "json"]
    if budgets is not None:
        (tmp_path / "b.json").write_text(budgets, encoding="utf-8")
        args += ["--budgets", tmp_path / "b.json"]
    return loya(*args)


def test_budgets_cap_and_exhaust_campaigns(tmp_path: Path) -> None:
    result = evaluate(tmp_path, '{"promo": 1234, "fresh": 0}')
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)["outcomes"][0]
    given = {e["campaign"]: e["total"] for e in outcome["effects"] if e["kind"] == "discount"}
    assert given["promo"] == 1234  # 10% of 500.00 = 50.00, capped to the 12.34 left
    assert {r["campaign"]: r["reason"] for r in outcome["rejected"]}["fresh"] == "budget_exhausted"


def test_without_budgets_nothing_is_capped(tmp_path: Path) -> None:
    result = evaluate(tmp_path, None)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)["outcomes"][0]
    assert {e["campaign"]: e["total"] for e in outcome["effects"] if e["kind"] == "discount"}["promo"] == 5000


@pytest.mark.parametrize(
    ("text", "contains"),
    [
        ("[1, 2]", "expected a JSON object"),
        ("{\"promo\": ", "not valid JSON"),
        ("{\"promo\": -1}", "from 0 to"),
        ("{\"promo\": 1.5}", "fraction"),
        ("{\"promo\": \"100\"}", "got \"100\""),
        ("{\"prmo\": 100}", "did you mean `promo`"),
        ("{\"promo\": 1" + "0" * 5000 + "}", "LOY700"),
    ],
)
def test_bad_budgets_are_refused_with_a_code(tmp_path: Path, text: str, contains: str) -> None:
    result = evaluate(tmp_path, text)
    assert result.returncode == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "LOY700"
    assert contains in error["message"] or contains == error["code"]
