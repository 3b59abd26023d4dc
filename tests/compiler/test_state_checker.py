"""The checker, IR and bundle writer for customer state (docs/state.md sections 1 and 2).

Programmes are built as AST by hand (header and plain campaigns parsed from text), so these tests do
not depend on the state syntax; ``test_the_docs_example_parses_and_checks`` runs the docs' own text
once the parser reads it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from loyadsl.check.checker import check
from loyadsl.check.resolve import LoadedFile, build_symbols
from loyadsl.compile import ir
from loyadsl.compile.bundle_writer import build_payload, write_bundle
from loyadsl.diagnostics import Diagnostic, Span
from loyadsl.runtime import load_bundle
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
from loyadsl.runtime.opcodes import OPCODES
from loyadsl.syntax import nodes as n
from loyadsl.syntax.parser import parse

ROOT = Path(__file__).resolve().parents[2]
HEADER = """programme "T" {
    currency RUB minor 2
    points minor 0 value 1.00 RUB
    timezone "Europe/Moscow"
}
group g "G" {
    priority 1
    stacking stack_all
    basis original
}
"""


# ------------------------------------------------------------------------------------ AST builders


def at(line: int, col: int = 1) -> Span:
    return Span("t.loya", line, col, line, col + 5)


def rub(amount: str) -> n.MoneyLit:
    return n.MoneyLit(amount, "RUB")


def pts(amount: str) -> n.PointsLit:
    return n.PointsLit(amount)


def pct(value: str) -> n.PercentLit:
    return n.PercentLit(value)


def days(amount: int) -> n.DurationLit:
    return n.DurationLit(amount, "days")


def num(text: str) -> n.NumberLit:
    return n.NumberLit(text)


def ref(*path: str, span: Span | None = None) -> n.Ref:
    return n.Ref(path, span=span)


def category(name: str) -> n.Selection:
    return n.Selection(n.Membership(ref("category"), n.SetLit((n.StringLit(name),))))


def accrue(value: n.Expr, account: str | None = None, span: Span | None = None) -> n.Accrue:
    return n.Accrue(value, n.Target(None), account=account, span=span)


def campaign(name: str, *clauses: n.Clause, span: Span | None = None) -> n.CampaignDecl:
    return n.CampaignDecl(name, None, (n.GroupClause("g"), *clauses), span=span)


def then(*actions: n.Action) -> n.ThenClause:
    return n.ThenClause(actions)


def level(name: str, threshold: n.Expr, span: Span | None = None, **benefits: n.Expr) -> n.TierLevel:
    return n.TierLevel(name, threshold, tuple(n.Arg(k, v, span=v.span) for k, v in benefits.items()), span=span)


BONUS = n.AccountDecl("bonus", title="Bonuses", activation=days(14), expiry=n.ExpiryRule("after", days(365)),
                      spend_order="soonest_expiring", notify=days(7), shortfall="report", default=True)
CREDIT = n.AccountDecl("credit", title="Credit bonuses", credit=pts("500"), repay=pct("50"))
REDEMPTION = n.RedemptionDecl("redemption", accounts=("bonus", "credit"), max_share=pct("50"),
                              min_payment=rub("1.00"), exclude=category("tobacco"), accrue_on_redeemed=True)
STATUS = n.TierLadderDecl("status", "Status", "spend", n.Period("quarter"), (
    level("base", rub("0"), cashback=pct("3"), multiplier=num("1")),
    level("silver", rub("10000"), cashback=pct("5"), multiplier=num("2")),
    level("gold", rub("30000"), cashback=pct("7"), multiplier=num("3")),
))
COFFEE = n.CounterDecl("coffee", "counter", title="Coffee card", reset="quarter")
STICKERS = n.CounterDecl("stickers", "chips", title="Knives", earn=num("1"), earn_per=rub("500"),
                         earn_selection=category("food"), valid_start=dt.date(2026, 9, 1),
                         valid_end=dt.date(2026, 12, 31))
WELCOME = n.CouponSeriesDecl("welcome", title="Welcome 10%", code_kind="unique", code="WEL-", valid_for=days(30),
                             uses=num("1"), per_customer=num("1"))
GIFT = n.CertificateDecl("gift", title="Gift card", skus=n.SetLit(tuple(n.StringLit(s) for s in
                                                                        ("GC500", "GC1000", "GCFLEX"))),
                         expiry=n.ExpiryRule("after", days(365)), multi_use=True)
REFERRAL = n.ReferralDecl("referral", qualify=rub("500.00"), referrer=pts("300"), referrer_account="bonus",
                          newcomer=pts("200"), newcomer_account="bonus")
DOCS_EXAMPLE: tuple[n.Decl, ...] = (BONUS, CREDIT, REDEMPTION, STATUS, COFFEE, STICKERS, WELCOME, GIFT, REFERRAL)


def run(*decls: n.Decl, text: str = "") -> tuple[ir.Programme | None, list[Diagnostic]]:
    """Check HEADER + text (parsed) with ``decls`` appended as if they were written after it."""
    module, diags = parse(HEADER + text, "t.loya")
    assert module is not None, [str(d) for d in diags]
    module = replace(module, decls=(*module.decls, *decls))
    table, symbol_diags = build_symbols([LoadedFile("t.loya", None, HEADER + text, module)])
    programme, check_diags = check(table)
    diags = symbol_diags + check_diags
    return (None if any(d.is_error for d in diags) else programme), diags  # as api.check_text


def ok(*decls: n.Decl, text: str = "") -> ir.Programme:
    programme, diags = run(*decls, text=text)
    assert programme is not None and not [d for d in diags if d.is_error], [str(d) for d in diags]
    return programme


def errors(*decls: n.Decl, text: str = "") -> list[Diagnostic]:
    programme, diags = run(*decls, text=text)
    found = [d for d in diags if d.is_error]
    assert found and programme is None
    return found


def the_error(code: str, *decls: n.Decl, text: str = "") -> Diagnostic:
    found = errors(*decls, text=text)
    assert [d.code for d in found] == [code], [str(d) for d in found]
    return found[0]


# ------------------------------------------------------------------------------------ the docs example

CAMPAIGNS = (
    campaign("base_cashback", then(accrue(ref("tier", "cashback")))),
    campaign("coffee_card", n.WhenClause(n.Compare(">=", ref("counter", "coffee"), num("6"))),
             then(n.CounterSpend(num("6"), "coffee"), n.Discount(pct("100"), n.Target(category("coffee"))))),
    campaign("coffee_stamp", then(n.CounterAdd(n.Aggregate("units", category("coffee")), "coffee"))),
    campaign("welcome_offer", n.CouponClause("welcome"), n.LimitClause("applications", num("1"), "customer"),
             n.BudgetClause(rub("100000.00")), then(n.Discount(pct("10"), n.Target(None)))),
    campaign("promo", n.LimitClause("applications", num("2"), "day"), n.BudgetClause(pts("1000000")),
             n.WhenClause(n.BoolOp("and", (
                 n.Compare(">=", ref("balance", "bonus"), pts("100")),
                 n.Compare(">=", ref("customer", "receipts"), num("3"))))),
             then(accrue(pct("5"), "credit"), n.IssueCoupon("welcome"))),
)


def test_the_docs_example_checks_into_state_ir() -> None:
    programme = ok(*DOCS_EXAMPLE, *CAMPAIGNS)
    s = programme.state
    assert s.accounts == (
        Account("bonus", "Bonuses", 14 * 86400, Expiry("after", seconds=365 * 86400), "soonest_expiring", 0,
                1_000_000, "report", 7 * 86400),
        Account("credit", "Credit bonuses", credit=500, repay=500_000),
    )
    assert s.default_account == "bonus"
    assert s.redemption is not None and s.redemption.accounts == ("bonus", "credit")
    assert (s.redemption.max_share, s.redemption.min_payment, s.redemption.accrue_on_redeemed) == (500_000, 100, True)
    assert s.tiers == Tiers("status", "Status", "spend", TierPeriod("quarter"), (
        Level("base", 0, {"cashback": 30_000, "multiplier": 1}),
        Level("silver", 1_000_000, {"cashback": 50_000, "multiplier": 2}),
        Level("gold", 3_000_000, {"cashback": 70_000, "multiplier": 3}),
    ))
    assert [(c.name, c.kind, c.reset, c.valid) for c in s.counters] == [
        ("coffee", "counter", "quarter", None), ("stickers", "chips", "never", (739860, 739981))]
    assert s.counters[1].earn is not None and (s.counters[1].earn.count, s.counters[1].earn.per) == (1, 50_000)
    assert s.coupons == (CouponSeries("welcome", "Welcome 10%", "unique", "WEL-", 30 * 86400, None, 1, 1),)
    assert s.certificates == (CertificateSeries("gift", "Gift card", frozenset({"GC500", "GC1000", "GCFLEX"}),
                                                Expiry("after", seconds=365 * 86400), True),)
    assert s.referral == Referral(50_000, 300, "bonus", 200, "bonus")
    by_name = {c.name: c for c in programme.campaigns}
    assert by_name["base_cashback"].account == "bonus"  # without `to`: the default account
    assert by_name["coffee_card"].account == "bonus"  # accrues nothing: still the default account
    assert by_name["promo"].account == "credit"
    assert by_name["welcome_offer"].coupon == "welcome"
    assert by_name["welcome_offer"].usage_limit == UsageLimit(1, "customer")
    assert by_name["welcome_offer"].budget == Budget("money", 10_000_000)
    assert by_name["promo"].usage_limit == UsageLimit(2, "day") and by_name["promo"].budget == Budget("points",
                                                                                                       1_000_000)


def test_state_reads_and_requests_compile_to_the_new_instructions() -> None:
    payload = build_payload(ok(*DOCS_EXAMPLE, *CAMPAIGNS))
    consts = payload["constants"]
    campaigns = {c["name"]: c for c in payload["campaigns"]}

    def ops(code: list[list[Any]]) -> list[Any]:
        return [[i[0], consts[i[1]]] if i[0] in NAMED else i for i in code]

    NAMED = {"COUNTER", "BALANCE", "BENEFIT", "ADD_COUNTER", "SPEND_COUNTER", "ISSUE_COUPON"}
    assert ops(campaigns["base_cashback"]["actions"])[:2] == [["BENEFIT", "cashback"], ["ACCRUE_TOTAL", 0]]
    assert ops(campaigns["coffee_card"]["condition"])[0] == ["COUNTER", "coffee"]
    assert ["SPEND_COUNTER", "coffee"] in ops(campaigns["coffee_card"]["actions"])
    assert ops(campaigns["coffee_stamp"]["actions"])[1] == ["ADD_COUNTER", "coffee"]
    promo = ops(campaigns["promo"]["condition"])
    assert ["BALANCE", "bonus"] in promo and ["CUSTOMER", "receipts"] in promo
    assert ops(campaigns["promo"]["actions"])[-2] == ["ISSUE_COUPON", "welcome"]
    assert campaigns["promo"]["cost"]["fixed"] == sum(
        OPCODES[i[0]].cost for i in (*campaigns["promo"]["condition"], *campaigns["promo"]["actions"]))
    # a campaign that changes state runs whatever the lines: never skipped by needed SKUs
    assert campaigns["coffee_stamp"]["footprint"]["needs_skus"] is None


def test_payload_state_section_is_exactly_the_contract() -> None:
    programme = ok(
        n.AccountDecl("bonus", title="Bonuses", activation=days(14), expiry=n.ExpiryRule("after", days(365)),
                      notify=days(7)),
        n.RedemptionDecl("redemption", accounts=("bonus",), max_share=pct("50"), min_payment=rub("1.00"),
                         exclude=category("tobacco")),
        n.TierLadderDecl("status", "Status", "spend", n.Period("quarter"),
                         (level("base", rub("0"), cashback=pct("3")),)),
        n.CounterDecl("coffee", "counter"),
        STICKERS,
        n.CouponSeriesDecl("welcome", code="WEL-", valid_for=days(30), per_customer=num("1")),
        n.CertificateDecl("gift", skus=n.SetLit((n.StringLit("GC500"),)), multi_use=True),
        n.ReferralDecl("referral", qualify=rub("500.00"), referrer=pts("300"), newcomer=pts("200")),
        campaign("c", n.LimitClause("applications", num("1"), "day"), n.BudgetClause(pts("1000")),
                 then(n.Discount(pct("1"), n.Target(None)))),
    )
    payload = build_payload(programme)
    predicates = payload["predicates"]
    state = payload["state"]
    exclude, earn = state["redemption"]["exclude"], state["counters"][1]["earn"]["predicate"]
    assert predicates[exclude][:3] == [["LINE", "category"], ["CONST", payload["constants"].index(
        {"set": ["tobacco"]})], ["CATEGORY_IN"]]
    assert predicates[earn][1] == ["CONST", payload["constants"].index({"set": ["food"]})]
    assert state == {
        "accounts": [{"name": "bonus", "title": "Bonuses", "activation": 1209600,
                      "expiry": {"kind": "after", "seconds": 31536000},
                      "spend": "soonest_expiring", "credit": 0, "repay": 1000000,
                      "shortfall": "report", "notify": 604800}],
        "default_account": "bonus",
        "redemption": {"accounts": ["bonus"], "max_share": 500000, "min_payment": 100,
                       "exclude": exclude, "accrue_on_redeemed": False},
        "tiers": {"name": "status", "title": "Status", "measure": "spend",
                  "period": {"kind": "quarter", "days": None},
                  "levels": [{"name": "base", "threshold": 0, "benefits": {"cashback": 30000}}]},
        "counters": [{"name": "coffee", "title": None, "kind": "counter", "reset": "never",
                      "earn": None, "valid": None},
                     {"name": "stickers", "title": "Knives", "kind": "chips", "reset": "never",
                      "earn": {"count": 1, "per": 50000, "predicate": earn}, "valid": [739860, 739981]}],
        "coupons": [{"name": "welcome", "title": None, "code": "unique", "text": "WEL-",
                     "valid_for": 2592000, "valid": None, "uses": 1, "per_customer": 1}],
        "certificates": [{"name": "gift", "title": None, "skus": ["GC500"],
                          "expiry": {"kind": "never"}, "multi_use": True}],
        "referral": {"qualify": 50000, "referrer": 300, "referrer_account": "bonus",
                     "newcomer": 200, "newcomer_account": "bonus"},
    }
    [c] = payload["campaigns"]
    assert (c["account"], c["coupon"], c["usage_limit"], c["budget"]) == (
        "bonus", None, {"count": 1, "per": "day"}, {"kind": "points", "amount": 1000})
    assert payload["manifest"]["format_version"] == 2


def test_a_programme_without_state_has_an_empty_section() -> None:
    payload = build_payload(ok(text="campaign c {\n    group g\n    then accrue 3% on receipt\n}\n"))
    assert payload["state"] == {"accounts": [], "default_account": None, "redemption": None, "tiers": None,
                                "counters": [], "coupons": [], "certificates": [], "referral": None}
    [c] = payload["campaigns"]
    assert (c["account"], c["coupon"], c["usage_limit"], c["budget"]) == (None, None, None, None)


def test_default_account_is_the_first_without_a_mark() -> None:
    programme = ok(n.AccountDecl("promo"), n.AccountDecl("bonus"), campaign("c", then(accrue(pct("1")))))
    assert programme.state.default_account == "promo" and programme.campaigns[0].account == "promo"
    marked = ok(n.AccountDecl("promo"), n.AccountDecl("bonus", default=True), campaign("c", then(accrue(pct("1")))))
    assert marked.state.default_account == "bonus" and marked.campaigns[0].account == "bonus"


def test_end_of_period_expiry_rolling_tiers_receipt_ladders_and_number_benefits() -> None:
    programme = ok(
        n.AccountDecl("bonus", expiry=n.ExpiryRule("end_of", period="quarter", next=True)),
        n.TierLadderDecl("status", None, "receipts", n.Period("rolling", days(365)), (
            level("base", num("0"), multiplier=num("1")),
            level("vip", num("10"), multiplier=num("1.5")),
        )),
        n.CouponSeriesDecl("summer", code_kind="shared", code="SUMMER25", valid_start=dt.date(2026, 6, 1),
                           valid_end=dt.date(2026, 8, 31)),
        campaign("c", n.WhenClause(n.Compare(">", ref("tier", "multiplier"), num("1"))),
                 then(n.Discount(pct("1"), n.Target(None)))),
    )
    assert programme.state.accounts[0].expiry == Expiry("end_of", period="quarter", next=True)
    tiers = programme.state.tiers
    assert tiers is not None and tiers.period == TierPeriod("rolling", 365)
    # a whole number next to one with decimals: both are numbers (thousandths)
    assert [lv.benefits for lv in tiers.levels] == [{"multiplier": 1000}, {"multiplier": 1500}]
    assert [lv.threshold for lv in tiers.levels] == [0, 10]
    coupon = programme.state.coupons[0]
    assert (coupon.code, coupon.text, coupon.valid) == ("shared", "SUMMER25", (739768, 739859))
    payload = build_payload(programme)
    assert payload["state"]["accounts"][0]["expiry"] == {"kind": "end_of", "period": "quarter", "next": True}
    assert payload["state"]["tiers"]["period"] == {"kind": "rolling", "days": 365}


def test_written_bundle_loads_into_the_runtime_declarations() -> None:
    programme = ok(*DOCS_EXAMPLE, *CAMPAIGNS)
    bundle = load_bundle(write_bundle(programme))
    s = bundle.state
    assert s == StateDecls(
        accounts=programme.state.accounts,
        default_account="bonus",
        redemption=Redemption(("bonus", "credit"), 500_000, 100, s.redemption.exclude if s.redemption else None,
                              True),
        tiers=programme.state.tiers,
        counters=(Counter("coffee", "Coffee card", "counter", "quarter"),
                  Counter("stickers", "Knives", "chips", "never",
                          Earn(1, 50_000, s.counters[1].earn.predicate if s.counters[1].earn else -1),
                          (739860, 739981))),
        coupons=programme.state.coupons,
        certificates=programme.state.certificates,
        referral=programme.state.referral,
    )
    assert s.redemption is not None and s.redemption.exclude is not None
    assert bundle.predicates[s.redemption.exclude][0] == ("LINE", "category")
    by_name = {c.name: c.state for c in bundle.campaigns}
    assert by_name["welcome_offer"] == CampaignState("bonus", "welcome", UsageLimit(1, "customer"),
                                                     Budget("money", 10_000_000))
    assert by_name["promo"] == CampaignState("credit", None, UsageLimit(2, "day"), Budget("points", 1_000_000))
    assert by_name["base_cashback"] == CampaignState("bonus")


# ------------------------------------------------------------------------------------ diagnostics


def test_unknown_account_in_accrue_suggests_the_closest() -> None:
    d = the_error("LOY201", BONUS, campaign("c", then(accrue(pct("1"), "bonsu", span=at(30, 10)))))
    assert d.span == at(30, 10) and d.hint == "did you mean `bonus`?" and "bonsu" in d.message


def test_accrue_to_a_counter_says_what_it_is() -> None:
    d = the_error("LOY201", BONUS, COFFEE, campaign("c", then(accrue(pct("1"), "coffee", span=at(31)))))
    assert d.span == at(31) and d.hint is not None and "counter" in d.hint and "add N to coffee" in d.hint


def test_accrue_to_an_account_without_accounts_says_to_declare_it() -> None:
    d = the_error("LOY201", campaign("c", then(accrue(pct("1"), "bonus", span=at(32)))))
    assert d.hint == "declare it: `account bonus { }`"


@pytest.mark.parametrize(
    ("action", "hint"),
    [
        (n.CounterAdd(num("1"), "cofee", span=at(40)), "did you mean `coffee`?"),
        (n.CounterSpend(num("1"), "stikers", span=at(40)), "did you mean `stickers`?"),
        (n.CounterAdd(num("1"), "bonus", span=at(40)), "`bonus` is an account: points are added with "
                                                       "`accrue ... to bonus`"),
        (n.IssueCoupon("welcom", span=at(40)), "did you mean `welcome`?"),
    ],
)
def test_state_actions_need_declared_names(action: n.Action, hint: str) -> None:
    d = the_error("LOY201", BONUS, COFFEE, STICKERS, WELCOME, campaign("c", then(action)))
    assert d.span == at(40) and d.hint == hint


def test_coupon_clause_needs_a_declared_series() -> None:
    d = the_error("LOY201", WELCOME, campaign("c", n.CouponClause("welcom", span=at(41)),
                                              then(n.Discount(pct("1"), n.Target(None)))))
    assert d.span == at(41) and d.hint == "did you mean `welcome`?"


@pytest.mark.parametrize(
    ("expr", "says", "hint"),
    [
        (ref("counter", "stickers", span=at(50)), "`stickers` is declared as chips, not as counter",
         "write `chips.stickers`"),
        (ref("chips", "cofee", span=at(50)), "unknown chips `cofee`", "did you mean `coffee`?"),
        (ref("balance", "bonsu", span=at(50)), "unknown account `bonsu`", "did you mean `bonus`?"),
        (ref("tier", "cashbak", span=at(50)), "unknown tier benefit `cashbak`", "did you mean `cashback`?"),
    ],
)
def test_state_reads_need_declared_names(expr: n.Expr, says: str, hint: str) -> None:
    d = the_error("LOY201", BONUS, COFFEE, STICKERS, STATUS,
                  campaign("c", n.WhenClause(n.Compare(">=", expr, num("1"))),
                           then(n.Discount(pct("1"), n.Target(None)))))
    assert d.span == at(50) and says in d.message and d.hint == hint


def test_tier_benefit_without_a_ladder() -> None:
    d = the_error("LOY201", campaign("c", then(n.Discount(ref("tier", "cashback", span=at(51)), n.Target(None)))))
    assert d.span == at(51) and d.hint is not None and "declares no `tiers`" in d.hint


def test_state_reads_have_their_types() -> None:
    # tier.cashback is a percent: comparing it with money is LOY203; balance is points
    d = the_error("LOY203", BONUS, STATUS, campaign("c", n.WhenClause(
        n.Compare(">=", ref("tier", "cashback"), rub("1.00"), span=at(52))), then(n.Discount(pct("1"),
                                                                                            n.Target(None)))))
    assert d.span == at(52)
    the_error("LOY203", BONUS, campaign("c", n.WhenClause(n.Compare(">=", ref("balance", "bonus"), rub("1.00"))),
                                        then(n.Discount(pct("1"), n.Target(None)))))
    ok(BONUS, STATUS, campaign("c", then(n.Discount(ref("tier", "cashback"), n.Target(None)))))
    ok(COFFEE, campaign("c", n.WhenClause(n.Compare(">=", ref("counter", "coffee"), num("6"))),
                        then(n.Discount(pct("1"), n.Target(None)))))


def test_a_campaign_accrues_into_one_account() -> None:
    promo = n.AccountDecl("promo")
    d = the_error("LOY219", BONUS, promo, campaign("c", then(accrue(pct("1"), "bonus"),
                                                             accrue(pct("2"), "promo", span=at(60)))))
    assert d.span == at(60) and "`bonus` and `promo`" in d.message
    # without `to` an accrual goes to the default account: with `to promo` beside it, that is two
    the_error("LOY219", BONUS, promo, campaign("c", then(accrue(pct("1")), accrue(pct("2"), "promo"))))
    # inside tiers branches too
    tiers = n.Tiers(ref("receipt", "total"), (
        n.TierBranch(">=", rub("100.00"), (accrue(pct("2"), "promo"),)),
        n.TierBranch(">=", rub("10.00"), (accrue(pct("1"), "bonus", span=at(61)),)),
    ))
    assert the_error("LOY219", BONUS, promo, campaign("c", then(tiers))).span == at(61)
    assert ok(BONUS, promo, campaign("c", then(accrue(pct("1"), "bonus"), accrue(pct("2"))))).campaigns[0].account \
        == "bonus"


def test_only_one_ladder_redemption_referral_and_default_account() -> None:
    second = n.TierLadderDecl("other", None, "spend", n.Period("year"), (level("a", rub("0")),), span=at(70))
    d = the_error("LOY216", STATUS, second)
    assert d.span == at(70) and "`tiers`" in d.message
    assert the_error("LOY216", BONUS, CREDIT, REDEMPTION, replace(REDEMPTION, span=at(71))).span == at(71)
    assert the_error("LOY216", BONUS, REFERRAL, replace(REFERRAL, span=at(72))).span == at(72)
    d = the_error("LOY216", BONUS, n.AccountDecl("promo", default=True, span=at(73)))
    assert d.span == at(73) and "`bonus`" in d.message


def test_state_names_have_a_namespace_per_kind() -> None:
    assert the_error("LOY205", COFFEE, n.CounterDecl("coffee", "chips", span=at(74))).span == at(74)
    assert the_error("LOY205", BONUS, replace(BONUS, span=at(75))).span == at(75)
    # a coupon series, a counter and a campaign may share a name
    ok(WELCOME, n.CounterDecl("welcome", "counter"), n.AccountDecl("welcome"),
       campaign("welcome", then(n.IssueCoupon("welcome"), n.CounterAdd(num("1"), "welcome"))))


def test_tier_levels_ascend_strictly() -> None:
    ladder = n.TierLadderDecl("status", None, "spend", n.Period("quarter"), (
        level("base", rub("0")), level("silver", rub("100"), span=at(80)),
        level("gold", n.MoneyLit("100", "RUB", span=at(81)))))
    d = the_error("LOY217", ladder)
    assert d.span == at(81) and "`gold` must need more than level `silver`" in d.message


def test_tier_levels_declare_the_same_benefits_with_the_same_types() -> None:
    missing = n.TierLadderDecl("status", None, "spend", n.Period("quarter"), (
        level("base", rub("0"), cashback=pct("3"), multiplier=num("1")),
        level("silver", rub("100"), span=at(82), cashback=pct("5"))))
    d = the_error("LOY218", missing)
    assert d.span == at(82) and "`multiplier`" in d.message
    extra = n.TierLadderDecl("status", None, "spend", n.Period("quarter"), (
        level("base", rub("0"), cashback=pct("3")),
        level("silver", rub("100"), cashback=pct("5"), bonus=n.PointsLit("5", span=at(83)))))
    assert the_error("LOY218", extra).span == at(83)
    typed = n.TierLadderDecl("status", None, "spend", n.Period("quarter"), (
        level("base", rub("0"), cashback=pct("3")),
        level("silver", rub("100"), cashback=n.MoneyLit("5", "RUB", span=at(84)))))
    d = the_error("LOY218", typed)
    assert d.span == at(84) and "percent" in d.message and "money" in d.message


@pytest.mark.parametrize(
    ("decl", "code", "says"),
    [
        (n.AccountDecl("a", activation=n.NumberLit("14", span=at(90))), "LOY203", "bare number"),
        (n.AccountDecl("a", activation=n.MoneyLit("14", "RUB", span=at(90))), "LOY202", "duration"),
        (n.AccountDecl("a", credit=n.PercentLit("5", span=at(90))), "LOY202", "points"),
        (n.AccountDecl("a", repay=n.PercentLit("150", span=at(90))), "LOY207", "at most 100%"),
        (n.AccountDecl("a", expiry=n.ExpiryRule("after", n.DurationLit(0, "days", span=at(90)))), "LOY207",
         "at least"),
        (n.AccountDecl("a", spend_order="newest", span=at(90)), "LOY207", "spending order"),
        (n.AccountDecl("a", expiry=n.ExpiryRule("end_of", period="week", span=at(90))), "LOY207", "period"),
        (n.CounterDecl("c", "counter", reset="daily", span=at(90)), "LOY207", "reset period"),
        (n.CounterDecl("c", "chips", earn=num("1"), earn_per=n.PointsLit("5", span=at(90))), "LOY202", "money"),
        (n.CounterDecl("c", "chips", valid_start=dt.date(2026, 2, 1), valid_end=dt.date(2026, 1, 1), span=at(90)),
         "LOY207", "ends before"),
        (n.CouponSeriesDecl("s", code_kind="shared", span=at(90)), "LOY207", "empty shared code"),
        (n.CouponSeriesDecl("s", uses=n.NumberLit("0", span=at(90))), "LOY207", "at least 1"),
        (n.CouponSeriesDecl("s", valid_for=n.PointsLit("5", span=at(90))), "LOY202", "duration"),
        (n.CertificateDecl("g", span=at(90)), "LOY210", "which SKUs"),
        (n.CertificateDecl("g", skus=n.Ref(("nope",), span=at(90))), "LOY201", "nope"),
        (n.ReferralDecl("referral", referrer=n.MoneyLit("5", "RUB", span=at(90))), "LOY202", "points"),
        (n.ReferralDecl("referral", referrer=pts("5"), span=at(90)), "LOY201", "no account"),
        (n.RedemptionDecl("redemption", span=at(90)), "LOY201", "no account"),
        (n.RedemptionDecl("redemption", accounts=("bonsu",), span=at(90)), "LOY201", "bonsu"),
        (n.TierLadderDecl("t", None, "visits", n.Period("quarter"), (level("a", rub("0")),), span=at(90)), "LOY207",
         "tier measure"),
        (n.TierLadderDecl("t", None, "receipts", n.Period("quarter"), (level("a", n.MoneyLit("0", "RUB", span=at(90))),
                                                                       )), "LOY202", "count"),
        (n.TierLadderDecl("t", None, "spend", n.Period("rolling", n.DurationLit(36, "hours", span=at(90))),
                          (level("a", rub("0")),)), "LOY207", "whole number of days"),
        (n.TierLadderDecl("t", None, "spend", n.Period("quarter"), (), span=at(90)), "LOY207", "no level"),
    ],
)
def test_declaration_values_are_typed_and_in_range(decl: n.Decl, code: str, says: str) -> None:
    d = the_error(code, decl)
    assert d.span == at(90) and says in d.message, str(d)


@pytest.mark.parametrize(
    ("clauses", "code", "says"),
    [
        ((n.LimitClause("applications", num("1"), "fortnight", span=at(91)),), "LOY207", "fortnight"),
        ((n.LimitClause("points", num("1"), "day", span=at(91)),), "LOY207", "per receipt only"),
        ((n.LimitClause("applications", n.NumberLit("0", span=at(91)), "day"),), "LOY207", "at least one"),
        ((n.LimitClause("applications", num("1"), "day"), n.LimitClause("applications", num("1"), "week",
                                                                         span=at(91))), "LOY213", "twice"),
        ((n.BudgetClause(n.PercentLit("5", span=at(91))),), "LOY202", "money or points"),
        ((n.BudgetClause(n.Unary("-", rub("5"), span=at(91))),), "LOY207", "positive"),
        ((n.BudgetClause(rub("5")), n.BudgetClause(rub("6"), span=at(91))), "LOY213", "`budget` appears twice"),
        ((n.CouponClause("welcome"), n.CouponClause("welcome", span=at(91))), "LOY213", "`coupon` appears twice"),
    ],
)
def test_campaign_state_clauses(clauses: tuple[n.Clause, ...], code: str, says: str) -> None:
    d = the_error(code, WELCOME, campaign("c", *clauses, then(n.Discount(pct("1"), n.Target(None)))))
    assert d.span == at(91) and says in d.message, str(d)


def test_limits_per_receipt_and_per_period_live_side_by_side() -> None:
    c = ok(campaign("c", n.LimitClause("applications", num("2"), "receipt"),
                    n.LimitClause("applications", num("1"), "week"),
                    then(n.FreeCheapest(num("1"), n.Selection(None))))).campaigns[0]
    assert c.limit_applications == 2 and c.usage_limit == UsageLimit(1, "week")


@pytest.mark.parametrize(
    ("action", "code"),
    [
        (n.CounterAdd(rub("1.00"), "coffee"), "LOY202"),  # a count, not money
        (n.CounterSpend(n.NumberLit("0"), "coffee"), "LOY207"),
        (n.CounterAdd(n.Unary("-", num("2")), "coffee"), "LOY207"),
    ],
)
def test_counter_amounts_are_positive_counts(action: n.Action, code: str) -> None:
    the_error(code, COFFEE, campaign("c", then(action)))


def test_customer_receipts_is_a_count() -> None:
    the_error("LOY203", campaign("c", n.WhenClause(n.Compare(">=", ref("customer", "receipts"), rub("1.00"))),
                                 then(n.Discount(pct("1"), n.Target(None)))))


# ------------------------------------------------------------------------------------ from source text

DOCS = (ROOT / "docs" / "state.md").read_text(encoding="utf-8")
DOCS_BLOCK = re.search(r"```loya\n(.*?)```", DOCS, re.S)
assert DOCS_BLOCK is not None
HEADER_ONLY = 'programme "T" {\n    currency RUB minor 2\n    timezone "Europe/Moscow"\n}\n'
STATE_SYNTAX = parse(HEADER_ONLY + DOCS_BLOCK.group(1), "state.loya")[0] is not None


@pytest.mark.skipif(not STATE_SYNTAX, reason="the parser does not read the state declarations yet")
def test_the_docs_example_parses_and_checks() -> None:
    from loyadsl.api import check_text

    result = check_text(HEADER_ONLY + DOCS_BLOCK.group(1), "state.loya")
    assert result.ok, [str(d) for d in result.diagnostics]
    assert result.programme is not None
    s = result.programme.state
    assert [a.name for a in s.accounts] == ["bonus", "credit"] and s.default_account == "bonus"
    assert s.tiers is not None and [lv.name for lv in s.tiers.levels] == ["base", "silver", "gold"]
    assert s.tiers.levels[1].benefits == {"cashback": 50_000, "multiplier": 2}
    assert [c.name for c in s.counters] == ["coffee", "stickers"]
    payload = json.loads(json.dumps(build_payload(result.programme)))
    assert payload["state"]["coupons"][0]["valid_for"] == 30 * 86400


CAMPAIGNS_TEXT = """
group g "G" {
    priority 1
    stacking stack_all
    basis original
}
campaign base_cashback {
    group g
    then accrue tier.cashback on receipt
}
campaign coffee_card {
    group g
    when counter.coffee >= 6
    then spend 6 from coffee
        discount 100% on lines where category in ["coffee"]
}
campaign coffee_stamp {
    group g
    then add units(lines where category in ["coffee"]) to coffee
}
campaign welcome_offer {
    group g
    coupon welcome
    limit 1 per customer
    budget 100000.00 RUB
    then discount 10% on receipt
}
campaign promo {
    group g
    limit 2 per day
    budget 1000000 points
    when balance.bonus >= 100 points and customer.receipts >= 3
    then accrue 5% on receipt to credit
        issue welcome
}
"""


def _without_spans(payload: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in payload.items() if k != "manifest"}
    out["campaigns"] = [{k: v for k, v in c.items() if k != "span"} for c in payload["campaigns"]]
    return out


@pytest.mark.skipif(not STATE_SYNTAX, reason="the parser does not read the state declarations yet")
def test_source_text_and_hand_built_ast_give_the_same_bundle() -> None:
    from loyadsl.api import check_text

    text = HEADER.split("group g")[0] + DOCS_BLOCK.group(1) + CAMPAIGNS_TEXT
    result = check_text(text, "state.loya")
    assert result.ok and result.programme is not None, [str(d) for d in result.diagnostics]
    assert result.programme.state == ok(*DOCS_EXAMPLE, *CAMPAIGNS).state
    assert _without_spans(build_payload(result.programme)) == _without_spans(build_payload(
        ok(*DOCS_EXAMPLE, *CAMPAIGNS)))


def test_a_multiplier_of_a_tier_cashback_reads_the_level_at_run_time() -> None:
    def double(factor: str) -> n.CampaignDecl:
        return campaign("double", then(n.Accrue(num(factor), n.Target(None), multiplier_of="base_cashback")))

    payload = build_payload(ok(BONUS, STATUS, CAMPAIGNS[0], double("2")))
    benefit = payload["constants"].index("cashback")
    assert payload["campaigns"][1]["actions"][:2] == [["BENEFIT", benefit], ["ACCRUE_TOTAL", 0]]  # (2 - 1) x rate
    triple = build_payload(ok(BONUS, STATUS, CAMPAIGNS[0], double("3")))["campaigns"][1]["actions"]
    assert [i[0] for i in triple[:4]] == ["BENEFIT", "CONST", "MUL", "ACCRUE_TOTAL"]
    half = build_payload(ok(BONUS, STATUS, CAMPAIGNS[0], double("1.5")))["campaigns"][1]["actions"]
    assert half[2] == ["MULDIV", [1000, "floor"]]
