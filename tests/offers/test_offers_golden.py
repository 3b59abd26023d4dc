"""Golden tests of the stdlib strategies: each is issued on the synthetic shop (data/make_history.py),
and its offers (both arms, with coupon changes, messages and cashier hints) must equal
golden/NAME.jsonl. After a deliberate change: LOYA_UPDATE_GOLDEN=1 pytest tests/offers, then review
the diff of golden/."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from loyadsl.offers.issue import issue, with_coupons
from loyadsl.offers.model import Model
from loyadsl.offers.strategy import load_strategy
from loyadsl.offers.strategy_loya import load_any
from loyadsl.runtime.state import read_customer, read_customers

STDLIB = Path(__file__).resolve().parents[2] / "loyadsl" / "offers" / "stdlib"
GOLDEN = Path(__file__).parent / "golden"
NAMES = ["replenishment", "winback", "crosssell", "tierup", "birthday"]


def birthdays(data: Path) -> dict:
    with open(data / "customers.jsonl", "rb") as f:
        states = read_customers(f, "customers.jsonl", [])
    return {cid: s.birthday for cid, s in states.items() if s.birthday}


@pytest.mark.parametrize("form", ["yaml", "loya"])
@pytest.mark.parametrize("name", NAMES)
def test_stdlib_strategy_matches_golden(name: str, form: str, shop_model: Model, shop_data: Path,
                                        shop_now: dt.datetime) -> None:
    """The .loya strategy and its YAML form issue the same offers, byte for byte."""
    issued = issue(load_any(STDLIB / f"{name}.{form}"), shop_model, shop_now, birthdays(shop_data))
    text = "".join(json.dumps(o, sort_keys=True, ensure_ascii=False) + "\n" for o in issued.offers)
    golden = GOLDEN / f"{name}.jsonl"
    if os.environ.get("LOYA_UPDATE_GOLDEN") and form == "yaml":
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")
    assert issued.offers, f"{name}: the synthetic shop is built so that every stdlib strategy issues offers"


@pytest.mark.parametrize("name", NAMES)
def test_issued_coupons_are_valid_customer_state(name: str, shop_model: Model, shop_data: Path,
                                                 shop_now: dt.datetime) -> None:
    """The coupon_issue changes apply to customer states, and the states read back as the simulator
    and the till read them (runtime/state)."""
    issued = issue(load_strategy(STDLIB / f"{name}.yaml"), shop_model, shop_now, birthdays(shop_data))
    states = with_coupons({}, issued)
    assert set(states) == {o["customer"] for o in issued.offers if o["arm"] == "offer"}
    for cid, state in states.items():
        again = read_customer(json.dumps(state.to_dict()), cid)
        codes = {o["code"] for o in issued.offers if o["customer"] == cid and o["arm"] == "offer"}
        assert {c.code for c in again.coupons} == codes
