"""Turning what the processor answered, or the error it raised, into an HTTP response: shared by the
Starlette handlers (app.py) and the hot paths of calculate and confirm (hot.py)."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from loyadsl.runtime.errors import LoyaError
from loyadsl.server.errors import INTERNAL, Problem, problem_of
from loyadsl.server.metrics import Metrics
from loyadsl.server.models import Endpoint
from loyadsl.server.processing import EVAL_SECONDS
from loyadsl.server.store import Stored

log = logging.getLogger("loyadsl.server")


def json_response(status: int, value: Any, media_type: str = "application/json") -> Response:
    return Response(msgspec.json.encode(value), status, media_type=media_type)


def problem_response(problem: Problem) -> Response:
    return json_response(problem.status, problem.to_dict(), "application/problem+json")


async def perform(endpoint: Endpoint, work: Callable[[], Any]) -> Response:
    """Run the processor's ``work`` in a thread; its answer, with the ``Server-Timing`` header."""
    evaluating = [0.0]
    EVAL_SECONDS.set(evaluating)
    started = time.perf_counter()
    response = respond(endpoint, await run_in_threadpool(work))
    response.headers["Server-Timing"] = (f"eval;dur={evaluating[0] * 1000:.3f}, "
                                         f"work;dur={(time.perf_counter() - started) * 1000:.3f}")
    return response


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
        response = problem_response(Problem(INTERNAL, "internal error; the request was not applied unless a retry "
                                              "with the same id says so"))
    metrics.observe(endpoint.name, response.status_code, time.perf_counter() - start, code)
    return response


def respond(endpoint: Endpoint, result: Any) -> Response:
    if isinstance(result, Response):
        return result
    if isinstance(result, Stored):
        return json_response(result.status, result.response)
    return json_response(endpoint.status, result)


