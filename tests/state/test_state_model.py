"""The customer state's JSON form (docs/state.md §3), its consistency rules, the view bytecode reads,
and the calendar arithmetic (period keys, ends, expiry times)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from loyadsl import runtime
from loyadsl.runtime import Customer, CustomerError, canonical_json
from loyadsl.runtime.declarations import (
    Account,
    Counter,
    Expiry,
    Level,
    StateDecls,
    TierPeriod,
    Tiers,
)
from loyadsl.runtime.model import ANONYMOUS, CustomerView, utc_seconds
from loyadsl.runtime.state import (
    CustomerState,
    expiry_time,
    iso,
    json_schema,
    local_date,
    local_midnight,
    parse_time,
    period_end,
    period_key,
    period_start,
    view,
)

MOSCOW = ZoneInfo("Europe/Moscow")
DOC = Path(__file__).resolve().parents[2] / "docs" / "state.md"


def t(text: str) -> int:
    return utc_seconds(dt.datetime.fromisoformat(text))


def day(text: str) -> int:
    return dt.date.fromisoformat(text).toordinal()


def doc_example() -> dict[str, Any]:
    """The JSON example of docs/state.md §3, so the contract and the code cannot drift apart."""
    section = DOC.read_text(encoding="utf-8").split("## 3.")[1]
    found = re.search(r"```json\n(.*?)```", section, re.S)
    assert found is not None
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def test_the_documented_example_round_trips() -> None:
    s = CustomerState.from_dict(doc_example())
    assert s.accounts["bonus"].lots[0].expires == t("2027-01-01T00:00:00+00:00")
    assert s.tier == "silver" and s.receipts == 12 and s.counters["coffee"].value == 4
    assert s.shared is not None and s.shared.members["C2"].redeem is False
    assert s.shared.accounts == {}  # an empty account is absent in the canonical form
    out = s.to_dict()
    assert out["accounts"]["bonus"]["lots"][0]["active_from"] == "2026-01-15T10:00:00+00:00"
    assert CustomerState.from_dict(out) == s
    assert CustomerState.from_dict(json.loads(json.dumps(out))).to_dict() == out
    shuffled = doc_example()
    shuffled["segments"] = shuffled["segments"][::-1]
    shuffled["accounts"] = dict(reversed(list(shuffled["accounts"].items())))
    assert canonical_json(CustomerState.from_dict(shuffled).to_dict()) == canonical_json(out)


def test_customer_is_the_state() -> None:
    assert Customer is CustomerState and runtime.Customer is CustomerState
    c = Customer(id="C9", segments=["vip", "a", "vip"], receipts=3)
    assert c.segments == ["a", "vip"] and c.view.segments == frozenset({"a", "vip"})
    assert c.view.receipts == 3 and c.view.counters == {} and c.view.known


def test_canonical_form() -> None:
    s = CustomerState.from_dict({
        "id": "C1", "segments": ["b", "a"], "children_birthdays": ["2020-01-01", "2018-05-05"],
        "counters": {"zero": {"value": 0, "period": "all"}, "one": {"value": 1, "period": "all"}},
        "coupon_uses": {"w": 0}, "usage": {"c": {"2026": 0}}, "returns": {"R1": {"1": 0}},
        "accounts": {"empty": {"balance": 0, "debt": 0, "lots": []}},
        "coupons": [_coupon("B"), _coupon("A")],
        "certificates": [_certificate("Z"), _certificate("Y")],
        "qualification": {"period": "rolling", "value": 3, "days": [[739900, 2], [739800, 1]]},
        "unknown": {"ignored": True},
    })
    assert s.segments == ["a", "b"] and s.children_birthdays == [dt.date(2018, 5, 5), dt.date(2020, 1, 1)]
    assert list(s.counters) == ["one"] and s.coupon_uses == {} and s.usage == {} and s.returns == {}
    assert s.accounts == {}
    assert [c.code for c in s.coupons] == ["A", "B"] and [c.code for c in s.certificates] == ["Y", "Z"]
    assert s.qualification is not None and s.qualification.days == [(739800, 1), (739900, 2)]
    assert CustomerState.from_dict(s.to_dict()) == s


def test_times_are_utc_seconds_inside_and_iso_outside() -> None:
    s = CustomerState.from_dict({"id": "C", "accounts": {"b": {"balance": 1, "lots": [
        {"id": "L", "points": 1, "left": 1, "active_from": "2026-03-01T12:00:00.900+03:00"}]}}})
    lot = s.accounts["b"].lots[0]
    assert lot.active_from == t("2026-03-01T09:00:00+00:00")  # the fraction is dropped
    assert s.to_dict()["accounts"]["b"]["lots"][0]["active_from"] == "2026-03-01T09:00:00+00:00"
    assert iso(lot.active_from) == "2026-03-01T09:00:00+00:00" and parse_time(iso(lot.active_from)) == lot.active_from
    assert parse_time(dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)) == lot.active_from and parse_time(5) == 5


def _lot(lot_id: str = "L1", points: int = 100, left: int = 100, **extra: Any) -> dict[str, Any]:
    return {"id": lot_id, "points": points, "left": left, "active_from": "2026-01-01T00:00:00+00:00", **extra}


def _coupon(code: str) -> dict[str, Any]:
    return {"code": code, "series": "w", "issued": "2026-01-01T00:00:00+00:00",
            "valid_from": "2026-01-01T00:00:00+00:00", "valid_to": None, "uses_left": 1}


def _certificate(code: str, value: int = 1000, balance: int = 1000) -> dict[str, Any]:
    return {"code": code, "series": "gift", "value": value, "balance": balance, "expires": None, "multi_use": True}


BASE: dict[str, Any] = {"id": "C1", "accounts": {"bonus": {"balance": 100, "debt": 0, "lots": [_lot()]}}}


def _with(**fields: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data.update(fields)
    return data


@pytest.mark.parametrize(("data", "where", "says"), [
    (_with(accounts={"bonus": {"balance": 90, "lots": [_lot()]}}), "accounts.bonus.balance", "left - debt"),
    (_with(accounts={"bonus": {"balance": 50, "debt": 50, "lots": [_lot()]}}), None, None),  # consistent
    (_with(accounts={"bonus": {"balance": 100, "lots": [_lot(left=101, points=100)]}}), "accounts.bonus.lots[0].left",
     "more than"),
    (_with(accounts={"bonus": {"balance": -1, "lots": [_lot(left=-1)]}}), "accounts.bonus.lots[0].left", "greater than or equal to 0"),
    (_with(accounts={"bonus": {"balance": 1, "debt": -1, "lots": []}}), "accounts.bonus.debt", "greater than or equal to 0"),
    (_with(accounts={"bonus": {"balance": 200, "lots": [_lot(), _lot()]}}), "accounts.bonus.lots[1].id", "twice"),
    (_with(accounts={"bonus": {"lots": []}}), "accounts.bonus.balance", "required"),
    (_with(accounts={"bonus": {"balance": 100, "lots": [_lot(active_from="2026-01-01T00:00:00")]}}),
     "accounts.bonus.lots[0].active_from", "UTC offset"),
    (_with(accounts={"bonus": {"balance": 100, "lots": [_lot(active_from=5)]}}),
     "accounts.bonus.lots[0].active_from", "ISO 8601"),
    (_with(accounts={"bonus": {"balance": 100.0, "lots": [_lot()]}}), "accounts.bonus.balance", "integer"),
    (_with(accounts={"bonus": {"balance": 100, "debt": False, "lots": [_lot()]}}), "accounts.bonus.debt", "integer"),
    (_with(receipts=1.0), "receipts", "integer"),
    (_with(receipts=True), "receipts", "integer"),
    (_with(receipts=-1), "receipts", "greater than or equal to 0"),
    (_with(consents={"sms": 1}), "consents.sms", "boolean"),
    (_with(birthday="1990-5-4"), "birthday", "YYYY-MM-DD"),
    (_with(birthday="1990-05-04T10:00:00"), "birthday", "YYYY-MM-DD"),
    (_with(coupons=[_coupon("A"), _coupon("A")]), "coupons[1].code", "twice"),
    (_with(coupons=[{**_coupon("A"), "uses_left": -1}]), "coupons[0].uses_left", "greater than or equal to 0"),
    (_with(certificates=[_certificate("G", 100, 101)]), "certificates[0].balance", "value 100"),
    (_with(certificates=[_certificate("G"), _certificate("G")]), "certificates[1].code", "twice"),
    (_with(counters={"c": {"value": -1, "period": "all"}}), "counters.c.value", "greater than or equal to 0"),
    (_with(counters={"c": {"value": 1}}), "counters.c.period", "required"),
    (_with(usage={"camp": {"2026": -1}}), "usage.camp.2026", "greater than or equal to 0"),
    (_with(coupon_uses={"w": -1}), "coupon_uses.w", "greater than or equal to 0"),
    (_with(returns={"R1": {"x": 1}}), "returns.R1", "positive integer"),
    (_with(returns={"R1": {"01": 1}}), "returns.R1", "positive integer"),
    (_with(qualification={"period": "rolling", "value": 5, "days": [[739800, 1]]}), "qualification.value",
     "add up to 1"),
    (_with(qualification={"period": "rolling", "value": 2, "days": [[739800, 1], [739800, 1]]}),
     "qualification.days", "twice"),
    (_with(qualification={"period": "rolling", "value": 1, "days": [[739800, 1, 3]]}), "qualification.days[0]",
     "at most 2"),
    (_with(shared={"id": "F", "owner": "C2", "members": {"C2": {}}}), "shared.members", "not a member"),
    (_with(shared={"id": "F", "owner": "C9", "members": {"C1": {}}}), "shared.owner", "owner C9"),
    (_with(shared={"id": "F", "owner": "C1", "members": {"C1": {"redeem_limit": -5}}}),
     "shared.members.C1.redeem_limit", "greater than or equal to 0"),
    (_with(shared={"id": "F", "owner": "C1", "members": {"C1": {}},
                   "accounts": {"bonus": {"balance": 5, "lots": []}}}), "shared.accounts.bonus.balance", "left - debt"),
    (_with(referral={"referred_by": "C0", "rewarded": "yes"}), "referral.rewarded", "boolean"),
    ({"id": 5}, "id", "string"),
    ([1], None, "JSON object"),
])
def test_consistency_errors_name_the_path(data: Any, where: str | None, says: str | None) -> None:
    if says is None:
        CustomerState.from_dict(data)
        return
    with pytest.raises(CustomerError) as info:
        CustomerState.from_dict(data)
    assert info.value.code == "LOY502" and info.value.where == where
    assert says in info.value.message


def test_direct_construction_is_checked_too() -> None:
    with pytest.raises(CustomerError, match="appears twice"):
        CustomerState(id="C", coupons=[_coupon("A"), _coupon("A")])  # type: ignore[list-item]


def test_debts_are_checked_against_the_programme() -> None:
    data = _with(accounts={"credit": {"balance": -600, "debt": 600, "lots": []}})
    CustomerState.from_dict(data)  # without the programme, any debt >= 0
    decls = StateDecls(accounts=(Account("credit", credit=500),))
    with pytest.raises(CustomerError) as info:
        CustomerState.from_dict(data, decls)
    assert info.value.where == "accounts.credit.debt" and "credit limit 500" in info.value.message
    CustomerState.from_dict(_with(accounts={"credit": {"balance": -500, "debt": 500, "lots": []}}), decls)


def test_json_schema_describes_the_json_form() -> None:
    schema = json_schema()
    assert "accounts" in schema["properties"] and "id" in schema["required"]
    lot = schema["$defs"]["Lot"]["properties"]
    assert lot["active_from"]["type"] == "string" and lot["active_from"]["format"] == "date-time"
    assert schema["$defs"]["Lot"]["properties"]["left"]["minimum"] == 0


# ------------------------------------------------------------------------------------------- view


TIERS = Tiers("status", None, "spend", TierPeriod("quarter"), (
    Level("base", 0, {"cashback": 30000}), Level("silver", 1_000_000, {"cashback": 50000, "multiplier": 2}),
    Level("gold", 3_000_000, {"cashback": 70000})))
DECLS = StateDecls(
    accounts=(Account("bonus"), Account("promo")),
    tiers=TIERS,
    counters=(Counter("coffee", reset="quarter"), Counter("visits"),
              Counter("stickers", kind="chips", valid=(day("2026-09-01"), day("2026-12-31")))),
)
NOW = t("2026-11-23T12:00:00+03:00")
LOCAL = local_date(MOSCOW)


def test_view_reads_the_current_period_and_active_lots() -> None:
    s = CustomerState.from_dict({
        "id": "C1", "tier": "silver", "receipts": 7, "segments": ["x"],
        "counters": {"coffee": {"value": 4, "period": "2026-Q4"}, "visits": {"value": 9, "period": "all"},
                     "stickers": {"value": 3, "period": "all"}, "undeclared": {"value": 1, "period": "all"}},
        "accounts": {
            "bonus": {"balance": 60, "debt": 0, "lots": [
                _lot("active", 10, 10, expires="2027-01-01T00:00:00+00:00"),
                _lot("later", 20, 20, active_from="2026-12-01T00:00:00+03:00"),
                _lot("expired", 30, 30, expires="2026-11-23T09:00:00+00:00")]},  # = NOW: expired (exclusive)
            "promo": {"balance": -5, "debt": 5, "lots": []}},
    })
    cu = view(s, DECLS, NOW, LOCAL)
    assert cu.counters == {"coffee": 4, "visits": 9, "stickers": 3}
    assert cu.balances == {"bonus": 10, "promo": -5}
    assert cu.tier == "silver" and cu.benefits == {"cashback": 50000, "multiplier": 2}
    assert cu.receipts == 7 and cu.segments == frozenset({"x"}) and cu.known and cu.id == "C1"
    later = view(s, DECLS, t("2027-01-01T00:00:00+00:00"), LOCAL)  # a new quarter, after the promotion
    assert later.counters == {"visits": 9}
    assert later.balances == {"bonus": 20, "promo": -5}


def test_view_of_a_customer_without_tier_reads_the_entry_level() -> None:
    cu = view(CustomerState(id="C"), DECLS, NOW, LOCAL)
    assert cu.tier == "base" and cu.benefits == {"cashback": 30000}
    cu = view(CustomerState(id="C", tier="platinum"), DECLS, NOW, LOCAL)  # a level the programme dropped
    assert cu.tier == "base"
    cu = view(CustomerState(id="C", tier="gold"), StateDecls(), NOW, LOCAL)
    assert cu.tier == "gold" and cu.benefits == {} and cu.counters == {} and cu.balances == {}


def test_view_adds_the_shared_balance_for_members_who_may_redeem() -> None:
    shared = {"id": "F", "owner": "C1", "members": {"C1": {"redeem": True}, "C2": {"redeem": False}},
              "accounts": {"bonus": {"balance": 500, "lots": [_lot("S", 500, 500)]}}}
    own = {"bonus": {"balance": 7, "lots": [_lot("O", 7, 7)]}}
    owner = CustomerState.from_dict({"id": "C1", "shared": shared, "accounts": own})
    member = CustomerState.from_dict({"id": "C2", "shared": shared})
    assert view(owner, DECLS, NOW, LOCAL).balances == {"bonus": 507}
    assert view(member, DECLS, NOW, LOCAL).balances == {}


def test_customer_view_keeps_its_old_constructor() -> None:
    cu = CustomerView(True, "C", "", frozenset(), {})
    assert cu.counters.get("x", 0) == 0 and cu.balances == {} and cu.benefits == {} and cu.receipts == 0
    assert ANONYMOUS.counters == {} and ANONYMOUS.receipts == 0 and not ANONYMOUS.known


# ---------------------------------------------------------------------------------------- periods


@pytest.mark.parametrize(("date", "period", "key", "start", "end"), [
    ("2026-11-23", "day", "2026-11-23", "2026-11-23", "2026-11-24"),
    ("2026-11-23", "week", "2026-W48", "2026-11-23", "2026-11-30"),
    ("2026-11-29", "week", "2026-W48", "2026-11-23", "2026-11-30"),
    ("2027-01-01", "week", "2026-W53", "2026-12-28", "2027-01-04"),  # ISO: the week of 2026's Thursday
    ("2024-12-30", "week", "2025-W01", "2024-12-30", "2025-01-06"),
    ("2026-11-23", "month", "2026-11", "2026-11-01", "2026-12-01"),
    ("2026-12-31", "month", "2026-12", "2026-12-01", "2027-01-01"),
    ("2026-11-23", "quarter", "2026-Q4", "2026-10-01", "2027-01-01"),
    ("2026-03-31", "quarter", "2026-Q1", "2026-01-01", "2026-04-01"),
    ("2026-07-01", "quarter", "2026-Q3", "2026-07-01", "2026-10-01"),
    ("2026-11-23", "year", "2026", "2026-01-01", "2027-01-01"),
])
def test_period_keys_starts_and_ends(date: str, period: str, key: str, start: str, end: str) -> None:
    assert period_key(day(date), period) == key
    assert period_start(day(date), period) == day(start)
    assert period_end(day(date), period) == day(end)


def test_customer_and_never_are_one_period() -> None:
    assert period_key(day("2026-11-23"), "customer") == period_key(day("1999-01-01"), "never") == "all"
    with pytest.raises(ValueError, match="no end"):
        period_end(day("2026-11-23"), "customer")
    with pytest.raises(ValueError, match="unknown period"):
        period_key(1, "fortnight")


def test_expiry_times() -> None:
    made = t("2026-11-23T10:00:00+03:00")
    assert expiry_time(Expiry("never"), made, MOSCOW) is None
    assert expiry_time(Expiry("after", seconds=86400), made, MOSCOW) == made + 86400
    # end of quarter: local midnight starting 2027-01-01 in Moscow (UTC+3) = 2026-12-31 21:00 UTC
    assert expiry_time(Expiry("end_of", period="quarter"), made, MOSCOW) == t("2026-12-31T21:00:00+00:00")
    assert expiry_time(Expiry("end_of", period="quarter", next=True), made, MOSCOW) == t("2027-03-31T21:00:00+00:00")
    assert expiry_time(Expiry("end_of", period="month"), made, MOSCOW) == t("2026-11-30T21:00:00+00:00")
    assert expiry_time(Expiry("end_of", period="year", next=True), made, MOSCOW) == t("2027-12-31T21:00:00+00:00")
    # the local date decides: 2026-12-31 22:00 UTC is already 2027-01-01 in Moscow (the next quarter)
    late = t("2026-12-31T22:00:00+00:00")
    assert expiry_time(Expiry("end_of", period="quarter"), late, MOSCOW) == t("2027-03-31T21:00:00+00:00")


def test_local_midnight_across_daylight_saving() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    assert local_midnight(day("2026-07-01"), berlin) == t("2026-06-30T22:00:00+00:00")
    assert local_midnight(day("2026-01-01"), berlin) == t("2025-12-31T23:00:00+00:00")
    assert local_date(berlin)(t("2026-06-30T22:00:00+00:00")) == day("2026-07-01")
    assert local_date(berlin)(t("2026-06-30T21:59:59+00:00")) == day("2026-06-30")
