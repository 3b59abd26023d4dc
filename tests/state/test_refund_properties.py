"""Invariants of the ledger over random receipts (hypothesis), on a programme with lots, a credit
account, redemption limits, counters, chips, coupons and certificates:

* a full return undoes the receipt: apply(apply(s, outcome), refund) == s (less the returns record);
* returning in parts, then the rest, gives the state and the money a return at once gives;
* no balance goes below zero, but a credit account's, and that one only down to its limit;
* points are conserved: accrued − redeemed − expired = the change of the balances.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from loyadsl.runtime import Engine, Outcome
from loyadsl.runtime.state import CustomerState

from .test_ledger_kit import NOW, TRUE, account, apply_to, campaign, customer, engine, lot, redemption

PCT = 10_000
LATER = NOW + dt.timedelta(days=1)  # nothing expires or resets between the sale and the returns
CATEGORIES = ("food", "cafe/coffee", "tobacco", "misc")


def cat(*categories: str) -> list[tuple[Any, ...]]:
    return [("LINE", "category"), ("CONST", set(categories)), ("CATEGORY_IN",)]


ENGINE: Engine = engine(
    campaign("cash", [("CONST", 5 * PCT), ("ACCRUE_TOTAL", TRUE)]),
    campaign("food", [("CONST", 7), ("ACCRUE_FIXED", cat("food"))], account="credit"),
    campaign("wel", [("CONST", 10 * PCT), ("DISCOUNT_TOTAL", TRUE)], coupon="welcome"),
    campaign("stamp", [("UNITS", cat("cafe/coffee")), ("ADD_COUNTER", "coffee")]),
    campaign("free", [("CONST", 3), ("SPEND_COUNTER", "coffee"), ("CONST", 5000), ("DISCOUNT_AMOUNT", cat("cafe/coffee"))],
             condition=[("COUNTER", "coffee"), ("CONST", 3), ("GE",)]),
    campaign("give", [("ISSUE_COUPON", "welcome")], condition=[("RECEIPT", "total"), ("CONST", 30000), ("GE",)]),
    accounts=[account(), account("credit", credit=200, repay=500_000)],
    redemption=redemption("bonus", "credit", max_share=50 * PCT, min_payment=100, exclude=cat("tobacco")),
    counters=[{"name": "coffee", "title": None, "kind": "counter", "reset": "quarter", "earn": None, "valid": None},
              {"name": "stickers", "title": None, "kind": "chips", "reset": "never",
               "earn": {"count": 1, "per": 20000, "predicate": cat("food")}, "valid": [739000, 739600]}],
    coupons=[{"name": "welcome", "title": None, "code": "unique", "text": "WEL-", "valid_for": 2592000,
              "valid": None, "uses": 1, "per_customer": None}],
    certificates=[{"name": "gift", "title": None, "skus": ["GC500"], "expiry": {"kind": "never"},
                   "multi_use": True}],
)
CREDIT_LIMITS = {"bonus": 0, "credit": 200}


def start(debt: int, coffee: int) -> CustomerState:
    data = customer(
        [lot("A", 300, expires="2026-01-01T00:00:00+00:00"), lot("B", 150, left=120),
         lot("LATE", 500, active_from="2025-06-01T00:00:00+00:00")],
        counters={"coffee": {"value": coffee, "period": "2025-Q1"}},
        coupons=[{"code": "WEL-1", "series": "welcome", "issued": "2025-03-01T00:00:00+00:00",
                  "valid_from": "2025-03-01T00:00:00+00:00", "valid_to": "2025-04-01T00:00:00+00:00"}],
        certificates=[{"code": "GC-1", "series": "gift", "value": 50000, "balance": 20000}],
    ).to_dict()
    if debt:
        data["accounts"]["credit"] = {"balance": -debt, "debt": debt, "lots": []}
    return CustomerState.from_dict(data)


lines = st.lists(st.tuples(st.sampled_from(("A", "B", "C", "GC500")), st.sampled_from(CATEGORIES),
                           st.integers(1, 4), st.integers(1, 40000), st.booleans()), min_size=1, max_size=5)
payments = st.tuples(st.one_of(st.none(), st.just("max"), st.integers(0, 800)),
                     st.lists(st.sampled_from(("WEL-1", "WEL-404")), max_size=2),
                     st.one_of(st.none(), st.just([{"code": "GC-1"}]),
                               (st.sampled_from((1, 25000)) | st.integers(1, 30000)).map(
                                   lambda a: [{"code": "GC-1", "amount": a}])),
                     st.integers(0, 150), st.integers(0, 6))


def sale(items: list[tuple[str, str, int, int, bool]], pay: tuple[Any, ...]) -> tuple[CustomerState, Outcome]:
    redeem, coupons, certificates, debt, coffee = pay
    data: dict[str, Any] = {"receipt_id": "R1", "customer_id": "C1", "datetime": "2025-03-05T12:00:00+03:00",
                            "store_id": "S1", "lines": []}
    for i, (sku, category, qty, price, weighed) in enumerate(items, 1):
        amount = price * qty
        data["lines"].append({"line_no": i, "sku": sku, "category": category, "qty": qty + 0.25 if weighed else qty,
                              "unit_price": price, "amount": amount + (price // 4 if weighed else 0)})
    if redeem is not None:
        data["redeem"] = {"points": redeem}
    if coupons:
        data["coupons"] = coupons
    if certificates:
        data["certificates"] = certificates
    s = start(debt, coffee)
    return s, ENGINE.evaluate(data, s)


def without_returns(state: CustomerState) -> dict[str, Any]:
    """The state less what it remembers of returns and applied ids."""
    data = state.to_dict()
    data.pop("returns")
    data.pop("applied")
    return data


def check_balances(state: CustomerState) -> None:
    for name, acc in state.accounts.items():
        assert acc.balance >= -CREDIT_LIMITS[name], (name, acc)
        assert all(x.left >= 0 for x in acc.lots)


@settings(max_examples=150, deadline=None)
@given(lines, payments)
def test_a_full_return_undoes_the_receipt(items: list[tuple[str, str, int, int, bool]], pay: tuple[Any, ...]) -> None:
    s, o = sale(items, pay)
    after = apply_to(ENGINE, s, o.changes or ())
    check_balances(after)
    back = ENGINE.refund(o, None, after, LATER)
    restored = apply_to(ENGINE, after, back.changes)
    check_balances(restored)
    assert back.shortfall == ()
    assert without_returns(restored) == without_returns(s)
    assert back.money + back.points_money + back.certificates_money == o.payable
    assert back.discount == o.discount_total


@settings(max_examples=100, deadline=None)
@given(lines, payments, st.data())
def test_a_return_in_parts_equals_a_return_at_once(items: list[tuple[str, str, int, int, bool]],
                                                   pay: tuple[Any, ...], data: st.DataObject) -> None:
    s, o = sale(items, pay)
    after = apply_to(ENGINE, s, o.changes or ())
    at_once = ENGINE.refund(o, None, after, LATER)
    assert o.payment is not None
    part: dict[int, float] = {}
    for entry in o.payment["lines"]:
        thousandths = data.draw(st.integers(0, entry["qty"] - 1), label=f"line {entry['line_no']}")
        if thousandths:
            part[entry["line_no"]] = thousandths / 1000
    if not part:
        return
    first = ENGINE.refund(o, part, after, LATER)
    middle = apply_to(ENGINE, after, first.changes)
    check_balances(middle)
    rest = ENGINE.refund(o, None, middle, LATER)
    assert not first.full and rest.full
    assert without_returns(apply_to(ENGINE, middle, rest.changes)) == \
        without_returns(apply_to(ENGINE, after, at_once.changes))
    for key in ("money", "points_money", "certificates_money", "withheld", "discount"):
        assert getattr(first, key) + getattr(rest, key) == getattr(at_once, key), key
    # per line and payment part, by one rule: the parts never go below zero, add up to the payable, and a
    # partial return then the rest is the return at once
    parts = ("payable", "money", "points_money", "certificates", "withheld", "discount")
    whole = {x["line_no"]: x for x in at_once.lines}
    for x in first.lines:
        assert all(x[k] >= 0 for k in parts) and x["payable"] == x["money"] + x["points_money"] + \
            x["certificates"] + x["withheld"], x
    for y in rest.lines:
        x = next((x for x in first.lines if x["line_no"] == y["line_no"]), dict.fromkeys(parts, 0))
        assert {k: x[k] + y[k] for k in parts} == {k: whole[y["line_no"]][k] for k in parts}


@settings(max_examples=150, deadline=None)
@given(lines, payments)
def test_points_are_conserved(items: list[tuple[str, str, int, int, bool]], pay: tuple[Any, ...]) -> None:
    s, o = sale(items, pay)
    accrued = redeemed = expired = 0
    for change in o.changes or ():
        op, reason = change["op"], change.get("reason")
        if op == "lot":
            accrued += change["points"]
        elif op == "debt" and reason == "repay":
            accrued -= change["points"]  # what repays a debt was accrued as well
        elif (op == "take" and reason == "redeem") or (op == "debt" and reason == "redeem"):
            redeemed += change["points"]
        elif op == "take" and reason == "expire":
            expired += change["points"]
    after = apply_to(ENGINE, s, o.changes or ())

    def total(state: CustomerState) -> int:
        return sum(acc.balance for acc in state.accounts.values())

    assert accrued - redeemed - expired == total(after) - total(s)
    assert accrued == o.points_total
    assert o.payment is not None and redeemed == o.payment["points"]
