"""Properties of unit-level discounts and redemption in steps (docs/units.md), over random receipts:

* the closed form (runtime/units.py) picks exactly the units a plain expansion of every unit picks;
* a campaign's discount is the exact sum of its lines', no line gets more than it costs, and each
  line's amount is the expansion's (per unit: each unit rounded; per line: rounded once);
* redeemed points are a whole number of steps, within the balance and the limits;
* a full return of a receipt with unit discounts, cashback and redemption in steps nets the
  customer's state back to where it was.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, load_bundle
from loyadsl.runtime.model import Line
from loyadsl.runtime.money import ROUNDERS
from loyadsl.runtime.state import CustomerState, apply
from loyadsl.runtime.units import picks

MILLION = 1_000_000
HEADER = '''programme "P" {{
    currency RUB minor 2
    points minor 0 value 1.00 RUB
    timezone "Europe/Moscow"
    rounding discount {rounding}
}}
account bonus {{ expiry never }}
redemption {{
    accounts bonus
    max share 50%
    steps {steps} points
}}
group promo {{ priority 10 stacking stack_all basis original }}
group cash {{ priority 1 stacking stack_all basis discounted }}
campaign cashback {{ group cash audience customer.known then accrue 5% on receipt }}
'''


def engine(action: str, limit: str = "", rounding: str = "floor", steps: int = 100) -> Engine:
    text = HEADER.format(rounding=rounding, steps=steps) + \
        f"campaign unit {{\n    group promo\n    {limit}\n    then {action}\n}}\n"
    data, result = compile_text(text, "p.loya", Path("p.loya"))
    assert data is not None, [str(d) for d in result.diagnostics]
    return Engine(load_bundle(data))


# (sku, qty in thousandths, unit price): weighed lines (a fraction of a unit) at times
LINES = st.lists(st.tuples(st.sampled_from(["A", "B", "X"]), st.sampled_from([1000, 2000, 3000, 5000, 1500, 2250, 500]),
                           st.integers(0, 50_000)), min_size=1, max_size=6)


def lines_of(items: list[tuple[str, int, int]]) -> list[Line]:
    return [msgspec.structs.replace(Line.of(i + 1, sku, "misc", qty, price, price * qty // 1000), index=i)
            for i, (sku, qty, price) in enumerate(items)]


def expanded(lines: list[Line], basis: list[int], nth: int, every: int, budget: int | None) -> dict[int, list[int]]:
    """Every whole unit in a row, most valuable first (ties: line_no); position nth of each complete
    group of every; the first ``budget`` of them: line index -> the picked units' values."""
    units = sorted((-(line.price * basis[line.index] // line.amount if line.amount else 0), line.line_no, line.index)
                   for line in lines for _ in range(line.units))
    if every == 0:  # one group of all the units; a negative nth counts from the cheapest end
        every, nth = len(units), (nth if nth > 0 else len(units) + nth + 1)
    full = len(units) // every * every if every else 0
    chosen = [u for p, u in enumerate(units[:full]) if p % every == nth - 1]
    if budget is not None:
        chosen = chosen[:budget]
    out: dict[int, list[int]] = {}
    for neg, _, i in chosen:
        out.setdefault(i, []).append(-neg)
    return out


@settings(max_examples=300, deadline=None)
@given(LINES, st.integers(0, 5), st.data(), st.one_of(st.none(), st.integers(0, 6)), st.booleans())
def test_units_closed_form_picks_what_the_expansion_picks(items: list[tuple[str, int, int]], every: int,
                                                          data: st.DataObject, budget: int | None,
                                                          discounted: bool) -> None:
    lines = lines_of(items)
    nth = data.draw(st.integers(1, every) if every else st.integers(-8, 8), label="nth")
    basis = [line.amount * 3 // 4 if discounted else line.amount for line in lines]
    r = SimpleNamespace(match=lambda _: lines, basis=basis, budget=budget, vec=None, nlines=len(lines))
    got = {i: (value, count) for i, value, count in picks(r, 0, nth, every)}
    want = expanded(lines, basis, nth, every, budget)
    assert {i: (values[0], len(values)) for i, values in want.items()} == got
    used = sum(count for _, count in got.values())
    assert r.budget == (None if budget is None else budget - used)


def receipt(items: list[tuple[str, int, int]], customer: str | None = None, redeem: Any = None) -> dict[str, Any]:
    data: dict[str, Any] = {"receipt_id": "R1", "store_id": "S1", "datetime": "2026-03-05T12:00:00+03:00",
                            "lines": [{"line_no": i + 1, "sku": sku, "category": "misc", "qty": qty / 1000,
                                       "unit_price": price, "amount": price * qty // 1000}
                                      for i, (sku, qty, price) in enumerate(items)]}
    if customer is not None:
        data["customer_id"] = customer
    if redeem is not None:
        data["redeem"] = {"points": redeem}
    return data


PICKS = st.sampled_from(["unit 1", "unit 2", "cheapest unit", "most_expensive unit"])
EVERY = st.sampled_from([0, 2, 3, 4])  # 0: no `of every N units`, one group of all the selected units


@settings(max_examples=120, deadline=None)
@given(LINES, PICKS, EVERY, st.sampled_from(["50%", "33.33%", "100%", "7.00 RUB", "price 1.00 RUB", "price 0 RUB"]),
       st.sampled_from(["", " rounded per unit", " rounded per line"]), st.sampled_from(["floor", "half_up", "ceil"]),
       st.sampled_from(["", "limit 3 per receipt"]))
def test_units_discounts_sum_exactly_and_match_the_expansion(items: list[tuple[str, int, int]], pick: str,
                                                              every: int, value: str, rounded: str, rounding: str,
                                                              limit: str) -> None:
    money, price = value.endswith("RUB"), value.startswith("price")
    groups = f"every {every} units of " if every else ""
    action = f"{value if price else 'discount ' + value} on {pick} of {groups}lines where sku in [\"A\", \"B\"]" + \
        ("" if money else rounded)
    e = engine(action, limit, rounding)
    o = e.evaluate(receipt(items)).to_dict()
    lines = lines_of(items)
    nth = {"unit 1": 1, "unit 2": 2, "cheapest unit": every or -1, "most_expensive unit": 1}[pick]
    selected = [line for line in lines if line.sku in ("A", "B")]
    want = expanded(selected, [line.amount for line in lines], nth, every, 3 if limit else None)
    rnd = ROUNDERS[rounding]
    for line, out in zip(lines, o["lines"], strict=True):
        values = want.get(line.index, [])
        if price:  # each picked unit costs the price: its value less that, never below zero
            expect = sum(max(0, v - (100 if "1.00" in value else 0)) for v in values)
        elif money:
            expect = sum(min(700, v) for v in values)
        elif rounded == " rounded per line":
            expect = rnd(sum(values) * int(float(value[:-1]) * 10_000), MILLION)
        else:
            expect = sum(rnd(v * int(float(value[:-1]) * 10_000), MILLION) for v in values)
        assert out["discount"] == min(expect, line.amount)
        assert 0 <= out["discount"] <= line.amount
    assert o["discount_total"] == sum(out["discount"] for out in o["lines"])
    assert sum(effect["total"] for effect in o["effects"]) == o["discount_total"]


def customer(points: int) -> CustomerState:
    lots = [{"id": "L1", "points": points, "left": points, "active_from": "2026-01-01T00:00:00+00:00"}] if points else []
    return CustomerState.from_dict({"id": "C1", "accounts": {"bonus": {"balance": points, "lots": lots}}})


def without_returns(state: CustomerState) -> dict[str, Any]:
    data = state.to_dict()
    data.pop("returns")
    data.pop("applied")
    return data


STEPPED = {steps: engine("discount 50% on unit 2 of every 2 units of lines where sku in [\"A\", \"B\"]", steps=steps)
           for steps in (1, 7, 100)}


@settings(max_examples=150, deadline=None)
@given(LINES, st.sampled_from(sorted(STEPPED)), st.integers(0, 2000), st.one_of(st.just("max"), st.integers(0, 3000)))
def test_units_redemption_in_steps_and_a_full_return_nets_to_zero(items: list[tuple[str, int, int]], steps: int,
                                                                   balance: int, redeem: Any) -> None:
    e = STEPPED[steps]
    before = customer(balance)
    o = e.evaluate(receipt(items, "C1", redeem), before)
    assert o.payment is not None
    paid = o.payment["points"]
    assert paid % steps == 0 and 0 <= paid <= balance
    assert paid <= (balance if redeem == "max" else min(redeem, balance))
    unstepped = STEPPED[1].evaluate(receipt(items, "C1", redeem), before).payment
    assert unstepped is not None
    assert paid == unstepped["points"] - unstepped["points"] % steps  # the step below what the limits allow
    assert (o.payment["limited_by"] == "steps") == (paid != unstepped["points"])
    after = apply(before, list(o.changes or ()), e.bundle.state)
    back = e.refund(o, None, after, dt.datetime(2026, 3, 6, 12, tzinfo=dt.UTC))
    restored = apply(after, list(back.changes), e.bundle.state)
    assert without_returns(restored) == without_returns(before)
    assert back.discount == o.discount_total
    assert back.money + back.points_money + back.certificates_money == o.payable


def stateless_shop() -> Engine:
    """units_shop.loya without its account, redemption and cashback: the stateless path, where the
    generated driver runs unless a trace is asked for (runtime/driver.py)."""
    text = (Path(__file__).parent / "units_shop.loya").read_text(encoding="utf-8")
    for start, end in (("account bonus", "skus coffee"), ('campaign cashback', None)):
        cut = text.index(start)
        text = text[:cut] + (text[text.index(end):] if end else "")
    text += 'group first { priority 20 stacking best_for_customer basis discounted }\n' \
            'campaign best_a { group first then discount 40% on unit 1 of every 2 units of lines where sku in coffee }\n' \
            'campaign best_b { group first then discount 15.00 RUB on cheapest unit of every 2 units of lines }\n'
    data, result = compile_text(text, "shop.loya", Path("shop.loya"))
    assert data is not None, [str(d) for d in result.diagnostics]
    engine = Engine(load_bundle(data))
    assert "def drive" in engine.driver_source
    return engine


SHOP_ENGINE = stateless_shop()
SHOP_LINES = st.lists(st.tuples(st.sampled_from(["C1", "C2", "C3", "T1", "H1", "K1", "K2", "K3", "J1", "J2", "X"]),
                                st.sampled_from([1000, 2000, 3000, 7000, 2500]), st.integers(0, 30_000)),
                      min_size=1, max_size=8)


@settings(max_examples=150, deadline=None)
@given(SHOP_LINES)
def test_units_driver_and_general_loop_agree(items: list[tuple[str, int, int]]) -> None:
    """The generated driver (no trace) and the general loop (with a trace) give the same outcome."""
    data = receipt(items)
    fast = SHOP_ENGINE.evaluate(data).to_dict()
    slow = SHOP_ENGINE.evaluate(data, explain=True).to_dict()
    for key in ("lines", "effects", "applied", "discount_total", "payable", "points_total"):
        assert fast[key] == slow[key], key
    assert [(r["campaign"], r["reason"]) for r in fast["rejected"]] == \
        [(r["campaign"], r["reason"]) for r in slow["rejected"]]
