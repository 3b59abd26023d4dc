"""`loya offers backtest` (docs/offers.md, "Backtest"): fit up to a cut date, issue the strategy with
its randomised holdout, replay the weeks after the cut, and measure.

What a backtest on history can and cannot show: the customers after the cut never saw these offers,
so both arms bought as they did. Hit rates (precision and recall at k, redemption) and calibration
are real measures of the targeting; the revenue difference between arms is an A/A comparison (its
interval should hold 0), and the margin net of the offers' cost is what the offers would have cost
on purchases that happened anyway. A real uplift needs a live test (docs/experiments.md).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from loyadsl.ab import compare, cuped

from . import bgnbd
from .config import FitConfig
from .errors import BAD_BACKTEST, OffersError, need
from .fit import WEEK, fit
from .history import History, Visit
from .issue import HOLDOUT, OFFER, Issued, issue
from .model import Model
from .rules import percent_of
from .strategy import Strategy

LEVEL = 0.95


def interval(values: list[float]) -> dict[str, float]:
    """Mean and its 95 % t-interval (scipy)."""
    stats = need("scipy.stats")
    mean = sum(values) / len(values)
    if len(values) < 2 or len(set(values)) < 2:
        return {"mean": mean, "low": mean, "high": mean}
    ci = stats.ttest_1samp(values, 0.0).confidence_interval(confidence_level=LEVEL)
    return {"mean": mean, "low": float(ci.low), "high": float(ci.high)}


def paired(a: list[float], b: list[float]) -> dict[str, float]:
    """Mean of a - b per customer, its 95 % interval and p-value (paired t-test, scipy)."""
    stats = need("scipy.stats")
    if a == b:  # the same hits for every customer: no difference, and no variance to test
        return {"diff": 0.0, "low": 0.0, "high": 0.0, "p": 1.0}
    result = stats.ttest_rel(a, b)
    ci = result.confidence_interval(confidence_level=LEVEL)
    return {"diff": (sum(a) - sum(b)) / len(a), "low": float(ci.low), "high": float(ci.high),
            "p": float(result.pvalue)}


def predictions(model: Model, k: int) -> dict[str, dict[str, list[str]]]:
    """Per customer, k categories by each method: the model (its learned ranking of next categories,
    ranker.py), the most popular for everyone, their own most frequent."""
    if model.header.get("ranker") is None:
        raise OffersError(BAD_BACKTEST, f"the model fitted up to {model.header['as_of']} ranks no next "
                          "categories (too little history before the cut to learn a ranking): cut later")
    buyers: dict[str, int] = {}
    for c in model.customers.values():
        for cat in c["categories"]:
            buyers[cat] = buyers.get(cat, 0) + 1
    popular = sorted(buyers, key=lambda cat: (-buyers[cat], cat))[:k]
    out = {}
    for cid, c in model.customers.items():
        cats = c["categories"]
        own = sorted(cats, key=lambda cat: (-cats[cat]["n"], cat))
        out[cid] = {"model": [cat for cat, _ in c["next_categories"][:k]], "popular": popular, "own": own[:k]}
    return out


def hits(predicted: dict[str, dict[str, list[str]]], actual: dict[str, set[str]], k: int) -> dict[str, Any]:
    """Precision and recall at k of each method over the customers who bought in the window, with
    intervals, and the model's difference from each baseline (paired)."""
    active = [cid for cid in predicted if actual.get(cid)]
    if len(active) < 2:
        raise OffersError(BAD_BACKTEST, f"{len(active)} customers bought after the cut: nothing to measure")
    per: dict[str, dict[str, list[float]]] = {}
    for method in ("model", "popular", "own"):
        p = [len(set(predicted[c][method]) & actual[c]) / k for c in active]
        r = [len(set(predicted[c][method]) & actual[c]) / len(actual[c]) for c in active]
        per[method] = {"precision": p, "recall": r}
    report: dict[str, Any] = {"customers": len(active), "k": k}
    for method, values in per.items():
        report[method] = {m: interval(v) for m, v in values.items()}
    for base in ("popular", "own"):
        report[f"model_vs_{base}"] = paired(per["model"]["precision"], per[base]["precision"])
    return report


def calibration(model: Model, test: History, weeks: int, bins: int = 10) -> dict[str, Any]:
    """Expected purchase days in the window (BG/NBD) against the actual ones, by bins of prediction."""
    np = need("numpy")
    bg = model.header["bgnbd"]
    m = bgnbd.BGNBD(bg["r"], bg["alpha"], bg["a"], bg["b"], bg["loglik"])
    ids = list(model.customers)
    cs = [model.customers[c] for c in ids]
    first = [dt.date.fromisoformat(c["first"]).toordinal() for c in cs]
    last = [dt.date.fromisoformat(c["last"]).toordinal() for c in cs]
    x = np.array([c["purchases"] - 1 for c in cs], dtype=float)
    t_x = (np.array(last) - np.array(first)) / WEEK
    T = (model.as_of - np.array(first)) / WEEK
    predicted = bgnbd.expected(m, float(weeks), x, t_x, T)
    actual = np.array([len(test.visits.get(c, ())) for c in ids], dtype=float)
    order = np.argsort(predicted, kind="stable")
    rows = [{"predicted": float(predicted[part].mean()), "actual": float(actual[part].mean()), "customers": len(part)}
            for part in np.array_split(order, bins) if len(part)]
    return {"predicted_total": float(predicted.sum()), "actual_total": float(actual.sum()), "bins": rows}


def outcomes(issued: Issued, offers: list[dict[str, Any]], before: History, test: History, margin: Decimal,
             strategy: Strategy) -> dict[str, Any]:
    """Redemption by arm; revenue and margin net of the offers' cost per eligible customer, offer arm vs
    holdout, by the A/B report's method (`loya ab report`: Welch's t-test on CUPED-adjusted values, the
    covariate being the same figure over the same number of weeks before the cut). An offer counts as
    used when its category (any purchase, for a receipt offer) was bought while it was valid; its cost
    is the offer's value on that first day."""
    used, cost = {OFFER: 0, HOLDOUT: 0}, {OFFER: 0, HOLDOUT: 0}
    by_customer: dict[str, int] = {}
    for o in offers:
        value = redemption(o, test.visits.get(o["customer"], []), strategy)
        used[o["arm"]] += value is not None
        cost[o["arm"]] += value or 0
        if o["arm"] == OFFER:
            by_customer[o["customer"]] = by_customer.get(o["customer"], 0) + (value or 0)
    rows: dict[str, dict[str, list[dict[str, int]]]] = {"revenue": {OFFER: [], HOLDOUT: []},
                                                          "margin": {OFFER: [], HOLDOUT: []}}
    for cid in sorted({o["customer"] for o in offers}):
        revenue = sum(v.amount for v in test.visits.get(cid, []))
        pre = sum(v.amount for v in before.visits.get(cid, []))
        a = issued.arms[cid]
        rows["revenue"][a].append({"revenue": revenue, "pre": pre})
        rows["margin"][a].append({"revenue": percent_of(revenue, margin) - by_customer.get(cid, 0),
                                  "pre": percent_of(pre, margin)})
    counts = {a: sum(1 for o in offers if o["arm"] == a) for a in (OFFER, HOLDOUT)}
    report: dict[str, Any] = {
        "offers": counts, "used": used, "redemption": {a: used[a] / counts[a] if counts[a] else None for a in used},
        "cost_offer_arm": cost[OFFER], "customers": {a: len(v) for a, v in rows["revenue"].items()},
        "method": "Welch's t-test on CUPED-adjusted values (pre: the same weeks before the cut), 95%"}
    if min(len(v) for v in rows["revenue"].values()) < 2:
        return report
    for name, groups in rows.items():
        adjusted = cuped(groups)
        diff, low, high, p = compare(adjusted[OFFER], adjusted[HOLDOUT], LEVEL)
        n = len(adjusted[OFFER])
        report[f"incremental_{name}"] = {"per_customer": diff, "low": low, "high": high, "p": p,
                                         "total": diff * n, "total_low": low * n, "total_high": high * n}
    return report


def redemption(offer: dict[str, Any], visits: list[Visit], strategy: Strategy) -> int | None:
    """The value the offer would have given on its first valid use in the history, or None."""
    start = dt.datetime.fromisoformat(offer["valid_from"]).date().toordinal()
    end = dt.datetime.fromisoformat(offer["valid_to"]).date().toordinal()
    for v in visits:
        if start <= v.day < end:
            base = v.categories.get(offer["category"], 0) if offer["category"] else v.amount
            if base > 0:
                value = offer["value"]
                return percent_of(base, Decimal(value[:-1])) if value.endswith("%") else min(
                    base, strategy.money(value))
    return None


def ranked_offers(issued: Issued, predicted: dict[str, dict[str, list[str]]], method: str) -> list[dict[str, Any]]:
    """The strategy's offers with each category offer's category replaced by the ranking's choice
    (same customers, same number of offers, same values)."""
    out: list[dict[str, Any]] = []
    used: dict[str, int] = {}
    for o in issued.offers:
        if o["category"] is None:
            out.append(o)
            continue
        n = used.get(o["customer"], 0)
        choices = predicted.get(o["customer"], {}).get(method, [])
        used[o["customer"]] = n + 1
        if n < len(choices):
            out.append({**o, "category": choices[n]})
    return out


def backtest(history: History, strategy: Strategy, config: FitConfig, cut: dt.date, weeks: int, seed: int,
             margin: Decimal, k: int) -> dict[str, Any]:
    cut_day = cut.toordinal()
    train, test = history.window(end=cut_day), history.window(start=cut_day, end=cut_day + 7 * weeks)
    before = history.window(start=cut_day - 7 * weeks, end=cut_day)
    if not test.visits:
        raise OffersError(BAD_BACKTEST, f"no purchase in the {weeks} weeks from {cut} (history ends "
                          f"{dt.date.fromordinal(history.last_day)})")
    # the ranking of next categories is learned for the replayed window, at least k deep
    config = config.model_copy(update={"next_within": 7 * weeks, "next_top": max(config.next_top, k)})
    model = fit(train, config, seed, as_of=cut_day - 1)
    now = dt.datetime(cut.year, cut.month, cut.day, tzinfo=dt.UTC)
    issued = issue(strategy, model, now)
    predicted = predictions(model, k)
    actual = {c: {cat for v in vs for cat in v.categories} for c, vs in test.visits.items()}
    return {
        "cut": cut.isoformat(), "weeks": weeks, "seed": seed, "margin": f"{margin}%",
        "train": {"customers": len(model.customers), "purchases": train.purchases()},
        "test": {"customers": len(test.visits), "purchases": test.purchases()},
        "bgnbd": model.header["bgnbd"], "gamma_gamma": model.header["gamma_gamma"],
        "hits": hits(predicted, actual, k), "calibration": calibration(model, test, weeks),
        "strategy": outcomes(issued, issued.offers, before, test, margin, strategy),
        # the strategy's offers with their categories chosen by each ranking: like for like in margin terms
        "rankings": {m: outcomes(issued, ranked_offers(issued, predicted, m), before, test, margin, strategy)
                     for m in ("model", "popular", "own")},
        "warnings": [w["message"] for w in model.header["warnings"]] + issued.warnings,
    }
