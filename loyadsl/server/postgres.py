"""The production store: PostgreSQL through psycopg 3. Several server processes (or hosts) share one
database and hold no state of their own.

A confirm locks its customer's row (``SELECT ... FOR UPDATE``), then the budgets (a transaction-level
advisory lock), then whoever else it books to (a referrer, the other members of a shared account).
PostgreSQL breaks the rare lock cycle this allows by aborting one transaction; that one raises
``Retry`` and ``processing`` runs it again. A lost connection (a restart of the database) is a
``StoreError`` the server answers with 503; the next request connects again. A transaction has its own
connection while it runs, from a small pool of idle ones.

Round trips: statements travel in libpq's pipeline mode, several to a round trip, their parameters
apart from their text (the extended protocol: never quoted into the SQL). Writes are held back and
travel with the next read or with the COMMIT; a write transaction's BEGIN travels with its first
round trip. So a confirm is two round trips: BEGIN and the reads it begins with (``Tx.prefetch``),
then its writes and COMMIT. A transaction that only reads sends no BEGIN or COMMIT at all: the
statements of one round trip (one sync) are one implicit transaction, which, under READ COMMITTED,
sees what an explicit one would. Each statement is prepared once per connection (sent with its first
use), so PostgreSQL parses and plans it once, not at every request. This talks to libpq through
psycopg's ``pgconn`` (C), without psycopg's cursors, whose Python costs more per statement than the
database does; everything else (connecting, migrations, exports) goes through psycopg as usual.
"""

from __future__ import annotations

import functools
import hashlib
import select
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from loyadsl.server.sql import POSTGRES, SqlTx, Statement, migrate
from loyadsl.server.store import UNAVAILABLE, Retry, Store, StoreError, Tx

CONNECT_SECONDS = 5
_IDLE = 0  # libpq's PQTRANS_IDLE (psycopg.pq.TransactionStatus.IDLE): no transaction open
_FATAL_ERROR, _PIPELINE_SYNC = 7, 10  # libpq's PGRES_FATAL_ERROR, PGRES_PIPELINE_SYNC (psycopg.pq.ExecStatus)
IDLE = 16  # idle connections kept for the next transactions (more are opened under load, then closed)


class PostgresStore(Store):
    def __init__(self, url: str) -> None:
        import psycopg  # the `serve` extra

        self._psycopg = psycopg
        self.url = url
        # idle connections, the last released on top; list.pop and list.append are atomic (one bytecode
        # call under the GIL): no lock, unlike queue.LifoQueue's (a Condition: 2-4 us a transaction)
        self._idle: list[Any] = []
        self._prepared: weakref.WeakKeyDictionary[Any, set[bytes]] = weakref.WeakKeyDictionary()  # per connection

    def _conn(self) -> Any:
        while True:
            try:
                conn = self._idle.pop()
            except IndexError:
                break
            if not conn.closed:
                return conn
        try:
            return self._psycopg.connect(self.url, connect_timeout=CONNECT_SECONDS, autocommit=True,
                                         client_encoding="UTF8")  # what postgres.py sends and reads
        except self._psycopg.Error as exc:
            raise StoreError(UNAVAILABLE, f"the database cannot be reached ({type(exc).__name__}); retry") from None

    def _release(self, conn: Any) -> None:
        if conn.closed:
            return
        if conn.pgconn.transaction_status != _IDLE:
            conn.close()  # a transaction this store could not end: never hand it to the next one
            return
        if len(self._idle) < IDLE:  # two releases at once may keep one more: harmless
            self._idle.append(conn)
        else:
            conn.close()

    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[Tx]:
        conn = self._conn()
        pg = self._psycopg
        try:
            tx = PgTx(conn, write, self._prepared_by(conn))
            try:
                yield tx
            except BaseException:
                tx.rollback()
                raise
            tx.commit()
        except (pg.errors.DeadlockDetected, pg.errors.SerializationFailure):
            raise Retry() from None
        except (pg.OperationalError, pg.InterfaceError) as exc:
            conn.close()
            self.close()  # the idle connections went down with this one (a restart of the database)
            raise StoreError(UNAVAILABLE, f"the database connection failed ({type(exc).__name__}); retry") from None
        finally:
            self._release(conn)

    def _prepared_by(self, conn: Any) -> set[bytes]:
        """The statements ``conn`` has prepared (looked up first: ``setdefault`` makes a set and a weak
        reference each time)."""
        prepared = self._prepared.get(conn)
        if prepared is None:
            prepared = self._prepared[conn] = set()
        return prepared

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
                self._idle.pop().close()
            except IndexError:
                return


class PgTx(SqlTx):
    """A PostgreSQL transaction whose statements travel in libpq's pipeline mode (see the module's text)."""

    def __init__(self, conn: Any, write: bool, prepared: set[bytes]) -> None:
        super().__init__(conn, POSTGRES)
        self._pg = conn.pgconn
        self._prepared = prepared  # the statements this connection has prepared
        self._begin = write  # BEGIN goes with the first message of a write transaction
        self._begun = False
        self._pending: list[Statement] = []  # writes not sent yet

    def write(self, sql: str, *args: Any) -> None:
        self._pending.append((sql, args))

    def batch(self, statements: list[Statement]) -> list[list[Any]]:
        return self._send(statements)

    def _send(self, statements: list[Statement], end: bytes | None = None) -> list[list[Any]]:
        """Send BEGIN (first of a write transaction), the pending writes, ``statements`` and ``end``
        (COMMIT) in one pipeline; the rows of each of ``statements``."""
        head = self._pending
        self._pending = []
        begin = self._begin and not self._begun
        try:
            results = _pipeline(self._pg, self._prepared, begin, head + statements, end)
        except Exception:
            self.conn.close()  # mid-pipeline: what ran is unknown, the connection is not used again
            raise
        self._begun = self._begun or begin
        return results[len(head):]

    def commit(self) -> None:
        if self._begun or self._pending:
            self._send([], b"COMMIT" if self._begun or self._begin else None)

    def rollback(self) -> None:
        self._pending = []
        if self._begun and not self.conn.closed:
            try:
                self.conn.execute("ROLLBACK")
            except Exception:  # the error being raised says more than this one: a connection not reused
                self.conn.close()


def _pipeline(pg: Any, prepared: set[bytes], begin: bool, statements: list[Statement],
              end: bytes | None) -> list[list[Any]]:
    """Run ``statements`` on the libpq connection ``pg`` in one round trip (pipeline mode, one sync),
    after BEGIN (``begin``) and before ``end``: each statement prepared on this connection at its
    first use, then executed with its parameters sent apart from its text (never quoted into it).
    The rows of each statement; the first error the database answered is raised (as psycopg's)."""
    wanted: list[bool] = []  # per result the pipeline answers: a statement's (True) or BEGIN's, a PREPARE's
    preparing: list[bytes] = []
    pg.enter_pipeline_mode()
    if begin:
        pg.send_query_params(b"BEGIN", None)
        wanted.append(False)
    for sql, args in statements:
        name, numbered = _prepared(sql)
        if name not in prepared and name not in preparing:
            pg.send_prepare(name, numbered)
            preparing.append(name)
            wanted.append(False)
        pg.send_query_prepared(name, *_params(args))
        wanted.append(True)
    if end is not None:
        pg.send_query_params(end, None)
        wanted.append(False)
    pg.pipeline_sync()
    results = _results(pg)
    pg.exit_pipeline_mode()
    prepared.update(preparing)
    assert len(results) == len(wanted), (len(results), len(wanted))
    return [_rows(result) for result, rows in zip(results, wanted, strict=True) if rows]


def _params(args: tuple[Any, ...]) -> tuple[list[bytes | None], list[int] | None]:
    """Parameters as libpq takes them: text (UTF-8: the database's encoding), bytes as binary."""
    values: list[bytes | None] = []
    binary = False
    for arg in args:
        kind = type(arg)
        if kind is str:  # the common cases first, by exact type (a subclass goes the long way)
            values.append(arg.encode())
        elif kind is int:
            values.append(b"%d" % arg)
        elif arg is None:
            values.append(None)
        elif isinstance(arg, str):
            values.append(arg.encode())
        elif isinstance(arg, int) and not isinstance(arg, bool):
            values.append(b"%d" % arg)
        elif isinstance(arg, bytes):
            values.append(arg)
            binary = True
        else:
            raise TypeError(f"no SQL parameter of type {type(arg).__name__}")
    if not binary:
        return values, None
    return values, [int(isinstance(arg, bytes)) for arg in args]


def _results(pg: Any) -> list[Any]:
    """Every result up to the pipeline's sync, waiting for them without holding the GIL; the first
    error among them raised."""
    socket = pg.socket
    ready = select.poll()
    if pg.flush():  # more to send: the database may be waiting for us to read first
        ready.register(socket, select.POLLIN | select.POLLOUT)
        while pg.flush():
            if any(event & select.POLLIN for _, event in ready.poll()):
                pg.consume_input()
        ready.modify(socket, select.POLLIN)
    else:
        ready.register(socket, select.POLLIN)
    results: list[Any] = []
    error: Exception | None = None
    while True:
        while pg.is_busy():
            ready.poll()
            pg.consume_input()
        result = pg.get_result()
        if result is None:  # the end of one statement's results
            continue
        status = result.status
        if status == _PIPELINE_SYNC:
            break
        if status == _FATAL_ERROR and error is None:
            error = _error(result)
        results.append(result)
    if error is not None:
        raise error
    return results


def _error(result: Any) -> Exception:
    """psycopg's exception for a failed statement (by its SQLSTATE: a deadlock is ``DeadlockDetected``)."""
    from psycopg import errors, pq

    state = (result.error_field(pq.DiagnosticField.SQLSTATE) or b"").decode("ascii", "replace")
    try:
        kind = errors.lookup(state)
    except KeyError:
        kind = errors.DatabaseError
    return kind((result.error_message or b"").decode("utf-8", "replace").strip())


# PostgreSQL's type OIDs of the columns our statements read, and how their text becomes a value
_TEXT = (25, 1043, 19)  # text, varchar, name
_INTEGER = (20, 21, 23, 1700)  # int8, int2, int4, numeric (SUM of integers: integral)
_BYTEA, _BOOL, _VOID = 17, 16, 2278


def _rows(result: Any) -> list[Any]:
    """A result's rows as tuples of Python values (text results: UTF-8, the database's encoding)."""
    count = result.ntuples
    if not count:
        return []
    get = result.get_value
    if result.nfields == 1:  # most of our statements read one column
        oid = result.ftype(0)
        return [(_value(oid, get(row, 0)),) for row in range(count)]
    if result.nfields == 2:  # a customer's row: its state and its seal
        first, second = result.ftype(0), result.ftype(1)
        return [(_value(first, get(row, 0)), _value(second, get(row, 1))) for row in range(count)]
    types = list(enumerate(result.ftype(column) for column in range(result.nfields)))
    return [tuple([_value(oid, get(row, column)) for column, oid in types]) for row in range(count)]


def _value(oid: int, text: bytes | None) -> Any:
    if text is None:
        return None
    if oid in _TEXT:
        return text.decode()
    if oid in _INTEGER:
        return int(text)
    if oid == _BYTEA:
        from psycopg import pq

        return bytes(pq.Escaping().unescape_bytea(text))  # hex or escape, whichever bytea_output is
    if oid == _BOOL:
        return text == b"t"
    if oid == _VOID:
        return None
    raise TypeError(f"no conversion for PostgreSQL type {oid}")


@functools.lru_cache(maxsize=256)
def _prepared(sql: str) -> tuple[bytes, bytes]:
    """A statement's name on the server (from its text) and its text with ``$n`` for the ``?`` marks."""
    parts = sql.split("?")
    numbered = parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], 1))
    return b"loya_" + hashlib.blake2b(sql.encode(), digest_size=8).hexdigest().encode(), numbered.encode()
