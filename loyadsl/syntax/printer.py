"""Canonical .loya text from an AST, so that ``parse(format_module(m)) == m`` and formatting is idempotent.

The layout is fixed: 4-space indents, one clause per line, each extra action of a ``then`` and each
tier branch on its own line, parentheses only where precedence needs them, ``category "dairy"`` for
a one-string membership on ``category``/``sku``/``brand``. Set items are printed as quoted strings
(``[pos]`` and ``["pos"]`` are the same AST).

The printer works in ``Line``s: each knows its indentation and, when the AST came from source text,
the source it prints (from its first token to its last). That is how ``loyadsl/syntax/fmt.py`` puts
each comment back where its author put it; ``format_module`` alone prints no comments.
ASTs the parsers never produce (a set literal holding a non-string, ``minor`` without ``currency``)
are printed as closely as the syntax allows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from loyadsl.syntax import nodes as n
from loyadsl.syntax.trivia import Pos, Trivia

INDENT = "    "
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SUGAR_FIELDS = ("category", "sku", "brand", "kind")
_MULTIPLIER = re.compile(r"x[0-9]")

# Binding strength, loosest first; an operand printed where a stronger one is needed gets parentheses.
_OR, _AND, _NOT, _CMP, _SUM, _PRODUCT, _UNARY, _ATOM = range(1, 9)


@dataclass(frozen=True)
class Line:
    """One printed line: ``text`` after ``depth`` indents.

    ``start``/``end`` are where the source this line prints starts and ends (its first token's start,
    its last token's end), when known. ``gap`` puts a blank line before it (between declarations);
    ``closes`` marks a block's closing ``}`` line, before which comments sit one level in."""

    depth: int
    text: str
    start: Pos | None = None
    end: Pos | None = None
    gap: bool = False
    closes: bool = False


def format_module(module: n.Module) -> str:
    """The whole file: header, imports, then declarations in their order, blank lines between them."""
    return render(module_lines(module))


def render(lines: list[Line]) -> str:
    out: list[str] = []
    for line in lines:
        if line.gap and out:
            out.append("")
        out.append(INDENT * line.depth + line.text)
    return "\n".join(out) + "\n" if out else ""


def module_lines(module: n.Module, src: Trivia | None = None) -> list[Line]:
    """The lines of a file; with ``src`` (the source's trivia), each line knows the source it prints."""
    src = src or Trivia()
    lines: list[Line] = []
    if module.header is not None:
        lines += _header(module.header, src)
    for i, imp in enumerate(module.imports):
        lines.append(Line(0, f"import {quote(imp.path)}", *_whole(imp), gap=i == 0))
    previous: n.Decl | None = None
    for decl in module.decls:
        block = decl_lines(decl, src)
        together = isinstance(decl, n.ListDecl) and isinstance(previous, n.ListDecl)  # consecutive lists
        lines += [replace(block[0], gap=not together), *block[1:]]
        previous = decl
    return lines


def _whole(node: n.Node | None) -> tuple[Pos | None, Pos | None]:
    span = None if node is None else node.span
    return (None, None) if span is None else ((span.line, span.col), (span.end_line, span.end_col))


def _start(node: n.Node) -> Pos | None:
    return _whole(node)[0]


def decl_lines(decl: n.Decl, src: Trivia | None = None) -> list[Line]:
    src = src or Trivia()
    if isinstance(decl, n.ListDecl):
        if decl.source is not None:
            text = f"{decl.kind} {decl.name} from {quote(decl.source.path)} column {quote(decl.source.column)}"
        else:
            text = f"{decl.kind} {decl.name} = [{', '.join(quote(item) for item in decl.items or ())}]"
        return [Line(0, text, *_whole(decl))]
    if isinstance(decl, n.GroupDecl):
        lines = []
        if decl.priority is not None:
            lines.append(_setting(src, decl, "priority", f"priority {decl.priority}"))
        if decl.stacking is not None:
            limit = "" if decl.stacking_limit is None else f" {decl.stacking_limit}"
            lines.append(_setting(src, decl, "stacking", f"stacking {decl.stacking}{limit}"))
        if decl.basis is not None:
            lines.append(_setting(src, decl, "basis", f"basis {decl.basis}"))
        if decl.arm is not None:
            lines.append(_setting(src, decl, "arm", f"arm {format_arm_ref(decl.arm)}"))
        if decl.order is not None:
            lines.append(_setting(src, decl, "order", f"order {decl.order}"))
        return _block(src, decl, f"group {decl.name}{_title(decl.title)}", lines)
    if isinstance(decl, n.TemplateDecl):
        params = ", ".join(f"{p.name}: {p.type_name}" for p in decl.params)
        head = f"template {decl.name}({params}){_title(decl.title)}"
        return _block(src, decl, head, [line for c in decl.clauses for line in clause_lines(c, 1, src)])
    if isinstance(decl, n.CampaignDecl):
        head = f"campaign {decl.name}{_title(decl.title)}"
        if decl.uses is not None:
            head += f" uses {format_template_use(decl.uses)}"
        return _block(src, decl, head, [line for c in decl.clauses for line in clause_lines(c, 1, src)])
    if isinstance(decl, n.ExperimentDecl):
        return _block(src, decl, f"experiment {decl.name}{_title(decl.title)}", experiment_lines(decl, src))
    if isinstance(decl, n.AssertDecl):
        body = _setting(src, decl, decl.subject, format_assert_body(decl))
        return _block(src, decl, f"assert {decl.name}{_title(decl.title)}", [body])
    if isinstance(decl, n.TierLadderDecl):
        lines = [_setting(src, decl, "qualify", f"qualify {decl.measure} over {format_period(decl.period)}")]
        lines += [Line(1, format_level(level), *_whole(level)) for level in decl.levels]
        return _block(src, decl, f"tiers {decl.name}{_title(decl.title)}", lines)
    if isinstance(decl, SEGMENT_DECLS):
        return segment_decl_lines(decl, src)
    if isinstance(decl, n.TriggerDecl):
        return trigger_lines(decl, src)
    if isinstance(decl, n.StrategyDecl):
        return strategy_lines(decl, src)
    if isinstance(decl, n.RedemptionDecl | n.ReferralDecl):
        head = "redemption" if isinstance(decl, n.RedemptionDecl) else "referral"
    elif isinstance(decl, n.AccountDecl | n.CounterDecl | n.CouponSeriesDecl | n.CertificateDecl):
        keyword = {n.AccountDecl: "account", n.CouponSeriesDecl: "coupons", n.CertificateDecl: "certificates"}
        kind = decl.kind if isinstance(decl, n.CounterDecl) else keyword[type(decl)]
        head = f"{kind} {decl.name}{_title(decl.title)}"
    else:
        raise TypeError(f"not a declaration: {decl!r}")
    settings = [_setting(src, decl, key.split()[0], f"{key} {value}" if value else key)
                for key, value in state_settings(decl)]
    return _block(src, decl, head, settings)


def _setting(src: Trivia, owner: n.Node, word: str, text: str) -> Line:
    """A setting of a block: a field of its declaration's node, found in the source by its first word."""
    return Line(1, text, *src.item(owner.span, word))


def _block(src: Trivia, node: n.Node, head: str, inner: list[Line], depth: int = 0, tail: str = "") -> list[Line]:
    """``head {``, the inner lines, then ``}`` (and ``tail`` after it, as a combo's reward)."""
    start, end = _whole(node)
    return [Line(depth, head + " {", start, src.open_brace(start)), *inner,
            Line(depth, "}" + tail, src.close_brace(node.span), end, closes=True)]


# ---------------------------------------------------------------------------------------------- experiments


def experiment_lines(decl: n.ExperimentDecl, src: Trivia) -> list[Line]:
    """``salt``, the arms and the holdout in declared order (their order places their buckets), ``anonymous``."""
    lines = []
    if decl.salt is not None:
        lines.append(_setting(src, decl, "salt", f"salt {quote(decl.salt)}"))
    lines += [Line(1, format_experiment_arm(arm), *_whole(arm)) for arm in decl.arms]
    if decl.anonymous is not None:
        lines.append(_setting(src, decl, "anonymous", f"anonymous {decl.anonymous}"))
    return lines


def format_experiment_arm(arm: n.ExperimentArm) -> str:
    return f"holdout {arm.weight.value}%" if arm.holdout else f"arm {arm.name} {arm.weight.value}%"


def format_assert_body(decl: n.AssertDecl) -> str:
    if decl.subject == "multiplier" and isinstance(decl.limit, n.NumberLit):
        return f"multiplier <= x{decl.limit.text}"
    return f"{decl.subject} <= {format_expr(decl.limit)}"


def format_arm_ref(ref: n.ArmRef) -> str:
    return f"{ref.experiment}.{ref.arm}"


# ---------------------------------------------------------------------------------------------- state


def state_settings(decl: n.Decl) -> list[tuple[str, str]]:
    """The settings of a state declaration's block in canonical order: (keyword, the text after it).

    Flags (``default``, ``accrue on redeemed``, ``multi use``) have an empty text. A tier ladder's
    levels are not settings (``format_level``)."""
    settings = _STATE_SETTINGS.get(type(decl))
    if settings is None:
        return []
    return [(key, text) for key, text in settings(decl) if text is not None]


# Each state declaration's settings in canonical order, as (keyword, text); a None text is a setting not given.
_Settings = Iterator[tuple[str, "str | None"]]


def _text(value: n.Expr | None) -> str | None:
    return None if value is None else format_expr(value)


def _account_settings(d: n.AccountDecl) -> _Settings:
    yield "activation", _text(d.activation)
    yield "expiry", None if d.expiry is None else format_expiry(d.expiry)
    yield "spend", d.spend_order
    yield "credit", _text(d.credit)
    yield "repay", _text(d.repay)
    yield "shortfall", d.shortfall
    yield "notify", _text(d.notify)
    yield "default", "" if d.default else None


def _redemption_settings(d: n.RedemptionDecl) -> _Settings:
    yield "accounts", ", ".join(d.accounts) if d.accounts else None
    yield "max share", _text(d.max_share)
    yield "min payment", _text(d.min_payment)
    yield "exclude", None if d.exclude is None else format_selection(d.exclude)
    yield "accrue on redeemed", "" if d.accrue_on_redeemed else None
    yield "steps", _text(d.steps)  # docs/units.md
    yield "accrue", None if d.accrue is None else "on paid" if d.accrue == "paid" else "never when redeemed"


def _tier_settings(d: n.TierLadderDecl) -> _Settings:
    yield "qualify", f"{d.measure} over {format_period(d.period)}"


def _counter_settings(d: n.CounterDecl) -> _Settings:
    if d.earn is not None and d.earn_per is not None:
        of = "" if d.earn_selection is None else f" of {format_selection(d.earn_selection)}"
        yield "earn", f"{format_expr(d.earn)} per {format_expr(d.earn_per)}{of}"
    yield "valid", _dates(d.valid_start, d.valid_end)
    yield "reset", d.reset


def _coupon_settings(d: n.CouponSeriesDecl) -> _Settings:
    yield "code", f"{d.code_kind} {quote(d.code)}" if d.code_kind != "unique" or d.code else None
    yield "valid", _dates(d.valid_start, d.valid_end) if d.valid_for is None else format_expr(d.valid_for)
    yield "uses", _text(d.uses)
    yield "per customer", _text(d.per_customer)


def _certificate_settings(d: n.CertificateDecl) -> _Settings:
    yield "sold skus", _text(d.skus)
    yield "expiry", None if d.expiry is None else format_expiry(d.expiry)
    yield "multi use" if d.multi_use else "single use", ""
    yield "per unit", "" if d.per_unit else None


def _referral_settings(d: n.ReferralDecl) -> _Settings:
    for key, value, account in (("qualify", d.qualify, None),
                                ("referrer", d.referrer, d.referrer_account),
                                ("newcomer", d.newcomer, d.newcomer_account)):
        if value is not None:
            yield key, format_expr(value) + ("" if account is None else f" to {account}")


def _dates(start: dt.date | None, end: dt.date | None) -> str | None:
    return None if start is None and end is None else _date_range(start, end)


_STATE_SETTINGS: dict[type[n.Decl], Callable[[Any], _Settings]] = {
    n.AccountDecl: _account_settings, n.RedemptionDecl: _redemption_settings, n.TierLadderDecl: _tier_settings,
    n.CounterDecl: _counter_settings, n.CouponSeriesDecl: _coupon_settings,
    n.CertificateDecl: _certificate_settings, n.ReferralDecl: _referral_settings,
}


def format_expiry(rule: n.ExpiryRule) -> str:
    """``never``, ``365 days`` or ``end of [next] quarter``."""
    if rule.kind == "after" and rule.duration is not None:
        return format_expr(rule.duration)
    if rule.kind == "end_of":
        return f"end of {'next ' if rule.next else ''}{rule.period}"
    return "never"


def format_period(period: n.Period) -> str:
    """``quarter`` or ``rolling 365 days``."""
    if period.kind == "rolling" and period.days is not None:
        return f"rolling {format_expr(period.days)}"
    return period.kind


def format_level(level: n.TierLevel) -> str:
    """``level gold >= 30000 RUB { cashback 7%  multiplier 3 }``: benefits apart by two spaces."""
    benefits = "  ".join(f"{b.name} {format_expr(b.value)}" for b in level.benefits)
    return f"level {level.name} >= {format_expr(level.threshold)} {{ {benefits} }}" if benefits else \
        f"level {level.name} >= {format_expr(level.threshold)} {{}}"


def _date_range(start: dt.date | None, end: dt.date | None) -> str:
    return " ".join(p for p in (_date(start), "..", _date(end)) if p)


def format_template_use(use: n.TemplateUse) -> str:
    return f"{use.template}({', '.join(f'{a.name} = {format_expr(a.value)}' for a in use.args)})"


def format_fraud(f: n.FraudSetting) -> str:
    """An anti-fraud limit of the header, as written (``max points 5000 per day``)."""
    if f.kind == "velocity":
        assert f.window is not None
        return f"velocity {format_expr(f.value)} per {format_expr(f.window)}"
    value = f.value.amount if isinstance(f.value, n.PointsLit) else format_expr(f.value)
    return f"max {f.kind} {value} per {f.per}"


def format_people(p: n.StaffRule | n.PartnerRule) -> str:
    """A staff or partner rule of the header, as written."""
    if isinstance(p, n.StaffRule):
        return f"staff {p.by} {quote(p.value)}"
    return f"partner {p.name} rate {format_expr(p.rate)} price {format_expr(p.price)}"


def _header(h: n.Header, src: Trivia) -> list[Line]:
    lines = []
    if h.currency is not None:
        text = f"currency {h.currency}" + ("" if h.minor is None else f" minor {h.minor}")
        lines.append(_setting(src, h, "currency", text))
    if h.points_minor is not None or h.point_value is not None:
        minor = "" if h.points_minor is None else f" minor {h.points_minor}"
        value = "" if h.point_value is None else f" value {format_expr(h.point_value)}"
        lines.append(_setting(src, h, "points", f"points{minor}{value}"))
    if h.timezone is not None:
        lines.append(_setting(src, h, "timezone", f"timezone {quote(h.timezone)}"))
    lines += [Line(1, f"rounding {r.target} {r.mode}", *_whole(r)) for r in h.rounding]
    if h.allocation is not None:
        lines.append(_setting(src, h, "allocation", f"allocation {h.allocation}"))
    if h.tax is not None:
        rate = "" if h.tax.rate is None else f" {format_expr(h.tax.rate)}"
        basis = "" if h.tax.basis is None else f" basis {h.tax.basis}"
        lines.append(_setting(src, h, "tax", f"tax {h.tax.prices}{rate}{basis}"))
    if h.totals is not None:
        lines.append(_setting(src, h, "totals", f"totals {', '.join(h.totals.kinds)}"))
    lines += [Line(1, format_fraud(f), *_whole(f)) for f in h.fraud]
    lines += [Line(1, format_people(p), *_whole(p)) for p in h.people]
    version = "" if h.version is None else f" version {quote(h.version)}"
    return _block(src, h, f"programme {quote(h.name)}{version}", lines)


def _title(title: str | None) -> str:
    return "" if title is None else " " + quote(title)


# ---------------------------------------------------------------------------------------------- clauses


def clause_keyword(clause: n.Clause) -> str:
    """The word a clause starts with (``max discount`` counts as one); also its key in the YAML twin."""
    if isinstance(clause, n.SetFilterClause):
        return clause.kind
    if isinstance(clause, n.LimitClause):
        return "limit" if clause.kind == "applications" else f"max {clause.kind}"
    return {
        n.GroupClause: "group", n.PriorityClause: "priority", n.ValidClause: "valid",
        n.WeekdaysClause: "weekdays", n.HoursClause: "hours", n.AudienceClause: "audience",
        n.WhenClause: "when", n.ThenClause: "then", n.CouponClause: "coupon", n.BudgetClause: "budget",
        n.ArmClause: "arm", n.ExclusiveClause: "exclusive", n.RedistributeClause: "redistribute",
        n.RewardClause: "reward", n.MessageClause: "message", n.RedemptionsClause: "redemptions",
    }[type(clause)]


def clause_lines(clause: n.Clause, depth: int, src: Trivia | None = None) -> list[Line]:
    """One clause at ``depth``: one line, except a ``then`` whose actions take more."""
    key = clause_keyword(clause)
    if isinstance(clause, n.ThenClause):
        return actions_lines(clause.actions, depth, src or Trivia(), f"{key} ", _start(clause))
    return [Line(depth, f"{key} {clause_value(clause)}", *_whole(clause))]


def clause_value(clause: n.Clause) -> str:
    """What follows the keyword of a one-line clause (every clause except ``then``)."""
    if isinstance(clause, n.GroupClause):
        return clause.group
    if isinstance(clause, n.PriorityClause):
        return str(clause.priority)
    if isinstance(clause, n.ValidClause):
        return _date_range(clause.start, clause.end)
    if isinstance(clause, n.WeekdaysClause):
        days = clause.days
        if len(days) >= 3 and days[0] in WEEKDAYS and days == _day_range(days[0], days[-1]):
            return f"{days[0]}..{days[-1]}"
        return "[" + ", ".join(days) + "]"
    if isinstance(clause, n.HoursClause):
        return f"{_time(clause.start)} .. {_time(clause.end)}"
    if isinstance(clause, n.SetFilterClause):
        return ("not " if clause.negated else "") + format_expr(clause.values)
    if isinstance(clause, n.AudienceClause | n.WhenClause):
        return format_expr(clause.condition)
    if isinstance(clause, n.LimitClause):
        value = clause.value
        if clause.kind == "points" and isinstance(value, n.PointsLit):
            text = value.amount  # `max points 100 per receipt`
        else:
            text = format_expr(value)
        return f"{text} per {clause.per}"
    if isinstance(clause, n.CouponClause):
        return clause.series
    if isinstance(clause, n.BudgetClause):
        return format_expr(clause.value)
    if isinstance(clause, n.ArmClause):
        return format_arm_ref(clause.ref)
    if isinstance(clause, n.ExclusiveClause):
        return clause.scope
    if isinstance(clause, n.RedistributeClause):
        return "floors"
    if isinstance(clause, n.RewardClause):
        account = "" if clause.account is None else f" from {clause.account}"
        stock = "" if clause.stock is None else f" stock {format_expr(clause.stock)}"
        return f"{format_expr(clause.points)}{account}{stock}"
    if isinstance(clause, n.MessageClause):
        return f"{clause.channel} {quote(clause.text)}"
    if isinstance(clause, n.RedemptionsClause):
        return format_expr(clause.value) + "".join(f" per {p}" for p in clause.per)
    raise TypeError(f"no one-line value for {clause!r}")


def _day_range(first: str, last: str) -> tuple[str, ...]:
    if last not in WEEKDAYS:
        return ()
    i, j = WEEKDAYS.index(first), WEEKDAYS.index(last)
    return tuple(WEEKDAYS[(i + k) % 7] for k in range((j - i) % 7 + 1))


def _date(value: dt.date | None) -> str:
    return "" if value is None else f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def _time(value: dt.time) -> str:
    text = f"{value.hour:02d}:{value.minute:02d}"
    return text + (f":{value.second:02d}" if value.second else "")


# ---------------------------------------------------------------------------------------------- actions


def actions_lines(actions: tuple[n.Action, ...], depth: int, src: Trivia, prefix: str,
                  start: Pos | None) -> list[Line]:
    """Actions as after ``then``: the first on the line of ``prefix`` (which starts at ``start`` in the
    source), each further one on its own line, one level in."""
    lines: list[Line] = []
    for i, action in enumerate(actions):
        lines += action_lines(action, depth if i == 0 else depth + 1, src)
    first = lines[0]
    lines[0] = Line(first.depth, prefix + first.text, start if first.start is not None else None, first.end)
    return lines


def format_action(action: n.Action, level: int = 0) -> str:
    """One action; blocks (``combo``, ``tiers``) span several lines, indented from ``level``."""
    first, *rest = action_lines(action, level, Trivia())
    return "\n".join([first.text, *(INDENT * line.depth + line.text for line in rest)])


def action_lines(action: n.Action, depth: int, src: Trivia) -> list[Line]:
    """One action at ``depth``; a ``combo`` or ``tiers`` block takes several lines."""
    if isinstance(action, n.Combo):
        parts = [Line(depth + 1, f"{p.name}: {format_expr(p.need)} of {format_selection(p.selection)}", *_whole(p))
                 for p in action.parts]
        reward = {
            "percent_on_part": f"discount {format_expr(action.value)} on {action.part}",
            "amount_per_set": f"discount {format_expr(action.value)}",
            "set_price": f"price {format_expr(action.value)}",
        }.get(action.reward, f"discount {format_expr(action.value)}")
        return _block(src, action, "combo", parts, depth, " " + reward)
    if isinstance(action, n.Tiers):
        branches = [line for b in action.branches
                    for line in actions_lines(b.actions, depth + 1, src, f"{b.op} {format_expr(b.threshold)}: ",
                                              _start(b))]
        return _block(src, action, f"tiers {format_expr(action.subject)}", branches, depth)
    return [Line(depth, _one_line_action(action), *_whole(action))]


def _one_line_action(action: n.Action) -> str:
    if isinstance(action, n.Discount):
        per_unit = " per unit" if action.per_unit else ""
        return f"discount {format_expr(action.value)}{per_unit}{_target(action.target)}"
    if isinstance(action, n.PriceOverride):
        return f"price {format_expr(action.price)} on {format_selection(action.selection)}"
    if isinstance(action, n.FreeUnits):
        return (f"free {_count(action.free)} in {_count(action.every)} units of "
                f"{format_selection(action.selection)}")
    if isinstance(action, n.FreeCheapest):
        unit = "unit" if action.count == n.NumberLit("1") else "units"
        return f"free cheapest {_count(action.count)} {unit} of {format_selection(action.selection)}"
    if isinstance(action, n.Accrue):
        to = "" if action.account is None else f" to {action.account}"
        if action.multiplier_of is not None:
            factor = action.value.text if isinstance(action.value, n.NumberLit) else format_expr(action.value)
            return f"accrue x{factor} of {action.multiplier_of}{_target(action.target)}{to}"
        value = format_expr(action.value)
        if _MULTIPLIER.match(value):  # a name like `x5` right after `accrue` would read as a multiplier
            value = f"({value})"
        if isinstance(action.value, n.PointsLit) and action.target.selection is None:
            return f"accrue {value}{to}"  # `accrue 100 points` is on the receipt
        return f"accrue {value}{_target(action.target)}{to}"
    if isinstance(action, n.CounterAdd):
        return f"add {format_expr(action.value)} to {action.counter}"
    if isinstance(action, n.CounterSpend):
        return f"spend {format_expr(action.value)} from {action.counter}"
    if isinstance(action, n.IssueCoupon):
        return f"issue {action.series}"
    if isinstance(action, n.UnitDiscount):  # docs/units.md
        pick = f"unit {_count(action.nth)}" if action.nth is not None else f"{action.pick} unit"
        rounded = "" if action.rounding is None else f" rounded per {action.rounding}"
        every = "" if action.every is None else f"every {_count(action.every)} units of "
        verb = "price" if action.price else "discount"
        return f"{verb} {format_expr(action.value)} on {pick} of {every}{format_selection(action.selection)}{rounded}"
    if isinstance(action, n.Gift):
        what = f"one of {format_expr(action.skus)}" if action.choice else format_expr(action.skus)
        return f"gift {what}" + ("" if action.price is None else f" at {format_expr(action.price)}")
    raise TypeError(f"not an action: {action!r}")


def _target(target: n.Target) -> str:
    if target.selection is not None and _delivery(target.selection.predicate):
        return " on delivery"
    return " on receipt" if target.selection is None else f" on {format_selection(target.selection)}"


def format_selection(selection: n.Selection) -> str:
    return "lines" if selection.predicate is None else f"lines where {format_expr(selection.predicate)}"


def _count(e: n.Expr) -> str:
    """The counts of ``free``: a number or a name as is, anything else in parentheses."""
    return format_expr(e) if isinstance(e, n.NumberLit | n.Ref) else f"({format_expr(e)})"


# ---------------------------------------------------------------------------------------------- expressions


def format_expr(e: n.Expr) -> str:
    return _expr(e, 0)


def _expr(e: n.Expr, need: int) -> str:
    text, strength = _expr_strength(e)
    return f"({text})" if strength < need else text


def _expr_strength(e: n.Expr) -> tuple[str, int]:
    if isinstance(e, n.BoolOp):
        strength = _OR if e.op == "or" else _AND
        return f" {e.op} ".join(_expr(o, strength + 1) for o in e.operands), strength
    if isinstance(e, n.Not):
        return f"not {_expr(e.operand, _NOT)}", _NOT
    if isinstance(e, n.Compare):
        return f"{_expr(e.left, _SUM)} {e.op} {_expr(e.right, _SUM)}", _CMP
    if isinstance(e, n.Membership):
        if _is_sugar(e):
            assert isinstance(e.item, n.Ref) and isinstance(e.collection, n.SetLit)
            item = e.collection.items[0]
            assert isinstance(item, n.StringLit)
            return f"{e.item.path[0]} {quote(item.value)}", _CMP
        word = "not in" if e.negated else "in"
        return f"{_expr(e.item, _SUM)} {word} {_expr(e.collection, _SUM)}", _CMP
    if isinstance(e, n.BinOp):
        if e.op == "*":
            return f"{_expr(e.left, _PRODUCT)} * {_expr(e.right, _UNARY)}", _PRODUCT
        return f"{_expr(e.left, _SUM)} {e.op} {_expr(e.right, _PRODUCT)}", _SUM
    if isinstance(e, n.Unary):
        return f"{e.op}{_expr(e.operand, _UNARY)}", _UNARY
    return _atom(e), _ATOM


def _is_sugar(e: n.Membership) -> bool:
    return (not e.negated and isinstance(e.item, n.Ref) and len(e.item.path) == 1
            and e.item.path[0] in SUGAR_FIELDS and isinstance(e.collection, n.SetLit)
            and len(e.collection.items) == 1 and isinstance(e.collection.items[0], n.StringLit))


def _atom(e: n.Expr) -> str:
    if isinstance(e, n.NumberLit):
        return e.text
    if isinstance(e, n.MoneyLit):
        return f"{e.amount} {e.currency}"
    if isinstance(e, n.PointsLit):
        return f"{e.amount} points"
    if isinstance(e, n.PercentLit):
        return f"{e.value}%"
    if isinstance(e, n.QuantityLit):
        return f"{e.amount} {e.unit}"
    if isinstance(e, n.DurationLit):
        return f"{e.amount} {e.unit}"
    if isinstance(e, n.StringLit):
        return quote(e.value)
    if isinstance(e, n.BoolLit):
        return "true" if e.value else "false"
    if isinstance(e, n.Ref):
        return ".".join(e.path)
    if isinstance(e, n.SetLit):
        return "[" + ", ".join(quote(i.value) if isinstance(i, n.StringLit) else format_expr(i) for i in e.items) + "]"
    if isinstance(e, n.Aggregate):
        return f"{e.func}({format_selection(e.selection)})"
    if isinstance(e, n.Call):
        return f"{e.func}({', '.join(format_expr(a) for a in e.args)})"
    raise TypeError(f"not an expression: {e!r}")


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t"}


def quote(text: str) -> str:
    """A string literal: ``\\`` ``"`` newline and tab escaped by name, other unprintables as ``\\u{X}``."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch == " " or ch.isprintable():
            out.append(ch)
        else:
            out.append(f"\\u{{{ord(ch):X}}}")
    return '"' + "".join(out) + '"'


# ---------------------------------------------------------------------------------------------- profile and segments
# docs/segments.md: one field, stage, bin or `when` a line.

SEGMENT_DECLS = (n.ProfileDecl, n.LifecycleDecl, n.ScoreDecl, n.SegmentDecl)


def profile_type(field: n.ProfileField) -> str:
    """A profile field's type as written: ``date``, ``one_of ["f", "m"]``."""
    if field.type == "one_of":
        return f"one_of [{', '.join(quote(o) for o in field.options)}]"
    return field.type


def format_bin(b: n.ScoreBin) -> str:
    """``5: 0 .. 30`` (what follows ``bin``); an open end is left out."""
    low = "" if b.low is None else format_expr(b.low) + " "
    high = "" if b.high is None else " " + format_expr(b.high)
    return f"{b.score}: {low}..{high}"


def segment_decl_lines(decl: n.Decl, src: Trivia) -> list[Line]:
    if isinstance(decl, n.ProfileDecl):
        fields = [Line(1, f"{f.name} {profile_type(f)}", *_whole(f)) for f in decl.fields]
        return _block(src, decl, "profile", fields)
    if isinstance(decl, n.LifecycleDecl):
        stages = [Line(1, f"{s.stage} {format_expr(s.days)}", *_whole(s)) for s in decl.stages]
        return _block(src, decl, "lifecycle", stages)
    if isinstance(decl, n.ScoreDecl):
        assert decl.of is not None
        lines = [_setting(src, decl, "of", f"of {format_expr(decl.of)}")]
        lines += [Line(1, f"bin {format_bin(b)}", *_whole(b)) for b in decl.bins]
        return _block(src, decl, f"score {decl.name}{_title(decl.title)}", lines)
    assert isinstance(decl, n.SegmentDecl) and decl.when is not None
    when = _setting(src, decl, "when", f"when {format_expr(decl.when)}")
    return _block(src, decl, f"segment {decl.name}{_title(decl.title)}", [when])
# ---------------------------------------------------------------------------------------------- triggers
# Canonical text of a trigger (docs/triggers.md): `on`, the settings, then the steps, one action a line.


def trigger_lines(decl: n.TriggerDecl, src: Trivia) -> list[Line]:
    lines = [Line(1, format_on(decl.on), *_whole(decl.on))]
    lines += [Line(1, format_trigger_setting(s), *_whole(s)) for s in decl.settings]
    for step in decl.steps:
        inner = [Line(2, format_trigger_action(a), *_whole(a)) for a in step.actions]
        lines += _block(src, step, format_step_head(step), inner, depth=1)
    return _block(src, decl, f"trigger {decl.name}{_title(decl.title)}", lines)


def format_on(on: n.TriggerOn) -> str:
    if on.kind == "purchase":
        if on.first:
            return "on first purchase"
        parts = ["on purchase"]
        if on.number is not None:
            parts.append(f"number {on.number}")
        if on.items is not None:
            parts.append(f"items {on.items}")
        if on.skus is not None:
            parts.append(f"skus {format_expr(on.skus)}")
        return " ".join(parts)
    if on.kind == "birthday":
        text = "on child birthday" if on.child else "on birthday"
        if on.shift is not None:
            text += f" {'before' if on.before else 'after'} {_atom(on.shift)}"
        return text
    if on.kind in ("segment_entered", "segment_left"):
        return f"on segment {on.kind.split('_')[1]} {on.name}"
    if on.kind == "tier_changed":
        return "on tier changed" + ("" if on.name is None else f" to {on.name}")
    if on.kind == "profile_filled":
        return f"on profile filled {on.name}"
    if on.kind == "inactive" and on.idle is not None:
        return f"on no purchase for {_atom(on.idle)}"
    return {"points_expiring": "on points expiring"}.get(on.kind, f"on {on.kind}")


def format_trigger_setting(s: n.TriggerSetting) -> str:
    if s.word == "exit":
        return "exit on purchase"
    if s.word == "window" and s.duration is not None:
        return f"window {_atom(s.duration)}"
    if s.word == "cap" and s.duration is not None:
        return f"cap {s.count} per {_atom(s.duration)}"
    if s.word == "quiet" and s.start is not None and s.end is not None:
        return f"quiet {_time(s.start)} .. {_time(s.end)}"
    if s.word == "exit_on" and s.exit is not None:  # docs/triggers.md, "Exits"
        return "exit " + ("on coupon redeemed" if s.exit.kind == "coupon_redeemed" else
                          "on redemption" if s.exit.kind == "redemption" else format_on(s.exit))
    raise TypeError(f"not a trigger setting: {s!r}")


def format_step_head(step: n.TriggerStep) -> str:
    head = "step"
    if step.after is not None:
        head += f" after {_atom(step.after)}"
    if step.condition is not None:
        head += " if no purchase" if step.condition == "no_purchase" else " if purchase"
    return head


def format_trigger_action(a: n.TriggerAction) -> str:
    if a.kind == "accrue" and a.amount is not None:
        return f"accrue {format_expr(a.amount)}" + ("" if a.target is None else f" to {a.target}")
    if a.kind == "issue":
        return f"issue {a.target}"
    if a.kind == "add" and a.amount is not None:
        return f"add {format_expr(a.amount)} to {a.target}"
    return "send " + " else ".join(f"{s.channel} {quote(s.text)}" for s in a.sends)


def _delivery(e: n.Expr | None) -> bool:
    """Whether a selection's predicate is ``kind "delivery"``, printed ``on delivery`` (docs/commerce.md)."""
    return (isinstance(e, n.Membership) and not e.negated and isinstance(e.item, n.Ref) and e.item.path == ("kind",)
            and isinstance(e.collection, n.SetLit) and len(e.collection.items) == 1
            and isinstance(e.collection.items[0], n.StringLit) and e.collection.items[0].value == "delivery")


# ---------------------------------------------------------------------------------------------- offer strategies


def strategy_lines(decl: n.StrategyDecl, src: Trivia) -> list[Line]:
    """The settings in written order, then each offer as a block (docs/offers.md)."""
    lines = [Line(1, format_strategy_setting(s), *_whole(s)) for s in decl.settings]
    for offer in decl.offers:
        inner = [Line(2, format_strategy_setting(s), *_whole(s)) for s in offer.settings]
        lines += _block(src, offer, f"offer {offer.name}", inner, depth=1)
    return _block(src, decl, f"strategy {decl.name}{_title(decl.title)}", lines)


# An offer's settings in the YAML twin's order: what is offered, then its rules (any other key, as
# written, under `when`), then its texts. (`loya fmt` keeps them as written.)
OFFER_HEAD = ("coupon", "discount", "amount", "valid", "target", "categories", "top")
OFFER_TAIL = ("message", "cashier", "code_prefix")


def offer_settings(offer: n.OfferTemplate) -> list[n.StrategySetting]:
    def rank(s: n.StrategySetting) -> int:
        if s.key in OFFER_HEAD:
            return OFFER_HEAD.index(s.key)
        return len(OFFER_HEAD) + 1 + OFFER_TAIL.index(s.key) if s.key in OFFER_TAIL else len(OFFER_HEAD)
    return sorted(offer.settings, key=rank)


_UPPER_NAME = re.compile(r"[A-Z][A-Z0-9_]*")  # a category key written bare (keywords are lower case)


def format_strategy_setting(s: n.StrategySetting) -> str:
    if s.pairs is not None:
        pairs = ", ".join(f"{k if _UPPER_NAME.fullmatch(k) else quote(k)}: {v}" for k, v in s.pairs)
        return f"{s.key} {{ {pairs} }}" if pairs else f"{s.key} {{}}"
    assert s.value is not None
    return f"{s.key} {format_expr(s.value)}"
