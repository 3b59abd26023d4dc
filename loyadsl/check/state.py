"""Checking the customer-state declarations (docs/state.md): accounts, redemption, the tier ladder,
counters and chips, coupon and certificate series, referral.

Values are literals with units, scaled like everything else (durations to seconds, money to minor
units, points to point minor units, percentages to ppm). The result is the runtime's own declaration
types (``runtime/declarations.py``), so the bundle writer and the loader agree by construction;
only line selections stay expressions (``ir.IRedemption``, ``ir.ICounter``) until codegen.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from loyadsl.check import types as t
from loyadsl.check.resolve import SymbolTable
from loyadsl.check.types import Type
from loyadsl.check.units import redemption_steps
from loyadsl.compile import ir
from loyadsl.diagnostics import Span, did_you_mean, error
from loyadsl.runtime.declarations import (
    NEVER,
    RESETS,
    SHORTFALL_POLICIES,
    SPEND_ORDERS,
    Account,
    CertificateSeries,
    CouponSeries,
    Expiry,
    Level,
    Referral,
    TierPeriod,
    Tiers,
)
from loyadsl.runtime.limits import MAX_DATE, MIN_DATE
from loyadsl.syntax import nodes as n

if TYPE_CHECKING:
    from loyadsl.check.checker import Checker

DAY = 86400
END_OF_PERIODS = ("month", "quarter", "year")
TIER_PERIODS = ("month", "quarter", "year", "rolling")
MEASURES = ("spend", "receipts")
BENEFIT_TYPES = ("percent", "money", "points", "count", "number")
USAGE_PERIODS = ("day", "week", "month", "quarter", "year", "customer")
ALL_LINES = ir.Const(t.BOOL, True)


@dataclass
class StateInfo:
    """What campaigns need to know about the state declarations while they are checked."""

    default_account: str | None
    benefits: dict[str, Type]  # tier benefit -> its type (the first level's, after unifying)


class StateChecker:
    """Checks the symbol table's state declarations with the checker's expression helpers."""

    def __init__(self, checker: Checker) -> None:
        self.c = checker
        self.table = checker.table
        self.benefits: dict[str, Type] = {}
        self.default_account = _default_account(self.table.accounts)

    def check(self) -> ir.IState | None:
        """The checked declarations, or None when one of them is wrong (each reported once)."""
        before = self._errors()
        accounts = tuple(a for a in (self._account(d) for d in self.table.accounts.values()) if a is not None)
        defaults = [d for d in self.table.accounts.values() if d.default]
        for extra in defaults[1:]:
            self.c.report(error("LOY216", f"account `{extra.name}` is marked `default`, and so is `{defaults[0].name}`",
                                extra.span, "only one account takes the accruals written without `to`"))
        redemption = self._redemption(self.table.redemption) if self.table.redemption else None
        tiers = self._tiers(self.table.tiers) if self.table.tiers else None
        counters = tuple(x for x in (self._counter(d) for d in self.table.counters.values()) if x is not None)
        coupons = tuple(x for x in (self._coupons(d) for d in self.table.coupons.values()) if x is not None)
        certificates = tuple(x for x in (self._certificates(d) for d in self.table.certificates.values())
                             if x is not None)
        referral = self._referral(self.table.referral) if self.table.referral else None
        if self._errors() > before:
            return None
        return ir.IState(accounts=accounts, default_account=self.default_account, redemption=redemption,
                         tiers=tiers, counters=counters, coupons=coupons, certificates=certificates,
                         referral=referral)

    def info(self) -> StateInfo:
        return StateInfo(self.default_account, self.benefits)

    def _errors(self) -> int:
        return sum(1 for d in self.c.diags if d.is_error)

    # ------------------------------------------------------------------------------------ values

    def _amount(self, e: n.Expr | None, ty: Type, what: str, default: int, minimum: int = 0,
                maximum: int | None = None) -> int | None:
        """A constant of type ``ty`` (``default`` when absent) within [minimum, maximum]."""
        if e is None:
            return default
        value = self.c.constant(e, ty, what)
        if value is None:
            return None
        if value < minimum:
            self.c.report(error("LOY207", f"{what} must be at least {self.c.shown(minimum, ty)}, "
                                          f"got {self.c.shown(value, ty)}", e.span))
            return None
        if maximum is not None and value > maximum:
            self.c.report(error("LOY207", f"{what} must be at most {self.c.shown(maximum, ty)}, "
                                          f"got {self.c.shown(value, ty)}", e.span))
            return None
        return value

    def _choice(self, value: str | None, choices: tuple[str, ...], what: str, default: str,
                span: Span | None) -> str | None:
        if value is None:
            return default
        if value not in choices:
            self.c.report(error("LOY207", f"unknown {what} `{value}`", span,
                                did_you_mean(value, choices) or f"use one of {', '.join(choices)}"))
            return None
        return value

    def _expiry(self, rule: n.ExpiryRule | None, what: str) -> Expiry | None:
        if rule is None or rule.kind == "never":
            return NEVER
        if rule.kind == "after":
            if rule.duration is None:
                self.c.report(error("LOY207", f"{what} needs a duration, as in `expiry 365 days`", rule.span))
                return None
            seconds = self._amount(rule.duration, t.DURATION, what, 0, minimum=1)
            return None if seconds is None else Expiry("after", seconds=seconds)
        if rule.kind == "end_of":
            period = self._choice(rule.period, END_OF_PERIODS, "period", "", rule.span)
            return None if not period else Expiry("end_of", period=period, next=rule.next)
        self.c.report(error("LOY207", f"unknown expiry `{rule.kind}`", rule.span,
                            "write `expiry never`, `expiry 365 days` or `expiry end of quarter`"))
        return None

    def _window(self, start: dt.date | None, end: dt.date | None, span: Span | None,
                what: str) -> tuple[bool, tuple[int, int] | None]:
        if start is None and end is None:
            return True, None
        lo = (start or MIN_DATE).toordinal()  # an open end: the first or last day a bundle admits
        hi = (end or MAX_DATE).toordinal()
        if lo > hi:
            self.c.report(error("LOY207", f"{what} ends before it starts", span))
            return False, None
        return True, (lo, hi)

    def _account_ref(self, name: str, span: Span | None, what: str) -> bool:
        """Whether ``name`` is a declared account; reports LOY201 with a hint when not."""
        if name in self.table.accounts:
            return True
        self.c.report(error("LOY201", f"{what}: unknown account `{name}`", span, account_hint(self.table, name)))
        return False

    # ------------------------------------------------------------------------------------ declarations

    def _account(self, d: n.AccountDecl) -> Account | None:
        what = f"account `{d.name}`"
        activation = self._amount(d.activation, t.DURATION, f"the activation delay of {what}", 0)
        expiry = self._expiry(d.expiry, f"the expiry of {what}")
        spend = self._choice(d.spend_order, SPEND_ORDERS, "spending order", "soonest_expiring", d.span)
        credit = self._amount(d.credit, t.POINTS, f"the credit limit of {what}", 0)
        repay = self._amount(d.repay, t.PERCENT, f"the repayment share of {what}", t.PPM, maximum=t.PPM)
        shortfall = self._choice(d.shortfall, SHORTFALL_POLICIES, "shortfall policy", "report", d.span)
        notify = self._amount(d.notify, t.DURATION, f"the notice period of {what}", 0)
        if (activation is None or expiry is None or spend is None or credit is None or repay is None
                or shortfall is None or notify is None):
            return None
        return Account(name=d.name, title=d.title, activation=activation, expiry=expiry, spend=spend,
                       credit=credit, repay=repay, shortfall=shortfall, notify=notify)

    def _redemption(self, d: n.RedemptionDecl) -> ir.IRedemption | None:
        ok = True
        names: list[str] = []
        for name in d.accounts:
            if name in names:
                self.c.report(error("LOY205", f"account `{name}` is listed twice in `redemption`", d.span))
                ok = False
            elif self._account_ref(name, d.span, "redemption"):
                names.append(name)
            else:
                ok = False
        if not d.accounts:
            names = list(self.table.accounts)
            if not names:
                self.c.report(error("LOY201", "redemption has no account to spend points from", d.span,
                                    "declare one: `account bonus { }`"))
                ok = False
        max_share = self._amount(d.max_share, t.PERCENT, "the redemption's max share", t.PPM, minimum=1,
                                 maximum=t.PPM)
        min_payment = self._amount(d.min_payment, t.MONEY, "the redemption's min payment", 0)
        exclude = None
        if d.exclude is not None:
            exclude = self.c.line_selection(d.exclude)
            ok = ok and exclude is not None
        if d.accrue is not None and d.accrue_on_redeemed:
            self.c.report(error("LOY213", "`redemption` states how points accrue twice", d.span,
                                "keep one of `accrue on paid`, `accrue on redeemed`, `accrue never when redeemed`"))
            ok = False
        if not ok or max_share is None or min_payment is None:
            return None
        steps = redemption_steps(self.c, d.steps)  # docs/units.md
        if d.steps is not None and steps is None:
            return None
        return ir.IRedemption(tuple(names), max_share, min_payment, exclude, d.accrue_on_redeemed, steps=steps or 1,
                              earn_with_burn=d.accrue != "never")

    def _tiers(self, d: n.TierLadderDecl) -> Tiers | None:
        ok = True
        measure = self._choice(d.measure, MEASURES, "tier measure", "spend", d.span)
        period = self._period(d.period)
        if not d.levels:
            self.c.report(error("LOY207", f"tiers `{d.name}` declare no level", d.span,
                                "add `level base >= 0 RUB { cashback 3% }`"))
            return None
        threshold_type = t.COUNT if measure == "receipts" else t.MONEY
        levels: list[tuple[n.TierLevel, int, dict[str, tuple[ir.Const, n.Arg]]]] = []
        seen: dict[str, n.TierLevel] = {}
        previous: tuple[n.TierLevel, int] | None = None
        for level in d.levels:
            if level.name in seen:
                self.c.report(error("LOY205", f"level `{level.name}` is declared twice", level.span))
                ok = False
                continue
            seen[level.name] = level
            threshold = self._amount(level.threshold, threshold_type, f"the threshold of level `{level.name}`", 0)
            benefits = self._benefits(level)
            if threshold is None or benefits is None:
                ok = False
                continue
            if previous is not None and threshold <= previous[1]:
                self.c.report(error(
                    "LOY217", f"level `{level.name}` must need more than level `{previous[0].name}`",
                    level.threshold.span or level.span,
                    "write the levels from the entry level up, with strictly ascending thresholds"))
                ok = False
            previous = (level, threshold)
            levels.append((level, threshold, benefits))
            if len(levels) == 1:  # read by `tier.NAME` even if a later level is wrong: one mistake, one error
                self.benefits = {name: const.type for name, (const, _) in benefits.items()}
        if not ok or measure is None or period is None:
            return None
        unified = self._unify_benefits(levels)
        if unified is None:
            return None
        return Tiers(d.name, d.title, measure, period,
                     tuple(Level(lv.name, threshold, values) for (lv, threshold, _), values in zip(levels, unified,
                                                                                                   strict=True)))

    def _period(self, p: n.Period) -> TierPeriod | None:
        kind = self._choice(p.kind, TIER_PERIODS, "qualification period", "", p.span)
        if not kind:
            return None
        if kind != "rolling":
            if p.days is not None:
                self.c.report(error("LOY207", f"a {kind} is a calendar period; only `rolling` takes a length",
                                    p.days.span))
                return None
            return TierPeriod(kind)
        if p.days is None:
            self.c.report(error("LOY207", "a rolling period needs its length, as in `rolling 365 days`", p.span))
            return None
        seconds = self._amount(p.days, t.DURATION, "the rolling window", 0, minimum=DAY)
        if seconds is None:
            return None
        if seconds % DAY:
            self.c.report(error("LOY207", "a rolling window is a whole number of days", p.days.span))
            return None
        return TierPeriod("rolling", seconds // DAY)

    def _benefits(self, level: n.TierLevel) -> dict[str, tuple[ir.Const, n.Arg]] | None:
        out: dict[str, tuple[ir.Const, n.Arg]] = {}
        ok = True
        for arg in level.benefits:
            if arg.name in out:
                self.c.report(error("LOY205", f"level `{level.name}` declares `{arg.name}` twice", arg.span))
                ok = False
                continue
            value = self.c.value(arg.value)
            if value is None:
                ok = False
                continue
            if (not isinstance(value, ir.Const) or type(value.value) is not int
                    or value.type.name not in BENEFIT_TYPES):
                self.c.report(error("LOY207", f"benefit `{arg.name}` must be a constant percentage, money, points "
                                              f"or number, got {value.type}", arg.value.span))
                ok = False
                continue
            if value.value < 0:
                self.c.report(error("LOY207", f"benefit `{arg.name}` cannot be negative", arg.value.span))
                ok = False
                continue
            out[arg.name] = (value, arg)
        return out if ok else None

    def _unify_benefits(
        self, levels: list[tuple[n.TierLevel, int, dict[str, tuple[ir.Const, n.Arg]]]]
    ) -> list[dict[str, int]] | None:
        """Every level declares the same benefits with the same types (LOY218); a benefit written as
        a whole number in one level and with decimals in another is a number in all of them."""
        first_level, _, first = levels[0]
        ok = True
        for level, _, benefits in levels[1:]:
            for name in first.keys() - benefits.keys():
                self.c.report(error("LOY218", f"level `{level.name}` does not declare `{name}`, which level "
                                              f"`{first_level.name}` does", level.span,
                                    "every level declares the same benefits (`tier.NAME` reads them)"))
                ok = False
            for name in benefits.keys() - first.keys():
                self.c.report(error("LOY218", f"level `{level.name}` declares `{name}`, which level "
                                              f"`{first_level.name}` does not", benefits[name][1].span,
                                    "every level declares the same benefits (`tier.NAME` reads them)"))
                ok = False
        if not ok:
            return None
        types: dict[str, Type] = {}
        for name in first:
            kinds = {b[name][0].type.name for _, _, b in levels}
            if kinds == {"count", "number"}:
                types[name] = t.NUMBER
                continue
            if len(kinds) > 1:
                where = next(b[name][1] for _, _, b in levels if b[name][0].type != first[name][0].type)
                self.c.report(error("LOY218", f"benefit `{name}` is {first[name][0].type} in level "
                                              f"`{first_level.name}` but {sorted(kinds - {first[name][0].type.name})[0]}"
                                              " in another", where.value.span,
                                    "a benefit has one type in every level"))
                ok = False
                continue
            types[name] = first[name][0].type
        if not ok:
            return None
        self.benefits = types
        return [
            {name: _benefit_value(const, types[name]) for name, (const, _) in benefits.items()}
            for _, _, benefits in levels
        ]

    def _counter(self, d: n.CounterDecl) -> ir.ICounter | None:
        what = f"{d.kind} `{d.name}`"
        kind = self._choice(d.kind, ("counter", "chips"), "counter kind", "counter", d.span)
        reset = self._choice(d.reset, RESETS, "reset period", "never", d.span)
        earn = None
        ok = True
        if d.earn is not None:
            count = self._amount(d.earn, t.COUNT, f"what {what} earns", 0, minimum=1)
            if d.earn_per is None:
                self.c.report(error("LOY207", f"{what} earns per what?", d.earn.span,
                                    "write `earn 1 per 500.00 RUB`"))
                per = None
            else:
                per = self._amount(d.earn_per, t.MONEY, f"the earning step of {what}", 0, minimum=1)
            pred = ALL_LINES if d.earn_selection is None else self.c.line_selection(d.earn_selection)
            if count is None or per is None or pred is None:
                ok = False
            else:
                earn = ir.IEarn(count, per, pred)
        valid_ok, valid = self._window(d.valid_start, d.valid_end, d.span, f"the promotion of {what}")
        if not ok or not valid_ok or kind is None or reset is None:
            return None
        return ir.ICounter(d.name, d.title, kind, reset, earn, valid)

    def _coupons(self, d: n.CouponSeriesDecl) -> CouponSeries | None:
        what = f"coupon series `{d.name}`"
        code = self._choice(d.code_kind, ("unique", "shared"), "coupon code kind", "unique", d.span)
        ok = code is not None
        if code == "shared" and not d.code:
            self.c.report(error("LOY207", f"{what} has an empty shared code", d.span, 'write `code shared "SUMMER25"`'))
            ok = False
        valid_for = None if d.valid_for is None else self._amount(d.valid_for, t.DURATION, f"how long {what} is valid",
                                                                  0, minimum=1)
        valid_ok, valid = self._window(d.valid_start, d.valid_end, d.span, what)
        uses = self._amount(d.uses, t.COUNT, f"the uses of a coupon of {what}", 1, minimum=1)
        per_customer = None if d.per_customer is None else self._amount(
            d.per_customer, t.COUNT, f"the uses of {what} per customer", 0, minimum=1)
        if (not ok or not valid_ok or uses is None or (d.valid_for is not None and valid_for is None)
                or (d.per_customer is not None and per_customer is None)):
            return None
        assert code is not None
        return CouponSeries(d.name, d.title, code, d.code, valid_for, valid, uses, per_customer)

    def _certificates(self, d: n.CertificateDecl) -> CertificateSeries | None:
        what = f"certificate series `{d.name}`"
        expiry = self._expiry(d.expiry, f"the expiry of {what}")
        if d.skus is None:
            self.c.report(error("LOY210", f"{what} does not say which SKUs sell it", d.span,
                                'add `sold skus ["GC500", "GC1000"]`'))
            return None
        skus = self.c.string_set(d.skus, "sku")
        if skus is not None and not skus:
            self.c.report(error("LOY207", f"{what} is sold by no SKU (the list is empty)", d.skus.span))
            return None
        if skus is None or expiry is None:
            return None
        return CertificateSeries(d.name, d.title, skus, expiry, d.multi_use, d.per_unit)

    def _referral(self, d: n.ReferralDecl) -> Referral | None:
        qualify = self._amount(d.qualify, t.MONEY, "the referral's qualifying payable", 0)
        rewards: list[tuple[int, str | None]] = []
        ok = True
        for who, value, account in (("referrer", d.referrer, d.referrer_account),
                                    ("newcomer", d.newcomer, d.newcomer_account)):
            points = self._amount(value, t.POINTS, f"the {who}'s reward", 0)
            if points is None:
                ok = False
                continue
            if account is not None:
                ok = self._account_ref(account, d.span, f"the {who}'s reward") and ok
            else:
                account = self.default_account
                if points and account is None:
                    self.c.report(error("LOY201", f"the {who}'s {points} points have no account to go to", d.span,
                                        "declare one: `account bonus { }`"))
                    ok = False
            rewards.append((points, account))
        if not ok or qualify is None:
            return None
        (referrer, referrer_account), (newcomer, newcomer_account) = rewards
        return Referral(qualify, referrer, referrer_account, newcomer, newcomer_account)


def account_hint(table: SymbolTable, name: str) -> str:
    """The hint for an unknown account: the closest name, what ``name`` is instead, or how to declare it."""
    if name in table.counters:
        return f"`{name}` is a {table.counters[name].kind}, not an account (it changes with `add N to {name}`)"
    return (did_you_mean(name, list(table.accounts))
            or (f"the accounts are: {', '.join(table.accounts)}" if table.accounts
                else f"declare it: `account {name} {{ }}`"))


def _default_account(accounts: dict[str, n.AccountDecl]) -> str | None:
    """The account marked ``default``, else the first declared (None without accounts)."""
    for d in accounts.values():
        if d.default:
            return d.name
    return next(iter(accounts), None)


def _benefit_value(const: ir.Const, ty: Type) -> int:
    """A benefit's scaled value; a whole number where others have decimals becomes thousandths."""
    assert type(const.value) is int
    return const.value * t.QTY_SCALE if ty == t.NUMBER and const.type == t.COUNT else const.value





def state_usage(per: str) -> bool:
    """Whether ``limit N per PER`` is a usage limit kept in the customer's state."""
    return per in USAGE_PERIODS


def collect_accruals(actions: tuple[n.Action, ...]) -> list[n.Accrue]:
    """Every ``accrue`` among the actions, inside ``tiers`` branches too, in source order."""
    out: list[n.Accrue] = []
    for a in actions:
        if isinstance(a, n.Accrue):
            out.append(a)
        elif isinstance(a, n.Tiers):
            for branch in a.branches:
                out.extend(collect_accruals(branch.actions))
    return out
