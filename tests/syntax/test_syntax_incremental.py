"""The incremental parse (the language server's) gives exactly what the whole-file parse gives, spans
included, over a sequence of edits to the same file: reused declarations, moved ones and new ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyadsl import resource_dir
from loyadsl.diagnostics import Span
from loyadsl.syntax import nodes as n
from loyadsl.syntax.incremental import IncrementalParser, pieces, shifted
from loyadsl.syntax.parser import _TOP_LEVEL, parse

ROOT = Path(__file__).resolve().parents[2]
CORPUS = sorted([*(Path(__file__).parent / "programmes").glob("*.loya"), *(ROOT / "examples").rglob("*.loya"),
                 *resource_dir("stdlib_mechanics").glob("*.loya")])
SOURCES = [p.read_text(encoding="utf-8") for p in CORPUS]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def spans(value: Any, out: list[Any]) -> list[Any]:
    """Every span in ``value`` in walk order, with the kind of node that holds it."""
    if isinstance(value, n.Node):
        out.append((type(value).__name__, value.span))
        for name, item in vars(value).items():
            if name != "span":
                spans(item, out)
    elif isinstance(value, (tuple, list)):
        for item in value:
            spans(item, out)
    elif isinstance(value, dict):
        for item in value.values():
            spans(item, out)
    return out


def same_as_whole(parser: IncrementalParser, text: str) -> None:
    module, diags = parser(text, "p.loya")
    whole, whole_diags = parse(text, "p.loya")
    assert (module is None) == (whole is None)
    assert diags == whole_diags
    assert module == whole
    assert spans(module, []) == spans(whole, [])


def test_pieces_cover_the_text_and_cut_at_declarations() -> None:
    text = SOURCES[0]
    cut = pieces(text)
    assert "".join(piece for _, piece in cut) == text
    assert cut[0][0] == 1 and len(cut) > 3
    assert all(_TOP_LEVEL.match(piece) for _, piece in cut[1:])
    assert [line for line, _ in cut] == [1] + [i + 1 for i, line in enumerate(text.split("\n"))
                                            if i and _TOP_LEVEL.match(line)]


def test_every_corpus_file_parses_the_same_both_ways() -> None:
    parser = IncrementalParser()
    for text in SOURCES:
        same_as_whole(parser, text)
        same_as_whole(parser, text)  # the second time from memory


@st.composite
def edits(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A corpus file and the versions an author makes of it: lines inserted, deleted, duplicated, typed in."""
    text = draw(st.sampled_from(SOURCES))
    versions = []
    for _ in range(draw(st.integers(1, 5))):
        lines = text.split("\n")
        i = draw(st.integers(0, len(lines) - 1))
        operation = draw(st.sampled_from(["insert", "delete", "duplicate", "type", "break"]))
        if operation == "insert":
            lines.insert(i, draw(st.sampled_from(["", "# note", "skus extra = [\"A\"]", "campaign", "  }"])))
        elif operation == "delete":
            del lines[i]
        elif operation == "duplicate":
            lines.insert(i, lines[i])
        elif operation == "type":
            j = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:j] + draw(st.sampled_from(["x", " ", "1", "{", "\"", "]"])) + lines[i][j:]
        else:
            lines[i] = lines[i][: len(lines[i]) // 2]
        text = "\n".join(lines)
        versions.append(text)
    return text, versions


@SETTINGS
@given(edits())
def test_a_sequence_of_edits_parses_as_the_whole_file_does(case: tuple[str, list[str]]) -> None:
    parser = IncrementalParser()
    for version in case[1]:
        same_as_whole(parser, version)


def test_moved_declaration_gets_its_spans_shifted() -> None:
    parser = IncrementalParser()
    text = SOURCES[0]
    parser(text, "p.loya")
    moved = "\n\n\n" + text
    same_as_whole(parser, moved)
    span = Span("p.loya", 2, 3, 4, 5)
    assert shifted(span, 3) == Span("p.loya", 5, 3, 7, 5)


def test_forget_drops_the_memory_of_a_file() -> None:
    parser = IncrementalParser()
    parser(SOURCES[0], "p.loya")
    assert parser._known
    parser.forget("p.loya")
    assert not parser._known
