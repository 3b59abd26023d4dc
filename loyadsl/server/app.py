"""The HTTP layer: a Starlette application over a ``Processor`` (docs/server.md).

Each endpoint of ``models.ENDPOINTS`` is one handler: read the body within the endpoint's size
limit (LOY802), parse it as JSON under the runtime's limits (LOY800), check it against its model
(LOY801), check the API key (LOY803, LOY804), then run the processor's work in a thread (its time, and
the engine's part of it, go in the ``Server-Timing`` header: ``work`` and ``eval``, ms). Every
error is ``application/problem+json`` with a LOY code; an unexpected failure is logged here and
answered as LOY819 without a word of its inside.
"""

from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from loyadsl.runtime import DirectoryCache, jsonio
from loyadsl.runtime.errors import LoyaError
from loyadsl.server import chains
from loyadsl.server.connect import open_store
from loyadsl.server.errors import BAD_REQUEST, NO_ROUTE, NOT_JSON, TOO_LARGE, Problem
from loyadsl.server.hot import HotPaths
from loyadsl.server.metrics import Metrics
from loyadsl.server.models import ENDPOINTS, Endpoint
from loyadsl.server.processing import Processor
from loyadsl.server.respond import answer, in_thread, perform, problem_response
from loyadsl.server.sql import SCHEMA_VERSION
from loyadsl.server.store import Key

log = logging.getLogger("loyadsl.server")
Work = Callable[[Processor, Request, Any, Key | None], Any]


class _Bytes(Response):
    media_type = "application/octet-stream"



async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise Problem(NOT_JSON, "Content-Length is not a number")
        if int(declared) > limit:
            raise Problem(TOO_LARGE, f"the body is {int(declared):,} bytes (at most {limit:,} here)")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(TOO_LARGE, f"the body is more than {limit:,} bytes (at most {limit:,} here)")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(data: bytes, endpoint: Endpoint) -> Any:
    if endpoint.body == "bundle":
        return data
    try:
        value = jsonio.load(data, code=NOT_JSON, what="the request body", max_bytes=endpoint.limit, floats=True)
    except LoyaError as exc:
        raise Problem(NOT_JSON, exc.message) from None
    model = endpoint.body
    assert isinstance(model, type) and issubclass(model, BaseModel)
    try:
        model.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or None
        raise Problem(BAD_REQUEST, first["msg"].lower(), where) from None
    return value


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _handler(endpoint: Endpoint, work: Work, processor: Processor, metrics: Metrics) -> Callable[
        [Request], Awaitable[Response]]:
    async def steps(request: Request) -> Response:
        body = _parse(await _read_body(request, endpoint.limit), endpoint) if endpoint.body else None
        key = None
        if endpoint.scope is not None:
            token = _token(request)
            key = processor.known_key(token)
            if key is None:
                key = await in_thread(partial(processor.authenticate, token))
            if endpoint.scope == "admin":
                processor.allow(key, "admin")
        return await perform(endpoint, partial(work, processor, request, body, key))

    async def handle(request: Request) -> Response:
        return await answer(endpoint, metrics, time.perf_counter(), steps(request))

    return handle


# ---------------------------------------------------------------------------------- the endpoints
def _calculate(p: Processor, r: Request, body: Any, key: Key | None) -> Any:
    assert key is not None
    return p.calculate(body, key)


def _confirm(p: Processor, r: Request, body: Any, key: Key | None) -> Any:
    assert key is not None
    return p.confirm(body, key)


def _offline(p: Processor, r: Request, body: Any, key: Key | None) -> Any:
    assert key is not None
    return p.offline(body["receipts"], key)


def _cancel(p: Processor, r: Request, body: Any, key: Key | None) -> Any:
    assert key is not None
    return p.cancel(body, key)


def _returns(p: Processor, r: Request, body: Any, key: Key | None) -> Any:
    assert key is not None
    return p.refund(body, key)


def _customer(p: Processor, r: Request, body: Any, key: Key | None) -> Any:
    return p.customer(r.path_params["customer_id"])


def _create_customer(p: Processor, r: Request, body: Any, key: Key | None) -> Any:
    return p.create_customer(body)


def _import_customers(p: Processor, r: Request, body: Any, key: Key | None) -> Any:
    return p.import_customers(body["customers"])


def _upload_bundle(p: Processor, r: Request, body: Any, key: Key | None) -> Any:
    return p.upload_bundle(body)


def _bundles(p: Processor, r: Request, body: Any, key: Key | None) -> Any:
    return {"bundles": p.bundles()}


def _current_bundle(p: Processor, r: Request, body: Any, key: Key | None) -> Any:
    row = p.bundle()
    return _Bytes(row.data, headers={"X-Loya-Bundle-Version": str(row.version), "ETag": f'"{row.sha256}"'})


def _health(p: Processor, r: Request, body: Any, key: Key | None) -> Any:
    return {"status": "ok", "bundle": p.bundle().version, "schema_version": p.store.schema_version()}


WORK: dict[str, Work] = {
    "calculate": _calculate, "confirm": _confirm, "offline": _offline, "cancel": _cancel, "returns": _returns, "customer": _customer,
    "create_customer": _create_customer, "import_customers": _import_customers, "upload_bundle": _upload_bundle,
    "bundles": _bundles, "current_bundle": _current_bundle, "health": _health,
}
WORK.update(chains.WORK)  # trigger chains: /v1/scheduled, /v1/scheduled/done, /v1/tick


def create_app(processor: Processor, metrics: Metrics | None = None) -> ASGIApp:
    """The application: the hot paths of calculate and confirm (hot.py) before Starlette's routes."""
    metrics = metrics or Metrics()

    def _metrics(p: Processor, r: Request, body: Any, key: Key | None) -> Any:
        return PlainTextResponse(metrics.render(p.held_total()), media_type="text/plain; version=0.0.4")

    work = {**WORK, "metrics": _metrics}
    routes = [Route(e.path, _handler(e, work[e.name], processor, metrics), methods=[e.method], name=e.name)
              for e in ENDPOINTS]

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        return problem_response(Problem(NO_ROUTE, f"no {request.method} {request.url.path} here (docs/server.md)",
                                status=status))

    app = Starlette(routes=routes, exception_handlers={HTTPException: not_found})
    return HotPaths(app, processor, metrics)


# ---------------------------------------------------------------------------------- uvicorn workers
ENV_DB, ENV_KEYS, ENV_HOLD = "LOYA_SERVE_DB", "LOYA_SERVE_TRUSTED_KEYS", "LOYA_SERVE_HOLD_SECONDS"
ENV_METRICS = "LOYA_SERVE_METRICS_DIR"  # where the workers share their counters (several workers only)
ENV_CODE_CACHE = "LOYA_SERVE_CODE_CACHE"  # where the engines' compiled code is kept between loads (optional)
FULL_PASS_EVERY = 1000  # passes of the collector's middle generation per full pass (Python's default: 10)


def from_environment() -> ASGIApp:
    """The app of one uvicorn worker process, configured by ``loya serve`` through the environment."""
    keys = [bytes.fromhex(k) for k in os.environ.get(ENV_KEYS, "").split(",") if k]
    store = open_store(os.environ[ENV_DB])
    if store.schema_version() != SCHEMA_VERSION:
        raise SystemExit(f"the database's schema is version {store.schema_version()}, this server needs "
                         f"{SCHEMA_VERSION}: run `loya db upgrade`")
    hold = int(os.environ.get(ENV_HOLD, "300"))
    shared = os.environ.get(ENV_METRICS)
    cache = os.environ.get(ENV_CODE_CACHE)
    processor = Processor(store, keys, hold, code_cache=DirectoryCache(cache) if cache else None)
    application = create_app(processor, Metrics(Path(shared) if shared else None))
    settle_heap(processor)
    return application


def settle_heap(processor: Processor) -> None:
    """Load the bundle in force, then put everything the worker holds so far (modules, the engine: 100k+
    objects that live as long as the process) out of the garbage collector's reach (``gc.freeze``), and
    make its full passes rare (``FULL_PASS_EVERY``). A full pass stops the process while it scans every
    object still alive (30-250 ms for those 100k, 40-75 ms for 4,096 states kept read), and by default
    one comes every few seconds under load: 64 tills then wait behind it (bench/serve.md,
    bench/serve_trace.py). What requests leave behind is nearly all freed by its reference counts (none
    of calculate's or confirm's garbage is cyclic), the rest mostly by the young passes, which stay as
    they are. Frozen objects are still freed when no longer referenced."""
    with suppress(LoyaError):  # no database or no bundle yet: the first request loads it
        processor.current_engine()
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_PASS_EVERY)
