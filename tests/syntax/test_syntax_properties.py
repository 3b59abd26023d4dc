"""Properties: the parsers never raise, whatever the input; whatever parses also round-trips."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyadsl.syntax import nodes as n
from loyadsl.syntax.parser import parse
from loyadsl.syntax.printer import format_module, offer_settings
from loyadsl.syntax.yaml_twin import parse_yaml, to_yaml

CORPUS = sorted((Path(__file__).parent / "programmes").glob("*.loya"))
SOURCES = [p.read_text(encoding="utf-8") for p in CORPUS]
YAMLS = [to_yaml(m) for m in (parse(text)[0] for text in SOURCES) if m is not None]

SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw: st.DrawFn, texts: list[str]) -> str:
    """A valid text with a few slices deleted, duplicated or swapped."""
    text = draw(st.sampled_from(texts))
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 40)))
        operation = draw(st.sampled_from(["delete", "duplicate", "swap", "insert"]))
        if operation == "delete":
            text = text[:i] + text[j:]
        elif operation == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        elif operation == "swap":
            k = draw(st.integers(j, min(len(text), j + 40)))
            text = text[:i] + text[j:k] + text[i:j] + text[k:]
        else:
            text = text[:i] + draw(st.sampled_from(['"', "{", "}", "(", "[", ">=", "\n>= ", "not", "..", "\\",
                                                    ":", "x5", "2025-02-30", "@", "\t", "é", "\x00"])) + text[i:]
    return text


def check_loya(text: str) -> None:
    module, diags = parse(text, "fuzz.loya")
    assert (module is None) == bool(diags)
    for d in diags:
        assert d.code.startswith("LOY1") or d.code == "LOY213"  # a setting given twice has no room in the AST
        assert d.span is not None and d.span.line >= 1 and d.span.col >= 1
    if module is not None:  # whatever parses must print back to the same AST and convert losslessly
        formatted = format_module(module)
        assert parse(formatted)[0] == module
        assert format_module(parse(formatted)[0] or n.Module(None, (), ())) == formatted
        assert _twin_order(parse_yaml(to_yaml(module))[0]) == _twin_order(module)


def _twin_order(module: n.Module | None) -> n.Module | None:
    """The module with each offer's settings in the YAML twin's order (what is offered, its rules under
    `when`, its texts): the twin groups them so, while `loya fmt` keeps a .loya offer as written."""
    if module is None:
        return None
    decls = tuple(replace(d, offers=tuple(replace(o, settings=tuple(offer_settings(o))) for o in d.offers))
                  if isinstance(d, n.StrategyDecl) else d for d in module.decls)
    return replace(module, decls=decls)


def check_yaml(text: str) -> None:
    module, diags = parse_yaml(text, "fuzz.yaml")
    assert (module is None) == bool(diags)
    if module is not None:
        assert parse_yaml(to_yaml(module))[0] == module
        assert parse(format_module(module))[0] == module


@SETTINGS
@given(st.text())
def test_parse_never_raises_on_any_text(text: str) -> None:
    check_loya(text)


@SETTINGS
@given(mutated(SOURCES))
def test_parse_never_raises_on_mutated_programmes(text: str) -> None:
    check_loya(text)


@SETTINGS
@given(st.text())
def test_parse_yaml_never_raises_on_any_text(text: str) -> None:
    check_yaml(text)


@SETTINGS
@given(mutated(YAMLS))
def test_parse_yaml_never_raises_on_mutated_documents(text: str) -> None:
    check_yaml(text)
