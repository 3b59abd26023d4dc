"""Trigger chains on the processing server (docs/server.md, "Trigger chains"): the server runs the
chains (docs/triggers.md) and keeps the actions they schedule, per customer, in its database.

* **confirm**: before a known customer's receipt is evaluated, the chain steps that came due since
  and no tick ran are run, each at its own moment (``catch_up``, as ``loya simulate`` does; calculate
  does the same without writing); after it, the chains see it (``Triggers.after_receipt``). All their
  changes are booked with the receipt (one transaction, one journal entry) and the actions they
  schedule are stored and returned in the answer's ``scheduled``.
* **tick** (``POST /v1/tick``, ``loya db tick``): every customer is ticked at ``now``
  (``Ticker.tick``, since the customer's previous tick): time events, segment changes by time alone,
  birthdays, the steps that came due. A customer's tick commits on its own, so a long run can stop
  anywhere and be run again (a tick is idempotent: one already made gives nothing new).
* **due actions** (``GET /v1/scheduled?due_before=TIME``): the stored actions due before a time, oldest
  first, for the host to deliver; ``POST /v1/scheduled/done`` with their ids removes them.

Storage (schema version 2): ``scheduled`` (id, customer, due: UTC seconds, action: JSON) and
``ticks`` (customer -> the time of their last tick). A bundle without triggers or till messages pays
nothing here: confirm's answer keeps its shape."""

from __future__ import annotations

import datetime as dt
import weakref
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

from loyadsl.runtime import Engine, LoyaError
from loyadsl.runtime.model import Outcome, Receipt, utc_seconds
from loyadsl.runtime.state import CustomerState, apply
from loyadsl.runtime.triggers.runner import TriggerResult, Triggers
from loyadsl.runtime.triggers.spec import MAX_STEPS, MAX_TRIGGERS
from loyadsl.runtime.triggers.tick import Ticker
from loyadsl.server.errors import Problem
from loyadsl.server.sql import SqlTx, decode, encode, seal_key
from loyadsl.server.store import Tx

if TYPE_CHECKING:
    from loyadsl.server.processing import Processor

BAD_TIME = "LOY640"  # a time parameter that is not ISO 8601 with a UTC offset
BAD_IDS = "LOY641"  # `done` ids that are not a list of at most MAX_IDS integers
MAX_LISTED = 1000  # due actions per answer (ask again with a later `after` id for more)
MAX_IDS = 1000
MAX_ID = 2**63  # ids are database BIGINTs

_TICKERS: weakref.WeakKeyDictionary[Engine, Ticker] = weakref.WeakKeyDictionary()


def ticker(engine: Engine) -> Ticker:
    """The engine's ticker (and its triggers), made once per engine."""
    found = _TICKERS.get(engine)
    if found is None:
        found = _TICKERS[engine] = Ticker(engine)
    return found


# ------------------------------------------------------------------------------------ storage


class Table:
    """The ``scheduled`` and ``ticks`` tables through an open transaction."""

    def __init__(self, tx: Tx) -> None:
        assert isinstance(tx, SqlTx)
        self.tx = tx

    def add(self, customer: str, actions: list[dict[str, Any]]) -> None:
        for a in actions:
            self.tx.write("INSERT INTO scheduled (customer, due, action) VALUES (?, ?, ?)", customer,
                      utc_seconds(dt.datetime.fromisoformat(a["at"])), encode(a))

    def due(self, before: int, after: int = 0, limit: int = MAX_LISTED) -> list[dict[str, Any]]:
        rows = self.tx.rows("SELECT id, action FROM scheduled WHERE due < ? AND id > ? ORDER BY due, id LIMIT ?",
                            before, after, limit)
        return [{"id": int(i), **decode(text)} for i, text in rows]

    def done(self, ids: list[int]) -> int:
        found = self.tx.batch([("DELETE FROM scheduled WHERE id = ? RETURNING id", (i,)) for i in ids])
        return sum(map(len, found))

    def last_tick(self, customer: str) -> int | None:
        row = self.tx.one("SELECT at FROM ticks WHERE customer = ?", customer)
        return None if row is None else int(row[0])

    def ticked(self, customer: str, at: int) -> None:
        self.tx.write("INSERT INTO ticks (customer, at) VALUES (?, ?) ON CONFLICT (customer) DO UPDATE SET at = excluded.at",
                  customer, at)


# ------------------------------------------------------------------------------------ the hooks


class CaughtUp(NamedTuple):
    """What the chains did before a receipt: their ``changes`` (booked in the receipt's journal entry),
    the ``actions`` they scheduled, and the customer's ``state`` after them (the receipt's to evaluate)."""

    changes: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    state: CustomerState


def catch_up(engine: Engine, state: CustomerState, until: int) -> CaughtUp:
    """The chain steps that came due before ``until`` (a receipt's time) and no tick ran, each at its
    own moment, then the chains' moments at ``until`` (a birthday, inactivity), as ``loya simulate``
    runs them before a receipt (``ChainReplay.catch_up``; segment changes by time alone are left to the
    ticks, which look for them: the simulator scans each midnight). Once: the changes move the chains' records
    on, so a retry, a later receipt or a tick finds nothing left to do. Nothing is written here:
    calculate evaluates on the state this gives, confirm books it."""
    chains = ticker(engine).triggers
    changes: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    if not chains.triggers or chains.quiet(state, until):  # the usual receipt: nothing due, no moment
        return CaughtUp(changes, actions, state)
    return _catch_up(engine, chains, state, until, changes, actions)


def _catch_up(engine: Engine, chains: Triggers, state: CustomerState, until: int, changes: list[dict[str, Any]],
              actions: list[dict[str, Any]]) -> CaughtUp:
    """``catch_up``'s work, step by step (``catch_up`` without its test for nothing to do)."""

    def take(result: TriggerResult, state: CustomerState) -> CustomerState:
        actions.extend(a for a in result.actions if a["trigger"] is not None)
        if not result.changes:
            return state
        changes.extend(result.changes)
        try:
            return apply(state, result.changes, engine.bundle.state)
        except LoyaError as exc:
            raise Problem.refused(exc) from None

    for _ in range(MAX_STEPS * MAX_TRIGGERS):
        due = chains.next_moment(state, until)
        if due is None:
            break
        state = take(chains.advance(state, due), state)
    state = take(chains.advance(state, until), state)
    return CaughtUp(changes, actions, state)


def after_confirm(tx: Tx, engine: Engine, receipt: Receipt, outcome: Outcome, caught: CaughtUp
                  ) -> tuple[list[dict[str, Any]], dict[str, Any], CustomerState | None]:
    """The chains see a receipt about to be booked (``caught.state``: before it): their changes, which
    the caller books after the receipt's (one journal entry), what the answer gains: ``scheduled``,
    the actions (those of ``catch_up`` first), stored here (nothing for a bundle without triggers or
    till messages), and the state the receipt's changes make of ``caught.state`` (None: not made
    here), which the caller books as is when nothing else changes."""
    chains = ticker(engine).triggers
    if not chains:
        return [], {}, None
    try:
        after = apply(caught.state, outcome.changes or (), engine.bundle.state)
    except LoyaError as exc:
        raise Problem.refused(exc) from None
    result = chains.after_receipt(after, receipt, outcome)
    # the till's own messages are in outcome.messages
    actions = [*caught.actions, *(a for a in result.actions if a["trigger"] is not None)]
    if actions:
        Table(tx).add(caught.state.id, actions)
    return result.changes, {"scheduled": actions}, after


def tick_all(processor: Processor, now: dt.datetime) -> dict[str, int]:
    """Tick every customer at ``now``, one transaction each: how many were ticked, changed, and the
    actions scheduled."""
    utc = utc_seconds(now)
    ids = processor._run(False, lambda tx: [str(raw["id"]) for raw in tx.customers()])
    counts = {"customers": 0, "changed": 0, "scheduled": 0}
    for customer in ids:
        changed, scheduled = processor._run(True, partial(_tick_one, processor, customer=customer, utc=utc))
        counts["customers"] += 1
        counts["changed"] += changed
        counts["scheduled"] += scheduled
    return counts


def _tick_one(processor: Processor, tx: Tx, *, customer: str, utc: int) -> tuple[int, int]:
    _, engine = processor.engine(tx)
    raw = tx.customer(customer, lock=True)
    if raw is None:
        return 0, 0
    table = Table(tx)
    since = table.last_tick(customer)
    if since is not None and since >= utc:
        return 0, 0  # ticked at or after this moment already
    state = CustomerState.from_dict(raw, engine.bundle.state)
    tick = ticker(engine).tick(state, utc, since)
    if tick.changes:
        try:
            after = apply(state, tick.changes, engine.bundle.state)
        except LoyaError as exc:
            raise Problem.refused(exc) from None
        tx.put_customer(customer, after.to_dict(), seal_key(engine))  # ``apply`` of checked changes: sealed
        tx.journal(customer, f"tick:{utc}", "tick", tick.changes)
    if tick.actions:
        table.add(customer, tick.actions)
    table.ticked(customer, utc)
    return int(bool(tick.changes)), len(tick.actions)


# ------------------------------------------------------------------------------------ the endpoints


def read_time(text: Any, name: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(str(text))
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise Problem(BAD_TIME, f"`{name}` is a time in ISO 8601 with a UTC offset, e.g. 2026-03-05T10:00:00+03:00",
                      name, status=400)
    return when


def due_actions(processor: Processor, before: dt.datetime, after: int = 0) -> dict[str, Any]:
    listed = processor._run(False, lambda tx: Table(tx).due(utc_seconds(before), after))
    return {"scheduled": listed, "more": len(listed) == MAX_LISTED}


def mark_done(processor: Processor, ids: Any) -> dict[str, Any]:
    if not isinstance(ids, list) or len(ids) > MAX_IDS or not all(type(i) is int and 0 <= i < MAX_ID for i in ids):
        raise Problem(BAD_IDS, f"`ids` is a list of at most {MAX_IDS} action ids (integers)", "ids", status=400)
    return {"done": processor._run(True, lambda tx: Table(tx).done(sorted(set(ids))))}



def _scheduled(p: Processor, r: Any, body: Any, key: Any) -> Any:
    if "due_before" not in r.query_params:
        raise Problem(BAD_TIME, "give `due_before`: a time in ISO 8601 with a UTC offset", "due_before", status=400)
    after = r.query_params.get("after", "0")
    if not (after.isascii() and after.isdigit() and int(after) < MAX_ID):
        raise Problem(BAD_IDS, "`after` is an action id (a whole number)", "after", status=400)
    return due_actions(p, read_time(r.query_params["due_before"], "due_before"), int(after))


def _done(p: Processor, r: Any, body: Any, key: Any) -> Any:
    return mark_done(p, body["ids"])


def _tick(p: Processor, r: Any, body: Any, key: Any) -> Any:
    return tick_all(p, read_time(body["now"], "now"))


WORK = {"scheduled": _scheduled, "scheduled_done": _done, "tick": _tick}  # app.py's WORK gains these
