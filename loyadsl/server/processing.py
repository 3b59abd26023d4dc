"""What the server does, free of HTTP: calculate, confirm, cancel, return, customers, bundles, keys.

Every operation is one transaction on the ``Store``. A confirm (and a return) runs, under the
customer's row lock: the stored answer for its id (a retry gets it back, another body is a
conflict), the bundle in force, the customer's state, the budgets, evaluation, the changes applied
to every state they concern (the customer, a referrer, the other members of a shared account), the
journal, the budgets and the answer stored, then one commit. The server may die anywhere: before
the commit nothing happened, after it the retry finds the stored answer.

Calculate changes nothing a confirm books; when the receipt pays with points it records a *session*
that holds them for ``hold_seconds``, so no other receipt of the customer can offer them meanwhile
(a calculate that holds nothing writes nothing, unless it releases what an earlier one of the receipt
held). The answer a confirm stores for retries refers to its outcome row rather than copying it. Confirm re-evaluates the receipt on the state it locks and refuses (``CHANGED``) when the
figures calculate told the till no longer hold.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, TypeVar

import msgspec

from loyadsl.runtime import CodeCache, Engine, Receipt, load_bundle
from loyadsl.runtime.declarations import StateDecls
from loyadsl.runtime.errors import LoyaError
from loyadsl.runtime.ledger.refund import anonymous_record
from loyadsl.runtime.model import Outcome, utc_datetime, utc_seconds
from loyadsl.runtime.state import CustomerState, apply
from loyadsl.runtime.state.trusted import trusted_state
from loyadsl.server import chains, redemptions
from loyadsl.server.errors import (
    BAD_BUNDLE,
    BAD_REQUEST,
    CHANGED,
    CLOSED,
    CONFLICT,
    CUSTOMER_EXISTS,
    FORBIDDEN,
    NO_KEY,
    REJECTED_ITEM,
    UNKNOWN_CUSTOMER,
    UNKNOWN_RECEIPT,
    Problem,
    problem_of,
)
from loyadsl.server.sql import decode, dumps, seal, seal_key
from loyadsl.server.store import UNAVAILABLE, BundleRow, Key, Retry, Session, Store, Stored, StoreError, Tx

T = TypeVar("T")
HOLD_SECONDS = 300
RETRIES = 5  # a transaction PostgreSQL aborted to break a deadlock is run again this often
KEY_PREFIX = "loya_"
STATE_CACHE = 4096  # customers whose state is kept read (_parsed), with the text it was read from
KEY_CACHE_SECONDS = 10  # a key found in the database is trusted this long without asking again
# seconds spent in the engine by the current request, for the Server-Timing header (app.py)
EVAL_SECONDS: ContextVar[list[float] | None] = ContextVar("eval_seconds", default=None)


def body_hash(body: Any) -> str:
    """The idempotency hash of a request body (a value read from JSON): of its canonical JSON
    (``sql.dumps``), so key order does not matter. msgspec writes the same bytes as ``json.dumps`` does there, in a fifth of the time, for
    every value without a float (test_srv_body_hash); a float (which it writes as ``1e+16`` is written
    differently, infinity and NaN as null) shows in its output as a digit before ``.``, ``e`` or ``E``,
    or as ``null``: then ``dumps`` decides. A string that looks so only costs the slow way."""
    try:
        fast = _CANONICAL.encode(body)
    except (TypeError, ValueError, OverflowError, UnicodeEncodeError):
        fast = None  # what json.dumps says of it (it may refuse it too, or take a lone surrogate)
    if fast is None or b"null" in fast or float_mark(fast):
        fast = dumps(body).encode()
    return hashlib.sha256(fast).hexdigest()


_CANONICAL = msgspec.json.Encoder(order="sorted")
_FLOAT_MARK = re.compile(rb"[0-9][.eE]")
# the same test, faster: digits made b"0", the marks b".", every other byte b" ", then b"0." looked for (the
# regex tries each position of the 1 KB text in turn: 2-3% of a calculate's instructions; test_srv_body_hash)
_MARKS_ONLY = bytes(0x30 if 0x30 <= b <= 0x39 else 0x2E if b in b".eE" else 0x20 for b in range(256))


def float_mark(text: bytes) -> bool:
    """Whether ``text`` has a digit followed by ``.``, ``e`` or ``E`` (``_FLOAT_MARK``)."""
    return b"0." in text.translate(_MARKS_ONLY)


def hash_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_key() -> str:
    """A fresh API key (256 random bits); the database keeps only its SHA-256."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


class Processor:
    def __init__(self, store: Store, trusted_keys: Iterable[bytes] = (), hold_seconds: int = HOLD_SECONDS,
                 clock: Callable[[], float] = time.time, code_cache: CodeCache | None = None) -> None:
        self.store = store
        self.code_cache = code_cache  # the engines' compiled code, kept between loads (runtime/codecache.py)
        self.trusted_keys = list(trusted_keys)
        self.hold_seconds = hold_seconds
        self.clock = clock
        self._engines: dict[int, Engine] = {}
        self._keys: dict[str, tuple[Key, float]] = {}  # key hash -> (key, until when it is trusted)
        # (engine, customer) -> (the stored text, the state read from it): ``_parsed``
        self._states: dict[tuple[int, str], tuple[str, CustomerState]] = {}
        self._states_lock = threading.Lock()

    # ------------------------------------------------------------------------------ plumbing
    def _run(self, write: bool, work: Callable[[Tx], T]) -> T:
        """``work`` in one transaction, run again when the database aborted it to break a deadlock,
        and once more after a failed connection (a pooled one the database dropped): safe, since the
        work begins by looking for the answer a committed run stored."""
        reconnected = False
        for attempt in range(RETRIES):
            try:
                with self.store.transaction(write) as tx:
                    return work(tx)
            except Retry:
                if attempt == RETRIES - 1:
                    raise StoreError(UNAVAILABLE, "the database kept aborting the transaction; retry") from None
            except StoreError as exc:
                if exc.code != UNAVAILABLE or reconnected:
                    raise
                reconnected = True
        raise AssertionError("unreachable")

    def engine(self, tx: Tx, at: int | None = None) -> tuple[int, Engine]:
        """The bundle in force now (the newest version), or at ``at`` (UTC seconds since the epoch: an
        offline receipt's time), as an engine, loaded once per process."""
        version = tx.bundle_version() if at is None else tx.bundle_version_at(at)
        engine = self._engines.get(version)
        if engine is None:
            row = tx.bundle(version)
            if row is None:
                raise StoreError(UNAVAILABLE, "the server has no bundle yet; upload one")
            engine = self._engines[version] = Engine(load_bundle(row.data), code_cache=self.code_cache)
        return version, engine

    def current_engine(self) -> Engine:
        return self._run(False, self.engine)[1]

    def known_key(self, token: str | None) -> Key | None:
        """The key of ``token`` when it was found in the database lately (no database call: the event
        loop may ask)."""
        cached = self._keys.get(hash_key(token)) if token else None
        return cached[0] if cached is not None and cached[1] > time.monotonic() else None

    def authenticate(self, token: str | None) -> Key:
        if not token:
            raise Problem(NO_KEY, "send the API key as `Authorization: Bearer KEY`")
        digest, now = hash_key(token), time.monotonic()
        cached = self._keys.get(digest)
        if cached is not None and cached[1] > now:
            return cached[0]
        key = self._run(False, lambda tx: tx.key(digest))
        if key is None:
            raise Problem(NO_KEY, "unknown API key")
        if len(self._keys) > 10_000:
            self._keys.clear()
        self._keys[digest] = (key, now + KEY_CACHE_SECONDS)
        return key

    @staticmethod
    def allow(key: Key, scope: str, store: str | None = None) -> None:
        if key.scope == "admin" and scope == "admin":
            return
        if scope == "till" and key.scope == "till" and (store is None or key.store == store):
            return
        if scope == "till" and key.scope == "till":
            raise Problem(FORBIDDEN, f"this key is for store {key.store!r}, not {store!r}", "store_id")
        raise Problem(FORBIDDEN, f"this needs a {scope} key")

    def add_key(self, scope: str, store: str | None) -> str:
        token = new_key()
        self._run(True, lambda tx: tx.put_key(hash_key(token), scope, store))
        return token

    # ------------------------------------------------------------------------------ receipts
    def calculate(self, data: dict[str, Any], key: Key) -> dict[str, Any]:
        receipt = _receipt(data)
        self.allow(key, "till", receipt.store)
        digest = body_hash(data)
        holds = receipt.customer_id is not None and receipt.redeem is not None

        def work(tx: Tx) -> dict[str, Any]:
            tx.prefetch(receipt.customer_id, holds, None, receipt.receipt_id, self._others(receipt))
            session = tx.session(receipt.receipt_id)
            if session is not None and session.status != "open":
                raise Problem(CLOSED, f"receipt {receipt.receipt_id!r} is {session.status} already", "receipt_id")
            version, engine = self.engine(tx)
            read = self._state(tx, engine, receipt.customer_id, lock=holds)
            state = chains.catch_up(engine, read, receipt.utc).state if read is not None else None  # not written
            outcome = self._evaluate(tx, engine, receipt, state, lock=False)
            held = (outcome.payment or {}).get("points", 0) if holds else 0
            expires = int(self.clock()) + self.hold_seconds
            if held or (session is not None and session.held):  # a hold, or the release of an earlier one
                tx.put_session(Session(receipt.receipt_id, receipt.customer_id, digest, _summary(outcome), held,
                                       expires, "open"))
            hold = {"points": held, "expires": _iso(expires)} if held else None
            return _answer("calculated", outcome, state, hold, version)

        return self._run(holds, work)

    def confirm(self, data: dict[str, Any], key: Key, offline: bool = False) -> Stored:
        """Book a receipt once; ``offline``: one a till evaluated offline, booked with the bundle
        version in force at its time."""
        receipt = _receipt(data)
        self.allow(key, "till", receipt.store)
        digest, rid = body_hash(data), receipt.receipt_id

        def work(tx: Tx) -> Stored:
            tx.prefetch(receipt.customer_id, True, "confirm:" + rid, rid, self._others(receipt))
            stored = _replay(tx, "confirm:" + rid, digest, "receipt_id")
            if stored is not None:
                return _with_outcome(tx, rid, stored)
            session = tx.session(rid)
            if session is not None and session.status == "cancelled":
                raise Problem(CLOSED, f"receipt {rid!r} was cancelled; send it again under a new id", "receipt_id")
            if session is not None and session.body_hash != digest:
                raise Problem(CONFLICT, f"receipt {rid!r} was calculated with another body", "receipt_id")
            version, engine = self.engine(tx, int(utc_datetime(receipt.utc).timestamp()) if offline else None)
            state = self._state(tx, engine, receipt.customer_id, lock=True)
            caught = chains.catch_up(engine, state, receipt.utc) if state is not None else None
            outcome = self._evaluate(tx, engine, receipt, caught.state if caught else None, lock=True)
            _no_rejected_items(outcome)
            if session is not None and _summary(outcome) != session.summary:
                raise Problem(CHANGED, f"receipt {rid!r} no longer gets what calculate said "
                                       f"({_differences(session.summary, _summary(outcome))}); calculate it again")
            after, scheduled = state, dict[str, Any]()
            if state is not None and caught is not None and receipt.customer_id is not None:
                chained, scheduled, applied = chains.after_confirm(tx, engine, receipt, outcome, caught)  # docs/server.md
                alone = not caught.changes and caught.state is state  # applied: the receipt's changes on ``state``
                after = _book(tx, engine, receipt.customer_id, state,
                              [*caught.changes, *(outcome.changes or ()), *chained], rid, "receipt", receipt.utc,
                              applied if alone else None, self._keep, chained)
            shown = outcome.to_dict()  # stored and answered: made once
            tx.put_outcome(rid, receipt.customer_id, shown)  # an anonymous one too: it may be returned
            _budgets_from(tx, outcome.changes or ())
            redemptions.commit(tx, outcome.changes or ())
            if session is not None:
                tx.put_session(session._replace(held=0, status="confirmed"))
            answer = Stored(digest, 200, {**_answer("confirmed", outcome, after, None, version, shown), **scheduled})
            tx.store_answer("confirm:" + rid, digest, 200, {**answer.response, "outcome": None})  # it is in outcomes
            return answer

        return self._run(True, work)

    def offline(self, receipts: list[dict[str, Any]], key: Key) -> dict[str, Any]:
        """Receipts a till evaluated offline (no payment by points offline), booked in time order, each
        as a confirm (idempotent by its receipt id) with the bundle version in force at its time; one
        refused does not stop the others."""
        results = []
        for data in sorted(receipts, key=_when):
            try:
                if data.get("redeem") is not None:
                    raise Problem(BAD_REQUEST, "a receipt evaluated offline cannot pay with points", "redeem")
                answer = self.confirm(data, key, offline=True).response
                results.append({"receipt_id": answer["receipt_id"], "status": "confirmed", "bundle": answer["bundle"],
                                "outcome": answer["outcome"]})
            except LoyaError as exc:
                problem = problem_of(exc)
                results.append({"receipt_id": str(data.get("receipt_id")), "status": "refused", "code": problem.code,
                                "cause": problem.cause, "detail": problem.message})
        return {"results": results}

    def cancel(self, data: dict[str, Any], key: Key) -> Stored:
        rid = str(data["receipt_id"])
        self.allow(key, "till", data.get("store_id"))
        digest = body_hash(data)

        def work(tx: Tx) -> Stored:
            stored = _replay(tx, "cancel:" + rid, digest, "receipt_id")
            if stored is not None:
                return stored
            if tx.stored("confirm:" + rid) is not None:
                raise Problem(CLOSED, f"receipt {rid!r} is confirmed; return it instead", "receipt_id")
            session = tx.session(rid)
            released = session.held if session is not None and session.status == "open" else 0
            tx.put_session(Session(rid, session.customer if session else None, session.body_hash if session else "",
                                   session.summary if session else {}, 0, 0, "cancelled"))
            answer = Stored(digest, 200, {"receipt_id": rid, "status": "cancelled", "released": released})
            tx.store_answer("cancel:" + rid, *answer)
            return answer

        return self._run(True, work)

    def refund(self, data: dict[str, Any], key: Key) -> Stored:
        return_id, rid = str(data["return_id"]), str(data["receipt_id"])
        self.allow(key, "till", data.get("store_id"))
        digest = body_hash(data)
        lines = data.get("lines")
        returned = None if lines is None else {int(line["line_no"]): line["qty"] for line in lines}
        now = _time(data["datetime"])

        def work(tx: Tx) -> Stored:
            stored = _replay(tx, "return:" + return_id, digest, "return_id")
            if stored is not None:
                return stored
            found = tx.outcome(rid, lock=True)  # two returns of one receipt: one waits for the other
            if found is None:
                raise Problem(UNKNOWN_RECEIPT, f"no confirmed receipt {rid!r}", "receipt_id")
            customer, original = found
            _, engine = self.engine(tx)
            if customer is None:
                return anonymous_return(tx, engine, rid, Outcome.from_dict(original), returned, now, return_id, digest)
            state = self._state(tx, engine, customer, lock=True)
            assert state is not None
            try:
                refund = engine.refund(Outcome.from_dict(original), returned, state, now, return_id)
            except LoyaError as exc:
                raise Problem.refused(exc) from None
            after = _book(tx, engine, customer, state, refund.changes, return_id, "return",
                          utc_seconds(now), keep=self._keep)
            _budgets_from(tx, refund.changes)
            redemptions.commit(tx, refund.changes)
            answer = Stored(digest, 200, {"return_id": return_id, "receipt_id": rid, "status": "returned",
                                          "refund": refund.to_dict(), "balances": _balances(after)})
            tx.store_answer("return:" + return_id, *answer)
            return answer

        return self._run(True, work)

    def _others(self, receipt: Receipt) -> tuple[str, int, str] | None:
        """What ``_evaluate`` will ask: the points the customer's other sessions hold."""
        if receipt.customer_id is None or receipt.redeem is None:
            return None
        return receipt.customer_id, int(self.clock()), receipt.receipt_id

    def _state(self, tx: Tx, engine: Engine, customer: str | None, lock: bool) -> CustomerState | None:
        if customer is None:
            return None
        row = tx.customer_row(customer, lock)
        if row is None:
            raise Problem(UNKNOWN_CUSTOMER, f"no customer {customer!r}; create it first", "customer_id")
        return self._parsed(engine, customer, *row)

    def _parsed(self, engine: Engine, customer: str, text: str, sealed: str | None = None) -> CustomerState:
        """The customer state stored as ``text`` (with its seal ``sealed``), read for ``engine``'s programme
        (``_read_state``): once per text and engine in this process (a state is immutable, its reading a
        function of the two; the calculations and the confirm of a receipt read the same text). A refused
        one is not kept."""
        kept = self._states.get((id(engine), customer))  # engines live as long as the process (self._engines)
        if kept is not None and kept[0] == text:
            return kept[1]
        state = _read_state(decode(text), engine, text, sealed)
        self._keep(engine, text, state, customer)
        return state

    def _keep(self, engine: Engine, text: str, state: CustomerState, customer: str) -> None:
        """Keep ``state`` as the reading of ``text``, the stored state of ``customer``:
        one read, or one a confirm (or a return) wrote, the state it made, whose text is its ``to_dict``
        (its next request then reads it without decoding and validating it again; test_srv_state_cache:
        each state kept equals a fresh reading of its text). One per customer and engine: a customer's
        new text replaces the old one's, so the texts a process no longer reads do not fill the room
        (it was one per text, and then emptied whole when full, which a run of confirms did every
        2,000 or so); when full, the customer kept longest makes room."""
        key = (id(engine), customer)
        with self._states_lock:
            if key not in self._states and len(self._states) >= STATE_CACHE:
                del self._states[next(iter(self._states))]
            self._states[key] = (text, state)

    def _evaluate(self, tx: Tx, engine: Engine, receipt: Receipt, state: CustomerState | None,
                  lock: bool) -> Outcome:
        """Evaluate against the state, the budgets left and the points other receipts hold (the engine
        takes them off what the receipt can spend: ``held``). With ``lock`` (a confirm) the budgets are
        locked only when the outcome spends one: then they are read again under the lock, and the receipt
        evaluated again if they changed meanwhile, so no budget is overspent and receipts that spend none
        never wait for the budget lock."""
        held = tx.held(state.id, int(self.clock()), receipt.receipt_id) \
            if state is not None and receipt.redeem is not None else 0  # (prefetched: ``_others``)
        budgets = _budgets_left(tx, engine, lock=False)
        stock = _stock_left(tx, engine, lock=False)  # catalogue rewards' stock (docs/rewards.md): kept beside the budgets
        uses = redemptions.used(tx, engine)  # programme-wide usage limits (docs/limits-fraud.md)
        outcome = self._run_engine(engine, receipt, state, budgets, stock, uses, held)
        if lock and (budgets is not None or stock is not None) and any(
                c["op"] in ("budget", "stock") for c in outcome.changes or ()):
            locked = _budgets_left(tx, engine, lock=True)
            locked_stock = _stock_left(tx, engine, lock=True)  # under the budgets' lock
            if locked != budgets or locked_stock != stock:
                outcome = self._run_engine(engine, receipt, state, locked, locked_stock, uses, held)
        return outcome

    @staticmethod
    def _run_engine(engine: Engine, receipt: Receipt, state: CustomerState | None,
                    budgets: dict[str, int] | None, stock: dict[str, int] | None = None,
                    uses: dict[str, int] | None = None, held: int = 0) -> Outcome:
        start = time.perf_counter()
        try:
            return engine.evaluate(receipt, state, budgets=budgets, stock=stock, redemptions=uses, held=held)
        except LoyaError as exc:
            raise Problem.refused(exc) from None
        finally:
            spent = EVAL_SECONDS.get()
            if spent is not None:
                spent[0] += time.perf_counter() - start

    # ------------------------------------------------------------------------------ customers
    def customer(self, customer_id: str) -> dict[str, Any]:
        def work(tx: Tx) -> dict[str, Any]:
            _, engine = self.engine(tx)
            state = self._state(tx, engine, customer_id, lock=False)
            assert state is not None
            return {"customer": state.to_dict(), "balances": _balances(state),
                    "held": tx.held(customer_id, int(self.clock()), "")}
        return self._run(False, work)

    def create_customer(self, data: dict[str, Any]) -> dict[str, Any]:
        def work(tx: Tx) -> dict[str, Any]:
            _, engine = self.engine(tx)
            state = _read_state(data, engine)
            if not tx.insert_customer(state.id, state.to_dict(), seal_key(engine)):
                raise Problem(CUSTOMER_EXISTS, f"customer {state.id!r} exists already", "id")
            return {"customer": state.to_dict(), "balances": _balances(state), "held": 0}
        return self._run(True, work)

    def import_customers(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        """Create or replace customers, all or none (each validated against the programme first)."""
        def work(tx: Tx) -> dict[str, Any]:
            _, engine = self.engine(tx)
            states = []
            for index, record in enumerate(records):
                try:
                    states.append(CustomerState.from_dict(record, engine.bundle.state))
                except LoyaError as exc:
                    raise Problem.refused(LoyaError(exc.code, exc.message, f"customers[{index}]")) from None
            key = seal_key(engine)
            for state in states:
                tx.put_customer(state.id, state.to_dict(), key)
            return {"imported": len(states)}
        return self._run(True, work)

    def export_customers(self) -> Iterable[dict[str, Any]]:
        with self.store.transaction() as tx:
            yield from tx.customers()

    # ------------------------------------------------------------------------------ bundles
    def upload_bundle(self, data: bytes) -> dict[str, Any]:
        """Verify a signed bundle (signed by a trusted key), then make it the bundle in force: one row
        more, which every server process picks up at its next request."""
        if not self.trusted_keys:
            raise Problem(BAD_BUNDLE, "this server trusts no signing key (start it with --trusted-key), so it "
                                      "accepts no bundle upload")
        try:
            bundle = load_bundle(data, self.trusted_keys, require_signature=True)
            Engine(bundle, code_cache=self.code_cache)
        except LoyaError as exc:
            raise Problem(BAD_BUNDLE, exc.message, cause=exc.code) from None
        info = self.install_bundle(data)
        info["key_id"] = bundle.key_id
        return info

    def install_bundle(self, data: bytes) -> dict[str, Any]:
        sha = hashlib.sha256(data).hexdigest()
        now = int(self.clock())

        def work(tx: Tx) -> dict[str, Any]:
            current = tx.bundle()
            if current is not None and current.sha256 == sha:
                return _bundle_info(current)
            return _bundle_info(BundleRow(tx.put_bundle(sha, data, now), sha, b"", now))

        return self._run(True, work)

    def bundle(self) -> BundleRow:
        row = self._run(False, lambda tx: tx.bundle())
        if row is None:
            raise StoreError(UNAVAILABLE, "the server has no bundle yet; upload one")
        return row

    def bundles(self) -> list[dict[str, Any]]:
        return [_bundle_info(row) for row in self._run(False, lambda tx: tx.bundles())]

    def held_total(self) -> int:
        return self._run(False, lambda tx: tx.held_total(int(self.clock())))


# ---------------------------------------------------------------------------------- helpers
def _receipt(data: dict[str, Any]) -> Receipt:
    if "return_of" in data:
        raise Problem.refused(LoyaError("LOY506", "a return is not a sale: send it to /v1/returns", "receipt.return_of"))
    try:
        return Receipt.from_dict(data)
    except LoyaError as exc:
        raise Problem.refused(LoyaError(exc.code, exc.message[len(exc.where) + 2:] if exc.where else exc.message,
                                        f"receipt.{exc.where}" if exc.where else "receipt")) from None


def _read_state(raw: Mapping[str, Any], engine: Engine, text: str | None = None,
                sealed: str | None = None) -> CustomerState:
    """A customer state from its JSON (``text``: the stored text it was decoded from), validated against
    ``engine``'s programme (``from_dict``; refused with its coded error), unless the row's seal ``sealed``
    is the seal of ``text`` under the engine's key: then it is one the server validated or made for this
    very programme and runtime, and it is read as such (``trusted_state``, the same state without the
    checks; test_srv_trusted). A sealed text the trusted reading cannot take goes the validating way."""
    if sealed is not None and text is not None:
        key = seal_key(engine)
        if key is not None and sealed == seal(key, text) and type(raw) is dict:
            try:
                return trusted_state(raw)
            except (KeyError, TypeError, ValueError, AttributeError):
                pass  # not the form this runtime writes: validated below
    try:
        return CustomerState.from_dict(dict(raw), engine.bundle.state, text)
    except LoyaError as exc:
        raise Problem.refused(exc) from None


def _replay(tx: Tx, key: str, digest: str, where: str) -> Stored | None:
    """The answer stored for ``key`` when this is a retry; a conflict when the body differs."""
    stored = tx.stored(key)
    if stored is not None and stored.body_hash != digest:
        raise Problem(CONFLICT, f"{key.split(':', 1)[1]!r} was {key.split(':', 1)[0]}ed with another body; "
                                "a new request needs a new id", where)
    return stored


def _with_outcome(tx: Tx, rid: str, stored: Stored) -> Stored:
    """A stored confirm answer with its outcome, which is kept once, in the outcomes row (answers
    stored before that kept their own)."""
    if stored.response.get("outcome") is not None:
        return stored
    found = tx.outcome(rid)
    if found is None:
        raise RuntimeError(f"the outcome of confirmed receipt {rid!r} is missing")  # written with the answer
    return stored._replace(response={**stored.response, "outcome": found[1]})


def _book(tx: Tx, engine: Engine, customer: str, state: CustomerState, changes: Iterable[dict[str, Any]],
          ref: str, kind: str, utc: int, applied: CustomerState | None = None,
          keep: Callable[[Engine, str, CustomerState, str], None] | None = None,
          rest: Sequence[dict[str, Any]] = ()) -> CustomerState:
    """Apply changes to the customer's state and to every state they concern: the other members of
    a shared account get the new shared copy, a referral ``transfer`` is received by its customer
    (``Engine.receive``; one not known yet starts empty, as in ``loya simulate``). ``applied``: the
    changes but the last ``rest`` applied to the state already (``apply`` is a function of the two, and
    applies changes one after the other: not done twice). ``keep``: told the customer's new state and
    its stored text (``Processor._keep``)."""
    changes = list(changes)
    if not changes:
        return state
    decls = engine.bundle.state
    try:
        after = apply(state, changes, decls) if applied is None else _on_top(state, changes, applied, rest, decls)
    except LoyaError as exc:
        raise Problem.refused(exc) from None
    key = seal_key(engine)  # ``after``: ``apply`` of checked changes to a valid state, so valid: sealed
    text = tx.put_customer(customer, after.to_dict(), key)
    if keep is not None:
        keep(engine, text, after, customer)
    tx.journal(customer, ref, kind, changes)
    if after.shared is not None and after.shared != state.shared:
        for member in sorted(after.shared.members):
            row = tx.customer_row(member, lock=True) if member != customer else None
            if row is not None:
                other = _read_state(decode(row[0]), engine, *row).model_copy(update={"shared": after.shared})
                tx.put_customer(member, other.to_dict(), key)
    for transfer in (c for c in changes if c["op"] == "transfer"):
        receiver = str(transfer["customer"])
        row = tx.customer_row(receiver, lock=True)
        receiver_state = _read_state(decode(row[0]), engine, *row) if row is not None else _read_state(
            {"id": receiver}, engine)
        try:
            received = engine.receive(transfer, receiver_state, utc_datetime(utc))
        except LoyaError as exc:
            raise Problem.refused(exc) from None
        _book(tx, engine, receiver, receiver_state, received, ref, "transfer", utc)
    return after


def _on_top(state: CustomerState, changes: list[dict[str, Any]], applied: CustomerState,
            rest: Sequence[dict[str, Any]], decls: StateDecls) -> CustomerState:
    """``apply(state, changes)``, given ``applied``, the state after all but the last ``rest`` of them:
    ``rest`` applied to it (a confirm: the chains' few changes after the receipt's many), or, when one
    of them does not fit, the whole list applied again, which then refuses as it always did (naming
    the change by its place in the whole list). test_srv_chains: the states booked are the journal's
    changes applied to the states before."""
    if not rest:
        return applied
    try:
        return apply(applied, rest, decls)
    except LoyaError:
        return apply(state, changes, decls)


def anonymous_return(tx: Tx, engine: Engine, rid: str, original: Outcome, returned: Mapping[int, Any] | None,
                     now: dt.datetime, return_id: str, digest: str) -> Stored:
    """A return of an anonymous receipt: only programme-wide state is given back (budgets, stock,
    usage limits); the receipt's return record (kept in its outcome row) remembers partial returns."""
    raw = tx.return_record(rid)
    record = _read_state(raw, engine) if raw is not None else None
    try:
        refund = engine.refund(original, returned, record, now, return_id)
        after = apply(record or anonymous_record(rid), list(refund.changes), engine.bundle.state)
    except LoyaError as exc:
        raise Problem.refused(exc) from None
    tx.put_return_record(rid, after.to_dict())
    tx.journal(after.id, return_id, "return", list(refund.changes))
    _budgets_from(tx, refund.changes)
    redemptions.commit(tx, refund.changes)
    answer = Stored(digest, 200, {"return_id": return_id, "receipt_id": rid, "status": "returned",
                                  "refund": refund.to_dict(), "balances": None})
    tx.store_answer("return:" + return_id, *answer)
    return answer


@functools.lru_cache(maxsize=64)
def _declared_budgets(engine: Engine) -> tuple[tuple[str, int], ...]:
    """The budgeted campaigns and their amounts (once per engine: a bundle never changes)."""
    return tuple((c.name, c.state.budget.amount) for c in engine.bundle.campaigns if c.state.budget is not None)


@functools.lru_cache(maxsize=64)
def _declared_stock(engine: Engine) -> tuple[tuple[str, int], ...]:
    """The stocked catalogue rewards and their stock (once per engine)."""
    return tuple((name, r.stock) for name, r in engine.ledger.rewards.items() if r.stock is not None)


def _budgets_left(tx: Tx, engine: Engine, lock: bool) -> dict[str, int] | None:
    declared = dict(_declared_budgets(engine))
    if not declared:
        return None
    spent = tx.budgets(lock)
    return {name: max(0, amount - spent.get(name, 0)) for name, amount in declared.items()}


def _budgets_from(tx: Tx, changes: Iterable[dict[str, Any]]) -> None:
    for change in changes:
        if change["op"] == "budget" and change["delta"]:
            tx.add_budget(str(change["campaign"]), int(change["delta"]))
        elif change["op"] == "stock" and change["delta"]:  # a unit given (-1) is one more spent
            tx.add_budget(STOCK_KEY + str(change["reward"]), -int(change["delta"]))


STOCK_KEY = "stock:"  # a catalogue reward's units given, in the budgets table (no campaign name has a colon)


def _stock_left(tx: Tx, engine: Engine, lock: bool) -> dict[str, int] | None:
    """What each stocked catalogue reward has left: its declared stock less the units given (docs/rewards.md).
    Read in the transaction that books them, so a confirm under the budgets' lock never gives a unit twice."""
    declared = dict(_declared_stock(engine))
    if not declared:
        return None
    given = tx.budgets(lock)
    return {name: max(0, stock - given.get(STOCK_KEY + name, 0)) for name, stock in declared.items()}


def _no_rejected_items(outcome: Outcome) -> None:
    """A confirm books only what the till may charge: a presented coupon or certificate the runtime
    rejected (unknown, expired, used) must be taken off the receipt first."""
    for index, coupon in enumerate(outcome.coupons or ()):
        if coupon.get("status") == "rejected":
            raise Problem(REJECTED_ITEM, f"coupon {coupon.get('code')!r} is {coupon.get('reason')}; take it off "
                                         "the receipt", f"receipt.coupons[{index}]")
    for index, cert in enumerate((outcome.payment or {}).get("certificates", ())):
        if cert.get("status") == "rejected":
            raise Problem(REJECTED_ITEM, f"certificate {cert.get('code')!r} is {cert.get('reason')}; take it off "
                                         "the receipt", f"receipt.certificates[{index}]")


def _summary(outcome: Outcome) -> dict[str, Any]:
    """What the till tells the customer: the figures confirm must find again."""
    payment = outcome.payment or {}
    return {"payable": outcome.payable, "discount_total": outcome.discount_total,
            "points_total": outcome.points_total, "points": payment.get("points", 0),
            "to_pay": payment.get("to_pay", outcome.payable)}


def _differences(before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} {before.get(k)} -> {after.get(k)}" for k in sorted(after) if before.get(k) != after.get(k))


def _answer(status: str, outcome: Outcome, state: CustomerState | None, hold: dict[str, Any] | None,
            version: int, shown: dict[str, Any] | None = None) -> dict[str, Any]:
    """The answer to a calculate or a confirm (``shown``: ``outcome.to_dict()``, when made already)."""
    return {"receipt_id": outcome.receipt_id, "status": status, "outcome": outcome.to_dict() if shown is None else shown,
            "balances": _balances(state) if state is not None else None, "hold": hold, "bundle": version}


def _balances(state: CustomerState) -> dict[str, Any]:
    """Per account, the balance (points: active and not yet active lots, less debt); the shared
    account's under ``shared``."""
    own = {name: account.balance for name, account in state.accounts.items()}
    if state.shared is not None:
        return {**own, "shared": {name: account.balance for name, account in state.shared.accounts.items()}}
    return own


def _bundle_info(row: BundleRow) -> dict[str, Any]:
    return {"version": row.version, "sha256": row.sha256, "valid_from": _iso(row.uploaded)}


def _when(data: Mapping[str, Any]) -> tuple[float, str]:
    """A receipt's place in time order (an unreadable time first: the runtime then refuses it)."""
    try:
        return dt.datetime.fromisoformat(str(data.get("datetime"))).timestamp(), str(data.get("receipt_id"))
    except ValueError:
        return 0.0, str(data.get("receipt_id"))


def _iso(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat()


def _time(text: Any) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(str(text))
    except ValueError:
        raise Problem.refused(LoyaError("LOY501", f"`{text}` is not an ISO 8601 time", "datetime")) from None
    if value.tzinfo is None:
        raise Problem.refused(LoyaError("LOY501", f"`{text}` needs a UTC offset", "datetime"))
    return value
