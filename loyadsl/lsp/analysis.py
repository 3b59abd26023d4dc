"""What an editor asks about a programme, answered from the parser and the checker: no protocol here.

An ``Index`` lists the declarations of a checked programme and of every file it imports (so a
template from ``std:`` has a definition too), each with the comment written above it. Positions
are 0-based (line, character in code points), as editors count; ``Span`` is 1-based.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from loyadsl import resource_dir
from loyadsl.api import CheckResult, check_strategies, check_text, is_yaml, parse_any
from loyadsl.check.checker import (
    CUSTOMER_FIELDS,
    LINE_FIELDS,
    RECEIPT_FIELDS,
    STACKING_MODES,
    STATE_READS,
)
from loyadsl.check.resolve import LoadedFile
from loyadsl.check.types import param_type
from loyadsl.diagnostics import Span
from loyadsl.syntax import nodes as n
from loyadsl.syntax.incremental import IncrementalParser

Position = tuple[int, int]  # 0-based line, character
_WORD = re.compile(r"[A-Za-z0-9_.]")
# the namespaces whose fields follow a dot, and what each field is
_FIELDS = {"receipt": RECEIPT_FIELDS, "customer": CUSTOMER_FIELDS}


@dataclass(frozen=True)
class Symbol:
    """A declared name: what it is (``detail``, one line of source-like text), its doc comment, where."""

    name: str
    kind: str  # list, template, group, campaign, account, counter, chips, coupons, certificates
    detail: str
    doc: str
    file: str  # as diagnostics name it
    path: Path | None
    span: Span
    notes: tuple[str, ...] = ()


@dataclass
class Index:
    symbols: dict[str, Symbol] = field(default_factory=dict)
    # a template's parameters with their types, and the span of the template they belong to
    params: list[tuple[Span, dict[str, str]]] = field(default_factory=list)

    def param_at(self, name: str, file: str, pos: Position) -> str | None:
        for span, params in self.params:
            if span.file == file and name in params and _inside(span, pos):
                return params[name]
        return None


@dataclass
class Analysis:
    """One version of one document: the checker's verdict and the index of what it declares."""

    result: CheckResult
    index: Index
    file: str


def analyse(text: str, file: str, path: Path | None = None, parser: IncrementalParser | None = None) -> Analysis:
    """Check one version of a document; with ``parser``, the declarations unchanged since its last
    version are not parsed again."""
    parse_text = parse_any if parser is None else (lambda t, f: parse_any(t, f) if is_yaml(f) else parser(t, f))
    result = check_text(text, file, path, parse_text=parse_text)
    result = check_strategies(text, file, result) or result
    return Analysis(result, index_of(result), file)


def index_of(result: CheckResult) -> Index:
    index = Index()
    for loaded in result.files:
        for decl in loaded.module.decls:
            if decl.span is None or decl.name in index.symbols:
                continue
            index.symbols[decl.name] = _symbol(decl, loaded, ())
            if isinstance(decl, n.TemplateDecl):
                index.params.append((decl.span, {p.name: p.type_name for p in decl.params}))
    return index


def _symbol(decl: n.Decl, loaded: LoadedFile, notes: tuple[str, ...]) -> Symbol:
    assert decl.span is not None
    kind, detail, extra = _describe(decl)
    return Symbol(decl.name, kind, detail, doc_comment(loaded.text, decl.span.line), loaded.display, loaded.path,
                  decl.span, (*extra, *notes))


def _describe(decl: n.Decl) -> tuple[str, str, tuple[str, ...]]:
    """(kind, the declaration's head as source, notes) for hover."""
    written: str | None = getattr(decl, "title", None)
    title = f' "{written}"' if written else ""
    if isinstance(decl, n.ListDecl):
        size = (f"{len(decl.items)} items" if decl.items is not None
                else f'read from "{decl.source.path}" column "{decl.source.column}"' if decl.source else "")
        return "list", f"{decl.kind} {decl.name}", (f"type: set of {decl.kind}; {size}",)
    if isinstance(decl, n.TemplateDecl):
        params = ", ".join(f"{p.name}: {p.type_name}" for p in decl.params)
        return "template", f"template {decl.name}({params}){title}", ()
    if isinstance(decl, n.GroupDecl):
        settings = [f"priority {decl.priority}" if decl.priority is not None else "",
                    f"stacking {decl.stacking}" if decl.stacking else "",
                    f"basis {decl.basis}" if decl.basis else ""]
        return "group", f"group {decl.name}{title}", ("; ".join(s for s in settings if s),)
    if isinstance(decl, n.CampaignDecl):
        group = next((c.group for c in decl.clauses if isinstance(c, n.GroupClause)), None)
        uses = f" uses {decl.uses.template}(...)" if decl.uses else ""
        return "campaign", f"campaign {decl.name}{title}{uses}", ((f"group: {group}",) if group else ())
    if isinstance(decl, n.AccountDecl):
        return "account", f"account {decl.name}{title}", ("type: points",)
    if isinstance(decl, n.CounterDecl):
        return decl.kind, f"{decl.kind} {decl.name}{title}", ("type: count",)
    if isinstance(decl, n.CouponSeriesDecl):
        return "coupons", f"coupons {decl.name}{title}", ()
    if isinstance(decl, n.CertificateDecl):
        return "certificates", f"certificates {decl.name}{title}", ()
    return type(decl).__name__.removesuffix("Decl").lower(), decl.name, ()


def footprint_notes(result: CheckResult, name: str) -> tuple[str, ...]:
    """A short footprint of a campaign of a valid programme: what it gives, on what, from what total
    (computed when hovered, not on every edit)."""
    if result.programme is None:
        return ()
    from loyadsl.compile.footprint import footprint
    from loyadsl.render import money

    settings = result.programme.settings
    for campaign in result.programme.campaigns:
        if campaign.name != name:
            continue
        fp = footprint(campaign)
        parts = [f"effects: {', '.join(fp['effects'])}" if fp["effects"] else ""]
        for key in ("categories", "brands", "skus"):
            if fp[key]:
                shown = ", ".join(fp[key][:5]) + (", ..." if len(fp[key]) > 5 else "")
                parts.append(f"{key}: {shown}")
        if fp["min_total"] is not None:
            parts.append(f"receipt total at least {money(fp['min_total'], settings.minor)} {settings.currency}")
        return tuple(p for p in parts if p)
    return ()


def doc_comment(text: str, line: int) -> str:
    """The ``#`` lines right above the 1-based ``line``, without their ``#``."""
    lines = text.splitlines()
    i = line - 2
    found: list[str] = []
    while 0 <= i < len(lines) and lines[i].lstrip().startswith("#"):
        found.append(lines[i].lstrip()[1:].strip())
        i -= 1
    return "\n".join(reversed(found))


def _inside(span: Span, pos: Position) -> bool:
    here = (pos[0] + 1, pos[1] + 1)
    return (span.line, span.col) <= here < (span.end_line, span.end_col)


def word_at(text: str, pos: Position) -> tuple[str, int, int] | None:
    """The dotted word under ``pos`` (``receipt.total``) with its start and end characters on the line."""
    lines = text.splitlines()
    if not 0 <= pos[0] < len(lines):
        return None
    line = lines[pos[0]]
    start = end = min(pos[1], len(line))
    while start > 0 and _WORD.match(line[start - 1]):
        start -= 1
    while end < len(line) and _WORD.match(line[end]):
        end += 1
    word = line[start:end].strip(".")
    return (word, start, end) if word else None


def hover(analysis: Analysis, text: str, pos: Position) -> str | None:
    """Markdown for the name under ``pos``: its type with units, its signature, its doc comment."""
    found = word_at(text, pos)
    if found is None:
        return None
    word, start, _ = found
    parts = word.split(".")
    # the segment under the cursor: `receipt.total` hovered on `total` is the field, on `receipt` the namespace
    upto = word[: max(pos[1] - start, 0)].count(".")
    head = parts[0]
    if head in _FIELDS and len(parts) > 1 and upto >= 1:
        fields = _FIELDS[head]
        if parts[1] in fields:
            return _code(f"{head}.{parts[1]}: {fields[parts[1]]}")
    if head in STATE_READS and len(parts) > 1 and upto >= 1:
        symbol = analysis.index.symbols.get(parts[1])
        return _symbol_markdown(symbol) if symbol else None
    param = analysis.index.param_at(head, analysis.file, pos)
    if param is not None:
        ptype = param_type(param)
        return _code(f"{head}: {param}") + (f"\n\ntype: {ptype}" if ptype else "")
    symbol = analysis.index.symbols.get(head)
    if symbol is not None and symbol.kind == "campaign":
        symbol = dataclasses.replace(symbol, notes=(*symbol.notes, *footprint_notes(analysis.result, head)))
    if symbol is not None:
        return _symbol_markdown(symbol)
    if head in LINE_FIELDS and len(parts) == 1:
        return _code(f"{head}: {LINE_FIELDS[head]}") + "\n\na field of each receipt line (inside `lines where ...`)"
    return None


def _symbol_markdown(symbol: Symbol) -> str:
    text = _code(symbol.detail)
    if symbol.notes:
        text += "\n\n" + "  \n".join(symbol.notes)
    if symbol.doc:
        text += "\n\n---\n\n" + symbol.doc
    if symbol.file.startswith("std:"):
        text += f"\n\nfrom `{symbol.file}`"
    return text


def _code(source: str) -> str:
    return f"```loya\n{source}\n```"


def definition(analysis: Analysis, text: str, pos: Position) -> Symbol | None:
    found = word_at(text, pos)
    if found is None:
        return None
    parts = found[0].split(".")
    name = parts[1] if parts[0] in STATE_READS and len(parts) > 1 else parts[0]
    return analysis.index.symbols.get(name)


@dataclass(frozen=True)
class Completion:
    label: str
    kind: str  # keyword, field, list, template, group, campaign, account, counter, ...
    detail: str = ""


def completions(analysis: Analysis | None, text: str, pos: Position) -> list[Completion]:
    """What may be written at ``pos``: fields after ``receipt.``/``customer.``, else keywords and names."""
    lines = text.splitlines()
    line = lines[pos[0]] if 0 <= pos[0] < len(lines) else ""
    before = line[: pos[1]]
    dotted = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\.[A-Za-z0-9_]*$", before)
    symbols = analysis.index.symbols if analysis else {}
    if dotted:
        head = dotted.group(1)
        if head in _FIELDS:
            extra = [Completion("attr", "field", "attr.NAME: a string attribute")] if head == "customer" else []
            return [Completion(k, "field", f"{head}.{k}: {v}") for k, v in _FIELDS[head].items()] + extra
        if head in STATE_READS:
            wanted = {"balance": ("account",), "tier": ("account",)}.get(head, ("counter", "chips"))
            return [Completion(s.name, s.kind, s.detail) for s in symbols.values() if s.kind in wanted]
        return []
    items = [Completion(k, "keyword") for k in keywords()]
    items += [Completion(k, "field", f"{k}: {v}") for k, v in LINE_FIELDS.items()]
    items += [Completion(k, "keyword", f"{k}.FIELD") for k in (*_FIELDS, *STATE_READS)]
    items += [Completion(mode, "keyword", "stacking mode") for mode in STACKING_MODES]
    items += [Completion(s.name, s.kind, s.detail) for s in symbols.values()]
    items += [Completion(s.name, "template", f"{s.detail}  ({s.file})")
              for s in stdlib_templates() if s.name not in symbols]
    seen: set[str] = set()
    return [c for c in items if not (c.label in seen or seen.add(c.label))]  # type: ignore[func-returns-value]


@cache
def keywords() -> tuple[str, ...]:
    """The language's keywords, read from its grammar (so they never drift from it)."""
    grammar = (resource_dir("grammar") / "loya.lark").read_text(encoding="utf-8")
    return tuple(sorted(set(re.findall(r'"([a-z][a-z_]+)"', grammar))))


@cache
def stdlib_templates() -> tuple[Symbol, ...]:
    """The templates of the standard mechanics (``import "std:NAME"``), for completion."""
    found: list[Symbol] = []
    for path in sorted(resource_dir("stdlib_mechanics").glob("*.loya")):
        text = path.read_text(encoding="utf-8")
        module, _ = parse_any(text, f"std:{path.stem}")
        if module is None:
            continue
        loaded = LoadedFile(f"std:{path.stem}", path, text, module)
        found += [_symbol(d, loaded, ()) for d in module.decls if isinstance(d, n.TemplateDecl) and d.span]
    return tuple(found)


def document_name(uri: str, path: Path | None) -> str:
    """How diagnostics name a document: its file name, as ``loya check`` does."""
    return path.name if path is not None else uri.rstrip("/").rsplit("/", 1)[-1] or "<input>"


def formats_as_yaml(name: str) -> bool:
    return is_yaml(name)


_SUGGESTION = re.compile(r"did you mean `([^`]+)`\?")
_QUOTED = re.compile(r"`([^`]+)`")


def quick_fix(message: str, hint: str | None, covered: str) -> tuple[int, int, str] | None:
    """For a "did you mean" diagnostic whose range covers the text ``covered``: where the misspelt
    name lies in it (start, end) and its replacement. The misspelt name is the last one the message
    quotes (`unknown group `gg``, `` `receipt` has no field `totl` ``); None when it is not there."""
    suggestion = _SUGGESTION.search(hint or "")
    quoted = _QUOTED.findall(message)
    if suggestion is None or not quoted:
        return None
    wrong = quoted[-1].rsplit(".", 1)[-1]
    matches = list(re.finditer(rf"(?<![A-Za-z0-9_]){re.escape(wrong)}(?![A-Za-z0-9_])", covered))
    if not matches:
        return None
    return matches[-1].start(), matches[-1].end(), suggestion.group(1).rsplit(".", 1)[-1]
