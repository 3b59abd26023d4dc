"""The ledger, mechanic by mechanic (docs/state.md, sections 5-6): a state and a receipt in, the
changes and the payment out, every figure computed by hand.

Settings are rt_asm's: RUB with kopecks, whole points, 1 point = 1.00 RUB (value 100), floor
rounding, Moscow time; receipts are at 2025-03-05 12:00 MSK (09:00 UTC), a Wednesday.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from loyadsl.runtime import Engine, StateError
from loyadsl.runtime.state import CustomerState

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

PCT = 10_000  # ppm per percent


def cat(*categories: str) -> list[tuple[Any, ...]]:
    return [("LINE", "category"), ("CONST", set(categories)), ("CATEGORY_IN",)]


def cash(pct: int = 10, name: str = "cash", **kw: Any) -> dict[str, Any]:
    return campaign(name, [("CONST", pct * PCT), ("ACCRUE_TOTAL", TRUE)], **kw)


def off(pct: int = 10, name: str = "off", **kw: Any) -> dict[str, Any]:
    return campaign(name, [("CONST", pct * PCT), ("DISCOUNT_LINES", TRUE)], **kw)


def reasons(outcome: Any) -> dict[str, str]:
    return {r.campaign: r.reason for r in outcome.rejected}


# ------------------------------------------------------------------------------------ the fast path


def test_a_programme_without_state_keeps_the_stateless_outcome() -> None:
    from rt_asm import bundle_bytes

    e = Engine.from_bytes(bundle_bytes([cash()]))
    o = e.evaluate(receipt(line("A", 10000), customer="C1"), customer())
    assert o.changes is None and o.payment is None and o.coupons is None and o.events is None
    assert list(o.to_dict()) == ["receipt_id", "currency", "total", "discount_total", "payable", "points_total",
                                 "lines", "effects", "applied", "rejected", "trace"]
    assert o.points_total == 10


# ------------------------------------------------------------------------------------ lots


def test_an_accrual_is_a_lot_with_the_accounts_activation_and_expiry() -> None:
    e = engine(cash(5), accounts=[account(activation=14 * DAY, expiry={"kind": "after", "seconds": 365 * DAY})])
    o = e.evaluate(receipt(line("A", 60000), line("B", 40000), customer="C1"), customer())
    (change,) = ops(o, "lot")
    # 5% of 1000.00 RUB = 50.00 RUB = 50 points, allocated 30 / 20 by the lines
    assert change == {"op": "lot", "account": "bonus", "lot": "R1:bonus:cash", "points": 50,
                      "active_from": "2025-03-19T09:00:00+00:00", "expires": "2026-03-05T09:00:00+00:00",
                      "receipt": "R1", "campaign": "cash", "shared": False, "lines": [[1, 30], [2, 20]]}
    assert ops(o, "receipt") == [{"op": "receipt", "receipt": "R1", "delta": 1}]
    state = apply_to(e, customer(), o.changes)
    assert state.accounts["bonus"].balance == 50 and state.receipts == 1


@pytest.mark.parametrize(("following", "expires"), [(False, "2025-03-31T21:00:00+00:00"),
                                                     (True, "2025-06-30T21:00:00+00:00")])
def test_expiry_at_the_end_of_a_quarter_is_local_midnight(following: bool, expires: str) -> None:
    e = engine(cash(), accounts=[account(expiry={"kind": "end_of", "period": "quarter", "next": following})])
    (change,) = ops(e.evaluate(receipt(line("A", 10000), customer="C1"), customer()), "lot")
    assert change["expires"] == expires  # 2025-04-01 / 2025-07-01 00:00 in Moscow (UTC+3)


def test_a_campaign_accrues_to_its_own_account() -> None:
    e = engine(cash(name="base"), cash(name="promo", account="promo"), accounts=[account(), account("promo")])
    o = e.evaluate(receipt(line("A", 10000), customer="C1"), customer())
    assert [(c["account"], c["lot"], c["points"]) for c in ops(o, "lot")] == [
        ("bonus", "R1:bonus:base", 10), ("promo", "R1:promo:promo", 10)]


def test_an_anonymous_receipt_changes_no_customer() -> None:
    e = engine(cash(), redemption=redemption())
    o = e.evaluate(receipt(line("A", 10000)))
    assert o.changes == () and o.points_total == 10 and o.payment is not None and o.payment["customer"] is None


def test_a_card_without_a_state_is_a_new_customer() -> None:
    e = engine(cash())
    o = e.evaluate(receipt(line("A", 10000), customer="C9"))
    assert o.payment is not None and o.payment["customer"] == "C9"
    assert [c["op"] for c in o.changes or ()] == ["applied", "lot", "receipt"]


def test_time_events_lead_the_changes() -> None:
    e = engine(cash())
    s = customer([lot("OLD", 40, expires="2025-03-01T00:00:00+00:00"), lot("L1", 5)])
    o = e.evaluate(receipt(line("A", 10000), customer="C1"), s)
    assert o.changes is not None and o.payment is not None
    assert o.changes[0] == {"op": "take", "account": "bonus", "lot": "OLD", "points": 40, "reason": "expire",
                            "shared": False}
    assert o.payment["advance"] == 1
    assert o.events is not None and o.events[0]["event"] == "points_expired"
    assert apply_to(e, s, o.changes).accounts["bonus"].balance == 5 + 10


# ------------------------------------------------------------------------------------ redemption


def redeem_engine(**rules: Any) -> Engine:
    return engine(cash(), redemption=redemption(**rules))


def test_redemption_is_capped_by_the_max_share() -> None:
    e = redeem_engine(max_share=30 * PCT)
    o = e.evaluate(receipt(line("A", 100000), customer="C1", redeem={"points": "max"}), customer([lot("L", 10000)]))
    pay = o.payment
    assert pay is not None
    assert (pay["points"], pay["points_money"], pay["limited_by"], pay["to_pay"]) == (300, 30000, "max_share", 70000)
    assert ops(o, "take") == [{"op": "take", "account": "bonus", "lot": "L", "points": 300, "reason": "redeem",
                               "lines": [[1, 300]], "shared": False, "receipt": "R1"}]
    # accruals on what is paid in money: 10% of 700.00 RUB
    assert o.points_total == 70


def test_redemption_leaves_the_min_payment() -> None:
    e = redeem_engine(min_payment=100)
    o = e.evaluate(receipt(line("A", 5000), customer="C1", redeem={"points": "max"}), customer([lot("L", 1000)]))
    assert o.payment is not None
    assert (o.payment["points"], o.payment["points_money"], o.payment["limited_by"]) == (49, 4900, "min_payment")


def test_redemption_is_limited_by_the_balance() -> None:
    e = redeem_engine()
    o = e.evaluate(receipt(line("A", 100000), customer="C1", redeem={"points": 500}), customer([lot("L", 300)]))
    assert o.payment is not None
    assert (o.payment["points"], o.payment["points_money"], o.payment["limited_by"]) == (300, 30000, "balance")


def test_excluded_lines_are_not_paid_by_points() -> None:
    e = redeem_engine(exclude=cat("tobacco"))
    r = receipt(line("MILK", 10000, category="dairy"), line("CIG", 20000, category="tobacco"), customer="C1",
                redeem={"points": "max"})
    o = e.evaluate(r, customer([lot("L", 1000)]))
    assert o.payment is not None
    assert o.payment["points"] == 100 and [x["points_money"] for x in o.payment["lines"]] == [10000, 0]


def test_redemption_rounds_points_up_and_money_down() -> None:
    # 1 point = 0.03 RUB: 100 points would pay 3.00, the max share allows 0.50: ⌈50 / 3⌉ = 17 points
    e = engine(cash(), redemption=redemption(max_share=50 * PCT), settings={"point_value": 3})
    o = e.evaluate(receipt(line("A", 100), customer="C1", redeem={"points": 100}), customer([lot("L", 100)]))
    assert o.payment is not None
    assert (o.payment["points"], o.payment["points_money"]) == (17, 50)
    # and 10 points pay ⌊10 × 3⌋ = 30 kopecks exactly
    o = e.evaluate(receipt(line("A", 100), customer="C1", redeem={"points": 10}), customer([lot("L", 100)]))
    assert o.payment is not None and (o.payment["points"], o.payment["points_money"]) == (10, 30)


def test_money_by_points_is_allocated_by_largest_remainder() -> None:
    e = redeem_engine()
    r = receipt(line("A", 1000), line("B", 333), line("C", 500), customer="C1", redeem={"points": 10})
    o = e.evaluate(r, customer([lot("L", 100)]))
    assert o.payment is not None
    # 1000 over 1000/333/500: floors 545, 181, 272 (remainders .55 .67 .78), the 2 left to C and B
    assert [x["points_money"] for x in o.payment["lines"]] == [545, 182, 273]
    (take,) = ops(o, "take")
    assert take["lines"] == [[1, 5], [2, 2], [3, 3]]  # 10 points by the same rule over the money


def test_lots_are_spent_in_the_accounts_order_and_only_active_ones() -> None:
    lots = [lot("LATE", 30, expires="2025-06-01T00:00:00+00:00"), lot("SOON", 30, expires="2025-04-01T00:00:00+00:00"),
            lot("NEVER", 100), lot("FUTURE", 100, active_from="2025-04-01T00:00:00+00:00")]
    r = receipt(line("A", 100000), customer="C1", redeem={"points": 50})
    o = redeem_engine().evaluate(r, customer(lots))
    assert [(c["lot"], c["points"]) for c in ops(o, "take")] == [("SOON", 30), ("LATE", 20)]
    e = engine(cash(), accounts=[account(spend="newest_first")], redemption=redemption())
    lots = [lot("A", 30, active_from="2025-01-01T00:00:00+00:00"), lot("B", 30, active_from="2025-02-01T00:00:00+00:00")]
    assert [(c["lot"], c["points"]) for c in ops(e.evaluate(r, customer(lots)), "take")] == [("B", 30), ("A", 20)]


def test_accrual_on_redeemed_counts_the_part_paid_by_points() -> None:
    r = receipt(line("A", 10000), customer="C1", redeem={"points": 20})
    assert redeem_engine().evaluate(r, customer([lot("L", 100)])).points_total == 8  # 10% of 80.00
    e = redeem_engine(accrue_on_redeemed=True)
    assert e.evaluate(r, customer([lot("L", 100)])).points_total == 10


def test_redeem_without_a_redemption_declaration_pays_nothing() -> None:
    o = engine(cash()).evaluate(receipt(line("A", 10000), customer="C1", redeem={"points": 5}),
                                customer([lot("L", 100)]))
    assert o.payment is not None and o.payment["points"] == 0 and not ops(o, "take")


# ------------------------------------------------------------------------------------ credit


def test_a_credit_account_borrows_after_the_lots() -> None:
    e = engine(cash(0), accounts=[account(credit=500, repay=500_000)], redemption=redemption())
    o = e.evaluate(receipt(line("A", 100000), customer="C1", redeem={"points": 300}), customer([lot("L", 100)]))
    assert [(c["op"], c["points"]) for c in ops(o, "take") + ops(o, "debt")] == [("take", 100), ("debt", 200)]
    assert ops(o, "debt")[0]["reason"] == "redeem" and ops(o, "debt")[0]["lines"] == [[1, 200]]
    state = apply_to(e, customer([lot("L", 100)]), o.changes)
    assert state.accounts["bonus"].debt == 200 and state.accounts["bonus"].balance == -200


def test_a_credit_account_is_limited_by_its_credit() -> None:
    e = engine(cash(0), accounts=[account(credit=500)], redemption=redemption())
    o = e.evaluate(receipt(line("A", 100000), customer="C1", redeem={"points": "max"}), customer(debt=400))
    assert o.payment is not None and o.payment["points"] == 100 and o.payment["limited_by"] == "balance"


def test_accruals_repay_the_debt_by_the_repay_share() -> None:
    e = engine(cash(7), accounts=[account(credit=500, repay=500_000)])
    o = e.evaluate(receipt(line("A", 100000), customer="C1"), customer(debt=300))
    # 70 points: 50% = 35 repay the debt, 35 become a lot
    (debt,) = ops(o, "debt")
    (accrued,) = ops(o, "lot")
    assert (debt["points"], debt["reason"], debt["lines"]) == (-35, "repay", [[1, -35]])
    assert accrued["points"] == 35
    assert o.events is not None and {"event": "debt_repaid", "account": "bonus", "points": 35, "shared": False} \
        in o.events
    state = apply_to(e, customer(debt=300), o.changes)
    assert (state.accounts["bonus"].debt, state.accounts["bonus"].balance) == (265, -230)


def test_repayment_never_exceeds_the_debt() -> None:
    e = engine(cash(7), accounts=[account(credit=500)])
    o = e.evaluate(receipt(line("A", 100000), customer="C1"), customer(debt=20))
    assert [c["points"] for c in ops(o, "debt")] == [-20] and [c["points"] for c in ops(o, "lot")] == [50]


# ------------------------------------------------------------------------------------ shared accounts


def member(cid: str, rights: dict[str, Any], shared_lots: list[dict[str, Any]] | None = None,
           own: list[dict[str, Any]] | None = None) -> CustomerState:
    shared_accounts = {}
    if shared_lots:
        shared_accounts["bonus"] = {"balance": sum(x["left"] for x in shared_lots), "lots": shared_lots}
    data: dict[str, Any] = {"id": cid, "shared": {
        "id": "F1", "owner": "C1", "accounts": shared_accounts,
        "members": {"C1": {"accrue": True, "redeem": True}, cid: rights}}}
    if own:
        data["accounts"] = {"bonus": {"balance": sum(x["left"] for x in own), "lots": own}}
    return CustomerState.from_dict(data)


def test_a_member_with_accrue_rights_accrues_to_the_shared_account() -> None:
    e = engine(cash())
    s = member("C2", {"accrue": True, "redeem": False})
    (accrued,) = ops(e.evaluate(receipt(line("A", 10000), customer="C2"), s), "lot")
    assert accrued["shared"] is True and accrued["points"] == 10
    state = apply_to(e, s, [accrued])
    assert state.shared is not None and state.shared.accounts["bonus"].balance == 10
    s = member("C2", {"accrue": False, "redeem": False})
    assert ops(e.evaluate(receipt(line("A", 10000), customer="C2"), s), "lot")[0]["shared"] is False


def test_a_member_redeems_from_the_shared_account_only_with_the_right_and_up_to_the_limit() -> None:
    e = engine(cash(0), redemption=redemption())
    r = receipt(line("A", 100000), customer="C2", redeem={"points": "max"})
    s = member("C2", {"accrue": True, "redeem": False}, [lot("S", 100)], [lot("OWN", 10)])
    assert [(c["lot"], c["points"], c["shared"]) for c in ops(e.evaluate(r, s), "take")] == [("OWN", 10, False)]
    s = member("C2", {"accrue": True, "redeem": True, "redeem_limit": 40}, [lot("S", 100)], [lot("OWN", 10)])
    o = e.evaluate(r, s)
    assert [(c["lot"], c["points"], c["shared"]) for c in ops(o, "take")] == [("OWN", 10, False), ("S", 40, True)]
    state = apply_to(e, s, o.changes)
    assert state.shared is not None and state.shared.accounts["bonus"].balance == 60


# ------------------------------------------------------------------------------------ counters and chips

COUNTERS = [{"name": "coffee", "title": None, "kind": "counter", "reset": "quarter", "earn": None, "valid": None},
            {"name": "stickers", "title": None, "kind": "chips", "reset": "never",
             "earn": {"count": 1, "per": 50000, "predicate": cat("food")}, "valid": [733000, 740000]}]


def test_counter_requests_and_earn_rules() -> None:
    stamp = campaign("stamp", [("UNITS", cat("cafe/coffee")), ("ADD_COUNTER", "coffee")])
    e = engine(stamp, counters=COUNTERS)
    r = receipt(line("COF", 15000, 3, category="cafe/coffee"), line("BREAD", 120000, category="food/bread"),
                customer="C1")
    o = e.evaluate(r, customer())
    coffee, stickers = ops(o, "counter")
    # 3 stamps, spread by payable (450.00 / 1200.00); 1200.00 of food = 2 stickers, on the food line
    assert coffee == {"op": "counter", "name": "coffee", "delta": 3, "period": "2025-Q1", "lines": [[1, 1], [2, 2]],
                      "reason": "add", "receipt": "R1"}
    assert (stickers["delta"], stickers["period"], stickers["lines"]) == (2, "all", [[2, 2]])
    assert apply_to(e, customer(), o.changes).counters["stickers"].value == 2


def test_chips_are_not_earned_outside_their_promotion() -> None:
    counters = [dict(COUNTERS[1], valid=[739000, 739100])]  # 2024-04-24 .. 2024-08-02
    e = engine(cash(), counters=counters)
    o = e.evaluate(receipt(line("BREAD", 120000, category="food"), customer="C1"), customer())
    assert not ops(o, "counter")


def test_a_spend_must_be_covered() -> None:
    reward = campaign("free", [("CONST", 6), ("SPEND_COUNTER", "coffee"), ("CONST", 15000),
                               ("DISCOUNT_AMOUNT", cat("cafe/coffee"))])
    e = engine(reward, counters=COUNTERS)
    r = receipt(line("COF", 15000, category="cafe/coffee"), customer="C1")
    poor = customer(counters={"coffee": {"value": 5, "period": "2025-Q1"}})
    o = e.evaluate(r, poor)
    assert reasons(o) == {"free": "insufficient_balance"} and o.discount_total == 0
    stale = customer(counters={"coffee": {"value": 9, "period": "2024-Q4"}})  # reset at the quarter's end
    assert reasons(e.evaluate(r, stale)) == {"free": "insufficient_balance"}
    rich = customer(counters={"coffee": {"value": 7, "period": "2025-Q1"}})
    o = e.evaluate(r, rich)
    assert o.discount_total == 15000
    assert ops(o, "counter") == [{"op": "counter", "name": "coffee", "delta": -6, "period": "2025-Q1",
                                  "lines": [[1, -6]], "reason": "spend", "receipt": "R1"}]
    assert apply_to(e, rich, o.changes).counters["coffee"].value == 1


def test_two_spends_of_one_receipt_share_the_balance() -> None:
    spend = [("CONST", 4), ("SPEND_COUNTER", "coffee"), ("CONST", 100), ("DISCOUNT_AMOUNT", TRUE)]
    e = engine(campaign("first", spend, priority=2), campaign("second", spend, priority=1), counters=COUNTERS)
    o = e.evaluate(receipt(line("COF", 15000), customer="C1"),
                   customer(counters={"coffee": {"value": 7, "period": "2025-Q1"}}))
    assert o.applied == ("first",) and reasons(o) == {"second": "insufficient_balance"}


# ------------------------------------------------------------------------------------ coupons

SERIES = [
    {"name": "welcome", "title": None, "code": "unique", "text": "WEL-", "valid_for": 30 * DAY, "valid": None,
     "uses": 1, "per_customer": 2},
    {"name": "summer", "title": None, "code": "shared", "text": "SUMMER25", "valid_for": None,
     "valid": [739038, 739494], "uses": 1, "per_customer": None},  # 2024-06-01 .. 2025-08-31
    {"name": "old", "title": None, "code": "unique", "text": "OLD-", "valid_for": None, "valid": None, "uses": 1,
     "per_customer": None},
]


def coupon(code: str, series: str = "welcome", valid_from: str = "2025-03-01T00:00:00+00:00",
           valid_to: str | None = "2025-04-01T00:00:00+00:00", uses_left: int = 1) -> dict[str, Any]:
    return {"code": code, "series": series, "issued": valid_from, "valid_from": valid_from, "valid_to": valid_to,
            "uses_left": uses_left}


def coupon_engine() -> Engine:
    return engine(off(10, "wel", coupon="welcome"), off(5, "sun", coupon="summer"), cash(1), coupons=SERIES)


def statuses(o: Any) -> list[tuple[str, str, str | None]]:
    return [(c["code"], c["status"], c["reason"]) for c in o.coupons]


def test_a_valid_coupon_is_used_by_its_campaign() -> None:
    e = coupon_engine()
    s = customer(coupons=[coupon("WEL-1")])
    o = e.evaluate(receipt(line("A", 10000), customer="C1", coupons=["WEL-1"]), s)
    assert statuses(o) == [("WEL-1", "redeemed", None)]
    assert o.applied == ("wel", "cash") and reasons(o) == {"sun": "no_coupon"}
    assert ops(o, "coupon_use") == [{"op": "coupon_use", "code": "WEL-1", "series": "welcome", "campaign": "wel",
                                     "receipt": "R1"}]
    after = apply_to(e, s, o.changes)
    assert after.coupons[0].uses_left == 0 and after.coupon_uses == {"welcome": 1}


@pytest.mark.parametrize(("held", "presented", "reason"), [
    ([], "WEL-404", "unknown"),
    ([coupon("OLD-1", "old")], "OLD-1", "not_applicable"),
    ([coupon("WEL-1", valid_to="2025-03-05T08:59:59+00:00")], "WEL-1", "expired"),
    ([coupon("WEL-1", valid_from="2025-03-06T00:00:00+00:00")], "WEL-1", "not_yet_valid"),
    ([coupon("WEL-1", uses_left=0)], "WEL-1", "used"),
])
def test_coupon_rejections(held: list[dict[str, Any]], presented: str, reason: str) -> None:
    e = coupon_engine()
    o = e.evaluate(receipt(line("A", 10000), customer="C1", coupons=[presented]), customer(coupons=held))
    assert statuses(o) == [(presented, "rejected", reason)]
    assert reasons(o)["wel"] == "no_coupon" and not ops(o, "coupon_use")


def test_the_per_customer_limit_of_a_series() -> None:
    e = coupon_engine()
    s = customer(coupons=[coupon("WEL-2")], coupon_uses={"welcome": 2})
    o = e.evaluate(receipt(line("A", 10000), customer="C1", coupons=["WEL-2"]), s)
    assert statuses(o) == [("WEL-2", "rejected", "per_customer_limit")]


def test_a_shared_code_and_a_duplicate() -> None:
    e = coupon_engine()
    o = e.evaluate(receipt(line("A", 10000), customer="C1", coupons=["SUMMER25", "SUMMER25"]), customer())
    assert statuses(o) == [("SUMMER25", "redeemed", None), ("SUMMER25", "rejected", "duplicate")]
    assert o.discount_total == 500
    after = apply_to(e, customer(), o.changes)
    assert after.coupon_uses == {"summer": 1}
    o = e.evaluate(receipt(line("A", 10000), customer="C1", coupons=["SUMMER25"]), after)
    assert statuses(o) == [("SUMMER25", "rejected", "used")]  # one use per customer


def test_a_valid_coupon_whose_campaign_does_not_apply_stays_unused() -> None:
    e = engine(campaign("wel", [("CONST", 1000), ("DISCOUNT_AMOUNT", TRUE)], coupon="welcome",
                        condition=[("RECEIPT", "total"), ("CONST", 50000), ("GE",)]), coupons=SERIES)
    s = customer(coupons=[coupon("WEL-1")])
    o = e.evaluate(receipt(line("A", 10000), customer="C1", coupons=["WEL-1"]), s)
    assert statuses(o) == [("WEL-1", "unused", None)] and not ops(o, "coupon_use")
    assert reasons(o) == {"wel": "condition_false"}


def test_issued_coupons_have_deterministic_unique_codes() -> None:
    e = engine(campaign("give", [("ISSUE_COUPON", "welcome"), ("ISSUE_COUPON", "welcome")]), coupons=SERIES)
    r = receipt(line("A", 10000), customer="C1")
    o = e.evaluate(r, customer())
    first, second = ops(o, "coupon_issue")
    assert first["code"].startswith("WEL-") and len(first["code"]) == 12 and first["code"] != second["code"]
    assert (first["issued"], first["valid_from"], first["valid_to"], first["uses_left"]) == (
        "2025-03-05T09:00:00+00:00", "2025-03-05T09:00:00+00:00", "2025-04-04T09:00:00+00:00", 1)
    assert ops(e.evaluate(r, customer()), "coupon_issue") == [first, second]
    assert [c.code for c in apply_to(e, customer(), o.changes).coupons] == sorted([first["code"], second["code"]])


# ------------------------------------------------------------------------------------ certificates

CERTS = [{"name": "gift", "title": None, "skus": ["GC500"], "expiry": {"kind": "after", "seconds": 365 * DAY},
          "multi_use": True}]


def card(code: str = "GC-1", balance: int = 40000, value: int = 50000, **kw: Any) -> dict[str, Any]:
    return {"code": code, "series": "gift", "value": value, "balance": balance, **kw}


def test_a_certificate_pays_what_is_left_to_pay() -> None:
    e = engine(cash(), certificates=CERTS)
    r = receipt(line("A", 20000), line("B", 10000), customer="C1", certificates=[{"code": "GC-1"}])
    o = e.evaluate(r, customer(certificates=[card()]))
    pay = o.payment
    assert pay is not None
    assert pay["certificates"] == [{"code": "GC-1", "requested": None, "amount": 30000, "status": "used",
                                    "reason": None, "lines": [[1, 20000], [2, 10000]]}]
    assert (pay["certificates_money"], pay["to_pay"]) == (30000, 0)
    assert ops(o, "certificate") == [{"op": "certificate", "code": "GC-1", "delta": -30000,
                                      "lines": [[1, -20000], [2, -10000]], "reason": "spend", "receipt": "R1"}]
    assert o.points_total == 30  # certificates are money: accruals count them


def test_a_certificate_with_too_little_balance_is_refused() -> None:
    e = engine(cash(), certificates=CERTS)
    r = receipt(line("A", 20000), customer="C1", certificates=[{"code": "GC-1", "amount": 45000}])
    o = e.evaluate(r, customer(certificates=[card()]))
    assert o.payment is not None and o.payment["certificates"][0]["reason"] == "insufficient_balance"
    assert o.payment["to_pay"] == 20000 and not ops(o, "certificate")


@pytest.mark.parametrize(("held", "reason"), [
    ([], "unknown"),
    ([card(expires="2025-03-01T00:00:00+00:00")], "expired"),
    ([card(balance=0)], "used_up"),
])
def test_certificate_rejections(held: list[dict[str, Any]], reason: str) -> None:
    e = engine(cash(), certificates=CERTS)
    r = receipt(line("A", 20000), customer="C1", certificates=[{"code": "GC-1"}])
    o = e.evaluate(r, customer(certificates=held))
    assert o.payment is not None
    got = o.payment["certificates"][0]
    assert (got["status"], got["reason"], got["amount"]) == ("rejected", reason, 0)


def test_a_single_use_certificate_forfeits_the_rest() -> None:
    e = engine(cash(), certificates=[dict(CERTS[0], multi_use=False)])
    r = receipt(line("A", 20000), customer="C1", certificates=[{"code": "GC-1", "amount": 10000}])
    o = e.evaluate(r, customer(certificates=[card(multi_use=False)]))
    assert o.payment is not None and o.payment["certificates"][0]["forfeited"] == 30000
    assert ops(o, "certificate")[0]["delta"] == -40000 and o.payment["to_pay"] == 10000


def test_points_pay_first_then_certificates() -> None:
    e = engine(cash(0), certificates=CERTS, redemption=redemption())
    r = receipt(line("A", 20000), customer="C1", redeem={"points": 50}, certificates=[{"code": "GC-1"}])
    o = e.evaluate(r, customer([lot("L", 50)], certificates=[card()]))
    assert o.payment is not None
    assert (o.payment["points_money"], o.payment["certificates_money"], o.payment["to_pay"]) == (5000, 15000, 0)


def test_a_certificate_line_sells_a_certificate_worth_its_payable() -> None:
    e = engine(cash(), certificates=CERTS, redemption=redemption())
    r = receipt(line("A", 10000), line("GC500", 50000), customer="C1", redeem={"points": "max"})
    o = e.evaluate(r, customer([lot("L", 1000)]))
    (sold,) = ops(o, "certificate_issue")
    assert sold["value"] == 50000 and sold["code"].startswith("GIFT-") and sold["lines"] == [[2, 50000]]
    assert sold["expires"] == "2026-03-05T09:00:00+00:00"
    assert o.payment is not None and o.payment["points_money"] == 10000  # a certificate is not paid by points
    after = apply_to(e, customer([lot("L", 1000)]), o.changes)
    assert [(c.code, c.balance) for c in after.certificates] == [(sold["code"], 50000)]


# ------------------------------------------------------------------------------------ tiers

TIERS = {"name": "status", "title": None, "measure": "spend", "period": {"kind": "quarter", "days": None},
         "levels": [{"name": "base", "threshold": 0, "benefits": {"cashback": 30000}},
                    {"name": "silver", "threshold": 10000, "benefits": {"cashback": 50000}}]}


def test_qualification_and_an_immediate_upgrade() -> None:
    e = engine(campaign("tiered", [("BENEFIT", "cashback"), ("ACCRUE_TOTAL", TRUE)]), tiers=TIERS)
    s = customer(tier="base", qualification={"period": "2025-Q1", "value": 9000})
    o = e.evaluate(receipt(line("A", 2000), customer="C1"), s)
    assert o.points_total == 0  # 3% of 20.00 RUB is 0.60: no whole point
    assert ops(o, "qualify") == [{"op": "qualify", "period": "2025-Q1", "receipt": "R1", "delta": 2000,
                                  "lines": [[1, 2000]]}]
    assert ops(o, "tier") == [{"op": "tier", "from": "base", "to": "silver", "reason": "upgrade", "receipt": "R1"}]
    assert o.events is not None and o.events[-1]["event"] == "tier_changed"
    after = apply_to(e, s, o.changes)
    assert after.tier == "silver" and after.qualification is not None and after.qualification.value == 11000
    o = e.evaluate(receipt(line("A", 10000), customer="C1"), after)
    assert o.points_total == 5 and not ops(o, "tier")  # silver's 5% from the next receipt


def test_receipts_as_the_measure() -> None:
    e = engine(cash(), tiers=dict(TIERS, measure="receipts", levels=[
        {"name": "base", "threshold": 0, "benefits": {}}, {"name": "silver", "threshold": 3, "benefits": {}}]))
    o = e.evaluate(receipt(line("A", 2000), customer="C1"), customer(qualification={"period": "2025-Q1", "value": 2}))
    assert [(c["delta"], "lines" in c) for c in ops(o, "qualify")] == [(1, False)]
    assert ops(o, "tier")[0]["to"] == "silver"


# ------------------------------------------------------------------------------------ usage limits and budgets


@pytest.mark.parametrize(("per", "key"), [("day", "2025-03-05"), ("week", "2025-W10"), ("month", "2025-03"),
                                          ("customer", "all")])
def test_a_usage_limit(per: str, key: str) -> None:
    e = engine(off(10, "promo", usage_limit={"count": 1, "per": per}))
    o = e.evaluate(receipt(line("A", 10000), customer="C1"), customer())
    assert ops(o, "usage") == [{"op": "usage", "campaign": "promo", "period": key, "delta": 1, "receipt": "R1"}]
    used = apply_to(e, customer(), o.changes)
    o = e.evaluate(receipt(line("A", 10000), customer="C1"), used, explain=True)
    assert reasons(o) == {"promo": "limit_reached"} and o.discount_total == 0
    assert o.rejected[0].detail == f"used 1 of 1 per {per} ({key})"


def test_a_money_budget_caps_and_runs_out() -> None:
    e = engine(off(10, "promo", budget={"kind": "money", "amount": 1000}))
    r = receipt(line("A", 20000), customer="C1")
    assert e.evaluate(r, customer(), budgets={"promo": 500}).discount_total == 500
    assert ops(e.evaluate(r, customer(), budgets={"promo": 500}), "budget") == [
        {"op": "budget", "campaign": "promo", "kind": "money", "delta": 500, "receipt": "R1"}]
    assert e.evaluate(r, customer(), budgets={}).discount_total == 1000  # nothing spent yet: the whole budget
    assert reasons(e.evaluate(r, customer(), budgets={"promo": 0})) == {"promo": "budget_exhausted"}
    unlimited = e.evaluate(r, customer())  # no budgets given: recorded, not enforced
    assert unlimited.discount_total == 2000 and ops(unlimited, "budget")[0]["delta"] == 2000


def test_a_points_budget_caps_the_points() -> None:
    e = engine(cash(10, budget={"kind": "points", "amount": 100}))
    o = e.evaluate(receipt(line("A", 20000), customer="C1"), customer(), budgets={"cash": 5})
    assert o.points_total == 5 and ops(o, "budget")[0]["delta"] == 5
    money = engine(cash(10, budget={"kind": "money", "amount": 100}))  # 7.00 RUB left buys 7 points
    o = money.evaluate(receipt(line("A", 20000), customer="C1"), customer(), budgets={"cash": 700})
    assert o.points_total == 7 and ops(o, "budget")[0]["delta"] == 700


# ------------------------------------------------------------------------------------ referral

REFERRAL = {"qualify": 50000, "referrer": 300, "referrer_account": "bonus", "newcomer": 200,
            "newcomer_account": "bonus"}


def test_a_referred_customers_first_qualifying_purchase_rewards_both() -> None:
    e = engine(cash(0), referral=REFERRAL)
    s = customer(referral={"referred_by": "C0"})
    o = e.evaluate(receipt(line("A", 60000), customer="C1"), s)
    assert ops(o, "transfer") == [{"op": "transfer", "customer": "C0", "account": "bonus", "points": 300,
                                   "reason": "referral", "lot": "R1:bonus:referrer", "receipt": "R1"}]
    (newcomer,) = ops(o, "lot")
    assert (newcomer["lot"], newcomer["points"], "lines" in newcomer) == ("R1:bonus:referral", 200, False)
    assert ops(o, "referral") == [{"op": "referral", "rewarded": True, "receipt": "R1"}]
    after = apply_to(e, s, o.changes)
    assert after.referral is not None and after.referral.rewarded and after.accounts["bonus"].balance == 200
    assert not ops(e.evaluate(receipt(line("A", 60000), customer="C1"), after), "transfer")


def test_a_small_first_purchase_does_not_qualify_and_a_later_one_is_not_first() -> None:
    e = engine(cash(0), referral=REFERRAL)
    assert not ops(e.evaluate(receipt(line("A", 40000), customer="C1"), customer(referral={"referred_by": "C0"})),
                   "referral")
    assert not ops(e.evaluate(receipt(line("A", 60000), customer="C1"),
                              customer(referral={"referred_by": "C0"}, receipts=1)), "referral")


def test_the_referrer_receives_the_transfer_as_an_accrual_of_its_own() -> None:
    e = engine(cash(0), accounts=[account(activation=DAY, credit=500, repay=500_000)], referral=REFERRAL)
    o = e.evaluate(receipt(line("A", 60000), customer="C1"), customer(referral={"referred_by": "C0"}))
    (transfer,) = ops(o, "transfer")
    referrer = CustomerState.from_dict({"id": "C0", "accounts": {"bonus": {"balance": -100, "debt": 100, "lots": []}}})
    changes = e.receive(transfer, referrer, NOW)
    # remembered by its lot id; half of the 300 repays the debt (all 100 of it), the other 200 is a lot
    # active a day later
    assert changes[0] == {"op": "applied", "id": transfer["lot"], "at": "2025-03-05T09:00:00+00:00", "receipt": "R1"}
    assert [(c["op"], c["points"]) for c in changes[1:]] == [("debt", -100), ("lot", 200)]
    assert changes[2]["active_from"] == "2025-03-06T09:00:00+00:00" and changes[2]["reason"] == "referral"
    after = apply_to(e, referrer, changes)
    assert (after.accounts["bonus"].balance, after.accounts["bonus"].debt) == (200, 0)
    with pytest.raises(StateError) as info:  # a transfer is received once
        e.receive(transfer, after, NOW)
    assert info.value.code == "LOY510"


@pytest.mark.parametrize(("change", "message"), [
    ({"customer": "C9"}, "not 'C0'"),
    ({"account": "nope"}, "unknown account"),
    ({"points": 0}, "positive whole number"),
    ({"points": 1.5}, "positive whole number"),
    ({"lot": ""}, "names the lot"),
    ({"op": "lot"}, "not a transfer"),
])
def test_a_malformed_transfer_is_refused(change: dict[str, Any], message: str) -> None:
    e = engine(cash(0), referral=REFERRAL)
    transfer = {"op": "transfer", "customer": "C0", "account": "bonus", "points": 300, "reason": "referral",
                "lot": "R1:bonus:referrer", "receipt": "R1", **change}
    with pytest.raises(StateError, match=message):
        e.receive(transfer, CustomerState(id="C0"), NOW)


# ------------------------------------------------------------------------------------ explain and JSON


def test_explain_says_why_a_campaign_was_gated() -> None:
    e = coupon_engine()
    o = e.evaluate(receipt(line("A", 10000), customer="C1"), customer(), explain=True)
    assert {r.campaign: r.detail for r in o.rejected}["wel"] == "no valid coupon of the series welcome was presented"
    json.dumps(o.to_dict())


def test_now_replaces_the_receipts_time_for_the_state_too() -> None:
    e = engine(cash(), accounts=[account(activation=DAY)])
    o = e.evaluate(receipt(line("A", 10000), customer="C1"), customer(), now=NOW.replace(day=6))
    assert ops(o, "lot")[0]["active_from"] == "2025-03-07T09:00:00+00:00"


def test_a_customer_without_a_tier_gets_the_level_the_first_purchase_reaches() -> None:
    e = engine(cash(), tiers=TIERS)
    o = e.evaluate(receipt(line("A", 2000), customer="C1"), customer())
    assert [c["delta"] for c in ops(o, "qualify")] == [2000]
    assert ops(o, "tier") == [{"op": "tier", "from": None, "to": "base", "reason": "upgrade", "receipt": "R1"}]
    o = e.evaluate(receipt(line("A", 20000), customer="C1"), customer())
    assert ops(o, "tier") == [{"op": "tier", "from": None, "to": "silver", "reason": "upgrade", "receipt": "R1"}]
    assert apply_to(e, customer(), o.changes).tier == "silver"
