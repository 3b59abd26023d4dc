"""Latency of `loya lsp` on a large programme, measured as an editor sees it: a pygls client starts
the server over stdio, opens a generated programme of about 2,000 lines (bench/genprog.py), then
times, over several rounds, (1) an edit until its diagnostics arrive (typing on a line in the middle,
and adding a line there, which moves every declaration below it), (2) a hover on a campaign name,
(3) a completion at the start of a line. Prints the median and the worst of each; the targets of
issue 16 are 300 ms after an edit, 100 ms for hover and completion. Asserts nothing.

    python bench/lsp_latency.py [--lines 2000] [--rounds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from genprog import programme


def sized(lines: int) -> str:
    n = 10
    while len(programme(n).splitlines()) < lines:
        n = int(n * 1.3) + 1
    return programme(n)


async def measure(text: str, rounds: int) -> dict[str, list[float]]:
    client = LanguageClient("bench", "1")
    arrived: asyncio.Queue[lsp.PublishDiagnosticsParams] = asyncio.Queue()

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def published(params: lsp.PublishDiagnosticsParams) -> None:
        arrived.put_nowait(params)

    await client.start_io(sys.executable, "-m", "loyadsl.lsp")
    await client.initialize_async(lsp.InitializeParams(capabilities=lsp.ClientCapabilities()))
    client.initialized(lsp.InitializedParams())
    folder = Path(tempfile.mkdtemp())
    uri = (folder / "big.loya").as_uri()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id="loya", version=1, text=text)))
    first = await arrived.get()
    print(f"opened: {len(text.splitlines()):,} lines, {len(first.diagnostics)} diagnostics", flush=True)
    lines = text.splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith("campaign "))
    where = lsp.TextDocumentIdentifier(uri=uri)
    times: dict[str, list[float]] = {"edit → diagnostics": [], "new line → diagnostics": [], "hover": [],
                                     "completion": []}
    middle = len(lines) // 2
    version = 1
    for r in range(rounds):
        # typing on a line in the middle of the file, then a new line there (which moves what follows)
        typed = "\n".join([*lines[:middle], lines[middle] + f" # edit {r}", *lines[middle + 1:]])
        added = "\n".join([*lines[:middle], f"# edit {r}", *lines[middle:]])
        for label, version_text in (("edit → diagnostics", typed), ("new line → diagnostics", added)):
            version += 1
            start = time.perf_counter()
            client.text_document_did_change(lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=version_text)]))
            await arrived.get()
            times[label].append(time.perf_counter() - start)
        start = time.perf_counter()
        await client.text_document_hover_async(lsp.HoverParams(
            text_document=where, position=lsp.Position(line=row, character=10)))
        times["hover"].append(time.perf_counter() - start)
        start = time.perf_counter()
        await client.text_document_completion_async(lsp.CompletionParams(
            text_document=where, position=lsp.Position(line=row + 1, character=0)))
        times["completion"].append(time.perf_counter() - start)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    times = asyncio.run(measure(sized(args.lines), args.rounds))
    for name, values in times.items():
        print(f"{name:>20}: median {1000 * statistics.median(values):7.1f} ms, "
              f"worst {1000 * max(values):7.1f} ms ({len(values)} rounds)")


if __name__ == "__main__":
    main()
