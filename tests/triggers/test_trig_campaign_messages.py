"""A campaign's `message receipt|cashier` clauses: shown (rendered) when the campaign applies, in
`Outcome.messages` (its JSON, `loya eval`) and led in what `Triggers.after_receipt` returns; none when
it does not apply; the clause round-trips."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from loyadsl.api import compile_text
from loyadsl.cli import app
from loyadsl.runtime.bundle import load_bundle
from loyadsl.runtime.engine import Engine
from loyadsl.runtime.model import Receipt
from loyadsl.runtime.state import apply
from loyadsl.runtime.state.records import CustomerState
from loyadsl.runtime.triggers.runner import Triggers
from loyadsl.syntax.parser import parse
from loyadsl.syntax.printer import format_module
from loyadsl.syntax.yaml_twin import parse_yaml, to_yaml

PROGRAMME = """programme "T" { currency RUB minor 2  timezone "Europe/Moscow" }
account bonus { }
group base { priority 100  stacking stack_all  basis original }
campaign cashback "Cashback" {
    group base
    when receipt.total >= 100.00 RUB
    then accrue 5% on receipt
    message receipt "You earned {{ accrued }} points, {{ balance }} in all"
    message cashier "{% if name %}Greet {{ name }}{% else %}Offer a card{% endif %}"
}
"""


def _run(amount: int, customer: CustomerState) -> list[tuple[str, str]]:
    data, result = compile_text(PROGRAMME, "p.loya")
    assert data is not None, [str(d) for d in result.diagnostics]
    bundle = load_bundle(data)
    engine = Engine(bundle)
    receipt = Receipt.from_dict({"receipt_id": "R1", "customer_id": customer.id, "datetime": "2026-03-02T12:00:00+00:00",
                                 "store_id": "S", "lines": [{"line_no": 1, "sku": "A", "category": "x", "qty": 1,
                                                             "unit_price": amount, "amount": amount}]})
    outcome = engine.evaluate(receipt, customer)
    state = apply(customer, outcome.changes or (), bundle.state)
    return [(a["channel"], a["text"]) for a in Triggers(engine).after_receipt(state, receipt, outcome).actions]


def test_messages_of_an_applied_campaign_are_rendered() -> None:
    assert _run(20000, CustomerState(id="C1", attributes={"name": "Anna"})) == [
        ("receipt", "You earned 10 points, 10 in all"), ("cashier", "Greet Anna")]


def test_no_message_when_the_campaign_does_not_apply() -> None:
    assert _run(5000, CustomerState(id="C1")) == []


def test_the_clause_round_trips_through_fmt_and_yaml() -> None:
    module, diags = parse(PROGRAMME, "p.loya")
    assert module is not None and not diags
    assert parse(format_module(module), "p.loya")[0] == module
    assert parse_yaml(to_yaml(module), "p.yaml")[0] == module


# --- Outcome.messages (docs/triggers.md, "Messages"): the till's messages come with the outcome itself

def _outcome(amount: int, customer: CustomerState | None, programme: str = PROGRAMME) -> dict[str, object]:
    data, _ = compile_text(programme, "p.loya")
    assert data is not None
    engine = Engine(load_bundle(data))
    return engine.evaluate({"receipt_id": "R1", "customer_id": None if customer is None else customer.id,
                            "datetime": "2026-03-02T12:00:00+00:00", "store_id": "S",
                            "lines": [{"line_no": 1, "sku": "A", "category": "x", "qty": 1, "unit_price": amount,
                                       "amount": amount}]}, customer).to_dict()


def test_the_outcome_carries_the_rendered_messages_in_its_json() -> None:
    o = _outcome(20000, CustomerState(id="C1", attributes={"name": "Anna"}))
    assert o["messages"] == [{"campaign": "cashback", "channel": "receipt", "text": "You earned 10 points, 10 in all"},
                             {"campaign": "cashback", "channel": "cashier", "text": "Greet Anna"}]


def test_an_anonymous_receipt_gets_them_too_without_a_name_or_balance() -> None:
    o = _outcome(20000, None)
    assert [m["text"] for m in o["messages"]] == ["You earned 10 points, 0 in all", "Offer a card"]  # type: ignore[union-attr]


def test_outcomes_without_messages_keep_their_json() -> None:
    assert "messages" not in _outcome(5000, CustomerState(id="C1"))  # the campaign did not apply
    plain = PROGRAMME.replace('    message receipt "You earned {{ accrued }} points, {{ balance }} in all"\n', "") \
        .replace('    message cashier "{% if name %}Greet {{ name }}{% else %}Offer a card{% endif %}"\n', "")
    assert "messages" not in _outcome(20000, CustomerState(id="C1"), plain)


def test_loya_eval_prints_them(tmp_path: Path) -> None:
    (tmp_path / "p.loya").write_text(PROGRAMME, encoding="utf-8")
    (tmp_path / "r.json").write_text(json.dumps({
        "receipt_id": "R1", "customer_id": None, "datetime": "2026-03-02T12:00:00+00:00", "store_id": "S",
        "lines": [{"line_no": 1, "sku": "A", "category": "x", "qty": 1, "unit_price": 20000, "amount": 20000}]}),
        encoding="utf-8")
    text = CliRunner().invoke(app, ["eval", str(tmp_path / "p.loya"), str(tmp_path / "r.json")]).stdout
    assert "✉ cashier (cashback): Offer a card" in text
    out = json.loads(CliRunner().invoke(app, ["eval", str(tmp_path / "p.loya"), str(tmp_path / "r.json"),
                                              "-f", "json"]).stdout)
    assert out["outcomes"][0]["messages"][0]["text"] == "You earned 10 points, 0 in all"
