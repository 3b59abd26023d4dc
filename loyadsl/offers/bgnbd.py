"""BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): repeat purchases while
alive, dropout after each purchase. Fitted by maximum likelihood on the published closed-form
likelihood with scipy.optimize (no maintained library fits it without an MCMC stack: `lifetimes` is
archived, `btyd` has had no release since a 2022 beta, `pymc-marketing` brings PyMC and PyTensor).

Inputs per customer: ``x`` repeat purchases, ``t_x`` time of the last purchase and ``T`` time since
the first, both from the first purchase, in weeks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import need
from .mle import best_fit

PARAMS = ("r", "alpha", "a", "b")


@dataclass(frozen=True)
class BGNBD:
    r: float
    alpha: float
    a: float
    b: float
    loglik: float

    def to_dict(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b, "loglik": self.loglik}


def _terms(params: Any, x: Any, t_x: Any, T: Any) -> tuple[Any, Any]:
    """Per customer, the common factor of the likelihood (log) and log of the dropout term
    (a / (b + x - 1)) ((alpha + T) / (alpha + t_x))^(r + x), -inf where x = 0."""
    np, sp = need("numpy"), need("scipy.special")
    r, alpha, a, b = params
    gammaln, betaln = sp.gammaln, sp.betaln
    base = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        drop = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300))
                        + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)), -np.inf)
    return base, drop


def loglik(params: Any, x: Any, t_x: Any, T: Any) -> Any:
    """Each customer's log-likelihood (equation 6 of the paper, written with a log-sum for stability)."""
    np = need("numpy")
    base, drop = _terms(params, x, t_x, T)
    return base - (params[0] + x) * np.log(params[1] + T) + np.logaddexp(0.0, drop)


def fit(x: Any, t_x: Any, T: Any, seed: int = 0, starts: int = 4) -> BGNBD:
    """The model of maximum likelihood (``mle.best_fit``: the best of ``starts`` starts drawn with ``seed``)."""
    (r, alpha, a, b), best = best_fit(lambda params: loglik(params, x, t_x, T), len(PARAMS), seed, starts)
    return BGNBD(r, alpha, a, b, best)


def p_alive(m: BGNBD, x: Any, t_x: Any, T: Any) -> Any:
    """P(alive | x, t_x, T) = 1 / (1 + dropout term) (FHL 2005, equation 11)."""
    np = need("numpy")
    _, drop = _terms((m.r, m.alpha, m.a, m.b), x, t_x, T)
    return 1.0 / (1.0 + np.exp(drop))


def expected(m: BGNBD, t: float, x: Any, t_x: Any, T: Any) -> Any:
    """E[purchases in the next ``t`` weeks | x, t_x, T] (FHL 2005, equation 10)."""
    sp = need("scipy.special")
    r, alpha, a, b = m.r, m.alpha, m.a, m.b
    hyp = sp.hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
    head = (a + b + x - 1) / (a - 1)
    body = 1.0 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp
    return head * body * p_alive(m, x, t_x, T)
