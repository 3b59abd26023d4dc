"""The glue of ``loya test`` and ``loya doc`` (the verbs in ``cli.py`` stay a few lines each):
finding the files, running or rendering them, the exit code. Usage problems raise ``LoyaError``
with LOY754 (nothing to test or document at a path) for the verb to report, exit 2."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from rich.console import Console

from loyadsl import resource_dir
from loyadsl.formats import relative
from loyadsl.mechtest import report
from loyadsl.mechtest.runner import FileResult, run_file
from loyadsl.runtime import LoyaError

NOTHING = "LOY754"
SUFFIXES = (".test.yaml", ".test.yml")
EXIT_OK, EXIT_FAILED, EXIT_ERRORS = 0, 1, 2


def test_files(paths: Sequence[Path]) -> list[Path]:
    """The test files named, and those below each folder named, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in _walk(path) if p.name.endswith(SUFFIXES))
            if not inside:
                raise LoyaError(NOTHING, f"{path}: no test file (`*.test.yaml`) in this folder")
            found += inside
        elif path.is_file():
            found.append(path)
        else:
            raise LoyaError(NOTHING, f"{path}: no such file or folder")
    return found


def _walk(folder: Path) -> Iterator[Path]:
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name in ("node_modules", "__pycache__"):
            continue
        if entry.is_dir() and not entry.is_symlink():
            yield from _walk(entry)
        elif entry.is_file():
            yield entry


def run(paths: Sequence[Path], fmt: str, out: Console) -> int:
    """Run the tests at ``paths``, print them in ``fmt``; the exit code."""
    results: list[FileResult] = [run_file(path, relative(path)) for path in test_files(paths)]
    if fmt == "text":
        report.print_text(out, results)
    elif fmt == "json":
        sys.stdout.write(report.as_json(results) + "\n")
    else:
        sys.stdout.write(report.as_ci(fmt, results))
    if any(r.errors for r in results):
        return EXIT_ERRORS
    return EXIT_FAILED if any(c.failed for r in results for c in r.cases) else EXIT_OK


def doc(paths: Sequence[Path], output: Path | None, check: bool, out: Console) -> int:
    """Render the templates at ``paths`` (default: the standard mechanics) as Markdown; with
    ``check``, exit 1 when ``output`` is not what would be written."""
    from loyadsl.mechtest.doc import render, template_files

    text = render(template_files(paths or [resource_dir("stdlib_mechanics")]), standard=not paths)
    if check:
        if output is None:
            raise LoyaError(NOTHING, "--check compares with a file: give it with --output")
        current = output.read_text(encoding="utf-8") if output.is_file() else None
        if current != text:
            out.print(f"{output} is out of date: run `loya doc -o {output}`")
            return EXIT_FAILED
        out.print(f"{output} is up to date")
        return EXIT_OK
    if output is None:
        sys.stdout.write(text)
    else:
        _write(output, text)
    return EXIT_OK


def _write(path: Path, text: str) -> None:
    """Write ``text`` whole or not at all: a temporary file in the same folder, renamed over ``path``."""
    try:
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as exc:
        raise LoyaError("LOY407", f"cannot write {path}: {exc.strerror or type(exc).__name__}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as tmp:
            tmp.write(text)
        os.chmod(name, path.stat().st_mode & 0o7777 if path.exists() else 0o644)  # mkstemp's is 0600
        os.replace(name, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise LoyaError("LOY407", f"cannot write {path}: {exc.strerror or type(exc).__name__}") from None
