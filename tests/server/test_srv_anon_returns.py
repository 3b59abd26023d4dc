"""Returns of anonymous receipts on the processing server, both backends: a receipt without a customer
is kept when confirmed, can be returned in parts and in full (the return record in its outcome row
remembers the parts), and a full return gives back the programme-wide state it took (usage limits,
budgets); a version-1 database is upgraded to keep them (migration 2)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from srv_support import Server

from loyadsl.api import compile_file
from loyadsl.runtime.errors import LoyaError
from loyadsl.server import sql
from loyadsl.server.connect import open_store
from loyadsl.server.store import Key

PROGRAMME = """
programme "Shop" { currency RUB minor 2  timezone "Europe/Moscow" }
group base { priority 100  stacking stack_all  basis original }
campaign opening {
    group base
    redemptions 3
    budget 50.00 RUB
    then discount 10% on receipt
}
"""
TILL = Key("till", "S1")


@pytest.fixture
def shop(db_url: str, signing: tuple[bytes, bytes], tmp_path: Path) -> Iterator[Server]:
    (tmp_path / "shop.loya").write_text(PROGRAMME, encoding="utf-8")
    data, result = compile_file(tmp_path / "shop.loya", signing_key=signing[0])
    assert data is not None, result.diagnostics
    srv = Server(db_url, data, signing[1])
    yield srv
    srv.close()


def _receipt(rid: str, small: bool = False) -> dict[str, Any]:
    lines = [{"line_no": 1, "sku": "A", "category": "food", "qty": 2, "unit_price": 10000, "amount": 20000},
             {"line_no": 2, "sku": "B", "category": "food", "qty": 1, "unit_price": 5000, "amount": 5000}]
    return {"receipt_id": rid, "datetime": "2026-03-01T12:00:00+03:00", "store_id": "S1",
            "lines": lines[1:] if small else lines}


def _return(return_id: str, rid: str, lines: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"return_id": return_id, "receipt_id": rid, "store_id": "S1",
                            "datetime": "2026-03-02T12:00:00+03:00"}
    return body if lines is None else {**body, "lines": lines}


def _counts(srv: Server) -> dict[str, int]:
    with srv.store.transaction() as tx:
        return {k: v for k, v in tx.budgets().items() if v}


def test_an_anonymous_receipt_returned_in_parts_gives_everything_back(shop: Server) -> None:
    answer = shop.post("/v1/confirm", _receipt("A1"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"]["discount_total"] == 2500
    assert _counts(shop) == {"opening": 2500, '["opening",null,null]': 1}
    part = shop.post("/v1/returns", _return("RET1", "A1", [{"line_no": 1, "qty": 1}]))
    assert part.status_code == 200, part.text
    assert (part.json()["refund"]["money"], part.json()["refund"]["full"], part.json()["balances"]) == (9000, False, None)
    assert shop.post("/v1/returns", _return("RET1", "A1", [{"line_no": 1, "qty": 1}])).json() == part.json()  # a retry
    assert shop.post("/v1/returns", _return("RET1", "A1")).status_code == 409  # its id with another body
    assert _counts(shop) == {"opening": 2500, '["opening",null,null]': 1}  # kept until the full return
    rest = shop.post("/v1/returns", _return("RET2", "A1"))
    assert rest.status_code == 200, rest.text
    assert (rest.json()["refund"]["money"], rest.json()["refund"]["full"]) == (13500, True)
    assert _counts(shop) == {}
    again = shop.post("/v1/returns", _return("RET3", "A1"))
    assert again.status_code == 422 and again.json()["cause"] == "LOY503", again.text  # nothing left to return


def test_a_full_anonymous_return_frees_a_usage_limit(shop: Server) -> None:
    for n in range(3):
        assert "opening" in shop.processor.confirm(_receipt(f"B{n}", True), TILL).response["outcome"]["applied"]
    assert "opening" not in shop.processor.confirm(_receipt("B3", True), TILL).response["outcome"]["applied"]
    shop.processor.refund(_return("RB0", "B0"), TILL)
    assert "opening" in shop.processor.confirm(_receipt("B4", True), TILL).response["outcome"]["applied"]


def test_an_unknown_receipt_is_still_404(shop: Server) -> None:
    with pytest.raises(LoyaError) as info:
        shop.processor.refund(_return("R9", "NOPE"), TILL)
    assert info.value.code == "LOY808"


def test_migrations_keep_the_outcomes_of_a_version_1_database(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql, "SCHEMA_VERSION", 1)
    old = open_store(db_url)
    assert old.upgrade() == [1]
    with old.transaction(write=True) as tx:
        tx.conn.execute(  # type: ignore[attr-defined]
            "INSERT INTO outcomes (receipt_id, customer, outcome) VALUES ('R1', 'C1', '{}')")
    old.close()
    monkeypatch.undo()
    new = open_store(db_url)
    assert new.upgrade() == [2, 3, 4] and new.schema_version() == 4
    with new.transaction(write=True) as tx:
        assert tx.outcome("R1") == ("C1", {})
        tx.put_outcome("R2", None, {"receipt_id": "R2"})
        assert tx.outcome("R2", lock=True) == (None, {"receipt_id": "R2"})
    new.close()
