"""`loya offers issue`: a strategy and a model in, personal coupons out (docs/offers.md, "Issuing").

Every customer's offers are chosen (rules.py), the holdout is drawn by the experiments' hash of
(salt, customer id) (runtime/experiments.py), and the budget is spent in a fixed order: templates in
declared order, then higher score, then customer id and category. The holdout's would-be offers go
through the same rule with the budget scaled to its share, so both arms are chosen alike. Each issued
offer is a ``coupon_issue`` change (docs/state.md), with the message and the cashier's hint."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from loyadsl.runtime.errors import LoyaError
from loyadsl.runtime.experiments import BUCKETS, bucket
from loyadsl.runtime.state import CustomerState, apply, iso, parse_time

from .errors import OVER_BUDGET, OffersError
from .model import Model
from .refresh import check_fresh
from .rules import Candidate, Context, check
from .strategy import Strategy

OFFER, HOLDOUT = "offer", "holdout"


@dataclass
class Issued:
    offers: list[dict[str, Any]] = field(default_factory=list)  # both arms; only `offer` ones are coupons
    arms: dict[str, str] = field(default_factory=dict)  # every customer of the model -> arm
    warnings: list[str] = field(default_factory=list)

    def changes(self) -> dict[str, list[dict[str, Any]]]:
        """The ``coupon_issue`` changes by customer (the offer arm only)."""
        out: dict[str, list[dict[str, Any]]] = {}
        for o in self.offers:
            if o["arm"] == OFFER:
                out.setdefault(o["customer"], []).append(o["change"])
        return out


def arm(strategy: Strategy, customer: str) -> str:
    return HOLDOUT if bucket(strategy.salt or strategy.strategy, customer) < strategy.holdout_buckets else OFFER


def chosen(ctx: Context, cid: str) -> list[Candidate]:
    """The customer's offers before the budget: per template at most `top`, in all `max_per_customer`."""
    picked: list[Candidate] = []
    for index, offer in enumerate(ctx.strategy.offers):
        ranked = sorted(ctx.candidates(cid, index, offer), key=lambda c: (-c.score, c.category or ""))
        picked += ranked[: offer.top]
    return picked[: ctx.strategy.max_per_customer]


def within_budget(strategy: Strategy, offers: list[Candidate], arms: dict[str, str]) -> tuple[list[Candidate], int]:
    """The offers the budget pays for (each arm its share of it), and how many it left out."""
    if strategy.budget is None or not offers:
        return offers, 0
    budget = strategy.money(strategy.budget)
    cheapest = min(o.cost for o in offers)
    if cheapest > budget:
        raise OffersError(OVER_BUDGET, f"every offer costs more than the budget: the cheapest is estimated at "
                          f"{money_text(cheapest, strategy)}, the budget is {strategy.budget} "
                          f"({len(offers):,} offers qualify)")
    share = Decimal(strategy.holdout_buckets) / BUCKETS
    limits = {OFFER: Decimal(budget), HOLDOUT: Decimal(budget) * share / (1 - share) if share < 1 else Decimal(0)}
    spent = {OFFER: 0, HOLDOUT: 0}
    kept = []
    for o in sorted(offers, key=lambda o: (o.order, -o.score, o.customer, o.category or "")):
        a = arms[o.customer]
        if spent[a] + o.cost <= limits[a]:
            spent[a] += o.cost
            kept.append(o)
    return kept, len(offers) - len(kept)


def issue(strategy: Strategy, model: Model, now: dt.datetime, birthdays: dict[str, dt.date] | None = None,
          max_age: int | None = None) -> Issued:
    """The strategy's offers at ``now``, for a model fresh then (LOY742, LOY743: refresh.py)."""
    check_fresh(model, now, max_age)
    check(strategy, model, birthdays)
    ctx = Context(strategy, model, now.date().toordinal(), birthdays)
    result = Issued(arms={cid: arm(strategy, cid) for cid in model.customers})
    every = [c for cid in model.customers for c in chosen(ctx, cid)]
    kept, cut = within_budget(strategy, every, result.arms)
    if cut:
        result.warnings.append(f"the budget {strategy.budget} left out {cut:,} of {len(every):,} offers")
    kept.sort(key=lambda o: (o.customer, o.order, -o.score, o.category or ""))
    result.offers = [describe(strategy, o, now, result.arms[o.customer]) for o in kept]
    return result


def coupon_code(strategy: Strategy, o: Candidate, now: dt.datetime) -> str:
    key = "\x00".join([strategy.strategy, o.customer, o.offer.name, o.category or "", now.isoformat()])
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return o.offer.code_prefix + base64.b32encode(digest).decode("ascii")[:8]


def money_text(minor_units: int, strategy: Strategy) -> str:
    return f"{Decimal(minor_units).scaleb(-strategy.minor):f} {strategy.currency}"


def describe(strategy: Strategy, o: Candidate, now: dt.datetime, arm_name: str) -> dict[str, Any]:
    """One offer as `loya offers issue` writes it: the coupon change, the texts, the estimated cost."""
    valid_to = now + dt.timedelta(days=o.offer.valid)
    utc = parse_time(now)
    code = coupon_code(strategy, o, now)
    value = f"{o.offer.discount}%" if o.offer.discount is not None else str(o.offer.amount)
    words = {"discount": value, "category": o.category or "your purchase", "offer": o.offer.name,
             "valid_to": valid_to.date().isoformat(), "gap": money_text(o.gap or 0, strategy),
             "code": code}
    series = strategy.series(o.offer, o.category)
    change = {"op": "coupon_issue", "code": code, "series": series, "issued": iso(utc),
              "valid_from": iso(utc), "valid_to": iso(parse_time(valid_to)), "uses_left": 1,
              "campaign": strategy.strategy}
    return {"customer": o.customer, "arm": arm_name, "strategy": strategy.strategy, "offer": o.offer.name,
            "coupon": series, "code": code, "category": o.category, "value": value,
            "valid_from": now.isoformat(), "valid_to": valid_to.isoformat(), "score": round(o.score, 6),
            "cost": o.cost, "message": o.offer.message.format_map(words),
            "cashier": o.offer.cashier.format_map(words), "change": change}


def with_coupons(states: dict[str, CustomerState], issued: Issued) -> dict[str, CustomerState]:
    """The customer states with their coupons issued (a customer without a state starts empty)."""
    out = dict(states)
    for cid, changes in issued.changes().items():
        try:
            out[cid] = apply(states.get(cid) or CustomerState(id=cid), changes)
        except LoyaError as exc:  # e.g. a coupon the customer holds already: issued twice (LOY503)
            raise LoyaError(exc.code, exc.message, f"customer {cid!r}") from None
    return out
