"""The engine: one verified, compiled bundle evaluating receipts (docs/bundle.md, "Evaluation"), and,
for programmes with customer state, advancing time and refunding returns (docs/state.md).

Evaluation is pure: the outcome depends only on the bundle, the receipt, the customer and the time,
and nothing is iterated in hash order, so equal inputs give byte-identical outcomes. Everything that
can be known before a receipt arrives (generated code, sorted groups, time zone, cached rejections)
is prepared in ``Engine.__init__``.

A programme without state declarations, and a receipt without coupons, redemption or certificates,
take the stateless path: no ledger, no state view, the outcome's state fields None. Otherwise a
``ledger.Session`` gates campaigns, settles the payment and lists the changes (runtime/ledger.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from operator import add, attrgetter, le, sub
from typing import Any, ClassVar, cast
from zoneinfo import ZoneInfo

from . import driver, stateful
from . import order as ordering
from .bundle import Bundle, Campaign, Group, collector_paused, load_bundle
from .codecache import CodeCache
from .commerce_engine import CommercePlan
from .declarations import NO_CAMPAIGN_STATE
from .errors import CustomerError, LoyaError, ReceiptError
from .experiments import bucket
from .explain import Explainer
from .fraud import guard as card_guard
from .jit import Program, compile_bundle, live
from .ledger import Ledger, Refund, Session, check_chosen, receive, refund
from .limits import MAX_RECEIPT_LINES, MAX_STATIC_COST
from .model import (
    ANONYMOUS,
    CustomerView,
    Effect,
    Line,
    LineRows,
    Outcome,
    Receipt,
    Rejection,
    Rows,
    lazy_rows,
    line_rows,
    plain_rows,
    utc_seconds,
)
from .money import minor_text
from .opcodes import ACTION_OPS, OPCODES, Op
from .rewards import Accrual, Pricer, Request, Spread
from .segments.runtime import SegmentRuntime
from .state import CustomerState, advance, apply, view
from .state.changes import Changes, as_json
from .triggers.till_messages import TillMessages
from .verify import verify

_new = tuple.__new__  # builds the named-tuple outcomes without their Python-level __new__
_new_object = object.__new__
_SKU = attrgetter("sku")
_EMPTY: frozenset[int] = frozenset()  # ``_EMPTY.union(...)``: a new set of what is given, made in C
_UTC_EPOCH = dt.datetime(1, 1, 1, tzinfo=dt.UTC)  # ordinal 1, second 0
_WEEKDAYS = ("", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
REASONS = ("outside_dates", "wrong_weekday", "outside_hours", "store_not_eligible", "channel_not_eligible",
           "no_eligible_items", "audience", "condition_false", "no_effect", "lost_to_stacking",
           # with customer state (docs/state.md, section 5)
           "no_coupon", "limit_reached", "budget_exhausted", "insufficient_balance",
           "not_in_arm",  # the customer is not in an arm the campaign joins (docs/experiments.md)
           "blocked_by_exclusive",  # an `exclusive receipt` campaign applied (docs/order.md)
           # catalogue rewards (docs/rewards.md)
           "not_chosen", "out_of_stock", "insufficient_points")
_ACCRUALS = frozenset({Op.ACCRUE_TOTAL, Op.ACCRUE_FIXED})  # the action ops that add to ``r.acc``
_REQUESTS = frozenset({Op.ADD_COUNTER, Op.SPEND_COUNTER, Op.ISSUE_COUPON, Op.GIFT})  # to ``r.asks``; others ``r.vec``
_STATE_READS = frozenset(name for name, spec in OPCODES.items() if spec.names is not None) | {Op.GIFT}


class _Eval:
    """One receipt's evaluation in one object, both the ``r`` of generated code (the receipt as
    bytecode sees it, the per-receipt cache of predicate results, each predicate running over the lines at
    most once per receipt, and the state of the group and campaign being priced, see ``rewards.Pricer``),
    and the ``t`` of the engine and the driver: what the evaluation accumulates (the lines' original and
    remaining amounts and minimum prices, the effect rows, applied campaigns, rejections, accruals allocated
    at the end, state requests). On the stateless path it also gives the accruals' points per line when
    the outcome is first read (``points_rows``, ``points_by_line``).

    What is the same for every receipt of an engine (its SKU index, pricer, the type of its predicates'
    cache) is a class attribute of the engine's own subclass (``Engine._eval``), set once, not per receipt."""

    __slots__ = ("acc", "amounts", "applied", "arms", "asks", "basis", "budget", "channel", "cu", "date", "effects",
                 "floors", "hints", "in_arms", "left", "lines", "match", "matches", "nlines", "now", "ordered",
                 "payable", "pending", "rejected", "requests", "spread", "store", "time", "total",
                 "touched", "units", "vec", "vectors", "weekday")
    # the engine's (its subclass's class attributes)
    sku_index: ClassVar[dict[str, tuple[int, ...]]]
    pricer: ClassVar[Pricer]
    Matches: ClassVar[type[_Matches]]
    offsets: ClassVar[dict[int, int]]  # ``Engine._offsets``: its cached offsets of the zone by UTC day
    engine: ClassVar[Engine]
    # the receipt, as bytecode sees it
    lines: tuple[Line, ...]
    cu: CustomerView
    total: int
    nlines: int
    units: int
    store: str
    channel: str
    ordered: bool
    date: int
    weekday: int
    time: int
    in_arms: tuple[str | None, ...]  # per experiment, the arm whose campaigns the receipt gets
    match: Callable[[int], Sequence[Line]]  # predicate i's lines, computed once per receipt (``_Matches``)
    matches: _Matches  # whose ``__getitem__`` ``match`` is (the driver fills it itself, runtime/driver.py)
    touched: frozenset[int] | None
    # the group and campaign being priced
    basis: list[int]
    payable: int
    now: list[int]  # the lines' payable at the group's start, when a predicate reads it (docs/order.md)
    acc: list[Accrual] | None
    vec: list[int] | None
    budget: int | None
    spread: list[Spread] | None  # a campaign's allocations deferred until it wins (runtime/driver.py), else None
    asks: list[Request] | None  # the campaign's state requests
    # the tally
    amounts: list[int]
    left: list[int]
    floors: list[int] | None
    effects: list[tuple[Any, ...]]  # Effect rows
    applied: list[str]
    rejected: list[Rejection]
    # (campaign, accruals, points per line if final, basis is original, points in total if final, or on a
    # discounted basis (points, the group's basis) from the driver: final if the lines' payable is that basis)
    pending: list[tuple[_Campaign, list[Accrual], list[int] | None, bool, int | tuple[int, list[int]] | None]]
    requests: dict[str, list[Request]]  # the applied campaigns' state requests (set with a session, ``_run``)
    arms: dict[str, str | None] | None  # the customer's arm per experiment (docs/experiments.md)
    hints: tuple[dict[str, Any], ...] | None  # upsell hints, when asked for
    # the points per line, allocated on first read (``points_vectors``)
    vectors: list[tuple[int, ...]] | None

    def wants(self, campaign: int) -> bool:
        """Whether the receipt has a SKU the campaign needs (by the bundle's SKU index)."""
        return campaign in (self.touched if self.touched is not None else self.touch())

    def touch(self) -> frozenset[int]:
        """The campaigns the receipt has a needed SKU of (by the bundle's SKU index), once a receipt."""
        touched = self.touched = _EMPTY.union(*filter(None, map(self.sku_index.get, map(_SKU, self.lines))))
        return touched

    # The stateless path's accruals (``pending``): their totals at once, their points per line on first
    # read. Allocation gives parts that add up to the rounded total, and a cap scales a vector down to
    # exactly its limit, so the totals need no allocation; the vectors are ``Pricer.points`` on the group's
    # basis (the original amounts, or what is finally paid), capped, as the general path makes them.

    def points_totals(self) -> list[int]:
        out = []
        left, basis_seen, same = self.left, None, False  # (a group's campaigns share its basis: compared once)
        for camp, accruals, vec, original, known in self.pending:
            if isinstance(known, int):
                out.append(known)
                continue
            if known is not None:  # (points on the group's basis, the basis): final if what is paid is the basis
                points, basis = known
                if basis is not basis_seen:
                    basis_seen, same = basis, basis == left
                if same:
                    out.append(points)
                    continue
            if vec is not None:
                out.append(sum(vec))
                continue
            total = self.pricer.points_total(accruals, self.amounts if original else self.left)
            out.append(total if camp.max_points is None or total <= camp.max_points else camp.max_points)
        return out

    def points_vectors(self) -> list[tuple[int, ...]]:
        if self.vectors is None:
            pricer, lines, ordered, n = self.pricer, self.lines, self.ordered, len(self.left)
            vectors = []
            for camp, accruals, vec, original, _ in self.pending:
                if vec is None:
                    vec = pricer.points(accruals, self.amounts if original else self.left, n, ordered)
                    if camp.max_points is not None:
                        vec = pricer.cap(vec, camp.max_points, lines, ordered)
                vectors.append(tuple(vec))
            self.vectors = vectors
        return self.vectors

    def points_rows(self) -> tuple[tuple[Any, ...], ...]:
        """The points rows of ``Outcome.effects``, after the discount rows."""
        return tuple([(camp.name, camp.group, "points", given, given, sum(given), 0)
                      for (camp, *_), given in zip(self.pending, self.points_vectors(), strict=True)])

    def points_by_line(self) -> list[int]:
        vectors = self.points_vectors()
        out = list(vectors[0])
        for given in vectors[1:]:
            out = list(map(add, out, given))
        return out


def _open_eval(kind: type[_Eval], receipt: Receipt, cu: CustomerView, utc: int) -> _Eval:
    """A receipt's evaluation of the engine's ``_Eval`` subclass ``kind``: every field but the state of a group
    or campaign, which the engine sets as it goes; the local time of ``utc`` from the engine's cached offset of
    its day (else ``Engine._local``). Made by ``object.__new__`` and field writes, not a Python ``__init__``
    (whose call through the type costs more than the writes); one statement a field: a tuple assignment of
    more than three builds and unpacks a tuple."""
    self = _new_object(kind)
    self.lines = lines = receipt.lines
    self.cu = cu
    self.total = receipt.total
    self.nlines = len(lines)
    self.units = receipt.units
    self.store = receipt.store
    self.channel = receipt.channel
    self.ordered = receipt.ordered
    self.amounts = amounts = [line.amount for line in lines]  # (a comprehension: ~1,000 instructions below map(attrgetter) at 6 lines)
    self.left = amounts[:]
    self.floors = [line.floor for line in lines] if receipt.floors else None
    self.effects = []
    self.applied = []
    self.rejected = []
    self.pending = []
    self.touched = self.asks = self.spread = self.arms = self.hints = self.vectors = None
    self.matches = matches = kind.Matches()  # (no Python ``__init__``: two fields set here)
    matches.lines = lines
    matches.cu = cu
    self.match = matches.__getitem__
    offset = kind.offsets.get(utc // 86400)
    if offset is None:
        self.date, self.weekday, self.time = kind.engine._local(utc)
    else:
        local = utc + offset
        self.date = day = local // 86400
        self.weekday = (day - 1) % 7 + 1
        self.time = local % 86400
    return self


class _Matches(dict[int, Sequence[Line]]):
    """Each predicate's lines for one receipt, computed on first use: ``r.match`` is this dict's
    ``__getitem__``, so every later use is one C-level lookup. ``matchers``: the engine's (its subclass's,
    ``Engine._eval``); ``lines`` and ``cu`` the receipt's, set by ``_Eval``."""

    __slots__ = ("cu", "lines")
    matchers: ClassVar[Sequence[Callable[..., Sequence[Line]]]]
    lines: tuple[Line, ...]
    cu: CustomerView

    def __missing__(self, index: int) -> Sequence[Line]:
        found = self[index] = self.matchers[index](self.lines, self.cu)
        return found


class _LiveMatches(_Matches):
    """``_Matches`` for a bundle whose predicates ``live`` read what is left of lines (docs/order.md):
    those run anew on every use with ``r.now``; the others are cached as usual. ``r``: the evaluation."""

    __slots__ = ("r",)
    live: ClassVar[frozenset[int]]
    r: _Eval

    def __getitem__(self, index: int) -> Sequence[Line]:
        if index in self.live:
            return self.matchers[index](self.lines, self.cu, self.r.now)
        return super().__getitem__(index)


class _Campaign:
    """A campaign as the engine runs it: its generated function and its fixed rejections."""

    __slots__ = ("accrues", "applications", "budgeted", "discounts", "group", "index", "max_discount", "max_points",
                 "name", "rejections", "reward", "run", "sku_gated", "source", "state")

    def __init__(self, c: Campaign, group: str, program: Program) -> None:
        self.source = c
        self.state = c.state
        self.budgeted = c.state.budget is not None or c.state.discount_cap is not None
        self.index = c.index
        self.name = c.name
        self.group = group
        self.run = program.campaigns[c.index]
        f = c.footprint
        # the first check of its code is whether the receipt has one of the SKUs it needs (jit._campaign)
        self.sku_gated = f.needs_skus is not None and f.dates is f.weekdays is f.hours is f.stores is f.channels is None
        self.applications = c.limits.applications
        self.max_discount = c.limits.discount
        self.max_points = c.limits.points
        self.reward = c.state.reward  # a catalogue reward (docs/rewards.md), else None
        # what its actions can ask for, known from the bytecode: the driver leaves out the rest
        ops = {instr[0] for instr in c.actions} & ACTION_OPS
        self.accrues = bool(ops & _ACCRUALS)
        self.discounts = bool(ops - _ACCRUALS - _REQUESTS)
        # rejections without detail are made once, on first use: the hot path allocates nothing for them
        self.rejections = _Rejections(c.name)

    def reject(self, reason: str, detail: str | None = None) -> Rejection:
        return self.rejections[reason] if detail is None else Rejection(self.name, reason, detail)


class _Rejections(dict[str, Rejection]):
    """A campaign's rejections without detail, by reason, each made when first asked for: a programme's
    campaigns meet few of the 18 reasons, and making them all was a tenth of the load of a large
    bundle. (Two threads may both make one: equal values, either kept.)"""

    __slots__ = ("campaign",)

    def __init__(self, campaign: str) -> None:
        super().__init__()
        self.campaign = campaign

    def __missing__(self, reason: str) -> Rejection:
        if reason not in REASONS:
            raise KeyError(reason)
        made = self[reason] = Rejection(self.campaign, reason, None)
        return made


class _Group:
    __slots__ = ("always", "by_index", "campaigns", "everything", "gated", "limit", "name", "original", "skipped",
                 "source", "stacking")

    def __init__(self, g: Group, campaigns: list[_Campaign]) -> None:
        self.source = g
        self.name = g.name
        self.original = g.basis == "original"
        self.stacking = g.stacking
        self.limit = g.stacking_limit
        self.campaigns = campaigns
        self.plan()

    def plan(self) -> None:
        """What skipping needs: the positions of the campaigns that always run, each SKU-gated one's
        position by campaign index, and per position the rejection a skipped campaign gets."""
        self.everything = range(len(self.campaigns))
        self.always = [pos for pos, camp in enumerate(self.campaigns) if not camp.sku_gated]
        self.gated = {camp.index: pos for pos, camp in enumerate(self.campaigns) if camp.sku_gated}
        self.skipped = [camp.rejections["no_eligible_items"] for camp in self.campaigns]  # read at gated positions
        self.by_index = len(self.gated) > 8  # else a set lookup per campaign costs less than building positions

    def positions(self, touched: frozenset[int]) -> Sequence[int]:
        """The positions of the campaigns to run on a receipt that has needed SKUs of ``touched``."""
        gated = self.gated
        run = self.always + [pos for index in touched if (pos := gated.get(index)) is not None]
        if len(run) == len(self.campaigns):
            return self.everything
        run.sort()
        return run


# a campaign that would give something: (campaign, requested discount per line or None, accruals,
# its points in total as far as known when the group decides, its points per line if final, its state
# requests or None)
_Candidate = tuple[_Campaign, list[int] | None, list[Accrual], int, list[int] | None, list[Request] | None]


class Engine:
    """Evaluates receipts against one bundle. Build it once (it compiles the bundle), use it for
    every receipt; it keeps no per-receipt state, so one engine may serve many threads."""

    # Outcomes with state hold their changes as a ``state.changes.Changes``: the ledger's typed records,
    # their JSON made on first read (equal to the tuple it is otherwise). For a host that applies each
    # outcome at once with ``apply_in_place`` and seldom reads the JSON (the simulator's replay).
    lazy_changes = False

    def __init__(self, bundle: Bundle, max_cost: int | None = None, code_cache: CodeCache | None = None) -> None:
        """``max_cost``: the most static cost units (docs/bundle.md, "Static cost") one receipt may take
        under this bundle, ``fixed + per_line x lines``; a receipt with more lines is refused before any
        work (LOY520), so evaluation time has a hard bound the host chooses. None: MAX_STATIC_COST, the
        bound of every evaluation (docs/limits.md). ``code_cache``: where the compiled generated Python is
        kept between loads (``codecache.DirectoryCache``; docs/bundle.md, "Code cache").

        The build makes tens of thousands of objects that all live as long as the engine (the generated
        code's source, bodies and functions): the cycle collector is paused meanwhile, as for the load
        (``collector_paused``), where its passes over them found nothing and cost a third of the build."""
        with collector_paused():
            self._build(bundle, max_cost, code_cache)

    def _build(self, bundle: Bundle, max_cost: int | None, code_cache: CodeCache | None) -> None:
        if not bundle.bytecode_verified:  # built by hand, not by load_bundle: never run unverified code
            verify(bundle)
        self.bundle = bundle
        self.max_cost = max_cost
        self._max_lines = _lines_within(bundle, max_cost)
        self.pricer = Pricer(bundle)
        self._code_cache = code_cache
        self.program = compile_bundle(bundle, self.pricer.rewards(), code_cache)
        self._explainer = Explainer(bundle, self.program)  # the trace's "why false", made when asked
        self._by_name = {c.name: c for c in bundle.campaigns}
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
        self._exclusive, self.groups = ordering.plan(self.groups, _Group)  # docs/order.md: () and as is when unused
        self._sku_index = bundle.sku_index
        self._live = frozenset(i for i, code in enumerate(bundle.predicates) if live(code))  # docs/order.md
        self._experiments = bundle.experiments
        self._matchers = self.program.matchers
        self._eval = self._evaluation_type()
        self._plain = not self._live and not self._experiments  # ``_open`` is ``_eval`` alone
        self._reads_customer = any(
            instr[0] in (Op.CUSTOMER, Op.CUSTOMER_ATTR)
            for code in (*bundle.predicates, *(b for c in bundle.campaigns for b in (c.audience, c.condition, c.actions)))
            if code is not None for instr in code)
        self._point_value = s.point_value
        self._points_scale = 10**s.points_minor
        codes = [code for code in (*bundle.predicates, *(b for c in bundle.campaigns
                                                         for b in (c.audience, c.condition, c.actions)))
                 if code is not None]
        # state is in play when the programme declares it, a campaign is gated by it, or code reads it
        self._stateful = not bundle.state.empty or any(c.state != NO_CAMPAIGN_STATE for c in bundle.campaigns) \
            or any(instr[0] in _STATE_READS or instr[:2] == (Op.CUSTOMER, "receipts") for code in codes for instr in code)
        self._stateful = self._stateful or bool(bundle.triggers)  # chains count purchases (docs/triggers.md)
        self._fraud = s.fraud  # anti-fraud limits per card (runtime/fraud.py): the stateful path
        self._people = s.people  # the staff rule and partners (runtime/fraud.py)
        self._guarded = self._fraud is not None or self._people is not None
        self._stateful = self._stateful or self._guarded
        self.ledger = Ledger(bundle, self._matchers, self._local)
        self._gated = self.ledger.gated
        for group in (*self.groups, *(g for g, _ in self._exclusive)):  # a campaign gated by state asks its gate first
            for camp in group.campaigns:
                camp.sku_gated = camp.sku_gated and camp.index not in self._gated
            group.plan()
        # the stateless path without a trace: one generated function for every group (runtime/driver.py)
        self._drive, self.driver_source = driver.build(self.groups, self._group, self.pricer, self._apply, self._stack,
                                                          bool(self._live), self._exclusives if self._exclusive else None,
                                                          self.program, code_cache)
        # docs/segments.md: profile fields, history and segments, only for a bundle that declares them
        self._segments = None if bundle.state.segments is None else SegmentRuntime(
            bundle, self.program.namespace, self._matchers, self.local_date)
        self.commerce = CommercePlan(bundle, self._matchers)  # line kinds and tax (runtime/commerce.py)
        # docs/triggers.md: campaigns' `message receipt|cashier`, rendered into Outcome.messages
        self.till_messages = TillMessages(self) if bundle.messages else None
        # ``evaluate``'s quick path serves a receipt when the programme has no state, tax or till messages (and the
        # receipt no coupons, rewards, redemption or mix of kinds, and nobody asks for a trace or hints)
        self._quick_ok = not self._stateful and not self.commerce.taxed and self.till_messages is None

    def _evaluation_type(self) -> type[_Eval]:
        """The engine's own ``_Eval``, whose class attributes hold what every receipt's evaluation shares."""
        matches = type("Matches", (_LiveMatches if self._live else _Matches,),
                       {"__slots__": (), "matchers": self._matchers, "live": self._live})
        return cast(type[_Eval], type("Evaluation", (_Eval,), {
            "__slots__": (), "sku_index": self._sku_index, "pricer": self.pricer, "Matches": matches,
            "offsets": self._offsets, "engine": self}))

    @classmethod
    def from_bytes(cls, data: bytes, max_cost: int | None = None, code_cache: CodeCache | None = None,
                   **load_opts: Any) -> Engine:
        """Load, verify and compile a bundle file (``load_opts``: trusted_keys, require_signature)."""
        return cls(load_bundle(data, **load_opts), max_cost, code_cache)

    # ------------------------------------------------------------------------------------ evaluate

    def evaluate(
        self,
        receipt: Receipt | dict[str, Any],
        customer: CustomerState | dict[str, Any] | None = None,
        now: dt.datetime | None = None,
        explain: bool = False,
        budgets: Mapping[str, int] | None = None,
        hints: bool = False,
        stock: Mapping[str, int] | None = None,
        redemptions: Mapping[str, int] | None = None,
        held: int = 0,
    ) -> Outcome:
        """Evaluate one receipt. ``now`` replaces the receipt's time for windows (and for the state);
        ``explain`` fills ``trace`` and rejection details. ``budgets``: what each budget-limited
        campaign has left, programme-wide, as the host keeps it (None: budgets are not enforced, only
        recorded; a campaign missing from the mapping has its whole declared budget). ``hints``: the
        outcome's ``hints`` say what nearly applied campaigns lack (runtime/explain.py, ``gap``). ``stock``:
        what each stocked catalogue reward has left, programme-wide (None: stock is not enforced, only
        recorded), as ``budgets`` (docs/rewards.md). ``redemptions``: the uses of programme-wide usage
        limits so far, by ``redemption_key``, as the host keeps them (None: the limits are recorded as
        changes, not enforced; runtime/redemptions.py). ``held``: the customer's points that other open
        sessions hold (a host's calculated, unconfirmed receipts), taken off the points the receipt can
        spend now before the programme's per-receipt limits (docs/state.md, section 5, step 4); 0: none."""
        if held and (type(held) is not int or held < 0):  # (0, the till's case: one test)
            raise ValueError(f"held must be a whole number of points, 0 or more, not {held!r}")
        if not isinstance(receipt, Receipt):
            if type(receipt) is dict and "return_of" in receipt:
                raise ReceiptError("a return is not a sale: refund it with Engine.refund(original outcome, returned "
                                   "lines, customer, now) (docs/state.md, section 7)", "return_of", "LOY506")
            receipt = Receipt.from_dict(receipt)
        if len(receipt.lines) > self._max_lines:
            raise self._too_costly(len(receipt.lines))
        if receipt.currency is not None and receipt.currency != self.currency:
            raise ReceiptError(f"unknown currency {receipt.currency!r}; the programme uses {self.currency}",
                               "currency")
        utc = receipt.utc if now is None else _utc(now)
        if self._quick_ok and not (explain or hints or receipt.stateful or receipt.mix is not None):
            # the stateless path when nobody asks for a trace, hints or detail: the receipt's evaluation, the
            # generated driver, the outcome, and nothing else (``_run`` does the same, and more)
            cu = self._customer(customer, receipt) if customer is not None or self._reads_customer else ANONYMOUS
            r = _open_eval(self._eval, receipt, cu, utc) if self._plain else self._open(receipt, cu, utc)
            self._drive(r, cu, r)
            return self._finish(receipt, r, None)
        if receipt.rewards:
            check_chosen(receipt.rewards, self.ledger.rewards)
        if receipt.mix is not None or self.commerce.taxed:  # docs/commerce.md: priced on the declared basis
            priced = self.commerce.price(receipt)
            outcome = self.commerce.report(self._evaluate(priced, customer, utc, explain, budgets, hints, stock,
                                                          redemptions, held), priced)
        else:
            outcome = self._evaluate(receipt, customer, utc, explain, budgets, hints, stock, redemptions, held)
        return outcome if self.till_messages is None else self.till_messages.attach(outcome, customer, utc)

    def _evaluate(self, receipt: Receipt, customer: CustomerState | dict[str, Any] | None, utc: int, explain: bool,
                  budgets: Mapping[str, int] | None, hints: bool, stock: Mapping[str, int] | None,
                  redemptions: Mapping[str, int] | None, held: int = 0) -> Outcome:
        if not (self._stateful or receipt.stateful):
            cu = self._customer(customer, receipt) if customer is not None or self._reads_customer else ANONYMOUS
            return self._run(receipt, cu, utc, explain, None, (), (), hints)
        state = customer if type(customer) is CustomerState else self._state(customer, receipt.customer_id)
        lead: tuple[dict[str, Any], ...] = ()
        lead_events: tuple[dict[str, Any], ...] = ()
        if state is None:
            cu = ANONYMOUS
        else:
            changes, events = advance(state, self.bundle.state, utc, self.local_date)  # (``_advance``)
            if changes or events:
                lead, lead_events = tuple(changes), tuple(events)
            if lead:
                state = apply(state, lead, self.bundle.state)
            cu = view(state, self.bundle.state, utc, self.local_date)
            if self._segments is not None:
                cu = self._segments.view(state, cu, utc)
        expired = [c["code"] for c in lead if c["op"] == "coupon_expire"] if receipt.coupons else ()
        session = self.ledger.open(receipt.receipt_id, state, cu, utc, receipt.lines, receipt.coupons, budgets,
                                   expired, receipt.rewards, stock, redemptions, receipt.store, held)
        if explain or self._exclusive or (receipt.mix is not None and not receipt.mix.plain):
            return self._run(receipt, cu, utc, explain, session, lead, lead_events, hints)
        return self._run_state(receipt, cu, utc, session, lead, lead_events, hints)

    _state_drive: stateful.StatefulDriver | None = None  # the stateful driver, made on first use (``_run_state``)

    def _run_state(self, receipt: Receipt, cu: CustomerView, utc: int, session: Session,
                   lead: tuple[dict[str, Any], ...], lead_events: tuple[dict[str, Any], ...], hints: bool) -> Outcome:
        """``_run`` with a session, no trace, no exclusive campaigns and a receipt of one kind: the groups
        run by one generated function (runtime/stateful.py), which does what ``_group`` does for each."""
        drive = self._state_drive
        if drive is None:
            drive = self._state_drive = stateful.build(self.groups, self._gated, self._group, self.pricer, self._apply,
                                                       self._stack, bool(self._live), self._code_cache)[0]
        r = self._open(receipt, cu, utc)
        r.requests = {}
        drive(r, cu, r, session)
        if hints:
            r.hints = self._hints(r, cu, r)
        return self._settle(receipt, session, r, None, lead, lead_events)

    def _open(self, receipt: Receipt, cu: CustomerView, utc: int) -> _Eval:
        """The receipt's evaluation: its predicates' cache, its local time (``_local``, its cached offset
        read by ``_Eval``) and, with experiments, the customer's arms."""
        r = _open_eval(self._eval, receipt, cu, utc)
        if self._live:
            r.matches.r = r  # type: ignore[attr-defined]  # (an ``_LiveMatches``)
        if self._experiments:
            r.arms = self._arms(r, cu.id or receipt.customer_id)
        return r

    def _run(self, receipt: Receipt, cu: CustomerView, utc: int, explain: bool, session: Session | None,
             lead: tuple[dict[str, Any], ...], lead_events: tuple[dict[str, Any], ...], hints: bool = False) -> Outcome:
        """Groups and campaigns (docs/bundle.md); with a session also the state's gates, the payment and
        the changes (docs/state.md, section 5)."""
        r = t = self._open(receipt, cu, utc)
        if session is not None:
            t.requests = {}
        seen = receipt.mix is not None and not receipt.mix.plain
        if seen:  # lines campaigns do not see, totals by kind
            self.commerce.see(r, receipt, cu)
        # the common case: one generated driver (runtime/driver.py), which reads the lines of ``r.matches``;
        # a receipt of several kinds has its own view (``commerce.see``: ``r.match``), for the general loop
        if session is None and not explain and not seen:
            self._drive(r, cu, t)
            if hints:
                t.hints = self._hints(r, cu, t)
            return self._finish(receipt, t, None)
        customer_id = cu.id or receipt.customer_id
        trace: list[str] | None = [] if explain else None
        if trace is not None:
            trace.append(self._describe_receipt(receipt, r))
            if t.arms is not None:
                trace += self._describe_arms(t.arms, customer_id)
        blocked = bool(self._exclusive) and self._exclusives(r, cu, t, session, trace)
        for group in () if blocked else self.groups:
            self._group(group, r, cu, t, session, trace)
        if hints:
            t.hints = self._hints(r, cu, t)
        if session is not None:
            return self._settle(receipt, session, t, trace, lead, lead_events)
        return self._finish(receipt, t, trace)

    def _exclusives(self, r: _Eval, cu: CustomerView, t: _Eval, session: Session | None,
                    trace: list[str] | None) -> bool:
        """The exclusive campaigns, before every other (runtime/order.py): whether an ``exclusive
        receipt`` one applied, every campaign not yet run then rejected ``blocked_by_exclusive``."""
        for k, (group, scope) in enumerate(self._exclusive):
            effects, applied = len(t.effects), len(t.applied)
            self._group(group, r, cu, t, session, trace)
            if len(t.applied) == applied:
                continue
            if scope == "lines":
                if t.floors is None:
                    t.floors = [0] * len(t.left)
                ordering.lock(t.effects[effects:], t.left, t.floors)
                continue
            winner = t.applied[-1]
            detail = f"{winner} is exclusive on the receipt" if trace is not None else None
            for other in (*(g for g, _ in self._exclusive[k + 1:]), *self.groups):
                for camp in other.campaigns:
                    t.rejected.append(camp.reject("blocked_by_exclusive", detail))
            if trace is not None:
                trace.append(f"exclusive: {winner} blocks every other campaign")
            return True
        return False

    def _hints(self, r: _Eval, cu: CustomerView, t: _Eval) -> tuple[dict[str, Any], ...]:
        """For each campaign whose condition was false: what the receipt lacks, when it nearly applied."""
        found = (self._explainer.gap(self._by_name[rej.campaign], r, cu) for rej in t.rejected
                 if rej.reason == "condition_false")
        return tuple(hint._asdict() for hint in found if hint is not None)

    def _finish(self, receipt: Receipt, t: _Eval, trace: list[str] | None) -> Outcome:
        """A stateless outcome: the accruals' totals now, their points per line when the outcome's lines
        or effects are first read (``_Eval.points_by_line``: the same rows an eager allocation gives)."""
        effects: Rows[Effect]
        pending = t.pending
        if pending:
            totals = t.points_totals()
            if trace is not None:
                trace += [f"points: {camp.name} gives {total}" for (camp, *_), total in zip(pending, totals, strict=True)]
            points, by_line = sum(totals), t.points_by_line
            effects = lazy_rows(Effect, tuple(t.effects), t.points_rows)
        else:
            points, effects, by_line = 0, plain_rows(Effect, tuple(t.effects)), None
        left = t.left
        payable = sum(left)
        return _new(Outcome, (receipt.receipt_id, self.currency, receipt.total, receipt.total - payable, payable, points,
                              line_rows(receipt.lines, t.amounts, left, by_line), effects, tuple(t.applied),
                              tuple(t.rejected), tuple(trace) if trace else (), None, None, None, None, t.arms, t.hints,
                              None, None, None))

    def _group(self, group: _Group, r: _Eval, cu: CustomerView, t: _Eval, session: Session | None,
               trace: list[str] | None) -> None:
        """One group's campaigns, the general way: with state gates, budgets and the trace (the
        stateless path without a trace runs the generated driver instead, which does the same)."""
        lines, n, ordered, pricer, gated = r.lines, r.nlines, r.ordered, self.pricer, self._gated
        amounts, left, floors, rejected = t.amounts, t.left, t.floors, t.rejected
        r.basis = basis = amounts if group.original else left[:]
        r.payable = sum(left)
        if self._live:
            r.now = left[:]
        if trace is not None:
            trace.append(self._describe_group(group, r.payable))
        candidates: list[_Candidate] = []
        # A campaign whose only static filter is SKUs that are not on the receipt is not run: it gets
        # the rejection its code would give first, in its place (a slice of prebuilt rejections).
        campaigns, skipped, prev = group.campaigns, group.skipped, -1
        positions = group.everything if trace is not None or not group.by_index else \
            group.positions(r.touched if r.touched is not None else r.touch())
        for pos in positions:
            if pos != prev + 1:
                rejected += skipped[prev + 1 : pos]
            prev = pos
            camp = campaigns[pos]
            if camp.sku_gated and not r.wants(camp.index):  # (only when not skipped by positions)
                rejected.append(camp.rejections["no_eligible_items"] if trace is None
                                else self._explain_rejection(camp, "no_eligible_items", r, trace))
                continue
            r.vec = r.acc = None
            r.budget = camp.applications
            max_discount = camp.max_discount
            if session is not None:
                r.asks = None
                if camp.index in gated:
                    reason = session.gate(camp.name, camp.state)
                    if reason is not None:
                        rejected.append(self._state_rejection(camp, reason, session, trace))
                        continue
                    if camp.budgeted:
                        room = session.discount_room(camp.name, camp.state)
                        if room is not None and (max_discount is None or room < max_discount):
                            max_discount = room
            reason = camp.run(r, cu)
            if reason is not None:
                rejected.append(camp.rejections[reason] if trace is None
                                else self._explain_rejection(camp, reason, r, trace))
                continue
            discount, accruals, wants = r.vec, r.acc, r.asks
            if camp.reward is not None and session is not None:  # its price, asked for last (docs/rewards.md)
                wants = [*(wants or ()), ("reward", camp.name, camp.reward.points)]
            if wants and session is not None and not session.reserve(wants):
                rejected.append(self._state_rejection(camp, session.shortage, session, trace))
                continue
            requested = sum(discount) if discount is not None else 0
            if requested and max_discount is not None and requested > max_discount:
                assert discount is not None
                if trace is not None:
                    trace.append(f"  {camp.name}: max discount {self._money(max_discount)} "
                                 f"(the mechanic gives {self._money(requested)})")
                discount = pricer.cap(discount, max_discount, lines, ordered)
                requested = max_discount
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
            if not requested and not points and not wants:
                rejected.append(camp.rejections["no_effect"] if trace is None
                                else self._explain_rejection(camp, "no_effect", r, trace))
                continue
            candidates.append((camp, discount if requested else None, accruals or [], points, points_vec, wants))
            if trace is not None:
                trace.append(f"  {camp.name}: candidate, discount {self._money(requested)}, points {points}")
        if prev + 1 < len(campaigns):
            rejected += skipped[prev + 1 :]

        if len(candidates) > 1 and group.stacking != "stack_all":
            chosen = self._stack(group, candidates, left, floors, rejected, trace)
            if session is not None:
                for cand in candidates:
                    if cand[5] and not any(cand is c for c in chosen):
                        session.release(cand[5])
            candidates = chosen
        for camp, discount, accruals, _, points_vec, wants in candidates:
            t.applied.append(camp.name)
            if discount is not None:
                t.effects.append(self._apply(camp, discount, left, floors, trace))
            if accruals:
                t.pending.append((camp, accruals, points_vec, group.original, None))
            if wants:
                t.requests[camp.name] = wants

    def _head(self, receipt: Receipt, t: _Eval, points_by_line: list[int] | None, points_total: int,
              trace: list[str] | None) -> tuple[Any, ...]:
        """The outcome's fields of docs/bundle.md (the state's four follow)."""
        left = t.left
        payable = sum(left)
        return (receipt.receipt_id, self.currency, receipt.total, receipt.total - payable, payable, points_total,
                LineRows(receipt.lines, t.amounts, left, points_by_line),
                Rows(Effect, tuple(t.effects)), tuple(t.applied), tuple(t.rejected), tuple(trace) if trace else ())

    def _settle(self, receipt: Receipt, session: Session, t: _Eval, trace: list[str] | None,
                lead: tuple[dict[str, Any], ...], lead_events: tuple[dict[str, Any], ...]) -> Outcome:
        """Steps 4-6 of docs/state.md section 5: the payment, accruals on what is paid, the changes."""
        amounts, left, effects, applied, pending, requests = t.amounts, t.left, t.effects, t.applied, t.pending, \
            t.requests
        lines, n, ordered, pricer = receipt.lines, len(left), receipt.ordered, self.pricer
        if receipt.rewards:  # catalogue rewards take their points before the payment by points (docs/rewards.md)
            session.spend_rewards(left, [(name, requests.get(name, ())) for name in applied],
                                  {row[0]: row[4] for row in effects if row[2] == "discount"}, t.rejected)
        payment = session.pay(left, receipt.redeem, receipt.certificates)
        paid_basis: tuple[list[int], list[int]] | None = None
        redemption = self.bundle.state.redemption
        if payment.points and redemption is not None and not redemption.accrue_on_redeemed:
            # accruals on what is paid: less the part paid by points (both bases)
            by_points = payment.by_points  # (n parts: ``pay``'s own)
            paid_basis = (list(map(sub, amounts, by_points)), list(map(sub, left, by_points)))
        if payment.points and redemption is not None and not redemption.earn_with_burn:
            paid_basis = ([0] * n, [0] * n)  # `accrue never when redeemed`: a receipt that burns earns nothing
        if trace is not None and (payment.points or payment.certificates):
            trace.append(f"payment: {payment.points} points pay {self._money(sum(payment.by_points))}, "
                         f"certificates {self._money(sum(payment.by_certificates))}")
        given: dict[str, tuple[int, int]] = {row[0]: (row[5], 0) for row in effects}  # discount, points
        points_by_line: list[int] | None = None
        points_total = 0
        accrued: list[tuple[str, Sequence[int]]] = []
        guard = None if not self._guarded else \
            card_guard(self._fraud, self._people, session.state, receipt.channel, session.period, session.utc)
        for camp, accruals, vec, original, _ in pending:
            if paid_basis is not None:  # the payment changed the basis: every accrual anew
                vec = pricer.points(accruals, paid_basis[0] if original else paid_basis[1], n, ordered)
                if camp.max_points is not None:
                    vec = pricer.cap(vec, camp.max_points, lines, ordered)
            elif vec is None:  # basis discounted: on what is finally paid
                vec = pricer.points(accruals, left, n, ordered)
                if camp.max_points is not None:
                    vec = pricer.cap(vec, camp.max_points, lines, ordered)
            if camp.budgeted:
                discount = given.get(camp.name, (0, 0))[0]
                room = session.points_room(camp.name, camp.state, discount)
                if room is not None:
                    vec = pricer.cap(vec, room, lines, ordered)
            if guard is not None:
                wanted, room = sum(vec), guard.room()
                target = guard.target(wanted)
                room = target if room is None else min(room, target)
                if wanted > room:
                    vec = pricer.cap(vec, room, lines, ordered)
                guard.took(target, sum(vec))
            points = tuple(vec)
            total = sum(points)
            points_total += total
            points_by_line = list(points) if points_by_line is None else list(map(add, points_by_line, points))
            effects.append((camp.name, camp.group, "points", points, points, total, 0))
            accrued.append((camp.name, points))
            given[camp.name] = (given.get(camp.name, (0, 0))[0], total)
            if trace is not None:
                trace.append(f"points: {camp.name} gives {total}")
        payable = sum(left)
        rows = LineRows(receipt.lines, amounts, left, points_by_line)
        rows_of_effects = Rows(Effect, tuple(effects))
        head = (receipt.receipt_id, self.currency, receipt.total, receipt.total - payable, payable, points_total, rows,
                rows_of_effects, tuple(applied), tuple(t.rejected), tuple(trace) if trace else ())  # as ``_head``
        record, coupons, changes, events = session.finish(
            left, payment, accrued, [(name, requests.get(name, ())) for name in applied], given)
        record["advance"] = len(lead)
        if not self.lazy_changes or self._segments is not None or guard is not None:
            changes = list(map(as_json, changes))  # the typed ones' JSON (state.changes)
        if self._segments is not None and session.state is not None:
            changes, events = self._segment_changes(session, receipt, left, coupons, changes, events)
        flags = None
        if guard is not None:
            changes = [*changes, *guard.changes(receipt.receipt_id)]
            flags = guard.flags()
            if trace is not None:
                trace += [f"anti-fraud: {f['flag']} (limit {f['limit']})" for f in flags]
        made = (*lead, *changes)
        return _new(Outcome, (*head, record, coupons, Changes(made) if self.lazy_changes else made,
                              (*lead_events, *events), t.arms, t.hints, None, flags, None))

    def _segment_changes(self, session: Session, receipt: Receipt, left: Sequence[int], coupons: Any,
                         changes: Any, events: Any) -> tuple[Any, Any]:
        """docs/segments.md: the receipt's ``history`` change, and the segments entered and left by it."""
        segments, state = self._segments, session.state
        assert segments is not None and state is not None
        used = sum(1 for c in coupons or () if c.get("status") == "redeemed")
        change = segments.history_change(session.receipt_id, session.day, receipt.lines, left, session.view, used)
        changes = [*changes, change] if change is not None else list(changes)
        return changes, [*events, *segments.events(state, session.view, changes, session.utc)]

    def _too_costly(self, lines: int) -> ReceiptError:
        b = self.bundle
        limit = f"the engine's max_cost of {self.max_cost:,}" if self.max_cost is not None else \
            f"MAX_STATIC_COST ({MAX_STATIC_COST:,}), the bound of any evaluation"
        return ReceiptError(f"{lines:,} lines cost {b.cost_fixed + b.cost_per_line * lines:,} units under this "
                            f"programme ({b.cost_fixed:,} + {b.cost_per_line:,} per line), more than {limit}: "
                            f"at most {self._max_lines:,} lines", "lines", "LOY520")

    def _arms(self, r: _Eval, customer_id: str | None) -> dict[str, str | None]:
        """The customer's arm of each experiment (None: anonymous, in no arm), for the outcome; sets
        ``r.in_arms``, the arms whose campaigns the receipt gets (an anonymous one: the declared rule's)."""
        own = {x.name: x.assign(customer_id) for x in self._experiments}
        r.in_arms = tuple(x.gate(own[x.name]) for x in self._experiments)
        return own

    def _describe_arms(self, arms: dict[str, str | None], customer_id: str | None) -> list[str]:
        lines = []
        for x in self._experiments:
            arm = arms[x.name]
            if arm is not None:
                lines.append(f"experiment {x.name}: arm {arm} (bucket {bucket(x.salt, customer_id or '')})")
            else:
                gets = f"the campaigns of arm {x.anonymous}" if x.anonymous else "none of its campaigns"
                lines.append(f"experiment {x.name}: anonymous receipt, in no arm; gets {gets}")
        return lines

    # ------------------------------------------------------------------------------------ state

    def advance(self, customer: CustomerState | dict[str, Any], now: dt.datetime) -> tuple[
            tuple[dict[str, Any], ...], tuple[dict[str, Any], ...]]:
        """What time does to the customer's state up to ``now`` (lots activating and expiring, counters
        resetting, coupons and certificates expiring, tier reviews): (changes, events)."""
        state = self._state(customer, None)
        if state is None:
            raise CustomerError("advance needs a customer state")
        return self._advance(state, _utc(now))

    def refund(self, original: Outcome | dict[str, Any], returned: Mapping[Any, Any] | None,
               customer: CustomerState | dict[str, Any] | None, now: dt.datetime, return_id: str | None = None,
               ) -> Refund:
        """A return (docs/state.md, section 7): ``returned`` maps line_no -> quantity as receipt JSON
        writes it (None: everything not yet returned); ``return_id`` names the return (the host's id of
        the return document; None: made from the receipt id and the quantities). The changes undo the
        original ones in proportion; time events due by ``now`` lead them (``customer`` None: an anonymous
        buyer, whose return gives back only programme-wide state; a later partial return of one takes its
        return record, ``ledger.refund.anonymous_record``, docs/state.md section 7). Errors are ``RefundError``:
        LOY510 for a return the customer's state has applied already, else LOY503."""
        state = self._state(customer, None)
        utc = _utc(now)
        lead: tuple[dict[str, Any], ...] = ()
        lead_events: tuple[dict[str, Any], ...] = ()
        if state is not None:
            lead, lead_events = self._advance(state, utc)
            if lead:
                state = apply(state, lead, self.bundle.state)
        result = refund(self.ledger, original, returned, state, utc, return_id)
        if not lead and not lead_events:
            return result
        return result._replace(changes=(*lead, *result.changes), events=(*lead_events, *result.events))

    def receive(self, transfer: Mapping[str, Any], customer: CustomerState | dict[str, Any],
                now: dt.datetime) -> tuple[dict[str, Any], ...]:
        """The changes a ``transfer`` (another customer's referral reward, docs/state.md) makes to the
        receiving customer at ``now``: time events due by then lead the new lot. The host applies them
        to the receiver's state, as it applies an outcome's; the first remembers the transfer by its lot id,
        so it is received once. Errors are ``StateError``: LOY510 for a transfer received already, else
        LOY503."""
        state = self._state(customer, None)
        if state is None:
            raise CustomerError("a transfer needs the receiving customer's state")
        utc = _utc(now)
        lead, _events = self._advance(state, utc)
        if lead:
            state = apply(state, lead, self.bundle.state)
        return (*lead, *receive(self.ledger, state, transfer, utc))

    def local_date(self, utc: int) -> int:
        """The programme's local date (ordinal) at ``utc`` (seconds since 0001-01-01 UTC)."""
        offset = self._offsets.get(utc // 86400)  # ``_local``'s cached offset: a replay asks several times a receipt
        return self._local(utc)[0] if offset is None else (utc + offset) // 86400

    def _advance(self, state: CustomerState, utc: int) -> tuple[tuple[dict[str, Any], ...], tuple[dict[str, Any], ...]]:
        changes, events = advance(state, self.bundle.state, utc, self.local_date)
        return tuple(changes), tuple(events)

    def _state(self, customer: CustomerState | dict[str, Any] | None, customer_id: str | None) -> CustomerState | None:
        """The customer as a state: a dict is validated; no customer but a card on the receipt is a new
        customer with an empty state; neither is anonymous (None)."""
        if customer is None:
            return None if customer_id is None else CustomerState(id=customer_id)
        if isinstance(customer, CustomerState):
            return customer
        if isinstance(customer, dict):
            return CustomerState.from_dict(customer, self.bundle.state)
        raise CustomerError(f"a customer is a CustomerState or a JSON object, got {type(customer).__name__}")

    def _state_rejection(self, camp: _Campaign, reason: str, session: Session, trace: list[str] | None) -> Rejection:
        if trace is None:
            return camp.rejections[reason]
        detail = session.notes.get(camp.name) if reason != "insufficient_balance" else \
            "a counter it spends from has too little"
        trace.append(f"  {camp.name}: {reason}" + (f" ({detail})" if detail else ""))
        return camp.reject(reason, detail)

    # ------------------------------------------------------------------------------------ stacking

    def _stack(self, group: _Group, candidates: list[_Candidate], left: list[int], floors: list[int] | None,
               rejected: list[Rejection], trace: list[str] | None) -> list[_Candidate]:
        """Which candidates apply, by the group's stacking mode (they come in priority order); the
        others lose to stacking."""
        mode = group.stacking
        if mode == "stack_up_to":
            limit = group.limit
            chosen, lost = candidates[:limit], candidates[limit:] if limit is not None else []
        elif mode == "first_by_priority":
            chosen, lost = candidates[:1], candidates[1:]
        else:
            worth = [self._benefit(c, left, floors) for c in candidates]
            if mode == "best_for_customer":
                best = max(worth)
            else:  # lowest_discount, among the candidates that give something
                best = min((w for w in worth if w > 0), default=worth[0])
            k = worth.index(best)  # index(): the first, i.e. by priority, then order
            chosen, lost = [candidates[k]], candidates[:k] + candidates[k + 1 :]
            if trace is not None:
                trace.append(f"  {mode}: " + ", ".join(
                    f"{c[0].name} worth {self._money(w // self._points_scale)}"
                    for c, w in zip(candidates, worth, strict=True)))
        if trace is None:
            rejected += [cand[0].rejections["lost_to_stacking"] for cand in lost]
            return chosen
        winners = ", ".join(c[0].name for c in chosen)
        for cand in lost:
            camp = cand[0]
            detail = f"{group.name} is {mode}; applied: {winners}"
            rejected.append(camp.reject("lost_to_stacking", detail))
            trace.append(f"  {camp.name}: lost_to_stacking ({detail})")
        return chosen

    def _benefit(self, cand: _Candidate, left: list[int], floors: list[int] | None) -> int:
        """What the candidate is worth to the customer, x 10^points_minor: its discount as far as the
        lines can still take it (with ``redistribute floors``, what one line cannot take goes to its
        other lines: as far as they all can), plus its points at their declared value."""
        camp, want, _, points, _, _ = cand
        if floors is None and not camp.source.redistribute:  # a line takes min(its part, what is left), left >= 0
            return (sum(map(min, want, left)) if want else 0) * self._points_scale + points * self._point_value
        discount = rooms = 0
        for i, amount in enumerate(want or ()):
            if amount:
                room = max(left[i] - (floors[i] if floors is not None else 0), 0)
                discount += min(amount, room)
                rooms += room
        if want and camp.source.redistribute:
            discount = min(sum(want), rooms)
        return discount * self._points_scale + points * self._point_value

    def _apply(self, camp: _Campaign, want: list[int], left: list[int], floors: list[int] | None,
               trace: list[str] | None) -> tuple[Any, ...]:
        """Take the discount off each line, at most down to zero (or the line's minimum price)."""
        if floors is None and all(map(le, want, left)):  # every line can take its part: nothing is capped
            left[:] = map(sub, left, want)
            requested = tuple(want)
            total = sum(requested)
            if trace is not None:
                trace.append(f"  {camp.name}: applied discount {self._money(total)}")
            return camp.name, camp.group, "discount", requested, requested, total, 0
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
        if got is not None and camp.source.redistribute:  # docs/order.md: the cut goes to its other lines
            ordering.redistribute(want, got, left, floors, total - sum(got), self.pricer.mode)
        given = requested if got is None else tuple(got)
        capped = 0 if got is None else total - sum(given)
        if trace is not None:
            note = f", capped {self._money(capped)} (lines had too little left)" if capped else ""
            trace.append(f"  {camp.name}: applied discount {self._money(total - capped)}{note}")
        return camp.name, camp.group, "discount", requested, given, total - capped, capped  # an Effect row

    # ------------------------------------------------------------------------------------ helpers

    def _customer(self, customer: CustomerState | dict[str, Any] | None, receipt: Receipt) -> CustomerView:
        if customer is None:
            if receipt.customer_id is None:
                return ANONYMOUS
            return CustomerView(True, receipt.customer_id, "", frozenset(), {})
        if isinstance(customer, CustomerState):
            return customer.view
        return CustomerState.from_dict(customer).view if isinstance(customer, dict) else _bad_customer(customer)

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

    def _explain_rejection(self, camp: _Campaign, reason: str, r: _Eval, trace: list[str]) -> Rejection:
        detail = self._detail(camp, reason, r)
        trace.append(f"  {camp.name}: {reason}" + (f" ({detail})" if detail else ""))
        return camp.reject(reason, detail)

    def _detail(self, camp: _Campaign, reason: str, r: _Eval) -> str | None:
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
        if reason == "not_in_arm" and camp.source.arm is not None:
            gate = camp.source.arm
            arm = r.in_arms[gate.experiment]
            gets = f"arm {arm}" if arm is not None else "no arm (anonymous)"
            return f"{self._experiments[gate.experiment].name}: the receipt gets {gets}; " \
                   f"the campaign joins {', '.join(sorted(gate.arms))}"
        if reason in ("condition_false", "audience"):
            return self._explainer.why(camp.source, "condition" if reason == "condition_false" else "audience", r,
                                       r.cu)
        return None

    def _describe_group(self, group: _Group, payable: int) -> str:
        g = group.source
        limit = f" {g.stacking_limit}" if g.stacking == "stack_up_to" else ""
        return f"group {g.name}: priority {g.priority}, {g.stacking}{limit}, basis {g.basis}, payable {self._money(payable)}"

    def _describe_receipt(self, receipt: Receipt, r: _Eval) -> str:
        day = dt.date.fromordinal(r.date)
        return (f"receipt {receipt.receipt_id}: {day.isoformat()} {_clock(r.time)} {_WEEKDAYS[r.weekday]} "
                f"({self.bundle.settings.timezone}), store {r.store}, channel {r.channel}, {r.nlines} lines, "
                f"total {self._money(r.total)}, customer {r.cu.id or receipt.customer_id or 'anonymous'}")

    def _money(self, value: int) -> str:
        return minor_text(value, self.bundle.settings.minor)

    # --- events (docs/triggers.md, "Tick"): membership by time alone, for triggers.tick
    def segments_at(self, state: CustomerState, utc: int) -> frozenset[str]:
        """The declared segments ``state`` is in at ``utc`` (empty for a programme without segments)."""
        if self._segments is None:
            return frozenset()
        cu = self._segments.view(state, view(state, self.bundle.state, utc, self.local_date), utc)
        return self._segments.membership(cu)


def _lines_within(bundle: Bundle, max_cost: int | None) -> int:
    """The most lines a receipt may have for its static cost to stay within ``max_cost``."""
    if max_cost is None:
        max_cost = MAX_STATIC_COST
    if type(max_cost) is not int or max_cost < bundle.cost_fixed:
        raise LoyaError("LOY520", f"max_cost {max_cost!r} is less than the programme's fixed cost of "
                                  f"{bundle.cost_fixed:,} units per receipt: no receipt could be evaluated")
    if not bundle.cost_per_line:
        return MAX_RECEIPT_LINES
    return min(MAX_RECEIPT_LINES, (max_cost - bundle.cost_fixed) // bundle.cost_per_line)


def _utc(now: dt.datetime) -> int:
    if not isinstance(now, dt.datetime) or now.utcoffset() is None:
        raise ReceiptError("expected a datetime with a UTC offset", "now")
    return utc_seconds(now)


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}"


def _bad_customer(customer: object) -> CustomerView:
    raise CustomerError(f"a customer is a Customer or a JSON object, got {type(customer).__name__}")
