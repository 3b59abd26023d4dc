"""Which offers of a strategy each customer qualifies for, scored and costed (docs/offers.md,
"Rules"). Checked first against the model: a category it never saw (LOY634) and a score it does not
have (LOY635) are errors, never a default score."""

from __future__ import annotations

import datetime as dt
import difflib
from decimal import Decimal
from typing import Any, NamedTuple

from .cycles import Cycle
from .errors import BAD_STRATEGY, UNFITTED_SCORE, UNKNOWN_CATEGORY, OffersError
from .fit import quarter_start
from .model import Model, ordinal
from .strategy import Offer, Strategy, Target, When


class Candidate(NamedTuple):
    customer: str
    order: int  # the template's place in the strategy: earlier templates come first
    offer: Offer
    category: str | None
    score: float  # higher first: the chance of a purchase in the offer's validity, or its affinity
    cost: int  # estimated minor units the offer gives if used once on a typical purchase
    gap: int | None = None  # tier-up: spend still needed this quarter


# the model scores each rule reads; birthday comes from the customer states, not the model
NEEDS = {"due_within": "cycles", "not_bought_within": "cycles", "affinity_top": "affinity",
         "p_alive_below": "p_alive", "p_alive_at_least": "p_alive", "clv_quantile_at_least": "clv",
         "total_quantile_at_least": "rfm",
         "tier_threshold": "quarter_spend", "min_purchases": "p_alive"}
TARGET_NEEDS = {Target.due: "cycles", Target.affinity: "affinity"}


def check(strategy: Strategy, model: Model, birthdays: dict[str, dt.date] | None) -> None:
    """Every category the strategy names is in the model; every score it reads was fitted."""
    known, fitted = set(model.categories), set(model.header.get("scores", ()))
    if model.header.get("currency") not in (None, strategy.currency):
        raise OffersError(BAD_STRATEGY, f"the strategy counts in {strategy.currency}, the model's history in "
                          f"{model.header['currency']}")
    for i, offer in enumerate(strategy.offers):
        where = f"offers[{i}] ({offer.name})"
        named = [*offer.categories, *(offer.coupon if isinstance(offer.coupon, dict) else ())]
        missing = [c for c in dict.fromkeys(named) if c not in known]
        if missing:
            hint = difflib.get_close_matches(missing[0], sorted(known), n=1)
            raise OffersError(UNKNOWN_CATEGORY, f"{where}: categories {missing} are not in the model "
                              f"({len(known)} categories seen up to {model.header['as_of']})"
                              + (f"; did you mean {hint[0]!r}?" if hint else ""))
        used = [NEEDS[k] for k, v in offer.when if v is not None and k in NEEDS]
        used += [TARGET_NEEDS[offer.target]] if offer.target in TARGET_NEEDS else []
        for score in used:
            if score not in fitted:
                raise OffersError(UNFITTED_SCORE, f"{where}: reads `{score}`, which the model does not have "
                                  f"(it has {sorted(fitted)}): fit it again with this loyadsl")
        if offer.when.birthday_within is not None and birthdays is None:
            raise OffersError(UNFITTED_SCORE, f"{where}: reads the customer's birthday, which is not a fitted "
                              "score: give the customer states (--customers) that hold birthdays")


def quantiles(model: Model, key: str, levels: list[Decimal | None]) -> dict[Decimal, int]:
    """The value of ``key`` (clv, total) at each quantile level, over the model's customers."""
    values = sorted(c[key] for c in model.customers.values())
    return {q: values[min(len(values) - 1, int(float(q) * len(values)))] for q in levels if q is not None}


def percent_of(base: int, rate: Decimal) -> int:
    """``rate`` % of ``base`` minor units, half up, in exact integers."""
    num, den = rate.as_integer_ratio()
    return (2 * base * num + 100 * den) // (200 * den)


class Context:
    """What rules read besides one customer's scores: the model, the strategy, the day, quantiles."""

    def __init__(self, strategy: Strategy, model: Model, day: int, birthdays: dict[str, dt.date] | None) -> None:
        self.strategy, self.model, self.day, self.birthdays = strategy, model, day, birthdays or {}
        self.quantiles = {key: quantiles(model, key, [getattr(o.when, f"{key}_quantile_at_least")
                                                      for o in strategy.offers]) for key in ("clv", "total")}
        self.category_spend: dict[str, int] = model.header.get("category_spend", {})

    def customer_ok(self, cid: str, c: dict[str, Any], when: When) -> bool:
        """The customer-level rules."""
        if when.p_alive_below is not None and not c["p_alive"] < when.p_alive_below:
            return False
        if when.p_alive_at_least is not None and not c["p_alive"] >= when.p_alive_at_least:
            return False
        for key, q in (("clv", when.clv_quantile_at_least), ("total", when.total_quantile_at_least)):
            if q is not None and not c[key] >= self.quantiles[key][q]:
                return False
        if when.min_purchases is not None and c["purchases"] < when.min_purchases:
            return False
        if when.birthday_within is not None:
            born = self.birthdays.get(cid)
            if born is None or days_to_birthday(born, self.day) > when.birthday_within:
                return False
        return True

    def gap(self, c: dict[str, Any], when: When) -> int | None:
        """Tier-up: spend still needed this quarter (None: the rule is not used)."""
        if when.tier_threshold is None or when.tier_gap_at_most is None:
            return None
        same_quarter = quarter_start(self.day) == quarter_start(self.model.as_of)
        return self.strategy.money(when.tier_threshold) - (c["quarter_spend"] if same_quarter else 0)

    def candidates(self, cid: str, order: int, offer: Offer) -> list[Candidate]:
        c = self.model.customers[cid]
        if not self.customer_ok(cid, c, offer.when):
            return []
        gap = self.gap(c, offer.when)
        if gap is not None and not 0 < gap <= self.strategy.money(offer.when.tier_gap_at_most or ""):
            return []
        if offer.target is Target.customer:
            return [Candidate(cid, order, offer, None, float(c["p_alive"]), self.cost(offer, c["spend"]), gap)]
        found = []
        for category, score in self.categories(c, offer):
            base = c["categories"].get(category, {}).get("spend") or self.category_spend.get(category, 0)
            found.append(Candidate(cid, order, offer, category, score, self.cost(offer, base), gap))
        return found

    def categories(self, c: dict[str, Any], offer: Offer) -> list[tuple[str, float]]:
        """(category, score) the offer's target and category rules allow."""
        when, cats = offer.when, c["categories"]
        allowed = set(offer.categories) if offer.categories else None
        if isinstance(offer.coupon, dict):
            allowed = set(offer.coupon) & allowed if allowed is not None else set(offer.coupon)

        def ok(cat: str) -> bool:
            return ((allowed is None or cat in allowed) and self.due_ok(cats.get(cat), when)
                    and self.unbought_ok(cats.get(cat), when))

        # affinity_top: among the customer's best affinity categories that pass the other rules
        affine = ([(cat, float(s)) for cat, s in c["affinity"] if ok(cat)][: when.affinity_top or None]
                  if offer.target is Target.affinity or when.affinity_top else [])
        if offer.target is Target.affinity:
            return affine
        top = {cat for cat, _ in affine} if when.affinity_top else None
        pool = offer.categories if offer.target is Target.fixed else sorted(cats)
        return [(cat, self.chance(cats.get(cat), float(c["p_alive"]), offer.valid)) for cat in pool
                if ok(cat) and (top is None or cat in top)]

    def chance(self, cat: dict[str, Any] | None, alive: float, window: int) -> float:
        return 0.0 if cat is None else purchase_chance(cat, alive, self.day, window)

    def due_ok(self, cat: dict[str, Any] | None, when: When) -> bool:
        if when.due_within is None:
            return True
        return cat is not None and cat["next"] is not None and abs(ordinal(cat["next"]) - self.day) <= when.due_within

    def unbought_ok(self, cat: dict[str, Any] | None, when: When) -> bool:
        if when.not_bought_within is None:
            return True
        return cat is None or self.day - ordinal(cat["last"]) > when.not_bought_within

    def cost(self, offer: Offer, base: int) -> int:
        if offer.discount is not None:
            return percent_of(base, offer.discount)
        return self.strategy.money(offer.amount or "")


def purchase_chance(cat: dict[str, Any], alive: float, day: int, window: int) -> float:
    """P(alive) x P(a purchase of the category in the next ``window`` days) at its decayed rate."""
    cycle = Cycle(cat["n"], ordinal(cat["last"]), cat["spend"], cat["every"], cat["rate"])
    return alive * cycle.chance(window)


def days_to_birthday(born: dt.date, day: int) -> int:
    """Days from ``day`` to the next birthday (0 on the day; 29 February counts as 28 February off leap years)."""
    today = dt.date.fromordinal(day)
    for year in (today.year, today.year + 1):
        try:
            next_one = born.replace(year=year)
        except ValueError:
            next_one = dt.date(year, 2, 28)
        if next_one >= today:
            return (next_one - today).days
    raise AssertionError("unreachable")
