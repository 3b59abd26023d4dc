"""The questionnaire bonus (std:questionnaire_bonus, docs/segments.md): granted once per customer,
idempotent under a repeated evaluation, and its full return gives the use back and takes the points,
so the next purchase earns it again."""

from __future__ import annotations

import datetime as dt
from typing import Any

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, load_bundle
from loyadsl.runtime.state import CustomerState, apply

PROGRAMME = """programme "Q" { currency RUB minor 2  timezone "Europe/Moscow"  points value 1.00 RUB }
import "std:questionnaire_bonus"
account bonus { expiry never }
profile { birth_date date  city string }
group base { priority 100  stacking stack_all  basis original }
campaign filled_in uses questionnaire_bonus(bonus = 300 points) { group base }
"""


def _engine() -> Engine:
    bundle, result = compile_text(PROGRAMME)
    assert bundle is not None, [str(d) for d in result.diagnostics]
    return Engine(load_bundle(bundle))


def _receipt(rid: str, day: int) -> dict[str, Any]:
    return {"receipt_id": rid, "customer_id": "C1", "datetime": f"2026-03-{day:02d}T12:00:00+03:00",
            "store_id": "S1", "lines": [{"line_no": 1, "sku": "A", "category": "food", "qty": 1,
                                         "unit_price": 50000, "amount": 50000}]}


def test_once_then_returned_then_earned_again() -> None:
    engine = _engine()
    state = CustomerState.from_dict({"id": "C1", "birthday": "1990-05-04", "city": "Moscow"})
    first = engine.evaluate(_receipt("R1", 2), state)
    assert list(first.applied) == ["filled_in"] and first.points_total == 300
    assert engine.evaluate(_receipt("R1", 2), state) == first  # evaluating again changes nothing
    state = apply(state, list(first.changes or ()))
    assert state.accounts["bonus"].balance == 300
    second = engine.evaluate(_receipt("R2", 3), state)
    assert list(second.applied) == [] and second.points_total == 0  # once per customer
    state = apply(state, list(second.changes or ()))
    refund = engine.refund(first, None, state, dt.datetime(2026, 3, 4, 9, 0, tzinfo=dt.UTC))
    state = apply(state, list(refund.changes))
    assert "bonus" not in state.accounts or state.accounts["bonus"].balance == 0
    assert not state.usage.get("filled_in")
    third = engine.evaluate(_receipt("R3", 5), state)
    assert list(third.applied) == ["filled_in"] and third.points_total == 300


def test_not_filled_in_gets_nothing() -> None:
    outcome = _engine().evaluate(_receipt("R1", 2), {"id": "C1", "city": "Moscow"})
    assert list(outcome.applied) == []
