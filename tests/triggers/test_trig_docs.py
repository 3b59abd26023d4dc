"""docs/triggers.md's example runs as the page says: compiled, then a customer who never comes back
gets the welcome chain's actions at the stated times; the language page's example compiles."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from loyadsl.api import compile_text
from loyadsl.runtime.bundle import load_bundle
from loyadsl.runtime.engine import Engine
from loyadsl.runtime.model import Receipt
from loyadsl.runtime.state import apply
from loyadsl.runtime.state.records import CustomerState
from loyadsl.runtime.triggers.runner import Triggers

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(r"```loya\n(.*?)```", re.S)


def test_the_triggers_page_example_runs_as_documented() -> None:
    text = BLOCK.findall((DOCS / "triggers.md").read_text(encoding="utf-8"))[0]
    data, result = compile_text(text, "example.loya")
    assert data is not None, [str(d) for d in result.diagnostics]
    bundle = load_bundle(data)
    engine = Engine(bundle)
    triggers = Triggers(engine)
    state = CustomerState(id="C1")
    receipt = Receipt.from_dict({"receipt_id": "R1", "customer_id": "C1", "datetime": "2026-03-02T20:30:00+00:00",
                                 "store_id": "S1", "lines": [{"line_no": 1, "sku": "A", "category": "food", "qty": 1,
                                                              "unit_price": 10000, "amount": 10000}]})
    outcome = engine.evaluate(receipt, state)
    state = apply(state, outcome.changes or (), bundle.state)
    result_ = triggers.after_receipt(state, receipt, outcome)
    actions = list(result_.actions)
    state = apply(state, result_.changes, bundle.state)
    now = dt.datetime(2026, 3, 3, tzinfo=dt.UTC)
    while now < dt.datetime(2026, 3, 20, tzinfo=dt.UTC):
        step = triggers.advance(state, now)
        state = apply(state, step.changes, bundle.state)
        actions += step.actions
        now += dt.timedelta(hours=1)
    assert [(a["at"], a["kind"], a.get("channel")) for a in actions] == [
        ("2026-03-02T20:30:00+00:00", "accrue", None),
        ("2026-03-03T06:00:00+00:00", "message", "push"),  # 23:30 in Moscow: after the quiet hours
        ("2026-03-05T20:30:00+00:00", "issue", None),
        ("2026-03-06T06:00:00+00:00", "message", "push"),
        ("2026-03-13T06:00:00+00:00", "message", "sms"),
    ]
    assert actions[1]["text"] == "Welcome, ! You have 100 points."
    assert actions[3]["fallback"][0]["channel"] == "sms"
    assert actions[4]["text"] == "We miss you"


def test_the_language_page_example_compiles() -> None:
    text = (DOCS / "language.md").read_text(encoding="utf-8")
    example = BLOCK.findall(text[text.index("## Triggers and trigger chains"):])[0]
    data, result = compile_text(example, "example.loya")
    assert data is not None, [str(d) for d in result.diagnostics]
    assert load_bundle(data).triggers[0].event.kind == "birthday"
