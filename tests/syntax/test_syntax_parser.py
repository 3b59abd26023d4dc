"""The .loya parser: the AST it builds (spot checks over a corpus that uses every construct), every
diagnostic it emits with its file:line:col, several errors per run, and the limits."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from loyadsl.diagnostics import Diagnostic
from loyadsl.syntax import nodes as n
from loyadsl.syntax import parser
from loyadsl.syntax.parser import parse, parse_actions, parse_clause, parse_expression, parse_template_use

PROGRAMMES = Path(__file__).parent / "programmes"


def load(name: str) -> n.Module:
    module, diags = parse((PROGRAMMES / name).read_text(encoding="utf-8"), name)
    assert diags == [], [str(d.span) + " " + d.message for d in diags]
    assert module is not None
    return module


def decl(module: n.Module, name: str) -> n.Decl:
    return next(d for d in module.decls if d.name == name)


def clauses(module: n.Module, name: str) -> tuple[n.Clause, ...]:
    found = decl(module, name)
    assert isinstance(found, n.CampaignDecl | n.TemplateDecl)
    return found.clauses


def actions(module: n.Module, name: str) -> list[n.Action]:
    return [a for c in clauses(module, name) if isinstance(c, n.ThenClause) for a in c.actions]


def conditions(module: n.Module, name: str) -> list[n.Expr]:
    return [c.condition for c in clauses(module, name) if isinstance(c, n.WhenClause)]


def ref(*path: str) -> n.Ref:
    return n.Ref(path)


def sugar(field: str, value: str) -> n.Membership:
    return n.Membership(ref(field), n.SetLit((n.StringLit(value),)))


def lines(predicate: n.Expr | None = None) -> n.Selection:
    return n.Selection(predicate)


# ---------------------------------------------------------------------------------------------- the AST


def test_header_imports_and_lists() -> None:
    m = load("romashka.loya")
    assert m.header == n.Header(
        name="Ромашка", version="2025.1", currency="RUB", minor=2, points_minor=0,
        point_value=n.MoneyLit("1.00", "RUB"), timezone="Europe/Moscow",
        rounding=(n.Rounding("discount", "floor"), n.Rounding("points", "half_even")),
        allocation="largest_remainder",
    )
    assert [i.path for i in m.imports] == ["std:n_plus_one", "lists.loya"]
    assert decl(m, "n_plus_one") == n.ListDecl("n_plus_one", "skus", items=("SKU00001", "SKU00002"))
    assert decl(m, "premium") == n.ListDecl("premium", "skus", source=n.CsvSource("premium.csv", "sku"))
    assert decl(m, "own") == n.ListDecl("own", "brands", items=("BR045", "BR057"))  # bare words are strings
    assert decl(m, "online") == n.ListDecl("online", "channels", items=("web", "app"))  # trailing comma
    assert decl(m, "nothing") == n.ListDecl("nothing", "strings", items=())


def test_groups() -> None:
    m = load("romashka.loya")
    assert decl(m, "base") == n.GroupDecl("base", "Базовые скидки", 100, "stack_all", None, "original")
    assert decl(m, "two") == n.GroupDecl("two", None, 90, "stack_up_to", 2, "discounted")
    assert decl(m, "best") == n.GroupDecl("best", "Лучшее для клиента", 70, "best_for_customer", None, "original")
    assert decl(m, "least") == n.GroupDecl("least", None, -1, "lowest_discount", None, "original")


def test_the_documented_campaign_in_full() -> None:
    m = load("romashka.loya")
    assert decl(m, "happy_dairy") == n.CampaignDecl("happy_dairy", "Счастливые часы: молочка −10%", (
        n.GroupClause("base"),
        n.PriorityClause(10),
        n.ValidClause(dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
        n.WeekdaysClause(("mon", "tue", "wed", "thu", "fri")),
        n.HoursClause(dt.time(10), dt.time(16)),
        n.SetFilterClause("stores", ref("moscow")),
        n.SetFilterClause("channels", n.SetLit((n.StringLit("pos"),))),
        n.AudienceClause(ref("customer", "known")),
        n.WhenClause(n.Compare(">=", ref("receipt", "total"), n.MoneyLit("1000.00", "RUB"))),
        n.ThenClause((n.Discount(n.PercentLit("10"), n.Target(lines(sugar("category", "dairy")))),)),
    ))


def test_spans_are_one_based_and_end_exclusive() -> None:
    m = load("romashka.loya")
    campaign = decl(m, "happy_dairy")
    assert isinstance(campaign, n.CampaignDecl)
    when = campaign.clauses[8]
    assert isinstance(when, n.WhenClause) and when.span is not None
    assert (when.span.file, when.span.line, when.span.col) == ("romashka.loya", 45, 5)
    assert isinstance(when.condition, n.Compare) and when.condition.right.span is not None
    money = when.condition.right.span
    assert (money.line, money.col, money.end_line, money.end_col) == (45, 27, 45, 38)  # `1000.00 RUB`


def test_discounts_and_prices() -> None:
    m = load("actions.loya")
    assert actions(m, "receipt_level") == [
        n.Discount(n.PercentLit("2.5"), n.Target(None)),
        n.Discount(n.MoneyLit("100.00", "RUB"), n.Target(None)),
        n.Discount(n.MoneyLit("50", "RUB"), n.Target(lines(sugar("brand", "BR007")))),  # ₽ is RUB
    ]
    [per_unit] = actions(m, "per_unit")
    assert isinstance(per_unit, n.Discount) and per_unit.per_unit and per_unit.value == n.MoneyLit("20.00", "RUB")
    assert actions(m, "price_override") == [
        n.PriceOverride(n.MoneyLit("39.90", "RUB"), lines(sugar("category", "beverages/water"))),
        n.PriceOverride(n.MoneyLit("9.99", "EUR"), lines()),
    ]
    assert clauses(m, "per_unit")[-1] == n.LimitClause("applications", n.NumberLit("5"))


def test_free_units_combos_tiers() -> None:
    m = load("actions.loya")
    assert actions(m, "three_for_two") == [
        n.FreeUnits(n.NumberLit("1"), n.NumberLit("3"), lines(n.Membership(ref("sku"), ref("n_plus_one")))),
        n.FreeUnits(n.NumberLit("2"), n.BinOp("+", ref("n"), n.NumberLit("1")), lines()),
    ]
    assert actions(m, "cheapest") == [
        n.FreeCheapest(n.NumberLit("1"), lines(sugar("category", "sweets"))),
        n.FreeCheapest(n.NumberLit("2"), lines(sugar("category", "sweets"))),
    ]
    first, second, third = actions(m, "combos")
    assert first == n.Combo((
        n.ComboPart("coffee", n.NumberLit("1"), lines(sugar("category", "cafe/coffee"))),
        n.ComboPart("croissant", n.NumberLit("2"), lines(sugar("category", "cafe/croissant"))),
    ), "percent_on_part", n.PercentLit("50"), "croissant")
    assert isinstance(second, n.Combo) and (second.reward, second.value, second.part) == (
        "amount_per_set", n.MoneyLit("100.00", "RUB"), None)
    assert isinstance(third, n.Combo) and (third.reward, third.value) == ("set_price", n.MoneyLit("199.00", "RUB"))
    [tiers] = actions(m, "tiered")
    assert isinstance(tiers, n.Tiers) and tiers.subject == ref("receipt", "total")
    top, middle, bottom = tiers.branches
    assert (top.op, top.threshold) == (">=", n.MoneyLit("5000.00", "RUB"))
    assert top.actions == (n.Discount(n.MoneyLit("500.00", "RUB"), n.Target(None)),
                           n.Accrue(n.PointsLit("100"), n.Target(None)))
    assert middle.op == ">" and isinstance(middle.actions[0], n.Tiers)
    inner = middle.actions[0].branches[0]  # `where flag` then a new line: the next branch, not `flag >= 5`
    assert inner.actions == (n.Discount(n.PercentLit("5"), n.Target(lines(ref("flag")))),)
    assert isinstance(bottom.actions[0], n.Combo)


def test_accruals_and_several_actions() -> None:
    m = load("actions.loya")
    receipt = n.Target(None)
    assert actions(m, "accruals") == [
        n.Accrue(n.PercentLit("3"), receipt),
        n.Accrue(n.PercentLit("5"), n.Target(lines(n.Not(sugar("category", "tobacco"))))),
        n.Accrue(n.PointsLit("100"), receipt),
        n.Accrue(n.PointsLit("50"), n.Target(lines(sugar("category", "baby/diapers")))),
        n.Accrue(n.NumberLit("5"), n.Target(lines(sugar("brand", "BR007"))), "base_cashback"),
        n.Accrue(n.NumberLit("1.5"), receipt, "base_cashback"),
        n.Accrue(ref("rate"), n.Target(lines(n.Membership(ref("category"), ref("goods"))))),
    ]
    [then] = [c for c in clauses(m, "several_actions") if isinstance(c, n.ThenClause)]
    assert [type(a).__name__ for a in then.actions] == ["Discount", "Accrue", "FreeCheapest"]


def test_clauses() -> None:
    m = load("clauses.loya")
    assert m.header is not None and m.header.name == "Clauses" and m.header.point_value is None
    assert clauses(m, "dates")[1:] == (n.PriorityClause(0), n.ValidClause(dt.date(2025, 1, 1), None),
                                       n.WeekdaysClause(("mon", "wed")))
    assert clauses(m, "open_start")[1:] == (n.PriorityClause(-5), n.ValidClause(None, dt.date(2025, 6, 30)),
                                            n.WeekdaysClause(("sat",)))
    assert clauses(m, "always")[:3] == (n.ValidClause(None, None), n.WeekdaysClause(("fri", "sat", "sun", "mon")),
                                        n.HoursClause(dt.time(22), dt.time(2)))
    assert clauses(m, "stores_and_channels")[1:] == (
        n.HoursClause(dt.time(7, 30, 15), dt.time(10)),
        n.SetFilterClause("stores", ref("moscow"), negated=True),
        n.SetFilterClause("stores", n.SetLit((n.StringLit("S001"), n.StringLit("S002")))),
        n.SetFilterClause("channels", n.SetLit((n.StringLit("web"), n.StringLit("app"))), negated=True),
        n.SetFilterClause("channels", ref("online")),
    )
    limits = [c for c in clauses(m, "conditions") if isinstance(c, n.LimitClause)]
    assert limits == [
        n.LimitClause("applications", n.NumberLit("2")),
        n.LimitClause("discount", n.MoneyLit("500.00", "USD")),
        n.LimitClause("points", n.PointsLit("100")),  # `max points 100`: the unit is implied
        n.LimitClause("points", n.PointsLit("50"), "customer"),
    ]
    kinds = [type(c).__name__ for c in clauses(m, "conditions")]
    assert kinds[:5] == ["WhenClause", "GroupClause", "AudienceClause", "WhenClause", "AudienceClause"]


def test_precedence() -> None:
    m = load("expressions.loya")
    a, b, c, d, e, f = (ref(x) for x in "abcdef")
    first, nots, left, right, paren_or, arith, sub, mul, neg, chain = conditions(m, "precedence")
    assert first == n.BoolOp("or", (a, n.BoolOp("and", (b, c)),
                                    n.BoolOp("and", (n.Not(d), n.BoolOp("or", (e, f))))))
    assert nots == n.Not(n.Not(ref("x")))
    assert left == n.BoolOp("and", (n.BoolOp("and", (a, b)), c))  # parentheses keep the nesting
    assert right == n.BoolOp("and", (a, n.BoolOp("and", (b, c))))
    assert paren_or == n.Compare("==", n.BoolOp("or", (a, b)), n.BoolLit(True))
    one, two, three, four = (n.NumberLit(x) for x in "1234")
    assert arith == n.Compare(">=", n.BinOp("-", n.BinOp("+", one, n.BinOp("*", two, three)), n.Unary("-", four)),
                              n.BinOp("*", n.BinOp("+", one, two), three))
    assert sub == n.Compare("==", n.BinOp("-", a, n.BinOp("-", b, c)), n.BinOp("-", n.BinOp("-", a, b), c))
    assert mul == n.Compare("!=", n.BinOp("*", a, n.BinOp("*", b, c)), n.BinOp("*", n.BinOp("*", a, b), c))
    assert neg == n.Compare("<", n.Unary("-", n.BinOp("+", a, b)), n.Unary("-", n.Unary("-", c)))
    assert isinstance(chain, n.BoolOp) and [x.op for x in chain.operands if isinstance(x, n.Compare)] == [
        "<=", ">", "<"]


def test_membership_and_sugar() -> None:
    m = load("expressions.loya")
    first, second, third, fourth, fifth, sixth, seventh = conditions(m, "membership")
    assert first == n.BoolOp("and", (n.Membership(ref("sku"), ref("n_plus_one")),
                                     n.Membership(ref("store"), ref("moscow"), negated=True)))
    assert second == n.BoolOp("or", (
        n.Membership(n.StringLit("vip"), ref("customer", "segments")),
        n.Membership(ref("customer", "tier"), n.SetLit((n.StringLit("silver"), n.StringLit("gold")))),
    ))
    assert third == n.BoolOp("and", (sugar("category", "dairy"), sugar("sku", "A1"), sugar("brand", "BR007")))
    assert fourth == n.BoolOp("and", (n.Membership(ref("category"), n.SetLit((n.StringLit("dairy"),
                                                                              n.StringLit("meat")))),
                                      n.Not(sugar("category", "tobacco"))))
    assert fifth == n.Membership(ref("category"), n.SetLit((n.StringLit("dairy"),)), negated=True)
    assert sixth == n.Compare("==", sugar("category", "dairy"), n.BoolLit(False))
    assert seventh == n.BoolOp("and", (
        n.Compare("==", ref("customer", "attr", "city"), n.StringLit("Москва")),
        n.Membership(ref("attr", "color"), n.SetLit(tuple(n.StringLit(x) for x in ("red", "green", "42", "blue")))),
    ))


def test_literals_keep_their_text() -> None:
    m = load("expressions.loya")
    money, aggregates, quantities, counts, durations, units, bools, strings, symbols, codes = conditions(m, "literals")
    assert money == n.BoolOp("and", (n.Compare(">=", ref("receipt", "total"), n.MoneyLit("1000.00", "RUB")),
                                     n.Compare("<", ref("receipt", "payable"), n.MoneyLit("5", "USD"))))
    assert isinstance(aggregates, n.BoolOp)
    assert aggregates.operands[0] == n.Compare(">", n.Aggregate("sum", lines()), n.MoneyLit("99", "RUB"))
    assert aggregates.operands[1] == n.Compare("<=", n.Aggregate("sum", lines(sugar("category", "x"))),
                                               n.MoneyLit("10", "EUR"))
    assert isinstance(quantities, n.BoolOp) and [o.right for o in quantities.operands if isinstance(o, n.Compare)] == [
        n.QuantityLit("1.5", "kg"), n.QuantityLit("3", "units"), n.QuantityLit("1", "units")]
    assert isinstance(durations, n.BoolOp) and [o.right for o in durations.operands if isinstance(o, n.Compare)] == [
        n.DurationLit(14, "days"), n.DurationLit(2, "hours"), n.DurationLit(30, "minutes"), n.DurationLit(1, "days")]
    assert isinstance(units, n.BoolOp) and [o.right for o in units.operands if isinstance(o, n.Compare)] == [
        n.PointsLit("100"), n.PointsLit("10"), n.PercentLit("2.5"), n.PercentLit("100")]
    assert bools == n.BoolOp("or", (n.Compare("==", ref("flag"), n.BoolLit(True)),
                                    n.Compare("==", ref("other"), n.BoolLit(False))))
    assert isinstance(strings, n.BoolOp) and isinstance(strings.operands[1], n.Compare)
    assert strings.operands[1].right == n.StringLit('quote " backslash \\ tab \t newline \n smile 😀')
    currencies = [o.right.currency for x in (symbols, codes) if isinstance(x, n.BoolOp)
                  for o in x.operands if isinstance(o, n.Compare) and isinstance(o.right, n.MoneyLit)]
    assert currencies == ["USD", "UAH", "KZT", "GBP", "CNY", "BYN", "KZT", "UAH", "EUR"]
    assert isinstance(counts, n.BoolOp) and counts.operands[0] == n.Compare(">=", n.Aggregate("count", lines()),
                                                                            n.NumberLit("2"))


def test_unicode_names() -> None:
    m = load("unicode.loya")
    assert m.header is not None and m.header.point_value == n.MoneyLit("0.50", "RUB")
    assert [d.name for d in m.decls] == ["молочка_10", "города", "бонусы", "points", "кешбэк_3", "日本語"]
    assert conditions(m, "日本語")[0] == n.BoolOp("and", (
        n.Compare("==", ref("receipt", "store"), n.StringLit("東京")),
        sugar("category", "молоко"),
        n.Membership(ref("категория_товара"), n.SetLit((n.StringLit("молоко"),))),
    ))


def test_templates_and_uses() -> None:
    m = load("templates.loya")
    template = decl(m, "every_nth_free")
    assert isinstance(template, n.TemplateDecl)
    assert template.params == (n.Param("items", "skus"), n.Param("n", "count"))
    assert template.title == "Каждый N-й бесплатно" and len(template.clauses) == 2
    assert decl(m, "bare") == n.TemplateDecl("bare", (), (n.ThenClause((n.Discount(n.PercentLit("1"),
                                                                                   n.Target(None)),)),))
    assert decl(m, "empty") == n.TemplateDecl("empty", (), (), "Пустой")
    campaign = decl(m, "three_for_two")
    assert isinstance(campaign, n.CampaignDecl)
    assert campaign.uses == n.TemplateUse("every_nth_free", (n.Arg("items", ref("n_plus_one")),
                                                             n.Arg("n", n.NumberLit("3"))))
    with_all = decl(m, "with_all")
    assert isinstance(with_all, n.CampaignDecl) and with_all.uses is not None and len(with_all.uses.args) == 13
    assert with_all.uses.args[-1] == n.Arg("x", n.SetLit(()))
    no_args = decl(m, "no_args")
    assert isinstance(no_args, n.CampaignDecl) and no_args.uses == n.TemplateUse("bare", ())


def test_empty_input_and_comments() -> None:
    assert parse("") == (n.Module(None, (), ()), [])
    assert parse("\ufeff# only a comment\n\n   # another\n") == (n.Module(None, (), ()), [])


# ---------------------------------------------------------------------------------------------- diagnostics


def errors(text: str) -> list[Diagnostic]:
    module, diags = parse(text, "t.loya")
    assert module is None
    assert diags
    return diags


def where(d: Diagnostic) -> str:
    return f"{d.code} {d.span}"


@pytest.mark.parametrize(("text", "expected"), [
    ("campaign a {\n    when x >= 1 @ 2\n}\n", "LOY100 t.loya:2:17"),
    ('campaign a "title {\n}\n', "LOY100 t.loya:1:12"),
    ("campaign a {\n    then discount 10% lines\n}\n", "LOY101 t.loya:2:23"),
    ('campaign a {\n    when receipt.store "x"\n}\n', "LOY101 t.loya:2:24"),
    ("campaign a {\n    group g\n", "LOY102 t.loya:3:1"),
    ("campaign a {\n    valid 2025-13-45 .. 2025-12-31\n}\n", "LOY103 t.loya:2:11"),
    ("campaign a {\n    valid 2025-1-1 ..\n}\n", "LOY103 t.loya:2:11"),
    ("campaign a {\n    hours 10:00 .. 25:00\n}\n", "LOY103 t.loya:2:20"),
    ('campaign a "x \\q" {\n}\n', "LOY103 t.loya:1:15"),
    ('campaign a "x \\u{110000}" {\n}\n', "LOY103 t.loya:1:15"),
    ("campaign a {\n    weekdays mon..fry\n}\n", "LOY103 t.loya:2:19"),
    ("campaign a {\n    weekdays [mon, sunday]\n}\n", "LOY103 t.loya:2:20"),
    ("campaign a {\n    priority 1.5\n}\n", "LOY103 t.loya:2:14"),
    ("campaign a {\n    when t > 1.5 days\n}\n", "LOY103 t.loya:2:14"),
    ("campaign not {\n}\n", "LOY104 t.loya:1:10"),
    ('skus true = ["A"]\n', "LOY104 t.loya:1:6"),
    ('programme "P" {\n    rounding discount or\n}\n', "LOY104 t.loya:2:23"),  # as the YAML twin refuses it
    ('programme "P" {\n    rounding not floor\n}\n', "LOY104 t.loya:2:14"),
    ('programme "P" {\n    allocation and\n}\n', "LOY104 t.loya:2:16"),
    ("template t(in: skus) {\n}\n", "LOY104 t.loya:1:12"),
    ("campaign c {\n    then combo {\n        and: 1 of lines\n        b: 1 of lines\n    } discount 1.00 RUB\n}\n",
     "LOY104 t.loya:3:9"),
    ('programme "P" {\n    timezone "A"\n    timezone "B"\n}\n', "LOY213 t.loya:3:5"),
    ("group g {\n    basis original\n    basis discounted\n}\n", "LOY213 t.loya:3:5"),
    ('programme "A" {\n}\nprogramme "B" {\n}\n', "LOY213 t.loya:3:1"),
])
def test_each_diagnostic_with_its_position(text: str, expected: str) -> None:
    assert where(errors(text)[0]) == expected


def test_syntax_error_hint_lists_the_expected_tokens() -> None:
    [d] = errors("campaign a {\n    then discount 10% lines\n}\n")
    assert d.message == "unexpected `lines`"
    assert d.hint == "expected one of: `on`, `per`"
    [eof] = errors("campaign a {\n    group g\n")
    assert eof.message == "unexpected end of input"
    assert eof.hint is not None and eof.hint.startswith("expected one of: `}`, `arm`, `audience`")
    assert "`then`" in eof.hint


def test_bad_literal_messages() -> None:
    [time] = errors("campaign a {\n    hours 22:00 .. 24:00\n}\n")
    assert time.message == "`24:00` is not a valid time of day" and time.hint == "midnight is 00:00"
    [escape] = errors('campaign a "x \\q" {\n}\n')
    assert escape.message == "bad escape `\\q` in a string"
    assert escape.span is not None and (escape.span.col, escape.span.end_col) == (15, 17)
    [day] = errors("campaign a {\n    weekdays mon..fry\n}\n")
    assert day.hint == "did you mean `fri`?"


def test_several_errors_are_reported_in_one_run() -> None:
    text = """campaign a {
    group
}

campaign b {
    when >
}

group c { priority x }

campaign fine {
    group g
}

campaign d {
    valid 2025-01-01 .. 2025-13-01
    then discount 5%
}
"""
    diags = errors(text)
    assert [where(d) for d in diags] == ["LOY101 t.loya:3:1", "LOY101 t.loya:6:10", "LOY101 t.loya:9:20",
                                         "LOY101 t.loya:18:1"]


def test_semantic_errors_are_all_reported() -> None:
    text = 'campaign not {\n    valid 2025-02-30 ..\n    hours 99:00 .. 10:00\n    when name == "\\x"\n}\n'
    assert [where(d) for d in errors(text)] == ["LOY104 t.loya:1:10", "LOY103 t.loya:2:11", "LOY103 t.loya:3:11",
                                                "LOY103 t.loya:4:19"]


def test_tier_branches_start_on_their_own_line() -> None:
    text = "campaign c {\n    then tiers x {\n        >= 5: discount 1% on lines where price >= 2.00 RUB\n" \
           "        >= 1: discount 1% on receipt\n    }\n}\n"
    module, diags = parse(text)
    assert diags == [] and module is not None
    # A predicate continued on a line that starts with `>=` reads as a new branch, which lacks its `:`.
    broken = "campaign c {\n    then tiers x {\n        >= 5: discount 1% on lines where price\n" \
             "            >= 2.00 RUB\n    }\n}\n"
    [d] = errors(broken)
    assert where(d) == "LOY101 t.loya:5:5" and d.hint is not None and "`:`" in d.hint


# ---------------------------------------------------------------------------------------------- limits


def test_source_size_limit() -> None:
    [d] = errors("#" * (parser.MAX_SOURCE_CHARS + 1))
    assert d.code == "LOY105"


@pytest.mark.parametrize("expression", [
    "(" * 10_000 + "x" + ")" * 10_000,
    "(" * 10_000,
    "[" * 10_000,
    "not " * 10_000 + "x",
    "-" * 10_000 + "x",
    " + ".join(["x"] * 10_000),
])
def test_deep_nesting_is_a_diagnostic_not_a_crash(expression: str) -> None:
    diags = errors(f"campaign c {{\n    when {expression}\n}}\n")
    assert diags[0].code in ("LOY105", "LOY101")
    assert diags[0].span is not None and diags[0].span.line == 2


def test_nesting_up_to_the_limit_is_fine() -> None:
    depth = parser.MAX_DEPTH
    module, diags = parse(f"campaign c {{\n    when {'(' * depth}x{')' * depth}\n}}\n")
    assert diags == [] and module is not None
    [d] = errors(f"campaign c {{\n    when {'(' * (depth + 1)}x{')' * (depth + 1)}\n}}\n")
    assert where(d) == f"LOY105 t.loya:2:{10 + depth}"


def test_at_most_100_errors_are_reported() -> None:
    diags = errors("campaign c {\n    when >\n}\n" * 150)
    assert len(diags) == parser.MAX_ERRORS + 1
    assert diags[-1].code == "LOY105"


def test_campaign_count_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parser, "MAX_CAMPAIGNS", 2)
    [d] = errors("campaign a {}\ncampaign b {}\ncampaign c {}\n")
    assert d.code == "LOY105" and "3 campaigns" in d.message


# ---------------------------------------------------------------------------------------------- fragments


def test_fragments_report_positions_in_the_enclosing_file() -> None:
    expr, diags = parse_expression("receipt.total >= 1000.00 RUB", "p.yaml", line=7, col=11)
    assert diags == [] and expr is not None and expr.span is not None
    assert (expr.span.line, expr.span.col, expr.span.end_col) == (7, 11, 39)
    _, diags = parse_expression("a >= @", "p.yaml", line=7, col=11)
    assert where(diags[0]) == "LOY100 p.yaml:7:16"
    clause, diags = parse_clause("valid", "2025-01-01 .. 2025-02-30", "p.yaml", line=3, col=12)
    assert clause is None and where(diags[0]) == "LOY103 p.yaml:3:26"
    acts, diags = parse_actions("tiers x {\n    >= 1: discount 1% on receip\n}", "p.yaml", line=10, col=9)
    assert acts is None and where(diags[0]) == "LOY101 p.yaml:11:34"
    use, diags = parse_template_use("t(a = 1, b = [x])")
    assert diags == [] and use == n.TemplateUse("t", (n.Arg("a", n.NumberLit("1")),
                                                      n.Arg("b", n.SetLit((n.StringLit("x"),)))))


def test_the_builder_calls_each_rule_as_lark_would() -> None:
    """``_Builder.build`` replaces lark's ``Transformer.transform``: each rule is a function of (meta, children),
    a rule another ``v_args`` would call otherwise is refused, and every rule of the grammar built alike."""
    from lark import Transformer, v_args

    rules = parser._rule_functions(parser._Builder)
    assert {"module", "campaign_decl", "trigger_decl"} <= set(rules)
    assert not any(name.startswith("_") for name in rules)

    @v_args(inline=True)
    class Inline(Transformer):
        def rule(self, a: Any) -> Any:
            return a

    with pytest.raises(TypeError, match=r"Inline\.rule is not a rule of"):
        parser._rule_functions(Inline)
    text = (Path(__file__).parents[2] / "examples" / "supermarket" / "programme.loya").read_text(encoding="utf-8")
    tree = parser._lark().parse(text, start="module")
    assert parser._Builder(parser._Origin("x")).build(tree) == parser._Builder(parser._Origin("x")).transform(tree)
