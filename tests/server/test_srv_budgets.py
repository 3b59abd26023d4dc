"""A programme-wide budget is never overspent by concurrent confirms: the example's `weekend_points`
(50 points per Saturday receipt from 3,000 RUB, `budget 200000 points`) with 120 points left, and 20
customers confirming at once (threads on the processor, both backends)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from srv_support import Server

from loyadsl.server.store import Key

LEFT = 120


def _saturday(n: int) -> dict[str, Any]:
    return {"receipt_id": f"SAT-{n}", "customer_id": f"W{n}", "datetime": "2025-03-01T12:00:00+03:00",
            "store_id": "S001", "lines": [{"line_no": 1, "sku": "SKU00803", "category": "meat/fresh_meat",
                                            "brand": "BR148", "qty": 1, "unit_price": 400000, "amount": 400000}]}


def test_concurrent_confirms_never_overspend_a_budget(server: Server) -> None:
    processor = server.processor
    processor.import_customers([{"id": f"W{n}"} for n in range(20)])
    with server.store.transaction(write=True) as tx:
        tx.add_budget("weekend_points", 200000 - LEFT)
    till = Key("till", "S001")
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda n: processor.confirm(_saturday(n), till).response, range(20)))
    given = [e["total"] for a in answers for e in a["outcome"]["effects"] if e["campaign"] == "weekend_points"]
    assert sum(given) == LEFT and len(given) == 3  # 50 + 50 + the 20 left; the others got nothing
    with server.store.transaction() as tx:
        assert tx.budgets()["weekend_points"] == 200000
