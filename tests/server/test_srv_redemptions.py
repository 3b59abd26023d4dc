"""Programme-wide usage limits on the processing server (loyadsl/server/redemptions.py), both backends:
concurrent confirms never take more uses than a limit allows, a use taken by another till between
evaluation and commit refuses the confirm (LOY809, cause LOY570) with nothing applied, and a full
return gives the use back."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from srv_support import Server

from loyadsl.api import compile_file
from loyadsl.runtime.errors import LoyaError
from loyadsl.server import redemptions
from loyadsl.server.store import Key

PROGRAMME = """
programme "Shop" { currency RUB minor 2  timezone "Europe/Moscow" }
account bonus { expiry never }
group base { priority 100  stacking stack_all  basis original }
campaign opening {
    group base
    redemptions 3
    redemptions 2 per store
    then discount 10% on receipt
    then accrue 5 points
}
"""
CUSTOMERS = 12


@pytest.fixture
def shop(db_url: str, signing: tuple[bytes, bytes], tmp_path: Path) -> Iterator[Server]:
    (tmp_path / "shop.loya").write_text(PROGRAMME, encoding="utf-8")
    data, result = compile_file(tmp_path / "shop.loya", signing_key=signing[0])
    assert data is not None, result.diagnostics
    srv = Server(db_url, data, signing[1])
    srv.processor.import_customers([{"id": f"C{n}"} for n in range(CUSTOMERS)])
    yield srv
    srv.close()


def _receipt(n: int, store: str) -> dict[str, Any]:
    return {"receipt_id": f"R{n}", "customer_id": f"C{n}", "datetime": "2026-03-01T12:00:00+03:00",
            "store_id": store, "lines": [{"line_no": 1, "sku": "A", "category": "food", "qty": 1,
                                          "unit_price": 10000, "amount": 10000}]}


def _uses(srv: Server) -> dict[str, int]:
    with srv.store.transaction() as tx:
        return tx.redemptions()


def test_concurrent_confirms_never_exceed_a_limit(shop: Server) -> None:
    """Each confirm either books the campaign (within every limit), books the receipt without it (the
    limit was used up when it was evaluated), or is refused with LOY570 (used up meanwhile)."""
    stores = ["S1", "S2"]

    def confirm(n: int) -> tuple[str, str | None]:
        try:
            answer = shop.processor.confirm(_receipt(n, stores[n % 2]), Key("till", stores[n % 2])).response
        except LoyaError as exc:
            return stores[n % 2], getattr(exc, "cause", exc.code)
        return stores[n % 2], "applied" if "opening" in answer["outcome"]["applied"] else None

    with ThreadPoolExecutor(CUSTOMERS) as pool:
        results = list(pool.map(confirm, range(CUSTOMERS)))
    applied = [store for store, what in results if what == "applied"]
    assert len(applied) == 3 and max(applied.count(s) for s in stores) <= 2
    assert {what for _, what in results} <= {"applied", None, "LOY570"}
    uses = _uses(shop)
    assert uses['["opening",null,null]'] == 3
    assert sum(v for k, v in uses.items() if k != '["opening",null,null]') == 3


def test_a_use_taken_meanwhile_refuses_the_confirm_and_changes_nothing(shop: Server,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(2):  # the store's 2 uses go
        assert "opening" in shop.processor.confirm(_receipt(n, "S1"), Key("till", "S1")).response["outcome"]["applied"]
    before, journal = shop.state("C5"), shop.journal_size()
    monkeypatch.setattr(redemptions, "used", lambda tx, engine: {})  # evaluated on counts read before they went
    with pytest.raises(LoyaError) as info:
        shop.processor.confirm(_receipt(5, "S1"), Key("till", "S1"))
    assert (info.value.code, getattr(info.value, "cause", None)) == ("LOY809", "LOY570")
    assert "reached its limit of 2 redemptions at store 'S1'" in info.value.message
    monkeypatch.undo()
    assert shop.state("C5") == before and shop.journal_size() == journal
    assert _uses(shop)['["opening","S1",null]'] == 2
    again = shop.processor.confirm(_receipt(5, "S1"), Key("till", "S1")).response  # evaluated on fresh counts
    assert "opening" not in again["outcome"]["applied"]


def test_a_full_return_gives_the_use_back(shop: Server) -> None:
    assert "opening" in shop.processor.confirm(_receipt(0, "S1"), Key("till", "S1")).response["outcome"]["applied"]
    back = shop.processor.refund({"return_id": "B0", "receipt_id": "R0", "store_id": "S1",
                                  "datetime": "2026-03-02T12:00:00+03:00"}, Key("till", "S1"))
    assert back.response["refund"]["full"]
    assert set(_uses(shop).values()) == {0}
