"""Message templates at run time (docs/triggers.md, "Messages"). The compiler checks a template's
jinja2 text in a sandbox and keeps only what this module renders: text, ``{{ variable }}`` and
``{% if variable %} ... {% else %} ... {% endif %}`` on the documented variables. So a template can
read nothing but those values, has no loops, attribute access, calls or filters, and renders in time
proportional to its size; the runtime needs no template engine.

The compiled form is a JSON list of parts: a string (text), ``{"var": NAME}`` or ``{"if": NAME,
"then": [parts], "else": [parts]}`` (nested at most ``MAX_DEPTH`` deep)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# The variables a template may read, each with what it holds (docs/triggers.md lists them).
VARIABLES: dict[str, str] = {
    "name": "the customer's name (attribute `name`), or empty",
    "balance": "spendable points of the default account now",
    "accrued": "points accrued by the receipt that fired the trigger (0 in time-driven steps)",
    "burning": "points of the default account expiring within its `notify` window",
    "burning_date": "the last local date the soonest of those points can be spent (YYYY-MM-DD), or empty",
    "tier": "the customer's tier level, or empty",
    "upsell": "what the receipt lacked for a campaign (e.g. `add 120.00 RUB`), or empty",
    "coupon": "the code of the coupon this step issued, or empty",
    "trigger": "the trigger's title (or name)",
}
MAX_DEPTH = 4
MAX_OUTPUT = 2000  # characters a rendered message keeps


def render(parts: Sequence[Any], values: Mapping[str, str], depth: int = 0) -> str:
    """The text of a compiled template with ``values`` (a name without a value renders empty)."""
    if depth > MAX_DEPTH:
        return ""
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif "var" in part:
            out.append(values.get(part["var"], ""))
        else:
            value = values.get(part.get("if", ""), "")
            truthy = value not in ("", "0")
            out.append(render(part.get("then" if truthy else "else", ()), values, depth + 1))
    return "".join(out)[:MAX_OUTPUT]


def variables_of(parts: Sequence[Any]) -> set[str]:
    """The variables a compiled template reads."""
    names: set[str] = set()
    for part in parts:
        if isinstance(part, dict):
            names.add(part.get("var") or part.get("if") or "")
            names |= variables_of(part.get("then", ())) | variables_of(part.get("else", ()))
    return names
