"""SARIF 2.1.0 (the OASIS static analysis results format, read by GitHub code scanning and most CI
dashboards): one run of the ``loyadsl`` tool, one rule per code used, one result per diagnostic."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from loyadsl import __version__
from loyadsl.diagnostics import Diagnostic
from loyadsl.formats import Case
from loyadsl.runtime.codes import CODES

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
HELP = "docs/codes/{code}.md"  # a code's page, relative to the root of the loyadsl repository


def render(cases: Iterable[Case]) -> str:
    found = [d for case in cases for d in case.diagnostics]
    codes = sorted({d.code for d in found})
    rules = [{"id": code, "shortDescription": {"text": CODES.get(code, code)}, "helpUri": HELP.format(code=code)}
             for code in codes]
    index = {code: i for i, code in enumerate(codes)}
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "loyadsl", "version": __version__, "rules": rules}},
            "results": [_result(d, index[d.code]) for d in found],
        }],
    }
    return json.dumps(log, ensure_ascii=False, indent=2)


def _result(d: Diagnostic, rule: int) -> dict[str, Any]:
    text = "\n".join([d.message, *([f"hint: {d.hint}"] if d.hint else []), *(f"note: {n}" for n in d.notes)])
    result: dict[str, Any] = {"ruleId": d.code, "ruleIndex": rule, "level": d.severity.value,
                              "message": {"text": text}}
    if d.span is not None:
        result["locations"] = [{"physicalLocation": {
            "artifactLocation": {"uri": d.span.file},
            "region": {"startLine": d.span.line, "startColumn": d.span.col,
                       "endLine": d.span.end_line, "endColumn": d.span.end_col},
        }}]
    return result
