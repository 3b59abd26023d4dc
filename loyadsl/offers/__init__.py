"""Personal offers (docs/offers.md): customer models fitted on history, offer strategies over their
scores, personal coupons issued as state changes, and a backtest against a randomised holdout.

One module per concept: ``history`` (receipts to per-customer purchase days), ``bgnbd`` and
``gammagamma`` (the published likelihoods, fitted with scipy), ``cycles``, ``affinity``, ``rfm``,
``model`` (the versioned model file), ``fit``, ``strategy`` (the YAML strategy models), ``rules`` (which
offers a customer qualifies for), ``issue`` (budget, holdout, coupons), ``backtest`` and ``cli``.
numpy and scipy come with the ``offers`` extra and are imported lazily (``errors.need``).
"""
