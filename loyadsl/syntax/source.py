"""Read a programme file of either syntax: ``.loya`` text or its YAML twin (``.yaml``/``.yml``)."""

from __future__ import annotations

from pathlib import Path

from loyadsl.diagnostics import Diagnostic, Span, error
from loyadsl.syntax import nodes as n
from loyadsl.syntax.parser import parse
from loyadsl.syntax.yaml_twin import parse_yaml

YAML_SUFFIXES = (".yaml", ".yml")


def is_yaml(path: Path | str) -> bool:
    return str(path).lower().endswith(YAML_SUFFIXES)


def parse_file(path: Path) -> tuple[n.Module | None, list[Diagnostic]]:
    """Parse a file by its extension; an unreadable or non-UTF-8 file is LOY407, never an exception."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line_start = exc.object.rfind(b"\n", 0, exc.start) + 1
        line = exc.object[: exc.start].count(b"\n") + 1
        col = len(exc.object[line_start : exc.start].decode("utf-8", "replace")) + 1
        return None, [error("LOY407", f"{path} is not UTF-8 text: byte 0x{exc.object[exc.start]:02x} cannot "
                                      "be decoded", Span(str(path), line, col, line, col + 1),
                            "save the file as UTF-8")]
    except OSError as exc:
        return None, [error("LOY407", f"cannot read {path}: {exc.strerror or exc}")]
    return parse_yaml(text, str(path)) if is_yaml(path) else parse(text, str(path))
