"""Model scores as metrics (docs/offers.md, "Scores in the language"): ``model`` reads a value of the
customer state's ``scores`` record, ``model_has`` whether it is there (1/0). The checker puts a
``model_has`` test before every condition that reads a score, so a missing one never reads as 0."""

from __future__ import annotations

from ..state.records import CustomerState
from .decls import Metric

DAY = 86400
NEXT = "next_purchase:"


def model_number(state: CustomerState, m: Metric, today: int) -> int:
    """The score on the language's scale; ``next_purchase:C`` is the time from ``today`` to the day
    the purchase is expected, in seconds (a duration; negative when overdue)."""
    scores = state.scores
    key = m.field or ""
    value = None if scores is None else scores.values.get(key)
    if m.kind == "model_has":
        return int(value is not None)
    if value is None:
        return 0
    return (value - today) * DAY if key.startswith(NEXT) else value
