"""Lints over checked campaigns (loyadsl/check/lints/): LOY304, cases as data in lints/cases.yaml; and on
the examples and the golden programmes it fires only where the pattern is meant (no false alarms)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from loyadsl.api import check_file, check_text

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
CASES = yaml.safe_load((HERE / "lints" / "cases.yaml").read_text(encoding="utf-8"))
HEADER = ('programme "P" version "1" {\n    currency RUB minor 2\n    timezone "UTC"\n}\n'
          'skus promo = ["A", "B", "C"]\nskus banned = ["B", "Z"]\n'
          "group g { priority 1  stacking stack_all  basis original }\n")


@pytest.mark.parametrize("case", CASES, ids=[c["why"] for c in CASES])
def test_lists_that_exclude_each_other(case: dict[str, Any]) -> None:
    result = check_text(HEADER + case["campaign"] + "\n", "lint.loya")
    assert not [d for d in result.diagnostics if d.severity == "error"], result.diagnostics
    found = [d for d in result.diagnostics if d.code == "LOY304"]
    assert len(found) == len(case["warn"])
    for d, values in zip(found, case["warn"], strict=True):
        assert f"both name {values}:" in d.message and d.span is not None and d.span.line == 8


PROGRAMMES = sorted([*ROOT.glob("examples/*/programme*.loya"), *ROOT.glob("tests/golden/*/programme.loya"),
                     *ROOT.glob("tests/golden_state/*/programme.loya")])


def test_the_lint_fires_on_real_programmes_only_where_meant() -> None:
    """Only the golden case that is this very pattern (a white list and a black list sharing "C")."""
    assert len(PROGRAMMES) > 40
    fired = [(p.parent.name, d.message) for p in PROGRAMMES for d in check_file(p).diagnostics if d.code == "LOY304"]
    assert fired == [("white_and_black_lists", 'campaign `c` wants sku in one list and not in another, and both '
                                               'name "C": those are never selected')]
