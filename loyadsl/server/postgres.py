"""The production store: PostgreSQL through psycopg 3. Several server processes (or hosts) share one
database and hold no state of their own.

A confirm locks its customer's row (``SELECT ... FOR UPDATE``), then the budgets (a transaction-level
advisory lock), then whoever else it books to (a referrer, the other members of a shared account).
PostgreSQL breaks the rare lock cycle this allows by aborting one transaction; that one raises
``Retry`` and ``processing`` runs it again. A lost connection (a restart of the database) is a
``StoreError`` the server answers with 503; the next request connects again. A transaction has its own
connection while it runs, from a small pool of idle ones.

Round trips: statements go as plain text (the parameters quoted by psycopg's client-side binding),
several in one message of the simple query protocol. Writes are held back and travel with the next
read or with the COMMIT; a write transaction's BEGIN travels with its first message. So a confirm is
two messages: BEGIN and the reads it begins with (``Tx.prefetch``), then its writes and COMMIT. A
transaction that only reads sends no BEGIN or COMMIT at all: each message is one implicit transaction,
which, under READ COMMITTED, sees what an explicit one would. Each statement is prepared once per
connection (``PREPARE``, sent with its first use) and then sent as ``EXECUTE name(parameters)``, so
PostgreSQL parses and plans it once, not at every request.
"""

from __future__ import annotations

import functools
import hashlib
import queue
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from loyadsl.server.sql import POSTGRES, SqlTx, Statement, migrate
from loyadsl.server.store import UNAVAILABLE, Retry, Store, StoreError, Tx

CONNECT_SECONDS = 5
IDLE = 16  # idle connections kept for the next transactions (more are opened under load, then closed)


class PostgresStore(Store):
    def __init__(self, url: str) -> None:
        import psycopg  # the `serve` extra

        self._psycopg = psycopg
        self.url = url
        self._idle: queue.LifoQueue[Any] = queue.LifoQueue(IDLE)
        self._prepared: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()  # per connection

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
        if conn.info.transaction_status != self._psycopg.pq.TransactionStatus.IDLE:
            conn.close()  # a transaction this store could not end: never hand it to the next one
            return
        try:
            self._idle.put_nowait(conn)
        except queue.Full:
            conn.close()

    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[Tx]:
        conn = self._conn()
        try:
            with self._errors(conn):
                tx = PgTx(conn, write, self._psycopg.ClientCursor(conn), self._prepared.setdefault(conn, set()))
                try:
                    yield tx
                except BaseException:
                    tx.rollback()
                    raise
                tx.commit()
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
            assert isinstance(tx, PgTx)
            tx.rows("SELECT pg_advisory_xact_lock(80800001)")  # begins; two upgrades at once: one waits
            return migrate(tx.conn, POSTGRES)

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


class PgTx(SqlTx):
    """A PostgreSQL transaction whose statements travel as text, batched (see the module's text)."""

    def __init__(self, conn: Any, write: bool, quoting: Any, prepared: set[str]) -> None:
        super().__init__(conn, POSTGRES)
        self._quoting = quoting  # a ClientCursor: its mogrify quotes parameters into the text
        self._prepared = prepared  # the statements this connection has prepared
        self._preparing: dict[str, str] = {}  # name -> PREPARE, sent with the next message
        self._begin = write  # BEGIN goes with the first message of a write transaction
        self._begun = False
        self._pending: list[str] = []  # writes not sent yet
        self._cursor = conn.cursor()

    def _text(self, sql: str, args: tuple[Any, ...]) -> str:
        """``EXECUTE`` of the statement prepared on this connection (prepared with the first use)."""
        name, numbered = _prepared(sql)
        if name not in self._prepared:
            self._preparing[name] = f"PREPARE {name} AS {numbered}"
        if not args:
            return f"EXECUTE {name}"
        return f"EXECUTE {name}({self._quoting.mogrify(', '.join(['%s'] * len(args)), args)})"

    def write(self, sql: str, *args: Any) -> None:
        self._pending.append(self._text(sql, args))

    def batch(self, statements: list[Statement]) -> list[list[Any]]:
        return self._send([self._text(sql, args) for sql, args in statements])

    def _send(self, texts: list[str]) -> list[list[Any]]:
        """Send the pending writes and ``texts`` in one message; the rows of each of ``texts``."""
        head = ["BEGIN"] if self._begin and not self._begun else []
        head += [*self._preparing.values(), *self._pending]
        self._pending = []
        cursor = self._cursor
        try:
            cursor.execute(";".join(head + texts))
        except Exception:
            self.conn.close()  # which PREPAREs ran is unknown: the connection is not used again
            raise
        self._prepared.update(self._preparing)
        self._preparing = {}
        self._begun = self._begun or self._begin
        results: list[list[Any]] = []
        for index in range(len(head) + len(texts)):
            if index:
                cursor.nextset()
            if index >= len(head):
                results.append(cursor.fetchall() if cursor.description is not None else [])
        return results

    def commit(self) -> None:
        if self._begun or self._pending:
            self._send(["COMMIT"] if self._begun or self._begin else [])

    def rollback(self) -> None:
        self._pending = []
        if self._begun and not self.conn.closed:
            try:
                self.conn.execute("ROLLBACK")
            except Exception:  # the error being raised says more than this one: a connection not reused
                self.conn.close()


@functools.lru_cache(maxsize=256)
def _prepared(sql: str) -> tuple[str, str]:
    """A statement's name on the server (from its text) and its text with ``$n`` for the ``?`` marks."""
    parts = sql.split("?")
    numbered = parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], 1))
    return "loya_" + hashlib.blake2b(sql.encode(), digest_size=8).hexdigest(), numbered
