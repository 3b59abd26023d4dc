"""The coded errors of ``loya doc`` (a file that does not parse) as ``LoyaError`` for the verb."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from loyadsl.diagnostics import Diagnostic
from loyadsl.runtime import LoyaError

NOT_PARSED = "LOY755"


def cannot_document(path: Path, diagnostics: Sequence[Diagnostic]) -> LoyaError:
    first = next((d for d in diagnostics if d.is_error), None)
    detail = f"{first.span or path}: {first.code} {first.message}" if first else "no module"
    return LoyaError(NOT_PARSED, f"{path} does not parse, so its templates cannot be documented: {detail}")
