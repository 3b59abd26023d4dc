"""Trigger chains on the processing server (docs/server.md, "Trigger chains"), on SQLite and PostgreSQL:
confirm runs the chains and returns what they schedule, the tick moves them by time alone (a step due,
a birthday, a customer falling asleep), due actions are listed and forgotten once delivered, and
nothing is scheduled or booked twice (a retried confirm, a tick made again).

tests/server/data/chains.loya: cashback 5% (a 200.00 RUB receipt earns 10 points) with a receipt message;
`hello` accrues 20 points at the first purchase and, 3 days later without a purchase, a push with the
balance (30); `happy` on the birthday; `nap` when the customer becomes sleeping (90 days after the last
purchase's local day: 2026-01-10 -> 2026-04-10)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from srv_support import Server
from test_srv_live import loya

from loyadsl.api import compile_file
from loyadsl.server.sql import seal, seal_key

HERE = Path(__file__).parent
RECEIPT = {"receipt_id": "R1", "customer_id": "C1", "datetime": "2026-01-10T12:00:00+03:00", "store_id": "S1",
           "lines": [{"line_no": 1, "sku": "A", "category": "food", "qty": 1, "unit_price": 20000, "amount": 20000}]}


@pytest.fixture
def chains(db_url: str, signing: tuple[bytes, bytes]) -> Iterator[Server]:
    data, result = compile_file(HERE / "data" / "chains.loya", signing_key=signing[0])
    assert data is not None, result.diagnostics
    srv = Server(db_url, data, signing[1])
    created = srv.post("/v1/customers", {"id": "C1", "birthday": "1990-02-14"}, srv.admin)
    assert created.status_code == 201, created.text
    yield srv
    srv.close()


def _due(srv: Server, before: str) -> list[dict[str, Any]]:
    answer = srv.http.get("/v1/scheduled", params={"due_before": before}, headers=srv.admin)
    assert answer.status_code == 200, answer.text
    listed: list[dict[str, Any]] = answer.json()["scheduled"]
    return listed


def _tick(srv: Server, now: str) -> dict[str, int]:
    answer = srv.post("/v1/tick", {"now": now}, srv.admin)
    assert answer.status_code == 200, answer.text
    counts: dict[str, int] = answer.json()
    return counts


def test_confirm_tick_list_and_forget(chains: Server) -> None:
    srv = chains
    confirmed = srv.post("/v1/confirm", RECEIPT)
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert body["outcome"]["messages"] == [{"campaign": "cashback", "channel": "receipt", "text": "You earned 10 points"}]
    assert [(a["trigger"], a["kind"], a.get("points")) for a in body["scheduled"]] == [("hello", "accrue", 20)]
    assert body["balances"]["bonus"] == 30  # the receipt's 10 and the chain's 20, booked together
    assert srv.post("/v1/confirm", RECEIPT).json() == body  # a retry: the stored answer, nothing twice
    assert srv.journal_size() == 1  # one entry: the receipt's changes and the chain's, booked together

    assert _tick(srv, "2026-01-12T12:00:00+03:00")["scheduled"] == 0  # (the engine's time events may change state)
    assert _tick(srv, "2026-01-13T12:00:00+03:00") == {"customers": 1, "changed": 1, "scheduled": 1}
    assert _tick(srv, "2026-01-13T12:00:00+03:00")["scheduled"] == 0  # made already
    due = _due(srv, "2026-01-14T00:00:00+03:00")
    assert [(a["trigger"], a["kind"], a["at"], a.get("text")) for a in due] == [
        ("hello", "accrue", "2026-01-10T09:00:00+00:00", None),
        ("hello", "message", "2026-01-13T09:00:00+00:00", "30 points wait for you")]
    assert _due(srv, "2026-01-13T12:00:00+03:00") == due[:1]  # due strictly before
    done = srv.post("/v1/scheduled/done", {"ids": [a["id"] for a in due]}, srv.admin)
    assert done.json() == {"done": 2}
    assert _due(srv, "2027-01-01T00:00:00+03:00") == []

    assert _tick(srv, "2026-02-14T12:00:00+03:00")["scheduled"] == 1  # the birthday, on its day
    assert _tick(srv, "2026-04-09T12:00:00+03:00")["scheduled"] == 0  # still active
    assert _tick(srv, "2026-04-10T12:00:00+03:00")["scheduled"] == 1  # sleeping since the tick before
    assert [(a["trigger"], a["at"]) for a in _due(srv, "2027-01-01T00:00:00+03:00")] == [
        ("happy", "2026-02-14T09:00:00+00:00"), ("nap", "2026-04-10T09:00:00+00:00")]
    assert srv.state("C1")["chains"]["nap"]["due"] is None


def test_steps_that_came_due_before_a_receipt_run_once_with_it(chains: Server) -> None:
    """No tick between two receipts: the push `hello` owed on 01-13 runs at the second receipt (at its
    own moment, before the purchase that would have ended the chain), booked in that receipt's journal
    entry; calculate sees the same without writing; a retry, a tick and a later receipt add nothing."""
    srv = chains
    assert srv.post("/v1/confirm", RECEIPT).status_code == 200
    second = {**RECEIPT, "receipt_id": "R2", "datetime": "2026-01-15T12:00:00+03:00"}
    before = srv.state("C1")
    calculated = srv.post("/v1/calculate", second)
    assert calculated.status_code == 200, calculated.text
    assert srv.state("C1") == before and srv.journal_size() == 1  # calculate wrote nothing
    confirmed = srv.post("/v1/confirm", second)
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert body["outcome"]["payment"] == calculated.json()["outcome"]["payment"]
    assert [(a["trigger"], a["kind"], a["at"], a.get("text")) for a in body["scheduled"]] == [
        ("hello", "message", "2026-01-13T09:00:00+00:00", "30 points wait for you")]
    assert srv.journal_size() == 2  # one entry per receipt: the overdue step went with R2's
    assert srv.post("/v1/confirm", second).json() == body  # a retry: the stored answer
    assert _tick(srv, "2026-01-16T12:00:00+03:00")["scheduled"] == 0  # ran once
    third = srv.post("/v1/confirm", {**RECEIPT, "receipt_id": "R3", "datetime": "2026-01-17T12:00:00+03:00"})
    assert third.json()["scheduled"] == []
    assert [a["text"] for a in _due(srv, "2027-01-01T00:00:00+03:00") if a["kind"] == "message"] == [
        "30 points wait for you"]


def test_a_birthday_missed_by_the_ticks_is_kept_at_the_next_receipt(chains: Server) -> None:
    assert chains.post("/v1/confirm", RECEIPT).status_code == 200
    later = chains.post("/v1/confirm", {**RECEIPT, "receipt_id": "R2", "datetime": "2026-02-20T12:00:00+03:00"})
    assert [(a["trigger"], a["at"]) for a in later.json()["scheduled"]] == [
        ("hello", "2026-01-13T09:00:00+00:00"), ("happy", "2026-02-13T21:00:00+00:00")]  # each at its moment


@pytest.mark.parametrize(("query", "code"), [({}, "LOY640"), ({"due_before": "tomorrow"}, "LOY640"),
                                             ({"due_before": "2026-01-01T00:00:00"}, "LOY640"),
                                             ({"due_before": "2026-01-01T00:00:00+00:00", "after": "x"}, "LOY641")])
def test_bad_parameters_are_coded_400s(chains: Server, query: dict[str, str], code: str) -> None:
    answer = chains.http.get("/v1/scheduled", params=query, headers=chains.admin)
    assert (answer.status_code, answer.json()["code"]) == (400, code)
    bad = chains.post("/v1/scheduled/done", {"ids": [2**64]}, chains.admin)
    assert (bad.status_code, bad.json()["code"]) == (400, "LOY641")
    assert chains.post("/v1/tick", {"now": "soon"}, chains.admin).json()["code"] == "LOY640"


def test_the_endpoints_need_an_admin_key(chains: Server) -> None:
    till = chains.till("S1")
    assert chains.http.get("/v1/scheduled", params={"due_before": "2026-01-01T00:00:00+00:00"},
                           headers=till).status_code == 403
    assert chains.post("/v1/tick", {"now": "2026-01-01T00:00:00+00:00"}, till).status_code == 403


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_loya_db_tick(chains: Server, db_url: str) -> None:
    assert chains.post("/v1/confirm", RECEIPT).status_code == 200
    chains.close()
    run = loya("db", "tick", "--db", db_url, "--now", "2026-01-13T12:00:00+03:00")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ticked 1 customers at 2026-01-13T12:00:00+03:00: 1 changed, 1 actions scheduled"
    bad = loya("db", "tick", "--db", db_url, "--now", "2026-01-13")
    assert bad.returncode == 2 and "LOY640" in bad.stderr


def test_a_state_a_tick_changed_is_sealed(chains: Server) -> None:
    """The tick books ``apply`` of its checked changes to a valid state: stored with its seal, so the next
    request reads it without validating it again (docs/server.md, seals)."""
    srv = chains
    assert srv.post("/v1/confirm", RECEIPT).status_code == 200
    assert _tick(srv, "2026-01-13T12:00:00+03:00")["changed"] == 1  # the chain's step changed the state
    with srv.processor.store.transaction() as tx:
        text, sealed = tx.conn.execute("SELECT state, seal FROM customers WHERE id = 'C1'").fetchone()  # type: ignore[attr-defined]
    key = seal_key(srv.processor.current_engine())
    assert key is not None and sealed == seal(key, text)
