"""Golden cases of programme-wide usage limits and anti-fraud limits (docs/limits-fraud.md), as data:
each folder of tests/limits/cases holds ``programme.loya`` and ``case.json``: ``steps`` (receipts
calculated and applied, returns) and what each gives, computed by hand. The uses live in one
``RedemptionBook`` (the host's programme-wide counts), customers' states in memory. Every case runs
from the .loya programme and from its YAML twin.

Steps: ``{"receipt": R}`` (calculate, then apply), ``{"calculate": R}`` (only evaluate), ``{"apply":
"ID"}`` (commit a calculated receipt: uses, then the customer's changes; a refusal leaves both as
they were), ``{"return": "ID", "now": T}`` (a full return, committed the same way). Each step's
result: ``applied``, ``discount_total``, ``points_total``, ``uses`` (the receipt's redemption
changes as ``[campaign, store, day]``), ``flags`` (anti-fraud flags) for an evaluation; ``ok`` or
``error`` (the code) for a commit. ``uses`` at the end: the book's counts by key; ``usage_of``
(optional): customers' ``usage`` at the end (where the anti-fraud counts live); ``customers``
(optional): their states before the first step."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, LoyaError, Outcome, load_bundle
from loyadsl.runtime.redemptions import RedemptionBook
from loyadsl.runtime.state import CustomerState, apply
from loyadsl.syntax.parser import parse
from loyadsl.syntax.yaml_twin import to_yaml

CASES = Path(__file__).parent / "cases"
NAMES = sorted(p.name for p in CASES.iterdir() if (p / "programme.loya").is_file())
Json = dict[str, Any]


class Host:
    """A till's host: the engine, the programme-wide book, the customers' states, the outcomes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.book = RedemptionBook()
        self.states: dict[str, CustomerState] = {}
        self.outcomes: dict[str, Outcome] = {}

    def calculate(self, receipt: Json) -> Json:
        customer = receipt.get("customer_id")
        state = self.states.get(customer) if customer else None
        if customer and state is None:
            state = self.states[customer] = CustomerState(id=customer)
        outcome = self.outcomes[receipt["receipt_id"]] = self.engine.evaluate(receipt, state,
                                                                              redemptions=self.book.used)
        changes = outcome.changes or ()
        return {"applied": list(outcome.applied), "discount_total": outcome.discount_total,
                "points_total": outcome.points_total,
                "uses": [[c["campaign"], c["store"], c["day"]] for c in changes if c["op"] == "redemption"],
                "flags": [f["flag"] for f in getattr(outcome, "flags", None) or ()]}

    def commit(self, customer: str | None, changes: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> Json:
        """The uses, then the customer's state; all or nothing."""
        decls = self.engine.bundle.state
        try:
            after = apply(self.states[customer], list(changes), decls) if customer else None
            self.book.commit(changes)
        except LoyaError as exc:
            return {"error": exc.code}
        if customer and after is not None:
            self.states[customer] = after
        return {"ok": True}

    def apply(self, receipt_id: str) -> Json:
        outcome = self.outcomes[receipt_id]
        return self.commit((outcome.payment or {}).get("customer"), outcome.changes or ())

    def full_return(self, receipt_id: str, now: str) -> Json:
        outcome = self.outcomes[receipt_id]
        customer = (outcome.payment or {}).get("customer")
        refund = self.engine.refund(outcome, None, self.states.get(customer) if customer else None,
                                    dt.datetime.fromisoformat(now))
        return self.commit(customer, refund.changes)


def run(text: str, file: str, steps: list[Json], customers: list[Json] = ()  # type: ignore[assignment]
        ) -> tuple[list[Json], dict[str, int], dict[str, Any]]:
    data, result = compile_text(text, file)
    assert data is not None, [str(d) for d in result.diagnostics]
    host = Host(Engine(load_bundle(data)))
    for raw in customers:
        host.states[raw["id"]] = CustomerState.from_dict(raw, host.engine.bundle.state)
    got: list[Json] = []
    for step in steps:
        if "receipt" in step:
            got.append({**host.calculate(step["receipt"]), **host.apply(step["receipt"]["receipt_id"])})
        elif "calculate" in step:
            got.append(host.calculate(step["calculate"]))
        elif "apply" in step:
            got.append(host.apply(step["apply"]))
        else:
            got.append(host.full_return(step["return"], step["now"]))
    usage = {name: state.usage for name, state in host.states.items()}
    return got, {k: v for k, v in host.book.used.items() if v}, usage


@pytest.mark.parametrize("yaml", [False, True], ids=["loya", "yaml_twin"])
@pytest.mark.parametrize("name", NAMES)
def test_limits_golden(name: str, yaml: bool) -> None:
    case = json.loads((CASES / name / "case.json").read_text(encoding="utf-8"))
    text, file = (CASES / name / "programme.loya").read_text(encoding="utf-8"), "programme.loya"
    if yaml:
        module, diags = parse(text, file)
        assert module is not None, diags
        text, file = to_yaml(module), "programme.yaml"
    got, uses, usage = run(text, file, [s["step"] for s in case["steps"]], case.get("customers", []))
    for i, (step, result) in enumerate(zip(case["steps"], got, strict=True)):
        expected = {k: v for k, v in step.items() if k not in ("step", "why")}
        assert {k: result.get(k) for k in expected} == expected, f"step {i}: {step.get('why', '')}"
    assert uses == case["uses"]
    for customer, expected_usage in case.get("usage_of", {}).items():
        assert usage[customer] == expected_usage, customer
