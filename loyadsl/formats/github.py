"""GitHub Actions annotations: one workflow command a diagnostic on stdout,
``::error file=F,line=L,endLine=L,col=C,endColumn=C,title=LOY203::message`` (``::warning`` for a
warning), escaped as the Actions toolkit escapes them (``%``, CR and LF in the message; those and
``:`` and ``,`` in a property)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from loyadsl.diagnostics import Diagnostic
from loyadsl.formats import Case

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")  # after CR and LF are escaped: ESC and the like


def render(cases: Iterable[Case]) -> str:
    return "".join(annotation(d) + "\n" for case in cases for d in case.diagnostics)


def annotation(d: Diagnostic) -> str:
    props = {"title": d.code}
    if d.span is not None:
        props = {"file": d.span.file, "line": str(d.span.line), "endLine": str(d.span.end_line),
                 "col": str(d.span.col), "endColumn": str(d.span.end_col), **props}
    text = "\n".join([d.message, *([f"hint: {d.hint}"] if d.hint else []), *(f"note: {n}" for n in d.notes)])
    listed = ",".join(f"{key}={_property(value)}" for key, value in props.items())
    return f"::{d.severity.value} {listed}::{_data(text)}"


def _data(text: str) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)  # no terminal escape reaches the log


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
