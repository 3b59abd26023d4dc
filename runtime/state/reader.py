"""The one reader of customer JSON text (``read_customer``) and of customers files (``read_customers``,
JSON Lines), under the limits; and the customer state's JSON Schema."""

from __future__ import annotations

from typing import IO, Any

from .. import jsonio
from ..declarations import StateDecls
from ..errors import CustomerError, LoyaError
from ..limits import MAX_CUSTOMER_BYTES
from .checks import LIMIT
from .records import CustomerState


def read_customer(text: bytes | str, where: str | None = None, decls: StateDecls | None = None) -> CustomerState:
    """One customer record as JSON text (a document, or a line of a customers file) -> the validated
    state: the one reader of customer files (``loya eval`` and ``loya simulate``). JSON is read under
    the limits (``jsonio``); every problem is a ``CustomerError`` whose place starts with ``where``
    (``customers.jsonl:7``) and goes on with the JSON path."""
    if len(text) > MAX_CUSTOMER_BYTES:
        raise CustomerError(f"{len(text):,} bytes (at most {MAX_CUSTOMER_BYTES:,})", where, LIMIT)
    data = jsonio.load(text, code="LOY502", what="the customer", max_bytes=MAX_CUSTOMER_BYTES, where=where)
    try:
        return CustomerState.from_dict(data, decls)
    except CustomerError as exc:
        if where is None:
            raise
        message = exc.message[len(exc.where) + 2:] if exc.where else exc.message
        raise CustomerError(message, f"{where}: {exc.where}" if exc.where else where, exc.code) from None


def read_customers(file: IO[bytes], name: str, problems: list[LoyaError],
                   decls: StateDecls | None = None) -> dict[str, CustomerState]:
    """A customers file (JSON Lines, one record a line, blank lines skipped) -> the states by id. A bad
    line, or an id met twice, goes to ``problems`` as a ``CustomerError`` at ``name:line`` and the
    rest is still read; the caller decides whether any problem stops it."""
    states: dict[str, CustomerState] = {}
    first: dict[str, int] = {}
    for number, line in jsonio.lines(file, MAX_CUSTOMER_BYTES):
        where = f"{name}:{number}"
        try:
            state = read_customer(line, where, decls)
        except LoyaError as exc:
            problems.append(exc)
            continue
        if state.id in first:
            problems.append(CustomerError(f"customer {state.id!r} appears twice (first on line {first[state.id]})",
                                          f"{where}: id"))
            continue
        first[state.id] = number
        states[state.id] = state
    return states

def json_schema() -> dict[str, Any]:
    """The JSON Schema of the customer state (what ``from_dict`` accepts, less the consistency rules)."""
    return CustomerState.model_json_schema(mode="validation")

