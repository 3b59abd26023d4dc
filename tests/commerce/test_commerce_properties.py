"""Properties of line kinds and tax (docs/commerce.md) over generated receipts: the per-line discounts,
payables and taxes add up exactly to the outcome's totals under every tax setting; deposit and
correction lines are never discounted, earn nothing and are never paid by points; and a full return
of a receipt with such lines nets the customer's state back to where it was."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, load_bundle
from loyadsl.runtime.state import CustomerState, apply

CAMPAIGNS = """
group base { priority 100  stacking stack_all  basis discounted }

campaign pct { group base  then discount 7.5% on receipt }
campaign fixed { group base  when receipt.total >= 20.00 EUR  then discount 3.33 EUR on lines where category "a" }
campaign ship { group base  then discount 50% on delivery }
"""
STATEFUL = """
account bonus { expiry never }
redemption { max share 50% }
counter orders { reset never }
campaign cashback { group base  then accrue 5% on receipt  add 1 to orders }
"""


@cache
def engine(prices: str, basis: str, rounding: str, stateful: bool = False) -> Engine:
    header = (f'programme "P" {{\n currency EUR minor 2\n points minor 0 value 0.01 EUR\n timezone "UTC"\n'
              f' rounding tax {rounding}\n tax {prices} 20% basis {basis}\n totals goods, service, deposit\n}}\n')
    text = header + CAMPAIGNS + (STATEFUL if stateful else "")
    data, result = compile_text(text, "p.loya", None)
    assert data is not None, [str(d) for d in result.diagnostics]
    return Engine(load_bundle(data))


@st.composite
def receipts(draw: st.DrawFn) -> dict[str, Any]:
    lines = []
    for i in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["goods", "goods", "service", "delivery", "deposit", "correction"]))
        qty = draw(st.integers(1, 5))
        price = draw(st.integers(0, 20_000))
        if kind in ("deposit", "correction"):
            price = -draw(st.integers(0, 2_000))
        line: dict[str, Any] = {"line_no": i + 1, "sku": f"S{i}", "category": draw(st.sampled_from(["a", "b"])),
                                "qty": qty, "unit_price": price, "amount": price * qty, "kind": kind}
        rate = draw(st.one_of(st.none(), st.sampled_from([0, 7, 10, 20, 5.5, 100])))
        if rate is not None:
            line["tax_rate"] = rate
        lines.append(line)
    receipt = {"receipt_id": "R1", "store_id": "S1", "datetime": "2026-03-02T12:00:00+00:00", "lines": lines}
    if draw(st.booleans()):
        receipt["tax"] = draw(st.sampled_from(["included", "excluded"]))
    return receipt


MODES = st.tuples(st.sampled_from(["included", "excluded"]), st.sampled_from(["gross", "net"]),
                  st.sampled_from(["floor", "ceil", "half_up", "half_even"]))


@settings(max_examples=80, deadline=None)
@given(receipts(), MODES)
def test_commerce_lines_sum_exactly(receipt: dict[str, Any], modes: tuple[str, str, str]) -> None:
    out = engine(*modes).evaluate(receipt).to_dict()
    lines, tax = out["lines"], out["tax"]
    assert out["discount_total"] == sum(line["discount"] for line in lines)
    assert out["payable"] == sum(line["payable"] for line in lines) == out["total"] - out["discount_total"]
    for key in ("tax_before", "tax_after", "net", "gross"):
        assert tax[key] == sum(row[key] for row in tax["lines"])
    for line, row, given_line in zip(lines, tax["lines"], receipt["lines"], strict=True):
        assert row["net"] + row["tax_after"] == row["gross"]
        assert line["payable"] in (row["net"], row["gross"])  # on the basis: net or gross
        if given_line["kind"] in ("deposit", "correction"):
            assert line["discount"] == 0 and line["points"] == 0
        else:
            assert 0 <= line["discount"] <= line["amount"]
            assert 0 <= row["tax_after"] <= max(row["tax_before"], 0) or row["rate"] == 0


@settings(max_examples=40, deadline=None)
@given(receipts(), MODES, st.integers(0, 500))
def test_commerce_full_return_nets_to_zero(receipt: dict[str, Any], modes: tuple[str, str, str], extra: int) -> None:
    e = engine(*modes, stateful=True)
    receipt = {**receipt, "customer_id": "C1"}
    start = CustomerState(id="C1")
    first = e.evaluate(receipt, start)
    state = apply(start, list(first.changes or ()), e.bundle.state)
    second = e.evaluate({**receipt, "receipt_id": "R2", "redeem": {"points": "max"}}, state)
    assert all(row["points_money"] <= max(row["payable"], 0) for row in (second.payment or {})["lines"])
    state = apply(state, list(second.changes or ()), e.bundle.state)
    later = dt.datetime(2026, 3, 5, tzinfo=dt.UTC) + dt.timedelta(minutes=extra)
    for outcome in (second, first):
        refund = e.refund(outcome.to_dict(), None, state, later)
        state = apply(state, list(refund.changes), e.bundle.state)
    record = state.to_dict()
    assert record["accounts"] == {} or all(a["balance"] == 0 for a in record["accounts"].values())
    assert record["counters"] == {} or all(c["value"] == 0 for c in record["counters"].values())
    assert record["receipts"] == 0
