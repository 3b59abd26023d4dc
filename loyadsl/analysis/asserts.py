"""Programme assertions, verified (docs/collisions.md, "Assertions"): each ``assert`` is proved by its
bound (loyadsl/analysis/bounds.py), broken by a receipt the runtime evaluates (LOY239, an error), or
left unproved when the bound is over the limit and the bounded search finds no such receipt (LOY312,
a warning: never "holds" without a proof).

The search tries, for the campaigns that can give the most, the receipts of the collision search
(each pair's shared time, store and channel; customers of the tiers and segments they name; a grid of
quantities and prices) and, when z3 is installed, a receipt on which they all may fire.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

from loyadsl.analysis import bounds
from loyadsl.analysis.search import Search
from loyadsl.check.asserts import MULTIPLIER_SCALE
from loyadsl.check.types import PPM
from loyadsl.compile import ir
from loyadsl.diagnostics import Diagnostic, error, warning
from loyadsl.runtime import Engine, LoyaError
from loyadsl.runtime.model import Outcome
from loyadsl.runtime.money import minor_text

BROKEN = "LOY239"
UNPROVED = "LOY312"
LEADERS = 6  # campaigns (those that can give the most) whose pairs the search tries


@dataclass(frozen=True)
class Verdict:
    check: ir.IAssert
    answer: str  # proved | broken | unproved
    bound: Fraction | None  # the proved bound, in the limit's unit (None: unbounded)
    witness: dict[str, Any] | None = None  # receipt, customer, measured, applied


def verify(programme: ir.Programme, engine: Engine) -> list[Verdict]:
    return [_verify(a, programme, engine) for a in programme.asserts]


def diagnostics(verdicts: list[Verdict], programme: ir.Programme) -> list[Diagnostic]:
    out = []
    for v in verdicts:
        a = v.check
        said = f"assertion `{a.name}`{f' ({a.title})' if a.title else ''}: {a.subject} <= {_show(a, a.limit, programme)}"
        if v.answer == "broken" and v.witness is not None:
            w = v.witness
            broken = error(BROKEN, f"{said} is broken: {_receipt(w['receipt'], programme)} gets {a.subject} "
                                   f"{_show(a, w['measured'], programme)} from "
                                   f"{', '.join(w['applied']) or 'no campaign'}", a.span,
                           "lower a rate, add a cap (`max discount 500.00 RUB per receipt`), move the "
                           "campaigns into a group that does not stack, or raise the limit")
            out.append(replace(broken, notes=(f"witness receipt: {json.dumps(w['receipt'], ensure_ascii=False)}",
                                              f"customer: {json.dumps(w['customer'], ensure_ascii=False)}")))
        elif v.answer == "unproved":
            bound = "nothing bounds it" if v.bound is None else f"the bound found is {_show(a, v.bound, programme)}"
            out.append(warning(UNPROVED, f"{said} is not proved: {bound}, and no receipt tried breaks it", a.span,
                               "the bound adds up every campaign a group may stack, trusting only filters "
                               "(dates, hours, stores...) to keep them apart: put campaigns that exclude each "
                               "other in a group that applies one (`first_by_priority`), cap those without a "
                               "bound (`max discount ... per receipt`), or give fixed amounts a threshold"))
    return out


def _verify(a: ir.IAssert, programme: ir.Programme, engine: Engine) -> Verdict:
    limit = Fraction(a.limit, SCALES.get(a.unit, 1))
    bound, per_campaign = _bounds(a, programme)
    if bound is not None and bound <= limit:
        return Verdict(a, "proved", _in_unit(a, bound))
    measure = MEASURES[a.subject, a.unit]
    leaders = sorted(programme.campaigns, key=lambda c: _rank(per_campaign(c)))[:LEADERS]
    for receipt, customer in _candidates(programme, engine, [c.name for c in leaders]):
        try:
            outcome = engine.evaluate(receipt, customer)
        except LoyaError:
            continue
        measured = measure(outcome, programme)
        if measured > limit:
            witness = {"receipt": receipt, "customer": customer, "measured": _in_unit(a, measured),
                       "applied": list(outcome.applied)}
            return Verdict(a, "broken", None if bound is None else _in_unit(a, bound), witness)
    return Verdict(a, "unproved", None if bound is None else _in_unit(a, bound))


def _bounds(a: ir.IAssert, programme: ir.Programme) -> tuple[bounds.Bound, Callable[[ir.ICampaign], bounds.Bound]]:
    p = programme
    if a.subject == "discount" and a.unit == "percent":
        def share(c: ir.ICampaign) -> bounds.Bound:
            return bounds.discount_share(c, p)
        return bounds.receipt_share(p, share), share
    if a.subject == "discount":
        def money(c: ir.ICampaign) -> bounds.Bound:
            return bounds.discount_amount(c, p)
        return bounds.amount(p, money), money
    if a.subject == "points" and a.unit == "percent":
        def rate(c: ir.ICampaign) -> bounds.Bound:
            return bounds.points_rate(c, p)
        return bounds.points_share(p), rate
    if a.subject == "multiplier":
        def extra(c: ir.ICampaign) -> bounds.Bound:
            return bounds.multiplier_extra(c, p) if c.multiplier_base else Fraction(0)
        return bounds.multiplier(p), extra
    if a.subject == "points":
        def points(c: ir.ICampaign) -> bounds.Bound:
            return bounds.points_amount(c, p)
        return bounds.amount(p, points), points

    def line(c: ir.ICampaign) -> bounds.Bound:
        return bounds.line_share(c, p)
    return bounds.receipt_share(p, line), line


def _rank(bound: bounds.Bound) -> tuple[int, Fraction]:
    """Unbounded campaigns first, then the largest bounds."""
    return (0, Fraction(0)) if bound is None else (1, -bound)


def _candidates(programme: ir.Programme, engine: Engine, names: list[str]) -> Iterator[tuple[dict[str, Any], Any]]:
    search = Search(programme, engine)
    yield from _solver_receipts(programme, names)
    for a, b in itertools.chain(itertools.combinations(names, 2), ((n, n) for n in names)):
        yield from search.candidates([a, b])


def _solver_receipts(programme: ir.Programme, names: list[str]) -> Iterator[tuple[dict[str, Any], Any]]:
    """A receipt on which all the leading campaigns may fire together, when z3 is there to find one."""
    try:
        from zoneinfo import ZoneInfo

        from loyadsl.analysis import smt
        model = smt.witness([c for c in programme.campaigns if c.name in names], ZoneInfo(programme.settings.timezone))
    except LoyaError:  # the analysis extra is not installed: the search alone
        return
    if model is not None:
        yield model.receipt, model.customer


# ---------------------------------------------------------------------------------------------- measures


def _discount_share(o: Outcome, p: ir.Programme) -> Fraction:
    return Fraction(o.discount_total, o.total) if o.total > 0 else Fraction(0)


def _points_share(o: Outcome, p: ir.Programme) -> Fraction:
    value = bounds.point_value(o.points_total, p) if o.points_total > 0 else 0
    if o.payable <= 0:
        return Fraction(10**9) if value else Fraction(0)  # points on a receipt paid with nothing
    return Fraction(value, o.payable)


def _line_share(o: Outcome, p: ir.Programme) -> Fraction:
    return max((Fraction(line.discount, line.amount) for line in o.lines if line.amount > 0), default=Fraction(0))


def _multiplier(o: Outcome, p: ir.Programme) -> Fraction:
    """The largest (base + its multipliers' points) / base's points among the bases that gave points."""
    bases = {c.name: c.multiplier_base for c in p.campaigns if c.multiplier_base}
    given: dict[str, int] = {}
    for e in o.effects:
        if e.kind == "points":
            key = bases.get(e.campaign, e.campaign)
            given[key] = given.get(key, 0) + e.total
    own = {e.campaign: e.total for e in o.effects if e.kind == "points"}
    ratios = [Fraction(total, own[base]) for base, total in given.items()
              if base in set(bases.values()) and own.get(base, 0) > 0]
    return max(ratios, default=Fraction(1))


MEASURES: dict[tuple[str, str], Callable[[Outcome, ir.Programme], Fraction]] = {
    ("discount", "percent"): _discount_share,
    ("discount", "money"): lambda o, p: Fraction(o.discount_total),
    ("points", "percent"): _points_share,
    ("points", "points"): lambda o, p: Fraction(o.points_total),
    ("line_discount", "percent"): _line_share,
    ("multiplier", "multiplier"): _multiplier,
}
SCALES = {"percent": PPM, "multiplier": MULTIPLIER_SCALE}  # a limit's integer unit


# ---------------------------------------------------------------------------------------------- wording


def _in_unit(a: ir.IAssert, value: Fraction) -> Fraction:
    """A share as millionths (the unit of a percent limit), a multiplier in thousandths; amounts as they are."""
    return value * SCALES.get(a.unit, 1)


def _show(a: ir.IAssert, value: Fraction | int, p: ir.Programme) -> str:
    """A value in the limit's unit as text: a percent with up to 2 decimals, money, points."""
    value = Fraction(value)
    if a.unit == "percent":
        hundredths = round(value / 100)  # millionths of 1 -> hundredths of a percent
        return minor_text(hundredths, 2).removesuffix(".00") + "%"
    if a.unit == "money":
        return f"{minor_text(round(value), p.settings.minor)} {p.settings.currency}"
    if a.unit == "multiplier":
        return "x" + minor_text(round(value), 3).rstrip("0").rstrip(".")
    return f"{minor_text(round(value), p.settings.points_minor)} points"


def _receipt(receipt: dict[str, Any], p: ir.Programme) -> str:
    total = sum(int(line.get("amount", 0)) for line in receipt.get("lines", ()))
    return (f"a receipt of {len(receipt.get('lines', ()))} line(s), total {minor_text(total, p.settings.minor)} "
            f"{p.settings.currency}, at {receipt.get('datetime')} in store {receipt.get('store_id')}")


# ---------------------------------------------------------------------------------------------- stacks that free a line

FREES_LINE = "LOY313"


def free_line_findings(programme: ir.Programme, engine: Engine) -> list[Diagnostic]:
    """LOY313: in a stacking group, campaigns that each discount a line by less than all of it, but
    together can take it whole. Shown on a receipt where the runtime caps one of them: the line is
    free, and which campaign is cut depends on their priorities (the group's result, not its total,
    depends on the order)."""
    out = []
    for g, group in enumerate(programme.groups):
        if group.stacking not in ("stack_all", "stack_up_to"):
            continue
        members = [(c, bounds.line_share(c, programme)) for c in programme.campaigns if c.group == g]
        partial = [(c, s) for c, s in members if s is not None and 0 < s < 1]
        for (a, sa), (b, sb) in itertools.combinations(partial, 2):
            if sa + sb < 1:
                continue
            witness = _capped(programme, engine, a.name, b.name)
            if witness is not None:
                line, cut = witness
                out.append(warning(FREES_LINE, f"campaigns `{a.name}` and `{b.name}` of group `{group.name}` "
                                               f"({group.stacking}) can discount one line by "
                                               f"{_percent(sa)} + {_percent(sb)}: on line {line} of a receipt "
                                               f"they meet on, the line is free and `{cut}` is cut short; which "
                                               "one is cut depends on their priorities", b.span,
                                   "give them disjoint lines, lower a rate, or move one to a group that "
                                   "does not stack (`first_by_priority`, `best_for_customer`)"))
    return out


def _capped(programme: ir.Programme, engine: Engine, a: str, b: str) -> tuple[int, str] | None:
    """A line the runtime frees on a receipt where both apply, and the campaign it cut short."""
    for receipt, customer in Search(programme, engine).candidates([a, b]):
        try:
            outcome = engine.evaluate(receipt, customer)
        except LoyaError:
            continue
        if not {a, b} <= set(outcome.applied):
            continue
        cut = next((e for e in outcome.effects if e.campaign in (a, b) and e.kind == "discount" and e.capped), None)
        line = next((x.line_no for x in outcome.lines if x.amount and x.payable == 0), None)
        if cut is not None and line is not None:
            return line, cut.campaign
    return None


def _percent(share: Fraction) -> str:
    return minor_text(round(share * 10_000), 2).removesuffix(".00") + "%"
