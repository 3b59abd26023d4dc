"""What a confirm books (``processing._book``) is the customer's state before it with the journal's
changes applied, exactly as ``apply`` of the whole list makes it: a confirm applies the receipt's
changes once (the chains applied them to see the receipt) and the chains' few changes on top
(``_on_top``), and a change that does not fit is refused as the whole list's apply refuses it."""

from __future__ import annotations

from typing import Any

import pytest
from srv_support import Server

from loyadsl.runtime.errors import LoyaError
from loyadsl.runtime.state import apply
from loyadsl.server import processing
from loyadsl.server.processing import _on_top, _read_state
from loyadsl.server.sql import decode


def _text(server: Server, customer: str) -> str | None:
    with server.store.transaction() as tx:
        return tx.customer_text(customer)


def test_the_state_booked_is_the_journal_applied_to_the_state_before(server: Server, receipts: list[dict[str, Any]],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    engine = server.processor.current_engine()
    decls = engine.bundle.state
    checked = 0
    on_top: list[int] = []  # the chains' changes applied on top, per confirm that had some

    def counted(state: Any, changes: Any, applied: Any, rest: Any, decls: Any) -> Any:
        if rest:
            on_top.append(len(rest))
        return _on_top(state, changes, applied, rest, decls)

    monkeypatch.setattr(processing, "_on_top", counted)
    for record in receipts[:150]:
        customer = record.get("customer_id")
        before = _text(server, customer) if customer is not None else None
        answer = server.post("/v1/confirm", record)
        if before is None or answer.status_code != 200:
            continue
        after = _text(server, customer)
        with server.store.transaction() as tx:
            rows = tx.rows("SELECT changes FROM journal WHERE ref = ? AND customer = ? AND kind = 'receipt'",  # type: ignore[attr-defined]
                           record["receipt_id"], customer)
        if not rows:
            continue
        changes = decode(rows[0][0])
        expected = apply(_read_state(decode(before), engine), changes, decls)
        assert expected.to_dict() == decode(after), record["receipt_id"]
        checked += 1
    assert checked > 40 and len(on_top) > 20


def test_a_change_on_top_that_does_not_fit_is_refused_as_the_whole_list_refuses_it(server: Server) -> None:
    engine = server.processor.current_engine()
    decls = engine.bundle.state
    state = _read_state({"id": "Z1"}, engine)
    first = {"op": "applied", "id": "R9", "at": "2025-03-03T09:00:00+00:00", "receipt": "R9"}
    again = {**first}  # the same id twice: LOY510
    applied = apply(state, [first], decls)
    with pytest.raises(LoyaError) as whole:
        apply(state, [first, again], decls)
    with pytest.raises(LoyaError) as on_top:
        _on_top(state, [first, again], applied, [again], decls)
    assert (on_top.value.code, on_top.value.where, on_top.value.message) == (
        whole.value.code, whole.value.where, whole.value.message)
    assert whole.value.where == "changes[1]"
    assert _on_top(state, [first], applied, [], decls) is applied
