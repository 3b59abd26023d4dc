"""``loya test`` results for people (text), machines (JSON) and CI (SARIF, JUnit, GitHub annotations
through ``loyadsl/formats``): a case is a JUnit test case in its file's suite; a file that could not
be loaded is one failed case named ``(load)``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from rich.console import Console
from rich.markup import escape

from loyadsl import i18n
from loyadsl.formats import Case
from loyadsl.mechtest.runner import FileResult
from loyadsl.render import ci_report, print_diagnostics

LOAD = "(load)"


def cases(results: Iterable[FileResult]) -> list[Case]:
    out: list[Case] = []
    for r in results:
        if r.errors:
            out.append(Case(r.display, LOAD, tuple(r.errors), True))
        out += [Case(r.display, c.name, c.diagnostics, c.failed) for c in r.cases]
    return out


def counts(results: Sequence[FileResult]) -> dict[str, int]:
    every = [c for r in results for c in r.cases]
    failed = sum(c.failed for c in every)
    return {"files": len(results), "cases": len(every), "passed": len(every) - failed, "failed": failed,
            "errors": sum(bool(r.errors) for r in results)}


def as_json(results: Sequence[FileResult]) -> str:
    files = [{"file": r.display,
              "errors": [d.to_dict() for d in r.errors],
              "cases": [{"name": c.name, "passed": not c.failed, "diagnostics": [d.to_dict() for d in c.diagnostics]}
                        for c in r.cases]}
             for r in results]
    return json.dumps({"files": files, "summary": counts(results)}, ensure_ascii=False, indent=2)


def as_ci(fmt: str, results: Sequence[FileResult]) -> str:
    return ci_report(fmt, cases(results), "loya test")


def print_text(out: Console, results: Sequence[FileResult]) -> None:
    """A line per file (and per failing case), the diagnostics with the lines of the test file."""
    for r in results:
        sources = {r.display: r.source}
        if r.errors:
            out.print(f"[bold red]ERROR[/] {escape(r.display)}")
            print_diagnostics(out, r.errors, sources)
            continue
        failed = [c for c in r.cases if c.failed]
        line = "[bold red]FAIL[/] {path}: {passed}/{cases} cases pass" if failed else \
            "[green]ok[/] {path}: {passed}/{cases} cases pass"
        out.print(i18n.say(line, path=escape(r.display), passed=len(r.cases) - len(failed), cases=len(r.cases)))
        for c in failed:
            out.print(f"  [red]✗[/] {escape(c.name)}")
            print_diagnostics(out, c.diagnostics, sources)
    n = counts(results)
    out.print(i18n.say("{passed} passed, {failed} failed, {errors} files not loaded ({files} files, {cases} cases)",
                       **n))
