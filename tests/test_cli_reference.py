"""docs/cli-reference.md is what `python -m loyadsl.cli_reference` prints: the reference cannot drift."""

from __future__ import annotations

from pathlib import Path

from loyadsl.cli_reference import reference

PAGE = Path(__file__).resolve().parents[1] / "docs" / "cli-reference.md"


def test_the_checked_in_reference_is_up_to_date() -> None:
    assert PAGE.read_text(encoding="utf-8") == reference(), \
        "regenerate it: python -m loyadsl.cli_reference > docs/cli-reference.md"


def test_every_verb_and_option_is_in_the_reference() -> None:
    text = reference()
    for verb in ("check", "compile", "eval", "simulate", "diff", "fmt", "test", "serve", "ab report", "offers fit"):
        assert f"## `loya {verb}`" in text
    assert "| `--format`, `-f` |" in text and "| `--strict`, `--no-strict` |" in text
