"""Points another open session holds are not there to spend (docs/server.md, Calculate; the engine's
``held``): a second receipt of the customer redeems at most what can be spent now less the held points,
its ``payment.requested`` is the till's own request and ``limited_by`` says ``balance`` when the hold cut
it; points not yet active never count; its confirm agrees with its calculate; a cancel gives them back.
Both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from srv_support import Server

from loyadsl.api import compile_file
from loyadsl.server.store import Key

PROGRAMME = """programme "Held" {
    currency RUB minor 2
    points minor 0 value 1.00 RUB
    timezone "Europe/Moscow"
}
group rewards { priority 1 stacking stack_all basis discounted }
account bonus { }
redemption { accounts bonus }
campaign mug "A mug for 30 points" {
    group rewards
    reward 30 points
    then gift one of ["MUG"]
}
"""
TILL = Key("till", "S1")


@pytest.fixture
def server(db_url: str, signing: tuple[bytes, bytes], tmp_path: Path) -> Iterator[Server]:
    (tmp_path / "held.loya").write_text(PROGRAMME, encoding="utf-8")
    data, result = compile_file(tmp_path / "held.loya", signing_key=signing[0])
    assert data is not None, result.diagnostics
    srv = Server(db_url, data, signing[1])
    lots = [{"id": "A", "points": 500, "left": 500, "active_from": "2026-01-01T00:00:00+00:00"},
            {"id": "P", "points": 400, "left": 400, "active_from": "2027-01-01T00:00:00+00:00"}]  # not yet active
    srv.processor.import_customers([{"id": "H1", "accounts": {"bonus": {"balance": 900, "lots": lots}}}])
    yield srv
    srv.close()


def _receipt(rid: str, redeem: int | str, **more: Any) -> dict[str, Any]:
    return {"receipt_id": rid, "customer_id": "H1", "datetime": "2026-11-20T12:00:00+03:00", "store_id": "S1",
            "redeem": {"points": redeem}, **more,
            "lines": [{"line_no": 1, "sku": "X", "category": "food", "qty": 1, "unit_price": 100000, "amount": 100000}]}


def _payment(answer: dict[str, Any]) -> tuple[Any, int, str | None]:
    pay = answer["outcome"]["payment"]
    return pay["requested"], pay["points"], pay["limited_by"]


def test_a_second_receipt_spends_only_what_the_first_does_not_hold(server: Server) -> None:
    first = server.processor.calculate(_receipt("R1", 300), TILL)
    assert _payment(first) == (300, 300, None) and first["hold"]["points"] == 300
    # 500 active points, 300 held: 200 left (the 400 not yet active never count; the balance says 900)
    second = server.processor.calculate(_receipt("R2", "max"), TILL)
    assert _payment(second) == ("max", 200, "balance") and second["balances"] == {"bonus": 900}
    # R1 holds 300 and R2 200: nothing left for a third
    assert _payment(server.processor.calculate(_receipt("R3", 250), TILL)) == (250, 0, "balance")
    confirmed = server.processor.confirm(_receipt("R2", "max"), TILL).response  # agrees with its calculate
    assert confirmed["status"] == "confirmed" and _payment(confirmed) == ("max", 200, "balance")
    assert confirmed["balances"] == {"bonus": 700}
    server.processor.cancel({"receipt_id": "R1", "store_id": "S1"}, TILL)
    # 300 active left, none held: R3 gets its 250 and holds them; a calculate again of R4 sees only R3's hold
    assert _payment(server.processor.calculate(_receipt("R3", 250), TILL)) == (250, 250, None)
    assert _payment(server.processor.calculate(_receipt("R4", 50), TILL)) == (50, 50, None)
    assert _payment(server.processor.calculate(_receipt("R4", 100), TILL)) == (100, 50, "balance")


def test_a_catalogue_reward_leaves_less_to_spend_beside_a_hold(server: Server) -> None:
    """The reward's 30 points come off what the receipt can spend, and the held points off the rest. (The
    server's count before h/hold, the balance less the held points, let R2 redeem 200 beside the mug's 30:
    30 of R1's held points, and R1's confirm was then refused, LOY809, points 300 -> 270.)"""
    assert _payment(server.processor.calculate(_receipt("R1", 300), TILL)) == (300, 300, None)
    second = server.processor.calculate(_receipt("R2", "max", rewards=["mug"]), TILL)
    assert "mug" in second["outcome"]["applied"]
    assert _payment(second) == ("max", 170, "balance") and second["hold"]["points"] == 170
    server.processor.confirm(_receipt("R2", "max", rewards=["mug"]), TILL)
    assert _payment(server.processor.confirm(_receipt("R1", 300), TILL).response) == (300, 300, None)
