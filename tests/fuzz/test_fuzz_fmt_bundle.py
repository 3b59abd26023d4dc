"""Bundle invariance of `loya fmt` over generated programmes: a programme that type-checks (the fuzz
suite's ``valid_programmes``), laid out badly and commented, compiles to the same bundle before and
after formatting (except the source hashes and spans, which name the text), and formatting it again
changes nothing (a programme that does not check gives the same diagnostics). The same holds for
its YAML twin, formatted as YAML."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyadsl.api import compile_text
from loyadsl.syntax.formatter import format_loya, format_yaml
from loyadsl.syntax.parser import parse
from loyadsl.syntax.yaml_twin import to_yaml

from . import strategies

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
comment = st.text(st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)), max_size=10).map("#".__add__)


def semantic(bundle: bytes) -> Any:
    """The payload without what names the source text: the source hashes and every span."""
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


@st.composite
def badly_laid_out(draw: st.DrawFn) -> str:
    """A valid programme re-indented at random, with blank lines, trailing blanks and comments on
    their own lines before declarations (where a comment always has its place)."""
    out = []
    for line in draw(strategies.valid_programmes()).split("\n"):
        if line[:1].isalpha() and draw(st.integers(0, 2)) == 0:
            out.append(draw(comment))
        if draw(st.integers(0, 4)) == 0:
            out.append("")
        out.append(" " * draw(st.integers(0, 7)) + line.strip() + " " * draw(st.integers(0, 2)))
    return "\n".join(out)


def compiled(text: str, file: str) -> Any:
    """What ``text`` compiles to: the bundle's meaning, or (a few generated programmes do not check,
    a discount of 0%) the codes of its diagnostics."""
    data, result = compile_text(text, file)
    return semantic(data) if data is not None else sorted(d.code for d in result.diagnostics)


@SETTINGS
@given(badly_laid_out())
def test_formatting_never_changes_the_bundle(text: str) -> None:
    formatted, diags = format_loya(text, "p.loya")
    assert formatted is not None, [f"{d.code} {d.span} {d.message}" for d in diags]
    assert format_loya(formatted, "p.loya")[0] == formatted
    assert compiled(formatted, "p.loya") == compiled(text, "p.loya")


@SETTINGS
@given(strategies.valid_programmes())
def test_formatting_the_yaml_twin_never_changes_its_bundle(text: str) -> None:
    module, _ = parse(text, "p.loya")
    assert module is not None
    twin = to_yaml(module)
    formatted, diags = format_yaml(twin, "p.yaml")
    assert formatted is not None, [f"{d.code} {d.span} {d.message}" for d in diags]
    assert compiled(formatted, "p.yaml") == compiled(twin, "p.yaml")
    assert format_yaml(formatted, "p.yaml")[0] == formatted
