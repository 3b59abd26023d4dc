"""The embedded store: one SQLite file in WAL mode, so ``loya serve`` works with no setup.

SQLite has one writer at a time: a write transaction starts with ``BEGIN IMMEDIATE``, which takes
the database's write lock at once, so every confirm is serialised (the customer row lock of the
interface comes for free) while readers go on reading the last committed state. ``synchronous=FULL``:
an answered confirm survives a power cut, not only a crash. Each thread has its own connection.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from loyadsl.server.sql import SCHEMA_VERSION, SQLITE, SqlTx, migration
from loyadsl.server.store import BAD_URL, UNAVAILABLE, Store, StoreError, Tx

BUSY_MS = 10_000  # how long a writer waits for the write lock before answering 503


class SqliteStore(Store):
    def __init__(self, path: str) -> None:
        self.path = path
        if path != ":memory:" and not Path(path).parent.is_dir():
            raise StoreError(BAD_URL, f"--db {path}: the folder {Path(path).parent} does not exist")
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_MS / 1000,
                                       check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
            except sqlite3.Error as exc:
                raise StoreError(BAD_URL, f"--db {self.path}: cannot open the database: {exc}") from None
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[Tx]:
        conn = self._conn()
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
        conn = self._conn()
        if conn.execute("SELECT name FROM sqlite_master WHERE name = 'schema_version'").fetchone() is None:
            return 0
        return int(conn.execute("SELECT version FROM schema_version").fetchone()[0])

    def upgrade(self) -> list[int]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            if conn.execute("SELECT version FROM schema_version").fetchone() is None:
                conn.execute("INSERT INTO schema_version VALUES (0)")
            have = int(conn.execute("SELECT version FROM schema_version").fetchone()[0])
            done = list(range(have + 1, SCHEMA_VERSION + 1))
            for version in done:
                for statement in migration(version, SQLITE):
                    conn.execute(statement)
            conn.execute("UPDATE schema_version SET version = ?", (max(have, SCHEMA_VERSION),))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return done

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()
