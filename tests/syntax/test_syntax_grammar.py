"""The grammar builds as strict LALR (no conflicts, no terminal collisions) and keywords stay contextual."""

from __future__ import annotations

from lark import Lark

from loyadsl import resource_dir
from loyadsl.syntax import nodes as n
from loyadsl.syntax.parser import STARTS, parse

GRAMMAR = resource_dir("grammar") / "loya.lark"


def test_grammar_builds_as_strict_lalr() -> None:
    # strict=True raises on any shift/reduce conflict and, through interegular, on regex collisions.
    parser = Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr", strict=True, start=list(STARTS))
    assert parser.options.parser == "lalr"


def test_grammar_builds_with_the_options_the_parser_uses() -> None:
    Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr", lexer="contextual", strict=True,
         propagate_positions=True, maybe_placeholders=True, start=list(STARTS))


def test_keywords_are_contextual() -> None:
    # `points`, `group`, `stores` are keywords elsewhere but fine as names where a name is expected.
    text = """
group points { priority 1 stacking stack_all basis original }
skus group = ["A"]
template t(p: points, s: stores, c: categories) { then accrue p }
campaign stores uses t(p = 1 points, s = ["S"], c = ["x"]) {
    group points
    when sku in group and where == "x" and lines > 1
}
"""
    module, diags = parse(text, "k.loya")
    assert diags == []
    assert module is not None
    group, lst, template, campaign = module.decls
    assert isinstance(group, n.GroupDecl) and group.name == "points"
    assert isinstance(lst, n.ListDecl) and lst.name == "group"
    assert isinstance(template, n.TemplateDecl) and [p.type_name for p in template.params] == [
        "points", "stores", "categories"]
    assert isinstance(campaign, n.CampaignDecl) and campaign.name == "stores"


def test_dates_times_and_numbers_do_not_collide() -> None:
    module, diags = parse("campaign c {\n    valid 2025-01-01..2025-12-31\n    hours 9:05 .. 18:00\n"
                          "    when 2025 - 1 - 1 == x\n}\n")
    assert diags == []
    assert module is not None
    decl = module.decls[0]
    assert isinstance(decl, n.CampaignDecl)
    valid, hours, when = decl.clauses
    assert isinstance(valid, n.ValidClause) and str(valid.start) == "2025-01-01"
    assert isinstance(hours, n.HoursClause) and str(hours.start) == "09:05:00"
    assert isinstance(when, n.WhenClause) and isinstance(when.condition, n.Compare)
    assert when.condition.left == n.BinOp("-", n.BinOp("-", n.NumberLit("2025"), n.NumberLit("1")), n.NumberLit("1"))
