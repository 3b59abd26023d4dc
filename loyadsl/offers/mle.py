"""The maximum-likelihood fit the BG/NBD and Gamma-Gamma models share: L-BFGS-B on the logs of the
parameters (so they stay positive), from a start at zero and ``starts - 1`` starts drawn with ``seed``;
the best optimum wins, so the result depends only on the data and the seed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import need

# converge well past the 6 significant digits the model file keeps, so they do not depend on where the
# optimiser happened to stop (the default tolerances left the fourth digit of a flat likelihood loose)
TIGHT = {"ftol": 1e-15, "gtol": 1e-10, "maxiter": 5000}


def best_fit(loglik: Callable[[Any], Any], size: int, seed: int, starts: int) -> tuple[list[float], float]:
    """The parameters (``size`` of them) that maximise ``sum(loglik(params))``, and that maximum."""
    np, optimize = need("numpy"), need("scipy.optimize")
    rng = np.random.default_rng(seed)

    def negative(logp: Any) -> float:
        value = -float(np.sum(loglik(np.exp(logp))))
        return value if np.isfinite(value) else 1e300

    best = None
    for start in [np.zeros(size), *(rng.normal(0.0, 1.0, size) for _ in range(starts - 1))]:
        result = optimize.minimize(negative, start, method="L-BFGS-B", bounds=[(-12.0, 12.0)] * size,
                                   options=TIGHT)
        if best is None or result.fun < best.fun:
            best = result
    assert best is not None
    return [float(v) for v in np.exp(best.x)], -float(best.fun)
