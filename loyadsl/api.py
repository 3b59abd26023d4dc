"""The toolchain's front door: check and compile programmes from files or text.

The CLI, the tests and later the language server and the simulator all go through here, so the
pipeline (parse → resolve → check → IR → bytecode → bundle) is wired in exactly one place.

The files a programme reads (imports, ``from "PATH"`` lists) must lie inside its roots: the folder
of ``path`` and every folder in ``allow_dirs`` (``check/files.py``, docs/language.md "Files"). Text
checked with no ``path`` and no ``allow_dirs`` reads no files (LOY111). These functions never
raise on any input: every problem is a diagnostic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from loyadsl.check.checker import check
from loyadsl.check.files import Reader, Refused, Roots, read_source
from loyadsl.check.resolve import LoadedFile, Loader, ParseFile, build_symbols
from loyadsl.compile import ir
from loyadsl.compile.bundle_writer import build_payload
from loyadsl.diagnostics import Diagnostic, Span, error, has_errors, warning
from loyadsl.runtime.bundle import collector_paused, pack_bundle
from loyadsl.runtime.limits import MAX_ERRORS, MAX_RECEIPT_LINES, MAX_STATIC_COST
from loyadsl.syntax import nodes as n
from loyadsl.syntax.parser import parse
from loyadsl.syntax.yaml_twin import parse_yaml


@dataclass
class CheckResult:
    programme: ir.Programme | None
    diagnostics: list[Diagnostic]
    sources: dict[str, str] = field(default_factory=dict)  # file as named in spans -> text
    files: list[LoadedFile] = field(default_factory=list)  # the parsed files, main first (the language server's index)

    @property
    def ok(self) -> bool:
        return self.programme is not None and not has_errors(self.diagnostics)


def is_yaml(name: str) -> bool:
    return name.lower().endswith((".yaml", ".yml"))


def parse_any(text: str, file: str) -> tuple[n.Module | None, list[Diagnostic]]:
    return parse_yaml(text, file) if is_yaml(file) else parse(text, file)


def check_text(text: str, file: str = "<input>", path: Path | None = None,
               allow_dirs: Iterable[Path] = (), parse_text: ParseFile = parse_any) -> CheckResult:
    """Check ``text``, the programme file ``file`` (as diagnostics name it) found at ``path`` (None: given
    as text); the files it names are read from ``path``'s folder and ``allow_dirs`` only. ``parse_text``
    parses each file (the language server passes one that remembers the last version).

    The cycle collector waits while the check runs (``collector_paused``): it builds trees and tables of
    many small objects, and the collections it would run meanwhile (three full ones for 1,000 campaigns)
    free nothing they hold; what the check leaves behind is collected once the collector runs again."""
    with collector_paused():
        return _check_text(text, file, path, allow_dirs, parse_text)


def _check_text(text: str, file: str, path: Path | None, allow_dirs: Iterable[Path],
                parse_text: ParseFile) -> CheckResult:
    unencodable = _not_unicode(text, file)
    if unencodable is not None:
        return CheckResult(None, [unencodable], {})
    reader = Reader(Roots.of(path, allow_dirs))
    loader = Loader(parse_text, reader)
    loader.load_main(text, file, path)
    diagnostics = list(loader.diagnostics)
    programme = None
    if loader.files and not has_errors(diagnostics):
        table, symbol_diags = build_symbols(loader.files, reader)
        diagnostics += symbol_diags
        programme, check_diags = check(table)  # even after a bad list: report every problem in one run
        diagnostics += check_diags
    sources = {f.display: f.text for f in loader.files}
    sources.setdefault(file, text)
    return CheckResult(programme if not has_errors(diagnostics) else None, _capped(diagnostics), sources,
                       list(loader.files))


def check_strategies(text: str, file: str, result: CheckResult) -> CheckResult | None:
    """A file that holds offer strategies only (the stdlib's, docs/offers.md) rather than a programme:
    checked as `loya check` and `loya offers issue` check it, without a programme or a model; None for
    any other file (``result``, the file checked as a programme, says which)."""
    if is_yaml(file):
        if result.ok:
            return None
    elif len(result.files) != 1 or not _strategies_only(result.files[0].module):
        return None
    from loyadsl.offers.strategy_loya import check_strategy_file
    found = check_strategy_file(Path(file), text)
    return None if found is None else CheckResult(None, _capped(found[0]), {file: text}, result.files)


def _strategies_only(module: n.Module) -> bool:
    return module.header is None and bool(module.decls) and all(isinstance(d, n.StrategyDecl) for d in module.decls)


def check_file(path: Path, allow_dirs: Iterable[Path] = ()) -> CheckResult:
    """Check the programme in ``path`` (a regular UTF-8 file; its folder is a root, as is every ``allow_dirs``)."""
    try:
        text = read_source(path)
    except Refused as refused:
        return CheckResult(None, [error(refused.code, f"cannot read `{path}`: {refused.message}",
                                              Span(path.name, 1, 1, 1, 1), refused.hint)])
    except OSError as exc:
        return CheckResult(None, [error("LOY407", f"cannot read {path}: {exc.strerror or type(exc).__name__}")])
    return check_text(text, path.name, path, allow_dirs)


def compile_file(path: Path, signing_key: bytes | None = None,
                 allow_dirs: Iterable[Path] = ()) -> tuple[bytes | None, CheckResult]:
    return _bundle(check_file(path, allow_dirs), path.name, signing_key)


def compile_text(text: str, file: str = "<input>", path: Path | None = None,
                 allow_dirs: Iterable[Path] = ()) -> tuple[bytes | None, CheckResult]:
    return _bundle(check_text(text, file, path, allow_dirs), file, None)


def _bundle(result: CheckResult, file: str, signing_key: bytes | None) -> tuple[bytes | None, CheckResult]:
    """The bundle of a checked programme, unless its static cost makes it one no till would load (the
    collector paused meanwhile, as in ``check_text``)."""
    if not result.ok or result.programme is None:
        return None, result
    with collector_paused():
        return _packed(result, file, signing_key)


def _packed(result: CheckResult, file: str, signing_key: bytes | None) -> tuple[bytes | None, CheckResult]:
    assert result.programme is not None
    payload = build_payload(result.programme)
    problem = cost_problem(payload["cost"]["fixed"], payload["cost"]["per_line"], file)
    if problem is not None:
        result.diagnostics.append(problem)
        if has_errors([problem]):
            return None, result
    return pack_bundle(payload, signing_key=signing_key), result


def cost_problem(fixed: int, per_line: int, file: str) -> Diagnostic | None:
    """LOY411 when no receipt fits the cost bound, LOY303 when the longest receipts do not
    (docs/bundle.md, "Static cost")."""
    where = Span(file, 1, 1, 1, 1)
    if fixed + per_line > MAX_STATIC_COST:
        return error("LOY411", f"the programme costs {fixed:,} + {per_line:,}·lines units, more than "
                               f"MAX_STATIC_COST ({MAX_STATIC_COST:,}) even for a one-line receipt", where,
                     "`loya inspect` lists each campaign's cost: split the programme, or shorten the costliest")
    lines = (MAX_STATIC_COST - fixed) // per_line if per_line else MAX_RECEIPT_LINES
    if lines < MAX_RECEIPT_LINES:
        return warning("LOY303", f"the programme costs {fixed:,} + {per_line:,}·lines units: tills evaluate "
                                 f"receipts of at most {lines:,} lines with it (LOY520 beyond), not "
                                 f"{MAX_RECEIPT_LINES:,}", where,
                       "fine for most shops; `loya inspect` lists each campaign's cost if more is needed")
    return None


def payload_of(programme: ir.Programme) -> dict[str, object]:
    return build_payload(programme)


def _not_unicode(text: str, file: str) -> Diagnostic | None:
    """LOY114 when ``text`` holds a lone surrogate (a str that no UTF-8 file can hold), at its place."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        before = text[:exc.start]
        line = before.count("\n") + 1
        col = exc.start - (before.rfind("\n") + 1) + 1
        return error("LOY114", f"the source holds U+{ord(text[exc.start]):04X}, a surrogate, which is not a character",
                     Span(file, line, col, line, col + 1), "pass text that is valid Unicode")
    return None


def _capped(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """At most MAX_ERRORS diagnostics, then one saying how many more: an error only when an error is
    among those left out (101 warnings leave a valid programme valid)."""
    if len(diagnostics) <= MAX_ERRORS:
        return diagnostics
    hidden = diagnostics[MAX_ERRORS:]
    more = error if has_errors(hidden) else warning
    return [*diagnostics[:MAX_ERRORS],
            more("LOY105", f"{len(hidden)} more problems not shown (at most {MAX_ERRORS} are reported)")]
