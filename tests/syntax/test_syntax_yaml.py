"""The YAML twin: its shape, its quoting, and its errors at the right line:col of the YAML file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from loyadsl.diagnostics import Diagnostic
from loyadsl.syntax import nodes as n
from loyadsl.syntax.parser import parse
from loyadsl.syntax.yaml_twin import parse_yaml, to_yaml

DOCS = Path(__file__).resolve().parents[2] / "docs" / "language.md"


def ok(text: str) -> n.Module:
    module, diags = parse_yaml(text, "p.yaml")
    assert diags == [], [f"{d.code} {d.span} {d.message}" for d in diags]
    assert module is not None
    return module


def errors(text: str) -> list[Diagnostic]:
    module, diags = parse_yaml(text, "p.yaml")
    assert module is None and diags
    return diags


def where(d: Diagnostic) -> str:
    return f"{d.code} {d.span}"


def loya(text: str) -> n.Module:
    module, diags = parse(text, "p.loya")
    assert diags == [] and module is not None
    return module


def test_the_documented_example_parses() -> None:
    example = re.search(r"```yaml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert example is not None
    module = ok(example.group(1))
    assert module.header is not None and module.header.version == "2025.1"
    assert module.imports == (n.Import("std:n_plus_one"),)
    campaign = module.decls[-1]
    assert isinstance(campaign, n.CampaignDecl) and len(campaign.clauses) == 10


def test_same_ast_as_the_loya_text() -> None:
    text = """
programme "P" version "1" {
    currency RUB minor 2
    points minor 0 value 1.00 RUB
    timezone "Europe/Moscow"
}
skus a = ["SKU1", "007"]
group g "Группа" { priority 1 stacking stack_up_to 2 basis original }
campaign c "Кампания" {
    group g
    priority 3
    valid 2025-01-01 ..
    stores ["S001", "S002"]
    then discount 5% on receipt
    then discount 1% on receipt accrue 2% on receipt
    limit 1 per receipt
}
"""
    yaml_text = """
programme:
  name: P
  version: 1
  currency: RUB
  minor: 2
  points: {minor: 0, value: 1.00 RUB}
  timezone: Europe/Moscow
lists:
  - {skus: a, items: [SKU1, 007]}
groups:
  - {name: g, title: Группа, priority: 1, stacking: stack_up_to 2, basis: original}
campaigns:
  - name: c
    title: Кампания
    group: g
    priority: 3
    valid: 2025-01-01 ..
    stores: [S001, S002]
    then:
      - discount 5% on receipt
      - [discount 1% on receipt, accrue 2% on receipt]
    limit: 1 per receipt
"""
    assert ok(yaml_text) == loya(text)


def test_scalars_are_read_as_written() -> None:
    module = ok("programme: {name: 2025, version: 2025.10}\nlists:\n  - {strings: s, items: [yes, 1.0, 2025-01-01, ~, '']}\n")
    assert module.header == n.Header("2025", "2025.10")
    assert module.decls == (n.ListDecl("s", "strings", items=("yes", "1.0", "2025-01-01", "~", "")),)


def test_writer_quotes_what_yaml_would_misread() -> None:
    module = n.Module(n.Header("null", version="2025.1", timezone="yes"), (n.Import("1e3"),), (
        n.ListDecl("s", "strings", items=("007", "true", "2025-01-01", "", " x", "a: b", "#c", "[d]", "x\ny")),
        n.CampaignDecl("c", "10:00", (n.GroupClause("g"),)),
    ))
    text = to_yaml(module)
    assert "version: '2025.1'" in text
    assert parse_yaml(text)[0] == module
    # A reader that does convert values (the YAML 1.1 safe loader) sees the same strings.
    data = yaml.safe_load(text)
    assert data["programme"] == {"name": "null", "version": "2025.1", "timezone": "yes"}
    assert data["lists"][0]["items"] == list(module.decls[0].items or ())  # type: ignore[attr-defined]
    assert data["campaigns"][0]["title"] == "10:00"


def test_then_encoding_and_clause_order() -> None:
    module = loya("campaign c {\n    then discount 1% on receipt\n    then discount 2% on receipt accrue 1% on receipt\n"
                  "    group g\n}\n")
    text = to_yaml(module)
    assert "then:\n      - discount 1% on receipt\n      - - discount 2% on receipt\n        - accrue 1% on receipt\n" \
           "    group: g\n" in text
    assert parse_yaml(text)[0] == module


def test_repeated_clauses_use_a_clauses_list() -> None:
    module = loya("campaign c {\n    then discount 1% on receipt\n    when a\n    then discount 2% on receipt\n"
                  "    when b\n}\n")
    text = to_yaml(module)
    assert "clauses:\n      - then:\n" in text and "      - when: a\n" in text
    assert parse_yaml(text)[0] == module


def test_interleaved_declarations_keep_their_order() -> None:
    module = loya('skus a = ["A"]\ncampaign c {\n}\nskus b = ["B"]\n')
    text = to_yaml(module)
    assert text.startswith("declarations:\n  - list: {skus: a, items: [A]}\n  - campaign:\n")
    assert parse_yaml(text)[0] == module


def test_multi_line_actions_are_literal_blocks_with_exact_positions() -> None:
    module = loya("campaign c {\n    then tiers receipt.total {\n        >= 10.00 RUB: discount 1% on receipt\n    }\n}\n")
    text = to_yaml(module)
    assert "      - |-\n        tiers receipt.total {\n" in text
    assert parse_yaml(text)[0] == module
    broken = text.replace("on receipt", "on receit")
    [d] = errors(broken)
    line = broken.split("\n").index("            >= 10.00 RUB: discount 1% on receit") + 1
    assert where(d) == f"LOY101 p.yaml:{line}:42"


def test_repeated_rounding_and_params_use_lists() -> None:
    module = loya('programme "P" {\n    rounding discount floor\n    rounding discount ceil\n}\n'
                  "template t(a: skus, a: count) {\n}\n")
    text = to_yaml(module)
    assert "rounding:\n    - {discount: floor}\n    - {discount: ceil}\n" in text
    assert parse_yaml(text)[0] == module


def test_empty_documents() -> None:
    assert ok("") == n.Module(None, (), ())
    assert ok("# nothing\n") == n.Module(None, (), ())
    assert ok("templates: []\ncampaigns: []\n") == n.Module(None, (), ())
    assert to_yaml(n.Module(None, (), ())) == "{}\n"


# ---------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(("text", "expected"), [
    ("campaigns:\n  - name: a\n    when: receipt.total >= 10 @ RUB\n", "LOY100 p.yaml:3:31"),
    ('campaigns:\n  - name: a\n    when: "receipt.total >== 1"\n', "LOY101 p.yaml:3:28"),
    ("campaigns:\n  - name: a\n    when: 'x and'\n", "LOY102 p.yaml:3:17"),
    ("campaigns:\n  - name: a\n    valid: 2025-13-01 ..\n", "LOY103 p.yaml:3:12"),
    ("campaigns:\n  - name: a\n    weekdays: [mon, fry]\n", "LOY103 p.yaml:3:21"),
    ("campaigns:\n  - name: not\n", "LOY104 p.yaml:2:11"),
    ("a: &x [1, 2]\nb: *x\n", "LOY106 p.yaml:2:4"),
    ("campaigns:\n  - name: a\n    titel: x\n", "LOY106 p.yaml:3:5"),
    ("groups:\n  - {title: x}\n", "LOY106 p.yaml:2:5"),
    ("lists:\n  - {skus: a b, items: [1]}\n", "LOY106 p.yaml:2:12"),
    ("lists:\n  - {skus: a}\n", "LOY106 p.yaml:2:5"),
    ("lists: {skus: a}\n", "LOY106 p.yaml:1:8"),
    ("programme: {name: T, minor: 2}\n", "LOY106 p.yaml:1:29"),
    ("programme: {name: T, currency: RUB, minor: ²}\n", "LOY106 p.yaml:1:44"),
    ("campaigns:\n  - name: a\n    name: b\n", "LOY106 p.yaml:3:5"),
    ("campaigns:\n  - name: a\n    when: [a, b]\n", "LOY106 p.yaml:3:11"),
    ("campaigns:\n  - name: a\n    when:\n", "LOY106 p.yaml:3:10"),
    ("campaigns:\n  - name: a\n    group: g\n    clauses: []\n", "LOY106 p.yaml:4:14"),
    ("key: [unclosed", "LOY106 p.yaml:1:15"),
    ("- 1\n- 2\n", "LOY106 p.yaml:1:1"),
    ("a: 1\n---\nb: 2\n", "LOY106 p.yaml:2:1"),
    ("[" * 100, "LOY105 p.yaml:1:33"),
])
def test_each_error_at_its_yaml_position(text: str, expected: str) -> None:
    assert where(errors(text)[0]) == expected


def test_unknown_key_suggests_the_closest() -> None:
    [d] = errors("campaigns:\n  - name: a\n    titel: x\n")
    assert d.message == "unknown key `titel` in a campaign" and d.hint == "did you mean `title`?"


def test_alias_bombs_are_refused_quickly() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(20))
    [d] = errors(bomb)
    assert d.message == "aliases are not allowed"


def test_several_errors_in_one_document() -> None:
    text = "campaigns:\n  - name: a\n    when: x >=\n  - name: b\n    titel: y\n  - name: c\n    hours: 25:00 .. 1:00\n"
    assert [d.code for d in errors(text)] == ["LOY102", "LOY106", "LOY103"]
