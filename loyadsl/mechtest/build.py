"""The programme a template test runs: a header, the import that defines the template, the
declarations the test gives, one group ``base`` and the campaign under test using the template."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from loyadsl import resource_dir
from loyadsl.mechtest.model import TestFile


def std_import(template: str) -> str | None:
    """``std:NAME`` of the standard mechanic file that defines ``template``, or None."""
    pattern = re.compile(rf"^template\s+{re.escape(template)}\s*\(", re.M)
    for path in sorted(resource_dir("stdlib_mechanics").glob("*.loya")):
        if pattern.search(path.read_text(encoding="utf-8")):
            return f"std:{path.stem}"
    return None


def programme_text(test: TestFile) -> str:
    assert test.template is not None
    source = test.import_ or std_import(test.template) or f"std:{test.template}"
    args = ", ".join(f"{name} = {_literal(value)}" for name, value in test.args.items())
    return "\n".join([
        f'programme "test of {test.template}" {{',
        textwrap.indent(test.header.strip(), "    "),
        "}",
        "",
        f'import "{source}"',
        "",
        test.declare.strip(),
        "",
        "group base { priority 100 stacking stack_all basis discounted }",
        "",
        f"campaign {test.campaign} uses {test.template}({args}) {{",
        "    group base",
        textwrap.indent(test.clauses.strip(), "    "),
        "}",
        "",
    ])


def _literal(value: bool | int | str) -> str:
    """An argument as .loya text: YAML's `true` is .loya's `true`, a number or text stays as written."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def generated_path(test_path: Path) -> Path:
    """Where the written programme is taken to live: next to the test file, so relative imports work."""
    return test_path.with_name(test_path.name.split(".")[0] + ".generated.loya")
