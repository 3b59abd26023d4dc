"""``state.advance``: what time passing does (expiry, notices, resets, burning chips, tier reviews),
hand-computed in the programme's zone, and idempotence."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from loyadsl.runtime.declarations import (
    Account,
    Counter,
    Expiry,
    Level,
    StateDecls,
    TierPeriod,
    Tiers,
)
from loyadsl.runtime.model import utc_seconds
from loyadsl.runtime.state import (
    CustomerState,
    advance,
    apply,
    expiry_time,
    iso,
    local_date,
    view,
)

MOSCOW = ZoneInfo("Europe/Moscow")
WEEK = 7 * 86400


def t(text: str) -> int:
    return utc_seconds(dt.datetime.fromisoformat(text))


def day(text: str) -> int:
    return dt.date.fromisoformat(text).toordinal()


LEVELS = (Level("base", 0, {"cashback": 30000}), Level("silver", 1_000_000, {"cashback": 50000}),
          Level("gold", 3_000_000, {"cashback": 70000}))
DECLS = StateDecls(
    accounts=(Account("bonus", expiry=Expiry("end_of", period="quarter", next=True), notify=WEEK),
              Account("promo", expiry=Expiry("after", seconds=30 * 86400))),
    tiers=Tiers("status", None, "spend", TierPeriod("quarter"), LEVELS),
    counters=(Counter("coffee", reset="quarter"), Counter("visits"),
              Counter("stickers", kind="chips", valid=(day("2026-09-01"), day("2026-12-31")))),
)


def lot_change(lot_id: str, points: int, made: int, account: str = "bonus", shared: bool = False) -> dict[str, Any]:
    decl = next(a for a in DECLS.accounts if a.name == account)
    expires = expiry_time(decl.expiry, made, MOSCOW)
    return {"op": "lot", "account": account, "lot": lot_id, "points": points, "active_from": iso(made),
            "expires": None if expires is None else iso(expires), "shared": shared}


def settle(s: CustomerState, now: int) -> tuple[CustomerState, list[dict[str, Any]], list[dict[str, Any]]]:
    """Advance to ``now``, apply, and check that advancing again changes nothing."""
    changes, events = advance(s, DECLS, now, MOSCOW)
    after = apply(s, changes)
    assert advance(after, DECLS, now, MOSCOW)[0] == []
    return after, changes, events


def test_points_expire_at_the_end_of_the_next_quarter_in_moscow() -> None:
    made = t("2026-11-23T10:00:00+03:00")
    s = apply(CustomerState(id="C"), [lot_change("L1", 500, made), lot_change("L2", 200, made + 3600)])
    assert s.accounts["bonus"].lots[0].expires == t("2027-04-01T00:00:00+03:00") == t("2027-03-31T21:00:00+00:00")
    assert advance(s, DECLS, t("2027-03-24T20:59:59+00:00"), MOSCOW) == ([], [])  # before the notice window
    changes, events = advance(s, DECLS, t("2027-03-31T20:59:59+00:00"), MOSCOW)
    assert changes == []
    assert events == [{"event": "points_expiring", "account": "bonus", "points": 700, "date": "2027-03-31",
                       "shared": False}]
    s = apply(s, [{"op": "take", "account": "bonus", "lot": "L1", "points": 100, "reason": "redeem"}])
    after, changes, events = settle(s, t("2027-03-31T21:00:00+00:00"))
    assert changes == [
        {"op": "take", "account": "bonus", "lot": "L1", "points": 400, "reason": "expire", "shared": False},
        {"op": "take", "account": "bonus", "lot": "L2", "points": 200, "reason": "expire", "shared": False}]
    assert events == [{"event": "points_expired", "account": "bonus", "points": 600, "shared": False}]
    assert after.accounts["bonus"].balance == 0 and [x.left for x in after.accounts["bonus"].lots] == [0, 0]


def test_notices_come_per_account_and_last_day() -> None:
    now = t("2027-03-28T12:00:00+03:00")
    s = CustomerState.from_dict({"id": "C1", "accounts": {"bonus": {"balance": 6, "lots": [
        {"id": "a", "points": 1, "left": 1, "active_from": iso(now - 10**6), "expires": "2027-04-01T00:00:00+03:00"},
        {"id": "b", "points": 2, "left": 2, "active_from": iso(now - 10**6), "expires": "2027-03-31T18:00:00+03:00"},
        {"id": "c", "points": 3, "left": 3, "active_from": iso(now - 10**6), "expires": "2027-03-30T09:00:00+03:00"},
        {"id": "d", "points": 4, "left": 0, "active_from": iso(now - 10**6), "expires": "2027-03-30T09:00:00+03:00"},
        {"id": "e", "points": 5, "left": 0, "active_from": iso(now - 10**6), "expires": "2027-05-30T09:00:00+03:00"},
    ]}}, "shared": {"id": "F", "owner": "C1", "members": {"C1": {}}, "accounts": {"bonus": {"balance": 9, "lots": [
        {"id": "s", "points": 9, "left": 9, "active_from": iso(now - 10**6), "expires": "2027-04-02T00:00:00+03:00"},
    ]}}}})
    changes, events = advance(s, DECLS, now, MOSCOW)
    assert changes == []
    assert events == [
        {"event": "points_expiring", "account": "bonus", "points": 3, "date": "2027-03-30", "shared": False},
        {"event": "points_expiring", "account": "bonus", "points": 3, "date": "2027-03-31", "shared": False},
        {"event": "points_expiring", "account": "bonus", "points": 9, "date": "2027-04-01", "shared": True}]


def test_shared_lots_expire_in_the_shared_account() -> None:
    made = t("2026-01-10T10:00:00+03:00")
    s = CustomerState.from_dict({"id": "C1", "shared": {"id": "F", "owner": "C1", "members": {"C1": {}}}})
    s = apply(s, [lot_change("S", 50, made, account="promo", shared=True)])
    after, changes, _ = settle(s, made + 30 * 86400)
    assert changes == [{"op": "take", "account": "promo", "lot": "S", "points": 50, "reason": "expire", "shared": True}]
    assert after.shared is not None and after.shared.accounts["promo"].balance == 0


def test_counters_reset_at_the_quarter_start_in_the_zone() -> None:
    s = CustomerState.from_dict({"id": "C", "counters": {"coffee": {"value": 4, "period": "2026-Q4"},
                                                         "visits": {"value": 7, "period": "all"},
                                                         "gone": {"value": 1, "period": "2020-Q1"}}})
    last_second = t("2026-12-31T23:59:59+03:00")
    assert advance(s, DECLS, last_second, MOSCOW) == ([], [])
    new_quarter = t("2027-01-01T00:00:00+03:00")  # 2026-12-31 21:00 UTC: still Q4 in UTC
    assert view(s, DECLS, new_quarter, local_date(MOSCOW)).counters == {"visits": 7}
    after, changes, _ = settle(s, new_quarter)
    assert changes == [{"op": "counter", "name": "coffee", "delta": -4, "period": "2026-Q4", "reason": "reset"}]
    assert set(after.counters) == {"visits", "gone"}  # undeclared counters are left alone
    counted = apply(after, [{"op": "counter", "name": "coffee", "delta": 1, "period": "2027-Q1"}])
    assert view(counted, DECLS, new_quarter, local_date(MOSCOW)).counters == {"coffee": 1, "visits": 7}


def test_chips_burn_after_their_promotion() -> None:
    s = CustomerState.from_dict({"id": "C", "counters": {"stickers": {"value": 12, "period": "all"}}})
    assert advance(s, DECLS, t("2026-12-31T23:59:59+03:00"), MOSCOW) == ([], [])
    _, changes, _ = settle(s, t("2027-01-01T00:00:00+03:00"))
    assert changes == [{"op": "counter", "name": "stickers", "delta": -12, "period": "all", "reason": "burn"}]


def test_coupons_and_certificates_expire() -> None:
    s = CustomerState.from_dict({"id": "C", "coupons": [
        {"code": "A", "series": "w", "issued": "2026-11-01T10:00:00+00:00", "valid_from": "2026-11-01T10:00:00+00:00",
         "valid_to": "2026-12-01T10:00:00+00:00", "uses_left": 1},
        {"code": "B", "series": "w", "issued": "2026-11-01T10:00:00+00:00", "valid_from": "2026-11-01T10:00:00+00:00",
         "valid_to": None, "uses_left": 0}],
        "certificates": [
            {"code": "G1", "series": "gift", "value": 1000, "balance": 400, "expires": "2026-12-01T10:00:00+00:00"},
            {"code": "G2", "series": "gift", "value": 1000, "balance": 0, "expires": "2026-12-01T10:00:00+00:00"},
            {"code": "G3", "series": "gift", "value": 1000, "balance": 10, "expires": None}]})
    assert advance(s, DECLS, t("2026-12-01T09:59:59+00:00"), MOSCOW) == ([], [])
    after, changes, _ = settle(s, t("2026-12-01T10:00:00+00:00"))
    assert changes == [{"op": "coupon_expire", "code": "A", "series": "w"},
                       {"op": "certificate", "code": "G1", "delta": -400, "reason": "expire"}]
    assert [c.code for c in after.coupons] == ["B"] and [c.balance for c in after.certificates] == [0, 0, 10]


def _tiered(tier: str | None, period: str, value: int, previous: int = 0) -> CustomerState:
    return CustomerState.from_dict({"id": "C", "tier": tier,
                                    "qualification": {"period": period, "value": value, "previous": previous}})


def test_tier_downgrade_at_the_period_end() -> None:
    s = _tiered("gold", "2026-Q4", 1_234_500, 3_500_000)
    assert advance(s, DECLS, t("2026-12-31T23:59:59+03:00"), MOSCOW) == ([], [])
    q1, changes, events = settle(s, t("2027-01-01T00:00:00+03:00"))
    assert changes == [
        {"op": "qualify", "period": "2027-Q1", "delta": 0, "previous": 1_234_500, "reason": "review",
         "from": {"period": "2026-Q4", "value": 1_234_500, "previous": 3_500_000}},
        {"op": "tier", "from": "gold", "to": "silver", "reason": "review"}]
    assert events == [{"event": "tier_changed", "from": "gold", "to": "silver", "reason": "review"}]
    assert q1.tier == "silver" and q1.qualification is not None
    assert (q1.qualification.period, q1.qualification.value, q1.qualification.previous) == ("2027-Q1", 0, 1_234_500)
    # a quarter without purchases: back to the entry level
    q2, changes, _ = settle(q1, t("2027-04-01T00:00:00+03:00"))
    assert changes[-1] == {"op": "tier", "from": "silver", "to": "base", "reason": "review"}
    assert q2.qualification is not None and q2.qualification.previous == 0


def test_a_review_after_a_missed_period_counts_it_as_empty() -> None:
    s = _tiered("gold", "2026-Q3", 5_000_000)  # nothing recorded for Q4
    _, changes, _ = settle(s, t("2027-01-15T12:00:00+03:00"))
    assert changes[0]["previous"] == 0 and changes[1] == {"op": "tier", "from": "gold", "to": "base",
                                                          "reason": "review"}


def test_a_review_can_raise_and_leaves_the_entry_level_alone() -> None:
    _, changes, _ = settle(_tiered(None, "2026-Q4", 3_100_000), t("2027-01-01T00:00:00+03:00"))
    assert changes[1] == {"op": "tier", "from": None, "to": "gold", "reason": "review"}
    _, changes, _ = settle(_tiered(None, "2026-Q4", 10), t("2027-01-01T00:00:00+03:00"))
    assert [c["op"] for c in changes] == ["qualify"]  # no tier is the entry level
    assert advance(CustomerState(id="C", tier="gold"), DECLS, t("2027-01-01T00:00:00+03:00"), MOSCOW) == ([], [])


ROLLING = StateDecls(tiers=Tiers("status", None, "spend", TierPeriod("rolling", 30), LEVELS))


def test_rolling_window_drops_old_days_and_downgrades() -> None:
    today = day("2026-11-23")
    s = CustomerState.from_dict({"id": "C", "tier": "gold", "qualification": {
        "period": "rolling", "value": 3_300_000,
        "days": [[today - 40, 1_000_000], [today - 30, 1_000_000], [today - 29, 1_200_000], [today, 100_000]]}})
    now = t("2026-11-23T12:00:00+03:00")
    changes, events = advance(s, ROLLING, now, MOSCOW)
    assert changes == [
        {"op": "qualify", "period": "rolling", "delta": -1_000_000, "day": today - 40, "reason": "window"},
        {"op": "qualify", "period": "rolling", "delta": -1_000_000, "day": today - 30, "reason": "window"},
        {"op": "tier", "from": "gold", "to": "silver", "reason": "review"}]  # 1,300,000 left
    assert events == [{"event": "tier_changed", "from": "gold", "to": "silver", "reason": "review"}]
    after = apply(s, changes)
    assert after.qualification is not None and after.qualification.value == 1_300_000
    assert after.qualification.days == [(today - 29, 1_200_000), (today, 100_000)]
    assert advance(after, ROLLING, now, MOSCOW)[0] == []
    # the window moves on a day: 1,200,000 leaves, 100,000 is below silver
    later = advance(after, ROLLING, now + 86400, MOSCOW)[0]
    assert later[-1] == {"op": "tier", "from": "silver", "to": "base", "reason": "review"}


def test_rolling_window_never_raises() -> None:
    today = day("2026-11-23")
    s = CustomerState.from_dict({"id": "C", "tier": "base", "qualification": {
        "period": "rolling", "value": 5_000_000, "days": [[today, 5_000_000]]}})
    assert advance(s, ROLLING, t("2026-11-23T12:00:00+03:00"), MOSCOW) == ([], [])  # upgrades are the ledger's


def test_a_local_date_function_works_as_the_zone() -> None:
    s = CustomerState.from_dict({"id": "C", "counters": {"coffee": {"value": 4, "period": "2026-Q4"}}})
    now = t("2027-01-01T00:00:00+03:00")
    assert advance(s, DECLS, now, local_date(MOSCOW)) == advance(s, DECLS, now, MOSCOW)


RICH: dict[str, Any] = {
    "id": "C1", "tier": "gold",
    "counters": {"coffee": {"value": 4, "period": "2026-Q4"}, "stickers": {"value": 3, "period": "all"}},
    "coupons": [{"code": "A", "series": "w", "issued": "2026-11-01T10:00:00+00:00",
                 "valid_from": "2026-11-01T10:00:00+00:00", "valid_to": "2027-02-01T10:00:00+00:00"}],
    "certificates": [{"code": "G1", "series": "gift", "value": 1000, "balance": 400,
                      "expires": "2027-05-01T10:00:00+00:00"}],
    "qualification": {"period": "2026-Q4", "value": 1_500_000, "previous": 0},
    "shared": {"id": "F", "owner": "C1", "members": {"C1": {"redeem": True}}},
}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 400 * 86400), min_size=1, max_size=6))
def test_advance_is_idempotent_along_any_clock(offsets: list[int]) -> None:
    """Along any sequence of moments (a simulator's clock), advancing, applying and advancing again
    at the same moment gives no changes; the state stays consistent."""
    start = t("2026-11-23T10:00:00+03:00")
    s = CustomerState.from_dict(copy.deepcopy(RICH))
    s = apply(s, [lot_change("L1", 500, start), lot_change("L2", 70, start, account="promo"),
                  lot_change("S1", 90, start, shared=True)])
    for offset in sorted(offsets):
        s, _, _ = settle(s, start + offset)
        assert CustomerState.from_dict(s.to_dict()) == s
    end = start + max(offsets)
    assert all(lot.left == 0 for lot in s.accounts["promo"].lots) or end < start + 30 * 86400
