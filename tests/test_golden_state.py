"""Golden customer-state tests (docs/state.md): each folder of tests/golden_state holds a programme, the
customer state before (``customer.json``), a receipt, optionally returns and a clock advance, and what
comes out, computed by hand (``expected.json``): the outcome's figures, the new state in canonical
form after ``state.apply``, the refund's figures. See tests/golden_state/README.md for the format.
Every case runs twice: from the .loya programme and from its YAML twin."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, LoyaError, Outcome, load_bundle
from loyadsl.runtime.declarations import StateDecls
from loyadsl.runtime.state import CustomerState, apply, invert
from loyadsl.syntax.parser import parse
from loyadsl.syntax.yaml_twin import to_yaml

GOLDEN = Path(__file__).parent / "golden_state"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "programme.loya").is_file())
Json = dict[str, Any]
Applied = list[tuple[StateDecls, CustomerState, list[Json]]]  # each step's (declarations, state before, changes)


def read(case: Path, name: str) -> Any:
    path = case / name
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def steps(case: Path) -> list[Json]:
    """The case as a sequence: ``steps.json``, or receipt.json (+ budgets.json), return.json (one
    return or a list), advance.json."""
    listed = read(case, "steps.json")
    if listed is not None:
        return list(listed)
    out: list[Json] = []
    receipt = read(case, "receipt.json")
    if receipt is not None:
        out.append({"receipt": receipt, "budgets": read(case, "budgets.json")})
    returns = read(case, "return.json")
    out += [{"return": r} for r in (returns if isinstance(returns, list) else [returns] if returns else [])]
    advance = read(case, "advance.json")
    if advance is not None:
        out.append({"advance": advance["now"]})
    return out


def project(o: Outcome) -> Json:
    """The parts of a stateful outcome a golden file pins down."""
    changes = o.changes or ()
    return {
        "discount": [line.discount for line in o.lines],
        "payable": [line.payable for line in o.lines],
        "points": [line.points for line in o.lines],
        "applied": list(o.applied),
        "rejected": {r.campaign: r.reason for r in o.rejected},
        "payment": o.payment,
        "redeemed": [[c.get("lot", "borrowed"), c["points"], c["lines"]]  # points taken, per line
                     for c in changes if c.get("reason") == "redeem"],
        "coupons": [[c["code"], c["status"], c["reason"]] for c in o.coupons or ()],
        "events": list(o.events or ()),
        "external": [c for c in changes if c["op"] in ("transfer", "budget")],  # not this customer's state
    }


def run(case: Path, text: str, file: str, applied: Applied) -> list[Json]:
    """Compile, then each step: evaluate a receipt, refund a return or advance the clock, applying the
    changes to the customer state; what each step gives, as expected.json writes it."""
    data, result = compile_text(text, file, case / file)
    assert data is not None, [str(d) for d in result.diagnostics]
    engine = Engine(load_bundle(data))
    decls = engine.bundle.state
    raw = read(case, "customer.json")
    state = None if raw is None else CustomerState.from_dict(raw, decls)
    outcomes: dict[str, Outcome] = {}
    got: list[Json] = []

    def put(changes: Any) -> Json:
        nonlocal state
        assert state is not None
        applied.append((decls, state, list(changes)))
        state = apply(state, list(changes), decls)
        assert CustomerState.from_dict(state.to_dict(), decls) == state  # canonical
        return state.to_dict()

    for step in steps(case):
        if "receipt" in step:
            receipt = step["receipt"]
            outcome = outcomes[receipt["receipt_id"]] = engine.evaluate(receipt, state, budgets=step.get("budgets"))
            if state is None and receipt.get("customer_id") is not None:
                state = CustomerState(id=receipt["customer_id"])  # a new customer
            got.append({"outcome": project(outcome), "state": None if state is None else put(outcome.changes)})
        elif "return" in step:
            back = step["return"]
            assert state is not None, "a return needs a customer"
            refund = engine.refund(outcomes[back.get("receipt") or list(outcomes)[-1]], back.get("lines"), state,
                                   dt.datetime.fromisoformat(back["now"]))
            figures = refund.to_dict()
            del figures["receipt_id"], figures["changes"]
            got.append({"refund": figures, "state": put(refund.changes)})
        else:
            assert state is not None, "advancing needs a customer"
            changes, events = engine.advance(state, dt.datetime.fromisoformat(step["advance"]))
            got.append({"advance": {"changes": list(changes), "events": list(events)}, "state": put(changes)})
    return got


def programme(name: str, yaml: bool) -> tuple[str, str]:
    """The case's programme text and file name, or its YAML twin's."""
    text = (GOLDEN / name / "programme.loya").read_text(encoding="utf-8")
    if not yaml:
        return text, "programme.loya"
    module, diags = parse(text, "programme.loya")
    assert module is not None, diags
    return to_yaml(module), "programme.yaml"


def marked(names: list[str], bugs: dict[str, str]) -> list[Any]:
    """The cases as parameters, those hit by a known runtime bug expected to fail (strict: when the bug
    is fixed, the mark must go)."""
    return [pytest.param(n, marks=pytest.mark.xfail(reason=bugs[n], strict=True)) if n in bugs else n for n in names]


EXPECTED = {name: read(GOLDEN / name, "expected.json") for name in CASES}
KNOWN_BUGS = {name: e["known_bug"] for name, e in EXPECTED.items() if "known_bug" in e}


@pytest.mark.parametrize("yaml", [False, True], ids=["loya", "yaml_twin"])
@pytest.mark.parametrize("name", marked(CASES, KNOWN_BUGS))
def test_golden_state(name: str, yaml: bool) -> None:
    expected = EXPECTED[name]
    text, file = programme(name, yaml)
    if "error" in expected:
        with pytest.raises(LoyaError) as info:
            run(GOLDEN / name, text, file, [])
        assert info.value.code == expected["error"]["code"]
        assert expected["error"]["contains"] in str(info.value)
    else:
        assert run(GOLDEN / name, text, file, []) == expected["steps"]


@pytest.mark.parametrize("name", marked([n for n in CASES if "error" not in EXPECTED[n]], KNOWN_BUGS))
def test_apply_then_invert_restores_the_state(name: str) -> None:
    """For every step of every case: ``apply(apply(s, cs), invert(s, cs)) == s`` (a return's removed lots
    come back as they were, where they were)."""
    applied: Applied = []
    run(GOLDEN / name, *programme(name, yaml=False), applied)
    for decls, before, changes in applied:
        after = apply(before, changes, decls)
        assert apply(after, invert(before, changes, decls), decls) == before
