"""The Language Server Protocol side of ``loya lsp`` (pygls): documents in, diagnostics and answers out.

Each open document is checked on open, change and save with the same checker as ``loya check``;
its analysis is kept until the next version, and the last one that parsed still answers hover,
definition and completion while the author is mid-edit. A handler that fails on some input answers
nothing (or LOY760 at the top of the file) and the server goes on serving.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument

from loyadsl import __version__
from loyadsl.diagnostics import Diagnostic, Severity, Span, error
from loyadsl.lsp import analysis as a
from loyadsl.syntax.incremental import IncrementalParser

_DOCS = Path(__file__).resolve().parent.parent.parent / "docs" / "codes"  # the pages of a checkout
_KINDS = {
    "keyword": lsp.CompletionItemKind.Keyword, "field": lsp.CompletionItemKind.Field,
    "list": lsp.CompletionItemKind.Constant, "template": lsp.CompletionItemKind.Function,
    "group": lsp.CompletionItemKind.Module, "campaign": lsp.CompletionItemKind.Class,
    "account": lsp.CompletionItemKind.Variable, "counter": lsp.CompletionItemKind.Variable,
    "chips": lsp.CompletionItemKind.Variable,
}


class LoyaServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("loya", __version__)
        self.analyses: dict[str, a.Analysis] = {}  # uri -> the latest analysis
        self.indexed: dict[str, a.Analysis] = {}  # uri -> the latest analysis that parsed
        self.docs_url: str | None = None  # initializationOptions.docsUrl: where the code pages are served
        self.parser = IncrementalParser()  # remembers each open file's declarations between edits

    def code_href(self, code: str) -> str | None:
        if self.docs_url:
            return f"{self.docs_url.rstrip('/')}/codes/{code}/"
        page = _DOCS / f"{code}.md"
        return page.as_uri() if page.is_file() else None


server = LoyaServer()


@server.feature(lsp.INITIALIZE)
def _initialize(ls: LoyaServer, params: lsp.InitializeParams) -> None:
    options = params.initialization_options
    if isinstance(options, dict) and isinstance(options.get("docsUrl"), str):
        ls.docs_url = options["docsUrl"]


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def _did_open(ls: LoyaServer, params: lsp.DidOpenTextDocumentParams) -> None:
    refresh(ls, params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def _did_change(ls: LoyaServer, params: lsp.DidChangeTextDocumentParams) -> None:
    refresh(ls, params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
def _did_save(ls: LoyaServer, params: lsp.DidSaveTextDocumentParams) -> None:
    refresh(ls, params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def _did_close(ls: LoyaServer, params: lsp.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.analyses.pop(uri, None)
    ls.indexed.pop(uri, None)
    ls.parser.forget(a.document_name(uri, _path_of(uri)))
    ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


def refresh(ls: LoyaServer, uri: str) -> None:
    """Check the document again and publish its diagnostics."""
    doc = ls.workspace.get_text_document(uri)
    path = _path_of(uri)
    name = a.document_name(uri, path)
    try:
        result = a.analyse(doc.source, name, path, ls.parser)
    except Exception as exc:  # a checker bug must not end the session: say so where the author looks
        ls.analyses.pop(uri, None)
        problem = error("LOY760", f"the language server could not check this file: {type(exc).__name__}: {exc}",
                        Span(name, 1, 1, 1, 1), "`loya check FILE` shows whether the checker fails too; "
                                                "please report it with the file")
        diagnostics = [to_lsp(ls, doc, problem, name)]
    else:
        ls.analyses[uri] = result
        if result.result.files:
            ls.indexed[uri] = result
        diagnostics = [to_lsp(ls, doc, d, name) for d in result.result.diagnostics]
    ls.text_document_publish_diagnostics(
        lsp.PublishDiagnosticsParams(uri=uri, version=doc.version, diagnostics=diagnostics))


def _path_of(uri: str) -> Path | None:
    if not uri.startswith("file:"):
        return None
    fs_path = to_fs_path(uri)
    return Path(fs_path).resolve() if fs_path else None


def to_lsp(ls: LoyaServer, doc: TextDocument, d: Diagnostic, name: str) -> lsp.Diagnostic:
    """A checker diagnostic as the editor shows it; one in another file (an import) sits on line 1."""
    message = d.message
    if d.span is not None and d.span.file == name:
        start = lsp.Position(line=d.span.line - 1, character=d.span.col - 1)
        end = lsp.Position(line=d.span.end_line - 1, character=max(d.span.end_col - 1, 0))
        if (end.line, end.character) <= (start.line, start.character):
            end = lsp.Position(line=start.line, character=start.character + 1)
        where = doc.position_codec.range_to_client_units(doc.lines, lsp.Range(start=start, end=end))
    else:
        if d.span is not None:
            message = f"{d.span}: {message}"
        where = lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=0, character=0))
    if d.hint:
        message += f"\nhint: {d.hint}"
    href = ls.code_href(d.code)
    fix = _fix_of(doc, d, name)
    return lsp.Diagnostic(
        range=where, message=message, source="loya", code=d.code, data=fix,
        code_description=lsp.CodeDescription(href=href) if href else None,
        severity=lsp.DiagnosticSeverity.Error if d.severity is Severity.ERROR else lsp.DiagnosticSeverity.Warning)


def _fix_of(doc: TextDocument, d: Diagnostic, name: str) -> dict[str, Any] | None:
    """The edit a "did you mean" hint proposes, kept on the diagnostic for its code action:
    ``{"line", "start", "end", "new"}`` in code points, on the span's first line."""
    if d.span is None or d.span.file != name:
        return None
    lines = doc.source.splitlines()
    if not 0 < d.span.line <= len(lines):
        return None
    line = lines[d.span.line - 1]
    end = d.span.end_col - 1 if d.span.end_line == d.span.line else len(line)
    fix = a.quick_fix(d.message, d.hint, line[d.span.col - 1:end])
    if fix is None:
        return None
    start, stop, new = fix
    return {"line": d.span.line - 1, "start": d.span.col - 1 + start, "end": d.span.col - 1 + stop, "new": new}


@server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]))
def _code_action(ls: LoyaServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    """A quick fix for each "did you mean" diagnostic the editor asks about."""
    doc = ls.workspace.get_text_document(params.text_document.uri)
    actions = []
    for diagnostic in params.context.diagnostics:
        fix = diagnostic.data
        if not (isinstance(fix, dict) and {"line", "start", "end", "new"} <= fix.keys()):
            continue
        edit_range = doc.position_codec.range_to_client_units(doc.lines, lsp.Range(
            start=lsp.Position(line=fix["line"], character=fix["start"]),
            end=lsp.Position(line=fix["line"], character=fix["end"])))
        actions.append(lsp.CodeAction(
            title=f"Replace with `{fix['new']}`", kind=lsp.CodeActionKind.QuickFix, diagnostics=[diagnostic],
            is_preferred=True,
            edit=lsp.WorkspaceEdit(changes={doc.uri: [lsp.TextEdit(range=edit_range, new_text=str(fix["new"]))]})))
    return actions


def _position(doc: TextDocument, position: lsp.Position) -> a.Position:
    here = doc.position_codec.position_from_client_units(doc.lines, position)
    return here.line, here.character


def _context(ls: LoyaServer, uri: str) -> tuple[TextDocument, a.Analysis | None]:
    return ls.workspace.get_text_document(uri), ls.indexed.get(uri)


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
def _hover(ls: LoyaServer, params: lsp.HoverParams) -> lsp.Hover | None:
    doc, analysis = _context(ls, params.text_document.uri)
    if analysis is None:
        return None
    text = a.hover(analysis, doc.source, _position(doc, params.position))
    if text is None:
        return None
    return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text))


@server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
def _definition(ls: LoyaServer, params: lsp.DefinitionParams) -> lsp.Location | None:
    doc, analysis = _context(ls, params.text_document.uri)
    if analysis is None:
        return None
    symbol = a.definition(analysis, doc.source, _position(doc, params.position))
    if symbol is None:
        return None
    uri = symbol.path.as_uri() if symbol.path is not None else params.text_document.uri
    span = symbol.span
    return lsp.Location(uri=uri, range=lsp.Range(
        start=lsp.Position(line=span.line - 1, character=span.col - 1),
        end=lsp.Position(line=span.end_line - 1, character=span.end_col - 1)))


@server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=["."]))
def _completion(ls: LoyaServer, params: lsp.CompletionParams) -> lsp.CompletionList:
    doc, analysis = _context(ls, params.text_document.uri)
    items = [lsp.CompletionItem(label=c.label, kind=_KINDS.get(c.kind, lsp.CompletionItemKind.Text),
                                detail=c.detail or None)
             for c in a.completions(analysis, doc.source, _position(doc, params.position))]
    return lsp.CompletionList(is_incomplete=False, items=items)


@server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
def _formatting(ls: LoyaServer, params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit] | None:
    """The whole document as ``loya fmt`` prints it; a file the formatter refuses is left as it is."""
    from loyadsl.syntax.formatter import format_loya, format_yaml

    doc = ls.workspace.get_text_document(params.text_document.uri)
    name = a.document_name(doc.uri, _path_of(doc.uri))
    formatted, diags = (format_yaml if a.formats_as_yaml(name) else format_loya)(doc.source, name)
    if formatted is None:
        first = diags[0] if diags else None
        ls.window_show_message(lsp.ShowMessageParams(
            type=lsp.MessageType.Warning,
            message=f"loya fmt: not formatted: {first.code}: {first.message}" if first else "loya fmt: not formatted"))
        return None
    if formatted == doc.source:
        return []
    lines = doc.lines
    end = lsp.Position(line=len(lines), character=0)
    return [lsp.TextEdit(range=lsp.Range(start=lsp.Position(line=0, character=0), end=end), new_text=formatted)]


def serve(**_: Any) -> None:
    """Serve one editor over stdin/stdout until it says exit."""
    server.start_io()
