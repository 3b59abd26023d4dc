"""The arm at the command line: `loya eval` prints each experiment's arm, `--explain` traces the
bucket, and `-f json` outcomes carry `arms`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CASE = Path(__file__).parent / "golden" / "arm_gates_a_campaign"


def loya(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "loyadsl.cli", *args], capture_output=True, text=True, check=False)


def _receipt(tmp_path: Path, index: int) -> Path:
    line = (CASE / "receipts.jsonl").read_text(encoding="utf-8").splitlines()[index]
    path = tmp_path / "receipt.json"
    path.write_text(line, encoding="utf-8")
    return path


def test_exp_eval_prints_and_traces_the_arm(tmp_path: Path) -> None:
    run = loya("eval", str(CASE / "programme.loya"), str(_receipt(tmp_path, 0)), "--explain")
    assert run.returncode == 0, run.stderr
    assert "experiment spring: offer" in run.stdout
    assert "experiment spring: arm offer (bucket 3907)" in run.stdout  # C0004, docs/experiments.md


def test_exp_eval_of_an_anonymous_receipt(tmp_path: Path) -> None:
    run = loya("eval", str(CASE / "programme.loya"), str(_receipt(tmp_path, 3)), "--explain", "-f", "json")
    assert run.returncode == 0, run.stderr
    [outcome] = json.loads(run.stdout)["outcomes"]
    assert outcome["arms"] == {"spring": None}
    assert "experiment spring: anonymous receipt, in no arm; gets none of its campaigns" in outcome["trace"]
    assert {"campaign": "offer_discount", "reason": "not_in_arm",
            "detail": "spring: the receipt gets no arm (anonymous); the campaign joins offer"} in outcome["rejected"]
