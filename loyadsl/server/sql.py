"""The SQL both stores run (``Tx`` over a DB-API connection) and the versioned schema migrations.

The two dialects differ in little: the parameter mark (``?`` / ``%s``), row locks (PostgreSQL's
``FOR UPDATE``; SQLite has one write lock for the whole database, taken by ``BEGIN IMMEDIATE``), an
advisory lock for the budgets, and the type names in the schema. JSON is stored as text.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

import msgspec

from loyadsl import __version__
from loyadsl.runtime.state.trusted import TRUST_FORMAT
from loyadsl.server.store import BundleRow, Key, Session, Stored, Tx

if TYPE_CHECKING:
    from loyadsl.runtime import Engine


class Dialect(NamedTuple):
    name: str
    mark: str  # the parameter placeholder
    for_update: str  # appended to a locking SELECT
    lock_budgets: str | None  # a statement that serialises budget updates (None: the write lock does)
    blob: str
    serial: str  # an auto-numbered integer primary key


SQLITE = Dialect("sqlite", "?", "", None, "BLOB", "INTEGER PRIMARY KEY AUTOINCREMENT")
POSTGRES = Dialect("postgresql", "%s", " FOR UPDATE", "SELECT pg_advisory_xact_lock(80800013)", "BYTEA",
                   "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY")

# Each migration is a list of statements; version N is MIGRATIONS[N - 1]. Never edit a released one:
# append a new one (``loya db upgrade`` applies those a database has not seen, in order).
MIGRATIONS: list[list[str]] = [
    [
        "CREATE TABLE customers (id TEXT PRIMARY KEY, state TEXT NOT NULL)",
        "CREATE TABLE journal (seq {serial}, customer TEXT NOT NULL, ref TEXT NOT NULL, kind TEXT NOT NULL, "
        "changes TEXT NOT NULL)",
        "CREATE INDEX journal_customer ON journal (customer)",
        "CREATE TABLE answers (key TEXT PRIMARY KEY, body_hash TEXT NOT NULL, status INTEGER NOT NULL, "
        "response TEXT NOT NULL)",
        "CREATE TABLE outcomes (receipt_id TEXT PRIMARY KEY, customer TEXT NOT NULL, outcome TEXT NOT NULL)",
        "CREATE TABLE sessions (receipt_id TEXT PRIMARY KEY, customer TEXT, body_hash TEXT NOT NULL, "
        "summary TEXT NOT NULL, held BIGINT NOT NULL, expires BIGINT NOT NULL, status TEXT NOT NULL)",
        "CREATE INDEX sessions_open ON sessions (customer, status)",
        "CREATE TABLE budgets (campaign TEXT PRIMARY KEY, spent BIGINT NOT NULL)",
        "CREATE TABLE bundles (version {serial}, sha256 TEXT NOT NULL, data {blob} NOT NULL, uploaded BIGINT NOT NULL)",
        "CREATE TABLE api_keys (hash TEXT PRIMARY KEY, scope TEXT NOT NULL, store TEXT)",
    ],
    [  # 2: trigger chains (loyadsl/server/chains.py): the actions they schedule, each customer's last tick
        "CREATE TABLE scheduled (id {serial}, customer TEXT NOT NULL, due BIGINT NOT NULL, action TEXT NOT NULL)",
        "CREATE INDEX scheduled_due ON scheduled (due, id)",
        "CREATE TABLE ticks (customer TEXT PRIMARY KEY, at BIGINT NOT NULL)",
    ],
    [  # 3: anonymous receipts are kept too (customer NULL), with the return record of their returns
        "CREATE TABLE outcomes_2 (receipt_id TEXT PRIMARY KEY, customer TEXT, outcome TEXT NOT NULL, record TEXT)",
        "INSERT INTO outcomes_2 (receipt_id, customer, outcome) SELECT receipt_id, customer, outcome FROM outcomes",
        "DROP TABLE outcomes",
        "ALTER TABLE outcomes_2 RENAME TO outcomes",
    ],
    [  # 4: each state's seal (``seal``): written with every state the server validated or made; NULL reads validate
        "ALTER TABLE customers ADD COLUMN seal TEXT",
    ],
]
SCHEMA_VERSION = len(MIGRATIONS)
BUNDLE_VERSION = "SELECT COALESCE(MAX(version), 0) FROM bundles"
BUDGETS = "SELECT campaign, spent FROM budgets"


def migration(version: int, dialect: Dialect) -> list[str]:
    return [s.format(serial=dialect.serial, blob=dialect.blob) for s in MIGRATIONS[version - 1]]


def dumps(value: Any) -> str:
    """Canonical JSON: what a request's idempotency hash is taken of (processing.body_hash). Never
    change it: a retry after an upgrade must hash as the first request did."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def encode(value: Any) -> str:
    """JSON as stored (a customer's state, an outcome, an answer): compact, keys sorted, by msgspec."""
    return msgspec.json.encode(value, order="sorted").decode()


decode = msgspec.json.decode  # stored JSON back


def seal(key: bytes, text: str) -> str:
    """A customer state's seal, kept in its row beside its ``text``: a digest of the text keyed by what the
    text was validated against (``seal_key``: the runtime's reading and the bundle). A row
    whose seal is that of its text under the engine's key is read without validating it again
    (``trusted_state``); any other (NULL from before migration 4, another bundle's, a state or seal
    changed by hand) is validated in full."""
    return hashlib.blake2b(text.encode(), key=key, digest_size=16).hexdigest()


@functools.lru_cache(maxsize=64)
def seal_key(engine: Engine) -> bytes | None:
    """What the seals of the states valid for ``engine`` are keyed by (``seal``): the trusted reading's
    form (``TRUST_FORMAT``), this loyadsl's version and the digest of the bundle's payload, which holds
    the state declarations ``from_dict`` checks a state against (credit limits). The whole bundle rather
    than its state section alone: nothing of our own to serialise (and to keep complete and stable
    across processes); a new bundle costs each customer one validating read. None (an engine not
    loaded from a bundle's bytes): no state is sealed or trusted."""
    digest = engine.bundle.digest
    if not digest:
        return None
    return hashlib.sha256(f"loya-state-seal/{TRUST_FORMAT}/{__version__}/{digest}".encode()).digest()


Statement = tuple[str, tuple[Any, ...]]  # SQL with ``?`` marks, and its parameters


class SqlTx(Tx):
    """A transaction on an open DB-API connection (the store began it and ends it). Reads go through
    ``rows`` and ``batch``, writes through ``write``: a store may hold writes back and send them with
    its next read or the commit (PostgreSQL, postgres.py); here they run at once."""

    def __init__(self, conn: Any, dialect: Dialect) -> None:
        self.conn = conn
        self.d = dialect
        self._ahead: dict[tuple[Any, ...], Any] = {}  # prefetched answers, by the call that will read them
        self._spent: dict[str, int] | None = None  # the budgets table as read (until this transaction writes it)

    def batch(self, statements: list[Statement]) -> list[list[Any]]:
        """Each statement's rows (none for a write), the statements run in order."""
        return [self.conn.execute(sql.replace("?", self.d.mark), args).fetchall() for sql, args in statements]

    def write(self, sql: str, *args: Any) -> None:
        self.conn.execute(sql.replace("?", self.d.mark), args)

    def rows(self, sql: str, *args: Any) -> list[Any]:
        return self.batch([(sql, args)])[0]

    def one(self, sql: str, *args: Any) -> Any:
        found = self.rows(sql, *args)
        return found[0] if found else None

    def _first(self, statement: Statement) -> Any:
        found = self.batch([statement])[0]
        return found[0] if found else None

    def prefetch(self, customer: str | None = None, lock: bool = False, answer: str | None = None,
                 session: str | None = None, held: tuple[str, int, str] | None = None) -> None:
        asked: list[tuple[tuple[Any, ...], Statement]] = []  # sent together, answered in one batch
        if customer is not None:
            asked.append((("customer", customer, lock), self._customer_query(customer, lock)))
        if answer is not None:
            asked.append((("stored", answer), self._stored_query(answer)))
        if session is not None:
            asked.append((("session", session), self._session_query(session)))
        if held is not None:
            asked.append((("held", held[0], held[2]), self._held_query(*held)))
        asked.append((("bundle_version",), (BUNDLE_VERSION, ())))
        asked.append((("budgets",), (BUDGETS, ())))
        for (key, _), found in zip(asked, self.batch([statement for _, statement in asked]), strict=True):
            self._ahead[key] = found if key == ("budgets",) else (found[0] if found else None)
        self._spent = {name: int(spent) for name, spent in self._ahead.pop(("budgets",))}

    def _asked(self, *key: Any) -> tuple[bool, Any]:
        """(True, the row) when ``prefetch`` read it; each prefetched answer serves one call."""
        if key in self._ahead:
            return True, self._ahead.pop(key)
        return False, None

    def _customer_query(self, customer_id: str, lock: bool) -> Statement:
        return "SELECT state, seal FROM customers WHERE id = ?" + (self.d.for_update if lock else ""), (customer_id,)

    def _stored_query(self, key: str) -> Statement:
        return "SELECT body_hash, status, response FROM answers WHERE key = ?", (key,)

    def _session_query(self, receipt_id: str) -> Statement:
        return ("SELECT receipt_id, customer, body_hash, summary, held, expires, status FROM sessions "
                "WHERE receipt_id = ?", (receipt_id,))

    def _held_query(self, customer_id: str, now: int, besides: str) -> Statement:
        return ("SELECT COALESCE(SUM(held), 0) FROM sessions WHERE customer = ? AND status = 'open' "
                "AND expires > ? AND receipt_id <> ?", (customer_id, now, besides))

    # customers ---------------------------------------------------------------------------------
    def customer(self, customer_id: str, lock: bool = False) -> dict[str, Any] | None:
        text = self.customer_text(customer_id, lock)
        return None if text is None else decode(text)

    def customer_text(self, customer_id: str, lock: bool = False) -> str | None:
        row = self.customer_row(customer_id, lock)
        return None if row is None else row[0]

    def customer_row(self, customer_id: str, lock: bool = False) -> tuple[str, str | None] | None:
        found, row = self._asked("customer", customer_id, lock)
        row = row if found else self._first(self._customer_query(customer_id, lock))
        return None if row is None else (str(row[0]), row[1])

    def put_customer(self, customer_id: str, state: dict[str, Any], key: bytes | None = None) -> str:
        text = encode(state)
        self.write("INSERT INTO customers (id, state, seal) VALUES (?, ?, ?) "
                  "ON CONFLICT (id) DO UPDATE SET state = excluded.state, seal = excluded.seal", customer_id, text,
                  None if key is None else seal(key, text))
        return text

    def insert_customer(self, customer_id: str, state: dict[str, Any], key: bytes | None = None) -> bool:
        text = encode(state)
        return self.one("INSERT INTO customers (id, state, seal) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING "
                        "RETURNING 1", customer_id, text, None if key is None else seal(key, text)) is not None

    def customers(self) -> Iterator[dict[str, Any]]:
        cursor = self.conn.execute("SELECT state FROM customers ORDER BY id")  # streamed where the driver can
        while rows := cursor.fetchmany(500):
            for (text,) in rows:
                yield decode(text)

    def journal(self, customer_id: str, ref: str, kind: str, changes: list[dict[str, Any]]) -> None:
        self.write("INSERT INTO journal (customer, ref, kind, changes) VALUES (?, ?, ?, ?)",
                  customer_id, ref, kind, encode(changes))

    # idempotency, outcomes, sessions -------------------------------------------------------------
    def stored(self, key: str) -> Stored | None:
        found, row = self._asked("stored", key)
        row = row if found else self._first(self._stored_query(key))
        return None if row is None else Stored(row[0], row[1], decode(row[2]))

    def store_answer(self, key: str, body_hash: str, status: int, response: dict[str, Any]) -> None:
        self.write("INSERT INTO answers (key, body_hash, status, response) VALUES (?, ?, ?, ?)",
                  key, body_hash, status, encode(response))

    def outcome(self, receipt_id: str, lock: bool = False) -> tuple[str | None, dict[str, Any]] | None:
        row = self.one("SELECT customer, outcome FROM outcomes WHERE receipt_id = ?" + (self.d.for_update if lock else ""),
                        receipt_id)
        return None if row is None else (row[0], decode(row[1]))

    def put_outcome(self, receipt_id: str, customer_id: str | None, outcome: dict[str, Any]) -> None:
        self.write("INSERT INTO outcomes (receipt_id, customer, outcome) VALUES (?, ?, ?)",
                  receipt_id, customer_id, encode(outcome))

    def return_record(self, receipt_id: str) -> dict[str, Any] | None:
        row = self.one("SELECT record FROM outcomes WHERE receipt_id = ?", receipt_id)
        return None if row is None or row[0] is None else decode(row[0])

    def put_return_record(self, receipt_id: str, record: dict[str, Any]) -> None:
        self.write("UPDATE outcomes SET record = ? WHERE receipt_id = ?", encode(record), receipt_id)

    def session(self, receipt_id: str) -> Session | None:
        found, row = self._asked("session", receipt_id)
        row = row if found else self._first(self._session_query(receipt_id))
        return None if row is None else Session(row[0], row[1], row[2], decode(row[3]), *row[4:])

    def put_session(self, s: Session) -> None:
        self.write("INSERT INTO sessions (receipt_id, customer, body_hash, summary, held, expires, status) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (receipt_id) DO UPDATE SET customer = excluded.customer, "
                  "body_hash = excluded.body_hash, summary = excluded.summary, held = excluded.held, "
                  "expires = excluded.expires, status = excluded.status",
                  s.receipt_id, s.customer, s.body_hash, encode(s.summary), s.held, s.expires, s.status)

    def held(self, customer_id: str, now: int, besides: str) -> int:
        found, row = self._asked("held", customer_id, besides)  # prefetched within the same second or so
        return int((row if found else self._first(self._held_query(customer_id, now, besides)))[0])

    def held_total(self, now: int) -> int:
        return int(self.one("SELECT COALESCE(SUM(held), 0) FROM sessions WHERE status = 'open' AND expires > ?",
                             now)[0])

    # budgets, bundles, keys ----------------------------------------------------------------------
    def budgets(self, lock: bool = False) -> dict[str, int]:
        if lock and self.d.lock_budgets:
            self.write(self.d.lock_budgets)  # sent before the read below
        if lock or self._spent is None:
            self._spent = {name: int(spent) for name, spent in self.rows(BUDGETS)}
        return dict(self._spent)

    def add_budget(self, campaign: str, delta: int) -> None:
        self._spent = None
        self.write("INSERT INTO budgets (campaign, spent) VALUES (?, ?) "
                  "ON CONFLICT (campaign) DO UPDATE SET spent = budgets.spent + excluded.spent", campaign, delta)

    def bundle_version(self) -> int:
        found, row = self._asked("bundle_version")
        return int((row if found else self.one(BUNDLE_VERSION))[0])

    def bundle_version_at(self, epoch: int) -> int:
        row = self.one("SELECT MAX(version) FROM bundles WHERE uploaded <= ?", epoch)
        return int(row[0]) if row[0] is not None else int(self.one("SELECT COALESCE(MIN(version), 0) FROM bundles")[0])

    def bundle(self, version: int | None = None) -> BundleRow | None:
        version = self.bundle_version() if version is None else version
        row = self.one("SELECT version, sha256, data, uploaded FROM bundles WHERE version = ?", version)
        return None if row is None else BundleRow(row[0], row[1], bytes(row[2]), row[3])

    def bundles(self) -> list[BundleRow]:
        found = self.rows("SELECT version, sha256, uploaded FROM bundles ORDER BY version")
        return [BundleRow(v, sha, b"", uploaded) for v, sha, uploaded in found]

    def put_bundle(self, sha256: str, data: bytes, uploaded: int) -> int:
        row = self.one("INSERT INTO bundles (sha256, data, uploaded) VALUES (?, ?, ?) RETURNING version",
                        sha256, data, uploaded)
        return int(row[0])

    def key(self, key_hash: str) -> Key | None:
        row = self.one("SELECT scope, store FROM api_keys WHERE hash = ?", key_hash)
        return None if row is None else Key(row[0], row[1])

    def put_key(self, key_hash: str, scope: str, store: str | None) -> None:
        self.write("INSERT INTO api_keys (hash, scope, store) VALUES (?, ?, ?)", key_hash, scope, store)

    # usage limits: rows of the budgets table keyed by a JSON array (loyadsl/server/redemptions.py)
    def redemptions(self) -> dict[str, int]:
        return {key: count for key, count in self.budgets().items() if key.startswith("[")}

    def take_redemption(self, key: str, delta: int, limit: int) -> bool:
        if delta > limit:
            return False
        self._spent = None
        row = self.one("INSERT INTO budgets (campaign, spent) VALUES (?, ?) ON CONFLICT (campaign) DO UPDATE "
                        "SET spent = budgets.spent + excluded.spent WHERE budgets.spent + excluded.spent <= ? "
                        "RETURNING 1", key, delta, limit if delta > 0 else 2**62)
        return row is not None


def migrate(conn: Any, dialect: Dialect) -> list[int]:
    """Bring a connection's schema (inside the caller's transaction) to SCHEMA_VERSION: the versions
    applied, oldest first. Both stores run this; only the dialect of the statements differs."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    if conn.execute("SELECT version FROM schema_version").fetchone() is None:
        conn.execute("INSERT INTO schema_version VALUES (0)")
    have = int(conn.execute("SELECT version FROM schema_version").fetchone()[0])
    done = list(range(have + 1, SCHEMA_VERSION + 1))
    for version in done:
        for statement in migration(version, dialect):
            conn.execute(statement)
    conn.execute(f"UPDATE schema_version SET version = {int(max(have, SCHEMA_VERSION))}")  # our own integer
    return done
