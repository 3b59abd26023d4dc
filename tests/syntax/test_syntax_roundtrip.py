"""Round trips: .loya → AST → YAML → AST and AST → .loya → AST, and the formatter's fixed point."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyadsl.runtime.limits import MAX_DATE, MIN_DATE
from loyadsl.syntax import nodes as n
from loyadsl.syntax.parser import RESERVED_WORDS, parse, parse_expression
from loyadsl.syntax.printer import format_expr, format_module
from loyadsl.syntax.yaml_twin import parse_yaml, to_yaml

ROOT = Path(__file__).resolve().parents[2]
CORPUS = sorted((Path(__file__).parent / "programmes").glob("*.loya"))
SHIPPED = [ROOT / "examples" / "supermarket" / "programme.loya", ROOT / "bench" / "six_mechanics.loya",
           *sorted((ROOT / "stdlib_mechanics").glob("*.loya"))]


def load(path: Path) -> n.Module:
    module, diags = parse(path.read_text(encoding="utf-8"), path.name)
    assert diags == [], [f"{d.code} {d.span} {d.message}" for d in diags]
    assert module is not None
    return module


def test_the_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 6


@pytest.mark.parametrize("path", CORPUS + SHIPPED, ids=lambda p: p.name)
def test_loya_yaml_loya(path: Path) -> None:
    module = load(path)
    text = to_yaml(module)
    again, diags = parse_yaml(text, "converted.yaml")
    assert diags == []
    assert again == module
    assert to_yaml(again) == text


@pytest.mark.parametrize("path", CORPUS + SHIPPED, ids=lambda p: p.name)
def test_ast_loya_ast_and_the_formatter_is_idempotent(path: Path) -> None:
    module = load(path)
    text = format_module(module)
    again, diags = parse(text, "formatted.loya")
    assert diags == []
    assert again == module
    assert format_module(again) == text


def test_formatting_is_canonical() -> None:
    module, _ = parse('campaign  c   "T"{group g when(a or b)and not(c)then discount 5% on lines where(category in'
                      ' ["dairy"]) accrue 1 pts}')
    assert module is not None
    assert format_module(module) == (
        'campaign c "T" {\n'
        "    group g\n"
        "    when (a or b) and not c\n"
        '    then discount 5% on lines where category "dairy"\n'
        "        accrue 1 points\n"
        "}\n"
    )


# ---------------------------------------------------------------------------------------------- random ASTs

names = st.from_regex(r"[a-zа-я_][a-zа-я0-9_]{0,6}", fullmatch=True).filter(lambda s: s not in RESERVED_WORDS)
amounts = st.from_regex(r"[0-9]{1,4}(\.[0-9]{1,2})?", fullmatch=True)
strings = st.text(max_size=8)
leaves: st.SearchStrategy[n.Expr] = st.one_of(
    amounts.map(n.NumberLit),
    st.builds(n.MoneyLit, amounts, st.sampled_from(["RUB", "USD", "EUR", "UAH", "KZT", "BYN", "GBP", "CNY"])),
    amounts.map(n.PointsLit),
    amounts.map(n.PercentLit),
    st.builds(n.QuantityLit, amounts, st.sampled_from(["kg", "units"])),
    st.builds(n.DurationLit, st.integers(0, 999), st.sampled_from(["days", "hours", "minutes"])),
    strings.map(n.StringLit),
    st.booleans().map(n.BoolLit),
    st.lists(names, min_size=1, max_size=3).map(lambda p: n.Ref(tuple(p))),
    st.lists(strings.map(n.StringLit), max_size=3).map(lambda items: n.SetLit(tuple(items))),
)


def _compound(inner: st.SearchStrategy[n.Expr]) -> st.SearchStrategy[n.Expr]:
    return st.one_of(
        st.builds(n.BoolOp, st.sampled_from(["and", "or"]), st.lists(inner, min_size=2, max_size=3).map(tuple)),
        st.builds(n.Not, inner),
        st.builds(n.Compare, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), inner, inner),
        st.builds(n.Membership, inner, inner, st.booleans()),
        st.builds(n.BinOp, st.sampled_from(["+", "-", "*"]), inner, inner),
        st.builds(n.Unary, st.just("-"), inner),
        st.builds(n.Aggregate, names, st.one_of(st.none(), inner).map(n.Selection)),
    )


expressions = st.recursive(leaves, _compound, max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(expressions)
def test_any_expression_prints_and_parses_back(expr: n.Expr) -> None:
    text = format_expr(expr)
    again, diags = parse_expression(text)
    assert diags == [], (text, diags)
    assert again == expr, text


@settings(max_examples=150, deadline=None)
@given(st.text(), st.text(), st.lists(st.text(max_size=10), max_size=4))
def test_any_string_survives_both_syntaxes(title: str, version: str, items: list[str]) -> None:
    module = n.Module(n.Header(title, version=version, timezone=title), (n.Import(version),), (
        n.ListDecl("l", "strings", items=tuple(items)),
        n.CampaignDecl("c", title, (n.WhenClause(n.Compare("==", n.Ref(("x",)), n.StringLit(title))),)),
    ))
    assert parse(format_module(module))[0] == module
    assert parse_yaml(to_yaml(module))[0] == module


# Random modules, in the forms the parsers produce (a `then` has actions, `max points` holds points...).

dates = st.one_of(st.none(), st.dates(MIN_DATE, MAX_DATE))  # the dates a programme may name (LOY113)
times = st.builds(dt.time, st.integers(0, 23), st.integers(0, 59), st.integers(0, 59))
small = st.recursive(leaves, _compound, max_leaves=4)
selections = st.one_of(st.none(), small).map(n.Selection)
targets = st.one_of(st.none(), selections).map(n.Target)
count = st.one_of(amounts.map(n.NumberLit), names.map(lambda x: n.Ref((x,))), small)


def _actions(inner: st.SearchStrategy[n.Action]) -> st.SearchStrategy[n.Action]:
    branch = st.builds(n.TierBranch, st.sampled_from([">=", ">"]), small,
                       st.lists(inner, min_size=1, max_size=2).map(tuple))
    return st.builds(n.Tiers, small, st.lists(branch, max_size=3).map(tuple))


simple_actions: st.SearchStrategy[n.Action] = st.one_of(
    st.builds(n.Discount, small, targets, st.booleans()),
    st.builds(n.PriceOverride, small, selections),
    st.builds(n.FreeUnits, count, count, selections),
    st.builds(n.FreeCheapest, count, selections),
    st.builds(n.Accrue, small, targets),
    st.builds(n.Accrue, amounts.map(n.NumberLit), targets, names),
    st.builds(lambda parts, reward, value, part: n.Combo(tuple(parts), reward, value,
                                                         part if reward == "percent_on_part" else None),
              st.lists(st.builds(n.ComboPart, names, small, selections), max_size=3),
              st.sampled_from(["percent_on_part", "amount_per_set", "set_price"]), small, names),
)
actions = st.recursive(simple_actions, _actions, max_leaves=4)
clauses = st.one_of(
    names.map(n.GroupClause),
    st.integers(-1000, 1000).map(n.PriorityClause),
    st.builds(n.ValidClause, dates, dates),
    st.lists(st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]), max_size=8)
    .map(lambda days: n.WeekdaysClause(tuple(days))),
    st.builds(n.HoursClause, times, times),
    st.builds(n.SetFilterClause, st.sampled_from(["stores", "channels"]),
              st.one_of(names.map(lambda x: n.Ref((x,))),
                        st.lists(strings.map(n.StringLit), max_size=3).map(lambda i: n.SetLit(tuple(i)))),
              st.booleans()),
    small.map(n.AudienceClause),
    small.map(n.WhenClause),
    st.lists(actions, min_size=1, max_size=3).map(lambda a: n.ThenClause(tuple(a))),
    st.builds(n.LimitClause, st.sampled_from(["applications", "discount"]), small, names),
    st.builds(n.LimitClause, st.just("points"), small.filter(lambda e: not isinstance(e, n.NumberLit)), names),
)
clause_lists = st.lists(clauses, max_size=5).map(tuple)
titles = st.one_of(st.none(), strings)
decls = st.one_of(
    st.builds(n.ListDecl, names, st.sampled_from(["skus", "stores", "categories", "brands", "channels", "strings"]),
              st.lists(strings, max_size=3).map(tuple)),
    st.builds(lambda name, kind, path, column: n.ListDecl(name, kind, source=n.CsvSource(path, column)),
              names, st.sampled_from(["skus", "stores"]), strings, strings),
    st.builds(lambda name, title, priority, stacking, limit, basis: n.GroupDecl(
        name, title, priority, stacking, limit if stacking else None, basis),
        names, titles, st.one_of(st.none(), st.integers(-99, 999)), st.one_of(st.none(), names),
        st.one_of(st.none(), st.integers(0, 9)), st.one_of(st.none(), names)),
    st.builds(n.TemplateDecl, names, st.lists(st.builds(n.Param, names, names), max_size=3).map(tuple),
              clause_lists, titles),
    st.builds(n.CampaignDecl, names, titles, clause_lists,
              st.one_of(st.none(), st.builds(n.TemplateUse, names, st.lists(st.builds(n.Arg, names, small),
                                                                             max_size=3).map(tuple)))),
)
headers = st.builds(
    lambda name, version, currency, minor, pminor, value, tz, rounding, allocation: n.Header(
        name, version, currency, minor if currency else None, pminor, value, tz, tuple(rounding), allocation),
    strings, titles, st.one_of(st.none(), names), st.one_of(st.none(), st.integers(0, 9)),
    st.one_of(st.none(), st.integers(0, 9)),
    st.one_of(st.none(), st.builds(n.MoneyLit, amounts, st.sampled_from(["RUB", "EUR"]))), titles,
    st.lists(st.builds(n.Rounding, names, names), max_size=3), st.one_of(st.none(), names))
modules = st.builds(n.Module, st.one_of(st.none(), headers), st.lists(strings.map(n.Import), max_size=2).map(tuple),
                    st.lists(decls, max_size=4).map(tuple))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(modules)
def test_any_module_round_trips_through_both_syntaxes(module: n.Module) -> None:
    text = format_module(module)
    again, diags = parse(text)
    assert diags == [], (text, diags)
    assert again == module, text
    assert format_module(again) == text
    yaml_text = to_yaml(module)
    from_yaml, diags = parse_yaml(yaml_text)
    assert diags == [], (yaml_text, diags)
    assert from_yaml == module, yaml_text


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["currency", "target", "coupon", "budget", "holdout", "discount", "due_within"]), leaves)
def test_a_strategy_setting_of_any_value_survives_the_twin(key: str, value: n.Expr) -> None:
    """A setting that takes a bare name (`currency USD`) reads any other value as .loya does: `currency 1`
    is a number in both syntaxes, not a name "1" in the twin."""
    decl = n.StrategyDecl("s", None, (n.StrategySetting(key, value),), ())
    module = n.Module(None, (), (decl,))
    assert parse(format_module(module))[0] == module
    assert parse_yaml(to_yaml(module))[0] == module
