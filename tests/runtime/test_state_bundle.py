"""Bundle format 2: the customer-state section and campaign fields (loader, LOY404 paths), the state
instructions (verifier, LOY405) and their generated code (JIT), against stand-in views."""

from __future__ import annotations

import copy
import re
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rt_asm import DELETE, STATE, TRUE, bundle_bytes, campaign, cat_in, payload, set_at

from loyadsl.runtime import BundleError, load_bundle, pack_bundle
from loyadsl.runtime.declarations import (
    Account,
    Budget,
    CampaignState,
    CertificateSeries,
    Counter,
    CouponSeries,
    Earn,
    Expiry,
    Level,
    Redemption,
    Referral,
    StateDecls,
    TierPeriod,
    Tiers,
    UsageLimit,
)
from loyadsl.runtime.jit import compile_bundle

FULL_STATE: dict[str, Any] = {
    "accounts": [
        {"name": "bonus", "title": "Bonuses", "activation": 1209600, "expiry": {"kind": "after", "seconds": 31536000},
         "spend": "soonest_expiring", "credit": 0, "repay": 1000000, "shortfall": "report", "notify": 604800},
        {"name": "credit", "title": None, "activation": 0, "expiry": {"kind": "end_of", "period": "quarter",
                                                                      "next": True},
         "spend": "oldest_first", "credit": 500, "repay": 500000, "shortfall": "negative", "notify": 0},
    ],
    "default_account": "bonus",
    "redemption": {"accounts": ["bonus", "credit"], "max_share": 500000, "min_payment": 100,
                   "exclude": cat_in("tobacco"), "accrue_on_redeemed": False},
    "tiers": {"name": "status", "title": "Status", "measure": "spend", "period": {"kind": "quarter", "days": None},
              "levels": [{"name": "base", "threshold": 0, "benefits": {"cashback": 30000, "multiplier": 1}},
                         {"name": "silver", "threshold": 1000000, "benefits": {"cashback": 50000, "multiplier": 2}}]},
    "counters": [
        {"name": "coffee", "title": None, "kind": "counter", "reset": "quarter", "earn": None, "valid": None},
        {"name": "stickers", "title": "Knives", "kind": "chips", "reset": "never",
         "earn": {"count": 1, "per": 50000, "predicate": cat_in("food")}, "valid": [739860, 739981]},
    ],
    "coupons": [{"name": "welcome", "title": None, "code": "unique", "text": "WEL-", "valid_for": 2592000,
                 "valid": None, "uses": 1, "per_customer": 1},
                {"name": "summer", "title": "Summer", "code": "shared", "text": "SUMMER25", "valid_for": None,
                 "valid": [739768, 739859], "uses": 3, "per_customer": None}],
    "certificates": [{"name": "gift", "title": None, "skus": ["GC1000", "GC500"], "expiry": {"kind": "never"},
                      "multi_use": True}],
    "referral": {"qualify": 50000, "referrer": 300, "referrer_account": "bonus", "newcomer": 200,
                 "newcomer_account": "credit"},
}

STATE_OPS: list[tuple[Any, ...]] = [
    ("COUNTER", "coffee"), ("CONST", 6), ("GE",), ("IF",),
    ("CONST", 6), ("SPEND_COUNTER", "coffee"),
    ("END",),
    ("UNITS", cat_in("coffee")), ("ADD_COUNTER", "coffee"),
    ("ISSUE_COUPON", "welcome"),
    ("BENEFIT", "cashback"), ("ACCRUE_TOTAL", TRUE),
]


def state_payload() -> dict[str, Any]:
    return payload([
        campaign("stamps", STATE_OPS, account="bonus",
                 condition=[("BALANCE", "credit"), ("CONST", 0), ("GE",), ("AND",), ("CUSTOMER", "receipts"),
                            ("CONST", 1), ("GE",), ("END",)]),
        campaign("welcome", [("CONST", 100000), ("DISCOUNT_TOTAL", TRUE)], account="bonus", coupon="welcome",
                 usage_limit={"count": 1, "per": "customer"}, budget={"kind": "money", "amount": 10000000}),
        campaign("promo", [("CONST", 50000), ("ACCRUE_TOTAL", TRUE)], account="credit",
                 usage_limit={"count": 2, "per": "day"}, budget={"kind": "points", "amount": 1000000}),
    ], state=FULL_STATE)


def code(exc: pytest.ExceptionInfo[BundleError]) -> str:
    return exc.value.code


# ------------------------------------------------------------------------------------ loading


def test_state_round_trip() -> None:
    b = load_bundle(pack_bundle(state_payload()))
    s = b.state
    assert s.redemption is not None and s.counters[1].earn is not None
    assert b.predicates[s.redemption.exclude or 0][0] == ("LINE", "category")
    assert s == StateDecls(
        accounts=(Account("bonus", "Bonuses", 1209600, Expiry("after", seconds=31536000), "soonest_expiring", 0,
                          1000000, "report", 604800),
                  Account("credit", None, 0, Expiry("end_of", period="quarter", next=True), "oldest_first", 500,
                          500000, "negative", 0)),
        default_account="bonus",
        redemption=Redemption(("bonus", "credit"), 500000, 100, s.redemption.exclude, False),
        tiers=Tiers("status", "Status", "spend", TierPeriod("quarter"), (
            Level("base", 0, {"cashback": 30000, "multiplier": 1}),
            Level("silver", 1000000, {"cashback": 50000, "multiplier": 2}))),
        counters=(Counter("coffee", None, "counter", "quarter"),
                  Counter("stickers", "Knives", "chips", "never", Earn(1, 50000, s.counters[1].earn.predicate),
                          (739860, 739981))),
        coupons=(CouponSeries("welcome", None, "unique", "WEL-", 2592000, None, 1, 1),
                 CouponSeries("summer", "Summer", "shared", "SUMMER25", None, (739768, 739859), 3, None)),
        certificates=(CertificateSeries("gift", None, frozenset({"GC500", "GC1000"}), Expiry("never"), True),),
        referral=Referral(50000, 300, "bonus", 200, "credit"),
    )
    assert s.account("credit").credit == 500 and s.counter("stickers").kind == "chips" and not s.empty
    assert [c.state for c in b.campaigns] == [
        CampaignState("bonus"),
        CampaignState("bonus", "welcome", UsageLimit(1, "customer"), Budget("money", 10000000)),
        CampaignState("credit", None, UsageLimit(2, "day"), Budget("points", 1000000)),
    ]


def test_an_empty_state_section() -> None:
    b = load_bundle(bundle_bytes([campaign("x", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)])]))
    assert b.state == StateDecls() and b.state.empty and b.campaigns[0].state == CampaignState()


def mutate(path: list[Any], value: Any) -> dict[str, Any]:
    return set_at(state_payload(), path, value)


@pytest.mark.parametrize(
    ("path", "value", "where", "says"),
    [
        (["state"], DELETE, "state", "required field is missing"),
        (["state", "accounts"], {}, "state.accounts", "expected array"),
        (["state", "accounts", 0, "activation"], -1, "state.accounts[0].activation", ">= 0"),
        (["state", "accounts", 0, "credit"], -5, "state.accounts[0].credit", ">= 0"),
        (["state", "accounts", 0, "repay"], 1000001, "state.accounts[0].repay", "<= 1000000"),
        (["state", "accounts", 0, "spend"], "fifo", "state.accounts[0].spend", "soonest_expiring"),
        (["state", "accounts", 0, "shortfall"], "ignore", "state.accounts[0].shortfall", "other_lots"),
        (["state", "accounts", 0, "expiry", "kind"], "later", "state.accounts[0].expiry.kind", "never, after"),
        (["state", "accounts", 0, "expiry", "seconds"], 0, "state.accounts[0].expiry.seconds", ">= 1"),
        (["state", "accounts", 1, "expiry", "period"], "week", "state.accounts[1].expiry.period", "quarter"),
        (["state", "accounts", 1, "expiry", "next"], 1, "state.accounts[1].expiry.next", "expected bool"),
        (["state", "accounts", 1, "name"], "bonus", "state.accounts[1].name", "declared twice"),
        (["state", "accounts", 1, "name"], "", "state.accounts[1].name", "cannot be empty"),
        (["state", "default_account"], "promo", "state.default_account", "unknown account \"promo\""),
        (["state", "default_account"], None, "state.default_account", "names no default"),
        (["state", "redemption", "accounts", 1], "promo", "state.redemption.accounts[1]", "unknown account"),
        (["state", "redemption", "accounts"], [], "state.redemption.accounts", "at least one account"),
        (["state", "redemption", "accounts"], ["bonus", "bonus"], "state.redemption.accounts", "listed twice"),
        (["state", "redemption", "max_share"], -1, "state.redemption.max_share", ">= 0"),
        (["state", "redemption", "min_payment"], -100, "state.redemption.min_payment", ">= 0"),
        (["state", "redemption", "exclude"], 99, "state.redemption.exclude", "out of range"),
        (["state", "redemption", "accrue_on_redeemed"], "no", "state.redemption.accrue_on_redeemed", "bool"),
        (["state", "tiers", "measure"], "visits", "state.tiers.measure", "receipts, spend"),
        (["state", "tiers", "period", "kind"], "week", "state.tiers.period.kind", "rolling"),
        (["state", "tiers", "period", "days"], 30, "state.tiers.period.days", "quarter period has no days"),
        (["state", "tiers", "period"], {"kind": "rolling", "days": 0}, "state.tiers.period.days", ">= 1"),
        (["state", "tiers", "levels"], [], "state.tiers.levels", "at least one level"),
        (["state", "tiers", "levels", 1, "threshold"], 0, "state.tiers.levels[1].threshold", "ascend strictly"),
        (["state", "tiers", "levels", 0, "threshold"], -1, "state.tiers.levels[0].threshold", ">= 0"),
        (["state", "tiers", "levels", 1, "benefits"], {"cashback": 1}, "state.tiers.levels[1].benefits",
         "the first level"),
        (["state", "tiers", "levels", 1, "benefits", "cashback"], -1, "state.tiers.levels[1].benefits.cashback",
         ">= 0"),
        (["state", "tiers", "levels", 1, "name"], "base", "state.tiers.levels[1].name", "declared twice"),
        (["state", "counters", 0, "kind"], "stamps", "state.counters[0].kind", "chips, counter"),
        (["state", "counters", 0, "reset"], "week", "state.counters[0].reset", "never"),
        (["state", "counters", 1, "name"], "coffee", "state.counters[1].name", "declared twice"),
        (["state", "counters", 1, "earn", "per"], 0, "state.counters[1].earn.per", ">= 1"),
        (["state", "counters", 1, "earn", "count"], -1, "state.counters[1].earn.count", ">= 1"),
        (["state", "counters", 1, "earn", "predicate"], -1, "state.counters[1].earn.predicate", "out of range"),
        (["state", "counters", 1, "valid"], [739981, 739860], "state.counters[1].valid", "ends"),
        (["state", "counters", 1, "valid"], [739860], "state.counters[1].valid", "[start, end]"),
        (["state", "coupons", 0, "code"], "random", "state.coupons[0].code", "shared, unique"),
        (["state", "coupons", 1, "text"], "", "state.coupons[1].text", "shared code cannot be empty"),
        (["state", "coupons", 0, "uses"], 0, "state.coupons[0].uses", ">= 1"),
        (["state", "coupons", 0, "valid_for"], 0, "state.coupons[0].valid_for", ">= 1"),
        (["state", "coupons", 0, "per_customer"], 0, "state.coupons[0].per_customer", ">= 1"),
        (["state", "certificates", 0, "skus"], [], "state.certificates[0].skus", "at least one SKU"),
        (["state", "certificates", 0, "skus", 0], 500, "state.certificates[0].skus[0]", "expected string"),
        (["state", "certificates", 0, "multi_use"], None, "state.certificates[0].multi_use", "expected bool"),
        (["state", "referral", "referrer"], -300, "state.referral.referrer", ">= 0"),
        (["state", "referral", "newcomer_account"], "promo", "state.referral.newcomer_account", "unknown account"),
        (["state", "referral", "referrer_account"], None, "state.referral.referrer_account", "need an account"),
        (["state", "referral", "qualify"], "500", "state.referral.qualify", "expected int"),
        (["campaigns", 0, "account"], "promo", "campaigns[0].account", "unknown account"),
        (["campaigns", 0, "account"], None, "campaigns[0].account", "declares accounts"),
        (["campaigns", 0, "account"], DELETE, "campaigns[0].account", "required field is missing"),
        (["campaigns", 1, "coupon"], "autumn", "campaigns[1].coupon", "unknown coupon series"),
        (["campaigns", 1, "usage_limit", "per"], "hour", "campaigns[1].usage_limit.per", "customer"),
        (["campaigns", 1, "usage_limit", "count"], 0, "campaigns[1].usage_limit.count", ">= 1"),
        (["campaigns", 1, "budget", "amount"], -1, "campaigns[1].budget.amount", ">= 0"),
        (["campaigns", 1, "budget", "kind"], "coupons", "campaigns[1].budget.kind", "money, points"),
        (["campaigns", 2, "budget"], 5, "campaigns[2].budget", "expected object"),
    ],
)
def test_state_structure_errors_name_the_json_path(path: list[Any], value: Any, where: str, says: str) -> None:
    with pytest.raises(BundleError) as info:
        load_bundle(pack_bundle(mutate(path, value)))
    assert code(info) == "LOY404", info.value.message
    assert info.value.where == where, info.value.message
    assert says in info.value.message


def test_a_bundle_without_accounts_has_campaigns_without_an_account() -> None:
    p = payload([campaign("x", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)], account="bonus")])
    with pytest.raises(BundleError, match="bundle declares no accounts") as info:
        load_bundle(pack_bundle(p))
    assert info.value.where == "campaigns[0].account"


# ------------------------------------------------------------------------------------ verifying


def with_actions(actions: list[tuple[Any, ...]], block: str = "actions", **state: Any) -> bytes:
    body = {"actions": actions} if block == "actions" else {"actions": [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)],
                                                            block: actions}
    return bundle_bytes([campaign("x", account="bonus", **body)], state={**FULL_STATE, **state})


@pytest.mark.parametrize(
    ("code_", "block", "state", "says"),
    [
        ([("COUNTER", "tea"), ("CONST", 1), ("GE",)], "condition", {}, "('tea') is not a declared counter"),
        ([("BALANCE", "coffee"), ("CONST", 1), ("GE",)], "condition", {}, "not a declared account"),
        ([("BENEFIT", "discount"), ("CONST", 1), ("GE",)], "audience", {}, "not a declared benefit"),
        ([("BENEFIT", "cashback"), ("CONST", 1), ("GE",)], "condition", {"tiers": None}, "declares no benefit"),
        ([("CONST", 1), ("ADD_COUNTER", "bonus")], "actions", {}, "not a declared counter"),
        ([("CONST", 1), ("SPEND_COUNTER", "coffee")], "actions", {"counters": []}, "declares no counter"),
        ([("ISSUE_COUPON", "gift")], "actions", {}, "not a declared series"),
        ([("CONST", 1), ("ADD_COUNTER", "coffee")], "condition", {}, "not allowed in a condition block"),
        ([("ISSUE_COUPON",)], "actions", {}, "needs an operand"),
        ([("CONST", "x"), ("ADD_COUNTER", "coffee")], "actions", {}, "expects int on the stack, found str"),
        ([("ADD_COUNTER", "coffee")], "actions", {}, "stack underflow"),
        ([("COUNTER", "coffee")], "condition", {}, "must leave [bool]"),
    ],
)
def test_the_verifier_checks_state_operands(code_: list[tuple[Any, ...]], block: str, state: dict[str, Any],
                                            says: str) -> None:
    with pytest.raises(BundleError) as info:
        load_bundle(with_actions(code_, block, **state))
    assert code(info) == "LOY405" and says in info.value.message, info.value.message


def test_an_operand_must_be_a_string_constant_in_the_pool() -> None:
    p = payload([campaign("x", [("CONST", 7), ("ISSUE_COUPON", "welcome")], account="bonus")], state=FULL_STATE)
    for operand, says in [(999, "no constant 999"), (p["constants"].index(7), "must be the name of a series (a string), "
                                                                               "is int")]:
        p["campaigns"][0]["actions"][1][1] = operand
        with pytest.raises(BundleError, match=re.escape(says)) as info:
            load_bundle(pack_bundle(p))
        assert code(info) == "LOY405"


def test_state_reads_in_predicates_and_audiences_verify() -> None:
    load_bundle(bundle_bytes([campaign(
        "x", [("CONST", 1), ("DISCOUNT_AMOUNT", [("COUNTER", "stickers"), ("CONST", 0), ("GT",)])], account="bonus",
        audience=[("BENEFIT", "multiplier"), ("CONST", 1), ("GT",)])], state=FULL_STATE))


# ------------------------------------------------------------------------------------ generated code


class Recorder:
    """Stand-in pricing functions: record what the generated code asks for."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def rewards(self) -> dict[str, Any]:
        def record(op: str) -> Any:
            return lambda r, ref, *args: self.calls.append((op, ref, *args))

        ops = ("DISCOUNT_LINES", "DISCOUNT_TOTAL", "DISCOUNT_AMOUNT", "DISCOUNT_PER_UNIT", "SET_PRICE", "FREE_UNITS",
               "FREE_CHEAPEST", "COMBO", "ACCRUE_TOTAL", "ACCRUE_FIXED", "ADD_COUNTER", "SPEND_COUNTER",
               "ISSUE_COUPON")
        return {op: record(op) for op in ops}


def view(counters: dict[str, int], balances: dict[str, int], benefits: dict[str, int], receipts: int) -> Any:
    return SimpleNamespace(known=True, id="C1", tier="silver", segments=frozenset(), attrs={}, counters=counters,
                           balances=balances, benefits=benefits, receipts=receipts)


def context(lines: list[Any]) -> Any:
    return SimpleNamespace(match=lambda i: lines, total=0, payable=0, nlines=len(lines))


COFFEE = SimpleNamespace(category="cafe/coffee", units=3)
BREAD = SimpleNamespace(category="bakery", units=1)


def test_state_reads_and_requests_run_against_a_view() -> None:
    bundle = load_bundle(pack_bundle(state_payload()))
    recorder = Recorder()
    program = compile_bundle(bundle, recorder.rewards())
    src = program.source
    assert "cu.counters.get(K" in src and "cu.balances.get(K" in src and "cu.benefits.get(K" in src
    assert "cu.receipts" in src and "R_ISSUE_COUPON(r, K" in src and "R_ADD_COUNTER(r, K" in src
    stamps = program.campaigns[0]
    # enough stamps: spend six, add this receipt's coffees, issue a coupon, accrue the level's cashback
    cu = view({"coffee": 7}, {"credit": 0}, {"cashback": 50000}, 1)
    assert stamps(context([COFFEE, BREAD]), cu) is None
    assert [c[0] for c in recorder.calls] == ["SPEND_COUNTER", "ADD_COUNTER", "ISSUE_COUPON", "ACCRUE_TOTAL"]
    assert recorder.calls[:3] == [("SPEND_COUNTER", "coffee", 6), ("ADD_COUNTER", "coffee", 4),
                                  ("ISSUE_COUPON", "welcome")]
    assert recorder.calls[3][2] == 50000
    # too few stamps: no spend; unknown names read as 0 (no level: no cashback)
    recorder.calls.clear()
    assert stamps(context([]), view({}, {"credit": 0}, {}, 1)) is None
    assert recorder.calls[0] == ("ADD_COUNTER", "coffee", 0) and recorder.calls[-1][2] == 0
    # the condition reads the balance and the purchase count
    recorder.calls.clear()
    assert stamps(context([]), view({}, {"credit": -1}, {}, 1)) == "condition_false"
    assert stamps(context([]), view({}, {}, {}, 0)) == "condition_false"
    assert stamps(context([]), view({}, {}, {}, 1)) is None and recorder.calls


def test_rewards_are_needed_only_for_the_ops_a_bundle_uses() -> None:
    plain = load_bundle(bundle_bytes([campaign("x", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)])]))
    old_engine = {op: fn for op, fn in Recorder().rewards().items()
                  if op not in ("ADD_COUNTER", "SPEND_COUNTER", "ISSUE_COUPON")}
    compile_bundle(plain, old_engine)
    with pytest.raises(BundleError, match="cannot run ADD_COUNTER") as info:
        compile_bundle(load_bundle(pack_bundle(state_payload())), old_engine)
    assert code(info) == "LOY405"


def test_hostile_names_never_become_source_text() -> None:
    hostile = "__import__('os').system('true') or 'x'"
    state = copy.deepcopy(FULL_STATE)
    state["counters"][0]["name"] = hostile
    b = load_bundle(bundle_bytes([campaign("x", [("CONST", 1), ("ADD_COUNTER", hostile)], account="bonus")],
                                 state=state))
    recorder = Recorder()
    program = compile_bundle(b, recorder.rewards())
    assert "__import__" not in program.source
    program.campaigns[0](context([]), view({}, {}, {}, 0))
    assert recorder.calls == [("ADD_COUNTER", hostile, 1)]


def test_the_rt_asm_default_is_the_empty_contract_section() -> None:
    assert payload([])["state"] == STATE == {"accounts": [], "default_account": None, "redemption": None,
                                             "tiers": None, "counters": [], "coupons": [], "certificates": [],
                                             "referral": None}


# ------------------------------------------------------------------------------------ fuzzing

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.integers() | st.text(max_size=6)
    | st.sampled_from(["bonus", "credit", "coffee", "welcome", "never", "after", "end_of", "quarter", "day",
                       "rolling", "money", "points", "chips", "shared"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["kind", "seconds", "period", "next", "name", "count", "per", "amount", "days"]),
        children, max_size=3),
    max_leaves=8,
)


def _paths(value: Any, path: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*path, k))
    elif isinstance(value, list) and not (value and isinstance(value[0], list)):  # not into code
        for i, v in enumerate(value):
            found += _paths(v, (*path, i))
    return found


SAMPLE = state_payload()
STATE_PATHS = _paths(SAMPLE["state"], ("state",)) + [
    ("campaigns", i, key) for i in range(3) for key in ("account", "coupon", "usage_limit", "budget")]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(STATE_PATHS), json_values), min_size=1, max_size=3))
def test_mutated_state_is_rejected_with_a_path_or_loads_whole(changes: list[tuple[tuple[Any, ...], Any]]) -> None:
    """Arbitrary JSON in the state section: a LOY404 naming where, or declarations the JIT compiles."""
    p = copy.deepcopy(SAMPLE)
    for path, value in changes:
        try:
            set_at(p, list(path), value)
        except (KeyError, IndexError, TypeError):
            continue
    try:
        data = pack_bundle(p)
    except TypeError:  # an int key put into an object: not JSON a compiler could write
        return
    try:
        bundle = load_bundle(data)
    except BundleError as exc:
        assert exc.code in ("LOY404", "LOY405", "LOY408") and exc.where
        return
    assert all(c.state.account in {a.name for a in bundle.state.accounts} for c in bundle.campaigns)
    compile_bundle(bundle, Recorder().rewards())
