"""The six mechanics of shared/bench/MECHANICS.md, hand-assembled as bench/six_mechanics.loya compiles
them, must agree exactly, receipt by receipt and line by line, with a straightforward reference."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rt_asm import six_mechanics

from loyadsl.runtime import Engine, Receipt

GENERATOR = Path("/work/shared/bench/gen_receipts.py")
MSK = ZoneInfo("Europe/Moscow")


def reference(r: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
    """MECHANICS.md, read literally: per-line amounts where the mechanic defines them."""
    lines = r["lines"]
    n = len(lines)
    top = [x["category"].split("/")[0] for x in lines]
    s = sum(x["amount"] for x in lines)
    out: dict[str, Any] = {}
    out["a"] = sum(x["amount"] for x, t in zip(lines, top, strict=True) if t != "tobacco") * 3 // 10000
    local = dt.datetime.fromisoformat(r["datetime"]).astimezone(MSK)
    happy = local.weekday() < 5 and 10 <= local.hour < 16 and s >= 100000
    out["b"] = [x["amount"] * 10 // 100 if happy and t == "dairy" else 0 for x, t in zip(lines, top, strict=True)]
    c = [0] * n
    eligible = sorted((i for i, x in enumerate(lines) if x["sku"] in set(p["c_skus"])),
                      key=lambda i: (-lines[i]["unit_price"], lines[i]["line_no"]))
    before = 0
    for i in eligible:
        q = int(lines[i]["qty"])
        c[i] = lines[i]["unit_price"] * ((before + q) // 3 - before // 3)
        before += q
    out["c"] = c
    d = 50000 if s >= 500000 else 20000 if s >= 250000 else 0
    alloc = [d * x["amount"] // s for x in lines] if d else [0] * n
    if d:
        largest = min(range(n), key=lambda i: (-lines[i]["amount"], lines[i]["line_no"]))
        alloc[largest] += d - sum(alloc)
    out["d"] = alloc
    brand = sum(x["amount"] for x in lines if x["brand"] == "BR007")
    out["e"] = brand * 12 // 10000 if r["store_id"] in set(p["e_stores"]) else 0
    coffee = sum(int(x["qty"]) for x in lines if x["category"] == "cafe/coffee")
    croissants = sorted((i for i, x in enumerate(lines) if x["category"] == "cafe/croissant"),
                        key=lambda i: (lines[i]["unit_price"], lines[i]["line_no"]))
    pairs = min(coffee, sum(int(lines[i]["qty"]) for i in croissants))
    f = [0] * n
    seen = 0
    for i in croissants:
        q = int(lines[i]["qty"])
        f[i] = max(0, min(pairs - seen, q)) * (lines[i]["unit_price"] * 50 // 100)
        seen += q
    out["f"] = f
    return out


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    if not GENERATOR.is_file():
        pytest.skip("the shared benchmark generator is not available")
    out = tmp_path_factory.mktemp("bench")
    subprocess.run([sys.executable, str(GENERATOR), "-n", "300", "--out", str(out)], check=True, capture_output=True)
    receipts = [json.loads(x) for x in (out / "receipts.jsonl").read_text().splitlines()]
    return receipts, json.loads((out / "params.json").read_text())


def test_six_mechanics_agree_with_the_reference(bench: tuple[list[dict[str, Any]], dict[str, Any]]) -> None:
    receipts, params = bench
    engine = Engine.from_bytes(six_mechanics(params))
    seen = dict.fromkeys("abcdef", 0)
    for r in receipts:
        want = reference(r, params)
        outcome = engine.evaluate(r)
        got: dict[str, Any] = {k: [0] * len(r["lines"]) for k in "bcdf"} | {"a": 0, "e": 0}
        for effect in outcome.effects:
            if effect.kind == "points":
                got[effect.campaign] = sum(effect.requested)
            else:
                got[effect.campaign] = list(effect.requested)
        assert got == want, r["receipt_id"]
        for k in "abcdef":
            seen[k] += bool(want[k] if k in "ae" else any(want[k]))
        # the same answers from a pre-parsed receipt, and the allocations are exact
        assert engine.evaluate(Receipt.from_dict(r)) == outcome
        assert all(e.total == sum(e.applied) for e in outcome.effects)
    assert all(seen[k] > 0 for k in "abcdef"), seen  # every mechanic was exercised
