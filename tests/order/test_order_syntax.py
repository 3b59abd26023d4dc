"""The order constructs round-trip: `loya fmt` prints them canonically and idempotently, the YAML twin
gives the same AST, and the checker's errors carry their code at the clause (docs/order.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from loyadsl.api import check_text
from loyadsl.syntax.parser import parse
from loyadsl.syntax.printer import format_module
from loyadsl.syntax.yaml_twin import parse_yaml, to_yaml

CASES_DIR = Path(__file__).parent / "cases"
PROGRAMMES = sorted(CASES_DIR.glob("*/programme.loya"))
HEAD = 'programme "p" {\n    currency RUB minor 2\n    timezone "Europe/Moscow"\n}\n'


@pytest.mark.parametrize("path", PROGRAMMES, ids=lambda p: p.parent.name)
def test_order_programme_formats_and_converts_without_loss(path: Path) -> None:
    module, diags = parse(path.read_text(encoding="utf-8"), "p.loya")
    assert module is not None, diags
    printed = format_module(module)
    again, _ = parse(printed, "p.loya")
    assert again == module and format_module(again) == printed
    twin, diags = parse_yaml(to_yaml(module), "p.yaml")
    assert twin == module, diags


@pytest.mark.parametrize(("source", "code", "at"), [
    ("group g { priority 1  stacking stack_all  basis original }\n"
     "campaign c { group g  exclusive lines  then discount 5% on receipt }\n", "LOY270", (6, 23)),
    ("group g { priority 1  stacking stack_all  basis original  order declared }\n"
     "campaign c { group g  priority 5  then discount 5% on receipt }\n", "LOY271", (6, 23)),
    ("group g { priority 1  stacking stack_all  basis original  order random }\n"
     "campaign c { group g  then discount 5% on receipt }\n", "LOY207", (5, 1)),
    ("group g { priority 1  stacking stack_all  basis original }\n"
     "campaign c { group g  then accrue 5% on receipt }\naccount bonus { }\n"
     "redemption { accounts bonus  accrue on redeemed  accrue never when redeemed }\n", "LOY213", (8, 1)),
    ("group g { priority 1  stacking first_by_priority  basis original }\n"
     "campaign c { group g  exclusive receipt  exclusive lines  then discount 5% on receipt }\n", "LOY213", (6, 42)),
])
def test_order_errors_have_a_code_and_a_place(source: str, code: str, at: tuple[int, int]) -> None:
    result = check_text(HEAD + source, "p.loya")
    errors = [d for d in result.diagnostics if d.is_error]
    assert [(d.code, (d.span.line, d.span.col) if d.span else None) for d in errors] == [(code, at)]
    assert errors[0].hint
