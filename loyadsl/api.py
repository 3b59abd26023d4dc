"""The toolchain's front door: check and compile programmes from files or text.

The CLI, the tests and later the language server and the simulator all go through here, so the
pipeline (parse → resolve → check → IR → bytecode → bundle) is wired in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from loyadsl.check.checker import check
from loyadsl.check.resolve import Loader, build_symbols
from loyadsl.compile import ir
from loyadsl.compile.bundle_writer import build_payload, write_bundle
from loyadsl.diagnostics import Diagnostic, error, has_errors
from loyadsl.syntax import nodes as n
from loyadsl.syntax.parser import parse
from loyadsl.syntax.yaml_twin import parse_yaml

MAX_REPORTED = 100


@dataclass
class CheckResult:
    programme: ir.Programme | None
    diagnostics: list[Diagnostic]
    sources: dict[str, str] = field(default_factory=dict)  # file as named in spans -> text

    @property
    def ok(self) -> bool:
        return self.programme is not None and not has_errors(self.diagnostics)


def is_yaml(name: str) -> bool:
    return name.lower().endswith((".yaml", ".yml"))


def parse_any(text: str, file: str) -> tuple[n.Module | None, list[Diagnostic]]:
    return parse_yaml(text, file) if is_yaml(file) else parse(text, file)


def check_text(text: str, file: str = "<input>", path: Path | None = None) -> CheckResult:
    loader = Loader(parse_any)
    loader.load_main(text, file, path)
    diagnostics = list(loader.diagnostics)
    programme = None
    if loader.files and not has_errors(diagnostics):
        table, symbol_diags = build_symbols(loader.files)
        diagnostics += symbol_diags
        programme, check_diags = check(table)  # even after a bad list: report every problem in one run
        diagnostics += check_diags
    sources = {f.display: f.text for f in loader.files}
    sources.setdefault(file, text)
    return CheckResult(programme if not has_errors(diagnostics) else None, _capped(diagnostics), sources)


def check_file(path: Path) -> CheckResult:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return CheckResult(None, [error("LOY407", f"cannot read {path}: {exc}")])
    return check_text(text, path.name, path)


def compile_file(path: Path, signing_key: bytes | None = None) -> tuple[bytes | None, CheckResult]:
    result = check_file(path)
    if not result.ok or result.programme is None:
        return None, result
    return write_bundle(result.programme, signing_key=signing_key), result


def compile_text(text: str, file: str = "<input>", path: Path | None = None) -> tuple[bytes | None, CheckResult]:
    result = check_text(text, file, path)
    if not result.ok or result.programme is None:
        return None, result
    return write_bundle(result.programme), result


def payload_of(programme: ir.Programme) -> dict[str, object]:
    return build_payload(programme)


def _capped(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    if len(diagnostics) <= MAX_REPORTED:
        return diagnostics
    rest = len(diagnostics) - MAX_REPORTED
    return [*diagnostics[:MAX_REPORTED],
            error("LOY105", f"{rest} more problems not shown (at most {MAX_REPORTED} are reported)")]
