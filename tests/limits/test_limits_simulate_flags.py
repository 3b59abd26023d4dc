"""`loya simulate` counts anti-fraud flags per flag (report section ``flags``, docs/limits-fraud.md):
the receipts of the golden case f01 replayed as history (with one and two workers, the same counts),
and no ``flags`` section for a programme without anti-fraud limits."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CASE = Path(__file__).parent / "cases" / "f01_points_receipts_velocity"
PLAIN = Path(__file__).parent / "cases" / "r01_overall_and_per_store"


def simulate(programme: Path, history: Path, *args: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-m", "loyadsl.cli", "simulate", str(programme), "-r", str(history),
                           "--format", "json", *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report: dict[str, object] = json.loads(done.stdout)
    return report


@pytest.fixture
def history(tmp_path: Path) -> Path:
    steps = json.loads((CASE / "case.json").read_text(encoding="utf-8"))["steps"]
    path = tmp_path / "history.jsonl"
    path.write_text("".join(json.dumps(s["step"]["receipt"]) + "\n" for s in steps if "receipt" in s["step"]),
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("workers", ["1", "2"])
def test_flags_are_counted_per_flag(history: Path, workers: str) -> None:
    report = simulate(CASE / "programme.loya", history, "--workers", workers)
    # F2 and A1 per receipt; F3 and F4 per day; F3 velocity; F4 the day's fourth receipt
    assert report["flags"] == [{"flag": "points_per_day", "receipts": 2}, {"flag": "points_per_receipt", "receipts": 2},
                               {"flag": "receipts_per_day", "receipts": 1}, {"flag": "velocity", "receipts": 1}]


def test_no_flags_section_without_anti_fraud_limits(history: Path) -> None:
    assert "flags" not in simulate(PLAIN / "programme.loya", history)
