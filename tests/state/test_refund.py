"""Returns (docs/state.md, section 7): money back per line, changes that undo the original ones in
proportion, shortfall policies, and every way a return can be wrong (LOY503)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from loyadsl.runtime import Engine, Outcome
from loyadsl.runtime.errors import RefundError, StateError
from loyadsl.runtime.limits import MAX_APPLIED_IDS
from loyadsl.runtime.state import CustomerState, apply, invert

from .test_ledger_kit import (
    DAY,
    NOW,
    TRUE,
    account,
    apply_to,
    campaign,
    customer,
    engine,
    line,
    lot,
    ops,
    receipt,
    redemption,
)

LATER = NOW + dt.timedelta(days=1)
PCT = 10_000

COUNTERS = [{"name": "coffee", "title": None, "kind": "counter", "reset": "never", "earn": None, "valid": None}]
SERIES = [{"name": "welcome", "title": None, "code": "unique", "text": "WEL-", "valid_for": 30 * DAY, "valid": None,
           "uses": 1, "per_customer": None}]
CERTS = [{"name": "gift", "title": None, "skus": ["GC500"], "expiry": {"kind": "never"}, "multi_use": True}]
TIERS = {"name": "status", "title": None, "measure": "spend", "period": {"kind": "quarter", "days": None},
         "levels": [{"name": "base", "threshold": 0, "benefits": {}},
                    {"name": "gold", "threshold": 10_000_000, "benefits": {}}]}


def full_engine(**accounts: Any) -> Engine:
    """Accruals, a 10% discount for coupon holders (limited per day, budgeted), stamps, a coupon issue,
    redemption, certificates and tiers: every kind of change a return undoes."""
    return engine(
        campaign("cash", [("CONST", 5 * PCT), ("ACCRUE_TOTAL", TRUE)]),
        campaign("wel", [("CONST", 10 * PCT), ("DISCOUNT_LINES", TRUE)], coupon="welcome",
                 usage_limit={"count": 1, "per": "day"}, budget={"kind": "money", "amount": 10**9}),
        campaign("stamp", [("UNITS", TRUE), ("ADD_COUNTER", "coffee"), ("ISSUE_COUPON", "welcome")]),
        accounts=[account(**accounts)], redemption=redemption(), counters=COUNTERS, coupons=SERIES,
        certificates=CERTS, tiers=TIERS)


def start() -> CustomerState:
    return customer([lot("OLD", 5000)], tier="base", qualification={"period": "2025-Q1", "value": 100},
                    coupons=[{"code": "WEL-1", "series": "welcome", "issued": "2025-03-01T00:00:00+00:00",
                              "valid_from": "2025-03-01T00:00:00+00:00", "valid_to": "2025-04-01T00:00:00+00:00"}],
                    certificates=[{"code": "GC-1", "series": "gift", "value": 50000, "balance": 30000}])


def sale(e: Engine, s: CustomerState) -> tuple[Outcome, CustomerState]:
    r = receipt(line("A", 10000, 3), line("B", 7000), line("GC500", 50000), customer="C1", coupons=["WEL-1"],
                redeem={"points": 40}, certificates=[{"code": "GC-1", "amount": 5000}])
    o = e.evaluate(r, s)
    return o, apply_to(e, s, o.changes)


def without_returns(state: CustomerState) -> dict[str, Any]:
    """The state less what it remembers of returns and applied ids."""
    data = state.to_dict()
    data.pop("returns")
    data.pop("applied")
    return data


def test_a_full_return_restores_the_state() -> None:
    e = full_engine()
    s = start()
    o, after = sale(e, s)
    assert {c["op"] for c in o.changes or ()} >= {"take", "lot", "certificate", "counter", "coupon_use", "coupon_issue",
                                                   "certificate_issue", "qualify", "usage", "budget", "receipt"}
    back = e.refund(o, None, after, LATER)
    assert back.full and back.shortfall == ()
    restored = apply_to(e, after, back.changes)
    assert without_returns(restored) == without_returns(s)
    assert restored.returns == {"R1": {"1": 3000, "2": 1000, "3": 1000}}
    assert list(restored.applied) == ["R1", back.return_id] and back.return_id.startswith("R1:return:")
    # the money: everything paid, by the tender it was paid with
    assert (back.money + back.points_money + back.certificates_money, back.discount) == (o.payable, o.discount_total)
    assert o.payment is not None
    assert (back.points_money, back.certificates_money) == (o.payment["points_money"], o.payment["certificates_money"])
    assert [c["op"] for c in ops(back, "budget") + ops(back, "usage")] == ["budget", "usage"]
    json.dumps(back.to_dict())


def test_a_return_in_parts_equals_a_return_at_once() -> None:
    e = full_engine()
    o, after = sale(e, start())
    at_once = e.refund(o, None, after, LATER)
    one = e.refund(o, {1: 1, 3: 1}, after, LATER)
    assert not one.full and not ops(one, "coupon_unuse") and not ops(one, "receipt")
    middle = apply_to(e, after, one.changes)
    two = e.refund(o.to_dict(), {1: 2}, middle, LATER)  # a stored outcome (JSON) works as well
    three = e.refund(o, None, apply_to(e, middle, two.changes), LATER)
    assert three.full and list(three.lines) == [{"line_no": 2, "qty": 1000, "payable": 6300, "discount": 700,
                                                 "points_money": three.lines[0]["points_money"],
                                                 "certificates": three.lines[0]["certificates"],
                                                 "withheld": 0, "money": three.lines[0]["money"]}]
    parts = apply_to(e, apply_to(e, middle, two.changes), three.changes)
    assert without_returns(parts) == without_returns(apply_to(e, after, at_once.changes))
    assert parts.returns == apply_to(e, after, at_once.changes).returns
    for key in ("money", "points_money", "certificates_money", "discount"):
        assert getattr(one, key) + getattr(two, key) + getattr(three, key) == getattr(at_once, key), key


def test_money_back_per_unit_is_the_cumulative_share() -> None:
    e = engine(campaign("cash", [("CONST", 0), ("ACCRUE_TOTAL", TRUE)]))
    o = e.evaluate(receipt(line("A", 3333, 3, amount=10000), customer="C1"), customer())
    state = apply_to(e, customer(), o.changes)
    got = []
    for _ in range(3):
        back = e.refund(o, {1: 1}, state, LATER)
        got.append(back.money)
        state = apply_to(e, state, back.changes)
    assert got == [3333, 3333, 3334]  # ⌊10000 × 1/3⌋, ⌊10000 × 2/3⌋ − 3333, 10000 − 6666
    with pytest.raises(RefundError, match="already returned in full"):
        e.refund(o, None, state, LATER)


def test_weighed_goods_return_in_thousandths() -> None:
    e = engine(campaign("cash", [("CONST", 10 * PCT), ("ACCRUE_TOTAL", TRUE)]))
    o = e.evaluate(receipt(line("W", 20000, 1.5, amount=30000), customer="C1"), customer())
    state = apply_to(e, customer(), o.changes)
    back = e.refund(o, {1: 0.5}, state, LATER)
    assert back.lines[0]["qty"] == 500 and back.money == 10000
    # 10% of 300.00 RUB = 30 points; a third of the line comes back
    assert ops(back, "take") == [{"op": "take", "account": "bonus", "lot": "R1:bonus:cash", "points": 10,
                                  "reason": "return", "shared": False, "receipt": "R1"}]


# ------------------------------------------------------------------------------------ shortfall

def spent_lot(policy: str, **kw: Any) -> tuple[Engine, Outcome, CustomerState]:
    """50 points accrued on R1 (lot R1:bonus:cash), then 40 of them spent."""
    e = engine(campaign("cash", [("CONST", 10 * PCT), ("ACCRUE_TOTAL", TRUE)]),
               accounts=[account(shortfall=policy, **kw)])
    s = customer([lot("OTHER", 100, expires="2026-01-01T00:00:00+00:00")])
    o = e.evaluate(receipt(line("A", 50000), customer="C1"), s)
    after = apply_to(e, s, o.changes)
    spent = apply_to(e, after, [{"op": "take", "account": "bonus", "lot": "R1:bonus:cash", "points": 40,
                                 "reason": "redeem"}])
    return e, o, spent


def test_shortfall_report() -> None:
    e, o, s = spent_lot("report")
    back = e.refund(o, None, s, LATER)
    assert [(c["lot"], c["points"]) for c in ops(back, "take")] == [("R1:bonus:cash", 10)]
    assert back.shortfall == ({"kind": "points", "account": "bonus", "lot": "R1:bonus:cash", "points": 40,
                               "shared": False},)


def test_shortfall_other_lots() -> None:
    e, o, s = spent_lot("other_lots")
    back = e.refund(o, None, s, LATER)
    assert [(c["lot"], c["points"]) for c in ops(back, "take")] == [("R1:bonus:cash", 10), ("OTHER", 40)]
    assert back.shortfall == ()
    assert apply_to(e, s, back.changes).accounts["bonus"].balance == 60


def test_shortfall_negative_a_debt_to_the_credit_limit_then_withheld() -> None:
    e, o, s = spent_lot("negative", credit=30)
    back = e.refund(o, None, s, LATER)
    assert [c["points"] for c in ops(back, "debt")] == [30]
    # the 10 points the debt cannot take are withheld from the 500.00 refunded: 10 × 1.00 RUB
    assert back.shortfall == ({"kind": "withheld", "account": "bonus", "lot": "R1:bonus:cash", "points": 10,
                               "shared": False, "money": 1000},)
    assert (back.money, back.withheld, back.lines[0]["withheld"]) == (49000, 1000, 1000)
    after = apply_to(e, s, back.changes)
    assert (after.accounts["bonus"].debt, after.accounts["bonus"].balance) == (30, 70)


def test_redeemed_points_go_back_to_their_lot_and_expire_if_it_has() -> None:
    e = engine(campaign("cash", [("CONST", 0), ("ACCRUE_TOTAL", TRUE)]), redemption=redemption())
    s = customer([lot("SOON", 30, expires="2025-03-05T18:00:00+00:00")])
    o = e.evaluate(receipt(line("A", 10000), customer="C1", redeem={"points": 30}), s)
    after = apply_to(e, s, o.changes)
    back = e.refund(o, None, after, NOW + dt.timedelta(hours=2))
    assert [(c["points"], c["reason"]) for c in ops(back, "take")] == [(-30, "redeem")]
    assert apply_to(e, after, back.changes).accounts["bonus"].balance == 30
    back = e.refund(o, None, after, LATER)  # the lot expired meanwhile: the points expire at once
    assert [(c["points"], c["reason"]) for c in ops(back, "take")] == [(-30, "redeem"), (30, "expire")]
    assert back.events[-1]["event"] == "points_expired"
    assert apply_to(e, after, back.changes).accounts["bonus"].balance == 0


def test_a_sold_certificate_spent_in_part_is_withheld_from_the_money() -> None:
    e = engine(campaign("cash", [("CONST", 0), ("ACCRUE_TOTAL", TRUE)]), certificates=CERTS)
    o = e.evaluate(receipt(line("GC500", 50000), customer="C1"), customer())
    (sold,) = ops(o, "certificate_issue")
    after = apply_to(e, customer(), o.changes)
    spent = apply_to(e, after, [{"op": "certificate", "code": sold["code"], "delta": -20000}])
    back = e.refund(o, None, spent, LATER)
    assert (back.money, back.withheld) == (30000, 20000)
    assert back.shortfall == ({"kind": "certificate_spent", "code": sold["code"], "amount": 20000},)
    assert [c["op"] for c in back.changes] == ["applied", "receipt", "certificate", "certificate_void", "returned"]
    assert apply_to(e, spent, back.changes).certificates == []


def test_a_counter_reset_since_the_receipt_is_left_alone() -> None:
    counters = [dict(COUNTERS[0], reset="month")]
    e = engine(campaign("stamp", [("CONST", 2), ("ADD_COUNTER", "coffee")]), counters=counters)
    o = e.evaluate(receipt(line("A", 100), customer="C1"), customer())
    after = apply_to(e, customer(), o.changes)
    back = e.refund(o, None, after, NOW + dt.timedelta(days=40))  # April: March's stamps were reset
    assert [c["reason"] for c in ops(back, "counter")] == ["reset"]  # advance's, leading; nothing to undo


# ------------------------------------------------------------------------------------ errors


def simple() -> tuple[Engine, Outcome, CustomerState]:
    e = engine(campaign("cash", [("CONST", 10 * PCT), ("ACCRUE_TOTAL", TRUE)]))
    o = e.evaluate(receipt(line("A", 1000, 2), line("B", 500), customer="C1"), customer())
    return e, o, apply_to(e, customer(), o.changes)


@pytest.mark.parametrize(("returned", "where", "says"), [
    ({7: 1}, "returned.7", "has no line 7"),
    ({1: 3}, "returned.1", "returns 3 of line 1, but only 2 of the 2 sold are left to return"),
    ({1: 0}, "returned.1", "must be > 0"),
    ({1: 0.0001}, "returned.1", "at most 3 decimals"),
    ({}, "returned", "nothing to return"),
])
def test_a_return_that_does_not_fit_is_refused(returned: dict[Any, Any], where: str, says: str) -> None:
    e, o, s = simple()
    with pytest.raises(RefundError, match=says) as info:
        e.refund(o, returned, s, LATER)
    assert info.value.code == "LOY503" and info.value.where == where


def test_what_was_returned_already_counts() -> None:
    e, o, s = simple()
    s = apply_to(e, s, e.refund(o, {1: 1}, s, LATER).changes)
    with pytest.raises(RefundError, match="only 1 of the 2 sold"):
        e.refund(o, {1: 2}, s, LATER)


def test_another_customers_receipt_or_a_mixed_outcome_is_refused() -> None:
    e, o, s = simple()
    with pytest.raises(RefundError, match="evaluated for customer 'C1', not 'C2'"):
        e.refund(o, None, CustomerState.from_dict({"id": "C2"}), LATER)
    data = o.to_dict()
    data["changes"][0]["receipt"] = "R2"
    with pytest.raises(RefundError, match="a change of receipt 'R2'") as info:
        e.refund(data, None, s, LATER)
    assert info.value.where == "changes[0].receipt"


def test_an_outcome_without_state_cannot_be_refunded() -> None:
    from rt_asm import bundle_bytes

    e = Engine.from_bytes(bundle_bytes([campaign("cash", [("CONST", 1), ("ACCRUE_TOTAL", TRUE)])]))
    o = e.evaluate(receipt(line("A", 1000)))
    with pytest.raises(RefundError, match="no payment record"):
        e.refund(o, None, customer(), LATER)


@pytest.mark.parametrize(("path", "value", "where"), [
    (["lines", 0, "payable"], "9", "lines[0].payable"),
    (["effects", 0, "applied"], [1], "effects[0].requested"),
    (["payment", "lines", 0, "qty"], None, "payment.lines[0]"),
    (["payment", "lines", 0, "payable"], 1, "payment.lines[0]"),
    (["changes", 0], "lot", "changes[0]"),
    (["payable"], 1, "payable"),
])
def test_a_damaged_stored_outcome_is_refused(path: list[Any], value: Any, where: str) -> None:
    e, o, s = simple()
    data = o.to_dict()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(RefundError) as info:
        e.refund(data, None, s, LATER)
    assert info.value.code == "LOY503" and info.value.where == where


def test_cancelled_borrowing_beyond_the_debt_is_the_customers() -> None:
    # 60 points borrowed for line 1 (food may not be paid by points), then line 2's 30 food points repay 30
    e = engine(campaign("food", [("CONST", 30), ("ACCRUE_FIXED", [("LINE", "category"), ("CONST", "food"), ("EQ",)])]),
               accounts=[account(credit=500)], redemption=redemption(exclude=[("LINE", "category"), ("CONST", "food"),
                                                                              ("EQ",)]))
    s = customer()
    o = e.evaluate(receipt(line("X", 10000), line("F", 5000, category="food"), customer="C1", redeem={"points": 60}), s)
    assert [(c["op"], c["points"], c["lines"]) for c in ops(o, "debt")] == [("debt", 60, [[1, 60]]),
                                                                             ("debt", -30, [[2, -30]])]
    after = apply_to(e, s, o.changes)
    assert after.accounts["bonus"].debt == 30
    first = e.refund(o, {1: 1}, after, LATER)  # the borrowing is cancelled: 30 owed, 30 the customer's
    assert first.money == 4000 and first.points_money == 6000
    assert [(c["op"], c["points"]) for c in first.changes[1:-1]] == [("debt", -30), ("lot", 30)]
    middle = apply_to(e, after, first.changes)
    assert (middle.accounts["bonus"].debt, middle.accounts["bonus"].balance) == (0, 30)
    rest = e.refund(o, None, middle, LATER)  # the food goes back: its 30 points with it
    assert [(c["op"], c["points"]) for c in ops(rest, "lot")] == [("lot", -30)]
    assert without_returns(apply_to(e, middle, rest.changes)) == without_returns(s)


def test_a_spend_that_emptied_a_counter_comes_back() -> None:
    spend = [("CONST", 6), ("SPEND_COUNTER", "coffee"), ("CONST", 100), ("DISCOUNT_AMOUNT", TRUE)]
    e = engine(campaign("free", spend), counters=COUNTERS)
    s = customer(counters={"coffee": {"value": 6, "period": "all"}})
    o = e.evaluate(receipt(line("A", 1000), customer="C1"), s)
    after = apply_to(e, s, o.changes)
    assert after.counters == {}  # a counter at 0 is absent
    back = e.refund(o, None, after, LATER)
    assert [(c["delta"], c["period"]) for c in ops(back, "counter")] == [(6, "all")]
    assert apply_to(e, after, back.changes).counters["coffee"].value == 6


# ------------------------------------------------------------------------------------ payment parts

def test_each_payment_part_is_returned_by_the_one_rule_and_no_cash_is_made_up() -> None:
    # 3 units for 10.00, paid 5.00 by points and 5.00 by the certificate: nothing in cash. Flooring the
    # payable and the parts each on its own gave back 3.33 - 1.66 - 1.66 = 0.01 in cash on the first
    # unit (never paid) and -0.01 on the second.
    e = engine(campaign("cash", [("CONST", 0), ("ACCRUE_TOTAL", TRUE)]), redemption=redemption(), certificates=CERTS)
    s = customer([lot("OLD", 50)], certificates=[{"code": "GC-1", "series": "gift", "value": 50000, "balance": 30000}])
    o = e.evaluate(receipt(line("A", 333, 3, amount=1000), customer="C1", redeem={"points": 5},
                           certificates=[{"code": "GC-1"}]), s)
    assert o.payment is not None and o.payment["lines"][0]["to_pay"] == 0
    state = apply_to(e, s, o.changes)
    got = []
    for _ in range(3):
        back = e.refund(o, {1: 1}, state, LATER)
        (x,) = back.lines
        assert x["payable"] == x["money"] + x["points_money"] + x["certificates"] + x["withheld"]
        # the card gets back exactly what the refund says went back on it
        assert sum(c["delta"] for c in ops(back, "certificate")) == back.certificates_money
        got.append((back.money, back.points_money, back.certificates_money))
        state = apply_to(e, state, back.changes)
    assert got == [(0, 166, 166), (0, 167, 167), (0, 167, 167)]  # ⌊500 × k/3⌋ − ⌊500 × (k−1)/3⌋
    assert state.certificates[0].balance == 30000 and state.accounts["bonus"].balance == 50


def test_two_certificates_on_a_line_each_get_back_their_own_share() -> None:
    # the line's certificate part is the sum of each card's share, so the refund agrees with the cards
    e = engine(campaign("cash", [("CONST", 0), ("ACCRUE_TOTAL", TRUE)]), certificates=CERTS)
    cards = [{"code": f"GC-{i}", "series": "gift", "value": 50000, "balance": 30000} for i in (1, 2)]
    s = customer(certificates=cards)
    o = e.evaluate(receipt(line("A", 333, 3, amount=1000), customer="C1",
                           certificates=[{"code": "GC-1", "amount": 500}, {"code": "GC-2"}]), s)
    state = apply_to(e, s, o.changes)
    back = e.refund(o, {1: 1}, state, LATER)
    # ⌊500/3⌋ each; a third of the line's 1000 by certificates would have said 333
    assert sorted((c["code"], c["delta"]) for c in ops(back, "certificate")) == [("GC-1", 166), ("GC-2", 166)]
    assert (back.certificates_money, back.money, back.lines[0]["payable"]) == (332, 0, 332)


def test_a_payment_by_an_expired_certificate_is_refunded_in_money() -> None:
    # the card expired between the sale and the return: putting the money back on it would forfeit it
    certs = [dict(CERTS[0])]
    e = engine(campaign("cash", [("CONST", 0), ("ACCRUE_TOTAL", TRUE)]), certificates=certs)
    s = customer(certificates=[{"code": "GC-1", "series": "gift", "value": 50000, "balance": 30000,
                                "expires": "2025-03-05T18:00:00+00:00"}])
    o = e.evaluate(receipt(line("A", 10000), customer="C1", certificates=[{"code": "GC-1"}]), s)
    state = apply_to(e, s, o.changes)
    back = e.refund(o, None, state, LATER)
    assert (back.money, back.certificates_money) == (10000, 0)
    assert back.shortfall == ({"kind": "certificate_expired", "code": "GC-1", "amount": 10000},)
    assert [c["reason"] for c in ops(back, "certificate")] == ["expire"]  # the refund's advance, nothing put back
    assert apply_to(e, state, back.changes).certificates[0].balance == 0


# ------------------------------------------------------------------------------------ idempotency

def test_an_outcome_or_a_refund_applied_twice_is_refused() -> None:
    e = full_engine()
    s = start()
    o, after = sale(e, s)
    with pytest.raises(StateError) as info:
        apply_to(e, after, o.changes)
    assert info.value.code == "LOY510" and "R1 was applied to customer C1 already" in str(info.value)
    back = e.refund(o, {1: 1}, after, LATER, return_id="RET-1")
    assert back.changes[0] == {"op": "applied", "id": "RET-1", "at": "2025-03-06T09:00:00+00:00", "receipt": "R1"}
    middle = apply_to(e, after, back.changes)
    with pytest.raises(StateError) as info:
        apply_to(e, middle, back.changes)  # the same return booked twice
    assert info.value.code == "LOY510"
    with pytest.raises(RefundError) as refused:
        e.refund(o, {1: 1}, middle, LATER, return_id="RET-1")  # a new return under a used id
    assert refused.value.code == "LOY510" and refused.value.where == "return_id"
    for bad in ("", "X" * 1001, 7):
        with pytest.raises(RefundError) as refused:
            e.refund(o, {1: 1}, middle, LATER, return_id=bad)  # type: ignore[arg-type]
        assert refused.value.code == "LOY503" and refused.value.where == "return_id"
    # without an id, each return of a receipt gets its own from the quantities returned so far
    again = e.refund(o, {1: 1}, middle, LATER)
    assert again.return_id.startswith("R1:return:") and again.return_id != e.refund(o, {1: 1}, after, LATER).return_id


def test_a_state_remembers_the_newest_ids_only() -> None:
    s = customer()
    changes = [{"op": "applied", "id": f"R{i}", "at": f"2025-03-05T09:{i // 60:02d}:{i % 60:02d}+00:00"}
               for i in range(MAX_APPLIED_IDS + 2)]
    after = apply(s, changes)
    assert len(after.applied) == MAX_APPLIED_IDS and "R0" not in after.applied and "R1" not in after.applied
    assert apply(after, invert(s, changes)) == s  # forgetting is undone too
    last = apply(s, changes[:-1])
    assert apply(apply(last, changes[-1:]), invert(last, changes[-1:])) == last


def test_a_state_without_applied_ids_still_loads() -> None:
    data = customer([lot("OLD", 50)]).to_dict()
    del data["applied"]
    assert CustomerState.from_dict(data).applied == {}
