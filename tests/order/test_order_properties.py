"""Properties of application order, exclusivity, floors and earn-and-burn (docs/order.md), over
random programmes and receipts (hypothesis):

* the generated driver gives the general loop's outcome on programmes that use every feature of
  docs/order.md (exclusive campaigns, declared order, live line fields, redistribution);
* allocations stay exact: each effect's parts sum to its total, no line goes below zero or its
  floor, and ``redistribute floors`` never gives less than the same campaign without it;
* earn and burn on one receipt, in each of the three accrual orders: a full return nets the
  customer's state back to where it was, and what is paid in money and points adds up.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, LoyaError, load_bundle
from loyadsl.runtime.state import CustomerState, apply

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the fuzz package, as tests/fuzz/test_fuzz.py has it
from fuzz import strategies
from fuzz.compare import general_loop
from fuzz.test_fuzz_driver import _receipt, _receipts

ORDER_CLAUSES = strategies._pick(["", "exclusive receipt", "exclusive lines", "redistribute floors",
                                  "exclusive lines  redistribute floors", "max discount 1.00 RUB per receipt"])
LIVE_ACTIONS = strategies._pick([
    "discount 5% on lines where not discounted", "discount 1.00 RUB per unit on lines where payable < 50.00 RUB",
    "discount 10.00 RUB on lines where discounted", "accrue 3% on lines where not discounted"])
LIVE_CONDITIONS = strategies._pick(["count(lines where discounted) >= 1", "receipt.payable >= 100.00 RUB"])
ACTIONS = st.one_of(strategies.VALID_ACTION.filter(lambda a: "discount 0%" not in a), LIVE_ACTIONS)


@st.composite
def programmes(draw: st.DrawFn) -> str:
    parts = [draw(strategies.VALID_HEADER), 'skus some = ["A", "B", "SKU00001"]']
    groups = draw(st.integers(1, 3))
    stackings = []
    for g in range(groups):
        stacking = draw(strategies.STACKING)
        stackings.append(stacking)
        order = "  order declared" if draw(st.booleans()) else ""
        basis = draw(strategies._pick(["original", "discounted"]))
        parts.append(f"group g{g} {{ priority {100 - g}  stacking {stacking}  basis {basis}{order} }}")
    for i in range(draw(st.integers(1, 6))):
        g = draw(st.integers(0, groups - 1))
        clause = draw(ORDER_CLAUSES)
        if stackings[g] == "stack_all":
            clause = clause.replace("exclusive receipt", "").replace("exclusive lines", "")
        clauses = [f"group g{g}", clause]
        if draw(st.booleans()):
            clauses.append(f"when {draw(st.one_of(strategies.VALID_CONDITION, LIVE_CONDITIONS))}")
        clauses.append("then " + "\n        ".join(draw(st.lists(ACTIONS, min_size=1, max_size=2))))
        parts.append(f"campaign c{i} {{\n    " + "\n    ".join(c for c in clauses if c) + "\n}")
    return "\n\n".join(parts) + "\n"


def _outcomes(engine: Engine, receipts: list[dict[str, Any]]) -> list[Any]:
    out: list[Any] = []
    for receipt in receipts:
        try:
            out.append(engine.evaluate(receipt).to_dict())
        except LoyaError as exc:
            out.append((exc.code, str(exc)))
    return out


def _engine(source: str) -> Engine:
    data, _ = compile_text(source, "p.loya")
    assume(data is not None)
    assert data is not None
    engine = Engine(load_bundle(data))
    assume(not engine._stateful)
    return engine


@settings(max_examples=120, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(programmes(), _receipts())
def test_order_driver_gives_the_general_loops_outcome(source: str, receipts: list[dict[str, Any]]) -> None:
    driven, general = _engine(source), general_loop(_engine(source))
    assert _outcomes(driven, receipts) == _outcomes(general, receipts)
    for receipt in receipts:  # the trace explains without failing
        try:
            driven.evaluate(receipt, explain=True)
        except LoyaError:
            continue


@settings(max_examples=120, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(programmes(), _receipt())
def test_order_allocations_are_exact_and_respect_floors(source: str, receipt: dict[str, Any]) -> None:
    engine = _engine(source)
    try:
        outcome = engine.evaluate(receipt).to_dict()
    except LoyaError:
        return
    for effect in outcome["effects"]:
        assert sum(effect["applied"]) == effect["total"]
        if effect["kind"] == "discount":
            assert effect["total"] + effect["capped"] == sum(effect["requested"])
    by_no = {line["line_no"]: line for line in receipt["lines"]}
    for line in outcome["lines"]:
        floor = -(-by_no[line["line_no"]].get("min_price", 0) * round(by_no[line["line_no"]]["qty"] * 1000) // 1000)
        assert line["payable"] >= 0 and (line["discount"] == 0 or line["payable"] >= floor)
    assert outcome["discount_total"] == sum(line["discount"] for line in outcome["lines"])


@settings(max_examples=80, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(_receipt(), strategies._pick(["30.00 RUB", "10%", "100%", "5.00 RUB per unit"]))
def test_redistribution_never_gives_less(receipt: dict[str, Any], amount: str) -> None:
    head = 'programme "P" {\n currency RUB minor 2\n timezone "UTC"\n}\n' \
           'group g { priority 1  stacking stack_all  basis original }\n'
    on = "lines where category \"food\" or category \"dairy\"" if "unit" in amount else "receipt"
    plain = _engine(head + f"campaign c {{ group g  then discount {amount} on {on} }}\n")
    spread = _engine(head + f"campaign c {{ group g  redistribute floors  then discount {amount} on {on} }}\n")
    a, b = plain.evaluate(receipt).to_dict(), spread.evaluate(receipt).to_dict()
    assert b["discount_total"] >= a["discount_total"]
    assert b["discount_total"] <= sum(sum(e["requested"]) for e in b["effects"])


EARN_BURN = '''programme "P" {{
    currency RUB minor 2
    timezone "Europe/Moscow"
}}
account bonus {{ expiry never }}
redemption {{ accounts bonus  max share {share}  {rule} }}
group base {{ priority 100  stacking stack_all  basis {basis} }}
campaign cashback {{ group base  then accrue 7% on receipt }}
campaign promo {{ group base  then discount 10% on lines where category "food" }}
'''
NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(strategies._pick(["accrue never when redeemed", "accrue on paid", "accrue on redeemed"]),
       strategies._pick(["original", "discounted"]), strategies._pick(["50%", "100%", "3%"]),
       _receipt(), st.one_of(st.just("max"), st.integers(0, 2000)), st.integers(0, 3000))
def test_earn_and_burn_full_return_nets_to_zero(rule: str, basis: str, share: str, receipt: dict[str, Any],
                                                 redeem: Any, balance: int) -> None:
    data, result = compile_text(EARN_BURN.format(rule=rule, basis=basis, share=share), "p.loya")
    assert data is not None, result.diagnostics
    engine = Engine(load_bundle(data))
    lots = [{"id": "L", "points": balance, "left": balance, "active_from": "2026-01-01T00:00:00+00:00",
             "expires": None}] if balance else []
    state = CustomerState.from_dict({"id": "C1", "accounts": {"bonus": {"balance": balance, "lots": lots}}},
                                    engine.bundle.state)
    receipt = {**receipt, "customer_id": "C1", "datetime": "2026-11-20T12:00:00+03:00", "redeem": {"points": redeem}}
    try:
        outcome = engine.evaluate(receipt, state)
    except LoyaError:
        return
    assert outcome.payment is not None
    if rule.startswith("accrue never") and outcome.payment["points"]:
        assert outcome.points_total == 0
    after = apply(state, list(outcome.changes or ()), engine.bundle.state)
    back = engine.refund(outcome, None, after, NOW)
    restored = apply(after, list(back.changes), engine.bundle.state)
    assert back.shortfall == ()
    assert back.money + back.points_money + back.certificates_money == outcome.payable
    assert restored.accounts == state.accounts
