"""The trace says which comparison made an audience or condition false, with its values and units
(runtime/explain.py). Cases are data: tests/runtime/explain/ (a programme, receipts, and per campaign the
rejection detail expected, null for a block without a comparison)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from loyadsl.api import compile_file
from loyadsl.runtime import Engine, load_bundle

HERE = Path(__file__).parent / "explain"
CASES = json.loads((HERE / "cases.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def engine() -> Engine:
    data, result = compile_file(HERE / "programme.loya")
    assert data is not None, result.diagnostics
    return Engine(load_bundle(data))


def _receipt(case: dict[str, Any]) -> dict[str, Any]:
    lines = [{"line_no": i + 1, **line} for i, line in enumerate(case["receipt"]["lines"])]
    receipt = {"receipt_id": "R1", "datetime": "2026-03-05T12:00:00+03:00", "store_id": "S1", "lines": lines}
    if case["customer"] is not None:
        receipt["customer_id"] = case["customer"]["id"]
    return receipt


@pytest.mark.parametrize("case", CASES, ids=[c["why"][:40] for c in CASES])
def test_the_trace_names_the_comparison_that_decided(engine: Engine, case: dict[str, Any]) -> None:
    outcome = engine.evaluate(_receipt(case), case["customer"], explain=True)
    got = {r.campaign: r.detail for r in outcome.rejected}
    assert got == case["rejected"]
    for campaign, detail in case["rejected"].items():
        if detail is not None:
            assert any(line.endswith(f"{campaign}: {'audience' if campaign == 'tier' else 'condition_false'} "
                                     f"({detail})") for line in outcome.trace)


def test_without_a_trace_nothing_is_explained(engine: Engine) -> None:
    outcome = engine.evaluate(_receipt(CASES[0]), CASES[0]["customer"])
    assert all(r.detail is None for r in outcome.rejected) and outcome.trace == ()


@pytest.mark.parametrize("case", CASES, ids=[c["why"][:40] for c in CASES])
def test_hints_say_what_a_nearly_applied_campaign_lacks(engine: Engine, case: dict[str, Any]) -> None:
    """Only a growing value short of a constant threshold by at most 30% of it, and only when the
    condition would hold with that much more (``either``'s `or`, not ``not_small``'s `not <`)."""
    outcome = engine.evaluate(_receipt(case), case["customer"], hints=True)
    assert {h["campaign"]: h["text"] for h in outcome.hints or ()} == case["hints"]
    assert outcome.to_dict()["hints"] == [dict(h) for h in outcome.hints or ()]
    plain = engine.evaluate(_receipt(case), case["customer"])
    assert plain.hints is None and "hints" not in plain.to_dict()
