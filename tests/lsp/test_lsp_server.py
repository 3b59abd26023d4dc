"""`loya lsp` driven over its protocol: a real LSP client (pygls) talks to the server in a subprocess
over stdio, as an editor does, and checks each answer."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pygls")
from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

from loyadsl.syntax.formatter import format_loya

ROOT = Path(__file__).resolve().parents[2]
SUPERMARKET = ROOT / "examples" / "supermarket" / "programme.loya"
TIMEOUT = 20.0

HEADER = ('programme "x" {\n    currency RUB minor 2\n    timezone "Europe/Moscow"\n}\n\n'
          'group g {\n    priority 1\n    stacking stack_all\n    basis original\n}\n\n')
BROKEN = HEADER + "campaign a {\n    group g\n    then discount 5% on lines where sku == foo\n}\n"
FIXED = HEADER + 'campaign a {\n    group g\n    then discount 5% on lines where sku == "foo"\n}\n'


class Session:
    """One client connected to one server, with the diagnostics the server has published so far."""

    def __init__(self, client: LanguageClient) -> None:
        self.client = client
        self.published: dict[str, list[lsp.PublishDiagnosticsParams]] = {}
        self.arrived = asyncio.Event()

    async def diagnostics(self, uri: str, count: int) -> list[lsp.Diagnostic]:
        """The ``count``-th publication for ``uri`` (waiting for it)."""
        async def wait() -> None:
            while len(self.published.get(uri, [])) < count:
                self.arrived.clear()
                await self.arrived.wait()
        await asyncio.wait_for(wait(), TIMEOUT)
        return list(self.published[uri][count - 1].diagnostics)

    def open(self, uri: str, text: str, version: int = 1) -> None:
        self.client.text_document_did_open(lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(uri=uri, language_id="loya", version=version, text=text)))

    def change(self, uri: str, text: str, version: int) -> None:
        self.client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)]))

    async def hover(self, uri: str, line: int, character: int) -> str | None:
        answer = await self._ask(self.client.text_document_hover_async(lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=line, character=character))))
        if answer is None:
            return None
        assert isinstance(answer.contents, lsp.MarkupContent)
        return answer.contents.value

    async def definition(self, uri: str, line: int, character: int) -> Any:
        return await self._ask(self.client.text_document_definition_async(lsp.DefinitionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=line, character=character))))

    async def completion(self, uri: str, line: int, character: int) -> list[lsp.CompletionItem]:
        answer = await self._ask(self.client.text_document_completion_async(lsp.CompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=line, character=character))))
        assert isinstance(answer, lsp.CompletionList)
        return list(answer.items)

    async def formatting(self, uri: str) -> list[lsp.TextEdit] | None:
        return await self._ask(self.client.text_document_formatting_async(lsp.DocumentFormattingParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            options=lsp.FormattingOptions(tab_size=4, insert_spaces=True))))

    async def code_actions(self, uri: str, diagnostics: list[lsp.Diagnostic]) -> list[lsp.CodeAction]:
        answer = await self._ask(self.client.text_document_code_action_async(lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), range=diagnostics[0].range,
            context=lsp.CodeActionContext(diagnostics=diagnostics))))
        return list(answer or [])

    async def _ask(self, request: Awaitable[Any]) -> Any:
        return await asyncio.wait_for(request, TIMEOUT)


@asynccontextmanager
async def session() -> AsyncIterator[Session]:
    client = LanguageClient("loya-test", "1")
    s = Session(client)

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def published(params: lsp.PublishDiagnosticsParams) -> None:
        s.published.setdefault(params.uri, []).append(params)
        s.arrived.set()

    @client.feature(lsp.WINDOW_SHOW_MESSAGE)
    def shown(params: lsp.ShowMessageParams) -> None:
        pass

    await client.start_io(sys.executable, "-m", "loyadsl.lsp")
    try:
        await asyncio.wait_for(client.initialize_async(lsp.InitializeParams(
            capabilities=lsp.ClientCapabilities(), initialization_options={})), TIMEOUT)
        client.initialized(lsp.InitializedParams())
        yield s
        await asyncio.wait_for(client.shutdown_async(None), TIMEOUT)
        client.exit(None)
    finally:
        if client._server is not None and client._server.returncode is None:
            await asyncio.sleep(0.2)  # the server exits on `exit`; a failed scenario stops it here
            if client._server.returncode is None:
                client._server.kill()
        await client.stop()


def run(scenario: Callable[[Session], Awaitable[None]]) -> None:
    async def main() -> None:
        async with session() as s:
            await scenario(s)
    asyncio.run(main())


def where(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """(line, character) of the ``nth`` occurrence of ``needle`` in ``text``."""
    index = -1
    for _ in range(nth + 1):
        index = text.index(needle, index + 1)
    before = text[:index]
    return before.count("\n"), index - (before.rfind("\n") + 1)


def test_lsp_diagnostic_on_open_gone_after_the_fix(tmp_path: Path) -> None:
    uri = (tmp_path / "p.loya").as_uri()

    async def scenario(s: Session) -> None:
        s.open(uri, BROKEN)
        [d] = await s.diagnostics(uri, 1)
        line, col = where(BROKEN, "foo")
        assert (d.code, d.severity) == ("LOY201", lsp.DiagnosticSeverity.Error)
        assert (d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character) == \
            (line, col, line, col + 3)
        assert "unknown name `foo`" in d.message
        assert d.code_description is not None and d.code_description.href.endswith("/docs/codes/LOY201.md")
        s.change(uri, FIXED, 2)
        assert await s.diagnostics(uri, 2) == []
        s.change(uri, BROKEN, 3)
        assert [d.code for d in await s.diagnostics(uri, 3)] == ["LOY201"]

    run(scenario)


def test_lsp_hover_definition_and_completion_on_the_supermarket() -> None:
    uri, text = SUPERMARKET.as_uri(), SUPERMARKET.read_text(encoding="utf-8")

    async def scenario(s: Session) -> None:
        s.open(uri, text)
        assert await s.diagnostics(uri, 1) == []
        # a template from the standard library: its signature and doc comment, and its file
        line, col = where(text, "happy_hours(goods")
        shown = await s.hover(uri, line, col + 2)
        assert shown is not None
        assert "template happy_hours(goods: categories, rate: percent, min_total: money)" in shown
        assert "Happy hours: a percentage off" in shown
        found = await s.definition(uri, line, col + 2)
        std_lines = (ROOT / "stdlib_mechanics" / "happy_hours.loya").read_text(encoding="utf-8").splitlines()
        assert found.uri.endswith("/stdlib_mechanics/happy_hours.loya")
        assert found.range.start.line == next(i for i, t in enumerate(std_lines) if t.startswith("template "))
        # a campaign: its group and footprint
        line, col = where(text, "happy_dairy")
        shown = await s.hover(uri, line, col + 1)
        assert shown is not None and "group: promo" in shown and "categories: dairy" in shown
        assert "1000.00 RUB" in shown
        # a receipt field with its unit, a list with its kind and size
        line, col = where(text, "receipt.payable")
        assert "receipt.payable: money" in (await s.hover(uri, line, col + len("receipt.p")) or "")
        line, col = where(text, "in fresh")
        assert "set of categories; 4 items" in (await s.hover(uri, line, col + 4) or "")
        found = await s.definition(uri, line, col + 4)
        assert found.uri == uri and found.range.start.line == where(text, "categories fresh")[0]
        assert await s.hover(uri, 0, 0) is None  # a comment: nothing to say
        # completion: fields after `receipt.`, keywords and declared names elsewhere
        line = len(text.splitlines())
        s.change(uri, text + "x receipt.", 2)
        await s.diagnostics(uri, 2)
        labels = {i.label for i in await s.completion(uri, line, len("x receipt."))}
        assert {"total", "payable", "lines", "store"} <= labels and "campaign" not in labels
        labels = {i.label for i in await s.completion(uri, line, 0)}
        assert {"campaign", "where", "fresh", "happy_hours", "gold_fresh", "promo", "spend_and_save"} <= labels

    run(scenario)


def test_lsp_formatting_is_loya_fmt_and_a_refusal_changes_nothing(tmp_path: Path) -> None:
    uri = (tmp_path / "p.loya").as_uri()
    messy = HEADER + "campaign   a   {\n  # why\n group   g\n      then discount 5% on lines where sku == \"foo\"   # which\n}\n"

    async def scenario(s: Session) -> None:
        s.open(uri, messy)
        await s.diagnostics(uri, 1)
        [edit] = await s.formatting(uri) or []
        assert edit.new_text == format_loya(messy)[0] and "# why" in edit.new_text
        assert edit.range.start == lsp.Position(line=0, character=0)
        s.change(uri, edit.new_text, 2)
        await s.diagnostics(uri, 2)
        assert not await s.formatting(uri)  # already formatted: no edit
        s.change(uri, "campaign {{{", 3)
        assert {d.code for d in await s.diagnostics(uri, 3)}  # a syntax error, published
        assert await s.formatting(uri) is None  # refused: the editor keeps the text

    run(scenario)


MISSPELT = HEADER + ('categories fresh = ["a"]\n\ncampaign a {\n    group gg\n    when receipt.totl > 5.00 RUB\n'
                     '    then discount 5% on lines where category in frsh\n}\n')


def test_lsp_code_actions_apply_the_did_you_mean_hints(tmp_path: Path) -> None:
    uri = (tmp_path / "p.loya").as_uri()

    async def scenario(s: Session) -> None:
        s.open(uri, MISSPELT)
        published = [d for d in await s.diagnostics(uri, 1) if d.code == "LOY201"]
        assert len(published) == 3
        text = MISSPELT
        for diagnostic in sorted(published, key=lambda d: (d.range.start.line, d.range.start.character), reverse=True):
            [action] = await s.code_actions(uri, [diagnostic])
            assert action.kind == lsp.CodeActionKind.QuickFix and action.edit and action.edit.changes
            [edit] = action.edit.changes[uri]
            lines = text.split("\n")
            line = lines[edit.range.start.line]
            lines[edit.range.start.line] = line[:edit.range.start.character] + edit.new_text + line[edit.range.end.character:]
            text = "\n".join(lines)
        assert "group g\n" in text and "receipt.total >" in text and "in fresh\n" in text
        s.change(uri, text, 2)
        assert await s.diagnostics(uri, 2) == []
        unknown = lsp.Diagnostic(range=published[0].range, message="no fix here", code="LOY999")
        assert await s.code_actions(uri, [unknown]) == []

    run(scenario)


def test_lsp_survives_malformed_messages_and_files(tmp_path: Path) -> None:
    uri = (tmp_path / "p.loya").as_uri()

    async def scenario(s: Session) -> None:
        server = s.client._server
        assert server is not None and server.stdin is not None
        for garbage in (b"{not json", b'{"jsonrpc": "2.0", "id": 99, "method": "textDocument/hover"}',
                        b'{"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"x": 1}}'):
            server.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(garbage), garbage))
        for version, text in enumerate(("\x00\ufffd" * 50, "(" * 5000, "campaign \"" + "x" * 10000, FIXED), 1):
            (s.open if version == 1 else lambda u, t, v: s.change(u, t, v))(uri, text, version)
            published = await s.diagnostics(uri, version)
            assert all(d.code and d.code.startswith("LOY") for d in published)
        assert await s.diagnostics(uri, 4) == []
        line, col = where(FIXED, "sku")
        assert "sku: string (sku)" in (await s.hover(uri, line, col + 1) or "")
        assert await s.hover("file:///nowhere/unopened.loya", 0, 0) is None

    run(scenario)
