"""The programmes of a project folder, for ``loya check DIR/``; its sources, for ``loya fmt DIR/``.

A folder holds main programmes (with a ``programme`` header) and the files they import (without
one), besides other YAML (column mappings, assertion lists, CI settings). Only the main programmes
are checked, each with its imports, so a file is reported through the programmes that use it. A
file that cannot be read or parsed counts as a programme, so that its problem is reported rather
than passed over. Hidden files and folders (``.git``, ``.venv``) are skipped; links to folders are
not followed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from loyadsl.api import is_yaml
from loyadsl.check.files import Refused, read_source
from loyadsl.syntax.parser import parse
from loyadsl.syntax.yaml_twin import SECTIONS

SOURCE_SUFFIXES = (".loya", ".yaml", ".yml")
_YAML_HEADER = re.compile(r"""^["']?programme["']?[ \t]*:""", re.MULTILINE)  # a top-level `programme:` key
_PROGRAMME_KEYS = "|".join(("programme", "imports", "declarations", *SECTIONS.values()))
_YAML_SECTION = re.compile(  # a top-level key that only a programme (or a module it imports) has
    rf"""^["']?({_PROGRAMME_KEYS})["']?[ \t]*:""", re.MULTILINE)


def programmes(folder: Path) -> list[Path]:
    """The main programmes under ``folder``, in a stable order (folders and names sorted)."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(root) / name
            if name.endswith(SOURCE_SUFFIXES) and not name.startswith(".") and is_main(path):
                found.append(path)
    return found


def sources(folder: Path) -> list[Path]:
    """Every programme source under ``folder`` for the formatter: each .loya file (main or imported) and
    each YAML file whose top level has a key of a programme (``programme``, ``campaigns``, ...), so
    column mappings and CI settings are left alone. Same order and skipping as ``programmes``."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(root) / name
            if name.startswith(".") or not name.endswith(SOURCE_SUFFIXES):
                continue
            if not is_yaml(name) or _is_programme_yaml(path):
                found.append(path)
    return found


def _is_programme_yaml(path: Path) -> bool:
    try:
        text = read_source(path)
    except (Refused, OSError):
        return True  # the formatter reports why it cannot be read
    return _YAML_SECTION.search(text) is not None


def is_main(path: Path) -> bool:
    """Whether ``path`` is a main programme: it declares a header, or cannot be read or parsed."""
    try:
        text = read_source(path)
    except (Refused, OSError):
        return True
    if is_yaml(path.name):
        return _YAML_HEADER.search(text) is not None
    module, diagnostics = parse(text, path.name)
    return module is None or bool(diagnostics) or module.header is not None
