"""The protocol in-process (Starlette's TestClient), on both backends: calculate books nothing and holds
points, confirm books once and answers retries with the stored answer, cancel releases, returns go
through Engine.refund once per return id, customers, signed bundle uploads, health, metrics, and the
checked-in OpenAPI document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from srv_support import EXAMPLE, Server

from loyadsl.api import check_file, payload_of
from loyadsl.runtime.bundle import pack_bundle

ROOT = Path(__file__).resolve().parents[2]
BASE = json.loads((Path(__file__).parent / "data" / "bad_requests.json").read_text(encoding="utf-8"))["base"]
CUSTOMER = BASE["customer_id"]  # a member of a family account with 2,100 points


def receipt(rid: str, **changes: Any) -> dict[str, Any]:
    return {**BASE, "receipt_id": rid, **changes}


def shared_bonus(server: Server) -> int:
    return int(server.state(CUSTOMER)["shared"]["accounts"]["bonus"]["balance"])


def test_calculate_books_nothing_and_holds_the_points_it_offers(server: Server) -> None:
    before, journal = server.state(CUSTOMER), server.journal_size()
    answer = server.post("/v1/calculate", receipt("P1"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    offered = body["outcome"]["payment"]["points"]
    assert body["status"] == "calculated" and offered > 0 and body["hold"]["points"] == offered
    assert server.state(CUSTOMER) == before and server.journal_size() == journal
    assert server.http.get(f"/v1/customers/{CUSTOMER}", headers=server.admin).json()["held"] == offered
    assert f"loya_held_points {offered}" in server.http.get("/v1/metrics").text
    # a second receipt of the same customer cannot offer the held points again
    spendable = shared_bonus(server)
    other = server.post("/v1/calculate", receipt("P2", redeem={"points": spendable})).json()
    assert other["outcome"]["payment"]["points"] <= spendable - offered


def _sessions(server: Server) -> list[tuple[str, int, str]]:
    with server.store.transaction() as tx:
        conn = tx.conn  # type: ignore[attr-defined]
        return [tuple(row) for row in conn.execute("SELECT receipt_id, held, status FROM sessions ORDER BY receipt_id")]


def test_calculate_writes_a_hold_only_when_it_holds_or_releases_points(server: Server) -> None:
    assert server.post("/v1/calculate", receipt("H1", redeem={"points": 0})).json()["hold"] is None
    assert server.post("/v1/calculate", receipt("H2", redeem=None)).json()["hold"] is None
    assert _sessions(server) == []  # nothing held: nothing written
    held = server.post("/v1/calculate", receipt("H1", redeem={"points": 100})).json()["hold"]["points"]
    assert held == 100 and _sessions(server) == [("H1", 100, "open")]
    assert server.post("/v1/calculate", receipt("H1", redeem={"points": 0})).json()["hold"] is None
    assert _sessions(server) == [("H1", 0, "open")]  # released
    assert server.http.get(f"/v1/customers/{CUSTOMER}", headers=server.admin).json()["held"] == 0


def test_confirm_books_once_and_a_retry_gets_the_stored_answer(server: Server) -> None:
    before = shared_bonus(server)
    first = server.post("/v1/confirm", receipt("C1"))
    assert first.status_code == 200, first.text
    spent = first.json()["outcome"]["payment"]["points"]
    earned = first.json()["outcome"]["points_total"]
    assert spent > 0 and shared_bonus(server) == before - spent + earned
    journal = server.journal_size()
    with server.store.transaction() as tx:  # the stored answer refers to the outcome row, not a copy of it
        stored = tx.stored("confirm:C1")
        assert stored is not None and stored.response["outcome"] is None
        assert tx.outcome("C1") == (CUSTOMER, first.json()["outcome"])
    again = server.http.post("/v1/confirm", content=json.dumps(dict(reversed(receipt("C1").items()))),
                             headers=server.till("S002"))  # the same body, keys in another order
    assert again.status_code == 200 and again.json() == first.json()
    assert server.journal_size() == journal and shared_bonus(server) == before - spent + earned
    other = server.post("/v1/confirm", receipt("C1", redeem={"points": 1}))
    assert (other.status_code, other.json()["code"]) == (409, "LOY806")
    assert server.journal_size() == journal


def test_confirm_after_calculate_books_what_calculate_said(server: Server) -> None:
    calculated = server.post("/v1/calculate", receipt("K1")).json()
    confirmed = server.post("/v1/confirm", receipt("K1")).json()
    assert confirmed["outcome"]["payment"] == calculated["outcome"]["payment"]
    assert server.http.get(f"/v1/customers/{CUSTOMER}", headers=server.admin).json()["held"] == 0
    cancel = server.post("/v1/cancel", {"receipt_id": "K1", "store_id": "S002"})
    assert (cancel.status_code, cancel.json()["code"]) == (409, "LOY810")


def test_confirm_refuses_when_the_points_calculate_offered_are_gone(server: Server) -> None:
    server.post("/v1/calculate", receipt("G1", redeem={"points": 2000}))
    server.processor.clock = lambda: 4_000_000_000.0  # the hold has expired
    big = [{**BASE["lines"][0], "qty": 20, "amount": 2069800}]
    spent = server.post("/v1/confirm", receipt("G2", redeem={"points": "max"}, lines=big))  # another till spends them
    assert spent.json()["outcome"]["payment"]["points"] > 1500
    answer = server.post("/v1/confirm", receipt("G1", redeem={"points": 2000}))
    assert (answer.status_code, answer.json()["code"]) == (409, "LOY809"), answer.text
    assert "calculate it again" in answer.json()["detail"]


def test_cancel_releases_the_hold_and_closes_the_receipt(server: Server) -> None:
    held = server.post("/v1/calculate", receipt("X1")).json()["hold"]["points"]
    cancel = server.post("/v1/cancel", {"receipt_id": "X1", "store_id": "S002"})
    assert cancel.status_code == 200 and cancel.json() == {"receipt_id": "X1", "status": "cancelled", "released": held}
    assert server.post("/v1/cancel", {"receipt_id": "X1", "store_id": "S002"}).json() == cancel.json()
    assert server.http.get(f"/v1/customers/{CUSTOMER}", headers=server.admin).json()["held"] == 0
    confirm = server.post("/v1/confirm", receipt("X1"))
    assert (confirm.status_code, confirm.json()["code"]) == (409, "LOY810")
    calculate = server.post("/v1/calculate", receipt("X1"))
    assert (calculate.status_code, calculate.json()["code"]) == (409, "LOY810")


def test_returns_go_through_refund_once_per_return_id(server: Server) -> None:
    before = server.state(CUSTOMER)
    two = receipt("T1", redeem=None, lines=[*BASE["lines"], {**BASE["lines"][0], "line_no": 2}])
    assert server.post("/v1/confirm", two).status_code == 200
    part = {"return_id": "T1-r1", "receipt_id": "T1", "datetime": "2025-01-12T10:00:00+03:00", "store_id": "S002",
            "lines": [{"line_no": 2, "qty": 1}]}
    first = server.post("/v1/returns", part)
    assert first.status_code == 200, first.text
    assert first.json()["refund"]["full"] is False and first.json()["refund"]["money"] > 0
    journal = server.journal_size()
    assert server.post("/v1/returns", part).json() == first.json() and server.journal_size() == journal
    other = server.post("/v1/returns", {**part, "lines": [{"line_no": 1, "qty": 1}]})
    assert (other.status_code, other.json()["code"]) == (409, "LOY806")
    too_much = server.post("/v1/returns", {**part, "return_id": "T1-r2", "lines": [{"line_no": 2, "qty": 5}]})
    assert (too_much.status_code, too_much.json()["code"], too_much.json()["cause"]) == (422, "LOY807", "LOY503")
    rest = server.post("/v1/returns", {k: v for k, v in part.items() if k != "lines"} | {"return_id": "T1-r3"})
    assert rest.status_code == 200 and rest.json()["refund"]["full"] is True
    after = server.state(CUSTOMER)
    assert after["shared"]["accounts"] == before["shared"]["accounts"] and after["receipts"] == before["receipts"]


def test_customers_are_created_read_and_not_made_up(server: Server) -> None:
    created = server.post("/v1/customers", {"id": "NEW-1", "segments": ["b", "a"]}, server.admin)
    assert created.status_code == 201 and created.json()["customer"]["segments"] == ["a", "b"]
    assert server.state("NEW-1")["id"] == "NEW-1"
    answer = server.post("/v1/confirm", receipt("N1", customer_id="NEW-1", redeem=None))
    assert answer.status_code == 200 and answer.json()["balances"] == {"bonus": answer.json()["outcome"]["points_total"]}
    missing = server.http.get("/v1/customers/NOBODY", headers=server.admin)
    assert (missing.status_code, missing.json()["code"]) == (404, "LOY805")
    imported = server.post("/v1/customers/import", {"customers": [{"id": "NEW-1"}, {"id": "NEW-2"}]}, server.admin)
    assert imported.json() == {"imported": 2} and server.state("NEW-1").get("receipts", 0) == 0


def _bundle(private: bytes, version: str) -> bytes:
    text = (EXAMPLE / "programme.loya").read_text(encoding="utf-8").replace('version "2025.2"', f'version "{version}"')
    path = EXAMPLE / "programme.loya"
    from loyadsl.api import check_text
    result = check_text(text, path.name, path)
    assert result.programme is not None
    return pack_bundle(payload_of(result.programme), signing_key=private)


def test_signed_bundles_are_uploaded_verified_and_kept(server: Server, signing: tuple[bytes, bytes],
                                                       bundle: bytes) -> None:
    new = _bundle(signing[0], "2025.3")
    unsigned = pack_bundle(payload_of(check_file(EXAMPLE / "programme.loya").programme))  # type: ignore[arg-type]
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    stranger = Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                                          serialization.NoEncryption())
    tampered = bytearray(new)
    tampered[-20] ^= 1
    for data, cause in ((unsigned, "LOY406"), (bytes(tampered), "LOY402"), (_bundle(stranger, "2025.4"), "LOY406"),
                        (b"not a bundle", "LOY401")):
        refused = server.http.post("/v1/bundles", content=data, headers=server.admin)
        assert (refused.status_code, refused.json()["code"], refused.json()["cause"]) == (422, "LOY811", cause)
    assert server.http.get("/v1/health").json()["bundle"] == 1
    uploaded = server.http.post("/v1/bundles", content=new, headers=server.admin)
    assert uploaded.status_code == 201 and uploaded.json()["version"] == 2 and uploaded.json()["key_id"]
    current = server.http.get("/v1/bundles/current", headers=server.till("S002"))
    assert current.content == new and current.headers["x-loya-bundle-version"] == "2"
    history = server.http.get("/v1/bundles", headers=server.admin).json()["bundles"]
    assert [b["version"] for b in history] == [1, 2]
    assert server.http.get("/v1/health").json() == {"status": "ok", "bundle": 2, "schema_version": 4}
    assert server.post("/v1/confirm", receipt("B1")).status_code == 200  # served by the new version


def test_metrics_count_requests_and_errors(server: Server) -> None:
    server.post("/v1/calculate", receipt("M1"))
    server.post("/v1/calculate", receipt("M2", currency="EUR"))
    text = server.http.get("/v1/metrics").text
    assert 'loya_requests_total{endpoint="calculate",status="200"} 1' in text
    assert 'loya_errors_total{code="LOY807"} 1' in text
    assert 'loya_request_seconds_count{endpoint="calculate"} 2' in text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_checked_in_openapi_document_is_up_to_date(db_url: str) -> None:
    from loyadsl.server.openapi import text
    assert (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8") == text(), \
        "run: python -m loyadsl.server.openapi > docs/openapi.json"
