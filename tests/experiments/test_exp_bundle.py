"""Experiments in the bundle (format 3): the loader checks the `experiments` section and each
campaign's `arm` gate (LOY404 naming the JSON path); a format 2 bundle, which predates experiments,
still loads (a programme without experiments is written as one); a runtime that reads format 2 only
refuses format 3 (LOY403), so a bundle with experiments never runs ungated."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from loyadsl.api import check_text
from loyadsl.compile.bundle_writer import build_payload
from loyadsl.runtime import Engine, load_bundle
from loyadsl.runtime.bundle import FORMAT_VERSION, pack_bundle
from loyadsl.runtime.errors import BundleError
from loyadsl.runtime.experiments import Arm, ArmGate, Experiment

PROGRAMME = Path(__file__).parent / "golden" / "group_arm" / "programme.loya"


@pytest.fixture(scope="module")
def payload() -> dict[str, Any]:
    result = check_text(PROGRAMME.read_text(encoding="utf-8"), "programme.loya")
    assert result.programme is not None, result.diagnostics
    return build_payload(result.programme)


def test_exp_bundle_carries_experiments_and_gates(payload: dict[str, Any]) -> None:
    assert FORMAT_VERSION == 3 and payload["manifest"]["format_version"] == 3
    bundle = load_bundle(pack_bundle(payload))
    assert bundle.experiments == (Experiment("spring", "spring-2026", (Arm("offer", 5000), Arm("lite", 3000),
                                                                      Arm("control", 2000))),)
    gates = {c.name: c.arm for c in bundle.campaigns}
    assert gates == {"lite_discount": ArmGate(0, frozenset({"lite"})), "lite_points": ArmGate(0, frozenset({"lite"})),
                     "treated": ArmGate(0, frozenset({"offer", "lite"}))}


@pytest.mark.parametrize(("edit", "where"), [
    (lambda p: p["experiments"][0]["arms"][0].update(weight=4999), "experiments[0].arms"),
    (lambda p: p["experiments"][0]["arms"][1].update(weight=0), "experiments[0].arms[1].weight"),
    (lambda p: p["experiments"][0]["arms"][1].update(name="offer"), "experiments[0].arms[1].name"),
    (lambda p: p["experiments"][0].update(anonymous="nobody"), "experiments[0].anonymous"),
    (lambda p: p["experiments"][0].pop("salt"), "experiments[0].salt"),
    (lambda p: p["campaigns"][0]["arm"].update(experiment=1), "campaigns[0].arm.experiment"),
    (lambda p: p["campaigns"][0]["arm"].update(arms=["gold"]), "campaigns[0].arm.arms[0]"),
    (lambda p: p["campaigns"][0]["arm"].update(arms=[]), "campaigns[0].arm.arms"),
])
def test_exp_bundle_loader_refuses_damaged_experiments(payload: dict[str, Any], edit: Any, where: str) -> None:
    damaged = copy.deepcopy(payload)
    edit(damaged)
    with pytest.raises(BundleError) as info:
        load_bundle(pack_bundle(damaged))
    assert info.value.code == "LOY404" and info.value.where == where, info.value


def test_exp_a_programme_without_experiments_keeps_format_2() -> None:
    plain = PROGRAMME.read_text(encoding="utf-8").replace("arm spring.lite\n", "").replace("arm spring.offer\n", "")
    plain = plain[:plain.index("experiment spring")] + plain[plain.index("group lite_offers"):]
    result = check_text(plain, "programme.loya")
    assert result.programme is not None, result.diagnostics
    payload = build_payload(result.programme)
    assert payload["manifest"]["format_version"] == 2 and "experiments" not in payload
    assert all("arm" not in c for c in payload["campaigns"])
    assert load_bundle(pack_bundle(payload)).manifest.format_version == 2


def test_exp_a_format_2_bundle_still_loads(payload: dict[str, Any]) -> None:
    old = copy.deepcopy(payload)
    old["manifest"]["format_version"] = 2
    del old["experiments"]
    for campaign in old["campaigns"]:
        del campaign["arm"]
    engine = Engine(load_bundle(pack_bundle(old)))
    receipt = {"receipt_id": "R", "customer_id": "C0001", "datetime": "2026-01-01T12:00:00+00:00", "store_id": "S",
               "lines": [{"line_no": 1, "sku": "A", "category": "c", "qty": 1, "unit_price": 1000, "amount": 1000}]}
    outcome = engine.evaluate(receipt)
    assert outcome.arms is None and "arms" not in outcome.to_dict()
    assert set(outcome.applied) == {"lite_discount", "lite_points", "treated"}  # ungated without experiments
