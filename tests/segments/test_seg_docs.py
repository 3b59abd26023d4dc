"""docs/segments.md: its example programme compiles and does what the page says; its score example
and its YAML twin example parse and check."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from loyadsl.api import check_text, compile_text
from loyadsl.runtime import Engine, load_bundle
from loyadsl.syntax.parser import parse
from loyadsl.syntax.printer import format_module

DOC = (Path(__file__).resolve().parents[2] / "docs" / "segments.md").read_text("utf-8")
BLOCKS = re.findall(r"^```(loya|yaml)\n(.*?)^```", DOC, re.M | re.S)
EXAMPLE = BLOCKS[0][1]
HEADER = 'programme "p" { currency RUB minor 2  timezone "Europe/Moscow" }\n'


def test_the_example_wins_back_a_sleeping_customer() -> None:
    bundle, result = compile_text(EXAMPLE)
    assert bundle is not None, [str(d) for d in result.diagnostics]
    engine = Engine(load_bundle(bundle))
    last = dt.date(2026, 3, 5).toordinal() - 200  # the last purchase 200 days ago: sleeping
    customer = {"id": "C1", "city": "Moscow", "birthday": "1990-05-04",
                "history": {"days": [], "spend": 90000, "receipts": 3, "first": last - 40, "last": last}}
    receipt = {"receipt_id": "R1", "customer_id": "C1", "datetime": "2026-03-05T12:00:00+03:00", "store_id": "S1",
               "lines": [{"line_no": 1, "sku": "A", "category": "coffee", "qty": 1, "unit_price": 20000,
                          "amount": 20000}]}
    outcome = engine.evaluate(receipt, customer)
    assert list(outcome.applied) == ["come_back"]
    assert [line.discount for line in outcome.lines] == [3000]  # 15% of 200.00
    assert list(outcome.events) == [{"event": "segment_left", "segment": "sleeping", "customer": "C1"}]


def test_the_example_is_in_canonical_form_once_formatted() -> None:
    module, diags = parse(EXAMPLE)
    assert module is not None and not diags
    text = format_module(module)
    again, _ = parse(text)
    assert again is not None and format_module(again) == text


def test_the_score_example_checks() -> None:
    score = next(text for kind, text in BLOCKS if kind == "loya" and text.startswith("score"))
    result = check_text(HEADER + score)
    assert not [d for d in result.diagnostics if d.is_error]


def test_the_yaml_example_checks() -> None:
    twin = next(text for kind, text in BLOCKS if kind == "yaml")
    text = "programme: {name: p, currency: RUB, minor: 2, timezone: Europe/Moscow}\n" + twin
    result = check_text(text, "p.yaml")
    assert not [d for d in result.diagnostics if d.is_error], [str(d) for d in result.diagnostics]
