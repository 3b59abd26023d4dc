"""The tick (docs/triggers.md, "Tick"): time alone sends birthday greetings and moves customers between
segments, in a host's loop (tests/triggers/cases/tick.test.yaml) and over a simulation's clock."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from loyadsl.api import compile_file
from loyadsl.mechtest.runner import run_file
from loyadsl.runtime import Engine, load_bundle
from loyadsl.runtime.state import CustomerState, apply, invert
from loyadsl.runtime.triggers.tick import Ticker
from loyadsl.simulate.run import Simulation

HERE = Path(__file__).parent
TICK = HERE / "cases" / "tick.loya"


def test_the_tick_timelines_pass() -> None:
    result = run_file(HERE / "cases" / "tick.test.yaml", "tick.test.yaml")
    assert not result.errors and len(result.cases) == 3
    assert [str(d) for c in result.cases for d in c.diagnostics] == []


def test_a_tick_is_idempotent_and_inverts() -> None:
    data, _ = compile_file(TICK)
    assert data is not None
    engine = Engine(load_bundle(data))
    ticker = Ticker(engine)
    state = CustomerState.from_dict({"id": "C1", "birthday": "1990-02-14"}, engine.bundle.state)
    bought = engine.evaluate({"receipt_id": "R1", "customer_id": "C1", "datetime": "2026-01-10T12:00:00+03:00",
                              "store_id": "S1", "lines": [{"line_no": 1, "sku": "A", "category": "food", "qty": 1,
                                                           "unit_price": 10000, "amount": 10000}]}, state)
    state = apply(state, bought.changes or (), engine.bundle.state)
    since, now = dt.datetime(2026, 4, 9, 9, tzinfo=dt.UTC), dt.datetime(2026, 4, 10, 9, tzinfo=dt.UTC)
    tick = ticker.tick(state, now, since)
    assert [a["trigger"] for a in tick.actions] == ["nap"]
    after = apply(state, tick.changes, engine.bundle.state)
    assert apply(after, invert(state, tick.changes, engine.bundle.state), engine.bundle.state) == state
    again = ticker.tick(after, now, now)  # the same moment, looked at again: nothing new
    assert again.changes == [] and again.actions == []


def test_the_simulation_ticks_birthdays_and_segments_between_receipts() -> None:
    bundle, _ = compile_file(TICK)
    assert bundle is not None
    report = Simulation(bundle, [HERE / "data" / "tick_receipts.jsonl"],
                        customers=HERE / "data" / "tick_customers.jsonl").run()
    rows = {r["trigger"]: r for r in report["triggers"]}
    # receipts on 2026-01-10 and 2027-03-01 only: two birthdays (2026-02-14, 2027-02-14) between them,
    # sleeping from 2026-04-10 and churned from 2027-01-10 (tick.test.yaml's header says why)
    assert (rows["happy"]["entered"], rows["happy"]["messages"]) == (2, {"sms": 2})
    assert (rows["nap"]["entered"], rows["nap"]["messages"]) == (1, {"push": 1})
    assert (rows["gone"]["entered"], rows["gone"]["messages"]) == (1, {"sms": 1})
