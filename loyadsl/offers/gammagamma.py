"""Gamma-Gamma spend per purchase (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader & Hardie's note
"The Gamma-Gamma model of monetary value"): fitted on customers with repeat purchases, from their
number ``x`` and the mean value ``m`` of those purchases, by maximum likelihood (scipy.optimize)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import need
from .mle import best_fit


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    gamma: float
    loglik: float
    customers: int

    def to_dict(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "gamma": self.gamma, "loglik": self.loglik, "customers": self.customers}


def loglik(params: Any, x: Any, m: Any) -> Any:
    """Each customer's log-likelihood of the mean ``m`` of ``x`` purchase values."""
    np, sp = need("numpy"), need("scipy.special")
    p, q, g = params
    return (sp.gammaln(p * x + q) - sp.gammaln(p * x) - sp.gammaln(q) + q * np.log(g)
            + (p * x - 1) * np.log(m) + p * x * np.log(x) - (p * x + q) * np.log(g + m * x))


def fit(x: Any, m: Any, seed: int = 0, starts: int = 4) -> GammaGamma:
    """The model of maximum likelihood (``mle.best_fit``: the best of ``starts`` starts drawn with ``seed``)."""
    (p, q, g), best = best_fit(lambda params: loglik(params, x, m), 3, seed, starts)
    return GammaGamma(p, q, g, best, len(x))


def expected_spend(model: GammaGamma, x: Any, m: Any) -> Any:
    """E[value of a purchase | x, m]: (gamma + m x) p / (p x + q - 1)."""
    return (model.gamma + m * x) * model.p / (model.p * x + model.q - 1)
