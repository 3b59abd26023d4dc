"""Programme assertions (docs/collisions.md, "Assertions"): ``assert NAME { SUBJECT <= LIMIT }`` blocks
turned into ``ir.IAssert``. Whether they hold is the analysis's business (loyadsl/analysis/bounds.py);
here only what they say is checked: a known subject, and a limit of a unit that subject can be bounded in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

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
}
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
