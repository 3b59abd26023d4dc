"""``state.apply``: every change of docs/state.md §6, its inverse, purity, all or nothing, and the
owner-only management of shared accounts."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyadsl.runtime.declarations import Account, CouponSeries, StateDecls
from loyadsl.runtime.errors import StateError
from loyadsl.runtime.model import utc_seconds
from loyadsl.runtime.state import (
    CustomerState,
    Member,
    add_member,
    advance,
    apply,
    apply_in_place,
    create_shared,
    find_lot,
    invert,
    remove_member,
    set_rights,
    view,
    working_copy,
)
from loyadsl.runtime.state.records import holds_lot


def t(text: str) -> int:
    return utc_seconds(dt.datetime.fromisoformat(text))


def lot(lot_id: str, points: int, left: int, expires: str | None = "2027-01-01T00:00:00+00:00") -> dict[str, Any]:
    return {"id": lot_id, "points": points, "left": left, "active_from": "2026-01-15T10:00:00+00:00",
            "expires": expires, "receipt": "R1", "campaign": "base"}


STATE: dict[str, Any] = {
    "id": "C1", "tier": "silver", "receipts": 12,
    "accounts": {
        "bonus": {"balance": 450, "debt": 0, "lots": [lot("R1:bonus:0", 400, 350), lot("R2:bonus:0", 100, 100)]},
        "credit": {"balance": -100, "debt": 100, "lots": []},
    },
    "counters": {"coffee": {"value": 4, "period": "2026-Q4"}},
    "coupons": [{"code": "WEL-1", "series": "welcome", "issued": "2026-11-01T10:00:00+00:00",
                 "valid_from": "2026-11-01T10:00:00+00:00", "valid_to": "2026-12-01T10:00:00+00:00", "uses_left": 1}],
    "coupon_uses": {"welcome": 1},
    "certificates": [{"code": "GC-1", "series": "gift", "value": 100000, "balance": 40000, "expires": None,
                      "multi_use": True}],
    "qualification": {"period": "2026-Q4", "value": 1234500, "previous": 800000, "days": []},
    "usage": {"weekend": {"2026-11-21": 1}},
    "referral": {"referred_by": "C0", "rewarded": False},
    "shared": {"id": "F1", "owner": "C1",
               "members": {"C1": {"accrue": True, "redeem": True}, "C2": {"accrue": True, "redeem": False}},
               "accounts": {"bonus": {"balance": 70, "debt": 0, "lots": [lot("S1", 70, 70)]}}},
    "returns": {"R1": {"1": 1000}},
}


@pytest.fixture
def state() -> CustomerState:
    return CustomerState.from_dict(copy.deepcopy(STATE))


Check = Callable[[CustomerState], bool]

NEW_COUPON = {"code": "WEL-2", "series": "welcome", "issued": "2026-11-20T10:00:00+00:00",
              "valid_from": "2026-11-20T10:00:00+00:00", "valid_to": None, "uses_left": 1}
NEW_CERT = {"code": "GC-0", "series": "gift", "value": 50000, "balance": 50000, "expires": "2027-11-20T10:00:00+00:00",
            "multi_use": False}

CASES: list[tuple[str, dict[str, Any], Check]] = [
    ("lot", {"op": "lot", "account": "bonus", "lot": "R3:bonus:0", "points": 30, "active_from": "2026-11-20T10:00:00+03:00",
             "expires": None, "receipt": "R3", "campaign": "c", "lines": [[1, 30]], "shared": False},
     lambda s: s.accounts["bonus"].balance == 480 and s.accounts["bonus"].lots[-1].left == 30
     and s.accounts["bonus"].lots[-1].active_from == t("2026-11-20T07:00:00+00:00")),
    ("lot in a new account", {"op": "lot", "account": "promo", "lot": "P", "points": 5, "active_from": 739000 * 86400},
     lambda s: s.accounts["promo"].balance == 5 and s.accounts["promo"].lots[0].expires is None),
    ("lot shared", {"op": "lot", "account": "bonus", "lot": "S2", "points": 9, "active_from": "2026-11-20T10:00:00+00:00",
                    "shared": True},
     lambda s: s.shared is not None and s.shared.accounts["bonus"].balance == 79 and s.accounts["bonus"].balance == 450),
    ("take", {"op": "take", "account": "bonus", "lot": "R1:bonus:0", "points": 50, "reason": "redeem"},
     lambda s: s.accounts["bonus"].lots[0].left == 300 and s.accounts["bonus"].balance == 400),
    ("take back", {"op": "take", "account": "bonus", "lot": "R1:bonus:0", "points": -50, "reason": "return"},
     lambda s: s.accounts["bonus"].lots[0].left == 400 and s.accounts["bonus"].balance == 500),
    ("take shared", {"op": "take", "account": "bonus", "lot": "S1", "points": 70, "reason": "redeem", "shared": True},
     lambda s: s.shared is not None and s.shared.accounts["bonus"].balance == 0),
    ("debt repaid", {"op": "debt", "account": "credit", "points": -100, "reason": "repay"},
     lambda s: "credit" not in s.accounts),  # nothing left: the account is absent
    ("debt borrowed", {"op": "debt", "account": "bonus", "points": 25, "reason": "redeem"},
     lambda s: s.accounts["bonus"].debt == 25 and s.accounts["bonus"].balance == 425),
    ("counter", {"op": "counter", "name": "coffee", "delta": 2, "period": "2026-Q4", "lines": [[1, 2]]},
     lambda s: s.counters["coffee"].value == 6),
    ("counter to zero", {"op": "counter", "name": "coffee", "delta": -4, "period": "2026-Q4", "reason": "reset"},
     lambda s: "coffee" not in s.counters),
    ("new counter", {"op": "counter", "name": "stickers", "delta": 3, "period": "all"},
     lambda s: s.counters["stickers"].value == 3),
    ("coupon_use", {"op": "coupon_use", "code": "WEL-1", "series": "welcome"},
     lambda s: s.coupons[0].uses_left == 0 and s.coupon_uses == {"welcome": 2}),
    ("coupon_unuse", {"op": "coupon_unuse", "code": "WEL-1", "series": "welcome"},
     lambda s: s.coupons[0].uses_left == 2 and s.coupon_uses == {}),
    ("coupon_issue", {"op": "coupon_issue", **NEW_COUPON},
     lambda s: [c.code for c in s.coupons] == ["WEL-1", "WEL-2"] and s.coupons[1].valid_to is None),
    ("coupon_issue nested", {"op": "coupon_issue", "coupon": {**NEW_COUPON, "code": "A-0"}},
     lambda s: [c.code for c in s.coupons] == ["A-0", "WEL-1"]),
    ("coupon_expire", {"op": "coupon_expire", "code": "WEL-1", "series": "welcome"},
     lambda s: s.coupons == [] and s.coupon_uses == {"welcome": 1}),
    ("certificate", {"op": "certificate", "code": "GC-1", "delta": -15000, "lines": [[1, 15000]]},
     lambda s: s.certificates[0].balance == 25000),
    ("certificate_issue", {"op": "certificate_issue", **NEW_CERT},
     lambda s: [c.code for c in s.certificates] == ["GC-0", "GC-1"] and not s.certificates[0].multi_use),
    ("certificate_void", {"op": "certificate_void", "code": "GC-1"}, lambda s: s.certificates == []),
    ("qualify", {"op": "qualify", "period": "2026-Q4", "delta": 500, "lines": [[1, 500]]},
     lambda s: s.qualification is not None and s.qualification.value == 1235000),
    ("qualify review", {"op": "qualify", "period": "2027-Q1", "delta": 0, "previous": 1234500,
                        "from": {"period": "2026-Q4", "value": 1234500, "previous": 800000}},
     lambda s: s.qualification is not None and (s.qualification.period, s.qualification.value,
                                                 s.qualification.previous) == ("2027-Q1", 0, 1234500)),
    ("tier", {"op": "tier", "from": "silver", "to": "gold", "reason": "upgrade"}, lambda s: s.tier == "gold"),
    ("tier down to none", {"op": "tier", "from": "silver", "to": None, "reason": "review"}, lambda s: s.tier is None),
    ("usage", {"op": "usage", "campaign": "weekend", "period": "2026-11-22", "delta": 1},
     lambda s: s.usage == {"weekend": {"2026-11-21": 1, "2026-11-22": 1}}),
    ("usage undone", {"op": "usage", "campaign": "weekend", "period": "2026-11-21", "delta": -1},
     lambda s: s.usage == {}),
    ("receipt", {"op": "receipt", "receipt": "R9", "delta": 1}, lambda s: s.receipts == 13),
    ("referral", {"op": "referral", "rewarded": True},
     lambda s: s.referral is not None and s.referral.rewarded and s.referral.referred_by == "C0"),
    ("returned", {"op": "returned", "receipt": "R1", "lines": [[1, 500], [2, 1000]]},
     lambda s: s.returns == {"R1": {"1": 1500, "2": 1000}}),
    ("returned new receipt", {"op": "returned", "receipt": "R2", "lines": [[3, 250]]},
     lambda s: s.returns["R2"] == {"3": 250}),
]


@pytest.mark.parametrize(("name", "change", "check"), CASES, ids=[c[0] for c in CASES])
def test_each_change_and_its_inverse(state: CustomerState, name: str, change: dict[str, Any], check: Check) -> None:
    before = state.to_dict()
    after = apply(state, [change])
    assert check(after), name
    assert state.to_dict() == before  # pure
    assert CustomerState.from_dict(after.to_dict()) == after  # still consistent
    back = apply(after, invert(state, [change]))
    assert back == state and back.to_dict() == before


def test_transfer_and_budget_are_not_this_states(state: CustomerState) -> None:
    changes = [{"op": "transfer", "customer": "C0", "account": "bonus", "points": 300, "reason": "referral"},
               {"op": "budget", "campaign": "x", "kind": "money", "delta": 100}]
    assert apply(state, changes) == state


def test_the_first_qualify_creates_the_record_and_its_inverse_removes_it() -> None:
    s = CustomerState(id="C")
    change = {"op": "qualify", "period": "rolling", "delta": 700, "day": 739900}
    after = apply(s, [change])
    assert after.qualification is not None and after.qualification.days == [(739900, 700)]
    assert apply(after, invert(s, [change])) == s
    more = apply(after, [{"op": "qualify", "period": "rolling", "delta": 5, "day": 739800},
                         {"op": "qualify", "period": "rolling", "delta": -700, "day": 739900}])
    assert more.qualification is not None and more.qualification.days == [(739800, 5)]
    assert more.qualification.value == 5


def test_unchanged_parts_are_shared_not_copied(state: CustomerState) -> None:
    after = apply(state, [{"op": "take", "account": "bonus", "lot": "R2:bonus:0", "points": 1, "reason": "redeem"}])
    assert after.accounts["bonus"].lots[0] is state.accounts["bonus"].lots[0]
    assert after.accounts["bonus"].lots[1] is not state.accounts["bonus"].lots[1]
    assert after.accounts["credit"] is state.accounts["credit"] and after.coupons is state.coupons


def test_the_cached_view_follows_the_state(state: CustomerState) -> None:
    assert state.view.receipts == 12
    after = apply(state, [{"op": "receipt", "receipt": "R9", "delta": 1}])
    assert after.view.receipts == 13 and state.view.receipts == 12
    w = working_copy(state)
    assert w.view.receipts == 12
    apply_in_place(w, [{"op": "receipt", "receipt": "R9", "delta": 1}])
    assert w.view.receipts == 13


FAILURES: list[tuple[dict[str, Any], str]] = [
    ({"op": "take", "account": "bonus", "lot": "R1:bonus:0", "points": 351, "reason": "redeem"}, "has 350 left"),
    ({"op": "take", "account": "bonus", "lot": "R1:bonus:0", "points": -51, "reason": "return"}, "401 left of 400"),
    ({"op": "take", "account": "bonus", "lot": "nope", "points": 1}, "no lot 'nope'"),
    ({"op": "take", "account": "nope", "lot": "x", "points": 1}, "has no lots"),
    ({"op": "take", "account": "bonus", "lot": "S1", "points": 1}, "no lot 'S1'"),  # S1 is in the shared account
    ({"op": "take", "account": "bonus", "lot": "R1:bonus:0", "points": "1"}, "points must be an integer"),
    ({"op": "lot", "account": "bonus", "lot": "R1:bonus:0", "points": 5, "active_from": "2026-11-20T10:00:00+00:00"},
     "already in account"),
    ({"op": "lot", "account": "bonus", "lot": "X", "points": 5, "active_from": "2026-11-20T10:00:00"}, "UTC offset"),
    ({"op": "lot", "account": "bonus", "lot": "R1:bonus:0", "points": -400}, "only an untouched lot"),
    ({"op": "lot", "account": "bonus", "lot": "Z", "points": 0, "active_from": "2026-11-20T10:00:00+00:00"},
     "a lot has points"),
    ({"op": "debt", "account": "credit", "points": -101}, "owes 100"),
    ({"op": "counter", "name": "coffee", "delta": -5, "period": "2026-Q4"}, "would be -1"),
    ({"op": "counter", "name": "coffee", "delta": 1, "period": "2027-Q1"}, "reset it first"),
    ({"op": "counter", "name": "tea", "delta": -1, "period": "all"}, "would be -1"),
    ({"op": "coupon_use", "code": "NOPE", "series": "welcome"}, "holds no coupon 'NOPE'"),
    ({"op": "coupon_use", "code": "WEL-1", "series": "summer"}, "of series 'welcome'"),
    ({"op": "coupon_expire", "code": "NOPE"}, "holds no coupon"),
    ({"op": "coupon_issue", **NEW_COUPON, "code": "WEL-1"}, "already"),
    ({"op": "coupon_unuse", "code": "X", "series": "summer"}, "would be -1"),
    ({"op": "certificate", "code": "GC-1", "delta": -40001}, "does not fit"),
    ({"op": "certificate", "code": "GC-1", "delta": 60001}, "does not fit"),
    ({"op": "certificate", "code": "GC-9", "delta": 1}, "no certificate"),
    ({"op": "certificate_void", "code": "GC-9"}, "no certificate"),
    ({"op": "certificate_issue", **NEW_CERT, "code": "GC-1"}, "held already"),
    ({"op": "certificate_issue", **NEW_CERT, "balance": 60000}, "balance <= value"),
    ({"op": "qualify", "period": "2026-Q3", "delta": -5}, "review comes first"),
    ({"op": "qualify", "period": "2026-Q4", "delta": -1234501}, "would be -1"),
    ({"op": "qualify", "period": "2027-Q1", "delta": 0, "from": {"period": "2026-Q3", "value": 0, "previous": 0}},
     "the qualification is"),
    ({"op": "tier", "from": "gold", "to": "silver"}, "the tier is 'silver'"),
    ({"op": "usage", "campaign": "weekend", "period": "2026-11-22", "delta": -1}, "would be -1"),
    ({"op": "receipt", "delta": -14}, "would be -1"),
    ({"op": "lot", "account": "bonus", "lot": "X", "points": 5, "active_from": 0}, "out of range"),
    ({"op": "referral", "rewarded": False}, "not rewarded already"),
    ({"op": "referral", "rewarded": 1}, "true or false"),
    ({"op": "returned", "receipt": "R1", "lines": [[1, -1001]]}, "would be -1"),
    ({"op": "returned", "receipt": "R1", "lines": [[0, 1]]}, "[line_no, thousandths]"),
    ({"op": "teleport"}, "unknown op 'teleport'"),
    ({"points": 5}, "no known op"),
]


@pytest.mark.parametrize(("change", "says"), FAILURES, ids=[str(f[0].get("op")) + "-" + f[1] for f in FAILURES])
def test_a_change_that_does_not_fit_is_refused(state: CustomerState, change: dict[str, Any], says: str) -> None:
    good = {"op": "receipt", "receipt": "R9", "delta": 1}
    before = state.to_dict()
    with pytest.raises(StateError) as info:
        apply(state, [good, change])
    assert info.value.code == "LOY503" and info.value.where == "changes[1]" and says in info.value.message
    assert state.to_dict() == before
    w = working_copy(state)
    with pytest.raises(StateError):
        apply_in_place(w, [good, change])
    assert w == state  # all or nothing, in place too


def test_a_referral_needs_a_referred_customer() -> None:
    with pytest.raises(StateError, match="not referred"):
        apply(CustomerState(id="C"), [{"op": "referral", "rewarded": True}])


def test_shared_changes_need_a_shared_account() -> None:
    with pytest.raises(StateError, match="no shared account"):
        apply(CustomerState(id="C"), [{"op": "lot", "account": "b", "lot": "L", "points": 1,
                                       "active_from": "2026-01-01T00:00:00+00:00", "shared": True}])


def test_declarations_check_credit_limits_and_coupon_series(state: CustomerState) -> None:
    decls = StateDecls(accounts=(Account("bonus"), Account("credit", credit=500)),
                       coupons=(CouponSeries("welcome", per_customer=2), CouponSeries("summer", code="shared",
                                                                                     text="SUMMER25", uses=1)))
    apply(state, [{"op": "debt", "account": "credit", "points": 400}], decls)
    with pytest.raises(StateError, match=r"over account .credit..s credit limit 500"):
        apply(state, [{"op": "debt", "account": "credit", "points": 401}], decls)
    with pytest.raises(StateError, match="credit limit 0"):
        apply(state, [{"op": "debt", "account": "bonus", "points": 1}], decls)
    used = apply(state, [{"op": "coupon_use", "code": "SUMMER25", "series": "summer"}], decls)
    assert used.coupon_uses == {"welcome": 1, "summer": 1} and used.coupons == state.coupons
    with pytest.raises(StateError, match=r"holds no coupon .SUMMER25..*decls"):
        apply(state, [{"op": "coupon_use", "code": "SUMMER25", "series": "summer"}])
    once = apply(state, [{"op": "coupon_issue", **NEW_COUPON}])
    with pytest.raises(StateError, match="allows 2 uses per customer"):
        apply(once, [{"op": "coupon_use", "code": "WEL-1", "series": "welcome"},
                     {"op": "coupon_use", "code": "WEL-2", "series": "welcome"}], decls)
    with pytest.raises(StateError, match="the series allows 1"):
        apply(state, [{"op": "coupon_unuse", "code": "WEL-1", "series": "welcome"}],
              StateDecls(coupons=(CouponSeries("welcome", uses=1),)))


def test_in_place_gives_what_apply_gives(state: CustomerState) -> None:
    changes = [c for _, c, _ in CASES if c["op"] not in ("qualify", "tier", "referral")][:12]
    w = working_copy(state)
    apply_in_place(w, changes)
    assert w == apply(state, changes) and state == CustomerState.from_dict(copy.deepcopy(STATE))
    apply_in_place(w, invert(state, changes))
    assert w == state


# ------------------------------------------------------------------------------- the property


@st.composite
def change_sequences(draw: st.DrawFn) -> tuple[CustomerState, list[dict[str, Any]]]:
    """A random valid state and a random sequence of lot/take/counter/debt changes that fit it
    (each drawn against the state the earlier ones made)."""
    s = CustomerState.from_dict(copy.deepcopy(STATE))
    current = s
    changes: list[dict[str, Any]] = []
    for n in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["lot", "take", "counter", "debt"]))
        shared = draw(st.booleans())
        holder = current.shared.accounts if shared and current.shared is not None else current.accounts
        if kind == "lot":
            change = {"op": "lot", "account": draw(st.sampled_from(["bonus", "promo"])), "lot": f"N{n}",
                      "points": draw(st.integers(1, 500)), "active_from": draw(st.integers(86400, 10**11)),
                      "expires": draw(st.none() | st.integers(86400, 10**11)), "shared": shared}
        elif kind == "take":
            lots = [(name, x) for name, acc in sorted(holder.items()) for x in acc.lots]
            if not lots:
                continue
            name, x = draw(st.sampled_from(lots))
            change = {"op": "take", "account": name, "lot": x.id, "points": draw(st.integers(x.left - x.points, x.left)),
                      "reason": "redeem", "shared": shared}
        elif kind == "debt":
            name = draw(st.sampled_from(["bonus", "credit"]))
            owed = holder[name].debt if name in holder else 0
            change = {"op": "debt", "account": name, "points": draw(st.integers(-owed, 300)), "shared": shared}
        else:
            name = draw(st.sampled_from(["coffee", "tea"]))
            held = current.counters.get(name)
            period = held.period if held is not None else draw(st.sampled_from(["2026-Q4", "all"]))
            value = held.value if held is not None else 0
            change = {"op": "counter", "name": name, "delta": draw(st.integers(-value, 20)), "period": period}
        current = apply(current, [change])
        changes.append(change)
    return s, changes


@settings(max_examples=150, deadline=None)
@given(change_sequences())
def test_changes_then_their_inverses_restore_the_state(case: tuple[CustomerState, list[dict[str, Any]]]) -> None:
    s, changes = case
    after = apply(s, changes)
    assert CustomerState.from_dict(after.to_dict()) == after  # every intermediate result is consistent
    assert apply(after, invert(s, changes)) == s
    w = working_copy(s)
    apply_in_place(w, changes)
    assert w == after
    apply_in_place(w, invert(s, changes))
    assert w == s


# --------------------------------------------------------------------------------- shared accounts


def test_only_the_owner_manages_members(state: CustomerState) -> None:
    added = add_member(state, "C1", "C3", {"accrue": False, "redeem": True, "redeem_limit": 500})
    assert added.shared is not None and added.shared.members["C3"] == Member(accrue=False, redeem=True, redeem_limit=500)
    assert state.shared is not None and "C3" not in state.shared.members
    changed = set_rights(added, "C1", "C3", Member(redeem=False))
    assert changed.shared is not None and changed.shared.members["C3"].redeem is False
    removed = remove_member(changed, "C1", "C3")
    assert removed == state
    for call in (lambda: add_member(state, "C2", "C3", {}), lambda: remove_member(state, "C2", "C2"),
                 lambda: set_rights(state, "C2", "C2", {"redeem": True})):
        with pytest.raises(StateError, match=r"only the owner C1 may .* not C2") as info:
            call()
        assert info.value.code == "LOY503"


def test_membership_errors(state: CustomerState) -> None:
    with pytest.raises(StateError, match="member of shared account F1 already"):
        add_member(state, "C1", "C2", {})
    with pytest.raises(StateError, match="the owner C1 cannot leave"):
        remove_member(state, "C1", "C1")
    with pytest.raises(StateError, match="C7 is not a member"):
        set_rights(state, "C1", "C7", {})
    with pytest.raises(StateError, match="rights are"):
        add_member(state, "C1", "C3", {"redeem": "yes"})
    with pytest.raises(StateError, match="no shared account"):
        add_member(CustomerState(id="C"), "C", "C3", {})
    # a member's copy of the shared account cannot be used to manage it, even naming the owner
    member = CustomerState.from_dict({**copy.deepcopy(STATE), "id": "C2", "accounts": {}})
    with pytest.raises(StateError, match="only the owner"):
        add_member(member, "C1", "C3", {})


def test_create_shared() -> None:
    s = create_shared(CustomerState(id="C5"), "F9")
    assert s.shared is not None and s.shared.owner == "C5" and s.shared.members["C5"].redeem
    assert CustomerState.from_dict(s.to_dict()) == s
    with pytest.raises(StateError, match="already"):
        create_shared(s, "F10")


# ------------------------------------------------------------------------------ the lot hints


_SCAN_DECLS = StateDecls(accounts=(Account("bonus", notify=30 * 86400), Account("promo", notify=86400),
                                   Account("credit", credit=10**6)))


def _spend_all(state: CustomerState, shared: bool = True) -> list[dict[str, Any]]:
    """Changes that take every point left in the state's lots."""
    places = [(False, state.accounts)] + ([(True, state.shared.accounts)] if shared and state.shared else [])
    return [{"op": "take", "account": name, "lot": x.id, "points": x.left, "reason": "redeem", "shared": flag}
            for flag, holder in places for name, acc in sorted(holder.items()) for x in acc.lots if x.left]


def _scans(state: CustomerState, now: int) -> tuple[Any, ...]:
    """What the per-receipt scans of lots read: balances, expiries and notices, each lot found by id."""
    places = ((False, state.accounts), (True, state.shared.accounts if state.shared else {}))
    found = {(shared, name, lot_id): (find_lot(acc, lot_id), holds_lot(acc, lot_id, keep=True))
             for shared, holder in places for name, acc in holder.items()
             for lot_id in [*(x.id for x in acc.lots), *(f"N{n}" for n in range(12))]}
    return (view(state, _SCAN_DECLS, now, lambda utc: utc // 86400).balances,
            advance(state, _SCAN_DECLS, now, lambda utc: utc // 86400), found)


@settings(max_examples=150, deadline=None)
@given(change_sequences(), st.lists(st.integers(86400, 10**11), min_size=1, max_size=4))
def test_the_lot_hints_change_nothing_a_scan_reads(case: tuple[CustomerState, list[dict[str, Any]]],
                                                          moments: list[int]) -> None:
    """A state changed in place (the simulator's) scans as a fresh copy of it does (no hints), after
    every change, lots running out and getting their points back, the inverse of it all, and a
    rollback of changes that lots ran out in before one was refused (records.py, "lot hints")."""
    s, changes = case
    w = working_copy(s)
    after = apply(s, changes)
    spend_all = _spend_all(after)  # every lot runs out, then gets its points back
    steps = [[change] for change in changes] + [spend_all, invert(after, spend_all), invert(s, changes)]
    spend = _spend_all(s, shared=False)
    for step in [[], *steps]:
        apply_in_place(w, step)
        for now in moments:
            assert _scans(w, now) == _scans(CustomerState.from_dict(w.to_dict()), now)
    before = CustomerState.from_dict(w.to_dict())
    with pytest.raises(StateError):
        apply_in_place(w, [*spend, *[{"op": "take", "account": "bonus", "lot": x["lot"], "points": 1}
                                     for x in spend[:1]], {"op": "take", "account": "nowhere", "lot": "x", "points": 1}])
    assert w == before
    for now in moments:
        assert _scans(w, now) == _scans(before, now)
