"""End to end: a strategy's coupon, issued as a state change, is redeemed by the till like any other
coupon when the customer presents its code (data/programme.loya declares the series and campaign)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from loyadsl.api import compile_text
from loyadsl.offers.issue import issue, with_coupons
from loyadsl.offers.model import Model
from loyadsl.offers.strategy import parse_strategy
from loyadsl.runtime import Engine, load_bundle


def test_issued_coupon_is_redeemed_at_the_till(shop_model: Model, shop_data: Path, shop_now: dt.datetime) -> None:
    source = (shop_data / "programme.loya").read_text(encoding="utf-8")
    data, result = compile_text(source, "programme.loya", shop_data / "programme.loya")
    assert data is not None, [d.message for d in result.diagnostics]
    engine = Engine(load_bundle(data))
    strategy = parse_strategy({"strategy": "coffee", "currency": "USD", "holdout": "0%", "offers": [
        {"name": "coffee_due", "coupon": {"COFFEE": "coffee_10"}, "discount": "10%", "target": "fixed",
         "categories": ["COFFEE"], "valid": "14 days"}]}, "coffee.yaml")
    issued = issue(strategy, shop_model, shop_now)
    offer = next(o for o in issued.offers if o["customer"] == "R1")
    state = with_coupons({}, issued)["R1"]
    receipt = {"receipt_id": "T1", "customer_id": "R1", "datetime": "2025-06-25T10:00:00+00:00", "store_id": "S1",
               "coupons": [offer["code"]], "lines": [
                   {"line_no": 1, "sku": "c", "category": "COFFEE", "qty": 1, "unit_price": 899, "amount": 899},
                   {"line_no": 2, "sku": "m", "category": "MILK", "qty": 1, "unit_price": 189, "amount": 189}]}
    outcome = engine.evaluate(receipt, state, dt.datetime(2025, 6, 25, 10, tzinfo=dt.UTC))
    assert outcome.discount_total == 89  # 10% of 8.99, rounded down as the programme rounds by default
    assert [c["status"] for c in outcome.coupons or ()] == ["redeemed"]
    late = engine.evaluate({**receipt, "receipt_id": "T2", "datetime": "2025-07-06T10:00:00+00:00"}, state,
                           dt.datetime(2025, 7, 6, 10, tzinfo=dt.UTC))
    assert late.discount_total == 0  # valid 14 days from 2025-06-21
