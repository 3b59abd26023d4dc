"""The e-commerce example (examples/ecommerce): its mechanic tests pass, its generator made its history,
and `loya simulate` replays that history cleanly, with every kind of line doing what docs/commerce.md
says: delivery discounted only by the delivery offers, deposits and corrections never touched."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from loyadsl.api import compile_file
from loyadsl.mechtest.runner import run_file
from loyadsl.runtime import Engine, load_bundle
from loyadsl.simulate.run import Simulation

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "examples" / "ecommerce"
TESTS = sorted(ROOT.glob("examples/*/*.test.yaml"))


@pytest.fixture(scope="module")
def bundle() -> bytes:
    data, result = compile_file(SHOP / "programme.loya")
    assert data is not None, [str(d) for d in result.diagnostics]
    return data


@pytest.mark.parametrize("path", TESTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_commerce_example_mechanic_tests_pass(path: Path) -> None:
    result = run_file(path, str(path))
    assert not result.errors, [str(d) for d in result.errors]
    assert result.cases and not [c.name for c in result.cases if c.failed]


def test_commerce_generator_made_the_history() -> None:
    spec = importlib.util.spec_from_file_location("ecommerce_generate", SHOP / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    on_file = [json.loads(line) for line in (SHOP / "receipts.jsonl").read_text(encoding="utf-8").splitlines()]
    assert on_file == json.loads(json.dumps(module.history()))
    members = [json.loads(line) for line in (SHOP / "customers.jsonl").read_text(encoding="utf-8").splitlines()]
    assert members == module.customers()


def test_commerce_example_simulates_cleanly(bundle: bytes) -> None:
    report = Simulation(bundle, [SHOP / "receipts.jsonl"], customers=SHOP / "customers.jsonl").run()
    i, t = report["input"], report["totals"]
    assert i["quarantined"] == 0 and i["read"] == i["simulated"] and i["returns"] > 0
    assert t["points_redeemed"] > 0 and t["refunded"] > 0
    given = {c["name"]: c for c in report["campaigns"]}
    for name in ("free_delivery", "app_delivery", "assembly_half", "spend_more", "cashback", "staff_discount",
                 "voucher_5", "delivery_reward", "tote_bag", "food_bank"):
        assert given[name]["receipts"] > 0, name
    rewards = report["requests"]["reward"]  # every reward chosen is given: the members had the points
    assert rewards["outcomes"] == {"given": rewards["requests"]} and rewards["requests"] >= 30
    (tote,) = report["limits"]
    assert (tote["campaign"], tote["amount"]) == ("tote_bag", 40) and 0 < tote["used"] <= 40


def test_commerce_example_staff_earn_no_points_and_keep_to_their_cap(bundle: bytes) -> None:
    """Staff receipts (customers.jsonl: the segment "employees") get 20% off, at most 150 EUR a month,
    and no points."""
    engine = Engine(load_bundle(bundle))
    staff = {json.loads(line)["id"] for line in (SHOP / "customers.jsonl").read_text(encoding="utf-8").splitlines()}
    seen = 0
    for text in (SHOP / "receipts.jsonl").read_text(encoding="utf-8").splitlines():
        receipt: dict[str, Any] = json.loads(text)
        if receipt.get("customer_id") in staff and "return_of" not in receipt:
            outcome = engine.evaluate(receipt, {"id": receipt["customer_id"], "segments": ["employees"]})
            assert "staff_discount" in outcome.applied and outcome.points_total == 0
            seen += 1
    assert seen >= 3


def test_commerce_example_lines_by_kind(bundle: bytes) -> None:
    engine = Engine(load_bundle(bundle))
    delivery_offers = {"free_delivery", "app_delivery", "delivery_reward"}
    for text in (SHOP / "receipts.jsonl").read_text(encoding="utf-8").splitlines():
        receipt: dict[str, Any] = json.loads(text)
        if "return_of" in receipt:
            continue
        outcome = engine.evaluate(receipt)
        kinds = [line.get("kind", "goods") for line in receipt["lines"]]
        for effect in outcome.effects:
            for kind, amount in zip(kinds, effect.applied, strict=True):
                if kind in ("deposit", "correction"):
                    assert amount == 0
                if kind == "delivery" and amount:
                    assert effect.campaign in delivery_offers
        assert outcome.tax is not None and outcome.tax["gross"] == outcome.payable
