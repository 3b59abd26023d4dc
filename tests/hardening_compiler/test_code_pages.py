"""The pages of the compiler's hardening codes: each ```loya example under `## Example` yields its code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from loyadsl.api import check_text
from loyadsl.runtime.codes import CODES

PAGES = Path(__file__).resolve().parents[2] / "docs" / "codes"
OURS = sorted(code for code in CODES if 108 <= int(code[3:]) <= 119 or 220 <= int(code[3:]) <= 229)


@pytest.mark.parametrize("code", OURS)
def test_the_page_shows_its_title_and_its_examples_yield_the_code(code: str) -> None:
    text = (PAGES / f"{code}.md").read_text(encoding="utf-8")
    assert text.startswith(f"# {code}: {CODES[code]}\n")
    example = text.split("## Example", 1)[1].split("## Fix", 1)[0]
    for block in re.findall(r"```loya\n(.*?)```", example, re.S):
        assert code in {d.code for d in check_text(block, "example.loya").diagnostics}
