"""Next categories per customer (docs/offers.md, "Next categories"): a learned ranking of the
categories a customer is likely to buy in the next ``next_within`` days, if they shop.

A logistic regression (maximum likelihood with a small L2 penalty, by scipy.optimize) over pairs of
(customer, candidate category), fitted on the history before the model's date: features are taken on
a day ``next_within`` days (and ``next_windows`` - 1 further windows) before the end, the label is
whether the customer bought the category in the window after it, over the customers who shopped in
that window. The same features on the day after the model's date give each customer's ranking.

Candidates are the categories the customer bought and the ``next_popular`` most popular ones. The
features (``FEATURES``) are what the customer's own history says of the category (purchase days,
counts decayed with 7, 28 and 112-day half-lives, share of their purchase days, recency, how due the
category is on its own purchase cycle) and what others do (popularity over the last 28 days,
item-to-item affinity). Everything is computed on arrays of (customer, category, day) purchases, so
the fit takes seconds on a year of a grocer's receipts; the result depends only on the history, the
configuration and the seed (which draws the rows kept when there are more than ``MAX_ROWS``).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Any

from . import affinity
from .errors import need
from .history import Visit

FEATURES = ("bought", "log_days", "decay_7", "decay_28", "decay_112", "share", "log_recency", "has_cycle",
            "due", "due_squared", "log_every", "popularity", "affinity")
HALF_LIVES = (7, 28, 112)
POPULAR_DAYS = 28  # popularity: share of the customers shopping in these days who bought the category
MAX_DUE = 4.0  # days since the last purchase over the mean gap, capped
PENALTY = 1e-4  # L2 on the standardised coefficients (the intercept is free)
MAX_ROWS = 1_000_000  # training rows kept (drawn with the seed) beyond which the fit samples


@dataclass(frozen=True)
class Purchases:
    """Every (customer, category, day) purchase of a history, as arrays (one row per purchase day of a
    category), with the customers' and categories' names."""

    customers: list[str]
    categories: list[str]
    customer: Any  # int index per row
    category: Any  # int index per row
    day: Any  # ordinal per row
    visit_customer: Any  # int index per purchase day
    visit_day: Any  # ordinal per purchase day


def purchases(visits: dict[str, list[Visit]], categories: list[str]) -> Purchases:
    """The arrays, built in machine integers (a year of a grocer is over a million rows)."""
    np = need("numpy")
    ids = list(visits)
    index = {c: i for i, c in enumerate(categories)}
    cust, cat, days, vc, vd = (array("q") for _ in range(5))
    for i, cid in enumerate(ids):
        for v in visits[cid]:
            vc.append(i)
            vd.append(v.day)
            for c in v.categories:
                if c in index:
                    cust.append(i)
                    cat.append(index[c])
                    days.append(v.day)
    return Purchases(ids, categories, *(np.frombuffer(a, dtype=np.int64) if len(a) else np.zeros(0, dtype=np.int64)
                                        for a in (cust, cat, days, vc, vd)))


@dataclass(frozen=True)
class Rows:
    """Candidate pairs on one day and their features."""

    customer: Any  # int index per row
    category: Any  # int index per row
    x: Any  # rows x FEATURES


def features(p: Purchases, day: int, popular: int, neighbours: int) -> Rows:
    """The candidates and features of every customer who bought before ``day``, from purchases before it
    (arrays over the pairs that occur, never customers x categories)."""
    np = need("numpy")
    n_cust, n_cat = len(p.customers), len(p.categories)
    before = p.day < day
    if not before.any():
        empty = np.zeros(0, dtype=np.int64)
        return Rows(empty, empty, np.zeros((0, len(FEATURES))))
    cust, cat, days = p.customer[before], p.category[before], p.day[before]
    pairs, inverse = np.unique(cust * n_cat + cat, return_inverse=True)
    n_pairs = len(pairs)
    count = np.bincount(inverse, minlength=n_pairs).astype(float)
    age = (day - days).astype(float)  # >= 1
    decays = [np.bincount(inverse, weights=np.exp2(-age / h), minlength=n_pairs) for h in HALF_LIVES]
    last = np.full(n_pairs, -1, dtype=np.int64)
    np.maximum.at(last, inverse, days)
    first = np.full(n_pairs, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, inverse, days)
    visits = np.bincount(p.visit_customer[p.visit_day < day], minlength=n_cust).astype(float)
    buyers = popularity(p, day)
    top = np.sort(np.argsort(-buyers, kind="stable")[:popular])
    # candidates: the pairs bought before the day, and the most popular categories for every customer
    # who bought before it
    active = np.flatnonzero(visits > 0)
    keys = np.union1d(pairs, (active[:, None] * n_cat + top[None, :]).ravel())
    rc, rk = keys // n_cat, keys % n_cat
    at = np.searchsorted(pairs, keys)
    bought = (at < n_pairs) & (pairs[np.minimum(at, n_pairs - 1)] == keys)
    src = np.where(bought, np.minimum(at, n_pairs - 1), 0)

    def of(values: Any, default: float = 0.0) -> Any:
        return np.where(bought, values[src], default)

    n = of(count)
    since = of(day - last).astype(float)
    cycle = n > 1
    every = np.where(cycle, (of(last) - of(first)) / np.maximum(n - 1, 1), 1.0)
    due = np.where(cycle, np.minimum(since / every, MAX_DUE), 0.0)
    x = np.column_stack([
        bought.astype(float), np.log1p(n), *(np.log1p(of(d)) for d in decays), n / visits[rc],
        np.where(bought, np.log1p(since), 0.0), cycle.astype(float), due, due * due,
        np.where(cycle, np.log1p(every), 0.0), buyers[rk],
        affinities(pairs, count, (n_cust, n_cat), neighbours, rc, rk)])
    return Rows(rc, rk, x)


def popularity(p: Purchases, day: int) -> Any:
    """Per category, the share of the customers who shopped in the ``POPULAR_DAYS`` before ``day`` who
    bought it then."""
    np = need("numpy")
    n_cat = len(p.categories)
    recent = (p.visit_day < day) & (p.visit_day >= day - POPULAR_DAYS)
    shoppers = max(1, len(np.unique(p.visit_customer[recent])))
    fresh = (p.day < day) & (p.day >= day - POPULAR_DAYS)
    pairs = np.unique(p.customer[fresh] * n_cat + p.category[fresh])
    return np.bincount(pairs % n_cat, minlength=n_cat) / shoppers


def affinities(pairs: Any, count: Any, shape: tuple[int, int], neighbours: int, rc: Any, rk: Any) -> Any:
    """Each row's affinity: the customer's log(1 + purchase days) times the categories' cosine
    neighbours (affinity.py), scaled to the customer's best."""
    np, sparse = need("numpy"), need("scipy.sparse")
    n_cat = shape[1]
    xm = sparse.csr_matrix((np.log1p(count), (pairs // n_cat, pairs % n_cat)), shape=shape)
    aff = (xm @ affinity.similarity(xm, neighbours)).tocsr()
    best = aff.max(axis=1).toarray().ravel()[rc]
    raw = np.asarray(aff[rc, rk]).ravel()
    return np.divide(raw, best, out=np.zeros_like(raw), where=best > 0)


def labels(p: Purchases, rows: Rows, start: int, end: int) -> tuple[Any, Any]:
    """Whether each row's category was bought in [start, end), and whether its customer shopped then."""
    np = need("numpy")
    n_cat = len(p.categories)
    inside = (p.day >= start) & (p.day < end)
    bought = np.isin(rows.customer * n_cat + rows.category, p.customer[inside] * n_cat + p.category[inside])
    shopped = np.isin(rows.customer, p.visit_customer[(p.visit_day >= start) & (p.visit_day < end)])
    return bought, shopped


@dataclass(frozen=True)
class Ranker:
    """A fitted ranking: the standardisation and the coefficients of ``FEATURES``."""

    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    rows: int
    loglik: float

    def to_dict(self) -> dict[str, Any]:
        return {"features": list(FEATURES), "mean": self.mean, "scale": self.scale, "coef": self.coef,
                "intercept": self.intercept, "rows": self.rows, "loglik": self.loglik}

    def chance(self, x: Any) -> Any:
        np = need("numpy")
        z = (x - np.array(self.mean)) / np.array(self.scale) @ np.array(self.coef) + self.intercept
        return 1.0 / (1.0 + np.exp(-z))


def logistic(x: Any, y: Any) -> Ranker:
    """Maximum likelihood logistic regression on standardised features, L2 ``PENALTY`` (L-BFGS-B)."""
    np, optimize = need("numpy"), need("scipy.optimize")
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    design = np.column_stack([z, np.ones(len(z))])
    target = y.astype(float)
    n = len(target)

    def objective(w: Any) -> tuple[float, Any]:
        s = design @ w
        loss = np.sum(np.logaddexp(0.0, s) - target * s) / n + PENALTY / 2 * float(w[:-1] @ w[:-1])
        grad = design.T @ (1.0 / (1.0 + np.exp(-s)) - target) / n
        grad[:-1] += PENALTY * w[:-1]
        return float(loss), grad

    result = optimize.minimize(objective, np.zeros(design.shape[1]), jac=True, method="L-BFGS-B",
                               options={"maxiter": 1000, "ftol": 1e-12, "gtol": 1e-8})
    w = result.x
    return Ranker([float(v) for v in mean], [float(v) for v in scale], [float(v) for v in w[:-1]],
                  float(w[-1]), n, -float(result.fun) * n)


@dataclass(frozen=True)
class Config:
    within: int  # days of the window the ranking is about
    windows: int  # training windows before the end
    popular: int  # most popular categories added to each customer's candidates
    neighbours: int  # affinity neighbours per category
    top: int  # categories kept per customer


def fit(visits: dict[str, list[Visit]], categories: list[str], as_of: int, config: Config, seed: int
        ) -> tuple[Ranker, dict[str, list[tuple[str, float]]]] | None:
    """The ranking fitted on windows ending at ``as_of`` and each customer's ``top`` next categories on
    the day after it (chance, higher first, ties by name); None when the windows hold nothing to learn
    from (no customer who bought before a window and shopped in it, or every label the same)."""
    np = need("numpy")
    p = purchases(visits, categories)
    xs, ys = [], []
    for w in range(1, config.windows + 1):
        start = as_of + 1 - w * config.within
        rows = features(p, start, config.popular, config.neighbours)
        bought, shopped = labels(p, rows, start, start + config.within)
        xs.append(rows.x[shopped])
        ys.append(bought[shopped])
    x, y = np.concatenate(xs), np.concatenate(ys)
    if len(y) == 0 or not y.any() or y.all():
        return None
    if len(y) > MAX_ROWS:
        keep = np.sort(np.random.default_rng(seed).choice(len(y), MAX_ROWS, replace=False))
        x, y = x[keep], y[keep]
    ranker = logistic(x, y)
    now = features(p, as_of + 1, config.popular, config.neighbours)
    chance = ranker.chance(now.x)
    out: dict[str, list[tuple[str, float]]] = {c: [] for c in p.customers}
    order = np.lexsort((now.category, -chance, now.customer))
    for i in order:
        ranked = out[p.customers[now.customer[i]]]
        if len(ranked) < config.top:
            ranked.append((categories[now.category[i]], float(chance[i])))
    return ranker, out
