"""Hypothesis properties of the whole pipeline (DESIGN.md "Semantics that must be right").

Random receipts run through the compiled example programme and a generated 200-campaign programme:
allocations sum exactly, no line goes below zero, no discount exceeds what was left, evaluation is
deterministic; and the front end never raises on arbitrary text.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyadsl.api import check_text, compile_file, compile_text
from loyadsl.runtime import Engine, load_bundle

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from genprog import programme  # noqa: E402

EXAMPLE = ROOT / "examples" / "supermarket"
N_PLUS_ONE = (EXAMPLE / "n_plus_one.csv").read_text(encoding="utf-8").split()[1:6]
CATEGORIES = ["dairy/milk", "dairy/cheese", "bakery/bread", "cafe/coffee", "cafe/croissant", "sweets/chocolate",
              "grocery/coffee_beans", "pet/pet_food", "beverages/water", "alcohol/wine", "tobacco/cigarettes",
              "baby/diapers", "produce/fruits", "meat/fresh_meat", ""]
SKUS = [s.split(",")[0] for s in N_PLUS_ONE] + [f"SKU{n:05d}" for n in range(1, 12)]


@cache
def engines() -> list[Engine]:
    example, result = compile_file(EXAMPLE / "programme.loya")
    assert example is not None, result.diagnostics
    generated, result = compile_text(programme(200, seed=3), "generated.loya")
    assert generated is not None, result.diagnostics[:3]
    return [Engine(load_bundle(example)), Engine(load_bundle(generated))]


@st.composite
def lines(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for number in range(1, draw(st.integers(1, 25)) + 1):
        price = draw(st.integers(0, 200_000))
        if draw(st.booleans()):
            qty: float | int = draw(st.integers(1, 7))
            amount = int(qty) * price
        else:
            grams = draw(st.integers(1, 5000))
            qty = grams / 1000
            amount = int((Decimal(grams) * price / 1000).quantize(Decimal(1), ROUND_HALF_UP))
        out.append({"line_no": number, "sku": draw(st.sampled_from(SKUS)), "category": draw(st.sampled_from(CATEGORIES)),
                    "brand": draw(st.sampled_from(["BR007", "BR045", "BR057", "BR001"])), "qty": qty,
                    "unit_price": price, "amount": amount})
    return out


@st.composite
def receipts(draw: st.DrawFn) -> dict[str, Any]:
    moment = draw(st.datetimes(dt.datetime(2025, 1, 1), dt.datetime(2025, 12, 31)))
    return {
        "receipt_id": "P1",
        "customer_id": draw(st.one_of(st.none(), st.sampled_from(["C1", "C2"]))),
        "datetime": moment.replace(microsecond=0).isoformat() + "+03:00",
        "store_id": draw(st.sampled_from(["S001", "S002", "S011", "S033", "S049"])),
        "lines": draw(lines()),
    }


customers = st.one_of(
    st.none(),
    st.builds(lambda tier, segs: {"id": "C1", "tier": tier, "segments": segs},
              st.sampled_from(["gold", "silver", "bronze"]),
              st.lists(st.sampled_from(["coffee_lovers", "young_family"]), unique=True)),
)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(receipts(), customers)
def test_money_invariants(receipt: dict[str, Any], customer: dict[str, Any] | None) -> None:
    if customer is not None and receipt["customer_id"] is None:
        receipt["customer_id"] = customer["id"]
    for engine in engines():
        outcome = engine.evaluate(receipt, customer)
        o = outcome.to_dict()
        by_line = {line["line_no"]: line for line in o["lines"]}
        for line in receipt["lines"]:
            result = by_line[line["line_no"]]
            assert 0 <= result["discount"] <= line["amount"]  # never below zero, never more than was there
            assert result["payable"] == line["amount"] - result["discount"]
            assert result["points"] >= 0
        for effect in outcome.effects:
            assert sum(effect.applied) == effect.total  # allocations sum exactly
            assert all(a >= 0 for a in effect.applied)
            if effect.kind == "discount":
                assert all(a <= r for a, r in zip(effect.applied, effect.requested, strict=True))
                assert effect.capped == sum(effect.requested) - effect.total
        assert o["discount_total"] == sum(line["discount"] for line in o["lines"])
        assert o["points_total"] == sum(line["points"] for line in o["lines"])
        again = engine.evaluate(json.loads(json.dumps(receipt)), customer).to_dict()
        assert json.dumps(again, sort_keys=True) == json.dumps(o, sort_keys=True)  # deterministic


PROGRAMME = (EXAMPLE / "programme.loya").read_text(encoding="utf-8")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_check_never_raises_on_arbitrary_text(text: str) -> None:
    result = check_text(text, "fuzz.loya")
    assert not result.ok or result.programme is not None


@settings(max_examples=150, deadline=None)
@given(st.integers(0, len(PROGRAMME)), st.integers(0, 300), st.text(max_size=20))
def test_check_never_raises_on_mutated_programmes(start: int, length: int, insert: str) -> None:
    mutated = PROGRAMME[:start] + insert + PROGRAMME[start + length:]
    result = check_text(mutated, "mutated.loya", EXAMPLE / "mutated.loya")
    assert all(d.code.startswith("LOY") for d in result.diagnostics)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=400))
def test_yaml_check_never_raises(text: str) -> None:
    result = check_text(text, "fuzz.yaml")
    assert all(d.code.startswith("LOY") for d in result.diagnostics)
