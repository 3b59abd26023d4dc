"""`loya offers fit`: a history and a configuration in, a model out (docs/offers.md, "Models")."""

from __future__ import annotations

import datetime as dt
from typing import Any

from . import affinity, bgnbd, gammagamma, ranker, rfm
from .config import FitConfig
from .cycles import Cycle, cycles
from .errors import HISTORY_AFTER_MODEL, ONE_PURCHASE, SHORT_HISTORY, THIN_HISTORY, OffersError, need
from .history import History, Visit
from .model import FORMAT, SCORES, VERSION, Model, day, minor, rounded

WEEK = 7.0


def quarter_start(ordinal: int) -> int:
    d = dt.date.fromordinal(ordinal)
    return dt.date(d.year, 3 * ((d.month - 1) // 3) + 1, 1).toordinal()


def half_up_mean(values: list[int]) -> int:
    return (2 * sum(values) + len(values)) // (2 * len(values))


def summary(visits: list[list[Visit]], as_of: int) -> tuple[Any, Any, Any, Any]:
    """Per customer: repeat purchases x, weeks from the first purchase to the last (t_x) and to the
    end of ``as_of`` (T), and the mean value of the repeat purchases (minor units, half up; 0 without)."""
    np = need("numpy")
    x = np.array([len(v) - 1 for v in visits], dtype=float)
    t_x = np.array([(v[-1].day - v[0].day) / WEEK for v in visits])
    T = np.array([(as_of - v[0].day) / WEEK for v in visits])
    m = np.array([half_up_mean([u.amount for u in v[1:]]) if len(v) > 1 else 0 for v in visits], dtype=float)
    return x, t_x, T, m


def check_enough(history: History, as_of: int, config: FitConfig) -> None:
    """LOY630 with the numbers when the history is too short or too thin to fit."""
    if not history.visits:
        raise OffersError(SHORT_HISTORY, "the history holds no purchase of a known customer")
    span = as_of - history.first_day + 1
    repeaters = sum(1 for v in history.visits.values() if len(v) > 1)
    if span < config.min_days or repeaters < config.min_customers:
        raise OffersError(SHORT_HISTORY, f"the history spans {span} days with {repeaters} customers who bought "
                          f"more than once; fitting needs at least {config.min_days} days and "
                          f"{config.min_customers} such customers (min_days, min_customers)")


def fit(history: History, config: FitConfig, seed: int = 0, as_of: int | None = None) -> Model:
    """Fit every model on the visits up to ``as_of`` (default: the last day of the history)."""
    np = need("numpy")
    as_of = history.last_day if as_of is None else as_of
    later = history.window(start=as_of + 1)
    history = history.window(end=as_of + 1)
    check_enough(history, as_of, config)
    ids = list(history.visits)
    visits = [history.visits[c] for c in ids]
    x, t_x, T, m = summary(visits, as_of)
    bg = bgnbd.fit(x, t_x, T, seed)
    repeat = (x > 0) & (m > 0)
    gg = gammagamma.fit(x[repeat], m[repeat], seed)
    alive = bgnbd.p_alive(bg, x, t_x, T)
    soon = bgnbd.expected(bg, config.expected_within / WEEK, x, t_x, T)
    horizon = bgnbd.expected(bg, config.clv_horizon / WEEK, x, t_x, T)
    spend = gammagamma.expected_spend(gg, np.where(repeat, x, 0.0), np.where(repeat, m, 0.0))
    per_customer = [cycles(v, as_of, config.half_life) for v in visits]
    categories = sorted({c for cs in per_customer for c in cs})
    counts = [{c: cy.n for c, cy in cs.items()} for cs in per_customer]
    xm = affinity.matrix(counts, categories)
    sim = affinity.similarity(xm, config.neighbours)
    tops = affinity.top(xm @ sim, categories, config.affinity_top)
    money_edges = config.rfm.money_edges(history.currency or "XXX", config.minor)
    ranked = ranker.fit(history.visits, categories, as_of, ranker.Config(
        config.next_within, config.next_windows, config.next_popular, config.neighbours, config.next_top), seed)
    customers: dict[str, dict[str, Any]] = {}
    for i, cid in enumerate(ids):
        v = visits[i]
        customers[cid] = record(v, as_of, config, money_edges, per_customer[i], tops[i], {
            "p_alive": float(alive[i]), "expected": float(soon[i]), "expected_horizon": float(horizon[i]),
            "spend": minor(float(spend[i])), "spend_from": "customer" if repeat[i] else "population"})
        if ranked is not None:
            customers[cid]["next_categories"] = [[c, p] for c, p in ranked[1][cid]]
    warnings = fit_warnings(history, later, as_of, config, ranked is not None, int(np.sum(x == 0)))
    header = {
        "format": FORMAT, "version": VERSION, "seed": seed, "as_of": day(as_of),
        "currency": history.currency, "config": config.model_dump(),
        "history": {"first": day(history.first_day), "last": day(history.last_day), "customers": len(ids),
                    "purchases": history.purchases(), "repeat_customers": int(np.sum(repeat)),
                    "skipped": dict(sorted(history.skipped.items()))},
        "bgnbd": {**bg.to_dict(), "time_unit": "week"}, "gamma_gamma": gg.to_dict(),
        "scores": [s for s in SCORES if ranked is not None or s != "next_categories"], "categories": categories, "category_spend": category_spend(per_customer),
        "neighbours": affinity.neighbours(sim, categories, 10),
        "ranker": None if ranked is None else {**ranked[0].to_dict(), "within": config.next_within},
        "warnings": warnings,
    }
    return Model(rounded(header), rounded(customers))  # as the file holds them: loading gives the same


def fit_warnings(history: History, later: History, as_of: int, config: FitConfig, ranked: bool, one: int
                 ) -> list[dict[str, str]]:
    """What the model cannot say, with the numbers: customers bought on one day only (LOY631), rankings
    of next categories on little history (LOY746), purchases after the model's date (LOY745)."""
    ids = len(history.visits)
    out = []
    if one:
        out.append({"code": ONE_PURCHASE, "message": (
            f"{one:,} of {ids:,} customers bought on one day only: their spend per purchase is the "
            "population's (Gamma-Gamma prior mean) and they have no purchase cycles")})
    if not ranked:
        out.append({"code": THIN_HISTORY, "message": (
            f"next categories are not ranked: learning the ranking needs customers who bought before the "
            f"{config.next_within} days up to {day(as_of)} and shopped in them, and the history from "
            f"{day(history.first_day)} has none that fit (next_within)")})
    else:
        thin = sum(1 for v in history.visits.values() if len(v) < config.next_min_purchases)
        if thin:
            out.append({"code": THIN_HISTORY, "message": (
                f"{thin:,} of {ids:,} customers have fewer than {config.next_min_purchases} purchase days: "
                "their next categories rest mostly on what other customers buy (next_min_purchases)")})
    if later.visits:
        out.append({"code": HISTORY_AFTER_MODEL, "message": (
            f"the history holds {later.purchases():,} purchase days after the model's date {day(as_of)} "
            f"(up to {day(later.last_day)}): the model leaves them out")})
    return out


def category_spend(per_customer: list[dict[str, Cycle]]) -> dict[str, int]:
    """Per category, the mean over its buyers of their spend per purchase day (minor units, half up):
    the cost base of an offer on a category the customer has not bought."""
    spends: dict[str, list[int]] = {}
    for cs in per_customer:
        for category, cy in cs.items():
            spends.setdefault(category, []).append(cy.spend)
    return {c: half_up_mean(v) for c, v in sorted(spends.items())}


def record(visits: list[Visit], as_of: int, config: FitConfig, money_edges: list[int],
           cats: dict[str, Cycle], affine: list[tuple[str, float]], scores: dict[str, Any]) -> dict[str, Any]:
    """One customer's scores as the model file holds them."""
    total = sum(v.amount for v in visits)
    since = as_of - visits[-1].day
    r, f, m = (rfm.recency(since, config.rfm.recency), rfm.upward(len(visits), config.rfm.frequency),
               rfm.upward(total, money_edges))
    purchases = scores["expected_horizon"]
    return {
        **scores,
        "purchases": len(visits), "first": day(visits[0].day), "last": day(visits[-1].day), "total": total,
        "clv": minor(purchases * scores["spend"]),
        "rfm": {"r": r, "f": f, "m": m, "code": f"{r}{f}{m}"},
        "quarter_spend": sum(v.amount for v in visits if v.day >= quarter_start(as_of)),
        "categories": {c: {"n": cy.n, "last": day(cy.last), "spend": cy.spend, "every": cy.every,
                           "next": day(cy.next), "rate": cy.rate} for c, cy in cats.items()},
        "affinity": [[c, s] for c, s in affine],
    }
