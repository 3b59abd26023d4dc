"""Name resolution and type checking: AST in, typed IR out, every problem reported as a diagnostic.

The checker never stops at the first error: an expression that fails to check becomes ``None`` and
the enclosing construct is skipped quietly, so one mistake gives one diagnostic, not a cascade.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from loyadsl.check import lints, model_scores
from loyadsl.check import types as t
from loyadsl.check.asserts import check_asserts
from loyadsl.check.commerce import check_kinds, commerce_settings
from loyadsl.check.experiments import arm_gate, check_experiments, unjoined_experiments
from loyadsl.check.fraud import Invalid as InvalidFraud
from loyadsl.check.fraud import fraud_limits
from loyadsl.check.model_scores import ModelScoreReads
from loyadsl.check.order import campaign_order, group_order
from loyadsl.check.people import people
from loyadsl.check.redemptions import discount_cap, redemption_limit
from loyadsl.check.resolve import SymbolTable, file_sha256
from loyadsl.check.rewards import gift_action, reward_clause
from loyadsl.check.segments import SegmentChecker
from loyadsl.check.state import DAY, USAGE_PERIODS, StateChecker, StateInfo, account_hint, collect_accruals
from loyadsl.check.strategies import check_strategies
from loyadsl.check.triggers import TriggerChecker, campaign_message
from loyadsl.check.types import Type
from loyadsl.check.units import unit_discount
from loyadsl.compile import ir
from loyadsl.diagnostics import Diagnostic, Span, did_you_mean, error, warning
from loyadsl.runtime.declarations import Budget, CatalogueReward, RedemptionLimit, UsageLimit
from loyadsl.runtime.limits import MAX_DATE, MAX_DURATION_DAYS, MAX_MINOR_DIGITS, MAX_VALUE, MIN_DATE
from loyadsl.runtime.money import div_round
from loyadsl.runtime.opcodes import Op
from loyadsl.runtime.triggers.spec import Send
from loyadsl.syntax import nodes as n

WEEKDAYS = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}
ROUNDING_MODES = ("floor", "ceil", "half_up", "half_even")
ALLOCATION_MODES = ("largest_remainder", "largest_line")
STACKING_MODES = ("stack_all", "stack_up_to", "first_by_priority", "best_for_customer", "lowest_discount")
BASES = ("original", "discounted")

RECEIPT_FIELDS: dict[str, Type] = {
    "total": t.MONEY,
    "payable": t.MONEY,
    "lines": t.COUNT,
    "units": t.QUANTITY,
    "store": t.string_of("store"),
    "channel": t.string_of("channel"),
}
CUSTOMER_FIELDS: dict[str, Type] = {
    "known": t.BOOL,
    "id": t.string_of("customer"),
    "tier": t.string_of("tier"),
    "segments": t.set_of("segment"),
    "receipts": t.COUNT,
}
STATE_READS = {"counter": Op.COUNTER, "chips": Op.COUNTER, "balance": Op.BALANCE, "tier": Op.BENEFIT}
LINE_FIELDS: dict[str, Type] = {
    "sku": t.string_of("sku"),
    "category": t.string_of("category"),
    "brand": t.string_of("brand"),
    "qty": t.QUANTITY,
    "units": t.COUNT,
    "price": t.MONEY,
    "amount": t.MONEY,
    # what is left of the line to pay when the campaign's group starts (docs/order.md), like receipt.payable
    "payable": t.MONEY,
    "discounted": t.BOOL,  # payable < amount: an earlier group (or campaign, with `order declared`) took something off
    "kind": t.STRING,  # docs/commerce.md
}
LIVE_LINE_FIELDS = ("payable", "discounted")
AGGREGATES: dict[str, tuple[Op, Type]] = {
    "sum": (Op.SUM, t.MONEY),
    "count": (Op.COUNT, t.COUNT),
    "qty": (Op.QTY, t.QUANTITY),
    "units": (Op.UNITS, t.COUNT),
}
COMPARE_OPS = {"==": Op.EQ, "!=": Op.NE, "<": Op.LT, "<=": Op.LE, ">": Op.GT, ">=": Op.GE}
SINGLE_CLAUSES = (
    n.GroupClause,
    n.PriorityClause,
    n.ValidClause,
    n.WeekdaysClause,
    n.HoursClause,
    n.ExclusiveClause,
    n.RedistributeClause,
)
TRUE = ir.Const(t.BOOL, True)
MAX_DURATION_SECONDS = MAX_DURATION_DAYS * DAY


@dataclass
class Scope:
    """Where an expression stands: inside ``where`` (line), in ``audience``, with template arguments."""

    line: bool = False
    audience: bool = False
    params: dict[str, tuple[n.Expr, Type]] = field(default_factory=dict)
    state: bool = False  # a state declaration's selection (redemption `exclude`, chips `earn`): no live fields

    def inside_line(self) -> Scope:
        return Scope(line=True, audience=self.audience, params=self.params, state=self.state)


@dataclass
class _Draft:
    """A campaign as its clauses are checked: what each contributes, and whether all were sound."""

    ok: bool = True
    seen: dict[type, n.Clause] = field(default_factory=dict)  # clauses that may appear once
    once: dict[str, n.Clause] = field(default_factory=dict)  # coupon, budget, usage limit: one each
    group: int | None = None
    priority: int = 0
    dates: tuple[int, int] | None = None
    weekdays: tuple[int, ...] | None = None
    hours: tuple[int, int] | None = None
    stores: ir.SetFilter | None = None
    channels: ir.SetFilter | None = None
    audiences: list[ir.IExpr] = field(default_factory=list)
    conditions: list[ir.IExpr] = field(default_factory=list)
    actions: list[ir.IAction] = field(default_factory=list)
    limits: dict[str, int] = field(default_factory=dict)
    multiplier_base: str | None = None
    coupon: str | None = None
    budget: Budget | None = None
    usage_limit: UsageLimit | None = None
    exclusive: str | None = None  # ``exclusive receipt|lines`` (docs/order.md)
    redistribute: bool = False  # ``redistribute floors``
    reward: CatalogueReward | None = None
    redemptions: list[RedemptionLimit] = field(default_factory=list)
    discount_cap: tuple[str, int] | None = None


class Checker:
    def __init__(self, table: SymbolTable) -> None:
        self.table = table
        self.diags: list[Diagnostic] = []
        self.settings: ir.Settings | None = None
        self._campaigns: dict[str, ir.ICampaign | None] = {}
        self._in_progress: set[str] = set()
        self._groups: dict[str, int] = {}
        self._used: set[str] = set()
        self._order = {name: index for index, name in enumerate(table.campaigns)}  # declaration order
        self.state = StateInfo(None, {})
        self.experiments: dict[str, ir.IExperiment] = {}
        self.broken_experiments: set[str] = set()
        self.segments = SegmentChecker(self, table.segment_decls)  # docs/segments.md
        self.model_scores = ModelScoreReads(self.segments)  # docs/offers.md: customer.p_alive, ...
        self.campaign_messages: dict[str, list[Send]] = {}  # campaign -> its `message` clauses (docs/triggers.md)

    # ------------------------------------------------------------------------------------ entry

    def check(self) -> ir.Programme | None:
        header = self.table.header
        if header is None:
            return None
        settings = self._settings(header)
        # With a broken header, go on with stand-in settings so the rest is still checked and every
        # problem is reported in one run; the result is refused below anyway.
        self.settings = settings or ir.Settings(
            header.currency or "XXX", _digits_or(header.minor, 2), _digits_or(header.points_minor, 0),
            1, "UTC", "floor", "floor", "largest_remainder",
        )
        settings = self._fraud(header, settings)
        groups = self._check_groups()
        self.experiments, self.broken_experiments = check_experiments(self.table.experiments.values(), self.report)
        state_checker = StateChecker(self)
        state = state_checker.check()
        self.state = state_checker.info()
        segments_ok = self.segments.check_decls(Scope(audience=True))
        triggers = TriggerChecker(self).check(self.table.triggers.values())
        self.model_scores.unguarded()  # docs/offers.md: a score read outside a condition
        strategies_ok = check_strategies(self)  # docs/offers.md
        names = list(self.table.campaigns)
        campaigns = [self._campaign(name) for name in names]
        self._unused_warnings()
        for finding in lints.run(c for c in campaigns if c is not None):
            self.report(finding)
        asserts = check_asserts(self.table.asserts.values(), self.value, self.report)
        if settings is None or any(c is None for c in campaigns) or groups is None or state is None \
                or self.broken_experiments or asserts is None or not segments_ok or triggers is None:
            return None
        if not strategies_ok:
            return None
        state = dataclasses.replace(state, segments=self.segments.info())
        if not unjoined_experiments(self.table.experiments.values(), [c.arm for c in campaigns if c], self.report):
            return None
        sources = [ir.SourceFile(f.display, file_sha256(f.text)) for f in self.table.files]
        sources += [ir.SourceFile(path, sha) for path, sha in self.table.data_files.items()]
        return ir.Programme(
            name=header.name,
            version=header.version,
            settings=settings,
            groups=groups,
            campaigns=tuple(c for c in campaigns if c is not None),
            sources=tuple(sorted(sources, key=lambda s: s.path)),
            state=state,
            experiments=tuple(self.experiments.values()),
            asserts=asserts,
            triggers=triggers,
            messages=tuple((name, tuple(sends)) for name, sends in self.campaign_messages.items()
                           if any(c is not None and c.name == name for c in campaigns)),
        )

    def _template_hint(self, name: str) -> str | None:
        """For an unknown template: the templates of the file so named (`uses n_plus_one(...)` after
        `import "std:n_plus_one"`, whose template is `every_nth_free`), else the nearest name."""
        defined = sorted(t.name for t in self.table.templates.values()
                         if t.span is not None and Path(t.span.file.removeprefix("std:")).stem == name)
        if defined:
            names = ", ".join(f"`{d}`" for d in defined)
            return f"`{name}` is the file the templates come from; it defines {names}: `uses {defined[0]}(...)`"
        return did_you_mean(name, list(self.table.templates))

    def report(self, diag: Diagnostic) -> None:
        self.diags.append(diag)

    # Checks for declarations outside campaigns (``check/state.py``): programme-level scope.

    def constant(self, e: n.Expr, expected: Type, what: str) -> int | None:
        return self._constant_int(e, Scope(), expected, what)

    def value(self, e: n.Expr) -> ir.IExpr | None:
        return self.expr(e, Scope(), None)

    def line_selection(self, sel: n.Selection) -> ir.IExpr | None:
        return self._selection(sel, Scope(state=True))

    def string_set(self, e: n.Expr, domain: str) -> frozenset[str] | None:
        return self._const_set(e, domain, Scope())

    # ------------------------------------------------------------------------------------ header

    def _settings(self, h: n.Header) -> ir.Settings | None:
        ok = self._currency_ok(h)
        ok = self._timezone_ok(h) and ok
        points_minor = h.points_minor if h.points_minor is not None else 0
        if not 0 <= points_minor <= MAX_MINOR_DIGITS:
            self.report(error("LOY207", f"points minor digits must be 0..{MAX_MINOR_DIGITS}, got {points_minor}",
                              h.span))
            ok = False
        rounding = self._rounding(h)
        allocation = h.allocation or "largest_remainder"
        if allocation not in ALLOCATION_MODES:
            self.report(error("LOY207", f"unknown allocation mode `{allocation}`", h.span,
                              did_you_mean(allocation, ALLOCATION_MODES)
                              or f"use one of {', '.join(ALLOCATION_MODES)}"))
            ok = False
        if not ok or rounding is None or h.currency is None or h.minor is None or h.timezone is None:
            return None
        point_value = self._point_value(h, h.currency, h.minor)
        if point_value is None:
            return None
        return ir.Settings(
            currency=h.currency,
            minor=h.minor,
            points_minor=points_minor,
            point_value=point_value,
            timezone=h.timezone,
            rounding_discount=rounding["discount"],
            rounding_points=rounding["points"],
            allocation=allocation,
            commerce=commerce_settings(self, h, rounding["tax"]),
        )

    def _currency_ok(self, h: n.Header) -> bool:
        """The header states an ISO 4217 currency and its minor digits (reported if not)."""
        ok = True
        if h.currency is None or h.minor is None:
            self.report(error("LOY210", "the programme does not state its currency", h.span,
                              "add `currency RUB minor 2` to the programme header"))
            ok = False
        elif len(h.currency) != 3 or not h.currency.isalpha() or not h.currency.isupper():
            self.report(error("LOY207", f"`{h.currency}` is not an ISO 4217 currency code", h.span))
            ok = False
        if h.minor is not None and not 0 <= h.minor <= MAX_MINOR_DIGITS:
            self.report(error("LOY207", f"minor units must be 0..{MAX_MINOR_DIGITS}, got {h.minor}", h.span))
            ok = False
        return ok

    def _timezone_ok(self, h: n.Header) -> bool:
        """The header states a known IANA time zone (reported if not)."""
        if h.timezone is None:
            self.report(error("LOY210", "the programme does not state its time zone", h.span,
                              'add `timezone "Europe/Moscow"` (an IANA zone name)'))
            return False
        try:
            zoneinfo.ZoneInfo(h.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            self.report(error("LOY207", f"unknown time zone `{h.timezone}`", h.span,
                              "use an IANA zone name such as Europe/Moscow"))
            return False
        return True

    def _rounding(self, h: n.Header) -> dict[str, str] | None:
        """The rounding mode of discounts, points and tax (the defaults where unstated); None after a report."""
        rounding = {"discount": "floor", "points": "floor", "tax": "half_up"}
        ok = True
        for r in h.rounding:
            if r.mode not in ROUNDING_MODES:
                self.report(error("LOY207", f"unknown rounding mode `{r.mode}`", r.span,
                                  did_you_mean(r.mode, ROUNDING_MODES) or f"use one of {', '.join(ROUNDING_MODES)}"))
                ok = False
            elif r.target not in rounding:
                self.report(error("LOY207", f"rounding applies to `discount`, `points` or `tax`, not `{r.target}`",
                                  r.span))
                ok = False
            else:
                rounding[r.target] = r.mode
        return rounding if ok else None

    def _point_value(self, h: n.Header, currency: str, minor: int) -> int | None:
        """What a point is worth in minor units (one major unit unless stated); None after a report."""
        if h.point_value is None:
            return int(10**minor)
        value = self._money_in(h.point_value, currency, minor)
        if value is not None and value <= 0:
            self.report(error("LOY207", "a point must be worth more than zero", h.point_value.span))
            return None
        return value

    def _fraud(self, h: n.Header, settings: ir.Settings | None) -> ir.Settings | None:
        """The settings with the header's anti-fraud limits (checked once the settings are known)."""
        def constant(e: n.Expr, ty: Type, what: str) -> int | None:
            return self._constant_int(e, Scope(), ty, what)

        try:
            fraud = fraud_limits(h.fraud, constant, self.report)
            staff_and_partners = people(h.people, constant, self.report)
        except InvalidFraud:
            return None
        return None if settings is None else replace(settings, fraud=fraud, people=staff_and_partners)

    # ------------------------------------------------------------------------------------ groups

    def _check_groups(self) -> tuple[ir.IGroup, ...] | None:
        out: list[ir.IGroup] = []
        ok = True
        for index, (name, g) in enumerate(self.table.groups.items()):
            self._groups[name] = index
            missing = [k for k in ("priority", "stacking", "basis") if getattr(g, k) is None]
            if missing:
                self.report(error(
                    "LOY211", f"group `{name}` does not state its {' and '.join(missing)}", g.span,
                    "every group states `priority N`, `stacking MODE` and `basis original|discounted`; "
                    "there are no implicit defaults",
                ))
                ok = False
                continue
            assert g.priority is not None and g.stacking is not None and g.basis is not None
            if g.stacking not in STACKING_MODES:
                self.report(error("LOY207", f"unknown stacking mode `{g.stacking}`", g.span,
                                  did_you_mean(g.stacking, STACKING_MODES)
                                  or f"use one of {', '.join(STACKING_MODES)}"))
                ok = False
                continue
            if g.basis not in BASES:
                self.report(error("LOY207", f"unknown basis `{g.basis}`", g.span, "use `original` or `discounted`"))
                ok = False
                continue
            order = group_order(g, self.report)
            if order is None:
                ok = False
                continue
            limit = g.stacking_limit
            if g.stacking == "stack_up_to" and (limit is None or limit < 1):
                self.report(error("LOY207", "`stack_up_to` needs a count of at least 1", g.span))
                ok = False
                continue
            out.append(ir.IGroup(name, g.title, g.priority, g.stacking,
                                 limit if g.stacking == "stack_up_to" else None, g.basis, order))
        return tuple(out) if ok else None

    # ------------------------------------------------------------------------------------ campaigns

    def _campaign(self, name: str) -> ir.ICampaign | None:
        if name in self._campaigns:
            return self._campaigns[name]
        self._in_progress.add(name)
        order = self._order[name]
        result = self._check_campaign(self.table.campaigns[name], order)
        self._in_progress.discard(name)
        self._campaigns[name] = result
        return result

    def _check_campaign(self, c: n.CampaignDecl, order: int) -> ir.ICampaign | None:
        """A campaign in passes: its clauses (a template's first), each clause by its own method
        (``_clause_<NodeName>``), then what the whole needs (a group, an action, one account, its arm)."""
        bound = self._campaign_clauses(c)
        if bound is None:
            return None
        clauses, title = bound
        d = _Draft()
        for clause, scope in clauses:
            if self._clause_repeated(c, clause, d):
                continue
            getattr(self, f"_clause_{type(clause).__name__}")(c, clause, scope, d)
        self.model_scores.unguarded()  # docs/offers.md: a score read outside a condition
        self._campaign_complete(c, d)
        accruals = [a for cl, _ in clauses if isinstance(cl, n.ThenClause) for a in collect_accruals(cl.actions)]
        one_account, account = self._campaign_account(c, accruals)
        group_clause = d.seen.get(n.GroupClause)
        group_decl = self.table.groups.get(group_clause.group) if isinstance(group_clause, n.GroupClause) else None
        joined, gate = arm_gate(c, [cl for cl, _ in clauses], group_decl, self.experiments, self.broken_experiments,
                                self.report)
        ordered = campaign_order(c, [cl for cl, _ in clauses], group_decl, self.report)
        if not (d.ok and joined and ordered) or d.group is None or not one_account:
            return None
        return ir.ICampaign(
            name=c.name, title=title, group=d.group, priority=d.priority, order=order, dates=d.dates,
            weekdays=d.weekdays, hours=d.hours, stores=d.stores, channels=d.channels,
            audience=_conjunction(d.audiences), condition=_conjunction(d.conditions), actions=tuple(d.actions),
            limit_applications=d.limits.get("applications"), max_discount=d.limits.get("discount"),
            max_points=d.limits.get("points"), multiplier_base=d.multiplier_base, span=c.span, account=account,
            coupon=d.coupon, usage_limit=d.usage_limit, budget=d.budget, arm=gate, reward=d.reward,
            exclusive=d.exclusive, redistribute=d.redistribute,
            redemptions=tuple(d.redemptions), discount_cap=d.discount_cap,
        )

    def _campaign_clauses(self, c: n.CampaignDecl) -> tuple[list[tuple[n.Clause, Scope]], str | None] | None:
        """The campaign's clauses with the scope each is checked in: the template's (with its arguments
        bound) first, then its own; and its title. None when the template cannot be used (reported)."""
        clauses: list[tuple[n.Clause, Scope]] = []
        title = c.title
        if c.uses is not None:
            template = self.table.templates.get(c.uses.template)
            if template is None:
                self.report(error("LOY201", f"unknown template `{c.uses.template}`", c.uses.span,
                                  self._template_hint(c.uses.template)))
                return None
            self._used.add(template.name)
            params = self._bind_arguments(template, c.uses)
            if params is None:
                return None
            clauses.extend((cl, Scope(params=params)) for cl in template.clauses)
            title = title or template.title
        clauses.extend((cl, Scope()) for cl in c.clauses)
        return clauses, title

    def _clause_repeated(self, c: n.CampaignDecl, clause: n.Clause, d: _Draft) -> bool:
        """Whether a clause that may appear once appeared before (LOY213, reported)."""
        word = _state_clause_word(clause)
        if word is not None:
            if word in d.once:
                self.report(error("LOY213", f"{word} appears twice in campaign `{c.name}`", clause.span,
                                  f"the first is at {d.once[word].span}"))
                d.ok = False
                return True
            d.once[word] = clause
        kind = type(clause)
        if kind in SINGLE_CLAUSES:
            if kind in d.seen:
                self.report(error("LOY213", f"`{_clause_word(clause)}` appears twice in campaign `{c.name}`",
                                  clause.span, f"the first is at {d.seen[kind].span}"))
                d.ok = False
                return True
            d.seen[kind] = clause
        return False

    def _clause_MessageClause(self, c: n.CampaignDecl, clause: n.MessageClause, scope: Scope, d: _Draft) -> None:
        send = campaign_message(self, clause)
        if send is None:
            d.ok = False
        else:
            self.campaign_messages.setdefault(c.name, []).append(send)

    def _campaign_complete(self, c: n.CampaignDecl, d: _Draft) -> None:
        """A campaign needs a group and an action (LOY214), once its clauses are sound."""
        if d.group is None and d.ok and n.GroupClause not in d.seen:
            self.report(error("LOY214", f"campaign `{c.name}` belongs to no group", c.span,
                              "add `group NAME`; every group states how its campaigns stack"))
            d.ok = False
        if not d.actions and d.ok and d.reward is None:  # a reward without actions is a donation (docs/rewards.md)
            self.report(error("LOY214", f"campaign `{c.name}` gives nothing", c.span,
                              "add an action, e.g. `then discount 10% on receipt`"))
            d.ok = False

    # One method per clause kind, named after its node (dispatched by ``_check_campaign``).

    def _clause_GroupClause(self, c: n.CampaignDecl, clause: n.GroupClause, scope: Scope, d: _Draft) -> None:
        if clause.group not in self.table.groups:
            self.report(error("LOY201", f"unknown group `{clause.group}`", clause.span,
                              did_you_mean(clause.group, list(self.table.groups))))
            d.ok = False
        elif clause.group in self._groups:
            d.group = self._groups[clause.group]
        else:
            d.ok = False  # the group itself is broken and was reported

    def _clause_PriorityClause(self, c: n.CampaignDecl, clause: n.PriorityClause, scope: Scope, d: _Draft) -> None:
        d.priority = clause.priority

    def _clause_ValidClause(self, c: n.CampaignDecl, clause: n.ValidClause, scope: Scope, d: _Draft) -> None:
        # an open end is the first or last day a bundle admits (docs/bundle.md, "Limits")
        start = (clause.start or MIN_DATE).toordinal()
        end = (clause.end or MAX_DATE).toordinal()
        if start > end:
            self.report(warning("LOY301", f"campaign `{c.name}` ends before it starts: it can never apply",
                                clause.span))
        d.dates = (start, end)

    def _clause_WeekdaysClause(self, c: n.CampaignDecl, clause: n.WeekdaysClause, scope: Scope, d: _Draft) -> None:
        days = []
        for day in clause.days:
            if day not in WEEKDAYS:
                self.report(error("LOY103", f"`{day}` is not a weekday", clause.span,
                                  did_you_mean(day, list(WEEKDAYS)) or "use mon tue wed thu fri sat sun"))
                d.ok = False
            else:
                days.append(WEEKDAYS[day])
        d.weekdays = tuple(sorted(set(days)))

    def _clause_HoursClause(self, c: n.CampaignDecl, clause: n.HoursClause, scope: Scope, d: _Draft) -> None:
        start, end = _seconds(clause.start), _seconds(clause.end)
        if start == end:
            self.report(error("LOY207", "an hours window needs a different start and end", clause.span))
            d.ok = False
        d.hours = (start, end)

    def _clause_SetFilterClause(self, c: n.CampaignDecl, clause: n.SetFilterClause, scope: Scope, d: _Draft) -> None:
        domain = "store" if clause.kind == "stores" else "channel"
        values = self._const_set(clause.values, domain, scope)
        if values is None:
            d.ok = False
            return
        if (d.stores if clause.kind == "stores" else d.channels) is not None:
            self.report(error("LOY213", f"`{clause.kind}` appears twice in campaign `{c.name}`", clause.span))
            d.ok = False
        if clause.kind == "stores":
            d.stores = ir.SetFilter(clause.negated, values)
        else:
            d.channels = ir.SetFilter(clause.negated, values)

    def _clause_AudienceClause(self, c: n.CampaignDecl, clause: n.AudienceClause, scope: Scope, d: _Draft) -> None:
        cond = self.model_scores.guard(self._condition(clause.condition, Scope(audience=True, params=scope.params),
                                                       "audience"))
        if cond is None:
            d.ok = False
        else:
            d.audiences.append(cond)

    def _clause_WhenClause(self, c: n.CampaignDecl, clause: n.WhenClause, scope: Scope, d: _Draft) -> None:
        cond = self.model_scores.guard(self._condition(clause.condition, scope, "when"))
        if cond is None:
            d.ok = False
        else:
            d.conditions.append(cond)

    def _clause_ThenClause(self, c: n.CampaignDecl, clause: n.ThenClause, scope: Scope, d: _Draft) -> None:
        for action in clause.actions:
            checked = self._action(action, scope, c.name)
            if checked is None:
                d.ok = False
                continue
            d.actions.append(checked)
            if isinstance(action, n.Accrue) and action.multiplier_of:
                d.multiplier_base = action.multiplier_of

    def _clause_LimitClause(self, c: n.CampaignDecl, clause: n.LimitClause, scope: Scope, d: _Draft) -> None:
        if clause.per != "receipt" and clause.kind == "discount":  # per customer per period (limits-fraud.md)
            money = self._constant_int(clause.value, scope, t.MONEY, "a discount cap")
            d.discount_cap = discount_cap(c.name, clause, money, d.discount_cap, self.report)
            d.ok = d.ok and d.discount_cap is not None
            return
        if clause.per != "receipt":  # a usage limit per day, week, customer ... (customer state)
            d.usage_limit = self._usage_limit(clause, scope)
            d.ok = d.ok and d.usage_limit is not None
            return
        if clause.kind in d.limits:
            self.report(error("LOY213", f"the {clause.kind} limit appears twice in campaign `{c.name}`",
                              clause.span))
            d.ok = False
            return
        value = self._limit(clause, scope)
        if value is None:
            d.ok = False
        else:
            d.limits[clause.kind] = value

    def _clause_CouponClause(self, c: n.CampaignDecl, clause: n.CouponClause, scope: Scope, d: _Draft) -> None:
        if clause.series in self.table.coupons:
            d.coupon = clause.series
        else:
            self.report(error("LOY201", f"unknown coupon series `{clause.series}`", clause.span,
                              self._series_hint(clause.series)))
            d.ok = False

    def _clause_BudgetClause(self, c: n.CampaignDecl, clause: n.BudgetClause, scope: Scope, d: _Draft) -> None:
        d.budget = self._budget(clause, scope)
        d.ok = d.ok and d.budget is not None

    def _clause_ArmClause(self, c: n.CampaignDecl, clause: n.ArmClause, scope: Scope, d: _Draft) -> None:
        """Arms are checked with the group's, over all of the campaign's clauses (``arm_gate``)."""

    def _clause_ExclusiveClause(self, c: n.CampaignDecl, clause: n.ExclusiveClause, scope: Scope, d: _Draft) -> None:
        d.exclusive = clause.scope

    def _clause_RedistributeClause(self, c: n.CampaignDecl, clause: n.RedistributeClause, scope: Scope,
                                   d: _Draft) -> None:
        d.redistribute = True

    def _clause_RewardClause(self, c: n.CampaignDecl, clause: n.RewardClause, scope: Scope, d: _Draft) -> None:
        """``reward N points [from ACCOUNT] [stock S]``: a catalogue reward (docs/rewards.md)."""
        d.reward = reward_clause(self, c, clause, scope)
        d.ok = d.ok and d.reward is not None

    def _clause_RedemptionsClause(self, c: n.CampaignDecl, clause: n.RedemptionsClause, scope: Scope,
                                  d: _Draft) -> None:
        count = self._constant_int(clause.value, scope, t.COUNT, "a redemption limit")
        limit = redemption_limit(c.name, clause, count, d.redemptions, self.report)
        if limit is None:
            d.ok = False
        else:
            d.redemptions.append(limit)

    def _campaign_account(self, c: n.CampaignDecl, accruals: list[n.Accrue]) -> tuple[bool, str | None]:
        """(ok, the one account the campaign's accruals go to): the default one without `to`, also
        for a campaign that accrues nothing; not ok after LOY219, when they name two."""
        default = self.state.default_account
        first: n.Accrue | None = None
        for a in accruals:
            if a.account is not None and a.account not in self.table.accounts:
                continue  # reported where the accrual was checked
            if first is None:
                first = a
            elif (a.account or default) != (first.account or default):
                names = sorted({str(a.account or default), str(first.account or default)})
                self.report(error(
                    "LOY219", f"campaign `{c.name}` accrues into `{names[0]}` and `{names[1]}`", a.span,
                    "a campaign accrues into one account: write the same `to ACCOUNT` on each accrual "
                    "(without `to` points go to the default account), or split the campaign"))
                return False, None
        return True, (first.account or default) if first is not None else default

    def _usage_limit(self, clause: n.LimitClause, scope: Scope) -> UsageLimit | None:
        """``limit N per day|week|month|quarter|year|customer``: N receipts per customer per period."""
        if clause.kind != "applications":
            self.report(error("LOY207", f"the {clause.kind} limit is per receipt only", clause.span,
                              "cap what a customer gets over time with `limit N per day` (receipts) or `budget`"))
            return None
        if clause.per not in USAGE_PERIODS:
            self.report(error("LOY207", f"unknown limit period `{clause.per}`", clause.span,
                              did_you_mean(clause.per, USAGE_PERIODS)
                              or f"use one of receipt, {', '.join(USAGE_PERIODS)}"))
            return None
        value = self._constant_int(clause.value, scope, t.COUNT, "a usage limit")
        if value is None:
            return None
        if value < 1:
            self.report(error("LOY207", "a usage limit must allow at least one receipt", clause.value.span))
            return None
        return UsageLimit(value, clause.per)

    def _budget(self, clause: n.BudgetClause, scope: Scope) -> Budget | None:
        value = self.expr(clause.value, scope, None)
        if value is None:
            return None
        if value.type not in (t.MONEY, t.POINTS):
            self.report(error("LOY202", f"a budget is money or points, not {value.type}", clause.value.span,
                              f"write e.g. `budget 100000.00 {self._currency()}` or `budget 1000000 points`"))
            return None
        if not isinstance(value, ir.Const) or type(value.value) is not int:
            self.report(error("LOY207", "a budget must be a constant", clause.value.span))
            return None
        if value.value < 1:
            self.report(error("LOY207", "a budget must be positive", clause.value.span))
            return None
        return Budget(value.type.name, value.value)

    def _series_hint(self, name: str) -> str:
        return (did_you_mean(name, list(self.table.coupons))
                or (f"the coupon series are: {', '.join(self.table.coupons)}" if self.table.coupons
                    else f"declare it: `coupons {name} {{ code unique \"{name.upper()}-\" }}`"))

    def _counter_hint(self, name: str) -> str:
        if name in self.table.accounts:
            return f"`{name}` is an account: points are added with `accrue ... to {name}`"
        return (did_you_mean(name, list(self.table.counters))
                or (f"the counters and chips are: {', '.join(self.table.counters)}" if self.table.counters
                    else f"declare it: `counter {name} {{ }}`"))

    def _bind_arguments(self, template: n.TemplateDecl, use: n.TemplateUse) -> dict[str, tuple[n.Expr, Type]] | None:
        params = {p.name: p for p in template.params}
        bound: dict[str, tuple[n.Expr, Type]] = {}
        ok = True
        for p in template.params:
            if t.param_type(p.type_name) is None:
                self.report(error("LOY206", f"unknown parameter type `{p.type_name}`", p.span,
                                  did_you_mean(p.type_name, [*t.SCALAR_PARAM_TYPES, *t.LIST_DOMAINS])))
                ok = False
        for arg in use.args:
            param = params.get(arg.name)
            if param is None:
                self.report(error("LOY206", f"template `{template.name}` has no parameter `{arg.name}`", arg.span,
                                  did_you_mean(arg.name, list(params))))
                ok = False
                continue
            if arg.name in bound:
                self.report(error("LOY206", f"argument `{arg.name}` is given twice", arg.span))
                ok = False
                continue
            expected = t.param_type(param.type_name)
            if expected is None:
                continue
            checked = self.expr(arg.value, Scope(), expected)
            if checked is None:
                ok = False
                continue
            if not _assignable(checked.type, expected):
                self.report(error("LOY206", f"argument `{arg.name}` must be {expected}, got {checked.type}",
                                  arg.value.span))
                ok = False
                continue
            bound[arg.name] = (arg.value, expected)
        for name in params:
            if name not in bound and ok:
                self.report(error("LOY206", f"template `{template.name}` needs the argument `{name}`", use.span))
                ok = False
        return bound if ok else None

    def _limit(self, clause: n.LimitClause, scope: Scope) -> int | None:
        expected = {"applications": t.COUNT, "discount": t.MONEY, "points": t.POINTS}.get(clause.kind)
        if expected is None:
            self.report(error("LOY207", f"unknown limit `{clause.kind}`", clause.span))
            return None
        value = self._constant_int(clause.value, scope, expected, f"the {clause.kind} limit")
        if value is None:
            return None
        if value < 1:
            self.report(error("LOY207", f"the {clause.kind} limit must be positive", clause.value.span))
            return None
        return value

    # ------------------------------------------------------------------------------------ actions

    def _action(self, a: n.Action, scope: Scope, campaign: str) -> ir.IAction | None:
        result: ir.IAction | None = self._visit("_action_", "action", a, scope, campaign)
        return result

    def _action_Discount(self, a: n.Discount, scope: Scope, campaign: str) -> ir.IAction | None:
        return self._discount(a, scope)

    def _action_PriceOverride(self, a: n.PriceOverride, scope: Scope, campaign: str) -> ir.IAction | None:
        price = self._typed(a.price, scope, t.MONEY, "a price")
        pred = self._selection(a.selection, scope)
        if price is None or pred is None or not self._gives(price, a.price.span, "a price", zero=True):
            return None
        return ir.Reward(Op.SET_PRICE, pred, (price,), span=a.span)

    def _action_FreeUnits(self, a: n.FreeUnits, scope: Scope, campaign: str) -> ir.IAction | None:
        free = self._constant_int(a.free, scope, t.COUNT, "the number of free units")
        every = self._constant_int(a.every, scope, t.COUNT, "the group size")
        pred = self._selection(a.selection, scope)
        if free is None or every is None or pred is None:
            return None
        if not 1 <= free < every:
            self.report(error("LOY207", f"`free {free} in {every}` must free at least one and fewer than all units",
                              a.span))
            return None
        return ir.Reward(Op.FREE_UNITS, pred, (_count(free), _count(every)), span=a.span)

    def _action_FreeCheapest(self, a: n.FreeCheapest, scope: Scope, campaign: str) -> ir.IAction | None:
        count = self._constant_int(a.count, scope, t.COUNT, "the number of free units")
        pred = self._selection(a.selection, scope)
        if count is None or pred is None:
            return None
        if count < 1:
            self.report(error("LOY207", "at least one unit must be free", a.count.span))
            return None
        return ir.Reward(Op.FREE_CHEAPEST, pred, (_count(count),), span=a.span)

    def _action_Combo(self, a: n.Combo, scope: Scope, campaign: str) -> ir.IAction | None:
        return self._combo(a, scope)

    def _action_Tiers(self, a: n.Tiers, scope: Scope, campaign: str) -> ir.IAction | None:
        return self._tiers(a, scope, campaign)

    def _action_Accrue(self, a: n.Accrue, scope: Scope, campaign: str) -> ir.IAction | None:
        return self._accrue(a, scope, campaign)

    def _action_CounterAdd(self, a: n.CounterAdd, scope: Scope, campaign: str) -> ir.IAction | None:
        return self._counter_action(a, scope)

    def _action_CounterSpend(self, a: n.CounterSpend, scope: Scope, campaign: str) -> ir.IAction | None:
        return self._counter_action(a, scope)

    def _action_Gift(self, a: n.Gift, scope: Scope, campaign: str) -> ir.IAction | None:
        return gift_action(self, a, scope)

    def _action_IssueCoupon(self, a: n.IssueCoupon, scope: Scope, campaign: str) -> ir.IAction | None:
        if a.series not in self.table.coupons:
            self.report(error("LOY201", f"unknown coupon series `{a.series}`", a.span, self._series_hint(a.series)))
            return None
        return ir.StateAction(Op.ISSUE_COUPON, a.series, span=a.span)

    def _action_UnitDiscount(self, a: n.UnitDiscount, scope: Scope, campaign: str) -> ir.IAction | None:
        return unit_discount(self, a, scope)  # docs/units.md

    def _counter_action(self, a: n.CounterAdd | n.CounterSpend, scope: Scope) -> ir.IAction | None:
        """``add EXPR to NAME`` / ``spend EXPR from NAME``: a count, on a declared counter or chips."""
        adding = isinstance(a, n.CounterAdd)
        ok = True
        if a.counter not in self.table.counters:
            self.report(error("LOY201", f"unknown counter or chips `{a.counter}`", a.span, self._counter_hint(a.counter)))
            ok = False
        value = self._typed(a.value, scope, t.COUNT, "what is added" if adding else "what is spent")
        if value is None or not ok:
            return None
        if isinstance(value, ir.Const) and type(value.value) is int and value.value < 1:
            self.report(error("LOY207", f"{'adding' if adding else 'spending'} {value.value} changes nothing; "
                                        "the amount must be positive", a.value.span))
            return None
        return ir.StateAction(Op.ADD_COUNTER if adding else Op.SPEND_COUNTER, a.counter, value, span=a.span)

    def _discount(self, a: n.Discount, scope: Scope) -> ir.IAction | None:
        value = self.expr(a.value, scope, None)
        pred = self._target(a.target, scope)
        if value is None or pred is None:
            return None
        on_receipt = a.target.selection is None
        if value.type in (t.PERCENT, t.MONEY) and not self._gives(value, a.value.span, "a discount"):
            return None
        if value.type == t.PERCENT:
            if a.per_unit:
                self.report(error("LOY202", "`per unit` takes money, not a percentage", a.value.span,
                                  "write `discount 10% on lines where ...` for a percentage of each line"))
                return None
            if isinstance(value, ir.Const) and isinstance(value.value, int) and value.value > t.PPM:
                self.report(error("LOY207", "a discount cannot exceed 100%", a.value.span))
                return None
            op = Op.DISCOUNT_TOTAL if on_receipt else Op.DISCOUNT_LINES
            return ir.Reward(op, pred, (value,), span=a.span)
        if value.type == t.MONEY:
            if a.per_unit:
                if on_receipt:
                    self.report(error("LOY202", "`per unit` needs `on lines where ...`", a.span))
                    return None
                return ir.Reward(Op.DISCOUNT_PER_UNIT, pred, (value,), span=a.span)
            return ir.Reward(Op.DISCOUNT_AMOUNT, pred, (value,), span=a.span)
        self.report(error("LOY202", f"a discount is a percentage or money, not {value.type}", a.value.span,
                          "write e.g. `10%` or `100.00 " + self._currency() + "`"))
        return None

    def _combo(self, a: n.Combo, scope: Scope) -> ir.IAction | None:
        parts: list[tuple[ir.IExpr, int]] = []
        names: list[str] = []
        ok = True
        for part in a.parts:
            if part.name in names:
                self.report(error("LOY205", f"combo part `{part.name}` is named twice", part.span))
                ok = False
                continue
            need = self._constant_int(part.need, scope, t.COUNT, "a combo part's count")
            pred = self._selection(part.selection, scope)
            if need is None or pred is None:
                ok = False
                continue
            if need < 1:
                self.report(error("LOY207", "a combo part needs at least one unit", part.need.span))
                ok = False
                continue
            names.append(part.name)
            parts.append((pred, need))
        expected = t.PERCENT if a.reward == "percent_on_part" else t.MONEY
        value = self._typed(a.value, scope, expected, "the combo reward")
        if value is None or not ok:
            return None
        if not self._gives(value, a.value.span, "a set's price" if a.reward == "set_price" else "the combo reward",
                           zero=a.reward == "set_price"):
            return None
        if expected == t.PERCENT and isinstance(value, ir.Const) and isinstance(value.value, int) \
                and value.value > t.PPM:
            self.report(error("LOY207", "a discount cannot exceed 100%", a.value.span))
            return None
        part_index: int | None = None
        if a.reward == "percent_on_part":
            if a.part not in names:
                self.report(error("LOY201", f"the combo has no part `{a.part}`", a.span,
                                  did_you_mean(a.part or "", names)))
                return None
            part_index = names.index(a.part)
        elif a.reward not in ("amount_per_set", "set_price"):
            self.report(error("LOY207", f"unknown combo reward `{a.reward}`", a.span))
            return None
        return ir.ComboReward(tuple(parts), a.reward, part_index, value, span=a.span)

    def _tiers(self, a: n.Tiers, scope: Scope, campaign: str) -> ir.IAction | None:
        subject = self.expr(a.subject, scope, None)
        if subject is None:
            return None
        if not subject.type.numeric:
            self.report(error("LOY202", f"tiers need a number to compare, got {subject.type}", a.subject.span))
            return None
        branches = []
        ok = True
        previous: int | None = None
        for b in a.branches:
            threshold = self.expr(b.threshold, scope, subject.type)
            if threshold is None:
                ok = False
                continue
            if threshold.type.name != subject.type.name:
                self.report(error("LOY203", f"a tier threshold of {threshold.type} against {subject.type}",
                                  b.threshold.span, _unit_hint(subject.type, self._currency())))
                ok = False
                continue
            if isinstance(threshold, ir.Const) and isinstance(threshold.value, int):
                if previous is not None and threshold.value >= previous:
                    self.report(error("LOY212", "tiers must be written from the highest threshold down",
                                      b.threshold.span, "the first branch that is met applies"))
                    ok = False
                previous = threshold.value
            actions = []
            for action in b.actions:
                checked = self._action(action, scope, campaign)
                if checked is None:
                    ok = False
                else:
                    actions.append(checked)
            branches.append((Op.GE if b.op == ">=" else Op.GT, threshold, tuple(actions)))
        if not ok:
            return None
        return ir.TierChoice(subject, tuple(branches), span=a.span)

    def _accrue(self, a: n.Accrue, scope: Scope, campaign: str) -> ir.IAction | None:
        pred = self._target(a.target, scope)
        if a.account is not None and a.account not in self.table.accounts:
            self.report(error("LOY201", f"unknown account `{a.account}`", a.span, account_hint(self.table, a.account)))
            return None
        if pred is None:
            return None
        if a.multiplier_of is not None:
            return self._multiplier(a, pred, scope, campaign)
        value = self.expr(a.value, scope, None)
        if value is None:
            return None
        if value.type in (t.PERCENT, t.POINTS) and not self._gives(value, a.value.span, "an accrual"):
            return None
        if value.type == t.PERCENT:
            return ir.Reward(Op.ACCRUE_TOTAL, pred, (value,), span=a.span)
        if value.type == t.POINTS:
            return ir.Reward(Op.ACCRUE_FIXED, pred, (value,), span=a.span)
        self.report(error("LOY202", f"accrue takes a percentage or points, not {value.type}", a.value.span,
                          "write e.g. `accrue 3% on receipt` or `accrue 100 points`"))
        return None

    def _multiplier(self, a: n.Accrue, pred: ir.IExpr, scope: Scope, campaign: str) -> ir.IAction | None:
        base_name = a.multiplier_of
        assert base_name is not None
        if base_name not in self.table.campaigns:
            self.report(error("LOY201", f"unknown campaign `{base_name}`", a.span,
                              did_you_mean(base_name, list(self.table.campaigns))))
            return None
        if base_name in self._in_progress:
            self.report(error("LOY206", f"`{campaign}` and `{base_name}` multiply each other's points", a.span))
            return None
        factor = _decimal(a.value)
        if factor is None or factor < 1:
            self.report(error("LOY207", "a multiplier is a number of at least 1, as in `x5`", a.value.span))
            return None
        base = self._campaign(base_name)
        if base is None:
            return None
        rates = [r.args[0] for r in _rewards(base.actions) if r.op == Op.ACCRUE_TOTAL]
        if len(rates) == 1 and isinstance(rates[0], ir.StateLoad):  # `accrue tier.cashback`: the level's rate
            if self._bounded(int(factor * t.QTY_SCALE), t.NUMBER, a.value.span) is None:
                return None
            return ir.Reward(Op.ACCRUE_TOTAL, pred, (self._times(rates[0], factor - 1),), span=a.span)
        if len(rates) != 1 or not isinstance(rates[0], ir.Const) or not isinstance(rates[0].value, int):
            self.report(error("LOY206", f"`{base_name}` must accrue exactly one fixed percentage (or a tier "
                                        "benefit) to be multiplied", a.span))
            return None
        extra = (factor - 1) * rates[0].value
        if extra != extra.to_integral_value():
            self.report(error("LOY207", "the multiplied rate is finer than 0.0001%", a.value.span))
            return None
        if self._bounded(int(extra), t.PERCENT, a.value.span) is None:
            return None
        return ir.Reward(Op.ACCRUE_TOTAL, pred, (ir.Const(t.PERCENT, int(extra)),), span=a.span)

    def _times(self, rate: ir.IExpr, k: Decimal) -> ir.IExpr:
        """``rate × k`` for a multiplier's extra rate read at run time: exact for a whole k, else rounded
        by the points rounding (the rate is in ppm, so that is below 0.0001%)."""
        assert self.settings is not None
        if k == 1:
            return rate
        if k == k.to_integral_value():
            return _fold(ir.Arith(t.PERCENT, Op.MUL, rate, ir.Const(t.COUNT, int(k))))
        return ir.MulDiv(t.PERCENT, rate, ir.Const(t.NUMBER, int(k * t.QTY_SCALE)), t.QTY_SCALE,
                         self.settings.rounding_points)

    def _gives(self, value: ir.IExpr, span: Span | None, what: str, zero: bool = False) -> bool:
        """Whether an effect's constant amount gives something: a negative one would take from the customer
        and a zero one gives nothing (unless ``zero``: a price of 0 makes a line free), so both are LOY221.
        An amount known only at run time is clamped at zero there (docs/language.md, "Actions")."""
        if not isinstance(value, ir.Const) or type(value.value) is not int:
            return True
        if value.value > 0 or (zero and value.value == 0):
            return True
        sign = "negative" if value.value < 0 else "zero"
        self.report(error("LOY221", f"{what} of {self.shown(value.value, value.type)} is {sign}", span,
                          "an effect gives the customer something: write a positive amount"
                          if value.value < 0 or not zero else None))
        return False

    def shown(self, value: int, ty: Type) -> str:
        """A scaled value as the author writes it, for messages."""
        if ty == t.DURATION:
            return f"{value // DAY} days" if value % DAY == 0 and value else f"{value} seconds"
        if ty == t.PERCENT:
            return f"{Decimal(value).scaleb(-4).normalize():f}%"
        if ty == t.MONEY and self.settings is not None:
            return f"{Decimal(value).scaleb(-self.settings.minor):f} {self.settings.currency}"
        if ty == t.POINTS:
            return f"{value} points" if self.settings is None or not self.settings.points_minor else \
                f"{Decimal(value).scaleb(-self.settings.points_minor):f} points"
        return str(value)

    def _target(self, target: n.Target, scope: Scope) -> ir.IExpr | None:
        if target.selection is None:
            return TRUE
        return self._selection(target.selection, scope)

    def _selection(self, sel: n.Selection, scope: Scope) -> ir.IExpr | None:
        if sel.predicate is None:
            return TRUE
        if scope.line:
            self.report(error("LOY215", "a selection of lines cannot be nested inside `where`", sel.span))
            return None
        return self._condition(sel.predicate, scope.inside_line(), "where")

    # ------------------------------------------------------------------------------------ expressions

    def _condition(self, e: n.Expr, scope: Scope, what: str) -> ir.IExpr | None:
        checked = self.expr(e, scope, t.BOOL)
        if checked is None:
            return None
        if checked.type != t.BOOL:
            self.report(error("LOY204", f"`{what}` needs a yes/no condition, got {checked.type}", e.span))
            return None
        return checked

    def _typed(self, e: n.Expr, scope: Scope, expected: Type, what: str) -> ir.IExpr | None:
        checked = self.expr(e, scope, expected)
        if checked is None:
            return None
        if checked.type.name != expected.name:
            self.report(error("LOY202", f"{what} must be {expected}, got {checked.type}", e.span,
                              _unit_hint(expected, self._currency())))
            return None
        return checked

    def _constant_int(self, e: n.Expr, scope: Scope, expected: Type, what: str) -> int | None:
        checked = self._typed(e, scope, expected, what)
        if checked is None:
            return None
        if not isinstance(checked, ir.Const) or not isinstance(checked.value, int) or isinstance(checked.value, bool):
            self.report(error("LOY207", f"{what} must be a constant", e.span))
            return None
        return checked.value

    def _const_set(self, e: n.Expr, domain: str, scope: Scope) -> frozenset[str] | None:
        checked = self.expr(e, scope, t.set_of(domain))
        if checked is None:
            return None
        if checked.type.name != "set" or not isinstance(checked, ir.Const):
            self.report(error("LOY202", f"expected a list of {domain}s, got {checked.type}", e.span))
            return None
        if not t.domains_compatible(checked.type.domain, domain):
            self.report(error("LOY203", f"expected a list of {domain}s, got {checked.type}", e.span))
            return None
        assert isinstance(checked.value, frozenset)
        return checked.value

    def expr(self, e: n.Expr, scope: Scope, expected: Type | None) -> ir.IExpr | None:
        """Check ``e``; ``expected`` only guides bare numbers (which adopt quantity or count).

        Every constant it yields (a literal, a folded product or sum) is within the limits (LOY220)."""
        checked = self._expr(e, scope, expected)
        if isinstance(checked, ir.Const) and type(checked.value) is int and checked.type.numeric \
                and self._bounded(checked.value, checked.type, e.span) is None:
            return None
        return checked

    def _bounded(self, value: int, ty: Type, span: Span | None) -> int | None:
        """``value`` when it is within the limits of ``ty`` (a duration: MAX_DURATION_DAYS; anything
        else: MAX_VALUE in its scale), else None after LOY220."""
        bound = MAX_DURATION_SECONDS if ty == t.DURATION else MAX_VALUE
        if abs(value) <= bound:
            return value
        self.report(error("LOY220", f"{self.shown(value, ty)} is beyond the limits of a {ty}: at most "
                                    f"{self.shown(bound, ty)}", span))
        return None

    def _expr(self, e: n.Expr, scope: Scope, expected: Type | None) -> ir.IExpr | None:
        result: ir.IExpr | None = self._visit("_expr_", "expression", e, scope, expected)
        return result

    def _visit(self, prefix: str, what: str, node: n.Node, *args: Any) -> Any:
        """The method ``prefix + node's class name`` applied to ``node`` (dispatch by node name, as
        ``_clause_*``); a node with no such method is reported (LOY202) and gives None."""
        check = getattr(self, prefix + type(node).__name__, None)
        if check is None:
            self.report(error("LOY202", f"unsupported {what} {type(node).__name__}", node.span))
            return None
        return check(node, *args)

    def _expr_NumberLit(self, e: n.NumberLit, scope: Scope, expected: Type | None) -> ir.IExpr | None:
        return self._number(e, expected)

    def _expr_MoneyLit(self, e: n.MoneyLit, scope: Scope, expected: Type | None) -> ir.IExpr | None:
        value = self._money_literal(e)
        return None if value is None else ir.Const(t.MONEY, value)

    def _expr_PointsLit(self, e: n.PointsLit, scope: Scope, expected: Type | None) -> ir.IExpr | None:
        assert self.settings is not None
        scaled = self._scaled(e.amount, self.settings.points_minor, e.span, "points")
        return None if scaled is None else ir.Const(t.POINTS, scaled)

    def _expr_PercentLit(self, e: n.PercentLit, scope: Scope, expected: Type | None) -> ir.IExpr | None:
        scaled = self._scaled(e.value, 4, e.span, "a percentage")
        return None if scaled is None else ir.Const(t.PERCENT, scaled)

    def _expr_QuantityLit(self, e: n.QuantityLit, scope: Scope, expected: Type | None) -> ir.IExpr | None:
        scaled = self._scaled(e.amount, 3, e.span, "a quantity")
        return None if scaled is None else ir.Const(t.QUANTITY, scaled)

    def _expr_DurationLit(self, e: n.DurationLit, scope: Scope, expected: Type | None) -> ir.IExpr | None:
        return ir.Const(t.DURATION, {"days": 86400, "hours": 3600, "minutes": 60}.get(e.unit, 0) * e.amount)

    def _expr_StringLit(self, e: n.StringLit, scope: Scope, expected: Type | None) -> ir.IExpr | None:
        return ir.Const(t.STRING, e.value)

    def _expr_BoolLit(self, e: n.BoolLit, scope: Scope, expected: Type | None) -> ir.IExpr | None:
        return ir.Const(t.BOOL, e.value)

    def _expr_SetLit(self, e: n.SetLit, scope: Scope, expected: Type | None) -> ir.IExpr | None:
        return self._set_literal(e, expected)

    def _expr_Ref(self, e: n.Ref, scope: Scope, expected: Type | None) -> ir.IExpr | None:
        return self._ref(e, scope, expected)

    def _expr_Unary(self, e: n.Unary, scope: Scope, expected: Type | None) -> ir.IExpr | None:
        operand = self.expr(e.operand, scope, expected)
        if operand is None:
            return None
        if not operand.type.numeric:
            self.report(error("LOY202", f"cannot negate {operand.type}", e.span))
            return None
        if isinstance(operand, ir.Const) and isinstance(operand.value, int):
            return ir.Const(operand.type, -operand.value)
        return ir.Neg(operand.type, operand)

    def _expr_BinOp(self, e: n.BinOp, scope: Scope, expected: Type | None) -> ir.IExpr | None:
        return self._binop(e, scope, expected)

    def _expr_Compare(self, e: n.Compare, scope: Scope, expected: Type | None) -> ir.IExpr | None:
        return self._compare(e, scope)

    def _expr_Membership(self, e: n.Membership, scope: Scope, expected: Type | None) -> ir.IExpr | None:
        return self._membership(e, scope)

    def _expr_BoolOp(self, e: n.BoolOp, scope: Scope, expected: Type | None) -> ir.IExpr | None:
        operands = []
        for part in e.operands:
            checked = self._condition(part, scope, e.op)
            if checked is None:
                return None
            operands.append(checked)
        return ir.Logic(t.BOOL, Op.AND if e.op == "and" else Op.OR, tuple(operands))

    def _expr_Not(self, e: n.Not, scope: Scope, expected: Type | None) -> ir.IExpr | None:
        operand = self._condition(e.operand, scope, "not")
        return None if operand is None else ir.NotE(t.BOOL, operand)

    def _expr_Aggregate(self, e: n.Aggregate, scope: Scope, expected: Type | None) -> ir.IExpr | None:
        return self._aggregate(e, scope)

    def _expr_Call(self, e: n.Call, scope: Scope, expected: Type | None) -> ir.IExpr | None:
        if model_scores.owns_call(e):  # docs/offers.md
            return self.model_scores.call(e, scope.line)
        return self.segments.call(e, scope, expected)

    def _number(self, e: n.NumberLit, expected: Type | None) -> ir.IExpr | None:
        value = _decimal(e)
        if value is None:
            self.report(error("LOY103", f"`{e.text}` is not a number", e.span))
            return None
        if expected is not None and expected.name in ("money", "points", "percent", "duration"):
            self.report(error("LOY203", f"a bare number where {expected} is expected", e.span,
                              _unit_hint(expected, self._currency())))
            return None
        if expected is not None and expected.name == "quantity":
            return self._scaled_const(e, t.QUANTITY, 3)
        if value == value.to_integral_value() and (expected is None or expected.name != "number"):
            return ir.Const(t.COUNT, int(value))
        return self._scaled_const(e, t.NUMBER, 3)

    def _scaled_const(self, e: n.NumberLit, ty: Type, digits: int) -> ir.IExpr | None:
        scaled = self._scaled(e.text, digits, e.span, str(ty))
        return None if scaled is None else ir.Const(ty, scaled)

    def _scaled(self, text: str, digits: int, span: Span | None, what: str) -> int | None:
        try:
            value = Decimal(text)
        except InvalidOperation:
            self.report(error("LOY103", f"`{text}` is not a number", span))
            return None
        scaled = value.scaleb(digits)
        if scaled != scaled.to_integral_value():
            self.report(error("LOY207", f"{what} `{text}` has more than {digits} decimal digits", span))
            return None
        if abs(scaled) > MAX_VALUE:
            self.report(error("LOY220", f"{what} `{text}` is beyond the limit", span,
                              f"at most {MAX_VALUE:,} in minor units (percentages in millionths, quantities in "
                              "thousandths)"))
            return None
        return int(scaled)

    def _money_literal(self, e: n.MoneyLit) -> int | None:
        assert self.settings is not None
        return self._money_in(e, self.settings.currency, self.settings.minor)

    def _money_in(self, e: n.MoneyLit, currency: str, minor: int) -> int | None:
        if e.currency != currency:
            self.report(error("LOY208", f"`{e.amount} {e.currency}` is not in the programme's currency {currency}",
                              e.span))
            return None
        return self._scaled(e.amount, minor, e.span, "a money amount")

    def _currency(self) -> str:
        return self.settings.currency if self.settings else "RUB"

    def _set_literal(self, e: n.SetLit, expected: Type | None) -> ir.IExpr | None:
        items: list[str] = []
        for item in e.items:
            if not isinstance(item, n.StringLit):
                self.report(error("LOY202", "a list literal holds strings", item.span, 'quote each item: ["a", "b"]'))
                return None
            items.append(item.value)
        domain = expected.domain if expected is not None and expected.name == "set" else None
        return ir.Const(t.set_of(domain), frozenset(items))

    def _ref(self, e: n.Ref, scope: Scope, expected: Type | None) -> ir.IExpr | None:
        head, rest = e.path[0], e.path[1:]
        if SegmentChecker.owns(e):  # docs/segments.md: profile fields, segments, lifecycle, scores
            return self.segments.ref(e, scope)
        if head == "receipt":
            return self._receipt_ref(e, rest, scope)
        if head in STATE_READS and len(rest) == 1:
            return self._state_read(e, head, rest[0])
        if model_scores.owns(e):  # docs/offers.md: customer.p_alive, customer.clv_12m, ...
            return self.model_scores.ref(e, scope.line)
        if head == "customer":
            if len(rest) == 2 and rest[0] == "attr":
                return ir.LoadAttr(t.STRING, "customer", rest[1])
            return self._field(e, rest, CUSTOMER_FIELDS, "customer", "customer")
        if len(e.path) == 1 and head in scope.params:
            arg, ptype = scope.params[head]
            return self.expr(arg, Scope(), ptype)
        if head in LINE_FIELDS or head == "attr":
            return self._line_ref(e, head, rest, scope)
        if len(e.path) == 1 and head in self.table.lists:
            self._used.add(head)
            domain = t.LIST_DOMAINS.get(self.table.lists[head].kind)
            return ir.Const(t.set_of(domain), self.table.list_items.get(head, frozenset()))
        candidates = ["receipt", "customer", *self.table.lists, *scope.params, *STATE_READS]
        if scope.line:
            candidates += [*LINE_FIELDS, "attr"]
        self.report(error("LOY201", f"unknown name `{'.'.join(e.path)}`", e.span, did_you_mean(head, candidates)))
        return None

    def _receipt_ref(self, e: n.Ref, rest: tuple[str, ...], scope: Scope) -> ir.IExpr | None:
        """``receipt.FIELD``: not in an audience (LOY206), nor inside ``where`` (LOY215)."""
        if scope.audience:
            self.report(error("LOY206", "`audience` may read only `customer.*`", e.span,
                              "move conditions on the receipt into `when`"))
            return None
        if scope.line:
            self.report(error("LOY215", "receipt fields cannot be read inside `where`", e.span,
                              "compare the receipt in `when`, and select lines by their own fields"))
            return None
        return self._field(e, rest, RECEIPT_FIELDS, "receipt", "receipt")

    def _line_ref(self, e: n.Ref, head: str, rest: tuple[str, ...], scope: Scope) -> ir.IExpr | None:
        """A line's field or ``attr.NAME``: only inside ``lines where`` (LOY215); a live field not in a state
        declaration's selection (LOY272)."""
        if not scope.line:
            self.report(error("LOY215", f"`{head}` is a line field; use it inside `lines where ...`", e.span,
                              f"e.g. `count(lines where {head} ...)`"))
            return None
        if head in LIVE_LINE_FIELDS and scope.state:
            self.report(error("LOY272", f"`{head}` is read while campaigns apply; a state declaration's "
                                        "selection is read after them", e.span,
                              "select by what the line is (`sku`, `category`, `amount`, ...)"))
            return None
        if head == "attr":
            if len(rest) != 1:
                self.report(error("LOY201", "write a line attribute as `attr.NAME`", e.span))
                return None
            return ir.LoadAttr(t.STRING, "line", rest[0])
        if rest:
            self.report(error("LOY201", f"`{head}` has no field `{rest[0]}`", e.span))
            return None
        return ir.Load(LINE_FIELDS[head], "line", head)

    def _state_read(self, e: n.Ref, head: str, name: str) -> ir.IExpr | None:
        """``counter.NAME`` / ``chips.NAME`` (count), ``balance.ACCOUNT`` (points), ``tier.BENEFIT``."""
        op = STATE_READS[head]
        if op == Op.COUNTER:
            decl = self.table.counters.get(name)
            if decl is None:
                self.report(error("LOY201", f"unknown {head} `{name}`", e.span, self._counter_hint(name)))
                return None
            if decl.kind != head:
                self.report(error("LOY201", f"`{name}` is declared as {decl.kind}, not as {head}", e.span,
                                  f"write `{decl.kind}.{name}`"))
                return None
            return ir.StateLoad(t.COUNT, op, name)
        if op == Op.BALANCE:
            if name not in self.table.accounts:
                self.report(error("LOY201", f"unknown account `{name}`", e.span, account_hint(self.table, name)))
                return None
            return ir.StateLoad(t.POINTS, op, name)
        benefits = self.state.benefits
        if name not in benefits:
            if self.table.tiers is None:
                hint = "`tier.NAME` reads a benefit of the customer's level; the programme declares no `tiers`"
            else:
                hint = did_you_mean(name, list(benefits)) or (
                    f"the levels declare: {', '.join(benefits)}" if benefits else "the levels declare no benefits")
            self.report(error("LOY201", f"unknown tier benefit `{name}`", e.span, hint))
            return None
        return ir.StateLoad(benefits[name], op, name)

    def _field(self, e: n.Ref, rest: tuple[str, ...], fields: dict[str, Type], source: str,
               what: str) -> ir.IExpr | None:
        if len(rest) != 1 or rest[0] not in fields:
            name = rest[0] if rest else ""
            hint = did_you_mean(name, list(fields)) if name else None
            self.report(error("LOY201", f"`{what}` has no field `{'.'.join(rest) or '(none)'}`", e.span,
                              hint or f"its fields are: {', '.join(fields)}"))
            return None
        return ir.Load(fields[rest[0]], source, rest[0])

    def _binop(self, e: n.BinOp, scope: Scope, expected: Type | None) -> ir.IExpr | None:
        if e.op == "*":  # a bare number in a product is a factor (count or number), never adopts a unit
            left, right = self.expr(e.left, scope, None), self.expr(e.right, scope, None)
        else:
            left, right = self._pair(e.left, e.right, scope, expected)
        if left is None or right is None:
            return None
        lt, rt = left.type.name, right.type.name
        if e.op in ("+", "-"):
            if lt != rt or not left.type.numeric:
                self.report(error("LOY202", f"cannot {'add' if e.op == '+' else 'subtract'} {right.type} "
                                            f"{'to' if e.op == '+' else 'from'} {left.type}", e.span,
                                  "both sides need the same unit"))
                return None
            return _fold(ir.Arith(left.type, Op.ADD if e.op == "+" else Op.SUB, left, right))
        if e.op == "*":
            product = self._multiply(e, left, right)
            return _fold_muldiv(product) if isinstance(product, ir.MulDiv) else product
        self.report(error("LOY202", f"unknown operator `{e.op}`", e.span))
        return None

    def _multiply(self, e: n.BinOp, left: ir.IExpr, right: ir.IExpr) -> ir.IExpr | None:
        assert self.settings is not None
        pair = (left.type.name, right.type.name)
        scaled_by_count = {"money", "points", "quantity", "count", "duration"}
        if pair[1] == "count" and pair[0] in scaled_by_count:
            return _fold(ir.Arith(left.type, Op.MUL, left, right))
        if pair[0] == "count" and pair[1] in scaled_by_count:
            return _fold(ir.Arith(right.type, Op.MUL, left, right))
        mode = self.settings.rounding_discount
        for a, b in ((left, right), (right, left)):
            names = (a.type.name, b.type.name)
            if names == ("money", "percent"):
                return ir.MulDiv(t.MONEY, a, b, t.PPM, mode)
            if names in (("money", "number"), ("money", "quantity")):
                return ir.MulDiv(t.MONEY, a, b, t.QTY_SCALE, mode)
            if names == ("points", "percent"):
                return ir.MulDiv(t.POINTS, a, b, t.PPM, self.settings.rounding_points)
            if names == ("points", "number"):
                return ir.MulDiv(t.POINTS, a, b, t.QTY_SCALE, self.settings.rounding_points)
            if names == ("quantity", "number"):
                return ir.MulDiv(t.QUANTITY, a, b, t.QTY_SCALE, "floor")
        self.report(error("LOY202", f"cannot multiply {left.type} by {right.type}", e.span,
                          "money, points and quantities multiply by a bare number (`receipt.total * 0.1`), "
                          "money and points by a percentage; two amounts with units never multiply"))
        return None

    def _pair(self, le: n.Expr, re: n.Expr, scope: Scope,
              expected: Type | None) -> tuple[ir.IExpr | None, ir.IExpr | None]:
        """Check two operands so that a bare number adopts the other side's unit."""
        if isinstance(le, n.NumberLit) and not isinstance(re, n.NumberLit):
            right = self.expr(re, scope, expected)
            left = self.expr(le, scope, _adoptable(right.type) if right else None) if right else None
            return left, right
        left = self.expr(le, scope, expected)
        right = self.expr(re, scope, _adoptable(left.type) if left else expected)
        return left, right

    def _compare(self, e: n.Compare, scope: Scope) -> ir.IExpr | None:
        left, right = self._pair(e.left, e.right, scope, None)
        if left is None or right is None:
            return None
        if left.type.name != right.type.name or not t.domains_compatible(left.type.domain, right.type.domain):
            self.report(error("LOY203", f"cannot compare {left.type} with {right.type}", e.span,
                              _unit_hint(left.type, self._currency())))
            return None
        op = COMPARE_OPS[e.op]
        if op not in (Op.EQ, Op.NE) and not left.type.numeric:
            self.report(error("LOY202", f"`{e.op}` orders numbers; {left.type} can only be compared with == or !=",
                              e.span))
            return None
        if left.type.name == "set":
            self.report(error("LOY202", "lists are compared with `in`, not with `==`", e.span))
            return None
        if not self.segments.check_option(e, left, right):
            return None
        return ir.Cmp(t.BOOL, op, left, right)

    def _membership(self, e: n.Membership, scope: Scope) -> ir.IExpr | None:
        check_kinds(self, e)  # docs/commerce.md
        item = self.expr(e.item, scope, None)
        if item is None:
            return None
        collection = self.expr(e.collection, scope, t.set_of(item.type.domain))
        if collection is None:
            return None
        if collection.type.name != "set":
            self.report(error("LOY202", f"`in` needs a list on the right, got {collection.type}",
                              e.collection.span))
            return None
        if not t.domains_compatible(item.type.domain, collection.type.domain):
            self.report(error("LOY203", f"looking for a {item.type.domain} in a list of {collection.type.domain}s",
                              e.span))
            return None
        if item.type.name == "set":
            node: ir.IExpr = ir.In(t.BOOL, item, collection, Op.SUBSET_ANY)
        elif item.type.name == "string":
            op = Op.CATEGORY_IN if item.type.domain == "category" else Op.IN
            node = ir.In(t.BOOL, item, collection, op)
        else:
            self.report(error("LOY202", f"`in` looks for a string or a set, got {item.type}", e.item.span))
            return None
        return ir.NotE(t.BOOL, node) if e.negated else node

    def _aggregate(self, e: n.Aggregate, scope: Scope) -> ir.IExpr | None:
        if scope.audience:
            self.report(error("LOY206", "`audience` may read only `customer.*`", e.span))
            return None
        if scope.line:
            self.report(error("LOY215", f"`{e.func}(...)` cannot be used inside `where`", e.span))
            return None
        if e.func not in AGGREGATES:
            self.report(error("LOY201", f"unknown aggregate `{e.func}`", e.span,
                              did_you_mean(e.func, list(AGGREGATES))))
            return None
        op, ty = AGGREGATES[e.func]
        pred = self._selection(e.selection, scope)
        return None if pred is None else ir.Agg(ty, op, pred)

    # ------------------------------------------------------------------------------------ lints

    def _unused_warnings(self) -> None:
        main = self.table.files[0].module if self.table.files else None
        if main is None:
            return
        for decl in main.decls:
            if isinstance(decl, n.ListDecl | n.TemplateDecl) and decl.name not in self._used:
                kind = "list" if isinstance(decl, n.ListDecl) else "template"
                self.report(warning("LOY302", f"{kind} `{decl.name}` is never used", decl.span))


# ---------------------------------------------------------------------------------------------- helpers


def check(table: SymbolTable) -> tuple[ir.Programme | None, list[Diagnostic]]:
    checker = Checker(table)
    programme = checker.check()
    return programme, checker.diags


def _seconds(value: dt.time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def _decimal(e: n.Expr) -> Decimal | None:
    if not isinstance(e, n.NumberLit):
        return None
    try:
        return Decimal(e.text)
    except InvalidOperation:
        return None


def _digits_or(digits: int | None, default: int) -> int:
    """A header's minor digits when they are within the limit, else ``default`` (LOY207 is reported)."""
    return digits if digits is not None and 0 <= digits <= MAX_MINOR_DIGITS else default


def _count(value: int) -> ir.Const:
    return ir.Const(t.COUNT, value)


def _adoptable(ty: Type) -> Type | None:
    return ty if ty.name in ("quantity", "count", "number", "money", "points", "percent") else None


def _assignable(actual: Type, expected: Type) -> bool:
    if actual.name != expected.name:
        return False
    return t.domains_compatible(actual.domain, expected.domain)


def _conjunction(parts: list[ir.IExpr]) -> ir.IExpr | None:
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else ir.Logic(t.BOOL, Op.AND, tuple(parts))


def _fold(node: ir.Arith) -> ir.IExpr:
    """Constant-fold integer arithmetic so thresholds stay analysable constants."""
    a, b = node.left, node.right
    if isinstance(a, ir.Const) and isinstance(b, ir.Const) and type(a.value) is int and type(b.value) is int:
        value = {Op.ADD: a.value + b.value, Op.SUB: a.value - b.value, Op.MUL: a.value * b.value}[node.op]
        return ir.Const(node.type, value)
    return node


def _fold_muldiv(node: ir.MulDiv) -> ir.IExpr:
    """Constant-fold a rounded product (``50 points * 1.5``) exactly as the runtime computes it."""
    a, b = node.left, node.right
    if isinstance(a, ir.Const) and isinstance(b, ir.Const) and type(a.value) is int and type(b.value) is int:
        return ir.Const(node.type, div_round(a.value * b.value, node.denominator, node.mode))
    return node


def _rewards(actions: tuple[ir.IAction, ...]) -> list[ir.Reward]:
    return [a for a in ir.flat_actions(actions) if isinstance(a, ir.Reward)]


def _unit_hint(ty: Type, currency: str) -> str | None:
    return {
        "money": f"write money with its currency, e.g. `1000.00 {currency}`",
        "points": "write points with their unit, e.g. `100 points`",
        "percent": "write a percentage with `%`, e.g. `10%`",
        "quantity": "write a quantity with its unit, e.g. `1.5 kg` or `3 units`",
        "duration": "write a duration with its unit, e.g. `14 days`",
    }.get(ty.name)


def _state_clause_word(clause: n.Clause) -> str | None:
    """How a diagnostic names a campaign clause about state that may appear once (else None)."""
    if isinstance(clause, n.CouponClause):
        return "`coupon`"
    if isinstance(clause, n.BudgetClause):
        return "`budget`"
    if isinstance(clause, n.RewardClause):
        return "`reward`"
    if isinstance(clause, n.LimitClause) and clause.per != "receipt":
        return "a usage limit (`limit N per PERIOD`)"
    return None


def _clause_word(clause: n.Clause) -> str:
    return {
        n.GroupClause: "group",
        n.PriorityClause: "priority",
        n.ValidClause: "valid",
        n.WeekdaysClause: "weekdays",
        n.HoursClause: "hours",
        n.ExclusiveClause: "exclusive",
        n.RedistributeClause: "redistribute",
    }.get(type(clause), type(clause).__name__)
