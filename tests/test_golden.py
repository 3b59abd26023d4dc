"""Golden mechanic tests: each folder of tests/golden holds a programme, a receipt (and a customer),
and the outcome computed by hand. The YAML twin of every programme must give the same outcome."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, load_bundle
from loyadsl.syntax.parser import parse
from loyadsl.syntax.yaml_twin import to_yaml

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "programme.loya").is_file())


def project(outcome: dict[str, Any]) -> dict[str, Any]:
    """The parts of an outcome a golden file pins down."""
    campaigns: dict[str, dict[str, int]] = {}
    for effect in outcome["effects"]:
        entry = campaigns.setdefault(effect["campaign"], {})
        kind = "points" if effect["kind"] == "points" else "discount"
        entry[kind] = entry.get(kind, 0) + effect["total"]
    return {
        "lines_discount": [line["discount"] for line in outcome["lines"]],
        "lines_points": [line["points"] for line in outcome["lines"]],
        "campaigns": campaigns,
        "rejected": {r["campaign"]: r["reason"] for r in outcome["rejected"]},
    }


def run(case: Path, text: str, file: str) -> dict[str, Any]:
    data, result = compile_text(text, file, case / file)
    assert data is not None, [str(d) for d in result.diagnostics]
    engine = Engine(load_bundle(data))
    receipt = json.loads((case / "receipt.json").read_text(encoding="utf-8"))
    customer_file = case / "customer.json"
    customer = json.loads(customer_file.read_text(encoding="utf-8")) if customer_file.is_file() else None
    outcome = engine.evaluate(receipt, customer).to_dict()
    assert outcome["discount_total"] == sum(line["discount"] for line in outcome["lines"])
    assert outcome["payable"] == outcome["total"] - outcome["discount_total"]
    return project(outcome)


@pytest.mark.parametrize("name", CASES)
def test_golden(name: str) -> None:
    case = GOLDEN / name
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    assert run(case, (case / "programme.loya").read_text(encoding="utf-8"), "programme.loya") == expected


@pytest.mark.parametrize("name", CASES)
def test_golden_yaml_twin_gives_the_same_outcome(name: str) -> None:
    case = GOLDEN / name
    module, diags = parse((case / "programme.loya").read_text(encoding="utf-8"), "programme.loya")
    assert module is not None, diags
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    assert run(case, to_yaml(module), "programme.yaml") == expected


def test_every_mechanic_of_the_spine_has_a_golden_case() -> None:
    wanted = {"percent_on_lines", "percent_on_receipt", "fixed_on_receipt", "fixed_on_brand_lines",
              "per_unit_with_limit", "price_override", "n_plus_one", "cheapest_free", "combo_percent_on_part",
              "combo_set_price", "combo_amount_per_set", "tiered_thresholds", "accrue_percent", "accrue_fixed",
              "accrue_multiplier", "time_windows", "store_and_channel_filters", "audience",
              "quantity_and_count_thresholds", "white_and_black_lists", "stacking_first_by_priority",
              "stacking_best_for_customer", "stacking_lowest_discount", "stacking_up_to_one", "stacking_all",
              "basis_discounted", "basis_original", "max_discount_per_receipt"}
    assert wanted <= set(CASES)
