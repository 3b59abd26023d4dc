"""The example of docs/commerce.md runs: its programme compiles, its receipt evaluates to the outcome
the page shows (the keys it writes), and each code page of LOY555-LOY557 shows the error its receipt
really raises."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from loyadsl.api import compile_text
from loyadsl.mechtest.match import compare
from loyadsl.runtime import Engine, load_bundle
from loyadsl.runtime.errors import ReceiptError
from loyadsl.runtime.model import Receipt

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(r"^```(loya|json|text)\n(.*?)^```", re.M | re.S)


def _blocks(path: Path) -> list[tuple[str, str]]:
    return BLOCK.findall(path.read_text(encoding="utf-8"))


def test_commerce_docs_example_gives_the_outcome_shown() -> None:
    blocks = _blocks(DOCS / "commerce.md")
    programme = next(text for kind, text in blocks if kind == "loya")
    receipt, expected = (json.loads(text) for kind, text in blocks if kind == "json")
    data, result = compile_text(programme, "commerce.loya", None)
    assert data is not None, [str(d) for d in result.diagnostics]
    outcome = Engine(load_bundle(data)).evaluate(receipt).to_dict()
    assert compare(expected, outcome) == []


@pytest.mark.parametrize("code", ["LOY555", "LOY556", "LOY557"])
def test_commerce_code_page_shows_the_real_error(code: str) -> None:
    blocks = _blocks(DOCS / "codes" / f"{code}.md")
    receipt = json.loads(next(text for kind, text in blocks if kind == "json"))
    shown = next(text for kind, text in blocks if kind == "text")
    with pytest.raises(ReceiptError) as raised:
        Receipt.from_dict(receipt)
    assert raised.value.code == code
    assert f"error[{code}]: bad.json: {raised.value.message}" in shown


def test_commerce_language_section_compiles() -> None:
    section = (DOCS / "language.md").read_text(encoding="utf-8").partition("## Line kinds, delivery and tax")[2]
    programme = next(text for kind, text in BLOCK.findall(section) if kind == "loya")
    data, result = compile_text(programme, "language.loya", None)
    assert data is not None, [str(d) for d in result.diagnostics]
    assert load_bundle(data).settings.commerce is not None
