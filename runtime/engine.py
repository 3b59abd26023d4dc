"""The engine: one verified, compiled bundle evaluating receipts (docs/bundle.md, "Evaluation").

Evaluation is pure: the outcome depends only on the bundle, the receipt, the customer and the time,
and nothing is iterated in hash order, so equal inputs give byte-identical outcomes. Everything that
can be known before a receipt arrives (generated code, sorted groups, time zone, cached rejections)
is prepared in ``Engine.__init__``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from operator import add
from typing import Any
from zoneinfo import ZoneInfo

from .bundle import Bundle, Campaign, Group, load_bundle
from .errors import CustomerError, ReceiptError
from .jit import Program, compile_bundle
from .model import (
    ANONYMOUS,
    Customer,
    CustomerView,
    Effect,
    Line,
    LineOutcome,
    Outcome,
    Receipt,
    Rejection,
    Rows,
    utc_seconds,
)
from .rewards import Accrual, Pricer
from .verify import verify

_new = tuple.__new__  # builds the named-tuple outcomes without their Python-level __new__
_UTC_EPOCH = dt.datetime(1, 1, 1, tzinfo=dt.UTC)  # ordinal 1, second 0
_WEEKDAYS = ("", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
REASONS = ("outside_dates", "wrong_weekday", "outside_hours", "store_not_eligible", "channel_not_eligible",
           "no_eligible_items", "audience", "condition_false", "no_effect", "lost_to_stacking")


class _Context:
    """The ``r`` of generated code: the receipt as bytecode sees it, the per-receipt cache of predicate
    results (each predicate runs over the lines at most once per receipt), and the state of the
    group and campaign being priced (see ``rewards.Pricer``)."""

    __slots__ = ("acc", "basis", "budget", "cache", "channel", "cu", "date", "lines", "matchers", "nlines", "ordered",
                 "payable", "sku_index", "store", "time", "total", "touched", "units", "vec", "weekday")
    acc: list[Accrual] | None
    basis: list[int]
    budget: int | None
    cache: dict[int, Sequence[Line]]
    channel: str
    cu: CustomerView
    date: int
    lines: tuple[Line, ...]
    matchers: tuple[Any, ...]
    nlines: int
    ordered: bool
    payable: int
    sku_index: dict[str, tuple[int, ...]]
    store: str
    time: int
    total: int
    touched: set[int] | None
    units: int
    vec: list[int] | None
    weekday: int

    def match(self, index: int) -> Sequence[Line]:
        found = self.cache.get(index)
        if found is None:
            found = self.cache[index] = self.matchers[index](self.lines, self.cu)
        return found

    def wants(self, campaign: int) -> bool:
        """Whether the receipt has a SKU the campaign needs (by the bundle's SKU index)."""
        touched = self.touched
        if touched is None:
            touched = self.touched = set()
            index = self.sku_index
            for line in self.lines:
                campaigns = index.get(line.sku)
                if campaigns:
                    touched.update(campaigns)
        return campaign in touched


class _Campaign:
    """A campaign as the engine runs it: its generated function and its fixed rejections."""

    __slots__ = ("applications", "group", "index", "max_discount", "max_points", "name", "rejections", "run",
                 "source")

    def __init__(self, c: Campaign, group: str, program: Program) -> None:
        self.source = c
        self.index = c.index
        self.name = c.name
        self.group = group
        self.run = program.campaigns[c.index]
        self.applications = c.limits.applications
        self.max_discount = c.limits.discount
        self.max_points = c.limits.points
        # rejections without detail are made once: the hot path allocates nothing for them
        self.rejections = {reason: Rejection(c.name, reason, None) for reason in REASONS}

    def reject(self, reason: str, detail: str | None = None) -> Rejection:
        return self.rejections[reason] if detail is None else Rejection(self.name, reason, detail)


class _Group:
    __slots__ = ("campaigns", "limit", "name", "original", "source", "stacking")

    def __init__(self, g: Group, campaigns: list[_Campaign]) -> None:
        self.source = g
        self.name = g.name
        self.original = g.basis == "original"
        self.stacking = g.stacking
        self.limit = g.stacking_limit
        self.campaigns = campaigns


# a campaign that would give something: (campaign, requested discount per line or None, accruals,
# its points in total as far as known when the group decides, its points per line if final)
_Candidate = tuple[_Campaign, list[int] | None, list[Accrual], int, list[int] | None]


class Engine:
    """Evaluates receipts against one bundle. Build it once (it compiles the bundle), use it for
    every receipt; it keeps no per-receipt state, so one engine may serve many threads."""

    def __init__(self, bundle: Bundle) -> None:
        if not bundle.bytecode_verified:  # built by hand, not by load_bundle: never run unverified code
            verify(bundle)
        self.bundle = bundle
        self.pricer = Pricer(bundle)
        self.program = compile_bundle(bundle, self.pricer.rewards())
        s = bundle.settings
        self.currency = s.currency
        self.zone = ZoneInfo(s.timezone)
        self._offsets: dict[int, int] = {}  # UTC day -> the zone's offset in seconds
        by_group: list[list[Campaign]] = [[] for _ in bundle.groups]
        for c in bundle.campaigns:
            by_group[c.group].append(c)
        order = sorted(range(len(bundle.groups)), key=lambda i: (-bundle.groups[i].priority, i))
        self.groups = tuple(
            _Group(bundle.groups[i], [_Campaign(c, bundle.groups[i].name, self.program)
                                      for c in sorted(by_group[i], key=lambda c: (-c.priority, c.order, c.index))])
            for i in order if by_group[i]
        )
        self._sku_index = bundle.sku_index
        self._matchers = self.program.matchers
        self._reads_customer = any(
            instr[0] in ("CUSTOMER", "CUSTOMER_ATTR")
            for code in (*bundle.predicates, *(b for c in bundle.campaigns for b in (c.audience, c.condition, c.actions)))
            if code is not None for instr in code)
        self._point_value = s.point_value
        self._points_scale = 10**s.points_minor

    @classmethod
    def from_bytes(cls, data: bytes, **load_opts: Any) -> Engine:
        """Load, verify and compile a bundle file (``load_opts``: trusted_keys, require_signature)."""
        return cls(load_bundle(data, **load_opts))

    # ------------------------------------------------------------------------------------ evaluate

    def evaluate(
        self,
        receipt: Receipt | dict[str, Any],
        customer: Customer | dict[str, Any] | None = None,
        now: dt.datetime | None = None,
        explain: bool = False,
    ) -> Outcome:
        """Evaluate one receipt. ``now`` replaces the receipt's time for windows; ``explain`` fills
        ``trace`` and rejection details."""
        if not isinstance(receipt, Receipt):
            receipt = Receipt.from_dict(receipt)
        if receipt.currency is not None and receipt.currency != self.currency:
            raise ReceiptError(f"unknown currency {receipt.currency!r}; the programme uses {self.currency}",
                               "currency")
        cu = self._customer(customer, receipt) if customer is not None or self._reads_customer else ANONYMOUS
        lines = receipt.lines
        n = len(lines)
        ordered = receipt.ordered
        r = _Context()
        r.lines, r.cu, r.cache, r.matchers, r.sku_index, r.touched = lines, cu, {}, self._matchers, self._sku_index, None
        r.total, r.nlines, r.units, r.store, r.channel, r.ordered = receipt.total, n, receipt.units, receipt.store, \
            receipt.channel, ordered
        r.date, r.weekday, r.time = self._local(receipt.utc if now is None else _utc(now))
        trace: list[str] | None = [] if explain else None
        if trace is not None:
            trace.append(self._describe_receipt(receipt, r))

        amounts = [line.amount for line in lines]
        left = amounts[:]
        floors = [line.floor for line in lines] if receipt.floors else None
        effects: list[tuple[Any, ...]] = []  # Effect rows
        applied: list[str] = []
        rejected: list[Rejection] = []
        pending: list[tuple[_Campaign, list[Accrual], list[int] | None]] = []  # accruals, points if known
        pricer = self.pricer

        for group in self.groups:
            r.basis = basis = amounts if group.original else left[:]
            r.payable = sum(left)
            if trace is not None:
                trace.append(self._describe_group(group, r.payable))
            candidates: list[_Candidate] = []
            for camp in group.campaigns:
                r.vec = r.acc = None
                r.budget = camp.applications
                reason = camp.run(r, cu)
                if reason is not None:
                    rejected.append(camp.rejections[reason] if trace is None
                                    else self._explain_rejection(camp, reason, r, trace))
                    continue
                discount, accruals = r.vec, r.acc
                requested = sum(discount) if discount is not None else 0
                if requested and camp.max_discount is not None and requested > camp.max_discount:
                    assert discount is not None
                    if trace is not None:
                        trace.append(f"  {camp.name}: max discount {self._money(camp.max_discount)} "
                                     f"(the mechanic gives {self._money(requested)})")
                    discount = pricer.cap(discount, camp.max_discount, lines, ordered)
                    requested = camp.max_discount
                points = 0
                points_vec = None
                if accruals:
                    if group.original:  # the amounts are final already: allocate now, once
                        points_vec = pricer.points(accruals, basis, n, ordered)
                        if camp.max_points is not None:
                            points_vec = pricer.cap(points_vec, camp.max_points, lines, ordered)
                        points = sum(points_vec)
                    else:
                        points = pricer.points_total(accruals, basis)
                        if camp.max_points is not None and points > camp.max_points:
                            points = camp.max_points
                if not requested and not points:
                    rejected.append(camp.rejections["no_effect"] if trace is None
                                    else self._explain_rejection(camp, "no_effect", r, trace))
                    continue
                candidates.append((camp, discount if requested else None, accruals or [], points, points_vec))
                if trace is not None:
                    trace.append(f"  {camp.name}: candidate, discount {self._money(requested)}, points {points}")

            if len(candidates) > 1 and group.stacking != "stack_all":
                candidates = self._stack(group, candidates, left, floors, rejected, trace)
            for camp, discount, accruals, _, points_vec in candidates:
                applied.append(camp.name)
                if discount is not None:
                    effects.append(self._apply(camp, discount, left, floors, trace))
                if accruals:
                    pending.append((camp, accruals, points_vec))

        points_by_line: list[int] | None = None
        points_total = 0
        for camp, accruals, vec in pending:
            if vec is None:  # basis discounted: on what is finally paid
                vec = self.pricer.points(accruals, left, n, ordered)
                if camp.max_points is not None:
                    vec = self.pricer.cap(vec, camp.max_points, lines, ordered)
            given = tuple(vec)
            total = sum(given)
            points_total += total
            points_by_line = list(given) if points_by_line is None else list(map(add, points_by_line, given))
            effects.append((camp.name, camp.group, "points", given, given, total, 0))
            if trace is not None:
                trace.append(f"points: {camp.name} gives {total}")

        payable = sum(left)
        return _new(Outcome, (
            receipt.receipt_id, self.currency, receipt.total, receipt.total - payable, payable, points_total,
            Rows(LineOutcome, tuple([(line.line_no, line.sku, amount, amount - rest, rest, pts) for line, amount, rest, pts
                                     in zip(lines, amounts, left, points_by_line or _zeros(n), strict=True)])),
            Rows(Effect, tuple(effects)), tuple(applied), tuple(rejected), tuple(trace) if trace else (),
        ))

    # ------------------------------------------------------------------------------------ stacking

    def _stack(self, group: _Group, candidates: list[_Candidate], left: list[int], floors: list[int] | None,
               rejected: list[Rejection], trace: list[str] | None) -> list[_Candidate]:
        """Which candidates apply, by the group's stacking mode (they come in priority order); the
        others lose to stacking."""
        mode = group.stacking
        if mode == "stack_up_to":
            chosen = candidates[: group.limit]
        elif mode == "first_by_priority":
            chosen = candidates[:1]
        else:
            worth = [self._benefit(c, left, floors) for c in candidates]
            if mode == "best_for_customer":
                best = max(worth)
            else:  # lowest_discount, among the candidates that give something
                best = min((w for w in worth if w > 0), default=worth[0])
            chosen = [candidates[worth.index(best)]]  # index(): the first, i.e. by priority, then order
            if trace is not None:
                trace.append(f"  {mode}: " + ", ".join(
                    f"{c[0].name} worth {self._money(w // self._points_scale)}"
                    for c, w in zip(candidates, worth, strict=True)))
        winners = ", ".join(c[0].name for c in chosen)
        for cand in candidates:
            if not any(cand is c for c in chosen):
                camp = cand[0]
                detail = f"{group.name} is {mode}; applied: {winners}" if trace is not None else None
                rejected.append(camp.reject("lost_to_stacking", detail))
                if trace is not None:
                    trace.append(f"  {camp.name}: lost_to_stacking ({detail})")
        return chosen

    def _benefit(self, cand: _Candidate, left: list[int], floors: list[int] | None) -> int:
        """What the candidate is worth to the customer, x 10^points_minor: its discount as far as the
        lines can still take it, plus its points at their declared value."""
        _, want, _, points, _ = cand
        discount = 0
        for i, amount in enumerate(want or ()):
            if amount:
                room = left[i] - (floors[i] if floors is not None else 0)
                discount += min(amount, max(room, 0))
        return discount * self._points_scale + points * self._point_value

    def _apply(self, camp: _Campaign, want: list[int], left: list[int], floors: list[int] | None,
               trace: list[str] | None) -> tuple[Any, ...]:
        """Take the discount off each line, at most down to zero (or the line's minimum price)."""
        got: list[int] | None = None
        for i, amount in enumerate(want):
            if amount:
                room = left[i] if floors is None else left[i] - floors[i]
                if amount > room:
                    if got is None:
                        got = want[:]
                    amount = got[i] = room if room > 0 else 0
                left[i] -= amount
        requested = tuple(want)
        total = sum(requested)
        given = requested if got is None else tuple(got)
        capped = 0 if got is None else total - sum(given)
        if trace is not None:
            note = f", capped {self._money(capped)} (lines had too little left)" if capped else ""
            trace.append(f"  {camp.name}: applied discount {self._money(total - capped)}{note}")
        return camp.name, camp.group, "discount", requested, given, total - capped, capped  # an Effect row

    # ------------------------------------------------------------------------------------ helpers

    def _customer(self, customer: Customer | dict[str, Any] | None, receipt: Receipt) -> CustomerView:
        if customer is None:
            if receipt.customer_id is None:
                return ANONYMOUS
            return CustomerView(True, receipt.customer_id, "", frozenset(), {})
        if isinstance(customer, Customer):
            return customer.view
        return Customer.from_dict(customer).view if isinstance(customer, dict) else _bad_customer(customer)

    def _local(self, utc: int) -> tuple[int, int, int]:
        """(local date ordinal, ISO weekday, seconds since local midnight) in the programme's zone.

        The zone's offset is cached per UTC day (a day whose two ends disagree is never cached), so a
        receipt's local time is arithmetic, not a time-zone lookup. Exact as long as a zone never
        changes its offset and back within a day (in tzdata transitions are at least 3 days apart).
        """
        day = utc // 86400
        offset = self._offsets.get(day)
        if offset is None:
            offset = self._zone_offset(day * 86400)
            if offset == self._zone_offset(day * 86400 + 86399):
                if len(self._offsets) > 100_000:
                    self._offsets.clear()
                self._offsets[day] = offset
            else:
                offset = self._zone_offset(utc)
        local = utc + offset
        day = local // 86400
        return day, (day - 1) % 7 + 1, local % 86400

    def _zone_offset(self, utc: int) -> int:
        try:
            offset = (_UTC_EPOCH + dt.timedelta(seconds=utc - 86400)).astimezone(self.zone).utcoffset()
        except (OverflowError, ValueError):
            raise ReceiptError("the time is out of range", "datetime") from None
        assert offset is not None
        return offset.days * 86400 + offset.seconds

    def _explain_rejection(self, camp: _Campaign, reason: str, r: _Context, trace: list[str]) -> Rejection:
        detail = self._detail(camp, reason, r)
        trace.append(f"  {camp.name}: {reason}" + (f" ({detail})" if detail else ""))
        return camp.reject(reason, detail)

    def _detail(self, camp: _Campaign, reason: str, r: _Context) -> str | None:
        f = camp.source.footprint
        if reason == "outside_dates" and f.dates:
            a, b = (dt.date.fromordinal(d).isoformat() for d in f.dates)
            return f"local date {dt.date.fromordinal(r.date).isoformat()} not in {a}..{b}"
        if reason == "wrong_weekday" and f.weekdays:
            return f"{_WEEKDAYS[r.weekday]} not in {', '.join(_WEEKDAYS[d] for d in sorted(f.weekdays))}"
        if reason == "outside_hours" and f.hours:
            return f"{_clock(r.time)} not in {_clock(f.hours[0])}..{_clock(f.hours[1])}"
        if reason == "store_not_eligible":
            return f"store {r.store}"
        if reason == "channel_not_eligible":
            return f"channel {r.channel}"
        if reason == "no_eligible_items":
            return "none of the SKUs it needs is on the receipt"
        return None

    def _describe_group(self, group: _Group, payable: int) -> str:
        g = group.source
        limit = f" {g.stacking_limit}" if g.stacking == "stack_up_to" else ""
        return f"group {g.name}: priority {g.priority}, {g.stacking}{limit}, basis {g.basis}, payable {self._money(payable)}"

    def _describe_receipt(self, receipt: Receipt, r: _Context) -> str:
        day = dt.date.fromordinal(r.date)
        return (f"receipt {receipt.receipt_id}: {day.isoformat()} {_clock(r.time)} {_WEEKDAYS[r.weekday]} "
                f"({self.bundle.settings.timezone}), store {r.store}, channel {r.channel}, {r.nlines} lines, "
                f"total {self._money(r.total)}, customer {r.cu.id or receipt.customer_id or 'anonymous'}")

    def _money(self, value: int) -> str:
        minor = self.bundle.settings.minor
        sign, value = ("-" if value < 0 else ""), abs(value)
        if not minor:
            return f"{sign}{value}"
        whole, frac = divmod(value, 10**minor)
        return f"{sign}{whole}.{frac:0{minor}d}"


def _zeros(n: int) -> tuple[int, ...]:
    return (0,) * n


def _utc(now: dt.datetime) -> int:
    if not isinstance(now, dt.datetime) or now.utcoffset() is None:
        raise ReceiptError("expected a datetime with a UTC offset", "now")
    return utc_seconds(now)


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}"


def _bad_customer(customer: object) -> CustomerView:
    raise CustomerError(f"a customer is a Customer or a JSON object, got {type(customer).__name__}")
