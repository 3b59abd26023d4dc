"""Load a programme's files (following imports) and build its symbol table.

Imports are followed depth-first and each file is loaded once, so files may import each other;
``std:NAME`` reads the bundled ``stdlib_mechanics/NAME.loya``. Every other file a programme names
(imports, ``from "PATH"`` lists) is read under containment (``check/files.py``). Every name is declared once across all files (LOY205).
State declarations (docs/state.md) have a namespace per kind, since ``issue welcome`` and
``campaign welcome`` read naturally together: accounts, counters and chips (one namespace: both are
read and changed by the same instructions), coupon series, certificate series; a programme has at
most one tier ladder, one redemption and one referral (LOY216).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from loyadsl import resource_dir
from loyadsl.check.files import Reader, Refused, decode
from loyadsl.check.segments import SEGMENT_DECLS, SegmentTable
from loyadsl.check.segments import record as record_segment_decl
from loyadsl.diagnostics import Diagnostic, Span, error, warning
from loyadsl.syntax import nodes as n

ParseFile = Callable[[str, str], tuple[n.Module | None, list[Diagnostic]]]  # (text, file) -> module


@dataclass
class LoadedFile:
    display: str  # how diagnostics and the manifest name it
    path: Path | None
    text: str
    module: n.Module


@dataclass
class SymbolTable:
    header: n.Header | None = None
    lists: dict[str, n.ListDecl] = field(default_factory=dict)
    list_items: dict[str, frozenset[str]] = field(default_factory=dict)
    groups: dict[str, n.GroupDecl] = field(default_factory=dict)
    templates: dict[str, n.TemplateDecl] = field(default_factory=dict)
    campaigns: dict[str, n.CampaignDecl] = field(default_factory=dict)
    accounts: dict[str, n.AccountDecl] = field(default_factory=dict)
    counters: dict[str, n.CounterDecl] = field(default_factory=dict)  # counters and chips
    coupons: dict[str, n.CouponSeriesDecl] = field(default_factory=dict)
    certificates: dict[str, n.CertificateDecl] = field(default_factory=dict)
    tiers: n.TierLadderDecl | None = None
    redemption: n.RedemptionDecl | None = None
    referral: n.ReferralDecl | None = None
    experiments: dict[str, n.ExperimentDecl] = field(default_factory=dict)
    asserts: dict[str, n.AssertDecl] = field(default_factory=dict)
    triggers: dict[str, n.TriggerDecl] = field(default_factory=dict)  # docs/triggers.md
    files: list[LoadedFile] = field(default_factory=list)
    data_files: dict[str, str] = field(default_factory=dict)  # CSV lists read: display -> sha256
    segment_decls: SegmentTable = field(default_factory=SegmentTable)  # docs/segments.md
    strategies: dict[str, n.StrategyDecl] = field(default_factory=dict)  # docs/offers.md

    def all_names(self) -> set[str]:
        return set(self.lists) | set(self.groups) | set(self.templates) | set(self.campaigns)


def file_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Loader:
    """Reads the main file and everything it imports, in a stable order."""

    def __init__(self, parse_text: ParseFile, reader: Reader | None = None) -> None:
        self.parse_text = parse_text
        self.reader = reader or Reader()
        self.diagnostics: list[Diagnostic] = []
        self.files: list[LoadedFile] = []
        self._seen: set[str] = set()

    def load_main(self, text: str, display: str, path: Path | None) -> None:
        self._load(text, display, path)

    def _load(self, text: str, display: str, path: Path | None) -> None:
        key = str(path.resolve()) if path else display
        if key in self._seen:
            return
        self._seen.add(key)
        module, diags = self.parse_text(text, display)
        self.diagnostics.extend(diags)
        if module is None:
            return
        self.files.append(LoadedFile(display, path, text, module))
        base = path.resolve().parent if path else None
        for imp in module.imports:
            self._import(imp, base)

    def _import(self, imp: n.Import, base: Path | None) -> None:
        try:
            self._follow(imp, base)
        except Refused as refused:
            self.diagnostics.append(error(refused.code, f"cannot import `{imp.path}`: {refused.message}", imp.span,
                                          refused.hint))
        except (OSError, ValueError) as exc:  # a name too long, a loop of links, no permission...
            self.diagnostics.append(error("LOY107", f"cannot import `{imp.path}`: {_reason(exc)}", imp.span))

    def _follow(self, imp: n.Import, base: Path | None) -> None:
        if imp.path.startswith("std:"):
            name = imp.path[4:]
            if not name.replace("_", "a").isalnum():
                self.diagnostics.append(error("LOY107", f"`{name}` is not a standard mechanic's name", imp.span,
                                              "write `import \"std:n_plus_one\"`"))
                return
            target = resource_dir("stdlib_mechanics") / f"{name}.loya"
            display = imp.path
        else:
            target = self.reader.resolve(imp.path, base)
            display = imp.path if not self.files else _relative_display(target, self.files[0].path)
        if not target.exists():
            hint = None
            if imp.path.startswith("std:"):
                names = sorted(p.stem for p in resource_dir("stdlib_mechanics").glob("*.loya"))
                hint = f"the standard mechanics are: {', '.join(names)}" if names else None
            self.diagnostics.append(error("LOY107", f"import `{imp.path}` not found", imp.span, hint))
            return
        self._load(decode(self.reader.read(target, contained=not imp.path.startswith("std:"))), display, target)


def _reason(exc: OSError | ValueError) -> str:
    """Why a file could not be read, without its path (the diagnostic names the path as written)."""
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__


def _relative_display(target: Path, main: Path | None) -> str:
    if main is None:
        return str(target)
    try:
        return str(target.relative_to(main.resolve().parent))
    except ValueError:
        return str(target)


# The symbol table's dictionary of each named declaration, by the declaration's node type.
_TABLES: dict[type[n.Decl], str] = {
    n.ListDecl: "lists", n.GroupDecl: "groups", n.TemplateDecl: "templates", n.CampaignDecl: "campaigns",
    n.ExperimentDecl: "experiments", n.AssertDecl: "asserts", n.TriggerDecl: "triggers",
    n.StrategyDecl: "strategies",
}


def build_symbols(files: list[LoadedFile], reader: Reader | None = None) -> tuple[SymbolTable, list[Diagnostic]]:
    reader = reader or Reader()
    table = SymbolTable(files=files)
    diags: list[Diagnostic] = []
    declared: dict[str, Span | None] = {}
    state_declared: dict[tuple[str, str], Span | None] = {}
    for index, loaded in enumerate(files):
        diags.extend(_header(table, loaded, index))
        for decl in loaded.module.decls:
            if isinstance(decl, SEGMENT_DECLS):
                record_segment_decl(table.segment_decls, decl)
            elif isinstance(decl, STATE_DECLS):
                diags.extend(_state_decl(table, decl, state_declared))
            elif decl.name in declared:
                where = declared[decl.name]
                diags.append(error("LOY205", f"`{decl.name}` is declared twice", decl.span,
                                   f"the first declaration is at {where}" if where else None))
            else:
                declared[decl.name] = decl.span
                diags.extend(_declare(table, decl, loaded, reader))
    if files and table.header is None:
        diags.append(error("LOY210", "the programme has no header", None,
                           'start the main file with `programme "Name" { currency RUB minor 2  '
                           'timezone "Europe/Moscow" }`'))
    return table, diags


def _header(table: SymbolTable, loaded: LoadedFile, index: int) -> list[Diagnostic]:
    """The main file's header is the programme's; an imported file may not have one."""
    header = loaded.module.header
    if header is None:
        return []
    if index == 0:
        table.header = header
        return []
    return [error("LOY210", f"imported file `{loaded.display}` has a programme header", header.span,
                  "only the main file declares the programme; remove this header")]


def _declare(table: SymbolTable, decl: n.Decl, loaded: LoadedFile, reader: Reader) -> list[Diagnostic]:
    """Enter a named declaration in its table; a list's items are read (from its file, if any)."""
    kind = _TABLES.get(type(decl))
    if kind is None:
        return []
    getattr(table, kind)[decl.name] = decl
    if not isinstance(decl, n.ListDecl):
        return []
    items, diags = _list_items(decl, loaded, table.data_files, reader)
    table.list_items[decl.name] = items
    return diags


STATE_DECLS = (n.AccountDecl, n.CounterDecl, n.CouponSeriesDecl, n.CertificateDecl, n.TierLadderDecl,
               n.RedemptionDecl, n.ReferralDecl)
# declaration type -> (namespace, what a diagnostic calls it, the symbol table's dictionary of them)
_NAMESPACES: dict[type, tuple[str, str, str]] = {
    n.AccountDecl: ("account", "account", "accounts"),
    n.CounterDecl: ("counter", "counter or chips", "counters"),
    n.CouponSeriesDecl: ("coupons", "coupon series", "coupons"),
    n.CertificateDecl: ("certificates", "certificate series", "certificates"),
}
_SINGLETONS: dict[type, str] = {n.TierLadderDecl: "tiers", n.RedemptionDecl: "redemption",
                                n.ReferralDecl: "referral"}


def _state_decl(table: SymbolTable, decl: n.Decl, declared: dict[tuple[str, str], Span | None]) -> list[Diagnostic]:
    """Record a state declaration in its own namespace; a second tier ladder, redemption or referral
    is LOY216 (the runtime keeps one of each per customer)."""
    kind = type(decl)
    if kind in _SINGLETONS:
        word = _SINGLETONS[kind]
        first = getattr(table, word)
        if first is not None:
            where = f"the first is at {first.span}" if first.span else None
            return [error("LOY216", f"a programme has one `{word}` declaration; this is a second", decl.span,
                          where)]
        setattr(table, word, decl)
        return []
    namespace, what, tab = _NAMESPACES[kind]
    key = (namespace, decl.name)
    if key in declared:
        span = declared[key]
        return [error("LOY205", f"{what} `{decl.name}` is declared twice", decl.span,
                      f"the first declaration is at {span}" if span else None)]
    declared[key] = decl.span
    getattr(table, tab)[decl.name] = decl
    return []


def _list_items(
    decl: n.ListDecl, loaded: LoadedFile, data_files: dict[str, str], reader: Reader
) -> tuple[frozenset[str], list[Diagnostic]]:
    if decl.items is not None:
        if not decl.items:
            return frozenset(), [warning("LOY209", f"list `{decl.name}` is empty", decl.span)]
        return frozenset(decl.items), []
    source = decl.source
    assert source is not None
    span = source.span or decl.span
    try:
        raw = reader.read(reader.resolve(source.path, loaded.path.resolve().parent if loaded.path else None))
        values = _csv_column(decode(raw), source)
    except Refused as refused:
        return frozenset(), [error(refused.code, f"cannot read `{source.path}` for list `{decl.name}`: {refused.message}", span,
                                   refused.hint)]
    except csv.Error as exc:  # csv's messages name the rule broken, not the text
        return frozenset(), [error("LOY209", f"cannot read `{source.path}`: {exc}", span)]
    except (OSError, ValueError) as exc:
        return frozenset(), [error("LOY209", f"cannot read `{source.path}`: {_reason(exc)}", span)]
    if values is None:
        return frozenset(), [error("LOY209", f"`{source.path}` has no column `{source.column}`", span,
                                   "the file's first row names its columns; `column` names one of them")]
    data_files[source.path] = hashlib.sha256(raw).hexdigest()
    items = frozenset(v for v in values if v)
    if not items:
        return items, [warning("LOY209", f"list `{decl.name}` read no values from `{source.path}`", decl.span)]
    return items, []


def _csv_column(text: str, source: n.CsvSource) -> list[str] | None:
    """The stripped values of the source's column (None when the header row has no such column)."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None or source.column not in reader.fieldnames:
        return None
    return [(row[source.column] or "").strip() for row in reader]
