"""A catalogue reward's stock (docs/rewards.md) is never overspent by concurrent confirms: a mug for 300
points with a stock of 3, and 8 customers choosing it at once (threads on the processor, both backends).
The server keeps the units given beside the budgets; a full return gives one back."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from srv_support import Server

from loyadsl.api import compile_file
from loyadsl.server.store import Key

PROGRAMME = """programme "Mugs" {
    currency RUB minor 2
    points minor 0 value 1.00 RUB
    timezone "Europe/Moscow"
}
group rewards { priority 1 stacking stack_all basis discounted }
account bonus { }
campaign mug "A mug for 300 points" {
    group rewards
    reward 300 points stock 3
    then gift one of ["MUG1", "MUG2"]
}
"""


@pytest.fixture
def mugs(db_url: str, signing: tuple[bytes, bytes], tmp_path: Path) -> Iterator[Server]:
    (tmp_path / "mugs.loya").write_text(PROGRAMME, encoding="utf-8")
    data, result = compile_file(tmp_path / "mugs.loya", signing_key=signing[0])
    assert data is not None, result.diagnostics
    srv = Server(db_url, data, signing[1])
    srv.processor.import_customers([{"id": f"M{n}", "accounts": {"bonus": {"balance": 500, "lots": [
        {"id": "L", "points": 500, "left": 500, "active_from": "2026-01-01T00:00:00+00:00"}]}}} for n in range(8)])
    yield srv
    srv.close()


def _receipt(n: int) -> dict[str, Any]:
    return {"receipt_id": f"MUG-{n}", "customer_id": f"M{n}", "datetime": "2026-11-20T12:00:00+03:00",
            "store_id": "S1", "rewards": ["mug"],
            "lines": [{"line_no": 1, "sku": "X", "category": "food", "qty": 1, "unit_price": 1000, "amount": 1000}]}


def test_concurrent_confirms_never_give_more_than_the_stock(mugs: Server) -> None:
    till = Key("till", "S1")
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda n: mugs.processor.confirm(_receipt(n), till).response, range(8)))
    given = [a["receipt_id"] for a in answers if "mug" in a["outcome"]["applied"]]
    refused = [e for a in answers for e in a["outcome"]["events"] if e["event"] == "reward_refused"]
    assert len(given) == 3 and len(refused) == 5
    assert {e["code"] for e in refused} == {"LOY561"}
    with mugs.store.transaction() as tx:
        assert tx.budgets()["stock:mug"] == 3
    for a in answers:  # only the customers who got a mug paid for it
        points = mugs.state(a["outcome"]["payment"]["customer"])["accounts"]["bonus"]["balance"]
        assert points == (200 if a["receipt_id"] in given else 500)
    back = mugs.processor.refund({"return_id": "RET-1", "receipt_id": given[0], "store_id": "S1",
                                  "datetime": "2026-11-21T12:00:00+03:00"}, till)
    assert back.status == 200
    with mugs.store.transaction() as tx:
        assert tx.budgets()["stock:mug"] == 2
