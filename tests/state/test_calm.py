"""``advance`` remembers, on a state it found nothing due in, until when only its lots can come due
(``advance.Calm``), and a state changed in place keeps that only through the changes that keep it
(``advance.keeps``, in ``changes._run``). On random programmes with state and one customer's random
history applied in place (as the simulator's replay does), ``advance`` at each receipt's time and at
later times gives what it gives on a copy of the same state that remembers nothing."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, LoyaError, load_bundle
from loyadsl.runtime.model import utc_seconds
from loyadsl.runtime.state import CustomerState, advance, apply_in_place, working_copy
from tests.fuzz.test_fuzz_stateful import histories, programmes

_advance = sys.modules["loyadsl.runtime.state.advance"]


def _fresh(state: CustomerState) -> CustomerState:
    return state.model_copy()  # (its private fields are new: no calm)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(programmes(), histories(), st.lists(st.sampled_from([0, 1, 3600, 86400, 20 * 86400, 95 * 86400]),
                                           min_size=1, max_size=3))
def test_a_calm_state_advances_as_one_that_remembers_nothing(source: str, receipts: list[dict[str, Any]],
                                                             later: list[int]) -> None:
    data, _ = compile_text(source, "p.loya")
    assume(data is not None)
    assert data is not None
    engine = Engine(load_bundle(data))
    engine.lazy_changes = True  # the ledger's typed records, as the replay's engine keeps them
    assume(engine._stateful)
    decls, local = engine.bundle.state, engine.local_date
    state = working_copy(CustomerState.from_dict({"id": "C1", "segments": ["vip"]}, decls))
    for receipt in receipts:
        utc = utc_seconds(dt.datetime.fromisoformat(receipt["datetime"]))
        for t in (utc, *(utc + d for d in later)):
            assert advance(state, decls, t, local) == advance(_fresh(state), decls, t, local)
        try:
            outcome = engine.evaluate(receipt, state)
            apply_in_place(state, outcome.changes or (), decls)
        except LoyaError:
            continue


def test_the_calm_is_kept_by_a_receipts_records_and_dropped_by_anything_else() -> None:
    source = 'programme "P" version "1" {\n currency RUB minor 2\n timezone "UTC"\n}\n' \
        'account bonus { activation 0 days  expiry end of quarter  default }\n' \
        'counter visits { reset month }\n' \
        'group g { priority 1  stacking stack_all  basis original }\n' \
        'campaign a "A" { group g  then accrue 5% on receipt\n  add 1 to visits }\n'
    data, result = compile_text(source, "p.loya")
    assert data is not None, result.diagnostics
    engine = Engine(load_bundle(data))
    engine.lazy_changes = True  # the ledger's typed records, as the replay's engine keeps them
    decls = engine.bundle.state
    state = working_copy(CustomerState(id="C1"))
    receipt = {"receipt_id": "R1", "customer_id": "C1", "datetime": "2025-03-03T12:00:00+00:00", "store_id": "S1",
               "lines": [{"line_no": 1, "sku": "Q", "category": "x", "qty": 1, "unit_price": 10000, "amount": 10000}]}
    outcome = engine.evaluate(receipt, state)
    calm = state.__pydantic_private__["_calm"]  # type: ignore[index]
    assert calm.day == dt.date(2025, 4, 1).toordinal() and calm.counters == {"visits": "2025-03"}
    apply_in_place(state, outcome.changes, decls)
    assert state.__pydantic_private__["_calm"] is calm  # type: ignore[index]  # applied, lot, counter, receipt
    april = utc_seconds(dt.datetime(2025, 4, 2, tzinfo=dt.UTC))
    assert advance(state, decls, april, engine.local_date)[0] != []  # past the calm: the month's counter resets
    apply_in_place(state, [{"op": "receipt", "receipt": "R0", "delta": 1}], decls)
    assert "_calm" not in state.__pydantic_private__  # type: ignore[operator]  # a change as JSON: not known to keep it
    changes = list(outcome.changes.items)  # type: ignore[attr-defined]
    counter = next(c for c in changes if type(c).__name__ == "CounterChange")
    assert _advance.keeps(calm, counter) and not _advance.keeps(calm, counter._replace(period="2025-02"))
    assert not _advance.keeps(calm, {"op": "coupon_expire", "code": "X", "series": "s"})
