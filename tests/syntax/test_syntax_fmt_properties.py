"""Properties of `loya fmt` over every programme of the repository (examples/, stdlib_mechanics/, bench/,
tests/) and over those programmes with comments added anywhere:

* formatting is a fixed point: fmt(fmt(x)) == fmt(x);
* it keeps every comment (the same texts, as many times each) and the AST;
* it never changes what the programme compiles to (the bundle, except the source hashes and spans
  it records, which name the text and not the programme);
* a comment it cannot place is refused with LOY120, never with LOY121 (a formatter bug) or a crash;
* the YAML twin of every programme is its own format, and a YAML file with a comment never formats.
"""

from __future__ import annotations

import bisect
import itertools
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyadsl.api import compile_text
from loyadsl.syntax.formatter import format_loya, format_yaml
from loyadsl.syntax.parser import parse
from loyadsl.syntax.printer import module_lines
from loyadsl.syntax.trivia import Trivia
from loyadsl.syntax.yaml_twin import to_yaml

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fmt"  # its inputs are formatted or refused by test_syntax_fmt.py
HOSTILE = ROOT / "tests" / "hardening_compiler" / "sources"  # refused on purpose: not programmes
CORPUS = sorted(p for p in [*ROOT.glob("examples/**/*.loya"), *ROOT.glob("stdlib_mechanics/*.loya"),
                            *ROOT.glob("bench/*.loya"), *ROOT.glob("tests/**/*.loya")]
                if FIXTURES not in p.parents and HOSTILE not in p.parents)
TEXTS = [p.read_text(encoding="utf-8") for p in CORPUS]
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def comments(text: str) -> Counter[str]:
    trivia = Trivia()
    parse(text, "x.loya", trivia)
    return Counter(c.text for c in trivia.comments)


def semantic(bundle: bytes) -> Any:
    """The bundle's payload without what names the source text: its hashes and the spans of campaigns."""
    payload = json.loads(bundle.split(b"\n", 2)[2])
    payload["manifest"].pop("source_hash")
    for source in payload["manifest"]["sources"]:
        source.pop("sha256")

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k != "span"}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return strip(payload)


def test_the_corpus_holds_every_programme() -> None:
    assert len(CORPUS) >= 80
    assert sum(bool(comments(t)) for t in TEXTS) >= 60


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_programme_formats_without_loss(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    once, diags = format_loya(text, path.name)
    assert once is not None, [f"{d.code} {d.span} {d.message}" for d in diags]
    assert format_loya(once, path.name)[0] == once
    assert comments(once) == comments(text)
    assert parse(once)[0] == parse(text)[0]
    before, result = compile_text(text, path.name, path)
    after, result_after = compile_text(once, path.name, path)
    if before is None or after is None:  # a file made to be imported: the same diagnostics either way
        assert before is None and after is None
        assert [d.code for d in result.diagnostics] == [d.code for d in result_after.diagnostics]
    else:
        assert semantic(after) == semantic(before)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_token_is_printed_on_exactly_one_line(path: Path) -> None:
    """What the comment placement stands on: the printed lines' sources do not overlap and hold every token."""
    trivia = Trivia()
    module, _ = parse(path.read_text(encoding="utf-8"), path.name, trivia)
    assert module is not None
    spans = sorted((line.start, line.end) for line in module_lines(module, trivia) if line.start and line.end)
    assert all(end <= after for (_, end), (after, _) in itertools.pairwise(spans))
    starts = [start for start, _ in spans]
    for start, end, kind in trivia.tokens:
        k = bisect.bisect_right(starts, start) - 1
        assert k >= 0 and end <= spans[k][1], f"{kind} at {start} is on no printed line"


# ---------------------------------------------------------------------------------------------- comments anywhere

comment_texts = st.text(st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)), max_size=12) \
    .map(lambda t: "#" + t)
_DECLARATION = re.compile(r"(programme|import|skus|stores|categories|brands|channels|strings|group|template|campaign"
                          r"|account|redemption|tiers|counter|chips|coupons|certificates|referral)\b")
# Lines after which a comment always has its place: a declaration's head or last line, a block action's head.
_BLOCK_EDGE = re.compile(rf"{_DECLARATION.pattern}.*\{{|\}}|\s+(then\s+)?(combo|tiers)\b.*\{{")


def _with_comments(text: str, draw: st.DrawFn, anywhere: bool) -> str:
    """``text`` with comments added on their own lines and at line ends: anywhere, or only where a
    comment has a faithful place (before a declaration, after a line that opens or closes a block; not
    a tier level's, which is printed on one line)."""
    lines = text.split("\n")
    out = []
    for line in lines:
        if (anywhere or _DECLARATION.match(line)) and draw(st.integers(0, 3)) == 0:
            out.append(" " * draw(st.integers(0, 6)) + draw(comment_texts))
        if (anywhere or _BLOCK_EDGE.fullmatch(line.rstrip())) and line.strip() and draw(st.integers(0, 2)) == 0:
            line += " " * draw(st.integers(0, 3)) + draw(comment_texts)
        out.append(line)
    return "\n".join(out)


@st.composite
def commented(draw: st.DrawFn, anywhere: bool) -> str:
    return _with_comments(draw(st.sampled_from(TEXTS)), draw, anywhere)


def _check(text: str, refusal_allowed: bool) -> None:
    out, diags = format_loya(text, "x.loya")
    if out is None:
        assert refusal_allowed and diags and {d.code for d in diags} == {"LOY120"}, \
            [f"{d.code} {d.span} {d.message}" for d in diags]
        return
    assert comments(out) == comments(text)
    assert parse(out)[0] == parse(text)[0]
    assert format_loya(out, "x.loya")[0] == out


@SETTINGS
@given(commented(anywhere=False))
def test_comments_in_their_places_are_always_kept(text: str) -> None:
    _check(text, refusal_allowed=False)


@SETTINGS
@given(commented(anywhere=True))
def test_comments_anywhere_are_kept_or_refused_with_loy120(text: str) -> None:
    _check(text, refusal_allowed=True)


# ---------------------------------------------------------------------------------------------- YAML

YAMLS = [to_yaml(m) for m in (parse(t)[0] for t in TEXTS) if m is not None]


def test_the_yaml_twin_is_its_own_format() -> None:
    for text in YAMLS:
        assert format_yaml(text, "x.yaml") == (text, [])


@SETTINGS
@given(st.sampled_from(YAMLS), st.data())
def test_a_yaml_file_with_a_comment_never_formats(text: str, data: st.DataObject) -> None:
    lines = text.split("\n")
    at = data.draw(st.integers(0, len(lines) - 1))
    comment = data.draw(comment_texts)
    if data.draw(st.booleans()):
        lines.insert(at, comment)
    else:
        lines[at] += " " + comment
    out, diags = format_yaml("\n".join(lines), "x.yaml")
    assert out is None and diags  # refused (LOY122), or no longer YAML of a programme (LOY1xx)
    assert all(d.code.startswith("LOY1") for d in diags)


@st.composite
def mangled(draw: st.DrawFn) -> str:
    """A commented programme with line breaks and spaces moved around: odd layouts that still parse."""
    text = draw(commented(anywhere=True))
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(text)))
        piece = draw(st.sampled_from(["\n", " ", "\n\n", "\t", "\n    # moved\n", "# cut\n"]))
        text = text[:i] + piece + text[i:]
    return text


@SETTINGS
@given(mangled())
def test_odd_layouts_never_crash_nor_trip_the_safety_check(text: str) -> None:
    out, diags = format_loya(text, "x.loya")
    assert all(d.code != "LOY121" for d in diags), [f"{d.code} {d.span} {d.message}" for d in diags]
    if out is not None:
        assert comments(out) == comments(text) and parse(out)[0] == parse(text)[0]
