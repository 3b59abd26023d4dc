"""Model scores in conditions and segments (docs/offers.md, "Scores in the language"):
``customer.p_alive``, ``customer.clv_12m``, ``customer.rfm_r`` / ``rfm_f`` / ``rfm_m``,
``customer.next_purchase("coffee")`` and ``customer.affinity("coffee")``.

Each read is a ``METRIC`` the runtime takes from the customer state's ``scores`` record (written by
`loya offers score`). A customer may lack a score (never scored, a category bought once has no
cycle), and nothing reads as a silent default: every audience, ``when`` or segment condition that
reads scores is checked as ``has(score) and ... and CONDITION``, so it is false without them, and the
trace names the missing one (``metric("model_has:p_alive") == 0``). A score read anywhere else (an
action's amount) is LOY639."""

from __future__ import annotations

from typing import TYPE_CHECKING

from loyadsl.check import types as t
from loyadsl.compile import ir
from loyadsl.diagnostics import did_you_mean, error
from loyadsl.runtime.opcodes import Op
from loyadsl.runtime.segments.decls import Metric
from loyadsl.syntax import nodes as n
from loyadsl.syntax.source import Span

if TYPE_CHECKING:
    from loyadsl.check.segments import SegmentChecker

# customer.NAME -> its type (the runtime's scale: percent in millionths, money in minor units)
FIELDS: dict[str, t.Type] = {"p_alive": t.PERCENT, "clv_12m": t.MONEY, "rfm_r": t.COUNT, "rfm_f": t.COUNT,
                             "rfm_m": t.COUNT}
# customer.NAME("category") -> its type: next_purchase is the time until the expected purchase
CALLS: dict[str, t.Type] = {"next_purchase": t.DURATION, "affinity": t.PERCENT}
MAX_CATEGORY = 100


def owns(e: n.Ref) -> bool:
    return len(e.path) == 2 and e.path[0] == "customer" and e.path[1] in FIELDS


def owns_call(e: n.Call) -> bool:
    return e.func.startswith("customer.")


class ModelScoreReads:
    """Runs inside ``Checker`` beside the ``SegmentChecker``, whose metrics table it adds to."""

    def __init__(self, segments: SegmentChecker) -> None:
        self.segments = segments
        self.pending: list[tuple[str, Span | None]] = []  # reads since the last guard: (score key, place)

    def ref(self, e: n.Ref, line: bool) -> ir.IExpr | None:
        if line:
            return self._in_line(e)
        return self._read(e.path[1], FIELDS[e.path[1]], e.span)

    def call(self, e: n.Call, line: bool) -> ir.IExpr | None:
        name = e.func.removeprefix("customer.")
        if name not in CALLS:
            self.segments.c.report(error("LOY635", f"`{e.func}` is no model score", e.span,
                                         did_you_mean(name, [*CALLS, *FIELDS])
                                         or f"the scores are {', '.join([*FIELDS, *(f'{c}(category)' for c in CALLS)])}"))
            return None
        if line:
            return self._in_line(e)
        if len(e.args) != 1 or not isinstance(e.args[0], n.StringLit) or not 0 < len(e.args[0].value) <= MAX_CATEGORY:
            self.segments.c.report(error("LOY639", f"`{e.func}` takes one category, written as a string", e.span,
                                         f'e.g. `{e.func}("coffee")`'))
            return None
        return self._read(f"{name}:{e.args[0].value}", CALLS[name], e.span)

    def _in_line(self, e: n.Expr) -> ir.IExpr | None:
        self.segments.c.report(error("LOY639", "a model score is the customer's, not a line's: it cannot be read "
                                               "inside `where`", e.span, "compare it in `audience` or `when`"))
        return None

    def _read(self, key: str, ty: t.Type, span: Span | None) -> ir.IExpr:
        self.pending.append((key, span))
        return self.segments._metric(Metric(f"model:{key}", "model", field=key), ty)

    def guard(self, checked: ir.IExpr | None) -> ir.IExpr | None:
        """``checked`` preceded by a presence test of every score it read: false without them."""
        keys = list(dict.fromkeys(key for key, _ in self.pending))
        self.pending.clear()
        if not keys or checked is None:
            return checked
        tests = tuple(self.segments._flag(Metric(f"model_has:{key}", "model_has", field=key)) for key in keys)
        return ir.Logic(t.BOOL, Op.AND, (*tests, checked))

    def unguarded(self) -> None:
        """A score read outside a condition (an action's amount, a budget): LOY639 at each."""
        for key, span in self.pending:
            self.segments.c.report(error("LOY639", f"the model score `{key}` is read outside a condition",
                                         span, "read scores in `audience`, `when` or a segment's `when`, where a "
                                         "customer without them makes the condition false"))
        self.pending.clear()
