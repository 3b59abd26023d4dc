"""Affinity by item-to-item co-occurrence (the method of Amazon's recommender, Linden, Smith & York
2003): two categories are close when the same customers buy both (cosine of their customer columns).
A customer's affinity for a category is the sum of its closeness to what they bought, weighted by
log(1 + purchase days), so categories they have never bought rank too. Sparse matrices (scipy)."""

from __future__ import annotations

from typing import Any

from .errors import need


def matrix(baskets: list[dict[str, int]], categories: list[str]) -> Any:
    """Customers x categories, log(1 + purchase days) (CSR)."""
    np, sparse = need("numpy"), need("scipy.sparse")
    index = {c: i for i, c in enumerate(categories)}
    rows, cols, vals = [], [], []
    for row, counts in enumerate(baskets):
        for category, n in counts.items():
            rows.append(row)
            cols.append(index[category])
            vals.append(np.log1p(n))
    return sparse.csr_matrix((vals, (rows, cols)), shape=(len(baskets), len(categories)), dtype=np.float64)


def similarity(x: Any, neighbours: int) -> Any:
    """Category x category cosine of binary purchase columns, the diagonal removed and only each
    category's ``neighbours`` closest kept (CSR)."""
    np, sparse = need("numpy"), need("scipy.sparse")
    binary = (x > 0).astype(np.float64)
    co = (binary.T @ binary).toarray()
    norms = np.sqrt(np.diag(co))
    with np.errstate(divide="ignore", invalid="ignore"):
        sim = np.nan_to_num(co / np.outer(norms, norms))
    np.fill_diagonal(sim, 0.0)
    if sim.shape[0] > neighbours:
        cut = np.argpartition(-sim, neighbours, axis=1)[:, neighbours:]
        np.put_along_axis(sim, cut, 0.0, axis=1)
    return sparse.csr_matrix(sim)


def top(scores: Any, categories: list[str], k: int) -> list[list[tuple[str, float]]]:
    """Each row's ``k`` best categories with its score scaled to the row's best (1.0), ties by name."""
    np = need("numpy")
    dense = scores.toarray() if hasattr(scores, "toarray") else np.asarray(scores)
    out: list[list[tuple[str, float]]] = []
    for row in dense:
        best = float(row.max()) if row.size else 0.0
        if best <= 0:
            out.append([])
            continue
        order = sorted(np.flatnonzero(row > 0), key=lambda j: (-row[j], categories[j]))[:k]
        out.append([(categories[j], float(row[j]) / best) for j in order])
    return out


def neighbours(sim: Any, categories: list[str], k: int) -> dict[str, list[tuple[str, float]]]:
    """Each category's closest categories (cosine)."""
    lists = top(sim, categories, k)
    dense = sim.toarray()
    return {c: [(n, float(dense[i, categories.index(n)])) for n, _ in lists[i]] for i, c in enumerate(categories)}
