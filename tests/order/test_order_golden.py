"""Golden cases of application order, exclusivity, floors and earn-and-burn (docs/order.md).

Each folder of tests/order/cases holds a programme, a receipt (and a customer) and the outcome
worked out by hand in ``why``. The runner checks, for the .loya programme and its YAML twin:

* the outcome's lines and effects as ``expected.json`` pins them (discount and capped money per
  campaign, points, rejections, and the payment's points when a customer pays with them);
* every effect's parts sum exactly to its total, and the lines to the receipt's discount;
* a stateless programme: the generated driver gives the general loop's outcome, field for field;
* with a customer: a full return nets every balance back to where it was.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, load_bundle
from loyadsl.runtime.state import CustomerState, apply
from loyadsl.syntax.parser import parse
from loyadsl.syntax.yaml_twin import to_yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the fuzz package, as tests/fuzz/test_fuzz.py has it
from fuzz.compare import general_loop

CASES_DIR = Path(__file__).parent / "cases"
CASES = sorted(p.name for p in CASES_DIR.iterdir() if (p / "programme.loya").is_file())
LATER = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)


def project(outcome: dict[str, Any]) -> dict[str, Any]:
    campaigns: dict[str, dict[str, int]] = {}
    for effect in outcome["effects"]:
        entry = campaigns.setdefault(effect["campaign"], {})
        assert sum(effect["applied"]) == effect["total"], effect
        kind = "points" if effect["kind"] == "points" else "discount"
        for key, value in ((kind, effect["total"]), ("capped", effect["capped"])):
            if value:
                entry[key] = entry.get(key, 0) + value
    out = {
        "lines_discount": [line["discount"] for line in outcome["lines"]],
        "lines_points": [line["points"] for line in outcome["lines"]],
        "campaigns": campaigns,
        "rejected": {r["campaign"]: r["reason"] for r in outcome["rejected"]},
    }
    if outcome.get("payment") and outcome["payment"]["points"]:
        out["payment"] = {k: outcome["payment"][k] for k in ("points", "points_money", "to_pay")}
    return out


def engine_of(case: Path, text: str, file: str) -> Engine:
    data, result = compile_text(text, file, case / file)
    assert data is not None, [str(d) for d in result.diagnostics]
    return Engine(load_bundle(data))


def evaluate(case: Path, engine: Engine) -> tuple[dict[str, Any], Any, CustomerState | None]:
    receipt = json.loads((case / "receipt.json").read_text(encoding="utf-8"))
    customer_file = case / "customer.json"
    state = CustomerState.from_dict(json.loads(customer_file.read_text(encoding="utf-8")), engine.bundle.state) \
        if customer_file.is_file() else None
    outcome = engine.evaluate(receipt, state)
    data = outcome.to_dict()
    assert data["discount_total"] == sum(line["discount"] for line in data["lines"])
    assert data["points_total"] == sum(line["points"] for line in data["lines"])
    return data, outcome, state


def expected(case: Path) -> dict[str, Any]:
    data = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    data.pop("why")
    return data


@pytest.mark.parametrize("name", CASES)
def test_order_case(name: str) -> None:
    case = CASES_DIR / name
    engine = engine_of(case, (case / "programme.loya").read_text(encoding="utf-8"), "programme.loya")
    data, _, _ = evaluate(case, engine)
    assert project(data) == expected(case)


@pytest.mark.parametrize("name", CASES)
def test_order_case_yaml_twin(name: str) -> None:
    case = CASES_DIR / name
    module, diags = parse((case / "programme.loya").read_text(encoding="utf-8"), "programme.loya")
    assert module is not None, diags
    data, _, _ = evaluate(case, engine_of(case, to_yaml(module), "programme.yaml"))
    assert project(data) == expected(case)


@pytest.mark.parametrize("name", CASES)
def test_order_case_driver_agrees_with_the_general_loop(name: str) -> None:
    case = CASES_DIR / name
    text = (case / "programme.loya").read_text(encoding="utf-8")
    driven, general = engine_of(case, text, "programme.loya"), general_loop(engine_of(case, text, "programme.loya"))
    if (case / "customer.json").is_file():
        pytest.skip("the driver runs the stateless path only")
    assert evaluate(case, driven)[0] == evaluate(case, general)[0]


@pytest.mark.parametrize("name", [n for n in CASES if (CASES_DIR / n / "customer.json").is_file()])
def test_order_case_full_return_nets_to_zero(name: str) -> None:
    case = CASES_DIR / name
    engine = engine_of(case, (case / "programme.loya").read_text(encoding="utf-8"), "programme.loya")
    _, outcome, state = evaluate(case, engine)
    assert state is not None
    after = apply(state, list(outcome.changes or ()), engine.bundle.state)
    back = engine.refund(outcome, None, after, LATER)
    restored = apply(after, list(back.changes), engine.bundle.state)
    assert back.shortfall == ()
    assert back.money + back.points_money + back.certificates_money == outcome.payable
    assert without_returns(restored) == without_returns(state)


def without_returns(state: CustomerState) -> dict[str, Any]:
    """The state less what it remembers of returns and applied ids."""
    data = state.to_dict()
    data.pop("returns")
    data.pop("applied")
    return data
