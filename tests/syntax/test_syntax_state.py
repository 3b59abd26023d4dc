"""The front end of the state declarations (docs/state.md section 1): the AST of every construct, its
diagnostics with file:line:col, keywords that stay contextual, the YAML twin, and both round trips."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyadsl.diagnostics import Diagnostic
from loyadsl.syntax import nodes as n
from loyadsl.syntax.parser import RESERVED_WORDS, parse, parse_setting
from loyadsl.syntax.printer import format_module
from loyadsl.syntax.yaml_twin import parse_yaml, to_yaml

ROOT = Path(__file__).resolve().parents[2]
STATE = Path(__file__).parent / "programmes" / "state.loya"
STATE_TEXT = STATE.read_text(encoding="utf-8")
STATE_DOC = re.search(r"```loya\n(.*?)```", (ROOT / "docs" / "state.md").read_text(encoding="utf-8"), re.S)
LANGUAGE = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")


def ok(text: str) -> n.Module:
    module, diags = parse(text, "s.loya")
    assert diags == [], [f"{d.code} {d.span} {d.message}" for d in diags]
    assert module is not None
    return module


def errors(text: str) -> list[Diagnostic]:
    module, diags = parse(text, "s.loya")
    assert module is None and diags
    return diags


def yaml_ok(text: str) -> n.Module:
    module, diags = parse_yaml(text, "s.yaml")
    assert diags == [], [f"{d.code} {d.span} {d.message}" for d in diags]
    assert module is not None
    return module


def yaml_errors(text: str) -> list[Diagnostic]:
    module, diags = parse_yaml(text, "s.yaml")
    assert module is None and diags
    return diags


def decl(module: n.Module, name: str, kind: type[n.Decl] = n.Decl) -> n.Decl:
    return next(d for d in module.decls if d.name == name and isinstance(d, kind))


def ref(*path: str) -> n.Ref:
    return n.Ref(path)


def sugar(field: str, value: str) -> n.Membership:
    return n.Membership(ref(field), n.SetLit((n.StringLit(value),)))


def days(amount: int) -> n.DurationLit:
    return n.DurationLit(amount, "days")


def rub(amount: str) -> n.MoneyLit:
    return n.MoneyLit(amount, "RUB")


def then(module: n.Module, name: str) -> list[n.Action]:
    campaign = decl(module, name, n.CampaignDecl)
    assert isinstance(campaign, n.CampaignDecl | n.TemplateDecl)
    return [a for c in campaign.clauses if isinstance(c, n.ThenClause) for a in c.actions]


# ---------------------------------------------------------------------------------------------- the AST


def test_the_documented_example_parses_to_these_nodes() -> None:
    assert STATE_DOC is not None
    m = ok(STATE_DOC.group(1))
    assert m.decls == (
        n.AccountDecl("bonus", "Bonuses", activation=days(14), expiry=n.ExpiryRule("after", days(365)),
                      spend_order="soonest_expiring", shortfall="report", notify=days(7), default=True),
        n.AccountDecl("credit", "Credit bonuses", credit=n.PointsLit("500"), repay=n.PercentLit("50")),
        n.RedemptionDecl("redemption", ("bonus", "credit"), n.PercentLit("50"), rub("1.00"),
                         n.Selection(sugar("category", "tobacco")), accrue_on_redeemed=True),
        n.TierLadderDecl("status", "Status", "spend", n.Period("quarter"), tuple(
            n.TierLevel(name, rub(amount), (n.Arg("cashback", n.PercentLit(pct)), n.Arg("multiplier", n.NumberLit(k))))
            for name, amount, pct, k in (("base", "0", "3", "1"), ("silver", "10000", "5", "2"),
                                         ("gold", "30000", "7", "3")))),
        n.CounterDecl("coffee", "counter", "Coffee card", reset="quarter"),
        n.CounterDecl("stickers", "chips", "Knives", earn=n.NumberLit("1"), earn_per=rub("500"),
                      earn_selection=n.Selection(sugar("category", "food")),
                      valid_start=dt.date(2026, 9, 1), valid_end=dt.date(2026, 12, 31)),
        n.CouponSeriesDecl("welcome", "Welcome 10%", "unique", "WEL-", valid_for=days(30), uses=n.NumberLit("1"),
                           per_customer=n.NumberLit("1")),
        n.CertificateDecl("gift", "Gift card", n.SetLit(tuple(n.StringLit(s) for s in ("GC500", "GC1000", "GCFLEX"))),
                          n.ExpiryRule("after", days(365)), multi_use=True),
        n.ReferralDecl("referral", rub("500.00"), n.PointsLit("300"), "bonus", n.PointsLit("200"), "bonus"),
    )


def test_the_language_reference_examples_agree() -> None:
    section = LANGUAGE[LANGUAGE.index("## Customer state"):]
    loya = re.search(r"```loya\n(.*?)```", section, re.S)
    yaml_text = re.search(r"```yaml\n(.*?)```", section[section.index("example above, in YAML:"):], re.S)
    assert loya is not None and yaml_text is not None
    module = ok(loya.group(1))
    from_yaml = yaml_ok(yaml_text.group(1))
    assert from_yaml.decls[:-1] == module.decls
    assert len(module.decls) == 9
    assert then(from_yaml, "welcome_back")[-2:] == [n.CounterAdd(n.NumberLit("1"), "coffee"), n.IssueCoupon("welcome")]


def test_expiry_rules_and_the_other_forms() -> None:
    m = ok(STATE_TEXT)
    expiry = {d.name: d.expiry for d in m.decls if isinstance(d, n.AccountDecl)}
    assert expiry == {
        "bonus": n.ExpiryRule("after", days(365)),
        "credit": n.ExpiryRule("never"),
        "promo": n.ExpiryRule("end_of", period="quarter"),
        "seasonal": n.ExpiryRule("end_of", period="year", next=True),
        "spend": n.ExpiryRule("end_of", period="month"),
    }
    assert decl(m, "seasonal") == n.AccountDecl("seasonal", expiry=expiry["seasonal"], spend_order="newest_first")
    assert decl(m, "summer") == n.CouponSeriesDecl("summer", None, "shared", "SUMMER25",
                                                   valid_start=dt.date(2026, 6, 1), valid_end=dt.date(2026, 8, 31),
                                                   uses=n.NumberLit("1000"))
    assert decl(m, "paper") == n.CertificateDecl("paper", None, ref("gift_skus"), n.ExpiryRule("never"), False)
    assert decl(m, "magnets") == n.CounterDecl("magnets", "chips", reset="year", earn=n.NumberLit("2"),
                                               earn_per=rub("1000.00"), valid_start=dt.date(2026, 1, 1))
    assert decl(m, "visits") == n.CounterDecl("visits", "counter")
    referral = decl(m, "referral")
    assert isinstance(referral, n.ReferralDecl) and referral.newcomer_account is None
    ladder = decl(m, "status")
    assert isinstance(ladder, n.TierLadderDecl)
    assert ladder.levels[2] == n.TierLevel("gold", rub("30000"), (n.Arg("cashback", n.PercentLit("7")),
                                                                  n.Arg("multiplier", n.NumberLit("3"))))
    assert ladder.levels[3] == n.TierLevel("empty", rub("100000"))


def test_rolling_qualification_and_receipts() -> None:
    m = ok("tiers t { qualify receipts over rolling 365 days  level a >= 0 {} level b >= 10 { bonus 1 } }")
    ladder = m.decls[0]
    assert isinstance(ladder, n.TierLadderDecl)
    assert (ladder.measure, ladder.period) == ("receipts", n.Period("rolling", days(365)))
    assert ladder.levels == (n.TierLevel("a", n.NumberLit("0")),
                             n.TierLevel("b", n.NumberLit("10"), (n.Arg("bonus", n.NumberLit("1")),)))


def test_campaign_clauses_and_actions() -> None:
    m = ok(STATE_TEXT)
    promo = decl(m, "promo_points", n.CampaignDecl)
    assert isinstance(promo, n.CampaignDecl)
    assert promo.clauses[1:4] == (n.CouponClause("welcome"), n.LimitClause("applications", n.NumberLit("1"), "customer"),
                                  n.BudgetClause(rub("100000.00")))
    assert then(m, "promo_points")[1:] == [
        n.Accrue(n.PercentLit("5"), n.Target(None), account="promo"),
        n.Accrue(n.PointsLit("100"), n.Target(None), account="promo"),
    ]
    assert then(m, "double") == [n.Accrue(n.NumberLit("2"), n.Target(n.Selection(sugar("category", "coffee"))),
                                          "base_cashback", "promo")]
    assert then(m, "coffee_card") == [
        n.CounterSpend(n.NumberLit("6"), "coffee"),
        n.Discount(n.PercentLit("100"), n.Target(n.Selection(sugar("category", "coffee")))),
        n.CounterAdd(n.Aggregate("units", n.Selection(sugar("category", "coffee"))), "coffee"),
    ]
    issue, tiers = then(m, "welcome_issue")
    assert issue == n.IssueCoupon("welcome")
    assert isinstance(tiers, n.Tiers) and tiers.branches[0].actions == (n.CounterAdd(n.NumberLit("1"), "coffee"),)
    assert tiers.branches[1].actions == (n.IssueCoupon("welcome"),)
    double = decl(m, "double", n.CampaignDecl)
    assert isinstance(double, n.CampaignDecl) and double.clauses[1] == n.BudgetClause(n.PointsLit("1000000"))


def test_state_names_read_as_references() -> None:
    m = ok(STATE_TEXT)
    coffee = decl(m, "coffee_card", n.CampaignDecl)
    assert isinstance(coffee, n.CampaignDecl) and isinstance(coffee.clauses[1], n.WhenClause)
    assert coffee.clauses[1].condition == n.BoolOp("and", (
        n.Compare(">=", ref("counter", "coffee"), n.NumberLit("5")),
        n.Compare(">=", ref("chips", "stickers"), n.NumberLit("10")),
        n.Compare(">", ref("balance", "bonus"), n.PointsLit("0")),
    ))
    assert then(m, "base_cashback") == [n.Accrue(ref("tier", "cashback"), n.Target(None))]
    stamps = decl(m, "stamps", n.CampaignDecl)
    assert isinstance(stamps, n.CampaignDecl) and stamps.uses is not None
    assert stamps.uses.args == (n.Arg("n", ref("counter", "coffee")),)


def test_spans_point_at_the_setting() -> None:
    m = ok(STATE_TEXT)
    bonus = decl(m, "bonus")
    assert isinstance(bonus, n.AccountDecl) and bonus.span is not None and bonus.expiry is not None
    assert (bonus.span.line, bonus.span.col) == (11, 1)
    assert bonus.expiry.span is not None and (bonus.expiry.span.line, bonus.expiry.span.col) == (13, 12)
    ladder = decl(m, "status")
    assert isinstance(ladder, n.TierLadderDecl)
    gold = ladder.levels[2]
    assert gold.span is not None and (gold.span.line, gold.span.col, gold.span.end_line) == (45, 5, 49)
    assert gold.benefits[1].span is not None and (gold.benefits[1].span.line, gold.benefits[1].span.col) == (48, 9)


def test_keywords_stay_contextual() -> None:
    # Every new word names a list, a group, a campaign, a parameter, a part, a benefit or a field elsewhere.
    words = ["account", "redemption", "tiers", "counter", "chips", "coupons", "certificates", "referral",
             "activation", "expiry", "spend", "credit", "repay", "shortfall", "notify", "default", "accounts",
             "share", "payment", "exclude", "redeemed", "qualify", "over", "rolling", "level", "reset", "earn",
             "code", "unique", "shared", "uses", "customer", "sold", "multi", "single", "use", "referrer",
             "newcomer", "coupon", "budget", "add", "issue", "to", "from", "never", "end", "next", "month", "quarter",
             "year", "soonest_expiring", "report"]
    lists = "\n".join(f'strings {w} = ["x"]' for w in words)
    uses = " or ".join(f"{w} == 1" for w in words)
    parts = "\n".join(f"            {w}: 1 of lines where sku in {w}" for w in words[:20])
    benefits = "  ".join(f"{w} {w}.x" for w in words)
    text = f"""{lists}
group spend {{ priority 1 stacking stack_all basis original }}
template credit(counter: count, tiers: money) {{ when counter.coffee >= counter and tiers > 0 RUB }}
tiers status {{ qualify spend over year  level default >= 0 RUB {{ {benefits} }} }}
campaign account uses credit(counter = chips.stickers, tiers = balance.bonus * 1) {{
    group spend
    audience customer.receipts > 0 and customer.tier == "gold"
    when {uses}
    limit 1 per quarter
    then tiers tier.cashback {{
        >= 5%: combo {{
{parts}
        }} discount 5% on referral
    }}
}}
"""
    m = ok(text)
    assert [d.name for d in m.decls[:len(words)]] == words
    ladder = decl(m, "status", n.TierLadderDecl)
    assert isinstance(ladder, n.TierLadderDecl)
    assert [b.name for b in ladder.levels[0].benefits] == words
    assert all(b.value == ref(b.name, "x") for b in ladder.levels[0].benefits)
    campaign = decl(m, "account", n.CampaignDecl)
    assert isinstance(campaign, n.CampaignDecl) and campaign.clauses[3] == n.LimitClause(
        "applications", n.NumberLit("1"), "quarter")
    [tiers] = then(m, "account")
    assert isinstance(tiers, n.Tiers) and isinstance(tiers.branches[0].actions[0], n.Combo)
    assert [p.name for p in tiers.branches[0].actions[0].parts] == words[:20]
    assert parse(format_module(m))[0] == m
    assert parse_yaml(to_yaml(m))[0] == m


def test_a_level_threshold_on_its_own_line_is_not_a_tier_branch() -> None:
    m = ok("tiers t {\n    qualify spend over year\n    level a\n    >= 1 RUB { x 1 }\n}\n"
           "campaign c {\n    then tiers receipt.total {\n        >= 1 RUB: issue w\n    }\n}\n")
    ladder, campaign = m.decls
    assert isinstance(ladder, n.TierLadderDecl) and ladder.levels[0].threshold == rub("1")
    assert isinstance(campaign, n.CampaignDecl)


def test_parse_setting_parses_one_setting_for_the_yaml_twin() -> None:
    assert parse_setting("account", "expiry", "end of next quarter") == (
        ("expiry", {"expiry": n.ExpiryRule("end_of", period="quarter", next=True)}), [])
    assert parse_setting("coupons", "valid", "2026-06-01 ..") == (
        ("valid", {"valid_start": dt.date(2026, 6, 1), "valid_end": None}), [])
    assert parse_setting("tiers", "qualify", "receipts over month") == (
        ("qualify", {"measure": "receipts", "period": n.Period("month")}), [])
    assert parse_setting("redemption", "accrue on redeemed", "") == (
        ("accrue on redeemed", {"accrue_on_redeemed": True}), [])
    result, [d] = parse_setting("chips", "earn", "1 per", "f.yaml", 3, 11)
    assert result is None and (d.code, str(d.span)) == ("LOY102", "f.yaml:3:16")
    result, [d] = parse_setting("counter", "earn", "1 per 100 RUB", "f.yaml", 3, 11)
    assert result is None and (d.code, str(d.span), d.hint) == ("LOY101", "f.yaml:3:11", "expected `reset`")


# ---------------------------------------------------------------------------------------------- diagnostics


@pytest.mark.parametrize(("text", "expected", "message"), [
    ("account b {\n    activaton 14 days\n}\n", "LOY101 s.loya:2:5", "unexpected `activaton`"),
    ("account b {\n    expiry\n}\n", "LOY101 s.loya:3:1", "unexpected `}`"),
    ("account b {\n    expiry end of week\n}\n", "LOY101 s.loya:2:19", "unexpected `week`"),
    ("account b {\n    spend fastest\n}\n", "LOY101 s.loya:2:11", "unexpected `fastest`"),
    ("account b {\n    shortfall ignore\n}\n", "LOY101 s.loya:2:15", "unexpected `ignore`"),
    ("account b {\n    expiry 1 days\n    expiry never\n}\n", "LOY213 s.loya:3:5",
     "`expiry` appears twice in account `b`"),
    ("account and { }\n", "LOY104 s.loya:1:9", "`and` is a reserved word and cannot name an account"),
    ("account b { activation 1.5 days }\n", "LOY103 s.loya:1:24", "a duration is a whole number of days, not `1.5`"),
    ("account b {\n    reset month\n}\n", "LOY101 s.loya:2:5", "unexpected `reset`"),
    ("redemption {\n    accounts\n}\n", "LOY101 s.loya:3:1", "unexpected `}`"),
    ("redemption {\n    max 50%\n}\n", "LOY101 s.loya:2:9", "unexpected `50%`"),
    ("redemption { accrue on receipt }\n", "LOY101 s.loya:1:24", "unexpected `receipt`"),
    ("redemption { exclude category \"x\" }\n", "LOY101 s.loya:1:22", "unexpected `category`"),
    ("redemption { max share 1%  max share 2% }\n", "LOY213 s.loya:1:28", "`max share` appears twice in `redemption`"),
    ("tiers s {\n    level base >= 0 RUB { cashback 3% }\n}\n", "LOY101 s.loya:2:5", "unexpected `level`"),
    ("tiers s {\n    qualify spend over week\n}\n", "LOY101 s.loya:2:24", "unexpected `week`"),
    ("tiers s { qualify visits over year }\n", "LOY101 s.loya:1:19", "unexpected `visits`"),
    ("tiers s { qualify spend over year  level a > 1 RUB {} }\n", "LOY101 s.loya:1:44", "unexpected `>`"),
    ("tiers s { qualify spend over year  level a >= 1 RUB { cashback } }\n", "LOY101 s.loya:1:64",
     "unexpected `}`"),
    ("tiers s { qualify spend over year  level not >= 1 RUB {} }\n", "LOY104 s.loya:1:42",
     "`not` is a reserved word and cannot name a tier level"),
    ("counter c { earn 1 per 100 RUB }\n", "LOY101 s.loya:1:13", "unexpected `earn`"),
    ("counter c { reset week }\n", "LOY101 s.loya:1:19", "unexpected `week`"),
    ("chips s { valid 2026-13-01 .. }\n", "LOY103 s.loya:1:17", "`2026-13-01` is not a valid date"),
    ("chips s { earn 1 of lines }\n", "LOY101 s.loya:1:18", "unexpected `of`"),
    ("chips s { reset year  reset month }\n", "LOY213 s.loya:1:23", "`reset` appears twice in chips `s`"),
    ("coupons c { code 'X' }\n", "LOY100 s.loya:1:18", "unexpected character `'`"),
    ("coupons c { code unique }\n", "LOY101 s.loya:1:25", "unexpected `}`"),
    ("coupons c { code unique \"A\\q\" }\n", "LOY103 s.loya:1:27", "bad escape `\\q` in a string"),
    ("coupons c { valid 30 days valid 2026-01-01 .. }\n", "LOY213 s.loya:1:27", "`valid` appears twice"),
    ("coupons c { per 1 }\n", "LOY101 s.loya:1:17", "unexpected `1`"),
    ("certificates g { multi }\n", "LOY101 s.loya:1:24", "unexpected `}`"),
    ("certificates g { sold [\"A\"] }\n", "LOY101 s.loya:1:23", "unexpected `[`"),
    ("certificates g { multi use  single use }\n", "LOY213 s.loya:1:29", "`use` appears twice"),
    ("referral { referrer 300 points to }\n", "LOY101 s.loya:1:35", "unexpected `}`"),
    ("referral { bonus 1 }\n", "LOY101 s.loya:1:12", "unexpected `bonus`"),
    ("campaign c { group g then add 1 coffee }\n", "LOY101 s.loya:1:33", "unexpected `coffee`"),
    ("campaign c { group g then spend 1 to coffee }\n", "LOY101 s.loya:1:35", "unexpected `to`"),
    ("campaign c { group g then issue }\n", "LOY101 s.loya:1:33", "unexpected `}`"),
    ("campaign c { group g coupon }\n", "LOY101 s.loya:1:29", "unexpected `}`"),
    ("campaign c { group g budget }\n", "LOY101 s.loya:1:29", "unexpected `}`"),
    ("campaign c { group g then accrue 1 points to }\n", "LOY101 s.loya:1:46", "unexpected `}`"),
    ("campaign c { group g then accrue 1 points to a to b }\n", "LOY101 s.loya:1:48", "unexpected `to`"),
    ("campaign c { account a { } }\n", "LOY101 s.loya:1:14", "unexpected `account`"),
    ("account b {\n", "LOY102 s.loya:2:1", "unexpected end of input"),
])
def test_each_error_at_its_position(text: str, expected: str, message: str) -> None:
    first = errors(text)[0]
    assert f"{first.code} {first.span}" == expected
    assert message in first.message


def test_a_misspelt_setting_suggests_the_closest_and_lists_the_rest() -> None:
    [d] = errors("account b {\n    activaton 14 days\n}\n")
    assert d.hint == ("did you mean `activation`? (expected one of: `}`, `activation`, `credit`, `default`, "
                      "`expiry`, `notify`, `repay`, `shortfall`, `spend`)")
    [d] = errors("coupons c { uses 1  per costumer 1 }\n")
    assert d.hint == "did you mean `customer`? (expected `customer`)"


def test_several_errors_resynchronise_at_each_state_declaration() -> None:
    text = ("account a {\n    activaton 1 days\n}\nredemption {\n    max 5%\n}\ntiers t {\n    level x >= 1 {}\n}\n"
            "counter c { earn 1 }\nchips d { valid 2026-01-01 }\ncoupons e { code x }\n"
            "certificates f { multi }\nreferral { qualify }\ncampaign g { coupon }\n")
    found = [f"{d.code} {d.span}" for d in errors(text)]
    assert found == ["LOY101 s.loya:2:5", "LOY101 s.loya:5:9", "LOY101 s.loya:8:5", "LOY101 s.loya:10:13",
                     "LOY101 s.loya:11:28", "LOY101 s.loya:12:18", "LOY101 s.loya:13:24", "LOY101 s.loya:14:20",
                     "LOY101 s.loya:15:21"]


def test_a_reference_at_the_start_of_a_line_is_no_restart_point() -> None:
    # `counter.coffee` starting a line is an expression, not a declaration to resynchronise at.
    text = "campaign a {\n    when x >\ncounter.coffee and @\n}\ncampaign b { when 1 }\n"
    assert [f"{d.code} {d.span}" for d in errors(text)] == ["LOY100 s.loya:3:20"]


# ---------------------------------------------------------------------------------------------- round trips


def test_the_state_programme_round_trips_both_ways() -> None:
    m = ok(STATE_TEXT)
    text = format_module(m)
    assert ok(text) == m and format_module(ok(text)) == text
    yaml_text = to_yaml(m)
    assert yaml_ok(yaml_text) == m and to_yaml(yaml_ok(yaml_text)) == yaml_text


def test_formatting_is_canonical() -> None:
    m = ok('account  b "B"{default expiry end of  next quarter activation 1 days}\n'
           "tiers t{qualify spend over rolling 30 days level a>=0 RUB{x 1 y 2%}level b >= 5 RUB{}}\n"
           'coupons w { per customer 1 uses 2 valid ..2026-01-01 code unique "" }\n'
           "certificates g { expiry never }\n"
           "campaign c { then accrue 1% on receipt to b spend 1 from k add 2 to k issue w budget 5 points }\n")
    assert format_module(m) == (
        'account b "B" {\n'
        "    activation 1 days\n"
        "    expiry end of next quarter\n"
        "    default\n"
        "}\n\n"
        "tiers t {\n"
        "    qualify spend over rolling 30 days\n"
        "    level a >= 0 RUB { x 1  y 2% }\n"
        "    level b >= 5 RUB {}\n"
        "}\n\n"
        "coupons w {\n"
        "    valid .. 2026-01-01\n"
        "    uses 2\n"
        "    per customer 1\n"
        "}\n\n"
        "certificates g {\n"
        "    expiry never\n"
        "    multi use\n"
        "}\n\n"
        "campaign c {\n"
        "    then accrue 1% on receipt to b\n"
        "        spend 1 from k\n"
        "        add 2 to k\n"
        "        issue w\n"
        "    budget 5 points\n"
        "}\n"
    )


SECTIONS_YAML = """\
accounts:
  - name: bonus
    title: Bonuses
    activation: 14 days
    expiry: end of quarter
    default: true
  - {name: credit, credit: 500 points, repay: 50%}
redemption:
  accounts: [bonus, credit]
  max share: 50%
  exclude: lines where category "tobacco"
  accrue on redeemed: false
tiers:
  name: status
  qualify: spend over rolling 365 days
  levels:
    - {level: base, threshold: 0 RUB}
    - level: gold
      threshold: 30000 RUB
      benefits: {cashback: 7%, multiplier: 3}
counters:
  - {counter: coffee, title: Coffee card, reset: quarter}
  - {chips: stickers, earn: 1 per 500 RUB, valid: 2026-09-01 .. 2026-12-31}
coupons:
  - {name: welcome, code: unique "WEL-", valid: 30 days, uses: 1, per customer: 1}
certificates:
  - {name: gift, sold skus: [GC500, "007"], use: single}
  - {name: paper, sold skus: gift_skus}
referral: {qualify: 500.00 RUB, referrer: 300 points to bonus}
campaigns:
  - name: c
    coupon: welcome
    budget: 1000 points
    limit: 1 per week
    then:
      - [accrue 5% on receipt to credit, add 1 to coffee, spend 1 from stickers, issue welcome]
"""

SECTIONS_LOYA = """\
account bonus "Bonuses" { activation 14 days  expiry end of quarter  default }
account credit { credit 500 points  repay 50% }
redemption { accounts bonus, credit  max share 50%  exclude lines where category "tobacco" }
tiers status {
    qualify spend over rolling 365 days
    level base >= 0 RUB {}
    level gold >= 30000 RUB { cashback 7%  multiplier 3 }
}
counter coffee "Coffee card" { reset quarter }
chips stickers { earn 1 per 500 RUB  valid 2026-09-01 .. 2026-12-31 }
coupons welcome { code unique "WEL-"  valid 30 days  uses 1  per customer 1 }
certificates gift { sold skus ["GC500", "007"]  single use }
certificates paper { sold skus gift_skus }
referral { qualify 500.00 RUB  referrer 300 points to bonus }
campaign c {
    coupon welcome
    budget 1000 points
    limit 1 per week
    then accrue 5% on receipt to credit add 1 to coffee spend 1 from stickers issue welcome
}
"""


def test_the_yaml_sections_give_the_same_ast_as_the_loya_text() -> None:
    module = yaml_ok(SECTIONS_YAML)
    assert module == ok(SECTIONS_LOYA)
    written = to_yaml(module)
    assert "\nredemption:\n  accounts: [bonus, credit]\n" in written  # one redemption: a mapping
    assert "\nreferral:\n  qualify: 500.00 RUB\n" in written
    assert "\ntiers:\n  name: status\n" in written
    assert "  - {counter: coffee, title: Coffee card, reset: quarter}\n" in written
    assert "    sold skus: [GC500, '007']\n    use: single\n" in written
    assert "    uses: 1\n    per customer: 1\n" in written  # whole numbers are not quoted
    assert "\n    - {level: gold, threshold: 30000 RUB, benefits: {cashback: 7%, multiplier: 3}}\n" in written
    assert yaml_ok(written) == module


def test_single_sections_may_be_lists_and_declarations_keep_the_order() -> None:
    text = ("redemption:\n  - {max share: 10%}\n  - {max share: 20%}\nreferral: []\n"
            "declarations:\n  - referral: {qualify: 1.00 RUB}\n  - counter: {chips: s}\n  - tiers: {name: t, "
            "qualify: receipts over month}\n")
    module = yaml_ok(text)
    assert module.decls == (n.RedemptionDecl("redemption", max_share=n.PercentLit("10")),
                            n.RedemptionDecl("redemption", max_share=n.PercentLit("20")),
                            n.ReferralDecl("referral", rub("1.00")), n.CounterDecl("s", "chips"),
                            n.TierLadderDecl("t", None, "receipts", n.Period("month"), ()))
    assert yaml_ok(to_yaml(module)) == module
    assert parse(format_module(module))[0] == module


@pytest.mark.parametrize(("text", "expected", "message"), [
    ("accounts:\n  - {name: b, activaton: 1 days}\n", "LOY106 s.yaml:2:15", "unknown key `activaton` in an account"),
    ("accounts:\n  - {name: b, default: yes}\n", "LOY106 s.yaml:2:24", "`default` is `true` or `false`, not `yes`"),
    ("accounts:\n  - {name: b, expiry: end of week}\n", "LOY101 s.yaml:2:30", "unexpected `week`"),
    ("accounts:\n  - {name: b, spend: [a]}\n", "LOY106 s.yaml:2:22", "`spend` must be a single value"),
    ("accounts:\n  - {title: b}\n", "LOY106 s.yaml:2:5", "an account has no `name`"),
    ("accounts:\n  - {name: and}\n", "LOY104 s.yaml:2:12", "`and` is a reserved word"),
    ("redemption: {accounts: []}\n", "LOY106 s.yaml:1:24", "`accounts` lists at least one item"),
    ("redemption: {accounts: bonus credit}\n", "LOY101 s.yaml:1:30", "unexpected `credit`"),
    ("redemption: {name: r}\n", "LOY106 s.yaml:1:14", "unknown key `name` in `redemption`"),
    ("tiers: {name: t}\n", "LOY106 s.yaml:1:8", "a tier ladder has no `qualify`"),
    ("tiers: {name: t, qualify: spend over week}\n", "LOY101 s.yaml:1:38", "unexpected `week`"),
    ("tiers: {name: t, qualify: spend over year, levels: [{level: a}]}\n", "LOY106 s.yaml:1:53",
     "a tier level has no `threshold`"),
    ("tiers: {name: t, qualify: spend over year, levels: [{level: a, threshold: 1 RUB, benefits: {x: 5 %%}}]}\n",
     "LOY100 s.yaml:1:99", "unexpected character `%`"),
    ("counters:\n  - {counter: c, earn: 1 per 1 RUB}\n", "LOY106 s.yaml:2:18", "a counter has no `earn`"),
    ("counters:\n  - {name: c}\n", "LOY106 s.yaml:2:6", "unknown key `name` in a counter"),
    ("counters:\n  - {reset: year}\n", "LOY106 s.yaml:2:5", "a counter states its kind and name once"),
    ("counters:\n  - {chips: s, valid: 2026-01-01}\n", "LOY102 s.yaml:2:33", "unexpected end of input"),
    ("coupons:\n  - {name: w, per customer: x y}\n", "LOY101 s.yaml:2:31", "unexpected `y`"),
    ("certificates:\n  - {name: g, use: double}\n", "LOY106 s.yaml:2:20", "`use` is `multi` or `single`"),
    ("certificates:\n  - {name: g, sold skus: [[A]]}\n", "LOY106 s.yaml:2:27", "an item of `sold skus` must be a single value"),
    ("referral: {referrer: 1 points to}\n", "LOY102 s.yaml:1:33", "unexpected end of input"),
    ("campaigns:\n  - {name: c, coupon: a b}\n", "LOY101 s.yaml:2:25", "unexpected `b`"),
    ("declarations:\n  - counters: {counter: c}\n", "LOY106 s.yaml:2:5", "unknown declaration `counters`"),
])
def test_each_yaml_error_at_its_position(text: str, expected: str, message: str) -> None:
    first = yaml_errors(text)[0]
    assert f"{first.code} {first.span}" == expected
    assert message in first.message


# ---------------------------------------------------------------------------------------------- properties

names = st.from_regex(r"[a-z_][a-z0-9_]{0,5}", fullmatch=True).filter(
    lambda s: s not in RESERVED_WORDS and s not in ("never", "end"))  # `expiry never` is the keyword
amounts = st.from_regex(r"[0-9]{1,4}(\.[0-9]{1,2})?", fullmatch=True)
strings = st.text(max_size=6)
refs = st.lists(names, min_size=1, max_size=2).map(lambda p: n.Ref(tuple(p)))
values: st.SearchStrategy[n.Expr] = st.one_of(
    amounts.map(n.NumberLit), amounts.map(lambda a: n.MoneyLit(a, "RUB")), amounts.map(n.PointsLit),
    amounts.map(n.PercentLit), st.builds(n.DurationLit, st.integers(0, 999), st.sampled_from(["days", "hours"])),
    refs, st.builds(n.BinOp, st.sampled_from(["+", "-", "*"]), refs, amounts.map(n.NumberLit)),
    st.builds(n.Unary, st.just("-"), refs), st.builds(n.Compare, st.just(">="), refs, refs),
    st.builds(n.Aggregate, st.sampled_from(["sum", "units"]), st.one_of(st.none(), refs).map(n.Selection)),
)
maybe = st.one_of(st.none(), values)
titles = st.one_of(st.none(), strings)
dates = st.one_of(st.none(), st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)))
periods3 = st.sampled_from(["month", "quarter", "year"])
expiry = st.one_of(st.none(), st.just(n.ExpiryRule("never")), values.map(lambda v: n.ExpiryRule("after", v)),
                   st.builds(lambda p, nxt: n.ExpiryRule("end_of", period=p, next=nxt), periods3, st.booleans()))
selections = st.one_of(st.none(), values).map(n.Selection)


def _counter(name: str, kind: str, title: str | None, reset: str | None, earn: tuple[n.Expr, n.Expr] | None,
             selection: n.Selection | None, start: dt.date | None, end: dt.date | None) -> n.CounterDecl:
    if kind == "counter":
        return n.CounterDecl(name, kind, title, reset)
    return n.CounterDecl(name, kind, title, reset, earn[0] if earn else None, earn[1] if earn else None,
                         selection if earn else None, start, end)


def _coupons(name: str, title: str | None, code: tuple[str, str], valid_for: n.Expr | None, start: dt.date | None,
             end: dt.date | None, uses: n.Expr | None, per_customer: n.Expr | None) -> n.CouponSeriesDecl:
    if valid_for is not None:
        start = end = None
    return n.CouponSeriesDecl(name, title, code[0], code[1], valid_for, start, end, uses, per_customer)


state_decls = st.one_of(
    st.builds(n.AccountDecl, names, titles, maybe, expiry,
              st.one_of(st.none(), st.sampled_from(["soonest_expiring", "oldest_first", "newest_first"])), maybe,
              maybe, st.one_of(st.none(), st.sampled_from(["report", "negative", "other_lots"])), maybe,
              st.booleans()),
    st.builds(n.RedemptionDecl, st.just("redemption"), st.lists(names, max_size=3).map(tuple), maybe, maybe,
              st.one_of(st.none(), selections), st.booleans()),
    st.builds(n.TierLadderDecl, names, titles, st.sampled_from(["spend", "receipts"]),
              st.one_of(periods3.map(n.Period), values.map(lambda v: n.Period("rolling", v))),
              st.lists(st.builds(n.TierLevel, names, values,
                                 st.lists(st.builds(n.Arg, names, values), max_size=3).map(tuple)),
                       max_size=3).map(tuple)),
    st.builds(_counter, names, st.sampled_from(["counter", "chips"]), titles,
              st.one_of(st.none(), st.sampled_from(["never", "month", "quarter", "year"])),
              st.one_of(st.none(), st.tuples(values, values)), st.one_of(st.none(), selections), dates, dates),
    st.builds(_coupons, names, titles, st.tuples(st.sampled_from(["unique", "shared"]), strings), maybe, dates,
              dates, maybe, maybe),
    st.builds(n.CertificateDecl, names, titles,
              st.one_of(st.none(), refs.map(lambda r: n.Ref(r.path[:1])),
                        st.lists(strings.map(n.StringLit), max_size=3).map(lambda i: n.SetLit(tuple(i)))),
              expiry, st.booleans()),
    st.builds(lambda qualify, referrer, to, newcomer, to2: n.ReferralDecl(
        "referral", qualify, referrer, to if referrer else None, newcomer, to2 if newcomer else None),
        maybe, maybe, st.one_of(st.none(), names), maybe, st.one_of(st.none(), names)),
)
state_actions: st.SearchStrategy[n.Action] = st.one_of(
    st.builds(n.Accrue, values.filter(lambda v: not isinstance(v, n.PointsLit)),
              st.one_of(st.none(), selections).map(n.Target), st.none(), st.one_of(st.none(), names)),
    st.builds(n.Accrue, amounts.map(n.NumberLit), st.one_of(st.none(), selections).map(n.Target), names,
              st.one_of(st.none(), names)),
    st.builds(n.CounterAdd, values, names),
    st.builds(n.CounterSpend, values, names),
    st.builds(n.IssueCoupon, names),
)
state_clauses = st.one_of(
    names.map(n.CouponClause), values.map(n.BudgetClause),
    st.builds(n.LimitClause, st.just("applications"), values,
              st.sampled_from(["receipt", "day", "week", "month", "quarter", "year", "customer"])),
    st.lists(state_actions, min_size=1, max_size=3).map(lambda a: n.ThenClause(tuple(a))),
)
campaigns = st.builds(n.CampaignDecl, names, titles, st.lists(state_clauses, max_size=4).map(tuple))
state_modules = st.lists(st.one_of(state_decls, campaigns), max_size=5).map(lambda d: n.Module(None, (), tuple(d)))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(state_modules)
def test_any_state_module_round_trips_through_both_syntaxes(module: n.Module) -> None:
    text = format_module(module)
    again, diags = parse(text)
    assert diags == [], (text, diags)
    assert again == module, text
    assert format_module(again) == text
    yaml_text = to_yaml(module)
    from_yaml, diags = parse_yaml(yaml_text)
    assert diags == [], (yaml_text, diags)
    assert from_yaml == module, yaml_text


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """The state programme with a few slices deleted, duplicated, swapped or a token inserted."""
    text = STATE_TEXT
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 40)))
        operation = draw(st.sampled_from(["delete", "duplicate", "swap", "insert"]))
        if operation == "delete":
            text = text[:i] + text[j:]
        elif operation == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        elif operation == "swap":
            k = draw(st.integers(j, min(len(text), j + 40)))
            text = text[:i] + text[j:k] + text[i:j] + text[k:]
        else:
            text = text[:i] + draw(st.sampled_from([
                "{", "}", ">=", "\n>= ", "level", "tiers", "expiry", "end of", "never", "to", "from", "..",
                "2026-02-30", "default", "use", "accrue", "counter.", '"', "\n"])) + text[i:]
    return text


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutations_of_the_state_programme_never_crash(text: str) -> None:
    module, diags = parse(text, "fuzz.loya")
    assert (module is None) == bool(diags)
    for d in diags:
        assert d.code.startswith("LOY1") or d.code == "LOY213"
        assert d.span is not None and d.span.line >= 1 and d.span.col >= 1
    if module is not None:
        formatted = format_module(module)
        assert parse(formatted)[0] == module
        assert parse_yaml(to_yaml(module))[0] == module
