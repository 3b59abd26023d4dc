"""Common slips get the `.loya` way to write them as their hint (loyadsl/syntax/slips.py and the
checker's unknown-template hint). Cases are data: tests/syntax/slips/cases.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from loyadsl.api import check_text

HEADER = ('programme "P" version "1" {\n    currency RUB minor 2\n    timezone "UTC"\n}\n'
          "group g { priority 1  stacking stack_all  basis original }\n")
CASES = yaml.safe_load((Path(__file__).parent / "slips" / "cases.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["why"] for c in CASES])
def test_a_slip_gets_the_loya_spelling(case: dict[str, Any]) -> None:
    result = check_text(HEADER + case["text"] + "\n", "slip.loya")
    errors = [d for d in result.diagnostics if d.severity == "error"]
    assert errors, "the slip must be an error"
    assert errors[0].code == case["code"]
    assert case["hint"] in (errors[0].hint or ""), errors[0].hint
