"""The hot paths: ``POST /v1/calculate`` and ``POST /v1/confirm`` as raw ASGI, in front of the Starlette
application (app.py), which serves everything else.

A till's receipt is read within the endpoint's size limit, decoded by msgspec (C) and checked
against ``ReceiptMsg``, the msgspec twin of ``models.ReceiptIn``; its key must be one the processor
trusts already (``Processor.known_key``). The processor then gets the same dict the Starlette path
would have given it, and the answer is made by the same code (respond.py). Anything else (a body
msgspec refuses, one that may break the runtime's JSON limits, an unknown key, a body too large or
incomplete) goes on to the Starlette handler with the bytes read so far, so every error keeps its
problem+json answer and code exactly: the hot path only ever accepts what the slow one accepts.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from functools import partial
from typing import Any, Literal

import msgspec
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loyadsl.runtime.jsonio import depth
from loyadsl.runtime.limits import MAX_INT_DIGITS, MAX_JSON_DEPTH
from loyadsl.server.metrics import Metrics
from loyadsl.server.models import ENDPOINTS, Endpoint
from loyadsl.server.processing import Processor
from loyadsl.server.respond import answer_raw

HOT = ("calculate", "confirm")
# a run of digits longer than the runtime allows in an integer (in a string too: then the slow path decides)
_LONG_DIGITS = re.compile(rb"\d{%d}" % (MAX_INT_DIGITS + 1))
# the same test, faster: every digit made b"0", every other byte b" ", then the run looked for as a substring
# (the regex tries each position of a 1 KB receipt in turn: 10-15 us of the event loop's time per request;
# this takes 1-2; test_srv_hot proves them equal)
_DIGITS_ONLY = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_DIGIT_RUN = b"0" * (MAX_INT_DIGITS + 1)


def long_digits(body: bytes) -> bool:
    """Whether ``body`` holds a run of more than ``MAX_INT_DIGITS`` ASCII digits (``_LONG_DIGITS``)."""
    return _DIGIT_RUN in body.translate(_DIGITS_ONLY)


class _Line(msgspec.Struct):  # models.ReceiptLine; other fields pass (the runtime checks them)
    line_no: int
    sku: str
    qty: int | float | str
    unit_price: int
    amount: int


class _Redeem(msgspec.Struct, forbid_unknown_fields=True):
    points: int | Literal["max"]


class _Certificate(msgspec.Struct, forbid_unknown_fields=True):
    code: str
    amount: int | None = None


class ReceiptMsg(msgspec.Struct):
    """``models.ReceiptIn`` for msgspec: strict types, other fields let through."""

    receipt_id: str
    store_id: str
    datetime: str
    lines: list[_Line]
    customer_id: str | None = None
    currency: str | None = None
    coupons: list[str] | None = None
    redeem: _Redeem | None = None
    certificates: list[_Certificate] | None = None


def decode(body: bytes) -> dict[str, Any] | None:
    """The receipt as the slow path would parse it, or None when the slow path must decide (it may
    be refused, or be within the limits by a margin this check does not see)."""
    if long_digits(body):
        return None
    try:
        value = msgspec.json.decode(body)
        if not isinstance(value, dict):
            return None
        msgspec.convert(value, ReceiptMsg)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None
    if body.count(b"{") + body.count(b"[") > MAX_JSON_DEPTH and depth(value) > MAX_JSON_DEPTH:
        return None
    return value


class HotPaths:
    """The ASGI application ``loya serve`` runs: the hot paths, then ``app`` for the rest."""

    def __init__(self, app: ASGIApp, processor: Processor, metrics: Metrics) -> None:
        self.app = app
        self.processor = processor
        self.metrics = metrics
        self.routes = {e.path: e for e in ENDPOINTS if e.name in HOT and e.method == "POST"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self.routes.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if endpoint is None:
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        headers = dict(reversed(scope["headers"]))  # the first of a repeated header, as Starlette
        if not self.declared_within(endpoint, headers):
            return await self.app(scope, receive, send)  # the slow path says why
        body, complete = await _read(receive, endpoint.limit)
        work = self.work(endpoint, headers, body) if complete else None
        if work is None:
            return await self.app(scope, _replaying(body, complete, receive), send)
        await answer_raw(endpoint, self.metrics, start, work, send)

    @staticmethod
    def declared_within(endpoint: Endpoint, headers: dict[bytes, bytes]) -> bool:
        """Whether the request's Content-Length, if it has one, is a number within the endpoint's limit."""
        declared = headers.get(b"content-length")
        return declared is None or (declared.isdigit() and int(declared) <= endpoint.limit)

    def work(self, endpoint: Endpoint, headers: dict[bytes, bytes], body: bytes) -> Callable[[], Any] | None:
        """The processor's work for the whole ``body`` of a request to ``endpoint`` with ``headers`` (the
        first of each name), or None when the slow path must decide (an unknown key, a body ``decode``
        leaves to it)."""
        key = self.processor.known_key(_token(headers))
        value = decode(body) if key is not None else None
        if value is None:
            return None
        assert key is not None
        if endpoint.name == "calculate":
            return partial(self.processor.calculate, value, key)
        return partial(self.processor.confirm, value, key)


async def _read(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The body (True) or what came of it before it grew past ``limit`` or the client left (False)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks), False
        if not message.get("more_body", False):
            return b"".join(chunks), True


def _replaying(body: bytes, complete: bool, receive: Receive) -> Receive:
    """``receive`` as if nothing had been read: the bytes read first, then the rest of the stream."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": not complete}]

    async def again() -> Message:
        return pending.pop() if pending else await receive()

    return again


def _token(headers: dict[bytes, bytes]) -> str | None:
    scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None
