"""Checks of profile fields, lifecycle, scores and segments, and of the expressions that read them
(docs/segments.md): ``customer.profile.NAME``, ``segment.NAME``, ``lifecycle.STAGE``, ``score.NAME`` and
the history functions (``spend(90 days)``, ``bought(category "coffee", 30 days)``, ``age(...)``).

Each read becomes a ``METRIC`` (an integer the runtime computes from the customer state at the
receipt's time) or a ``PROFILE`` load (a text field); a segment is a flag in ``customer.segments``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from loyadsl.check import types as t
from loyadsl.compile import ir
from loyadsl.diagnostics import did_you_mean, error
from loyadsl.runtime.opcodes import Op
from loyadsl.runtime.segments.decls import MAX_HORIZON, MAX_TRACKS, Lifecycle, Metric, ProfileField, Score
from loyadsl.syntax import nodes as n
from loyadsl.syntax.printer import format_expr, quote

if TYPE_CHECKING:
    from loyadsl.check.checker import Checker, Scope

SEGMENT_DECLS = (n.ProfileDecl, n.LifecycleDecl, n.ScoreDecl, n.SegmentDecl)
DAY = 86400

# Profile fields the customer state has a place for: name -> (types it may be declared as, slot).
STANDARD_FIELDS: dict[str, tuple[tuple[str, ...], str]] = {
    "birth_date": (("date",), "birthday"),
    "children_birth_dates": (("dates",), "children_birthdays"),
    "registration_date": (("date",), "registered"),
    "gender": (("string", "one_of"), "gender"),
    "city": (("string", "one_of"), "city"),
    "registration_channel": (("string", "one_of"), "registration_channel"),
}
# History functions: name -> (result type, takes a line selection, takes a window).
HISTORY: dict[str, tuple[t.Type, bool, bool]] = {
    "spend": (t.MONEY, False, True),
    "receipts": (t.COUNT, False, True),
    "recency": (t.COUNT, False, False),
    "ltv": (t.MONEY, False, False),
    "coupons_used": (t.COUNT, False, False),
    "bought": (t.COUNT, True, True),
    "spent": (t.MONEY, True, True),
    "share": (t.PERCENT, True, True),
}
# Profile functions: name -> (result type, field types accepted).
PROFILE_FUNCS: dict[str, tuple[t.Type, tuple[str, ...]]] = {
    "age": (t.COUNT, ("date", "dates")),
    "days_since": (t.COUNT, ("date",)),
    "filled": (t.BOOL, ("date", "dates", "string", "one_of", "bool", "count")),
}
_KIND = {"coupons_used": "coupons"}  # function -> metric kind, where they differ


@dataclass
class SegmentTable:
    """The declarations as resolved (``resolve.py`` collects them here)."""

    profile: n.ProfileDecl | None = None
    lifecycle: n.LifecycleDecl | None = None
    scores: dict[str, n.ScoreDecl] = field(default_factory=dict)
    segments: dict[str, n.SegmentDecl] = field(default_factory=dict)
    extra: list[n.Decl] = field(default_factory=list)  # a second profile/lifecycle, a repeated name


def record(table: SegmentTable, decl: n.Decl) -> None:
    if isinstance(decl, n.ProfileDecl | n.LifecycleDecl):
        word = "profile" if isinstance(decl, n.ProfileDecl) else "lifecycle"
        if getattr(table, word) is None:
            setattr(table, word, decl)
            return
    elif isinstance(decl, n.ScoreDecl) and decl.name not in table.scores:
        table.scores[decl.name] = decl
        return
    elif isinstance(decl, n.SegmentDecl) and decl.name not in table.segments:
        table.segments[decl.name] = decl
        return
    table.extra.append(decl)


class SegmentChecker:
    """Runs inside ``Checker``: ``check_decls`` before the campaigns, ``ref`` and ``call`` for the
    expressions, ``info`` after them (None when the programme uses none of this)."""

    def __init__(self, checker: Checker, table: SegmentTable) -> None:
        self.c = checker
        self.table = table
        self.fields: dict[str, ProfileField] = {}
        self.metrics: dict[str, Metric] = {}
        self.tracks: dict[str, ir.IExpr] = {}
        self.lifecycle: Lifecycle | None = None
        self.scores: dict[str, Score] = {}
        self.segments: list[tuple[str, str | None, ir.IExpr]] = []
        self.horizon = 0
        self.broken: set[str] = set()  # fields declared wrongly (reported once, not again where read)
        self.used = False
        self._in_segment = False

    # ------------------------------------------------------------------------------ declarations

    def check_decls(self, scope: Scope) -> bool:
        ok = self._extra()
        ok = self._profile() and ok
        ok = self._lifecycle() and ok
        for score in self.table.scores.values():
            ok = self._score(score, scope) and ok
        for segment in self.table.segments.values():
            ok = self._segment(segment, scope) and ok
        return ok

    def _extra(self) -> bool:
        for decl in self.table.extra:
            if isinstance(decl, n.ProfileDecl | n.LifecycleDecl):
                self.c.report(error("LOY216", f"a programme has one `{decl.name}` declaration; this is a second",
                                    decl.span, "put every field (or stage) in the first one"))
            else:
                self.c.report(error("LOY205", f"`{decl.name}` is declared twice", decl.span))
        return not self.table.extra

    def _profile(self) -> bool:
        decl = self.table.profile
        if decl is None:
            return True
        ok = True
        for f in decl.fields:
            if f.name in self.fields:
                self.c.report(error("LOY241", f"profile field `{f.name}` is declared twice", f.span))
                ok = False
                continue
            slot = self._slot(f)
            if slot is None:
                self.broken.add(f.name)
                ok = False
                continue
            self.fields[f.name] = ProfileField(f.name, f.type, slot, f.options)
        if self.fields:
            self.used = True
        return ok

    def _slot(self, f: n.ProfileField) -> str | None:
        if f.type == "one_of" and not f.options:
            self.c.report(error("LOY241", f"`{f.name}` is one of no values", f.span, 'list them: one_of ["f", "m"]'))
            return None
        if f.name in STANDARD_FIELDS:
            types, slot = STANDARD_FIELDS[f.name]
            if f.type not in types:
                self.c.report(error("LOY241", f"`{f.name}` is the customer's {slot.replace('_', ' ')}: declare it as "
                                              f"{' or '.join(types)}, not {f.type}", f.span))
                return None
            return slot
        if f.name.startswith("consent_"):
            if f.type != "bool":
                self.c.report(error("LOY241", f"`{f.name}` is a consent flag: declare it as bool", f.span))
                return None
            return "consents:" + f.name.removeprefix("consent_")
        return "attributes:" + f.name

    def _lifecycle(self) -> bool:
        decl = self.table.lifecycle
        if decl is None:
            return True
        days: dict[str, int] = {}
        ok = True
        for stage in decl.stages:
            if stage.stage in days:
                self.c.report(error("LOY241", f"lifecycle stage `{stage.stage}` is given twice", stage.span))
                ok = False
                continue
            value = self._days(stage.days, f"the `{stage.stage}` threshold", 100_000)
            ok = value is not None and ok
            days[stage.stage] = value or 0
        missing = [s for s in ("new", "active", "sleeping") if s not in days]
        if missing:
            self.c.report(error("LOY245", f"the lifecycle needs a threshold for {', '.join(missing)}", decl.span,
                                "e.g. `lifecycle { new 30 days  active 90 days  sleeping 365 days }`"))
            return False
        if ok and not days["new"] <= days["active"] < days["sleeping"]:
            self.c.report(error("LOY245", "lifecycle thresholds must grow: new <= active < sleeping", decl.span,
                                f"got new {days['new']}, active {days['active']}, sleeping {days['sleeping']} days"))
            return False
        if ok:
            self.lifecycle = Lifecycle(days["new"], days["active"], days["sleeping"])
        return ok

    def _score(self, decl: n.ScoreDecl, scope: Scope) -> bool:
        assert decl.of is not None
        of = decl.of
        if not isinstance(of, n.Call) or of.func not in [*HISTORY, "age", "days_since"]:
            self.c.report(error("LOY244", "a score bins a history function: `of recency()`, `of spend(365 days)`, ...",
                                of.span))
            return False
        metric = self.call(of, scope, None)
        if not isinstance(metric, ir.StateLoad):
            return False
        bins = self._bins(decl, metric.type)
        if bins is None:
            return False
        self.scores[decl.name] = Score(decl.name, metric.name, bins)
        self.used = True
        return True

    def _bins(self, decl: n.ScoreDecl, ty: t.Type) -> tuple[tuple[int, int | None, int | None], ...] | None:
        """Each bin ``low .. high`` (inclusive, an end may be open) above the one before: LOY242 at the bin
        whose range is empty, overlaps the previous one or comes before it."""
        if not decl.bins:
            self.c.report(error("LOY242", f"score `{decl.name}` has no bins", decl.span, "add `bin 5: 0 .. 30`"))
            return None
        out: list[tuple[int, int | None, int | None]] = []
        for b in decl.bins:
            low = None if b.low is None else self.c.constant(b.low, ty, "a bin's end")
            high = None if b.high is None else self.c.constant(b.high, ty, "a bin's end")
            if (b.low is not None and low is None) or (b.high is not None and high is None):
                return None
            if b.low is not None and b.high is not None and low is not None and high is not None and low > high:
                self.c.report(error("LOY242", f"bin {b.score} is empty: {format_expr(b.low)} > {format_expr(b.high)}",
                                    b.span))
                return None
            if out and not _above(out[-1], low):
                before = out[-1][1]
                what = "comes before the bin above it" if low is not None and before is not None and low < before \
                    else "overlaps the bin before it"
                self.c.report(error("LOY242", f"bin {b.score} {what}: bins go up without overlapping", b.span,
                                    "order the bins from the lowest range up, each starting above the end of the "
                                    "one before"))
                return None
            out.append((b.score, low, high))
        return tuple(out)

    def _segment(self, decl: n.SegmentDecl, scope: Scope) -> bool:
        assert decl.when is not None
        self._in_segment = True
        try:
            checked = self.c.model_scores.guard(self.c.expr(decl.when, scope, t.BOOL))  # docs/offers.md
        finally:
            self._in_segment = False
        if checked is None:
            return False
        if checked.type != t.BOOL:
            self.c.report(error("LOY204", f"a segment's `when` needs a yes/no condition, got {checked.type}",
                                decl.when.span))
            return False
        if _reads_other_state(checked):
            self.c.report(error("LOY245", f"segment `{decl.name}` reads counters, balances or the tier: a segment "
                                          "reads the profile, the purchase history and customer.receipts", decl.when.span,
                                "move that part of the condition to the campaign's `audience`"))
            return False
        self.segments.append((decl.name, decl.title, checked))
        self.used = True
        return True

    # ------------------------------------------------------------------------------ expressions

    @staticmethod
    def owns(e: n.Ref) -> bool:
        return (e.path[0] in ("segment", "lifecycle", "score") and len(e.path) == 2) or e.path[:2] == ("customer",
                                                                                                      "profile")

    def ref(self, e: n.Ref, scope: Scope) -> ir.IExpr | None:
        head, rest = e.path[0], e.path[1:]
        if head == "customer":
            return self._profile_ref(e)
        name = rest[0]
        if head == "segment":
            if self._in_segment:
                self.c.report(error("LOY245", "a segment cannot be defined by another segment", e.span,
                                    "repeat the other segment's condition"))
                return None
            if name not in self.table.segments:
                self.c.report(error("LOY245", f"unknown segment `{name}`", e.span,
                                    did_you_mean(name, list(self.table.segments)) or "declare it: "
                                    f"`segment {name} {{ when ... }}`"))
                return None
            self.used = True
            segments = ir.Load(t.set_of("segment"), "customer", "segments")
            return ir.In(t.BOOL, ir.Const(t.string_of("segment"), name), segments, Op.IN)
        if head == "lifecycle":
            stages = ("new", "active", "sleeping", "churned")
            if self.table.lifecycle is None:
                self.c.report(error("LOY245", "`lifecycle` is read but not declared", e.span,
                                    "declare `lifecycle { new 30 days  active 90 days  sleeping 365 days }`"))
                return None
            if name not in stages:
                self.c.report(error("LOY245", f"unknown lifecycle stage `{name}`", e.span,
                                    did_you_mean(name, stages) or f"the stages are {', '.join(stages)}"))
                return None
            self.horizon = max(self.horizon, 1)
            return self._flag(Metric(f"lifecycle:{name}", "lifecycle", field=name))
        if name not in self.table.scores:
            self.c.report(error("LOY245", f"unknown score `{name}`", e.span, did_you_mean(name, list(self.table.scores))))
            return None
        return self._metric(Metric(f"score:{name}", "score", field=name), t.COUNT)

    def _field(self, e: n.Ref | n.Expr, what: str) -> ProfileField | None:
        """The declared field ``customer.profile.NAME`` names (LOY240 with a hint when it is not declared)."""
        if not (isinstance(e, n.Ref) and len(e.path) == 3 and e.path[:2] == ("customer", "profile")):
            self.c.report(error("LOY244", f"{what} takes a profile field: `customer.profile.NAME`", e.span))
            return None
        name = e.path[2]
        found = self.fields.get(name)
        if found is None and name not in self.broken:
            declared = list(self.fields)
            hint = did_you_mean(name, declared) or (
                f"declare it: `profile {{ {name} string }}`" if not declared else
                f"declared: {', '.join(declared)}; or add `{name} string` to `profile`")
            self.c.report(error("LOY240", f"profile field `{name}` is not declared", e.span, hint))
        return found

    def _profile_ref(self, e: n.Ref) -> ir.IExpr | None:
        f = self._field(e, "`customer.profile`")
        if f is None:
            return None
        if f.type in ("date", "dates"):
            self.c.report(error("LOY244", f"`{f.name}` is a {f.type} field: read it with age(...), days_since(...) or "
                                          "filled(...)", e.span, f"e.g. `age(customer.profile.{f.name}) >= 18`"))
            return None
        if f.type == "bool":
            return self._flag(Metric(f"flag:{f.name}", "flag", field=f.name))
        if f.type == "count":
            return self._metric(Metric(f"count:{f.name}", "count", field=f.name), t.COUNT)
        self.used = True
        domain = f"profile.{f.name}" if f.type == "one_of" else None
        return ir.StateLoad(t.string_of(domain), Op.PROFILE, f.name)

    def call(self, e: n.Call, scope: Scope, expected: t.Type | None) -> ir.IExpr | None:
        if scope.line:
            self.c.report(error("LOY244", f"`{e.func}(...)` reads the customer's history, not a line: it cannot be "
                                          "used inside `where`", e.span))
            return None
        if e.func in PROFILE_FUNCS:
            return self._profile_call(e)
        if e.func not in HISTORY:
            self.c.report(error("LOY244", f"unknown function `{e.func}`", e.span,
                                did_you_mean(e.func, [*HISTORY, *PROFILE_FUNCS])
                                or f"the functions are {', '.join([*HISTORY, *PROFILE_FUNCS])}"))
            return None
        ty, selects, windowed = HISTORY[e.func]
        want = int(selects) + int(windowed)
        if len(e.args) != want:
            form = ", ".join([*(["a line selection"] if selects else []), *(["a window in days"] if windowed else [])])
            self.c.report(error("LOY244", f"`{e.func}` takes {want} argument{'s' if want != 1 else ''} "
                                          f"({form or 'none'}), got {len(e.args)}", e.span,
                                f"e.g. `{e.func}({_example(e.func)})`"))
            return None
        track = self._track(e.args[0], scope) if selects else None
        days = self._days(e.args[-1], "a window", MAX_HORIZON) if windowed else 0
        if (selects and track is None) or days is None:
            return None
        if windowed and days < 1:
            self.c.report(error("LOY244", "a window is at least 1 day", e.args[-1].span))
            return None
        self.horizon = max(self.horizon, 1)  # any history function needs the history kept
        kind = _KIND.get(e.func, e.func)
        key = kind + ("" if track is None else f":{track}") + (f":{days}" if windowed else "")
        self.horizon = max(self.horizon, days, 1)
        return self._metric(Metric(key, kind, days, None if track is None else list(self.tracks).index(track)), ty)

    def _profile_call(self, e: n.Call) -> ir.IExpr | None:
        ty, accepted = PROFILE_FUNCS[e.func]
        if len(e.args) != 1:
            self.c.report(error("LOY244", f"`{e.func}` takes one profile field, got {len(e.args)} arguments", e.span))
            return None
        f = self._field(e.args[0], f"`{e.func}`")
        if f is None:
            return None
        if f.type not in accepted:
            self.c.report(error("LOY244", f"`{e.func}` needs a {' or '.join(accepted)} field; `{f.name}` is {f.type}",
                                e.args[0].span))
            return None
        metric = Metric(f"{e.func}:{f.name}", e.func, field=f.name)
        return self._flag(metric) if ty == t.BOOL else self._metric(metric, ty)

    def _track(self, e: n.Expr, scope: Scope) -> str | None:
        """A line selection whose purchases the history keeps, keyed by its text (``category "coffee"``)."""
        predicate = self.c._condition(e, scope.inside_line(), "a tracked selection")
        if predicate is None:
            return None
        key = format_expr(e)
        if key not in self.tracks and len(self.tracks) >= MAX_TRACKS:
            self.c.report(error("LOY244", f"at most {MAX_TRACKS} different line selections can be tracked", e.span))
            return None
        self.tracks.setdefault(key, predicate)
        return key

    def _days(self, e: n.Expr, what: str, most: int) -> int | None:
        seconds = self.c.constant(e, t.DURATION, what)
        if seconds is None:
            return None
        if seconds % DAY or not 0 <= seconds // DAY <= most:
            self.c.report(error("LOY244", f"{what} is a whole number of days from 0 to {most}", e.span))
            return None
        return seconds // DAY

    def _metric(self, metric: Metric, ty: t.Type) -> ir.IExpr:
        self.metrics.setdefault(metric.key, metric)
        self.used = True
        return ir.StateLoad(ty, Op.METRIC, metric.key)

    def _flag(self, metric: Metric) -> ir.IExpr:
        return ir.Cmp(t.BOOL, Op.NE, self._metric(metric, t.COUNT), ir.Const(t.COUNT, 0))

    def check_option(self, e: n.Compare, left: ir.IExpr, right: ir.IExpr) -> bool:
        """``customer.profile.gender == "x"`` where gender is one_of ["f", "m"]: LOY243."""
        for load, other, node in ((left, right, e.right), (right, left, e.left)):
            if isinstance(load, ir.StateLoad) and load.op == Op.PROFILE and isinstance(other, ir.Const):
                f = self.fields[load.name]
                if f.type == "one_of" and other.value not in f.options:
                    self.c.report(error("LOY243", f"`{f.name}` is one of {', '.join(map(repr, f.options))}; "
                                                  f"{other.value!r} is none of them", node.span,
                                        did_you_mean(str(other.value).lower(), f.options)
                                        or f"compare with one of {', '.join(quote(o) for o in f.options)}"))
                    return False
        return True

    # ------------------------------------------------------------------------------ result

    def info(self) -> ir.ISegments | None:
        if not self.used and not self.fields:
            return None
        return ir.ISegments(
            profile=tuple(self.fields.values()),
            horizon=self.horizon,
            tracks=tuple(self.tracks.items()),
            metrics=tuple(self.metrics.values()),
            lifecycle=self.lifecycle,
            scores=tuple(self.scores.values()),
            segments=tuple(self.segments),
        )


def _example(func: str) -> str:
    return {"bought": 'category "coffee", 90 days', "spent": 'brand "acme", 90 days',
            "share": 'category "coffee", 90 days'}.get(func, "90 days" if HISTORY[func][2] else "")


def _above(prev: tuple[int, int | None, int | None], low: int | None) -> bool:
    """Whether a bin starting at ``low`` lies above ``prev`` (an open end overlaps everything that way)."""
    return prev[2] is not None and low is not None and low > prev[2]


_OTHER_STATE = (Op.COUNTER, Op.BALANCE, Op.BENEFIT)


def _reads_other_state(e: object) -> bool:
    """Whether an IR expression reads state a receipt changes besides the history and the purchase count
    (segment events compare membership on those alone)."""
    if isinstance(e, ir.StateLoad) and e.op in _OTHER_STATE:
        return True
    if isinstance(e, ir.Load) and e.source == "customer" and e.field == "tier":
        return True
    if isinstance(e, ir.IExpr):
        return any(_reads_other_state(getattr(e, f.name)) for f in dataclasses.fields(e))
    if isinstance(e, tuple):
        return any(_reads_other_state(x) for x in e)
    return False
