"""The bounded search for witnesses, shared by all pairs (docs/collisions.md, "Method").

Pairs are grouped by the *context* both campaigns' filters allow (a local time, a store, a channel).
Each context's receipts hold the lines of every campaign with an open pair there, at a grid of
quantities and prices, for no customer and for customers of the tiers the audiences name. Every
receipt is evaluated once with all campaigns, and every open pair whose two campaigns fire on it is
met: one evaluation can settle thousands of pairs, where a search per pair would repeat it.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from loyadsl.analysis.filters import tiers
from loyadsl.compile import ir
from loyadsl.compile.footprint import _children, _predicates, footprint
from loyadsl.runtime import Engine, LoyaError
from loyadsl.runtime.model import Outcome

QUANTITIES = (3, 1, 6)  # 3 first: it meets `units(...) >= 3` and most thresholds
PRICES = (10_000, 100_000, 1_000_000)  # minor units: around 100, 1,000 and 10,000 of the currency
CROWD = 8  # campaigns in a context past which its receipts try one price only
MAX_CUSTOMERS = 3  # known customers tried per context, besides no customer

Pair = tuple[str, str]


@dataclass(frozen=True)
class Context:
    when: dt.datetime
    store: str
    channel: str


@dataclass(frozen=True)
class Witness:
    receipt: dict[str, Any]
    customer: dict[str, Any] | None
    resolution: dict[str, Any]


def fired(outcome: Outcome) -> set[str]:
    """Campaigns whose conditions held: applied, or eligible and lost to their group's stacking."""
    return set(outcome.applied) | {r.campaign for r in outcome.rejected if r.reason == "lost_to_stacking"}


class Search:
    """Witnesses for open pairs, and the campaigns seen firing at all (``fired_any``)."""

    def __init__(self, programme: ir.Programme, engine: Engine) -> None:
        self.by_name = {c.name: c for c in programme.campaigns}
        self.engine = engine
        self.zone = ZoneInfo(programme.settings.timezone)
        self.fired_any: set[str] = set()
        self.evaluations = 0
        self._items = {c.name: _items(c) for c in programme.campaigns}
        self._context: dict[tuple[Any, ...], Context | None] = {}

    def shared(self, pairs: Sequence[Pair], quick: bool = False) -> dict[Pair, Witness]:
        """One pass over the contexts, largest first; a pair met on any receipt is closed. ``quick``:
        one quantity and price per customer (a first pass that settles most pairs cheaply)."""
        by_context: dict[Context, list[Pair]] = defaultdict(list)
        points = Points(list(self.by_name.values()), self.zone)
        for a, b in pairs:
            ctx = points.common(a, b) or self.context(a, b)
            if ctx is not None:
                by_context[ctx].append((a, b))
        open_pairs = {frozenset(p): p for p in pairs}
        found: dict[Pair, Witness] = {}
        for ctx, members in sorted(by_context.items(), key=lambda kv: -len(kv[1])):
            mine = {frozenset(p) for p in members} & open_pairs.keys()
            if mine:
                names = _names(p for p in members if frozenset(p) in mine)  # in a stable order
                self._run(ctx, names, open_pairs, found, mine, quick)
        return found

    def pair(self, a: str, b: str) -> Witness | None:
        """The search of one pair alone: only its two campaigns' lines, so no other line gets in the way."""
        ctx = self.context(a, b)
        if ctx is None:
            return None
        found: dict[Pair, Witness] = {}
        self._run(ctx, [a, b], {frozenset((a, b)): (a, b)}, found, {frozenset((a, b))})
        return found.get((a, b))

    def candidates(self, names: Sequence[str]) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
        """Receipts with their customers on which these campaigns may fire together: the time, store and
        channel the first two share, the customers their audiences name, the grid of quantities and prices."""
        ctx = self.context(names[0], names[-1]) if names else None
        if ctx is None:
            return
        for customer, receipt in itertools.product(self._customers(list(names)), self._receipts(ctx, list(names), False)):
            yield ({**receipt, "customer_id": customer["id"]} if customer is not None else receipt), customer

    def confirm(self, receipt: dict[str, Any], customer: dict[str, Any] | None, a: str, b: str) -> Witness | None:
        """The witness, if the runtime fires both campaigns on this receipt and customer."""
        outcome = self._evaluate(receipt, customer)
        if outcome is None or not {a, b} <= fired(outcome):
            return None
        return Witness(receipt, customer, resolution(outcome))

    def _run(self, ctx: Context, names: list[str], open_pairs: dict[frozenset[str], Pair],
             found: dict[Pair, Witness], mine: set[frozenset[str]], quick: bool = False) -> None:
        """Evaluate the context's receipts until the pairs it is for (``mine``) are all met; every
        open pair met on the way is closed too."""
        for customer, receipt in itertools.product(self._customers(names), self._receipts(ctx, names, quick)):
            if customer is not None:
                receipt = {**receipt, "customer_id": customer["id"]}
            outcome = self._evaluate(receipt, customer)
            if outcome is None:
                continue
            now = fired(outcome)
            self.fired_any |= now
            met = _met(now, open_pairs)
            if met:
                witness = Witness(receipt, customer, resolution(outcome))
                for key in met:
                    found[open_pairs.pop(key)] = witness
                mine.difference_update(met)
            if not mine:
                return

    def _evaluate(self, receipt: dict[str, Any], customer: dict[str, Any] | None) -> Outcome | None:
        self.evaluations += 1
        try:
            return self.engine.evaluate(receipt, customer)
        except LoyaError:
            return None

    def context(self, a: str, b: str) -> Context | None:
        """A time, store and channel both campaigns' filters allow (None: none found)."""
        x, y = self.by_name[a], self.by_name[b]
        key = (x.dates, x.weekdays, x.hours, x.stores, x.channels, y.dates, y.weekdays, y.hours, y.stores, y.channels)
        if key not in self._context:
            when = _common_time(x, y, self.zone)
            store = _pick(x.stores, y.stores, "S001")
            channel = _pick(x.channels, y.channels, "pos")
            ok = when is not None and store is not None and channel is not None
            self._context[key] = Context(when, store, channel) if ok else None  # type: ignore[arg-type]
        return self._context[key]

    def _customers(self, names: list[str]) -> list[dict[str, Any] | None]:
        """Known customers with the tiers and the segments the audiences name, then no customer."""
        found = [tiers(self.by_name[n]) for n in names]
        pool = sorted(set().union(*[t for t in found if t is not None])) or [""]
        wanted: set[str] = set()
        for n in names:
            if self.by_name[n].audience is not None:
                _strings(self.by_name[n].audience, wanted)  # type: ignore[arg-type]
        witness = self._witness_id(names)
        customers: list[dict[str, Any] | None] = [
            {"id": witness, "tier": t, "segments": sorted(wanted)} for t in pool[:MAX_CUSTOMERS]]
        return [*customers, None]  # a known customer first: most audiences want one

    def _witness_id(self, names: list[str]) -> str:
        """A customer id in an arm that each of the campaigns joins, of every experiment they join (as many
        campaigns as one id can serve: the first ids that serve them all, else the first campaign's)."""
        gates = [g for n in names if (g := self.by_name[n].arm) is not None]
        if not gates:
            return "C-WITNESS"
        experiments = {x.name: x for x in self.engine.bundle.experiments}
        for wanted in (gates, gates[:1]):
            for k in range(1_000):
                candidate = "C-WITNESS" if k == 0 else f"C-WITNESS-{k}"
                if all(experiments[g.experiment].assign(candidate) in g.arms for g in wanted):
                    return candidate
        return "C-WITNESS"

    def _receipts(self, ctx: Context, names: list[str], quick: bool) -> Iterator[dict[str, Any]]:
        items = list(dict.fromkeys(item for n in names for item in self._items[n])) or [("SKU-ANY", "any", "", None)]
        crowd = quick or len(names) > CROWD  # a crowd's receipt is large at any price
        grid = [(QUANTITIES[0], PRICES[1])] if quick else itertools.product(QUANTITIES, PRICES[1:2] if crowd else PRICES)
        for qty, price in grid:
            lines = [{"line_no": i + 1, "sku": sku, "category": cat, "brand": brand, "qty": qty,
                      "unit_price": price, "amount": qty * price, **({"kind": kind} if kind else {})}
                     for i, (sku, cat, brand, kind) in enumerate(items)]
            yield {"receipt_id": "W1", "customer_id": None, "datetime": ctx.when.isoformat(),
                   "store_id": ctx.store, "channel": ctx.channel, "lines": lines}


class Points:
    """Candidate contexts shared by many pairs: each dimension (time, store, channel) has a few
    candidate values, ordered by how many campaigns admit them, and a pair takes the first value of
    each that both its campaigns admit. Admission is a bit mask per campaign, so a pair costs three ANDs."""

    def __init__(self, campaigns: list[ir.ICampaign], zone: ZoneInfo) -> None:
        times = {t for c in campaigns if (t := _common_time(c, c, zone)) is not None}
        stores = {s for c in campaigns if c.stores for s in c.stores.values} | {"S001"}
        channels = {s for c in campaigns if c.channels for s in c.channels.values} | {"pos"}
        self.names = [c.name for c in campaigns]
        self.axes: list[tuple[list[Any], dict[str, int]]] = [
            _axis(campaigns, sorted(times), _admits_time),
            _axis(campaigns, sorted(stores), lambda c, s: _admits(c.stores, s)),
            _axis(campaigns, sorted(channels), lambda c, s: _admits(c.channels, s)),
        ]

    def common(self, a: str, b: str) -> Context | None:
        chosen = []
        for values, masks in self.axes:
            both = masks[a] & masks[b]
            if not both:
                return None
            chosen.append(values[(both & -both).bit_length() - 1])
        return Context(*chosen)


def _axis(campaigns: list[ir.ICampaign], values: list[Any], admits: Any) -> tuple[list[Any], dict[str, int]]:
    table = [[admits(c, v) for v in values] for c in campaigns]
    order = sorted(range(len(values)), key=lambda j: -sum(row[j] for row in table))
    masks = {c.name: sum(1 << k for k, j in enumerate(order) if row[j]) for c, row in zip(campaigns, table, strict=True)}
    return [values[j] for j in order], masks


def _admits_time(c: ir.ICampaign, when: dt.datetime) -> bool:
    day = when.date()
    second = when.hour * 3600 + when.minute * 60 + when.second
    if c.dates and not c.dates[0] <= day.toordinal() <= c.dates[1]:
        return False
    if c.weekdays and day.isoweekday() not in c.weekdays:
        return False
    if c.hours:
        start, end = c.hours
        inside = start <= second < end if start < end else (second >= start or second < end)
        return inside
    return True


def _admits(f: ir.SetFilter | None, value: str) -> bool:
    return f is None or (value in f.values) != f.negated


def resolution(outcome: Outcome) -> dict[str, Any]:
    """How the groups resolved a receipt: who applied, who lost to stacking, the totals."""
    return {"applied": list(outcome.applied),
            "lost": sorted(r.campaign for r in outcome.rejected if r.reason == "lost_to_stacking"),
            "discount_total": outcome.discount_total, "points_total": outcome.points_total}


def _met(now: set[str], open_pairs: dict[frozenset[str], Pair]) -> list[frozenset[str]]:
    """The open pairs among the campaigns that fired, by whichever side is smaller to walk."""
    if len(now) * (len(now) - 1) // 2 < len(open_pairs):
        keys = (frozenset(p) for p in itertools.combinations(sorted(now), 2))
        return [k for k in keys if k in open_pairs]
    return [k for k in open_pairs if k <= now]


def _names(pairs: Iterable[Pair]) -> list[str]:
    return list(dict.fromkeys(n for p in pairs for n in p))


def _strings(e: ir.IExpr, out: set[str]) -> None:
    """The text constants of an audience: the segments (and tiers) a witness customer may need."""
    if isinstance(e, ir.Const) and isinstance(e.value, str):
        out.add(e.value)
    elif isinstance(e, ir.Const) and isinstance(e.value, frozenset):
        out |= {v for v in e.value if isinstance(v, str)}
    for child in _children(e):
        _strings(child, out)


Item = tuple[str, str, str, str | None]  # sku, category, brand, line kind (None: goods)


def _items(c: ir.ICampaign) -> list[Item]:
    """Lines that can match the campaign: two SKUs of each SKU list it names, a line of each of its
    (first two) categories and brands, and a line of each line kind it selects (`on delivery`,
    `lines where kind "service"`: docs/commerce.md)."""
    fp = footprint(c)
    lists: list[frozenset[str]] = []
    _line_lists(c, "sku", lists)
    skus = list(dict.fromkeys(sku for values in lists for sku in sorted(values)[:2]))
    kind_lists: list[frozenset[str]] = []
    _line_lists(c, "kind", kind_lists)
    kinds = sorted({kind for values in kind_lists for kind in values})
    cats, brands = fp["categories"][:2], fp["brands"][:2]
    cat, brand = cats[0] if cats else "any", brands[0] if brands else ""
    out: list[Item] = [(sku, cat, brand, None) for sku in skus]
    out += [(f"SKU-{c.name}-{i}", category, brand, None) for i, category in enumerate(cats)]
    out += [(f"SKU-{c.name}-b{i}", cat, b, None) for i, b in enumerate(brands)]
    out += [(f"SKU-{c.name}-k{i}", cat, brand, kind) for i, kind in enumerate(kinds)]
    return out


def _line_lists(c: ir.ICampaign, field: str, out: list[frozenset[str]]) -> None:
    """The value lists the campaign's predicates test a line field against (``sku in [...]``)."""
    def walk(e: ir.IExpr) -> None:
        if isinstance(e, ir.In) and isinstance(e.item, ir.Load) and e.item.field == field \
                and isinstance(e.collection, ir.Const) and isinstance(e.collection.value, frozenset):
            out.append(e.collection.value)
        for child in _children(e):
            walk(child)
    for pred in _predicates(c):
        walk(pred)


def _pick(x: ir.SetFilter | None, y: ir.SetFilter | None, default: str) -> str | None:
    allowed = [f.values for f in (x, y) if f is not None and not f.negated]
    banned = set().union(*[f.values for f in (x, y) if f is not None and f.negated])
    pool = set.intersection(*map(set, allowed)) if allowed else {default, default + "-other"}
    pool -= banned
    return min(pool) if pool else None


def _common_time(a: ir.ICampaign, b: ir.ICampaign, zone: ZoneInfo) -> dt.datetime | None:
    start = max(d[0] for d in (a.dates, b.dates, (dt.date(2025, 1, 1).toordinal(),)) if d)
    end = min((d[1] for d in (a.dates, b.dates) if d), default=start + 366)
    days = set(a.weekdays or range(1, 8)) & set(b.weekdays or range(1, 8))  # ISO weekdays
    lo = max(h[0] for h in (a.hours, b.hours, (0, 0)) if h)
    second = lo + 60 if (lo + 60) < 86_400 else lo
    for ordinal in range(start, min(end, start + 14) + 1):
        day = dt.date.fromordinal(ordinal)
        if day.isoweekday() in days:
            return dt.datetime.combine(day, dt.time(second // 3600, second % 3600 // 60), zone)
    return None
