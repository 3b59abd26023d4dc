"""The production store: PostgreSQL through psycopg 3. Several server processes (or hosts) share one
database and hold no state of their own.

A confirm locks its customer's row (``SELECT ... FOR UPDATE``), then the budgets (a transaction-level
advisory lock), then whoever else it books to (a referrer, the other members of a shared account).
PostgreSQL breaks the rare lock cycle this allows by aborting one transaction; that one raises
``Retry`` and ``processing`` runs it again. A lost connection (a restart of the database) is a
``StoreError`` the server answers with 503; the next request connects again. Each thread has its
own connection.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from loyadsl.server.sql import POSTGRES, SCHEMA_VERSION, SqlTx, migration
from loyadsl.server.store import UNAVAILABLE, Retry, Store, StoreError, Tx

CONNECT_SECONDS = 5


class PostgresStore(Store):
    def __init__(self, url: str) -> None:
        import psycopg  # the `serve` extra

        self._psycopg = psycopg
        self.url = url
        self._local = threading.local()
        self._connections: list[Any] = []
        self._lock = threading.Lock()

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is not None and not conn.closed:
            return conn
        try:
            conn = self._psycopg.connect(self.url, connect_timeout=CONNECT_SECONDS)
        except self._psycopg.Error as exc:
            raise StoreError(UNAVAILABLE, f"the database cannot be reached ({type(exc).__name__}); retry") from None
        self._local.conn = conn
        with self._lock:
            self._connections.append(conn)
        return conn

    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[Tx]:
        pg = self._psycopg
        conn = self._conn()
        try:
            with conn.transaction():
                yield SqlTx(conn, POSTGRES)
        except (pg.errors.DeadlockDetected, pg.errors.SerializationFailure):
            raise Retry() from None
        except pg.OperationalError as exc:
            conn.close()
            raise StoreError(UNAVAILABLE, f"the database connection failed ({type(exc).__name__}); retry") from None
        except pg.InterfaceError as exc:
            conn.close()
            raise StoreError(UNAVAILABLE, f"the database connection is closed ({type(exc).__name__}); retry") from None

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
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            if conn.execute("SELECT version FROM schema_version").fetchone() is None:
                conn.execute("INSERT INTO schema_version VALUES (0)")
            have = int(conn.execute("SELECT version FROM schema_version").fetchone()[0])
            done = list(range(have + 1, SCHEMA_VERSION + 1))
            for version in done:
                for statement in migration(version, POSTGRES):
                    conn.execute(statement)
            conn.execute("UPDATE schema_version SET version = %s", (max(have, SCHEMA_VERSION),))
        return done

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()
