"""The one harness of the offers tests' compile-time error cases (YAML data: a programme body after a
two-line header, and the diagnostics it gives: code, line in the body, column, message and hint parts)."""

from __future__ import annotations

from typing import Any

from loyadsl.api import check_text


def assert_compile_errors(header: str, case: dict[str, Any]) -> None:
    diags = [d for d in check_text(header + case["body"], "s.loya").diagnostics if d.is_error]
    got = [(d.code, d.span.line - 2 if d.span else None, d.span.col if d.span else None) for d in diags]
    assert got == [(e["code"], e["line"], e["col"]) for e in case["expect"]], [str(d) for d in diags]
    for d, e in zip(diags, case["expect"], strict=True):
        assert e.get("message", "") in d.message
        assert e.get("hint", "") in (d.hint or "")
