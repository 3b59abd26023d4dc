"""`loya simulate` counts anti-fraud flags per flag (report section ``flags``, docs/limits-fraud.md)
and settles partners (section ``settlement``):
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


STAFF = Path(__file__).parent / "cases" / "s01_staff_scheme_and_partner"


def test_partner_settlement(tmp_path: Path) -> None:
    """The partner's receipts of case s01: P1 earns 50 points, P3 earns 48 and spends 60; at 0.80 RUB a
    point the partner pays 98 × 0.80 = 78.40 and is paid 60 × 0.80 = 48.00."""
    steps = json.loads((STAFF / "case.json").read_text(encoding="utf-8"))["steps"]
    history = tmp_path / "history.jsonl"
    history.write_text("".join(json.dumps(s["step"]["receipt"]) + "\n" for s in steps if "receipt" in s["step"]),
                       encoding="utf-8")
    customers = tmp_path / "customers.jsonl"
    customers.write_text('{"id": "sam", "segments": ["employees"]}\n{"id": "pat"}\n', encoding="utf-8")
    report = simulate(STAFF / "programme.loya", history, "--customers", str(customers))
    assert report["settlement"] == [{"partner": "fuelco", "rate_ppm": 500000, "price": 80, "receipts": 2,
                                     "points_earned": 98, "points_spent": 60, "billed": 7840, "owed": 4800,
                                     "net": 3040}]
    assert "settlement" not in simulate(PLAIN / "programme.loya", history)
