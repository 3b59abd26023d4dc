"""The bodies of ``loya collisions`` and ``loya find-sku`` (registered in the top-level cli.py)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from loyadsl.analysis.collisions import Verdict, analyse
from loyadsl.analysis.findings import findings
from loyadsl.analysis.skus import affecting
from loyadsl.api import compile_file
from loyadsl.compile import ir
from loyadsl.diagnostics import Diagnostic
from loyadsl.formats import Case, located, relative
from loyadsl.render import CI_FORMATS, ci_report, print_diagnostics
from loyadsl.runtime import Engine, LoyaError

BAD_PAIRS = "LOY710"  # --pairs names a campaign the programme does not have, or is not A,B
NOT_COMPILED = "LOY711"  # the programme has errors: there is nothing to analyse


def load(path: Path, allow_dirs: Iterable[Path] = ()) -> tuple[ir.Programme, Engine]:
    programme, engine, _ = load_with_sources(path, allow_dirs)
    return programme, engine


def load_with_sources(path: Path, allow_dirs: Iterable[Path] = ()) -> tuple[ir.Programme, Engine, dict[str, str]]:
    data, result = compile_file(path, allow_dirs=allow_dirs)
    if data is None or result.programme is None:
        first = next((d for d in result.diagnostics if d.severity == "error"), None)
        detail = f": {first.code} {first.message}" if first is not None else ""
        raise LoyaError(NOT_COMPILED, f"{path} does not compile{detail}; run `loya check {path}`", str(path))
    return result.programme, Engine.from_bytes(data), result.sources


def parse_pairs(text: str | None, programme: ir.Programme) -> list[tuple[str, str]] | None:
    if text is None:
        return None
    names = {c.name for c in programme.campaigns}
    pairs: list[tuple[str, str]] = []
    for item in text.split(";"):
        parts = [p.strip() for p in item.split(",")]
        if len(parts) != 2:
            raise LoyaError(BAD_PAIRS, f"wants A,B (pairs separated by ;), not {item!r}", "--pairs")
        for name in parts:
            if name not in names:
                raise LoyaError(BAD_PAIRS, f"no campaign {name!r} in the programme", "--pairs")
        pairs.append((parts[0], parts[1]))
    return pairs


def collisions(path: Path, fmt: str, pairs: str | None, out: Console, solver: bool = True,
               with_findings: bool = False, progress: Callable[[str, int, int], None] | None = None) -> bool:
    """The matrix (text, json) and, with ``with_findings`` or a CI format, the findings as warnings.
    True when there are findings (``--strict`` fails on them). ``progress`` hears ("pairs", decided, all)."""
    programme, engine, sources = load_with_sources(path)
    if fmt in CI_FORMATS:
        found = findings(programme, engine)
        case = Case(relative(path), relative(path), tuple(located(d, path) for d in found), bool(found))
        sys.stdout.write(ci_report(fmt, [case], "loya collisions"))
        return bool(found)
    verdicts = analyse(programme, engine, parse_pairs(pairs, programme), solver=solver, progress=progress)
    found = findings(programme, engine) if with_findings else []
    if fmt == "json":
        data: dict[str, Any] = {"programme": programme.name, "pairs": [v.to_dict() for v in verdicts]}
        if with_findings:
            data["findings"] = [d.to_dict() for d in found]
        out.print_json(json.dumps(data, ensure_ascii=False))
        return bool(found)
    out.print(matrix(programme, verdicts))
    for v in verdicts:
        if v.answer == "meet" and v.resolution is not None:
            r = v.resolution
            out.print(f"{escape(v.a)} × {escape(v.b)}: applied {', '.join(r['applied'])}; "
                      f"lost {', '.join(r['lost']) or 'none'}; discount {r['discount_total']}, "
                      f"points {r['points_total']}")
    print_diagnostics(out, found, sources)
    return bool(found)


def check_asserts(path: Path, allow_dirs: Iterable[Path] = ()) -> list[Diagnostic]:
    """The verdicts of the programme's `assert` blocks that are not proved (docs/collisions.md, "Assertions")."""
    from loyadsl.analysis import asserts

    programme, engine = load(path, allow_dirs)
    return asserts.diagnostics(asserts.verify(programme, engine), programme)


def check_findings(path: Path, allow_dirs: Iterable[Path] = ()) -> list[Diagnostic]:
    """The findings of ``loya check --collisions`` for a programme that checked clean."""
    programme, engine = load(path, allow_dirs)
    return findings(programme, engine)


SYMBOL = {"disjoint": "[green]·[/]", "meet": "[red]M[/]", "unknown": "[yellow]?[/]"}


def matrix(programme: ir.Programme, verdicts: list[Verdict]) -> Table:
    names = sorted({v.a for v in verdicts} | {v.b for v in verdicts},
                   key=[c.name for c in programme.campaigns].index)
    cell = {(v.a, v.b): v.answer for v in verdicts} | {(v.b, v.a): v.answer for v in verdicts}
    table = Table(title="collisions: M meet, · disjoint, ? unknown")
    table.add_column("")
    for i in range(len(names)):
        table.add_column(str(i + 1), justify="center")
    for i, a in enumerate(names):
        table.add_row(f"{i + 1} {escape(a)}", *(SYMBOL[cell[a, b]] if (a, b) in cell else "" for b in names))
    return table


def find_sku(path: Path, sku: str, fmt: str, out: Console) -> None:
    programme, _ = load(path)
    found = affecting(programme, sku)
    if fmt == "json":
        out.print_json(json.dumps({"sku": sku, "campaigns": found}, ensure_ascii=False))
        return
    table = Table(title=f"campaigns that can affect {escape(sku)}")
    for column in ("campaign", "group", "how", "effects"):
        table.add_column(column)
    for row in found:
        table.add_row(escape(row["campaign"]), escape(row["group"]), escape(row["how"]), ", ".join(row["effects"]))
    out.print(table)
