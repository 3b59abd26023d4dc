"""`loya collisions` knows experiments: campaigns in different arms of one experiment are disjoint
(a receipt gets one arm of each experiment), which brute force over many customers confirms, and a
witness for campaigns in one arm is a customer in that arm."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, load_bundle

PROGRAMME = Path(__file__).parent / "collisions" / "programme.loya"


def test_exp_collisions_of_arms() -> None:
    run = subprocess.run([sys.executable, "-m", "loyadsl.cli", "collisions", str(PROGRAMME), "-f", "json"],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    pairs = {(p["a"], p["b"]): p for p in json.loads(run.stdout)["pairs"]}
    assert pairs["ca", "cb"]["answer"] == pairs["cb", "cc"]["answer"] == "disjoint"
    assert pairs["ca", "cb"]["reason"] == "different arms of experiment x"
    meet = pairs["ca", "cc"]
    assert meet["answer"] == "meet"
    data, _ = compile_text(PROGRAMME.read_text(encoding="utf-8"), "programme.loya")
    assert data is not None
    engine = Engine(load_bundle(data))
    witness = meet["witness"]
    outcome = engine.evaluate(witness["receipt"], witness["customer"])
    assert {"ca", "cc"} <= set(outcome.applied)
    receipt = witness["receipt"]
    for i in range(2_000):  # brute force: no customer, nor an anonymous receipt, gets ca and cb together
        applied = set(engine.evaluate({**receipt, "customer_id": f"B{i}"}).applied)
        assert not {"ca", "cb"} <= applied
    assert not {"ca", "cb"} <= set(engine.evaluate({**receipt, "customer_id": None}).applied)
