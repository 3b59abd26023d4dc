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


def _visit(prefix: str, what: str, node: n.Node, *args: Any) -> Any:
    """Dispatch by node name: this module's function ``{prefix}{type name}`` prints ``node``."""
    visit = globals().get(prefix + type(node).__name__)
    if visit is None:
        raise TypeError(f"not {what}: {node!r}")
    return visit(node, *args)


def decl_lines(decl: n.Decl, src: Trivia | None = None) -> list[Line]:
    lines: list[Line] = _visit("_decl_", "a declaration", decl, src or Trivia())
    return lines


def _decl_ListDecl(decl: n.ListDecl, src: Trivia) -> list[Line]:
    if decl.source is not None:
        text = f"{decl.kind} {decl.name} from {quote(decl.source.path)} column {quote(decl.source.column)}"
    else:
        text = f"{decl.kind} {decl.name} = [{', '.join(quote(item) for item in decl.items or ())}]"
    return [Line(0, text, *_whole(decl))]


def _decl_GroupDecl(decl: n.GroupDecl, src: Trivia) -> list[Line]:
    limit = "" if decl.stacking_limit is None else f" {decl.stacking_limit}"
    settings = {"priority": decl.priority,
                "stacking": None if decl.stacking is None else f"{decl.stacking}{limit}",
                "basis": decl.basis,
                "arm": None if decl.arm is None else format_arm_ref(decl.arm),
                "order": decl.order}
    lines = [_setting(src, decl, word, f"{word} {value}") for word, value in settings.items() if value is not None]
    return _block(src, decl, f"group {decl.name}{_title(decl.title)}", lines)


def _decl_TemplateDecl(decl: n.TemplateDecl, src: Trivia) -> list[Line]:
    params = ", ".join(f"{p.name}: {p.type_name}" for p in decl.params)
    head = f"template {decl.name}({params}){_title(decl.title)}"
    return _block(src, decl, head, [line for c in decl.clauses for line in clause_lines(c, 1, src)])


def _decl_CampaignDecl(decl: n.CampaignDecl, src: Trivia) -> list[Line]:
    head = f"campaign {decl.name}{_title(decl.title)}"
    if decl.uses is not None:
        head += f" uses {format_template_use(decl.uses)}"
    return _block(src, decl, head, [line for c in decl.clauses for line in clause_lines(c, 1, src)])


def _decl_ExperimentDecl(decl: n.ExperimentDecl, src: Trivia) -> list[Line]:
    return _block(src, decl, f"experiment {decl.name}{_title(decl.title)}", experiment_lines(decl, src))


def _decl_AssertDecl(decl: n.AssertDecl, src: Trivia) -> list[Line]:
    body = _setting(src, decl, decl.subject, format_assert_body(decl))
    return _block(src, decl, f"assert {decl.name}{_title(decl.title)}", [body])


def _decl_TierLadderDecl(decl: n.TierLadderDecl, src: Trivia) -> list[Line]:
    lines = [_setting(src, decl, "qualify", f"qualify {decl.measure} over {format_period(decl.period)}")]
    lines += [Line(1, format_level(level), *_whole(level)) for level in decl.levels]
    return _block(src, decl, f"tiers {decl.name}{_title(decl.title)}", lines)


_STATE_KEYWORDS = {n.AccountDecl: "account", n.CouponSeriesDecl: "coupons", n.CertificateDecl: "certificates",
                   n.RedemptionDecl: "redemption", n.ReferralDecl: "referral"}


def _decl_state(decl: Any, src: Trivia) -> list[Line]:
    """A state declaration: its head, then its settings (``state_settings``) a line each. A redemption
    and a referral have no name; the others' keyword is followed by their name and title."""
    if isinstance(decl, n.RedemptionDecl | n.ReferralDecl):
        head = _STATE_KEYWORDS[type(decl)]
    else:
        keyword = decl.kind if isinstance(decl, n.CounterDecl) else _STATE_KEYWORDS[type(decl)]
        head = f"{keyword} {decl.name}{_title(decl.title)}"
    settings = [_setting(src, decl, key.split()[0], f"{key} {value}" if value else key)
                for key, value in state_settings(decl)]
    return _block(src, decl, head, settings)


_decl_RedemptionDecl = _decl_ReferralDecl = _decl_AccountDecl = _decl_state
_decl_CounterDecl = _decl_CouponSeriesDecl = _decl_CertificateDecl = _decl_state

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
    return str(_visit("_value_", "a one-line clause", clause))


def _value_GroupClause(c: n.GroupClause) -> str:
    return c.group


def _value_PriorityClause(c: n.PriorityClause) -> str:
    return str(c.priority)


def _value_ValidClause(c: n.ValidClause) -> str:
    return _date_range(c.start, c.end)


def _value_WeekdaysClause(c: n.WeekdaysClause) -> str:
    days = c.days
    if len(days) >= 3 and days[0] in WEEKDAYS and days == _day_range(days[0], days[-1]):
        return f"{days[0]}..{days[-1]}"
    return "[" + ", ".join(days) + "]"


def _value_HoursClause(c: n.HoursClause) -> str:
    return f"{_time(c.start)} .. {_time(c.end)}"


def _value_SetFilterClause(c: n.SetFilterClause) -> str:
    return ("not " if c.negated else "") + format_expr(c.values)


def _value_AudienceClause(c: n.AudienceClause | n.WhenClause) -> str:
    return format_expr(c.condition)


_value_WhenClause = _value_AudienceClause


def _value_LimitClause(c: n.LimitClause) -> str:
    if c.kind == "points" and isinstance(c.value, n.PointsLit):
        return f"{c.value.amount} per {c.per}"  # `max points 100 per receipt`
    return f"{format_expr(c.value)} per {c.per}"


def _value_CouponClause(c: n.CouponClause) -> str:
    return c.series


def _value_BudgetClause(c: n.BudgetClause) -> str:
    return format_expr(c.value)


def _value_ArmClause(c: n.ArmClause) -> str:
    return format_arm_ref(c.ref)


def _value_ExclusiveClause(c: n.ExclusiveClause) -> str:
    return c.scope


def _value_RedistributeClause(c: n.RedistributeClause) -> str:
    return "floors"


def _value_RewardClause(c: n.RewardClause) -> str:
    account = "" if c.account is None else f" from {c.account}"
    stock = "" if c.stock is None else f" stock {format_expr(c.stock)}"
    return f"{format_expr(c.points)}{account}{stock}"


def _value_MessageClause(c: n.MessageClause) -> str:
    return f"{c.channel} {quote(c.text)}"


def _value_RedemptionsClause(c: n.RedemptionsClause) -> str:
    return format_expr(c.value) + "".join(f" per {p}" for p in c.per)


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
    return str(_visit("_action_", "an action", action))


def _action_Discount(a: n.Discount) -> str:
    per_unit = " per unit" if a.per_unit else ""
    return f"discount {format_expr(a.value)}{per_unit}{_target(a.target)}"


def _action_PriceOverride(a: n.PriceOverride) -> str:
    return f"price {format_expr(a.price)} on {format_selection(a.selection)}"


def _action_FreeUnits(a: n.FreeUnits) -> str:
    return f"free {_count(a.free)} in {_count(a.every)} units of {format_selection(a.selection)}"


def _action_FreeCheapest(a: n.FreeCheapest) -> str:
    unit = "unit" if a.count == n.NumberLit("1") else "units"
    return f"free cheapest {_count(a.count)} {unit} of {format_selection(a.selection)}"


def _action_Accrue(a: n.Accrue) -> str:
    to = "" if a.account is None else f" to {a.account}"
    if a.multiplier_of is not None:
        factor = a.value.text if isinstance(a.value, n.NumberLit) else format_expr(a.value)
        return f"accrue x{factor} of {a.multiplier_of}{_target(a.target)}{to}"
    value = format_expr(a.value)
    if _MULTIPLIER.match(value):  # a name like `x5` right after `accrue` would read as a multiplier
        value = f"({value})"
    if isinstance(a.value, n.PointsLit) and a.target.selection is None:
        return f"accrue {value}{to}"  # `accrue 100 points` is on the receipt
    return f"accrue {value}{_target(a.target)}{to}"


def _action_CounterAdd(a: n.CounterAdd) -> str:
    return f"add {format_expr(a.value)} to {a.counter}"


def _action_CounterSpend(a: n.CounterSpend) -> str:
    return f"spend {format_expr(a.value)} from {a.counter}"


def _action_IssueCoupon(a: n.IssueCoupon) -> str:
    return f"issue {a.series}"


def _action_UnitDiscount(a: n.UnitDiscount) -> str:  # docs/units.md
    pick = f"unit {_count(a.nth)}" if a.nth is not None else f"{a.pick} unit"
    rounded = "" if a.rounding is None else f" rounded per {a.rounding}"
    every = "" if a.every is None else f"every {_count(a.every)} units of "
    verb = "price" if a.price else "discount"
    return f"{verb} {format_expr(a.value)} on {pick} of {every}{format_selection(a.selection)}{rounded}"


def _action_Gift(a: n.Gift) -> str:
    what = f"one of {format_expr(a.skus)}" if a.choice else format_expr(a.skus)
    return f"gift {what}" + ("" if a.price is None else f" at {format_expr(a.price)}")


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
    return str(_visit("_atom_", "an expression", e))


def _atom_NumberLit(e: n.NumberLit) -> str:
    return e.text


def _atom_MoneyLit(e: n.MoneyLit) -> str:
    return f"{e.amount} {e.currency}"


def _atom_PointsLit(e: n.PointsLit) -> str:
    return f"{e.amount} points"


def _atom_PercentLit(e: n.PercentLit) -> str:
    return f"{e.value}%"


def _atom_QuantityLit(e: n.QuantityLit | n.DurationLit) -> str:
    return f"{e.amount} {e.unit}"


_atom_DurationLit = _atom_QuantityLit


def _atom_StringLit(e: n.StringLit) -> str:
    return quote(e.value)


def _atom_BoolLit(e: n.BoolLit) -> str:
    return "true" if e.value else "false"


def _atom_Ref(e: n.Ref) -> str:
    return ".".join(e.path)


def _atom_SetLit(e: n.SetLit) -> str:
    return "[" + ", ".join(quote(i.value) if isinstance(i, n.StringLit) else format_expr(i) for i in e.items) + "]"


def _atom_Aggregate(e: n.Aggregate) -> str:
    return f"{e.func}({format_selection(e.selection)})"


def _atom_Call(e: n.Call) -> str:
    return f"{e.func}({', '.join(format_expr(a) for a in e.args)})"


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


def _decl_ProfileDecl(decl: n.ProfileDecl, src: Trivia) -> list[Line]:
    fields = [Line(1, f"{f.name} {profile_type(f)}", *_whole(f)) for f in decl.fields]
    return _block(src, decl, "profile", fields)


def _decl_LifecycleDecl(decl: n.LifecycleDecl, src: Trivia) -> list[Line]:
    stages = [Line(1, f"{s.stage} {format_expr(s.days)}", *_whole(s)) for s in decl.stages]
    return _block(src, decl, "lifecycle", stages)


def _decl_ScoreDecl(decl: n.ScoreDecl, src: Trivia) -> list[Line]:
    assert decl.of is not None
    lines = [_setting(src, decl, "of", f"of {format_expr(decl.of)}")]
    lines += [Line(1, f"bin {format_bin(b)}", *_whole(b)) for b in decl.bins]
    return _block(src, decl, f"score {decl.name}{_title(decl.title)}", lines)


def _decl_SegmentDecl(decl: n.SegmentDecl, src: Trivia) -> list[Line]:
    assert decl.when is not None
    when = _setting(src, decl, "when", f"when {format_expr(decl.when)}")
    return _block(src, decl, f"segment {decl.name}{_title(decl.title)}", [when])


# ---------------------------------------------------------------------------------------------- triggers
# Canonical text of a trigger (docs/triggers.md): `on`, the settings, then the steps, one action a line.


def _decl_TriggerDecl(decl: n.TriggerDecl, src: Trivia) -> list[Line]:
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


def _decl_StrategyDecl(decl: n.StrategyDecl, src: Trivia) -> list[Line]:
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
