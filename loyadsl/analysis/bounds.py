"""Upper bounds of what a receipt can get, from the campaigns' actions and the groups' stacking
(docs/collisions.md, "Assertions").

A bound is a ``Fraction`` (a share, or an amount in minor units) or None when nothing bounds it. Each
campaign's bound reads only its actions, caps and the least receipt total its condition requires;
a group adds its campaigns' bounds as its stacking allows (all of them, the N largest, or the largest
one), and groups add up. Every step over-approximates, so a bound within an assertion's limit is a proof
(of exact amounts: each campaign's rounding may add one minor unit per line). Over the limit, the
bound proves nothing: ``loyadsl/analysis/asserts.py`` then searches for a receipt that breaks it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction

from loyadsl.analysis.filters import disjoint_reason
from loyadsl.check.types import PPM
from loyadsl.compile import ir
from loyadsl.runtime.opcodes import Op

Bound = Fraction | None  # None: unbounded
ONE = Fraction(1)
RECEIPT_TOTALS = (Op.SUM,)  # aggregates that can only be at most the receipt's total


# ---------------------------------------------------------------------------------------------- values


def most(e: ir.IExpr, programme: ir.Programme) -> int | None:
    """The largest value ``e`` can take, when it is known statically (a constant, a tier benefit...)."""
    if isinstance(e, ir.Const) and isinstance(e.value, int) and not isinstance(e.value, bool):
        return e.value
    if isinstance(e, ir.StateLoad) and e.op == Op.BENEFIT and programme.state.tiers is not None:
        values = [level.benefits.get(e.name, 0) for level in programme.state.tiers.levels]
        return max(values, default=None)
    if isinstance(e, ir.Arith) and e.op in (Op.ADD, Op.MIN, Op.MAX, Op.MUL):
        left, right = most(e.left, programme), most(e.right, programme)
        if left is None or right is None:
            return None
        if e.op == Op.MUL:
            return left * right if left >= 0 and right >= 0 else None
        return {Op.ADD: left + right, Op.MIN: min(left, right), Op.MAX: max(left, right)}[e.op]
    if isinstance(e, ir.MulDiv):
        left, right = most(e.left, programme), most(e.right, programme)
        if left is None or right is None or left < 0 or right < 0:
            return None
        return -(-left * right // e.denominator)
    return None


def least_total(condition: ir.IExpr | None) -> int:
    """The least receipt total (minor units) that ``condition`` requires: from `receipt.total >= X`
    and `sum(lines where ...) >= X` among its conjuncts; 0 when it requires none."""
    if condition is None:
        return 0
    if isinstance(condition, ir.Logic) and condition.op == Op.AND:
        return max((least_total(part) for part in condition.operands), default=0)
    if isinstance(condition, ir.Cmp):
        return _threshold(condition.op, condition.left, condition.right)
    return 0


def _threshold(op: Op, left: ir.IExpr, right: ir.IExpr) -> int:
    flipped = {Op.LE: Op.GE, Op.LT: Op.GT, Op.GE: Op.LE, Op.GT: Op.LT}
    if isinstance(left, ir.Const) and op in flipped:
        return _threshold(flipped[op], right, left)
    if op not in (Op.GE, Op.GT, Op.EQ) or not _is_total(left):
        return 0
    if not isinstance(right, ir.Const) or not isinstance(right.value, int) or isinstance(right.value, bool):
        return 0
    return max(0, right.value + (1 if op == Op.GT else 0))


def _is_total(e: ir.IExpr) -> bool:
    return (isinstance(e, ir.Load) and e.source == "receipt" and e.field == "total") or \
        (isinstance(e, ir.Agg) and e.func in RECEIPT_TOTALS)


# ---------------------------------------------------------------------------------------------- arithmetic


def add(a: Bound, b: Bound) -> Bound:
    return None if a is None or b is None else a + b


def at_most(a: Bound, cap: Bound) -> Bound:
    if a is None:
        return cap
    return a if cap is None else min(a, cap)


def ratio(amount: int | None, total: int) -> Bound:
    """``amount`` as a share of a receipt of at least ``total`` (None: no least total, or no amount)."""
    return None if amount is None or total <= 0 else Fraction(amount, total)


def stacked(bounds: Sequence[Bound], stacking: str, limit: int | None) -> Bound:
    """What a group's applicable campaigns can give together, by its stacking."""
    if not bounds:
        return Fraction(0)
    if stacking == "stack_all":
        chosen: Iterable[Bound] = bounds
    elif stacking == "stack_up_to":
        known = sorted((b for b in bounds if b is not None), reverse=True)
        chosen = [None] if None in bounds else known[: limit or len(known)]
    else:  # first_by_priority, best_for_customer, lowest_discount: one campaign applies
        return None if None in bounds else max(b for b in bounds if b is not None)
    total: Bound = Fraction(0)
    for b in chosen:
        total = add(total, b)
    return total


# ---------------------------------------------------------------------------------------------- per campaign

CampaignBound = Callable[[ir.ICampaign], Bound]


def rewards(actions: Iterable[ir.IAction], least: int) -> Iterable[tuple[ir.IAction, int]]:
    """Each reward with the least receipt total under which it runs (a tiers branch on the receipt's
    total raises it to the branch's threshold)."""
    for action in actions:
        if isinstance(action, ir.TierChoice):
            for op, threshold, branch in action.branches:
                floor = least
                if _is_total(action.subject):
                    floor = max(least, _threshold(op, action.subject, threshold))
                yield from rewards(branch, floor)
        else:
            yield action, least


def _choices(c: ir.ICampaign, least: int, one: Callable[[ir.IAction, int], Bound]) -> Bound:
    """The campaign's bound: its rewards add up, except that a tiers action gives one branch."""
    total: Bound = Fraction(0)
    for action in c.actions:
        if isinstance(action, ir.TierChoice):
            branches = []
            for op, threshold, branch in action.branches:
                floor = max(least, _threshold(op, action.subject, threshold)) if _is_total(action.subject) else least
                part: Bound = Fraction(0)
                for inner, inner_least in rewards(branch, floor):
                    part = add(part, one(inner, inner_least))
                branches.append(part)
            total = add(total, None if None in branches else max([Fraction(0), *(b for b in branches if b)]))
        else:
            total = add(total, one(action, least))
    return total


def discount_share(c: ir.ICampaign, programme: ir.Programme) -> Bound:
    """Of the receipt's total (at the campaign's basis), at most this share is the campaign's discount."""
    least = least_total(c.condition)

    def one(action: ir.IAction, floor: int) -> Bound:
        if isinstance(action, ir.Reward):
            value = most(action.args[0], programme) if action.args else None
            if action.op in (Op.DISCOUNT_LINES, Op.DISCOUNT_TOTAL):
                return None if value is None else Fraction(min(value, PPM), PPM)
            if action.op == Op.DISCOUNT_AMOUNT:
                return ratio(value, floor)
            if action.op == Op.FREE_UNITS:
                free, every = (most(a, programme) for a in action.args)
                return None if not free or not every else Fraction(free, every)
            if action.op in (Op.DISCOUNT_PER_UNIT, Op.SET_PRICE, Op.FREE_CHEAPEST):
                return None
            return Fraction(0)  # accruals
        if isinstance(action, ir.ComboReward):
            value = most(action.value, programme)
            if action.reward == "percent_on_part" and value is not None:
                return Fraction(min(value, PPM), PPM)
            return None
        return Fraction(0)  # state actions

    share = at_most(_choices(c, least, one), ratio(c.max_discount, least))
    return ONE if share is None else min(share, ONE)  # no campaign takes more than the receipt


def discount_amount(c: ir.ICampaign, programme: ir.Programme) -> Bound:
    """The most money the campaign can take off one receipt."""
    def one(action: ir.IAction, floor: int) -> Bound:
        if isinstance(action, ir.Reward):
            if action.op == Op.DISCOUNT_AMOUNT:
                value = most(action.args[0], programme)
                return None if value is None else Fraction(value)
            return Fraction(0) if action.op in (Op.ACCRUE_TOTAL, Op.ACCRUE_FIXED) else None
        if isinstance(action, ir.ComboReward):
            value = most(action.value, programme)
            if action.reward == "amount_per_set" and value is not None and c.limit_applications is not None:
                return Fraction(value * c.limit_applications)
            return None
        return Fraction(0)

    cap = None if c.max_discount is None else Fraction(c.max_discount)
    return at_most(_choices(c, least_total(c.condition), one), cap)


def line_share(c: ir.ICampaign, programme: ir.Programme) -> Bound:
    """Of any one line's amount, at most this share is the campaign's discount."""
    def one(action: ir.IAction, floor: int) -> Bound:
        if isinstance(action, ir.Reward):
            if action.op in (Op.DISCOUNT_LINES, Op.DISCOUNT_TOTAL):
                value = most(action.args[0], programme)
                return None if value is None else Fraction(min(value, PPM), PPM)
            if action.op == Op.DISCOUNT_AMOUNT and _everything(action.predicate):
                # allocated over all lines by amount: each line gets the receipt's share
                share = ratio(most(action.args[0], programme), floor)
                return ONE if share is None else min(share, ONE)
            return Fraction(0) if action.op in (Op.ACCRUE_TOTAL, Op.ACCRUE_FIXED) else ONE
        if isinstance(action, ir.ComboReward):
            value = most(action.value, programme)
            return Fraction(min(value, PPM), PPM) if action.reward == "percent_on_part" and value is not None else ONE
        return Fraction(0)

    share = _choices(c, least_total(c.condition), one)
    return ONE if share is None else min(share, ONE)


def points_rate(c: ir.ICampaign, programme: ir.Programme) -> Bound:
    """The value of the campaign's points as a share of its accrual basis (percent accruals), plus
    fixed points as a share of the least receipt total (None when nothing bounds them)."""
    def one(action: ir.IAction, floor: int) -> Bound:
        if isinstance(action, ir.Reward) and action.op == Op.ACCRUE_TOTAL:
            value = most(action.args[0], programme)
            return None if value is None else Fraction(value, PPM)
        if isinstance(action, ir.Reward) and action.op == Op.ACCRUE_FIXED:
            value = most(action.args[0], programme)
            return ratio(None if value is None else point_value(value, programme), floor)
        return Fraction(0)

    cap = None if c.max_points is None else ratio(point_value(c.max_points, programme), least_total(c.condition))
    return at_most(_choices(c, least_total(c.condition), one), cap)


def points_amount(c: ir.ICampaign, programme: ir.Programme) -> Bound:
    """The most points (in point minor units) the campaign can give on one receipt."""
    def one(action: ir.IAction, floor: int) -> Bound:
        if isinstance(action, ir.Reward) and action.op == Op.ACCRUE_FIXED:
            value = most(action.args[0], programme)
            return None if value is None else Fraction(value)
        if isinstance(action, ir.Reward) and action.op == Op.ACCRUE_TOTAL:
            return None
        return Fraction(0)

    cap = None if c.max_points is None else Fraction(c.max_points)
    return at_most(_choices(c, least_total(c.condition), one), cap)


def _everything(predicate: ir.IExpr) -> bool:
    return isinstance(predicate, ir.Const) and predicate.value is True


def multiplier_extra(c: ir.ICampaign, programme: ir.Programme) -> Bound:
    """For a multiplier (`accrue xK of BASE`): K − 1, read from its extra rate and its base's rate."""
    base = next((b for b in programme.campaigns if b.name == c.multiplier_base), None)
    if base is None:
        return Fraction(0)
    rates = _accrual_rates(base)
    extras = _accrual_rates(c)
    if len(rates) != 1 or len(extras) != 1:
        return None
    rate, extra = rates[0], extras[0]
    if isinstance(rate, ir.Const) and isinstance(extra, ir.Const) and isinstance(rate.value, int) \
            and isinstance(extra.value, int) and rate.value > 0:
        return Fraction(extra.value, rate.value)
    if extra == rate:
        return ONE
    if isinstance(extra, ir.Arith) and extra.op == Op.MUL and extra.left == rate and isinstance(extra.right, ir.Const):
        return Fraction(int(extra.right.value))  # type: ignore[arg-type]
    if isinstance(extra, ir.MulDiv) and extra.left == rate and isinstance(extra.right, ir.Const):
        return Fraction(int(extra.right.value), extra.denominator)  # type: ignore[arg-type]
    return None


def _accrual_rates(c: ir.ICampaign) -> list[ir.IExpr]:
    return [a.args[0] for a, _ in rewards(c.actions, 0) if isinstance(a, ir.Reward) and a.op == Op.ACCRUE_TOTAL]


def multiplier(programme: ir.Programme) -> Bound:
    """The largest multiple of a base campaign's points that it and its multipliers give together:
    1 + the stacked K − 1 of the multipliers of each base (1 when there are none)."""
    best: Bound = ONE
    for base in {c.multiplier_base for c in programme.campaigns if c.multiplier_base}:
        def extra(c: ir.ICampaign, base: str | None = base) -> Bound:
            return multiplier_extra(c, programme) if c.multiplier_base == base else Fraction(0)
        total = add(ONE, amount(programme, extra))
        best = None if best is None or total is None else max(best, total)
    return best


def point_value(points: int, programme: ir.Programme) -> int:
    """What ``points`` (point minor units) are worth in money minor units, rounded up."""
    s = programme.settings
    return -(-points * s.point_value // 10 ** s.points_minor)


# ---------------------------------------------------------------------------------------------- programme


def by_group(programme: ir.Programme, bound: CampaignBound) -> list[tuple[ir.IGroup, Bound]]:
    """Each group's stacked bound, groups in the order they run (priority, then declaration)."""
    out = []
    order = sorted(range(len(programme.groups)), key=lambda g: -programme.groups[g].priority)
    for g in order:
        group = programme.groups[g]
        members = [(c, bound(c)) for c in programme.campaigns if c.group == g]
        if members:
            out.append((group, max_stack(members, group)))
    return out


CLIQUE_LIMIT = 16  # campaigns of a group past which every one is assumed to meet every other


def max_stack(members: list[tuple[ir.ICampaign, Bound]], group: ir.IGroup) -> Bound:
    """The group's bound over the sets of its campaigns that can fire together: two campaigns whose
    filters cannot both hold (dates, weekdays, hours, stores, channels, tiers, arms) never stack, so
    the bound is the best over the cliques of the "may meet" graph (all of them when it is large)."""
    bounds = [b for _, b in members]
    if group.stacking not in ("stack_all", "stack_up_to") or len(members) > CLIQUE_LIMIT or None in bounds:
        return stacked(bounds, group.stacking, group.stacking_limit)
    meets = [{j for j, (d, _) in enumerate(members) if j != i and disjoint_reason(c, d) is None}
             for i, (c, _) in enumerate(members)]
    best: Bound = Fraction(0)
    for clique in _cliques(meets, set(range(len(members)))):
        found = stacked([bounds[i] for i in clique], group.stacking, group.stacking_limit)
        best = found if best is None or found is None else max(best, found)
    return best


def _cliques(meets: list[set[int]], candidates: set[int], chosen: frozenset[int] = frozenset()) -> Iterable[frozenset[int]]:
    """The maximal cliques (Bron–Kerbosch without pivoting; groups are small)."""
    if not candidates:
        yield chosen
        return
    for v in sorted(candidates):
        yield from _cliques(meets, candidates & meets[v], chosen | {v})
        candidates = candidates - {v}


def receipt_share(programme: ir.Programme, bound: CampaignBound) -> Bound:
    """Groups add up: a `basis original` group's share is of the original amounts, and a `basis
    discounted` group takes at most its share of what is left, so at most its share of the original
    total too (a fixed amount does not shrink with what is left). Never more than the whole."""
    total = Fraction(0)
    for _, share in by_group(programme, bound):
        if share is None:
            return ONE
        total = min(total + min(share, ONE), ONE)
    return total


def amount(programme: ir.Programme, bound: CampaignBound) -> Bound:
    total: Bound = Fraction(0)
    for _, part in by_group(programme, bound):
        total = add(total, part)
    return total


def points_share(programme: ir.Programme) -> Bound:
    """Points' value as a share of what the customer pays. Percent accruals of a `basis discounted`
    group are on what is paid; those of a `basis original` group, and fixed points (a share of the
    original total), are on original amounts, which are at most 1 / (1 − D) of what is paid, D the
    bound of the discount's share."""
    discount = receipt_share(programme, lambda c: discount_share(c, programme))
    if discount is None or discount >= 1:
        return None
    total: Bound = Fraction(0)
    for group, share in by_group(programme, lambda c: points_rate(c, programme)):
        on_paid = group.basis == "discounted" and not _fixed_points(programme, group)
        total = add(total, share if on_paid or share is None else share / (1 - discount))
    return total


def _fixed_points(programme: ir.Programme, group: ir.IGroup) -> bool:
    index = programme.groups.index(group)
    return any(isinstance(a, ir.Reward) and a.op == Op.ACCRUE_FIXED
               for c in programme.campaigns if c.group == index for a, _ in rewards(c.actions, 0))
