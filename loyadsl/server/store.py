"""The state store: one small interface for everything the server keeps (docs/server.md, "Storage").

A ``Store`` hands out transactions (``Store.transaction``); everything read and written inside one
commits together or not at all. Customers are JSON documents (``CustomerState.to_dict``), one per
row; ``lock=True`` reads take the row's lock (PostgreSQL: ``SELECT ... FOR UPDATE``; SQLite: the
database's single write lock, taken when a write transaction begins), so two confirms of one
customer never interleave. Beside the customers: the journal of applied changes, the answers to
idempotent requests (key -> hash of the body + the stored response), the outcomes a return refers
to, sessions (a calculated receipt and the points it holds), programme-wide budgets, bundles and
API keys. ``connect.open_store`` picks the implementation from a URL.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any, NamedTuple

from loyadsl.runtime.errors import LoyaError

BAD_URL = "LOY812"  # a database URL or schema that cannot be used
UNAVAILABLE = "LOY813"  # the database cannot be reached (503, retry later)


class StoreError(LoyaError):
    """The database cannot be used (``UNAVAILABLE``: retry later; ``BAD_URL``: fix the setup)."""


class Stored(NamedTuple):
    """An idempotent request's stored answer."""

    body_hash: str
    status: int
    response: dict[str, Any]


class Session(NamedTuple):
    """A calculated receipt: its customer, the hash of its receipt, what calculate answered (the
    figures confirm must find again), the points it holds until ``expires`` (UTC seconds), and
    ``open``, ``confirmed`` or ``cancelled``."""

    receipt_id: str
    customer: str | None
    body_hash: str
    summary: dict[str, Any]
    held: int
    expires: int
    status: str


class BundleRow(NamedTuple):
    version: int
    sha256: str
    data: bytes
    uploaded: int  # UTC seconds since the epoch: the version is in force from then on


class Key(NamedTuple):
    scope: str  # "till" (calculate, confirm, cancel, return for its store) or "admin"
    store: str | None


class Tx(ABC):
    """One transaction's reads and writes."""

    @abstractmethod
    def prefetch(self, customer: str | None = None, lock: bool = False, answer: str | None = None,
                 session: str | None = None, held: tuple[str, int, str] | None = None) -> None:
        """Ask now, together, for what the request will read first: the ``customer`` (``lock``: its
        row first, so the other reads see what a confirm that held it committed), the stored
        ``answer``, the ``session``, points ``held`` (customer, now, besides), the bundle version and
        the budgets. A store that can (PostgreSQL: one round trip in pipeline mode) answers the later
        calls from what came back."""

    # customers
    @abstractmethod
    def customer(self, customer_id: str, lock: bool = False) -> dict[str, Any] | None: ...
    @abstractmethod
    def customer_text(self, customer_id: str, lock: bool = False) -> str | None:
        """The customer's state as stored (JSON text), as ``customer`` reads it."""
    @abstractmethod
    def customer_row(self, customer_id: str, lock: bool = False) -> tuple[str, str | None] | None:
        """The customer's state as stored (JSON text) and its seal (None: none; ``sql.seal``)."""
    @abstractmethod
    def put_customer(self, customer_id: str, state: dict[str, Any], key: bytes | None = None) -> str:
        """Write the customer's state; the text stored (as ``customer_text`` will read it). ``key``: the
        state is valid for the engine of that seal key (validated, or made by ``apply`` from a valid
        state): its seal is written with it (``sql.seal``); None: no seal, its next reading validates it."""
    @abstractmethod
    def insert_customer(self, customer_id: str, state: dict[str, Any], key: bytes | None = None) -> bool:
        """Insert a new customer (``key``: as ``put_customer``); False when the id exists already."""
    @abstractmethod
    def customers(self) -> Iterator[dict[str, Any]]: ...
    @abstractmethod
    def journal(self, customer_id: str, ref: str, kind: str, changes: list[dict[str, Any]]) -> None: ...

    # idempotency, outcomes, sessions
    @abstractmethod
    def stored(self, key: str) -> Stored | None: ...
    @abstractmethod
    def store_answer(self, key: str, body_hash: str, status: int, response: dict[str, Any]) -> None: ...
    @abstractmethod
    def outcome(self, receipt_id: str, lock: bool = False) -> tuple[str | None, dict[str, Any]] | None:
        """A confirmed receipt's customer (None: anonymous) and outcome (``lock``: its row, until the end)."""
    @abstractmethod
    def put_outcome(self, receipt_id: str, customer_id: str | None, outcome: dict[str, Any]) -> None: ...
    @abstractmethod
    def return_record(self, receipt_id: str) -> dict[str, Any] | None:
        """An anonymous receipt's return record (``anonymous_record`` with its returns applied), if any."""
    @abstractmethod
    def put_return_record(self, receipt_id: str, record: dict[str, Any]) -> None: ...
    @abstractmethod
    def session(self, receipt_id: str) -> Session | None: ...
    @abstractmethod
    def put_session(self, session: Session) -> None: ...
    @abstractmethod
    def held(self, customer_id: str, now: int, besides: str) -> int:
        """Points held by the customer's other open, unexpired sessions."""
    @abstractmethod
    def held_total(self, now: int) -> int: ...

    # budgets, bundles, keys
    @abstractmethod
    def budgets(self, lock: bool = False) -> dict[str, int]:
        """What each budgeted campaign has given so far (``lock``: until this transaction ends)."""
    @abstractmethod
    def add_budget(self, campaign: str, delta: int) -> None: ...
    @abstractmethod
    def bundle_version(self) -> int: ...
    @abstractmethod
    def bundle_version_at(self, epoch: int) -> int:
        """The version in force at ``epoch`` (UTC seconds): the newest uploaded by then, else the oldest."""
    @abstractmethod
    def bundle(self, version: int | None = None) -> BundleRow | None: ...
    @abstractmethod
    def bundles(self) -> list[BundleRow]: ...
    @abstractmethod
    def put_bundle(self, sha256: str, data: bytes, uploaded: int) -> int: ...
    @abstractmethod
    def key(self, key_hash: str) -> Key | None: ...
    @abstractmethod
    def put_key(self, key_hash: str, scope: str, store: str | None) -> None: ...

    # programme-wide usage limits (loyadsl/server/redemptions.py)
    @abstractmethod
    def redemptions(self) -> dict[str, int]:
        """The uses of each usage limit so far, by its key."""
    @abstractmethod
    def take_redemption(self, key: str, delta: int, limit: int) -> bool:
        """Add ``delta`` uses to a limit's count if it stays within ``limit`` (always for a negative
        ``delta``); False, changing nothing, when it would not."""


class Store(ABC):
    """A database holding the server's state."""

    @abstractmethod
    def transaction(self, write: bool = False) -> AbstractContextManager[Tx]:
        """A transaction: committed when the block ends, rolled back when it raises. A PostgreSQL
        deadlock or serialization failure is retried by ``processing`` (``Retry``)."""
    @abstractmethod
    def upgrade(self) -> list[int]:
        """Apply the migrations not yet applied; the versions applied now."""
    @abstractmethod
    def schema_version(self) -> int: ...
    @abstractmethod
    def close(self) -> None: ...


class Retry(Exception):
    """A transaction lost a race the database resolved (deadlock, serialization): run it again."""
