"""The embedded store: one SQLite file in WAL mode, so ``loya serve`` works with no setup.

SQLite has one writer at a time: a write transaction starts with ``BEGIN IMMEDIATE``, which takes
the database's write lock at once, so every confirm is serialised (the customer row lock of the
interface comes for free) while readers go on reading the last committed state. ``synchronous=NORMAL``
(WAL): an answered confirm survives the server process dying anywhere; a power cut may lose the
last commits (use PostgreSQL, or synchronous=FULL at a third of the write speed, where that matters).
A transaction has its own connection while it runs, from a small pool of idle ones.
"""

from __future__ import annotations

import queue
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from loyadsl.server.sql import SQLITE, SqlTx, migrate
from loyadsl.server.store import BAD_URL, UNAVAILABLE, Store, StoreError, Tx

IDLE = 16  # idle connections kept for the next transactions
BUSY_MS = 10_000  # how long a writer waits for the write lock before answering 503


class SqliteStore(Store):
    def __init__(self, path: str) -> None:
        self.path = path
        if path != ":memory:" and not Path(path).parent.is_dir():
            raise StoreError(BAD_URL, f"--db {path}: the folder {Path(path).parent} does not exist")
        self._idle: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue(IDLE)

    def _conn(self) -> sqlite3.Connection:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_MS / 1000, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            raise StoreError(BAD_URL, f"--db {self.path}: cannot open the database: {exc}") from None
        return conn

    def _release(self, conn: sqlite3.Connection) -> None:
        try:
            self._idle.put_nowait(conn)
        except queue.Full:
            conn.close()

    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[Tx]:
        conn = self._conn()
        try:
            with self._transaction(conn, write) as tx:
                yield tx
        finally:
            self._release(conn)

    @contextmanager
    def _transaction(self, conn: sqlite3.Connection, write: bool) -> Iterator[Tx]:
        try:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except sqlite3.OperationalError as exc:
            raise StoreError(UNAVAILABLE, f"the database is busy ({exc}); retry") from None
        try:
            yield SqlTx(conn, SQLITE)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            conn.execute("ROLLBACK")
            raise StoreError(UNAVAILABLE, f"the database could not commit ({exc}); retry") from None

    def schema_version(self) -> int:
        with self.transaction() as tx:
            conn = tx.conn  # type: ignore[attr-defined]
            if conn.execute("SELECT name FROM sqlite_master WHERE name = 'schema_version'").fetchone() is None:
                return 0
            return int(conn.execute("SELECT version FROM schema_version").fetchone()[0])

    def upgrade(self) -> list[int]:
        with self.transaction(write=True) as tx:
            conn = tx.conn  # type: ignore[attr-defined]
            return migrate(conn, SQLITE)

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return
