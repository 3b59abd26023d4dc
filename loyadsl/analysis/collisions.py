"""Collision analysis: can one receipt and customer satisfy two campaigns at once (docs/collisions.md).

A pair is ``disjoint`` only with a proof read from the campaigns' filters (dates, weekdays, hours,
stores, channels, tiers); ``meet`` only with a witness receipt on which the runtime really fires
both (applied, or eligible and lost to the group's stacking); otherwise ``unknown`` after a bounded
search over generated receipts.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from loyadsl.compile import ir
from loyadsl.compile.footprint import _children, footprint
from loyadsl.runtime import Engine, LoyaError
from loyadsl.runtime.experiments import Experiment
from loyadsl.runtime.model import Outcome

QUANTITIES = (1, 3, 6)
PRICES = (10_000, 100_000, 1_000_000)  # minor units: around 100, 1,000 and 10,000 of the currency


@dataclass(frozen=True)
class Verdict:
    a: str
    b: str
    answer: str  # disjoint | meet | unknown
    reason: str | None = None
    witness: dict[str, Any] | None = None
    resolution: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"a": self.a, "b": self.b, "answer": self.answer}
        for key in ("reason", "witness", "resolution"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out


def analyse(programme: ir.Programme, engine: Engine, pairs: Sequence[tuple[str, str]] | None = None,
            progress: Callable[[str, int, int], None] | None = None) -> list[Verdict]:
    """One verdict per pair of campaigns (all pairs, or the ones asked for); ``progress`` hears
    ("pairs", pairs done, pairs in all) after each."""
    by_name = {c.name: c for c in programme.campaigns}
    if pairs is None:
        pairs = list(itertools.combinations([c.name for c in programme.campaigns], 2))
    zone = ZoneInfo(programme.settings.timezone)
    verdicts = []
    for a, b in pairs:
        verdicts.append(_verdict(by_name[a], by_name[b], engine, zone))
        if progress is not None:
            progress("pairs", len(verdicts), len(pairs))
    return verdicts


def _verdict(a: ir.ICampaign, b: ir.ICampaign, engine: Engine, zone: ZoneInfo) -> Verdict:
    proof = disjoint_reason(a, b)
    if proof is not None:
        return Verdict(a.name, b.name, "disjoint", proof)
    customers = candidate_customers(a, b, _witness_id(a, b, engine.bundle.experiments))
    for customer, receipt in itertools.product(customers, candidate_receipts(a, b, zone)):
        if customer is not None:
            receipt = {**receipt, "customer_id": customer["id"]}
        try:
            outcome = engine.evaluate(receipt, customer)
        except LoyaError:
            continue
        if {a.name, b.name} <= fired(outcome):
            resolution = {"applied": list(outcome.applied),
                          "lost": sorted(r.campaign for r in outcome.rejected if r.reason == "lost_to_stacking"),
                          "discount_total": outcome.discount_total, "points_total": outcome.points_total}
            return Verdict(a.name, b.name, "meet", witness={"receipt": receipt, "customer": customer},
                           resolution=resolution)
    return Verdict(a.name, b.name, "unknown", "no proof of disjointness and no witness in the bounded search")


def fired(outcome: Outcome) -> set[str]:
    """Campaigns whose conditions held: applied, or eligible and lost to their group's stacking."""
    return set(outcome.applied) | {r.campaign for r in outcome.rejected if r.reason == "lost_to_stacking"}


def disjoint_reason(a: ir.ICampaign, b: ir.ICampaign) -> str | None:
    """Why no receipt can satisfy both campaigns' filters, or None when that is not proved."""
    if a.dates and b.dates and (a.dates[1] < b.dates[0] or b.dates[1] < a.dates[0]):
        return "date windows do not overlap"
    if a.weekdays and b.weekdays and not set(a.weekdays) & set(b.weekdays):
        return "weekdays do not overlap"
    if a.hours and b.hours and _hours_disjoint(a.hours, b.hours):
        return "hours do not overlap"
    if _filters_disjoint(a.stores, b.stores):
        return "stores do not overlap"
    if _filters_disjoint(a.channels, b.channels):
        return "channels do not overlap"
    ta, tb = _tiers(a), _tiers(b)
    if ta is not None and tb is not None and not ta & tb:
        return "audience tiers do not overlap"
    if a.arm and b.arm and a.arm.experiment == b.arm.experiment and not set(a.arm.arms) & set(b.arm.arms):
        return f"different arms of experiment {a.arm.experiment}"  # a receipt gets one arm of each
    return None


def _witness_id(a: ir.ICampaign, b: ir.ICampaign, experiments: Sequence[Experiment]) -> str:
    """A customer id in an arm both campaigns join, of every experiment they join (docs/experiments.md)."""
    gates = [c.arm for c in (a, b) if c.arm is not None]
    for k in range(1_000):
        candidate = "C-WITNESS" if k == 0 else f"C-WITNESS-{k}"
        if all(x.assign(candidate) in g.arms for g in gates for x in experiments if x.name == g.experiment):
            return candidate
    return "C-WITNESS"


def _hours_disjoint(x: tuple[int, int], y: tuple[int, int]) -> bool:
    if x[0] >= x[1] or y[0] >= y[1]:  # a window over midnight: not reasoned about
        return False
    return x[1] <= y[0] or y[1] <= x[0]


def _filters_disjoint(x: ir.SetFilter | None, y: ir.SetFilter | None) -> bool:
    if x is None or y is None:
        return False
    if not x.negated and not y.negated:
        return not x.values & y.values
    if not x.negated and y.negated:
        return x.values <= y.values
    if x.negated and not y.negated:
        return y.values <= x.values
    return False


def _tiers(c: ir.ICampaign) -> set[str] | None:
    """Tiers the audience allows (an over-approximation: the union of its conjuncts' tiers), or None."""
    audience = footprint(c)["audience"]
    if not audience or not audience["tiers"]:
        return None
    return {str(t) for t in audience["tiers"]}


def candidate_customers(a: ir.ICampaign, b: ir.ICampaign, witness: str = "C-WITNESS") -> list[dict[str, Any] | None]:
    """No customer, then known customers (id ``witness``) with the tiers and segments the two audiences name."""
    ta, tb = _tiers(a), _tiers(b)
    tier_pool = sorted(ta & tb if ta and tb else (ta or tb or {""}))
    wanted: set[str] = set()
    for c in (a, b):
        if c.audience is not None:
            _strings(c.audience, wanted)
    customers: list[dict[str, Any] | None] = [None]
    customers += [{"id": witness, "tier": t, "segments": sorted(wanted)} for t in tier_pool[:3]]
    return customers


def _strings(e: ir.IExpr, out: set[str]) -> None:
    """The text constants of an audience: the segments (and tiers) a witness customer may need."""
    if isinstance(e, ir.Const) and isinstance(e.value, str):
        out.add(e.value)
    elif isinstance(e, ir.Const) and isinstance(e.value, frozenset):
        out |= {v for v in e.value if isinstance(v, str)}
    for child in _children(e):
        _strings(child, out)


def candidate_receipts(a: ir.ICampaign, b: ir.ICampaign, zone: ZoneInfo) -> Iterator[dict[str, Any]]:
    """Receipts inside both campaigns' filters whose lines are drawn from both footprints."""
    when = _common_time(a, b, zone)
    store = _pick(a.stores, b.stores, "S001")
    channel = _pick(a.channels, b.channels, "pos")
    if when is None or store is None or channel is None:
        return
    items = _items(a) + _items(b) or [("SKU-ANY", "any", "")]
    for qty, price in itertools.product(QUANTITIES, PRICES):
        lines = [{"line_no": i + 1, "sku": sku, "category": cat, "brand": brand, "qty": qty,
                  "unit_price": price, "amount": qty * price} for i, (sku, cat, brand) in enumerate(items)]
        yield {"receipt_id": "W1", "customer_id": None, "datetime": when.isoformat(), "store_id": store,
               "channel": channel, "lines": lines}


def _items(c: ir.ICampaign) -> list[tuple[str, str, str]]:
    fp = footprint(c)
    skus, cats, brands = fp["skus"][:2], fp["categories"][:2], fp["brands"][:2]
    out = [(sku, cats[0] if cats else "any", brands[0] if brands else "") for sku in skus]
    out += [(f"SKU-{c.name}-{i}", cat, brands[0] if brands else "") for i, cat in enumerate(cats)]
    out += [(f"SKU-{c.name}-b{i}", cats[0] if cats else "any", brand) for i, brand in enumerate(brands)]
    return out


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
