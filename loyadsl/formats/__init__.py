"""CI formats: SARIF 2.1.0 (``sarif.py``), JUnit XML (``junit.py``) and GitHub Actions annotations
(``github.py``), one small module each, rendered at the edge like the text of ``loyadsl/render.py``.

They share nothing but the diagnostics model and this grouping of it: a ``Case`` is one thing a
verb checked (a programme file for ``loya check``, an assertion for ``simulate``/``diff``), in a
suite (the file, or the set of assertions), with the diagnostics it produced.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from loyadsl.diagnostics import Diagnostic


@dataclass(frozen=True)
class Case:
    """One checked thing and its findings. ``failed`` is the verb's verdict (errors, failing
    assertions, and warnings under ``--strict``); spans name files relative to the working folder."""

    suite: str
    name: str
    diagnostics: tuple[Diagnostic, ...] = ()
    failed: bool = False


def located(d: Diagnostic, main: Path) -> Diagnostic:
    """``d`` with its file named relative to the working folder, as CI tools expect: diagnostics name
    the main file ``main`` by its name and its imports relative to its folder; ``std:`` files stay."""
    if d.span is None or d.span.file.startswith("std:"):
        return d
    file = Path(d.span.file)
    return replace(d, span=replace(d.span, file=relative(file if file.is_absolute() else main.parent / file)))


def relative(path: Path) -> str:
    """``path`` relative to the working folder, with ``/``: how CI tools name the files of a checkout."""
    try:
        return Path(os.path.relpath(path)).as_posix()
    except ValueError:  # another drive
        return path.as_posix()
