"""The compile-time errors of the rewards constructs, as data (diagnostics.yaml): code, place, hint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from loyadsl.api import check_text

CASES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "diagnostics.yaml").read_text(encoding="utf-8"))
HEADER = ('programme "P" {\n    currency RUB minor 2\n    timezone "Europe/Moscow"\n}\n'
          "group rewards { priority 1 stacking stack_all basis discounted }\n")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_rewards_diagnostic(case: dict[str, Any]) -> None:
    accounts = 'account bonus "Bonuses" { }\n' if case.get("accounts", True) else ""
    head = HEADER + accounts
    result = check_text(head + case["body"], "p.loya")
    errors = [d for d in result.diagnostics if d.is_error]
    assert [d.code for d in errors] == [case["code"]], [str(d) for d in errors]
    d = errors[0]
    assert d.span is not None
    offset = head.count("\n")
    assert (d.span.line - offset, d.span.col) == tuple(case["at"])
    assert case["hint"] in (d.hint or "")
