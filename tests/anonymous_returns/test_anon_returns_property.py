"""Property: anonymous receipts returned in full, in any number of parts, net the programme-wide counts
(usage-limit uses, budgets given) to zero, and money given back plus the discount equals what was sold."""

from __future__ import annotations

from typing import Any

from anon_host import AnonymousHost
from hypothesis import given, settings
from hypothesis import strategies as st
from test_anon_returns_golden import engine_of

ENGINE = engine_of("programme.loya")
line = st.tuples(st.integers(1, 4), st.integers(100, 40000))  # qty, unit price
receipt_lines = st.lists(line, min_size=1, max_size=4)


def receipt(n: int, lines: list[tuple[int, int]]) -> dict[str, Any]:
    return {"receipt_id": f"A{n}", "datetime": f"2026-03-01T12:{n:02d}:00+03:00", "store_id": f"S{n % 2}",
            "lines": [{"line_no": i + 1, "sku": f"K{i}", "category": "food", "qty": q, "unit_price": p,
                       "amount": q * p} for i, (q, p) in enumerate(lines)]}


@settings(max_examples=60, deadline=None)
@given(st.lists(receipt_lines, min_size=1, max_size=5), st.data())
def test_anon_full_returns_net_to_zero(sales: list[list[tuple[int, int]]], data: st.DataObject) -> None:
    host = AnonymousHost(ENGINE)
    sold = [host.sell(receipt(n, lines)) for n, lines in enumerate(sales)]
    for n, outcome in enumerate(sold):
        left = {i + 1: q for i, (q, _) in enumerate(sales[n])}
        paid_back, part = 0, 0
        while any(left.values()):
            line_no = data.draw(st.sampled_from([ln for ln, q in left.items() if q]))
            qty = data.draw(st.integers(1, left[line_no]))
            left[line_no] -= qty
            refund = host.give_back(outcome.receipt_id, {line_no: qty}, "2026-03-02T12:00:00+03:00", f"R{n}-{part}")
            assert refund.full == (not any(left.values()))
            paid_back, part = paid_back + refund.money, part + 1
        assert paid_back == outcome.payable
    assert host.counters() == {"uses": {}, "spent": {}}
