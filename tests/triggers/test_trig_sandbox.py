"""The message template sandbox (docs/triggers.md, "Messages"): what a template may not do is refused
when the programme is checked, with a span; what it may do renders in bounded time at run time."""

from __future__ import annotations

import pytest

from loyadsl.check.message_templates import compile_template
from loyadsl.diagnostics import Span
from loyadsl.runtime.triggers.templates import MAX_OUTPUT, VARIABLES, render

SPAN = Span("p.loya", 3, 20, 3, 40)

REFUSED = [
    ("{{ name.__class__ }}", "LOY252", "attribute access"),
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "LOY252", "a call"),
    ("{{ name['__class__'] }}", "LOY252", "item access"),
    ("{% for i in range(1000000000) %}x{% endfor %}", "LOY252", "a loop"),
    ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "LOY252", "a macro"),
    ("{{ name | attr('__class__') }}", "LOY252", "a filter"),
    ("{{ cycler }}", "LOY251", "unknown variable `cycler`"),
    ("{{ lipsum() }}", "LOY252", "a call"),
    ("{% set x = name %}{{ x }}", "LOY252", "an assignment"),
    ("{% include 'secret.txt' %}", "LOY252", "an include"),
    ("{% extends 'base' %}", "LOY252", "`extends`"),
    ("Hi {{ first_name }}", "LOY251", "unknown variable `first_name`"),
    ("{% if x %}a{% endif %}", "LOY251", "unknown variable `x`"),
    ("Hello {{ name", "LOY253", "message template"),
    ("{% if name %}open", "LOY253", "message template"),
    ("{% if name %}" * 6 + "x" + "{% endif %}" * 6, "LOY252", "nested more than"),
    ("x" * 2001, "LOY252", "2,001 characters"),
]


@pytest.mark.parametrize(("text", "code", "words"), REFUSED, ids=[r[2] + ":" + r[0][:20] for r in REFUSED])
def test_refused_at_compile_time_with_a_span(text: str, code: str, words: str) -> None:
    parts, diags = compile_template(text, SPAN)
    assert parts is None
    assert [d.code for d in diags] == [code]
    assert words in diags[0].message
    assert diags[0].span == SPAN


def test_every_documented_variable_is_accepted_and_rendered() -> None:
    text = " ".join(f"{{{{ {name} }}}}" for name in VARIABLES)
    parts, diags = compile_template(text, SPAN)
    assert diags == [] and parts is not None
    values = {name: name.upper() for name in VARIABLES}
    assert render(parts, values) == " ".join(name.upper() for name in VARIABLES)


def test_conditions_and_literals() -> None:
    parts, _ = compile_template('{% if upsell %}{{ upsell }}!{% elif tier %}{{ tier }}{% else %}{{ "none" }}{% endif %}',
                                SPAN)
    assert parts is not None
    assert render(parts, {"upsell": "add 120.00 RUB"}) == "add 120.00 RUB!"
    assert render(parts, {"upsell": "", "tier": "gold"}) == "gold"
    assert render(parts, {"tier": "0"}) == "none"  # 0 points: false


def test_rendering_is_bounded() -> None:
    parts, _ = compile_template("{{ name }}" * 100, SPAN)
    assert parts is not None
    assert len(render(parts, {"name": "x" * 1000})) == MAX_OUTPUT


def test_a_hostile_compiled_template_in_a_bundle_cannot_nest_without_end() -> None:
    deep: list[object] = ["x"]
    for _ in range(1000):
        deep = [{"if": "name", "then": deep, "else": []}]
    assert render(deep, {"name": "y"}) == ""  # past MAX_DEPTH it renders nothing, without recursing on
