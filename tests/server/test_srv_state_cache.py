"""A customer's stored state is read (decoded and validated against the programme) once per text in a
process (``Processor._parsed``; one text kept per customer, the last read or written). That is only right if nothing changes a state read: after the
example's receipts went through calculate and confirm (every kind of change the programme makes),
each state kept still equals a fresh reading of its text. A state the programme refuses is refused
every time, never kept. (That the answers are the simulator's, with the cache, is
test_srv_consistency's.)"""

from __future__ import annotations

from typing import Any

import pytest
from srv_support import Server
from test_srv_protocol import CUSTOMER, receipt

from loyadsl.server import processing
from loyadsl.server.processing import _read_state
from loyadsl.server.sql import decode


def test_states_kept_are_never_changed_by_what_reads_them(server: Server, receipts: list[dict[str, Any]]) -> None:
    for record in receipts[:120]:
        server.post("/v1/calculate", record)
        server.post("/v1/calculate", record)  # a till asks again: the same text, read once
        server.post("/v1/confirm", record)
    processor = server.processor
    engines = {id(engine): engine for engine in processor._engines.values()}
    assert len(processor._states) > 50
    for (engine_id, customer), (text, state) in processor._states.items():
        fresh = _read_state(decode(text), engines[engine_id])
        assert state == fresh and state.to_dict() == fresh.to_dict() == decode(text)
        assert fresh.id == customer


def test_a_refused_state_is_refused_each_time(server: Server) -> None:
    with server.store.transaction(write=True) as tx:
        tx.put_customer(CUSTOMER, {"id": CUSTOMER, "receipts": -1})
    kept = len(server.processor._states)
    for rid in ("X1", "X2"):
        answer = server.post("/v1/calculate", receipt(rid))
        assert answer.status_code == 422 and answer.json()["cause"] == "LOY502", answer.text
    assert len(server.processor._states) == kept


def test_a_confirm_keeps_the_state_it_wrote(server: Server, receipts: list[dict[str, Any]]) -> None:
    """The state a confirm books is kept as the reading of the text it stored (``Processor._keep``):
    the customer's next request does not decode it again, and it equals a fresh reading."""
    processor = server.processor
    booked = 0
    for record in receipts[:60]:
        if record.get("customer_id") is None:
            continue
        with server.store.transaction() as tx:
            before = tx.customer_text(record["customer_id"])
        processor._states.clear()
        assert server.post("/v1/confirm", record).status_code == 200
        with server.store.transaction() as tx:
            text = tx.customer_text(record["customer_id"])
        assert text is not None
        if text == before:  # nothing booked
            continue
        booked += 1
        engine = processor.current_engine()
        text_kept, kept = processor._states.get((id(engine), record["customer_id"]), ("", None))
        assert kept is not None and text_kept == text, "the state written was not kept"
        fresh = _read_state(decode(text), engine)
        assert kept == fresh and kept.to_dict() == fresh.to_dict() == decode(text)
    assert booked > 10


def test_a_customer_keeps_one_text_and_a_full_cache_drops_the_oldest(server: Server,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A customer's new text replaces the old one's (a stale state is never answered: the text read
    decides); when the room is full, the customer kept longest goes, and the others stay."""
    processor = server.processor
    engine = processor.current_engine()
    assert server.post("/v1/calculate", receipt("K1")).status_code == 200
    key = (id(engine), CUSTOMER)
    text, state = processor._states[key]
    changed = {**decode(text), "receipts": 7}
    with server.store.transaction(write=True) as tx:
        new_text = tx.put_customer(CUSTOMER, changed)
    assert server.post("/v1/calculate", receipt("K2")).status_code == 200
    assert processor._states[key][0] == new_text and processor._states[key][1].receipts == 7
    assert sum(k[1] == CUSTOMER for k in processor._states) == 1
    monkeypatch.setattr(processing, "STATE_CACHE", len(processor._states))
    oldest = next(iter(processor._states))
    processor._keep(engine, text, state, "somebody-else")
    assert oldest not in processor._states and (id(engine), "somebody-else") in processor._states
    assert len(processor._states) == processing.STATE_CACHE
