"""Diagnostics rendered at the edge show the lexer's line, a window of a long line, and nothing a
terminal would act on: control characters and bidi overrides from the input come out as escapes."""

from __future__ import annotations

from loyadsl.diagnostics import Span, error
from loyadsl.render import SHOWN_COLUMNS, render_diagnostic


def _render(text: str, line: int, col: int, end_col: int, message: str = "bad") -> list[str]:
    d = error("LOY201", message, Span("f.loya", line, col, line, end_col), "a hint")
    return render_diagnostic(d, {"f.loya": text}).split("\n")


def test_escapes_and_bidi_overrides_never_reach_the_terminal() -> None:
    out = "\n".join(_render('title "\x1b[2J\u202eevil"\n', 1, 1, 6, message="name `\x1b]0;x\x07`"))
    assert "\x1b" not in out and "\u202e" not in out and "\x07" not in out
    assert "\\x1b[2J" in out and "\\u202e" in out


def test_a_long_line_is_shown_as_a_window_with_the_caret_under_the_token() -> None:
    text = "x" * 20_000 + "BAD" + "y" * 20_000
    _header, source, caret, _hint = _render(text, 1, 20_001, 20_004)
    assert len(source) <= SHOWN_COLUMNS + 12 and source.count("…") == 2
    assert source[caret.index("^"):caret.index("^") + 3] == "BAD" and caret.count("^") == 3


def test_lines_are_the_lexers_lines() -> None:
    text = "one\rstill one\u2028and still\nTWO\n"  # the lexer counts \n only
    assert _render(text, 2, 1, 4)[1].endswith("| TWO")
