"""What a store writes it reads back unchanged, whatever the characters (quotes, backslashes, ``$1``,
``?``, non-ASCII): PostgreSQL's statements carry their parameters apart from their text (postgres.py,
pipeline mode), SQLite's through its driver; both must agree with what was written. And a statement
PostgreSQL refuses in a pipeline raises psycopg's error, after which the store goes on working."""

from __future__ import annotations

from itertools import count
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyadsl.server.connect import open_store
from loyadsl.server.store import Session, Store

# text PostgreSQL can hold (no NUL) and UTF-8 can carry (no lone surrogates)
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
AWKWARD = ["'", "''", "\\", "\\'", "$1", "?", "%s", "%(x)s", "'; DROP TABLE customers; --", "é€😀", " ", ""]
VALUES = st.one_of(st.sampled_from(AWKWARD), TEXT)


@pytest.fixture
def store(db_url: str) -> Any:
    opened = open_store(db_url)
    opened.upgrade()
    yield opened
    opened.close()


_examples = count()


def _round_trip(store: Store, key: str, text: str, number: int) -> None:
    key = f"{next(_examples)}{key}"  # a new row each example: the store outlives them
    state = {"id": key, "note": text, "n": number}
    session = Session(key, key, text, {"text": text, "points": number}, number, number, "open")
    with store.transaction(write=True) as tx:
        tx.put_customer(key, state)
        tx.put_session(session)
        tx.store_answer("confirm:" + key, text, 200, {"text": text})
    with store.transaction() as tx:
        tx.prefetch(key, False, "confirm:" + key, key, (key, number - 1, key + "x"))
        assert tx.customer(key) == state
        assert tx.session(key) == session
        stored = tx.stored("confirm:" + key)
        assert stored is not None and tuple(stored) == (text, 200, {"text": text})
        assert tx.held(key, number - 1, key + "x") == number
    with store.transaction(write=True) as tx:  # read in a transaction that writes: the same
        assert tx.customer(key, lock=True) == state


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=VALUES, text=VALUES, number=st.integers(-(2**62), 2**62))
def test_what_is_written_is_read_back(store: Store, key: str, text: str, number: int) -> None:
    _round_trip(store, key, text, number)


@pytest.mark.parametrize("key", AWKWARD)
def test_awkward_keys(store: Store, key: str) -> None:
    _round_trip(store, key, key, 7)


def test_bytes_round_trip(store: Store) -> None:
    data = bytes(range(256)) * 3
    with store.transaction(write=True) as tx:
        version = tx.put_bundle("sha", data, 5)
    with store.transaction() as tx:
        row = tx.bundle(version)
    assert row is not None and row.data == data and row.uploaded == 5


def test_a_refused_statement_raises_and_the_store_goes_on(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's pipeline")
    import psycopg

    store = open_store(db_url)
    store.upgrade()
    with store.transaction(write=True) as tx:
        tx.put_key("k", "till", "S1")
    with pytest.raises(psycopg.errors.UniqueViolation), store.transaction(write=True) as tx:
        tx.put_key("k", "till", "S2")  # the same primary key: refused at the commit's round trip
        tx.put_customer("C1", {"id": "C1"})
    with store.transaction() as tx:
        assert tx.key("k") is not None and tx.key("k") == ("till", "S1")
        assert tx.customer("C1") is None  # rolled back with the refused statement
    with pytest.raises(psycopg.errors.UndefinedTable), store.transaction() as tx:
        tx.rows("SELECT 1 FROM no_such_table WHERE x = ?", 1)
    with store.transaction() as tx:  # a fresh connection, statements prepared again
        assert tx.key("k") == ("till", "S1")
    store.close()


def test_the_libpq_constants_are_psycopgs() -> None:
    pytest.importorskip("psycopg")
    from psycopg import pq

    from loyadsl.server import postgres

    assert postgres._IDLE == pq.TransactionStatus.IDLE
    assert (postgres._FATAL_ERROR, postgres._PIPELINE_SYNC) == (pq.ExecStatus.FATAL_ERROR, pq.ExecStatus.PIPELINE_SYNC)


def test_postgres_keeps_at_most_its_idle_connections_and_reuses_the_last(db_url: str) -> None:
    if not db_url.startswith("postgres"):
        pytest.skip("PostgreSQL's connection pool")
    from loyadsl.server import postgres

    store = open_store(db_url)
    try:
        assert isinstance(store, postgres.PostgresStore)
        opened = [store._conn() for _ in range(postgres.IDLE + 3)]
        for conn in opened:
            store._release(conn)
        assert len(store._idle) == postgres.IDLE and store._idle[-1] is opened[postgres.IDLE - 1]
        assert [conn.closed for conn in opened] == [False] * postgres.IDLE + [True] * 3
        with store.transaction() as tx:
            assert tx.conn is opened[postgres.IDLE - 1]  # type: ignore[attr-defined]
        opened[0].close()
        store._idle[:] = [opened[0]]
        with store.transaction() as tx:  # a closed idle connection is never handed out
            assert not tx.conn.closed  # type: ignore[attr-defined]
    finally:
        store.close()
    assert store._idle == []
