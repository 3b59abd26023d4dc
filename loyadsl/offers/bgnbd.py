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

PARAMS = ("r", "alpha", "a", "b")

# converge well past the 6 significant digits the model file keeps, so they do not depend on where the
# optimiser happened to stop (the default tolerances left the fourth digit of a flat likelihood loose)
TIGHT = {"ftol": 1e-15, "gtol": 1e-10, "maxiter": 5000}


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
    """Maximum likelihood by L-BFGS-B on log-parameters, from a default start and ``starts - 1`` starts
    drawn with ``seed``; the best optimum wins, so the result depends only on the data and the seed."""
    np, optimize = need("numpy"), need("scipy.optimize")
    rng = np.random.default_rng(seed)

    def negative(logp: Any) -> float:
        value = -float(np.sum(loglik(np.exp(logp), x, t_x, T)))
        return value if np.isfinite(value) else 1e300

    best = None
    for start in [np.zeros(4), *(rng.normal(0.0, 1.0, 4) for _ in range(starts - 1))]:
        result = optimize.minimize(negative, start, method="L-BFGS-B", bounds=[(-12.0, 12.0)] * 4,
                                   options=TIGHT)
        if best is None or result.fun < best.fun:
            best = result
    assert best is not None
    r, alpha, a, b = (float(v) for v in np.exp(best.x))
    return BGNBD(r, alpha, a, b, -float(best.fun))


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
