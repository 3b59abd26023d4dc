"""A campaign's `message receipt|cashier` clauses: shown (rendered) when the campaign applies, led in
what `Triggers.after_receipt` returns; none when it does not apply; the clause round-trips."""

from __future__ import annotations

from loyadsl.api import compile_text
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
