"""Programme assertions (docs/collisions.md, "Assertions"): ``assert NAME { SUBJECT <= LIMIT }`` blocks
turned into ``ir.IAssert``. Whether they hold is the analysis's business (loyadsl/analysis/bounds.py);
here only what they say is checked: a known subject, and a limit of a unit that subject can be bounded in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation

from loyadsl.compile import ir
from loyadsl.diagnostics import Diagnostic, did_you_mean, error
from loyadsl.syntax import nodes as n

BAD_ASSERT = "LOY238"
# subject -> the units its limit may have, and what it measures (for messages and docs)
SUBJECTS: dict[str, tuple[tuple[str, ...], str]] = {
    "discount": (("percent", "money"), "the receipt's discount: a share of its total, or an amount"),
    "points": (("percent", "points"), "the points a receipt earns: their value as a share of what is paid, "
                                      "or a number of points"),
    "line_discount": (("percent",), "one line's discount as a share of the line's amount"),
    "multiplier": (("multiplier",), "the points a base campaign and the multipliers of it give together, "
                                    "as a multiple of the base campaign's own"),
}
MULTIPLIER_SCALE = 1000  # a multiplier limit in thousandths: x2.5 is 2500
Value = Callable[[n.Expr], ir.IExpr | None]
Report = Callable[[Diagnostic], None]


def check_asserts(decls: Iterable[n.AssertDecl], value: Value, report: Report) -> tuple[ir.IAssert, ...] | None:
    """The assertions, or None when one is wrong (each problem reported)."""
    out = [_assert(decl, value, report) for decl in decls]
    return None if any(a is None for a in out) else tuple(a for a in out if a is not None)


def _assert(decl: n.AssertDecl, value: Value, report: Report) -> ir.IAssert | None:
    if decl.subject not in SUBJECTS:
        known = ", ".join(f"`{s}`" for s in SUBJECTS)
        report(error(BAD_ASSERT, f"assertion `{decl.name}` bounds `{decl.subject}`, which is not a subject "
                                 f"an assertion can bound ({known})", decl.span,
                     did_you_mean(decl.subject, list(SUBJECTS)) or "write e.g. `discount <= 40%`"))
        return None
    units, measures = SUBJECTS[decl.subject]
    if decl.subject == "multiplier":
        return _multiplier(decl, report)
    limit = value(decl.limit)
    if limit is None:
        return None
    unit = limit.type.name
    if not isinstance(limit, ir.Const) or unit not in units or not isinstance(limit.value, int) \
            or isinstance(limit.value, bool) or limit.value < 0:
        allowed = " or ".join(units)
        report(error(BAD_ASSERT, f"assertion `{decl.name}`: `{decl.subject}` ({measures}) is bounded by a "
                                 f"constant {allowed} that is not negative, not a {limit.type}", decl.limit.span,
                     f"write e.g. `{decl.subject} <= {'40%' if 'percent' in units else '1000.00 RUB'}`"))
        return None
    return ir.IAssert(decl.name, decl.title, decl.subject, unit, limit.value, span=decl.span)


def _multiplier(decl: n.AssertDecl, report: Report) -> ir.IAssert | None:
    """``multiplier <= x4``: a number of at least 1, kept in thousandths."""
    try:
        factor = Decimal(decl.limit.text) if isinstance(decl.limit, n.NumberLit) else None
    except InvalidOperation:
        factor = None
    if factor is None or factor < 1 or (factor * MULTIPLIER_SCALE) % 1:
        report(error(BAD_ASSERT, f"assertion `{decl.name}`: a multiplier is bounded by a number of at least 1 "
                                 "with at most 3 decimals, as in `x4`", decl.limit.span, "write `multiplier <= x4`"))
        return None
    return ir.IAssert(decl.name, decl.title, "multiplier", "multiplier", int(factor * MULTIPLIER_SCALE), span=decl.span)
