"""The CLI reference (docs/cli-reference.md), generated from the typer app so it cannot drift.

    python -m loyadsl.cli_reference > docs/cli-reference.md

``tests/test_cli_reference.py`` fails when the checked-in page differs from what this prints.
"""

from __future__ import annotations

import enum
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

_HEAD = """# CLI reference

Generated from the `loya` command itself by `python -m loyadsl.cli_reference`; do not edit by hand.
How the verbs behave in CI (exit codes, output formats, assertions) is in [The command in CI](cli.md).
"""


def reference() -> str:
    from loyadsl.cli import app  # the CLI imports most of the toolkit: only when asked

    root = typer.main.get_command(app)
    return "\n".join([_HEAD, *_sections(root, "loya")]).rstrip("\n") + "\n"


def _sections(command: Any, path: str) -> Iterator[str]:
    subcommands = getattr(command, "commands", None)
    if subcommands is not None:
        for name in sorted(subcommands):
            sub = subcommands[name]
            if not getattr(sub, "hidden", False):
                yield from _sections(sub, f"{path} {name}")
        return
    yield f"## `{path}`\n"
    if command.help:
        yield " ".join(command.help.split()) + "\n"
    yield f"```text\n{path} {_usage(command)}\n```\n"
    rows = [_row(p) for p in command.params if not getattr(p, "hidden", False)]
    if rows:
        yield "| argument or option | value | default | what it does |\n|---|---|---|---|"
        yield "\n".join(rows) + "\n"


def _usage(command: Any) -> str:
    words = ["[OPTIONS]"] if any(p.opts[0].startswith("-") for p in command.params) else []
    for p in command.params:
        if not p.opts[0].startswith("-"):
            name = p.name.upper()
            words.append(f"{name}..." if p.nargs == -1 else name if p.required else f"[{name}]")
    return " ".join(words)


def _row(p: Any) -> str:
    is_option = p.opts[0].startswith("-")
    names = ", ".join(f"`{o}`" for o in [*p.opts, *p.secondary_opts]) if is_option else f"`{p.name.upper()}`"
    flag = bool(getattr(p, "is_flag", False))
    value = "" if flag else _value(p)
    if getattr(p, "multiple", False) or p.nargs == -1:
        value += " (repeatable)" if is_option else " (one or more)"
    default = "required" if p.required else _default(p.default, flag)
    text = " ".join((p.help or "").split()).replace("|", "\\|")
    return f"| {names} | {value.strip()} | {default} | {text} |"


def _value(p: Any) -> str:
    annotation = getattr(getattr(p, "type_descriptor", None), "annotation", None)
    if typing.get_origin(annotation) in (list, tuple):
        annotation = typing.get_args(annotation)[0]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return " \\| ".join(f"`{m.value}`" for m in annotation)
    names: dict[Any, str] = {Path: "PATH", int: "INTEGER", float: "NUMBER", str: "TEXT"}
    return names.get(annotation, "VALUE")


def _default(value: Any, flag: bool) -> str:
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None or value == [] or value == () or (flag and value is False):
        return ""
    return f"`{value}`"


if __name__ == "__main__":
    print(reference(), end="")
