"""Turning what the processor answered, or the error it raised, into an HTTP response: shared by the
Starlette handlers (app.py) and the hot paths of calculate and confirm (hot.py)."""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from contextvars import copy_context
from functools import partial
from typing import Any, TypeVar

import msgspec
from starlette.responses import Response
from starlette.types import Send

from loyadsl.runtime.errors import LoyaError
from loyadsl.server.errors import INTERNAL, Problem, problem_of
from loyadsl.server.metrics import Metrics
from loyadsl.server.models import Endpoint
from loyadsl.server.processing import EVAL_SECONDS
from loyadsl.server.store import Stored

log = logging.getLogger("loyadsl.server")
T = TypeVar("T")
WORK_THREADS = 16  # requests of one process in the database at once (postgres.IDLE, sqlite.IDLE connections)


class _Workers:
    """The process's ``WORK_THREADS`` threads (started with the first job): a job waits in one queue
    for the first free thread, and its result goes back to its event loop (a future's, or a callback)."""

    def __init__(self, size: int) -> None:
        self._jobs: queue.SimpleQueue[tuple[asyncio.AbstractEventLoop, Callable[[Any, BaseException | None], None],
                                            Callable[[], Any]]] = queue.SimpleQueue()
        self._size = size
        self._started = False
        self._lock = threading.Lock()

    def submit(self, loop: asyncio.AbstractEventLoop, done: Callable[[Any, BaseException | None], None],
               work: Callable[[], Any]) -> None:
        """Run ``work`` in a thread, then ``done(result, None)`` or ``done(None, error)`` on ``loop``."""
        if not self._started:
            with self._lock:
                if not self._started:
                    for n in range(self._size):
                        threading.Thread(target=self._serve, name=f"loya-work-{n}", daemon=True).start()
                    self._started = True
        self._jobs.put((loop, done, work))

    def _serve(self) -> None:
        while True:
            loop, done, work = self._jobs.get()
            try:
                result, error = work(), None
            except BaseException as exc:  # handed to the request that awaits it
                result, error = None, exc
            with suppress(RuntimeError):  # the loop closed meanwhile: nobody awaits the result
                loop.call_soon_threadsafe(done, result, error)
            del loop, done, work, result, error


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


_WORKERS = _Workers(WORK_THREADS)


async def in_thread(work: Callable[[], T]) -> T:
    """``work`` in one of the process's ``WORK_THREADS`` threads, in a copy of this context (as
    Starlette's ``run_in_threadpool``, for less: a request pays for a thread hop, nothing else)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    _WORKERS.submit(loop, partial(_settle, future), partial(copy_context().run, work))
    return await future


def json_response(status: int, value: Any, media_type: str = "application/json") -> Response:
    return Response(msgspec.json.encode(value), status, media_type=media_type)


def problem_response(problem: Problem) -> Response:
    return json_response(problem.status, problem.to_dict(), "application/problem+json")


async def perform(endpoint: Endpoint, work: Callable[[], Any]) -> Response:
    """Run the processor's ``work`` in a thread; its answer, with the ``Server-Timing`` header."""
    evaluating = [0.0]
    EVAL_SECONDS.set(evaluating)
    started = time.perf_counter()
    response = respond(endpoint, await in_thread(work))
    response.headers["Server-Timing"] = _timing(evaluating[0], started)
    return response


def _timing(evaluating: float, started: float) -> str:
    return f"eval;dur={evaluating * 1000:.3f}, work;dur={(time.perf_counter() - started) * 1000:.3f}"


async def answer_raw(endpoint: Endpoint, metrics: Metrics, start: float, work: Callable[[], Any], send: Send) -> None:
    """``answer(endpoint, metrics, start, perform(endpoint, work))`` sent as ASGI messages, without
    Starlette's response objects: the same status, headers and bytes (the hot paths, hot.py)."""
    evaluating = [0.0]
    EVAL_SECONDS.set(evaluating)
    started = time.perf_counter()
    try:
        result, error = await in_thread(work), None
    except Exception as exc:
        result, error = None, exc
    status, headers, body, code = raw_answer(endpoint, evaluating[0], started, result, error)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    metrics.observe(endpoint.name, status, time.perf_counter() - start, code)


def _problem(endpoint: Endpoint, error: BaseException) -> Problem:
    """The problem answer of an error: its own for a ``LoyaError``, else an internal error, logged."""
    if isinstance(error, LoyaError):
        return problem_of(error)
    log.error("internal error in %s", endpoint.name, exc_info=error)
    return _internal()


def raw_answer(endpoint: Endpoint, evaluating: float, started: float, result: Any, error: BaseException | None,
               ) -> tuple[int, list[tuple[bytes, bytes]], bytes, str | None]:
    """What the processor's work (started at ``started``) answered, ``result``, or the ``error`` it raised,
    as a status, headers, body and error code (None: no error) (``answer_raw``, protocol.py)."""
    timing: str | None = None
    code: str | None = None
    if error is None:
        try:
            if isinstance(result, Stored):
                status, body = result.status, msgspec.json.encode(result.response)
            else:
                status, body = endpoint.status, msgspec.json.encode(result)
            media = b"application/json"
            timing = _timing(evaluating, started)
        except Exception as exc:  # an answer that cannot be written: an error as any other
            error = exc
    if error is not None:
        problem = _problem(endpoint, error)
        code = problem.code
        status, body, media = problem.status, msgspec.json.encode(problem.to_dict()), b"application/problem+json"
    headers = [(b"content-length", b"%d" % len(body)), (b"content-type", media)]
    if timing is not None:
        headers.append((b"server-timing", timing.encode("latin-1")))
    return status, headers, body, code


async def answer(endpoint: Endpoint, metrics: Metrics, start: float, steps: Awaitable[Response]) -> Response:
    """The response of a request's ``steps``, or its error as a problem; counted in the metrics."""
    code: str | None = None
    try:
        response = await steps
    except LoyaError as exc:
        problem = problem_of(exc)
        code = problem.code
        response = problem_response(problem)
    except Exception:
        log.exception("internal error in %s", endpoint.name)
        code = INTERNAL
        response = problem_response(_internal())
    metrics.observe(endpoint.name, response.status_code, time.perf_counter() - start, code)
    return response


def _internal() -> Problem:
    return Problem(INTERNAL, "internal error; the request was not applied unless a retry with the same id says so")


def respond(endpoint: Endpoint, result: Any) -> Response:
    if isinstance(result, Response):
        return result
    if isinstance(result, Stored):
        return json_response(result.status, result.response)
    return json_response(endpoint.status, result)


