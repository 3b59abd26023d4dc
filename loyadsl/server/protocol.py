"""uvicorn's HTTP/1.1 protocol (httptools) with the hot paths' requests answered without the ASGI cycle.

For every request uvicorn builds the scope, starts an asyncio task that runs the ASGI application,
hands the body over through an event and takes the answer back as two messages whose headers it checks
one by one: about 100,000 of the event loop's instructions per request (bench/serve.md, 2026-12-07
afternoon), as much again as the rest of what a hot request costs the loop. ``HotProtocol`` is
uvicorn's protocol, unchanged but for one case: a ``POST`` to calculate or confirm, when the loaded
application is ours (``HotPaths``), is held until its body is complete instead of starting a task;
then, if ``HotPaths.work`` takes it (Content-Length within the limit, a known key, a body the hot
decoder accepts: the very checks the ASGI hot path makes), the processor's work goes to a work thread
and its answer (``respond.raw_answer``: the same status, headers and bytes) is written straight to
the connection, as uvicorn's cycle would write it (its default headers, ``connection: close`` when the
connection closes after it). Every other request, and every held one ``HotPaths.work`` does not take
(or whose body grows past the limit or uvicorn's high-water mark, or whose client leaves first), gets
uvicorn's task and the ASGI application as before, with the body read so far: the same answer.
test_srv_protocol_hot proves the two ways answer alike.

uvicorn's keep-alive, pipelining (a request arriving while one is answered waits, as in uvicorn),
graceful shutdown and disconnects work through its own request cycle object, which the held request
keeps (``self.cycle``).
"""

from __future__ import annotations

import time
from contextvars import copy_context
from functools import partial
from typing import Any

from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle

from loyadsl.server.hot import HotPaths
from loyadsl.server.models import Endpoint
from loyadsl.server.processing import EVAL_SECONDS
from loyadsl.server.respond import _WORKERS, raw_answer

# (the request's cycle, its endpoint, when its headers were read): a request held for its body
Held = tuple[RequestResponseCycle, Endpoint, float]


def usable() -> bool:
    """Whether this uvicorn has the hook the protocol uses (``_start_asgi_task``: uvicorn 0.30 on)."""
    return callable(getattr(HttpToolsProtocol, "_start_asgi_task", None))


class HotProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol; calculate and confirm without the ASGI cycle (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hot = self.app if isinstance(self.app, HotPaths) else None
        self.held: Held | None = None
        self.arriving = False  # in on_headers_complete: a new request (not a pipelined one started later)

    def on_headers_complete(self) -> None:
        self.arriving = True
        try:
            super().on_headers_complete()
        finally:
            self.arriving = False

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        hot = self.hot
        if self.arriving and hot is not None and app is hot and not cycle.waiting_for_100_continue \
                and not cycle.access_log:
            scope = cycle.scope
            endpoint = hot.routes.get(scope["path"]) if scope["method"] == "POST" else None
            if endpoint is not None:
                self.held = (cycle, endpoint, time.perf_counter())
                return
        super()._start_asgi_task(cycle, app)

    def _release(self) -> None:
        """The held request goes to uvicorn's task and the ASGI application after all."""
        held, self.held = self.held, None
        if held is not None:
            super()._start_asgi_task(held[0], self.app)

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        held = self.held
        if held is not None and len(held[0].body) > min(held[1].limit, HIGH_WATER_LIMIT):
            self._release()  # too large: the application answers (413), or reads on (uvicorn paused the reading)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        held = self.held
        if held is None or self.hot is None:
            return
        if held[0] is not self.cycle:
            return self._release()
        cycle, endpoint, start = held
        headers: dict[bytes, bytes] = dict(reversed(list(cycle.scope["headers"])))  # the first of a repeated one
        work = self.hot.work(endpoint, headers, bytes(cycle.body)) if self.hot.declared_within(
            endpoint, headers) else None
        if work is None:
            return self._release()
        self.held = None
        cycle.body = bytearray()
        evaluating = [0.0]
        context = copy_context()
        context.run(EVAL_SECONDS.set, evaluating)
        done = partial(self._answer, cycle, endpoint, start, evaluating, time.perf_counter())
        _WORKERS.submit(self.loop, done, partial(context.run, work))

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self._release()  # the application sees the client gone, as it would have

    def _answer(self, cycle: RequestResponseCycle, endpoint: Endpoint, start: float, evaluating: list[float],
                started: float, result: Any, error: BaseException | None) -> None:
        status, headers, body, code = raw_answer(endpoint, evaluating[0], started, result, error)
        _write(cycle, status, headers, body)
        assert self.hot is not None
        self.hot.metrics.observe(endpoint.name, status, time.perf_counter() - start, code)


def _write(cycle: RequestResponseCycle, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    """What ``cycle.send`` writes for a start message with ``headers`` (a content-length among them, no
    connection header) and one body message, in one write; then the cycle ends as ``send`` ends it."""
    if cycle.disconnected:
        return
    cycle.response_started = True
    cycle.waiting_for_100_continue = False
    content = [STATUS_LINE[status]]
    for name, value in cycle.default_headers:
        content.extend([name.lower(), b": ", value, b"\r\n"])
    for name, value in headers:
        content.extend([name, b": ", value, b"\r\n"])
    if not cycle.keep_alive:
        content.append(b"connection: close\r\n")
    content.append(b"\r\n")
    content.append(body)
    cycle.transport.write(b"".join(content))
    cycle.response_complete = True
    cycle.message_event.set()
    if not cycle.keep_alive:
        cycle.transport.close()
    cycle.on_response()
