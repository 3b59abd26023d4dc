"""Reward requests -> money per line: the mechanics of docs/bundle.md's table and the language's combo.

Everything is exact integer arithmetic on the basis amounts ``B_i`` the campaign's group sees. Unit
mechanics work on whole units (⌊qty⌋) without ever expanding them: a line is a run of equal units,
so a 10⁶-unit line costs what a one-unit line costs. Ties always go to the smaller ``line_no``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import pairwise
from operator import attrgetter, floordiv
from typing import Protocol

from .bundle import Bundle, ComboSpec
from .model import Line
from .money import ROUNDERS, allocate, allocate_units
from .units import NthUnit

MILLION = 1_000_000
_INDEX = attrgetter("index")

Accrual = tuple[str, Sequence[Line], int]  # (op, selected lines, value)
Run = tuple[int, int, int, int]  # (unit value, line_no, line index, units)
Request = tuple[str, str, int]  # (op: add | spend | issue, counter or series name, count)
Spread = tuple[Sequence[Line], list[int], int, int]  # a deferred allocation: (lines, weights, total, what it gives)


class Context(Protocol):
    """What pricing reads and writes on the engine's evaluation context."""

    basis: list[int]  # the amounts the campaign's group computes on
    vec: list[int] | None  # the campaign's requested discount per line so far
    acc: list[Accrual] | None  # its accruals so far
    budget: int | None  # its applications left
    spread: list[Spread] | None  # when a list: allocations over lines are deferred to it (``settle``)
    asks: list[Request] | None  # its state requests so far (counters, coupons)
    nlines: int
    ordered: bool  # the receipt's lines are in line_no order

    def match(self, index: int) -> Sequence[Line]: ...


def unit_value(line: Line, basis: int) -> int:
    """What one unit of the line is worth on the basis: ``price × B // amount`` (= price on original)."""
    return line.price * basis // line.amount if line.amount else 0


class Pricer:
    """Prices reward requests under a bundle's settings.

    The generated action code calls one method per reward (``rewards()``) with the evaluation
    context ``r``, which holds the group's ``basis``, the campaign's requested discount per line
    ``vec`` (None until it asks for one), its accruals ``acc`` and its ``budget`` of applications
    (``limit N per receipt``: free units, discounted units and combo sets, shared in order).
    """

    def __init__(self, bundle: Bundle) -> None:
        s = bundle.settings
        self.mode = s.allocation
        # floor rounding is ``//``: operator.floordiv gives what money.floor_div gives, without a Python frame
        self.round: Callable[[int, int], int] = floordiv if s.rounding_discount == "floor" else \
            ROUNDERS[s.rounding_discount]
        self.floor = s.rounding_discount == "floor"
        self.round_points: Callable[[int, int], int] = floordiv if s.rounding_points == "floor" else \
            ROUNDERS[s.rounding_points]
        self.points_scale = 10**s.points_minor
        self.points_den = MILLION * s.point_value
        self.constants = bundle.constants

    def rewards(self) -> dict[str, Callable[..., None]]:
        """The pricing function of each action op, for the code generator."""
        return {
            "DISCOUNT_LINES": self.discount_lines,
            "DISCOUNT_TOTAL": self.discount_total,
            "DISCOUNT_AMOUNT": self.discount_amount,
            "DISCOUNT_PER_UNIT": self.discount_per_unit,
            "SET_PRICE": self.set_price,
            "FREE_UNITS": self.free_units,
            "FREE_CHEAPEST": self.free_cheapest,
            "COMBO": self.combo,
            "ACCRUE_TOTAL": self.accrue_total,
            "ACCRUE_FIXED": self.accrue_fixed,
            "ADD_COUNTER": add_counter,
            "SPEND_COUNTER": spend_counter,
            "ISSUE_COUPON": issue_coupon,
            **NthUnit(self.round).rewards(),  # unit-level discounts (runtime/units.py)
            "GIFT": gift,
        }

    # ------------------------------------------------------------------------------ accruals

    def accrue_total(self, r: Context, ref: int, ppm: int) -> None:
        sel = r.match(ref)
        if sel:
            acc = r.acc
            if acc is None:  # (``_accruals``, inline: the most common reward)
                acc = r.acc = []
            acc.append(("ACCRUE_TOTAL", sel, max(0, ppm)))

    def accrue_fixed(self, r: Context, ref: int, points: int) -> None:
        sel = r.match(ref)
        if sel:
            _accruals(r).append(("ACCRUE_FIXED", sel, max(0, points)))

    def points(self, accruals: list[Accrual], basis: Sequence[int], n: int, ordered: bool) -> list[int]:
        """Points per line: each accrual rounded once on the selected lines' basis, then allocated by it."""
        vec = [0] * n
        for op, sel, value in accruals:
            weights = list(map(basis.__getitem__, map(_INDEX, sel)))
            weight = sum(weights)
            if weight <= 0:
                continue
            total = value if op == "ACCRUE_FIXED" else self.round_points(weight * value * self.points_scale,
                                                                         self.points_den)
            parts = allocate(total, weights, self.mode, None if ordered else [line.line_no for line in sel])
            if len(sel) == n and len(accruals) == 1:  # every line, in order: the parts are the vector
                return parts
            for line, part in zip(sel, parts, strict=True):
                vec[line.index] += part
        return vec

    def points_total(self, accruals: list[Accrual], basis: Sequence[int]) -> int:
        """What ``points`` would give in total, without allocating (for decisions)."""
        total = 0
        for op, sel, value in accruals:
            weight = sum(map(basis.__getitem__, map(_INDEX, sel)))
            if weight > 0:
                total += value if op == "ACCRUE_FIXED" else self.round_points(
                    weight * value * self.points_scale, self.points_den)
        return total

    def settle(self, vec: list[int] | None, spread: list[Spread], limit: int | None, lines: Sequence[Line],
               ordered: bool) -> list[int]:
        """A deferred discount per line (a campaign of a group that ranks its candidates, priced once it has
        won, runtime/driver.py): ``vec`` what its line mechanics asked for, plus each deferred spread's
        allocation, capped at ``limit``. The vector ``_spread`` and ``cap`` give when run at once: the
        additions commute."""
        for sel, weights, total, _ in spread or ():
            parts = allocate(total, weights, self.mode, None if ordered else [line.line_no for line in sel])
            if vec is None and len(sel) == len(lines):  # every line, in order: the parts are the vector
                vec = parts
                continue
            if vec is None:
                vec = [0] * len(lines)
            for line, part in zip(sel, parts, strict=True):
                vec[line.index] += part
        assert vec is not None
        return vec if limit is None else self.cap(vec, limit, lines, ordered)

    def cap(self, vec: list[int], limit: int, lines: Sequence[Line], ordered: bool) -> list[int]:
        """Scale a campaign's allocation down to ``limit`` by the allocation rule (``max discount``,
        ``max points``)."""
        if sum(vec) <= limit:
            return vec
        return allocate(limit, vec, self.mode, None if ordered else [line.line_no for line in lines])

    # ------------------------------------------------------------------------------ line mechanics

    def discount_lines(self, r: Context, ref: int, ppm: int) -> None:
        sel = r.match(ref)
        if not sel:
            return
        vec, basis, ppm = r.vec, r.basis, max(0, ppm)
        if vec is None:  # (``_vector``, inline)
            vec = r.vec = [0] * r.nlines
        if self.floor:
            for line in sel:
                i = line.index
                vec[i] += basis[i] * ppm // MILLION
        else:
            rnd = self.round
            for line in sel:
                i = line.index
                vec[i] += rnd(basis[i] * ppm, MILLION)

    def discount_total(self, r: Context, ref: int, ppm: int) -> None:
        sel = r.match(ref)
        if sel:
            weights = list(map(r.basis.__getitem__, map(_INDEX, sel)))
            self._spread(r, sel, weights, self.round(sum(weights) * max(0, ppm), MILLION))

    def discount_amount(self, r: Context, ref: int, amount: int) -> None:
        sel = r.match(ref)
        if sel:
            weights = list(map(r.basis.__getitem__, map(_INDEX, sel)))
            self._spread(r, sel, weights, min(max(0, amount), sum(weights)))

    def _spread(self, r: Context, sel: Sequence[Line], weights: list[int], total: int) -> None:
        if not total:
            _vector(r)
            return
        spread = r.spread
        if spread is not None:  # priced only if the campaign wins its group (``settle``)
            spread.append((sel, weights, total, total if sum(weights) > 0 else 0))
            return
        parts = allocate(total, weights, self.mode, None if r.ordered else [line.line_no for line in sel])
        if r.vec is None and len(sel) == r.nlines:  # the whole receipt, in order: the parts are the vector
            r.vec = parts
            return
        vec = _vector(r)
        for line, part in zip(sel, parts, strict=True):
            vec[line.index] += part

    def set_price(self, r: Context, ref: int, price: int) -> None:
        sel = r.match(ref)
        if sel:
            vec, basis, price = _vector(r), r.basis, max(0, price)
            for line in sel:
                i = line.index
                vec[i] += max(0, basis[i] - self.round(line.qty * price, 1000))

    # ------------------------------------------------------------------------------ unit mechanics

    def discount_per_unit(self, r: Context, ref: int, off: int) -> None:
        sel = r.match(ref)
        if not sel:
            return
        vec, basis, off, budget = _vector(r), r.basis, max(0, off), r.budget
        for line in sel if r.ordered else sorted(sel, key=lambda line: line.line_no):
            if budget == 0:
                break
            each = min(off, unit_value(line, basis[line.index]))
            units = line.qty // 1000
            if each <= 0 or units <= 0:
                continue
            if budget is not None:
                units = min(units, budget)
                budget -= units
            vec[line.index] += each * units
        r.budget = budget

    def free_units(self, r: Context, ref: int, free: int, every: int) -> None:
        """Units by value, most expensive first (ties: line_no); in each complete group of ``every``
        the last ``free`` positions are free. Counted per line in closed form, never expanded: the free
        positions below ``x`` are ``x // every * free + max(0, x % every - paid)``."""
        sel = r.match(ref)
        if not sel or free <= 0 or every <= 0:
            return
        vec = _vector(r)
        basis, budget = r.basis, r.budget
        if free > every:
            free = every
        paid = every - free
        runs = sorted([(-(line.price * basis[line.index] // line.amount if line.amount else 0), line.line_no,
                        line.index, line.qty // 1000) for line in sel if line.qty >= 1000])
        full = sum([run[3] for run in runs]) // every * every  # positions in complete groups
        position = below = 0  # ``below``: the free positions before ``position``
        for neg_value, _, i, units in runs:
            if position >= full or budget == 0:
                break
            end = position + units
            if end > full:
                end = full
            rest = end % every - paid
            count = end // every * free + (rest if rest > 0 else 0) - below
            below += count
            if budget is not None:
                count = min(count, budget)
                budget -= count
            vec[i] += count * -neg_value
            position += units
        r.budget = budget

    def free_cheapest(self, r: Context, ref: int, count: int) -> None:
        sel = r.match(ref)
        if not sel:
            return
        vec, budget = _vector(r), r.budget
        left = max(0, count) if budget is None else min(max(0, count), budget)
        given = 0
        for value, _, i, units in _runs(sel, r.basis):
            if left <= 0:
                break
            take = min(units, left)
            vec[i] += take * value
            left -= take
            given += take
        r.budget = None if budget is None else budget - given

    # ------------------------------------------------------------------------------ combos

    def combo(self, r: Context, ref: int, value: int) -> None:
        """Sets = min over parts of ⌊units / need⌋ (capped by the budget); each set takes the cheapest
        units of each part (ties: line_no). A line selected by two parts gives each unit once."""
        spec = self.constants[ref]
        assert isinstance(spec, ComboSpec)
        sels = []
        for p, _ in spec.parts:
            sel = r.match(p)
            if not sel:
                return  # a part with no lines: no set
            sels.append(sel)
        value, budget, basis = max(0, value), r.budget, r.basis
        needs = [need for _, need in spec.parts]
        runs = [_runs(sel, basis) for sel in sels]
        sets = min([sum([run[3] for run in part]) // need for part, need in zip(runs, needs, strict=True)])
        if budget is not None:
            sets = min(sets, budget)
        used = _take(runs, needs, sets) if sets > 0 else None
        if used is None and sets > 0:  # parts overlap: the most sets the lines can really fill
            low, high = 0, sets
            while high - low > 1:
                mid = (low + high) // 2
                low, high = (mid, high) if _take(runs, needs, mid) is not None else (low, mid)
            sets = low
            used = _take(runs, needs, sets) if sets > 0 else None
        if used is None:
            return
        vec = _vector(r)
        if spec.reward == "percent_on_part":
            assert spec.part is not None
            for unit, _, i, count in used[spec.part]:
                vec[i] += count * self.round(unit * value, MILLION)
        else:
            for repeat, members in _segments(used, needs, sets):
                worth = sum(unit * count for unit, _, count in members)
                off = min(value, worth) if spec.reward == "amount_per_set" else max(0, worth - value)
                if off:
                    parts = allocate_units(off, [m[0] for m in members], [m[2] for m in members], self.mode)
                    for (_, i, _), part in zip(members, parts, strict=True):
                        vec[i] += part * repeat
        if budget is not None:
            r.budget = budget - sets


# ------------------------------------------------------------------------------ state requests
# Requests only record what the campaign asks for: whether it gets it (a spend must be covered, the
# campaign must win its group) is decided by the engine, and the ledger turns them into changes.


def add_counter(r: Context, name: str, n: int) -> None:
    """``add N to NAME``: a negative count adds nothing."""
    if n > 0:
        _requests(r).append(("add", name, n))


def spend_counter(r: Context, name: str, n: int) -> None:
    """``spend N from NAME``: checked against the balance once the campaign's actions are done."""
    if n > 0:
        _requests(r).append(("spend", name, n))


def issue_coupon(r: Context, series: str) -> None:
    """``issue SERIES``: one coupon, valid from the receipt's time."""
    _requests(r).append(("issue", series, 1))


def gift(r: Context, skus: frozenset[str], price: int) -> None:
    """``gift "SKU" [at PRICE]`` / ``gift one of [...]``: a line for the till to add (docs/rewards.md); the
    name is the SKUs, sorted, joined by the unit separator (one SKU: the SKU itself)."""
    _requests(r).append(("gift", GIFT_SEPARATOR.join(sorted(skus)), max(0, price)))


GIFT_SEPARATOR = "\x1f"


def _requests(r: Context) -> list[Request]:
    requests: list[Request] | None = r.asks
    if requests is None:
        requests = r.asks = []
    return requests


def _vector(r: Context) -> list[int]:
    """The campaign's requested discount per line, made on its first discount request."""
    vec: list[int] | None = r.vec
    if vec is None:
        vec = r.vec = [0] * r.nlines
    return vec


def _accruals(r: Context) -> list[Accrual]:
    acc: list[Accrual] | None = r.acc
    if acc is None:
        acc = r.acc = []
    return acc


def _runs(sel: Sequence[Line], basis: Sequence[int]) -> list[Run]:
    """The selected lines' whole units, cheapest first (ties: line_no), as runs."""
    return sorted([(line.price * basis[line.index] // line.amount if line.amount else 0, line.line_no, line.index,
                    line.qty // 1000) for line in sel if line.qty >= 1000])  # (``unit_value``, written out)


def _take(runs: list[list[Run]], needs: list[int], sets: int) -> list[list[Run]] | None:
    """Give each part, in order, its ``sets × need`` cheapest units not taken by an earlier part."""
    left: dict[int, int] = {}
    used: list[list[Run]] = []
    for part, need in zip(runs, needs, strict=True):
        want = sets * need
        mine: list[Run] = []
        for unit, line_no, i, units in part:
            have = left.get(i, units)
            take = min(have, want)
            if take:
                mine.append((unit, line_no, i, take))
                left[i] = have - take
                want -= take
                if not want:
                    break
        if want:
            return None
        used.append(mine)
    return used


def _segments(used: list[list[Run]], needs: list[int], sets: int) -> Iterator[tuple[int, list[tuple[int, int, int]]]]:
    """Consecutive sets with the same make-up, as (how many, [(unit value, line index, units)]).

    Set k takes positions [k·need, (k+1)·need) of each part's units (cheapest first). Sets change
    make-up only around a run boundary, so there are O(runs) segments however many sets there are.
    """
    bounds = {0, sets}
    for part, need in zip(used, needs, strict=True):
        position = 0
        for run in part:
            position += run[3]
            bounds.update((position // need, position // need + 1))
    # Sets of different segments take disjoint positions, and segments come in order, so each part is
    # walked once (``at``: the first run that may overlap, ``base``: its position): linear in the runs.
    at, base = [0] * len(used), [0] * len(used)
    for first, stop in pairwise(sorted(b for b in bounds if b <= sets)):
        members: list[tuple[int, int, int, int, int]] = []  # line_no, part, unit value, index, units
        for p, (part, need) in enumerate(zip(used, needs, strict=True)):
            start, end = first * need, first * need + need
            while at[p] < len(part) and base[p] + part[at[p]][3] <= start:
                base[p] += part[at[p]][3]
                at[p] += 1
            position = base[p]
            for j in range(at[p], len(part)):
                if position >= end:
                    break
                unit, line_no, i, units = part[j]
                overlap = min(end, position + units) - max(start, position)
                if overlap > 0:
                    members.append((line_no, p, unit, i, overlap))
                position += units
        members.sort()
        yield stop - first, [(unit, i, units) for _, _, unit, i, units in members]
