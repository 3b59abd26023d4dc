"""The trigger chains section of `loya doc` (docs/triggers.md): each trigger declared in the files, with
its doc comment and source, after the templates (``doc.render`` appends it)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from loyadsl import resource_dir
from loyadsl.syntax import nodes as n
from loyadsl.syntax.parser import parse

STD_TESTS = "tests/triggers/cases/stdlib.test.yaml"  # the golden tests of the standard chains (`loya test`)


def trigger_section(files: Sequence[Path]) -> list[str]:
    std = resource_dir("stdlib_mechanics").resolve()
    rows: list[tuple[str, str, str, list[str], str]] = []  # name, import, title, comment, source
    for path in files:
        text = path.read_text(encoding="utf-8")
        module, _ = parse(text, path.name)
        if module is None:
            continue
        lines = text.splitlines()
        importing = f"std:{path.stem}" if path.resolve().parent == std else path.as_posix()
        for decl in module.decls:
            if isinstance(decl, n.TriggerDecl) and decl.span is not None:
                comment = []
                for line in reversed(lines[:decl.span.line - 1]):
                    if not line.lstrip().startswith("#"):
                        break
                    comment.append(line.lstrip()[1:].removeprefix(" "))
                rows.append((decl.name, importing, decl.title or "", comment[::-1],
                             "\n".join(lines[decl.span.line - 1:decl.span.end_line])))
    if not rows:
        return []
    out = ["", "# Trigger chains", "", "Triggers ready to import (docs/triggers.md); their golden tests are `loya test` files "
           f"in `{STD_TESTS}`.", "", "| trigger | import | title |", "|---|---|---|"]
    out += [f"| [`{name}`](#{name}) | `{importing}` | {title} |" for name, importing, title, _, _ in sorted(rows)]
    for name, importing, _title, comment, source in sorted(rows):
        out += ["", f"## {name}", "", f"`import \"{importing}\"`", ""]
        out += [f"`{line.strip()}`" if line.startswith("    ") else line for line in comment]
        out += ["", "```loya", source, "```"]
    return out
