"""`loya eval` shows the state side of one receipt (issue 16, item 5): the payment, the lots with their
activation and expiry, counters, coupons issued and used, limits and budgets, events."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "supermarket"


def _eval(tmp_path: Path, receipt_id: str) -> str:
    receipt = next(line for line in (EXAMPLE / "receipts.jsonl").read_text(encoding="utf-8").splitlines()
                   if json.loads(line)["receipt_id"] == receipt_id)
    (tmp_path / "r.json").write_text(receipt, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "loyadsl.cli", "eval", str(EXAMPLE / "programme.loya"),
                           str(tmp_path / "r.json"), "--customers", str(EXAMPLE / "customers.jsonl")],
                          capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(("receipt", "expected"), [
    ("R00000303", ["→ payment: 300 points pay 300.00 RUB, certificates 0.00 RUB; to pay 3497.09 RUB",
                   "→ −300 points from bonus (redeem, lot H1001:bonus:base_cashback)",
                   "→ +75 points to bonus, active from 2025-02-01 16:05 UTC, expire 2025-06-30 21:00 UTC (base_cashback)",
                   "→ weekend_points uses its limit (2025-01-18)",
                   "→ weekend_points spends 50 of its budget"]),
    ("R00000001", ["→ +79 points to bonus, active from 2025-04-09 11:20 UTC, expire 2025-06-30 21:00 UTC (base_cashback)",
                   "→ stickers +5 (add)",
                   "→ coupon issued: WEL-ICBMZY7N (welcome), valid 2025-03-26 11:20 UTC .. 2025-04-25 11:20 UTC"]),
])
def test_eval_prints_what_the_receipt_does_to_the_state(tmp_path: Path, receipt: str, expected: list[str]) -> None:
    text = _eval(tmp_path, receipt)
    for line in expected:
        assert line in text, text


def test_eval_hints_say_what_a_nearly_applied_campaign_lacks(tmp_path: Path) -> None:
    case = json.loads((ROOT / "tests" / "runtime" / "explain" / "cases.json").read_text(encoding="utf-8"))[0]
    lines = [{"line_no": i + 1, **line} for i, line in enumerate(case["receipt"]["lines"])]
    (tmp_path / "r.json").write_text(json.dumps({"receipt_id": "R1", "datetime": "2026-03-05T12:00:00+03:00",
                                                 "store_id": "S1", "lines": lines}), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "loyadsl.cli", "eval",
                           str(ROOT / "tests" / "runtime" / "explain" / "programme.loya"), str(tmp_path / "r.json"),
                           "--hints"], capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"},
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "? total: add 160.00 RUB" in done.stdout
    assert '? either: add 0.5 more of lines where sku in ["A", "B"]' in done.stdout
