"""``loya serve``'s HTTP protocol (loyadsl/server/protocol.py: uvicorn's httptools protocol with calculate
and confirm answered without the ASGI cycle) answers every request as uvicorn's own protocol running the
ASGI application does: the same bytes (but the date and the Server-Timing durations), the same
connection closes, the same metrics, the same states left. Two processors over two fresh databases get
the same requests, one through each protocol, driven in-process with a transport that records what is
written (hypothesis: the example's receipts, repeated, altered and refused ones, bad keys, chunked and
split bodies, bodies past uvicorn's high-water mark, ``Connection: close``, HTTP/1.0, other paths)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_srv_hot import BODIES

pytest.importorskip("httptools")
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from loyadsl.server import protocol
from loyadsl.server.app import create_app
from loyadsl.server.commands import uvicorn_options
from loyadsl.server.connect import open_store
from loyadsl.server.metrics import Metrics
from loyadsl.server.processing import Processor

NOW = 1_767_225_600.0  # both processors' clock: holds and their expiry alike
RECEIPTS = 12  # of the example's, sent (some more than once, some altered)


class _Transport(asyncio.Transport):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.loop, self.written, self.closed = loop, bytearray(), False
        self.protocol: asyncio.Protocol | None = None

    def write(self, data: Any) -> None:
        assert not self.closed
        self.written += data

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8080), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            assert self.protocol is not None
            self.loop.call_soon(self.protocol.connection_lost, None)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0


class _Side:
    """A processor over a fresh SQLite database, its application and metrics, served by ``kind``."""

    def __init__(self, folder: Path, bundle: bytes, public: bytes, customers: list[dict[str, Any]], kind: Any) -> None:
        self.store = open_store(f"sqlite:///{folder / 'loya.db'}")
        self.store.upgrade()
        self.processor = Processor(self.store, [public], 300, clock=lambda: NOW)
        self.processor.install_bundle(bundle)
        self.processor.import_customers(customers)
        self.metrics = Metrics()
        self.seen: list[tuple[str, int, str | None]] = []
        original = self.metrics.observe

        def observe(name: str, status: int, seconds: float, code: str | None = None) -> None:
            self.seen.append((name, status, code))
            original(name, status, seconds, code)
        self.metrics.observe = observe  # type: ignore[method-assign]
        self.app = create_app(self.processor, self.metrics)
        self.kind = kind
        self.keys: dict[str, str] = {"admin": self.processor.add_key("admin", None)}

    def token(self, who: str) -> str:
        if who not in self.keys:
            self.keys[who] = self.processor.add_key("till", who)
        return self.keys[who]

    def exchange(self, requests: list[tuple[Any, ...]]) -> list[Any]:
        """The requests on one connection; what came back for each (normalised), and whether it closed."""
        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(self._exchange(loop, requests))
        finally:
            loop.close()

    async def _exchange(self, loop: asyncio.AbstractEventLoop, requests: list[tuple[Any, ...]]) -> list[Any]:
        config = Config(app=self.app, http=self.kind, log_level="warning", access_log=False, proxy_headers=False)
        config.load()
        state = ServerState()
        state.default_headers = [(b"date", b"Mon, 07 Dec 2026 14:00:00 GMT"), (b"server", b"uvicorn")]
        proto = config.http_protocol_class(config, state, {}, _loop=loop)  # type: ignore[call-arg]
        transport = _Transport(loop)
        transport.protocol = proto
        proto.connection_made(transport)
        out: list[Any] = []
        for request in requests:
            if transport.closed:
                break
            start = len(transport.written)
            for piece in _render(self, request):
                proto.data_received(piece)
                await asyncio.sleep(0)
            for _ in range(20_000):  # until the answer is whole or the connection closed (a bound, not a timing)
                if transport.closed or _whole(bytes(transport.written[start:])):
                    break
                await asyncio.sleep(0.001)
            await asyncio.sleep(0)
            out.append((_normal(bytes(transport.written[start:])), transport.closed))
        transport.close()
        await asyncio.sleep(0.01)
        return out


def _render(side: _Side, request: tuple[Any, ...]) -> list[bytes]:
    method, target, body, who, framing, connection, version, split = request
    token = {"till": None, "admin": side.keys["admin"], "wrong": "not-a-key", "none": None}[who]
    if who == "till":
        token = side.token(_store_of(body))
    head = [f"{method} {target} HTTP/{version}".encode(), b"host: loya"]
    if token is not None:
        head.append(b"authorization: Bearer " + token.encode())
    head.append(b"content-type: application/json")
    if connection:
        head.append(b"connection: " + connection.encode())
    if framing == "chunked" and version == "1.1":
        half = len(body) // 2
        payload = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (body[:half], body[half:]) if p) + b"0\r\n\r\n"
        head.append(b"transfer-encoding: chunked")
    else:
        payload = body
        head.append(b"content-length: %d" % len(body))
    data = b"\r\n".join(head) + b"\r\n\r\n" + payload
    cut = int(split * len(data))
    return [data[:cut], data[cut:]] if 0 < cut < len(data) else [data]


def _store_of(body: bytes) -> str:
    try:
        value = json.loads(body)
    except ValueError:
        return "S001"
    return str(value.get("store_id", "S001")) if isinstance(value, dict) else "S001"


def _whole(data: bytes) -> bool:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            return len(body) >= int(value)
    return body.endswith(b"0\r\n\r\n")


def _normal(data: bytes) -> bytes:
    """The answer without what differs by the moment: the Server-Timing durations."""
    head, sep, body = data.partition(b"\r\n\r\n")
    lines = [line if not line.startswith(b"server-timing:") else b"server-timing: (durations)"
             for line in head.split(b"\r\n")]
    return b"\r\n".join(lines) + sep + body


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory, bundle: bytes, signing: tuple[bytes, bytes],
          customers: list[dict[str, Any]]) -> Iterator[tuple[_Side, _Side]]:
    fast = _Side(tmp_path_factory.mktemp("fast"), bundle, signing[1], customers, protocol.HotProtocol)
    plain = _Side(tmp_path_factory.mktemp("plain"), bundle, signing[1], customers, HttpToolsProtocol)
    yield fast, plain
    fast.store.close()
    plain.store.close()


def _bodies(receipts: list[dict[str, Any]]) -> st.SearchStrategy[bytes]:
    chosen = [r for r in receipts if r.get("customer_id")][:RECEIPTS]
    valid = st.sampled_from([json.dumps(r).encode() for r in chosen])
    altered = st.builds(lambda r, n: json.dumps({**r, "receipt_id": f"{r['receipt_id']}-{n}"}).encode(),
                        st.sampled_from(chosen), st.integers(0, 3))
    other = st.builds(lambda r: json.dumps({**r, "lines": r["lines"][:1]}).encode(), st.sampled_from(chosen))
    large = st.builds(lambda r: json.dumps(r).encode() + b" " * 70_000, st.sampled_from(chosen))
    bad = st.sampled_from([b for _, b in BODIES] + [b"", b"{", b"[1]"])
    return st.one_of(valid, valid, altered, other, large, bad)


def _requests(receipts: list[dict[str, Any]]) -> st.SearchStrategy[list[tuple[Any, ...]]]:
    request = st.tuples(
        st.sampled_from(["POST"] * 6 + ["GET", "PUT"]),
        st.sampled_from(["/v1/calculate"] * 3 + ["/v1/confirm"] * 3 + ["/v1/calculate?x=1", "/v1/cancel",
                                                                     "/v1/nothing", "/v1/health"]),
        _bodies(receipts),
        st.sampled_from(["till"] * 6 + ["admin", "wrong", "none"]),
        st.sampled_from(["length"] * 4 + ["chunked"]),
        st.sampled_from([""] * 3 + ["close", "keep-alive"]),
        st.sampled_from(["1.1"] * 4 + ["1.0"]),
        st.sampled_from([0.0, 0.0, 0.3, 0.9]))
    return st.lists(request, min_size=1, max_size=5)


def test_loya_serve_runs_the_hot_protocol() -> None:
    assert protocol.usable()
    assert uvicorn_options()["http"] == "loyadsl.server.protocol:HotProtocol"


def test_the_hot_protocol_answers_as_uvicorns(sides: tuple[_Side, _Side], receipts: list[dict[str, Any]],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    fast, plain = sides
    direct: list[tuple[int, bool]] = []  # the requests the hot protocol answered itself: status, kept alive
    write = protocol._write
    monkeypatch.setattr(protocol, "_write", lambda cycle, status, *rest: (
        direct.append((status, cycle.keep_alive)), write(cycle, status, *rest)))

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(_requests(receipts))
    def same(requests: list[tuple[Any, ...]]) -> None:
        before = len(fast.seen), len(plain.seen)
        assert fast.exchange(requests) == plain.exchange(requests)
        assert fast.seen[before[0]:] == plain.seen[before[1]:]

    same()
    hot = sum(1 for name, status, _ in fast.seen if name in ("calculate", "confirm") and status == 200)
    assert hot >= 20, fast.seen  # the hot paths were taken, not only refusals
    # answers and refusals alike, on connections kept and closed
    assert len(direct) >= 20 and len({status for status, _ in direct}) > 1 and {(200, True), (200, False)} <= set(
        direct), direct
    for customer in {r["customer_id"] for r in receipts[:60] if r.get("customer_id")}:
        assert fast.processor.customer(customer) == plain.processor.customer(customer)

