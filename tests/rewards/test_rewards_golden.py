"""Golden cases of the rewards currency (docs/rewards.md) as data: each ``cases/*.yaml`` holds a programme,
the customer before, the stock levels, and steps (a receipt, a return, or booking stock), with what each
must give (``expect``), every figure worked out by hand in the case's ``why``. Each case runs from the
.loya programme and from its YAML twin; after the steps, ``nets_to_zero`` cases check that the customer
and the stock are back where they started.

``LOYA_REGEN=1`` rewrites the ``expect`` of every step from what the code gives, to be checked by hand."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, LoyaError, Outcome, load_bundle
from loyadsl.runtime.state import CustomerState, StockLevels, apply
from loyadsl.syntax.parser import parse
from loyadsl.syntax.yaml_twin import to_yaml

CASES = Path(__file__).parent / "cases"
NAMES = sorted(p.stem for p in CASES.glob("*.yaml"))
Json = dict[str, Any]
REWARD_EVENTS = ("reward", "reward_refused", "gift", "certificate_sold")
REWARD_CHANGES = ("take", "stock", "certificate_issue", "certificate", "certificate_void", "lot")


def engine_of(case: Json, twin: bool) -> Engine:
    text = case["programme"]
    if twin:
        module, diags = parse(text, "programme.loya")
        assert module is not None, diags
        text, file = to_yaml(module), "programme.yaml"
    else:
        file = "programme.loya"
    data, result = compile_text(text, file)
    assert data is not None, [str(d) for d in result.diagnostics]
    return Engine(load_bundle(data))


def project(o: Outcome) -> Json:
    return {
        "applied": list(o.applied),
        "rejected": {r.campaign: r.reason for r in o.rejected},
        "discount": [line.discount for line in o.lines],
        "events": [e for e in o.events or () if e["event"] in REWARD_EVENTS],
        "changes": [c for c in o.changes or () if c["op"] in REWARD_CHANGES],
    }


def holdings(state: CustomerState | None) -> Json:
    """What the customer holds that rewards move: each account's lots' left, the certificates."""
    if state is None:
        return {}
    data = state.to_dict()
    return {"accounts": {name: {lot["id"]: lot["left"] for lot in acc["lots"]} for name, acc in
                         data.get("accounts", {}).items()},
            "certificates": {c["code"]: c["balance"] for c in data.get("certificates", [])}}


def run(case: Json, twin: bool) -> tuple[list[Json], Json]:
    """What each step gives, and the stock levels before the first."""
    engine = engine_of(case, twin)
    decls = engine.bundle.state
    declared = {name: r.stock for name, r in engine.ledger.rewards.items() if r.stock is not None}
    levels = StockLevels(declared, case.get("stock"))
    initial = levels.left()
    state = CustomerState.from_dict(case["customer"], decls) if case.get("customer") else None
    outcomes: dict[str, Outcome] = {}
    got: list[Json] = []
    for step in case["steps"]:
        try:
            if "receipt" in step:
                receipt = step["receipt"]
                o = engine.evaluate(receipt, state, stock=levels.left() if step.get("enforce", True) else None)
                outcomes[receipt["receipt_id"]] = o
                if step.get("book", True):
                    levels.apply(o.changes or ())
                    if state is not None:
                        state = apply(state, list(o.changes or ()), decls)
                got.append({"outcome": project(o), "holdings": holdings(state), "stock": levels.left()})
            elif "return" in step:
                back = step["return"]
                assert state is not None
                r = engine.refund(outcomes[back["receipt"]], back.get("lines"), state,
                                  dt.datetime.fromisoformat(back["now"]))
                levels.apply(r.changes)
                state = apply(state, list(r.changes), decls)
                got.append({"refund": {"money": r.money, "withheld": r.withheld, "full": r.full,
                                       "changes": [c for c in r.changes if c["op"] in REWARD_CHANGES]},
                            "holdings": holdings(state), "stock": levels.left()})
            else:  # book an outcome computed earlier (a race for the last unit)
                levels.apply(outcomes[step["book"]].changes or ())
                got.append({"stock": levels.left()})
        except LoyaError as exc:
            got.append({"error": exc.code})
    return got, initial


def load(name: str) -> Json:
    return yaml.safe_load((CASES / f"{name}.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("twin", [False, True], ids=["loya", "yaml_twin"])
@pytest.mark.parametrize("name", NAMES)
def test_rewards_golden(name: str, twin: bool) -> None:
    case = load(name)
    got, initial = run(case, twin)
    if os.environ.get("LOYA_REGEN") and not twin:
        case["expect"] = got
        (CASES / f"{name}.yaml").write_text(yaml.safe_dump(case, allow_unicode=True, sort_keys=False,
                                                           width=120), encoding="utf-8")
        return
    assert got == case["expect"]
    if case.get("nets_to_zero"):
        assert got[-1]["holdings"] == holdings(CustomerState.from_dict(case["customer"]))
        assert got[-1]["stock"] == initial
