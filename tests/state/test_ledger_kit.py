"""Shared helpers of the ledger and refund tests (a programme with state, a customer, a receipt), and
the checks every stateful outcome must pass whatever the programme."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))

from rt_asm import TRUE, bundle_bytes, campaign, line, receipt

from loyadsl.runtime import Engine, Outcome
from loyadsl.runtime.state import CustomerState, apply

DAY = 86400
T0 = "2025-01-01T00:00:00+00:00"  # before every receipt of these tests
AT = "2025-03-05T12:00:00+03:00"  # rt_asm's default receipt time: 09:00 UTC
NOW = dt.datetime(2025, 3, 5, 9, tzinfo=dt.UTC)  # the same instant

__all__ = ["AT", "DAY", "NOW", "T0", "TRUE", "account", "apply_to", "campaign", "customer", "engine", "line",
           "lot", "ops", "receipt", "redemption"]


def account(name: str = "bonus", **kw: Any) -> dict[str, Any]:
    """An account declaration (bundle JSON), defaults as the language's."""
    return {"name": name, "title": None, "activation": 0, "expiry": {"kind": "never"}, "spend": "soonest_expiring",
            "credit": 0, "repay": 1_000_000, "shortfall": "report", "notify": 0, **kw}


def redemption(*accounts: str, **kw: Any) -> dict[str, Any]:
    return {"accounts": list(accounts or ["bonus"]), "max_share": 1_000_000, "min_payment": 0, "exclude": None,
            "accrue_on_redeemed": False, **kw}


def engine(*campaigns: dict[str, Any], accounts: list[dict[str, Any]] | None = None,
           settings: dict[str, Any] | None = None, **state: Any) -> Engine:
    """An engine for campaigns with a state section (``state``: its other keys); every campaign
    accrues to the first account unless it names one."""
    accounts = [account()] if accounts is None else accounts
    decls: dict[str, Any] = {"accounts": accounts, "default_account": accounts[0]["name"] if accounts else None,
                             **state}
    for c in campaigns:
        if c["state"]["account"] is None and accounts:
            c["state"]["account"] = accounts[0]["name"]
    return Engine.from_bytes(bundle_bytes(list(campaigns), state=decls, **(settings or {})))


def lot(lot_id: str, points: int, left: int | None = None, active_from: str = T0, expires: str | None = None,
        **kw: Any) -> dict[str, Any]:
    return {"id": lot_id, "points": points, "left": points if left is None else left, "active_from": active_from,
            "expires": expires, **kw}


def customer(lots: list[dict[str, Any]] | None = None, debt: int = 0, **fields: Any) -> CustomerState:
    """Customer C1 with lots in the bonus account (balance computed)."""
    data: dict[str, Any] = {"id": "C1", **fields}
    if lots or debt:
        lots = lots or []
        data.setdefault("accounts", {})["bonus"] = {"balance": sum(x["left"] for x in lots) - debt, "debt": debt,
                                                    "lots": lots}
    return CustomerState.from_dict(data)


def ops(outcome: Any, op: str) -> list[dict[str, Any]]:
    """The changes of one kind, in order (of an Outcome or a Refund)."""
    return [c for c in outcome.changes if c["op"] == op]


def apply_to(e: Engine, state: CustomerState, changes: Any) -> CustomerState:
    return apply(state, list(changes), e.bundle.state)


def test_a_stateful_outcome_round_trips_through_json_and_its_lines_sum() -> None:
    e = engine(campaign("cash", [("CONST", 50_000), ("ACCRUE_TOTAL", TRUE)]),
               redemption=redemption())
    s = customer([lot("L0", 1000)])
    o = e.evaluate(receipt(line("A", 1000, 3), line("B", 555), customer="C1", redeem={"points": 7}), s)
    assert o.changes is not None and o.payment is not None
    assert Outcome.from_dict(o.to_dict()) == o
    for change in o.changes:
        if "lines" in change:
            total = change.get("points", change.get("delta"))
            assert sum(p for _, p in change["lines"]) == total, change
    pay = o.payment
    assert pay["to_pay"] + pay["points_money"] + pay["certificates_money"] == o.payable
    assert [x["qty"] for x in pay["lines"]] == [3000, 1000]
