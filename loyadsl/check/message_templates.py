"""Message templates at compile time (docs/triggers.md, "Messages"): a template's jinja2 text is parsed
by jinja2's ``SandboxedEnvironment`` (never rendered by it) and reduced to the parts the runtime renders
(``runtime/triggers/templates.py``): text, ``{{ variable }}`` and ``{% if variable %}``. Anything else is
refused with a span: an undeclared variable (LOY251), a loop, attribute or item access, a call, a
filter, a macro, an include... (LOY252), a syntax error (LOY253). So a template reads only the
documented variables, reaches no Python object, and renders in bounded time."""

from __future__ import annotations

from typing import Any

from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment

from loyadsl.diagnostics import Diagnostic, Span, did_you_mean, error
from loyadsl.runtime.triggers.templates import MAX_DEPTH, VARIABLES

_ENV = SandboxedEnvironment(autoescape=False)
MAX_TEMPLATE_CHARS = 2000

_WHAT = {nodes.For: "a loop (`{% for %}`)", nodes.Getattr: "attribute access", nodes.Getitem: "item access",
         nodes.Call: "a call", nodes.Filter: "a filter", nodes.Macro: "a macro", nodes.Include: "an include",
         nodes.Import: "an import", nodes.FromImport: "an import", nodes.Assign: "an assignment",
         nodes.Extends: "`extends`", nodes.Block: "a block"}


class _Refused(Exception):
    def __init__(self, code: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint


def compile_template(text: str, span: Span | None) -> tuple[tuple[Any, ...] | None, list[Diagnostic]]:
    """The runtime parts of a template, or None and the reason (a diagnostic at ``span``, the string)."""
    if len(text) > MAX_TEMPLATE_CHARS:
        return None, [error("LOY252", f"a message template of {len(text):,} characters (at most "
                            f"{MAX_TEMPLATE_CHARS:,})", span, "shorten the message")]
    try:
        tree = _ENV.parse(text)
        return tuple(_body(tree.body, 0)), []
    except TemplateSyntaxError as exc:
        return None, [error("LOY253", f"message template: {exc.message} (template line {exc.lineno})", span,
                            "write `{{ name }}` for a value and `{% if name %} ... {% endif %}` for a condition")]
    except _Refused as exc:
        return None, [error(exc.code, exc.message, span, exc.hint)]


def _body(items: list[nodes.Node], depth: int) -> list[Any]:
    if depth > MAX_DEPTH:
        raise _Refused("LOY252", f"`{{% if %}}` nested more than {MAX_DEPTH} deep in a message template")
    out: list[Any] = []
    for node in items:
        if isinstance(node, nodes.Output):
            out += [_output(part) for part in node.nodes]
        elif isinstance(node, nodes.If):
            out.append(_if(node, depth))
        else:
            raise _forbidden(node)
    return out


def _output(node: nodes.Node) -> Any:
    if isinstance(node, nodes.TemplateData):
        return node.data
    if isinstance(node, nodes.Const) and isinstance(node.value, str | int):
        return str(node.value)
    root = node
    while isinstance(root, nodes.Getattr | nodes.Getitem):
        root = root.node
    if isinstance(root, nodes.Name) and root is not node:
        _name(root)  # `customer.name`: the unknown `customer` is what to fix first
    return {"var": _name(node)}


def _if(node: nodes.If, depth: int) -> dict[str, Any]:
    if node.elif_:  # `elif` is an `if` in the else branch, which keeps the final `else`
        rest = nodes.If(node.elif_[0].test, node.elif_[0].body, node.elif_[1:], node.else_)
        otherwise = [_if(rest, depth + 1)]
    else:
        otherwise = _body(node.else_, depth + 1)
    return {"if": _name(node.test), "then": _body(node.body, depth + 1), "else": otherwise}


def _name(node: nodes.Node) -> str:
    if not isinstance(node, nodes.Name):
        raise _forbidden(node)
    if node.name not in VARIABLES:
        near = did_you_mean(node.name, list(VARIABLES))
        raise _Refused("LOY251", f"unknown variable `{node.name}` in a message template",
                       (f"{near} " if near else "") + "a template may read: " + ", ".join(VARIABLES))
    return node.name


def _forbidden(node: nodes.Node) -> _Refused:
    what = next((w for kind, w in _WHAT.items() if isinstance(node, kind)), f"`{type(node).__name__}`")
    extra = f" (`{node.attr}`)" if isinstance(node, nodes.Getattr) else ""
    return _Refused("LOY252", f"{what}{extra} is not allowed in a message template",
                    "a template holds text, `{{ variable }}` and `{% if variable %} ... {% else %} ... {% endif %}`")
