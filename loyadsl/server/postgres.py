"""The production store: PostgreSQL through psycopg 3. Several server processes (or hosts) share one
database and hold no state of their own.

A confirm locks its customer's row (``SELECT ... FOR UPDATE``), then the budgets (a transaction-level
advisory lock), then whoever else it books to (a referrer, the other members of a shared account).
PostgreSQL breaks the rare lock cycle this allows by aborting one transaction; that one raises
``Retry`` and ``processing`` runs it again. A lost connection (a restart of the database) is a
``StoreError`` the server answers with 503; the next request connects again. A transaction has its own
connection while it runs, from a small pool of idle ones.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from loyadsl.server.sql import POSTGRES, SqlTx, migrate
from loyadsl.server.store import UNAVAILABLE, Retry, Store, StoreError, Tx

CONNECT_SECONDS = 5
IDLE = 16  # idle connections kept for the next transactions (more are opened under load, then closed)


class PostgresStore(Store):
    def __init__(self, url: str) -> None:
        import psycopg  # the `serve` extra

        self._psycopg = psycopg
        self.url = url
        self._idle: queue.LifoQueue[Any] = queue.LifoQueue(IDLE)

    def _conn(self) -> Any:
        while True:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                break
            if not conn.closed:
                return conn
        try:
            return self._psycopg.connect(self.url, connect_timeout=CONNECT_SECONDS, autocommit=True)
        except self._psycopg.Error as exc:
            raise StoreError(UNAVAILABLE, f"the database cannot be reached ({type(exc).__name__}); retry") from None

    def _release(self, conn: Any) -> None:
        if conn.closed:
            return
        try:
            self._idle.put_nowait(conn)
        except queue.Full:
            conn.close()

    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[Tx]:
        conn = self._conn()
        try:
            with self._errors(conn), conn.pipeline(), conn.transaction():  # writes go with the commit
                yield SqlTx(conn, POSTGRES)
        finally:
            self._release(conn)

    @contextmanager
    def _errors(self, conn: Any) -> Iterator[None]:
        pg = self._psycopg
        try:
            yield
        except (pg.errors.DeadlockDetected, pg.errors.SerializationFailure):
            raise Retry() from None
        except (pg.OperationalError, pg.InterfaceError) as exc:
            conn.close()
            self.close()  # the idle connections went down with this one (a restart of the database)
            raise StoreError(UNAVAILABLE, f"the database connection failed ({type(exc).__name__}); retry") from None

    def schema_version(self) -> int:
        with self.transaction() as tx:
            conn = tx.conn  # type: ignore[attr-defined]
            if conn.execute("SELECT to_regclass('schema_version')").fetchone()[0] is None:
                return 0
            return int(conn.execute("SELECT version FROM schema_version").fetchone()[0])

    def upgrade(self) -> list[int]:
        with self.transaction(write=True) as tx:
            conn = tx.conn  # type: ignore[attr-defined]
            conn.execute("SELECT pg_advisory_xact_lock(80800001)")  # two upgrades at once: one waits
            return migrate(conn, POSTGRES)

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return
