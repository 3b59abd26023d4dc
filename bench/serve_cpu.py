"""CPU per request of the processor alone (no HTTP), over PostgreSQL or SQLite: what bench/serve.py's
"CPU ms/request" is made of, measured without the machine's noise.

    python bench/serve_cpu.py [--backend postgres] [--requests 2000] [--op calculate|confirm|both]
                              [--http [--protocol hot|httptools] | --threads N] [--warm 300] [--profile N] [--fresh]

Runs ``Processor.calculate`` / ``.confirm`` in this process on the receipts bench/serve.py sends (8
lines, 2,000 customers, paying 50 points), after ``--warm`` unmeasured ones, and prints the CPU time
per request of this process (``time.process_time``; "this thread": the calling one's) and of
PostgreSQL's processes. ``--threads N``: N callers at once, as the server's threads. ``--http``:
through the ASGI application (hot paths, Starlette) called in-process, without sockets: "this
thread" is then the event loop's part; ``--protocol``: the requests go in as bytes through uvicorn's HTTP
protocol (``hot``: loya serve's, protocol.py; ``httptools``: uvicorn's own) on one keep-alive connection
per caller, with a transport that keeps what is written. ``--profile N``: cProfile of the calling thread's CPU in the
measured loop, the N costliest functions by their own time (``--callees REGEX``: and the callees of those
matching). Receipt n is customer n % 2,000's: the
warm-up's customers come again first in the measured loop (for calculate, their states then come
from the server's cache of states read; a confirm changed them). Under valgrind (``valgrind --tool=callgrind``), two runs
of different ``--requests`` give instructions per request, whatever else the machine runs.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "server"))
sys.path.insert(0, str(ROOT / "bench"))

from serve import CUSTOMERS, _customer, _receipt, tree_cpu  # noqa: E402


async def _asgi(app: Any, path: str, body: bytes, token: str) -> int:
    sent: list[dict[str, Any]] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "scheme": "http", "http_version": "1.1", "server": ("127.0.0.1", 80),
             "client": ("127.0.0.1", 1), "headers": [(b"host", b"x"), (b"authorization", b"Bearer " + token.encode()),
                                                      (b"content-type", b"application/json"),
                                                      (b"content-length", str(len(body)).encode())]}
    await app(scope, receive, send)
    return int(sent[0]["status"])


class _Transport(asyncio.Transport):
    """A connection's transport that keeps what is written (``--protocol``)."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.waiter: asyncio.Future[None] | None = None

    def write(self, data: Any) -> None:
        self.written += data
        head, sep, rest = bytes(self.written).partition(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0]) if sep else -1
        if sep and len(rest) >= length and self.waiter is not None:
            self.waiter.set_result(None)
            self.waiter = None

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8080), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0


async def _http(app: Any, kind: str, path: str, bodies: list[bytes], token: str) -> None:
    """``bodies`` sent one after the other on one connection through uvicorn's protocol ``kind``."""
    import uvicorn
    from uvicorn.server import ServerState

    http = "loyadsl.server.protocol:HotProtocol" if kind == "hot" else kind
    config = uvicorn.Config(app, http=http, log_level="warning", access_log=False, proxy_headers=False)
    config.load()
    loop = asyncio.get_running_loop()
    proto = config.http_protocol_class(config, ServerState(), {}, _loop=loop)  # type: ignore[call-arg]
    transport = _Transport()
    proto.connection_made(transport)
    for body in bodies:
        transport.written.clear()
        transport.waiter = loop.create_future()
        proto.data_received(b"POST %s HTTP/1.1\r\nhost: x\r\nauthorization: Bearer %s\r\ncontent-type: "
                            b"application/json\r\ncontent-length: %d\r\n\r\n%s" % (
                                path.encode(), token.encode(), len(body), body))
        await transport.waiter
        assert transport.written.startswith(b"HTTP/1.1 200 "), bytes(transport.written[:300])
    proto.connection_lost(None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default="postgres")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--op", default="both", choices=("calculate", "confirm", "both"))
    parser.add_argument("--http", action="store_true")
    parser.add_argument("--threads", type=int, default=1, help="callers of the processor at once (as the server's "
                        "threads; with --http: requests at once on the event loop)")
    parser.add_argument("--protocol", default="", choices=("", "hot", "httptools"), help="with --http: through "
                        "uvicorn's HTTP protocol (hot: loya serve's), not the ASGI app called directly")
    parser.add_argument("--profile", type=int, default=0)
    parser.add_argument("--sort", default="tottime", help="cProfile order (--profile): tottime, cumulative")
    parser.add_argument("--callees", default="", help="with --profile: also what the functions matching this "
                        "regex call, and their cost (e.g. 'processing.py.*work')")
    parser.add_argument("--no-freeze", action="store_true", help="leave the collector as Python sets it (the "
                        "server's workers freeze their heap: app.settle_heap)")
    parser.add_argument("--warm", type=int, default=300, help="unmeasured requests first")
    parser.add_argument("--fresh", action="store_true", help="empty the processor's states read (its cache) before "
                        "each measured request, as when the other worker wrote the state: every measured request "
                        "reads its customer's state afresh (not with --http or --threads)")
    args = parser.parse_args()
    if args.fresh and (args.http or args.threads != 1):
        parser.error("--fresh runs the processor in this thread (no --http, no --threads)")

    from loyadsl.api import compile_file
    from loyadsl.server.app import create_app, settle_heap
    from loyadsl.server.connect import open_store
    from loyadsl.server.processing import Processor
    from loyadsl.server.store import Key

    data, _ = compile_file(ROOT / "examples" / "supermarket" / "programme.loya")
    assert data is not None
    work = Path(tempfile.mkdtemp(prefix="loya-cpu-"))
    cluster, postmaster = None, 0
    try:
        if args.backend == "postgres":
            from srv_support import Postgres
            cluster = Postgres()
            url = cluster.new_database()
            postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
        else:
            url = f"sqlite:///{work / 'cpu.db'}"
        store = open_store(url)
        store.upgrade()
        processor = Processor(store)
        processor.install_bundle(data)
        processor.import_customers([_customer(n) for n in range(CUSTOMERS)])
        token = processor.add_key("till", "S001")
        key = Key("till", "S001")
        processor.authenticate(token)
        app = create_app(processor)
        if not args.no_freeze:
            settle_heap(processor)  # as each worker of `loya serve` does (app.from_environment)
        ops = ["calculate", "confirm"] if args.op == "both" else [args.op]

        def run(op: str, run_id: str, count: int) -> None:
            bodies = [_receipt(n, run_id) for n in range(count)]
            if args.http:
                async def caller(mine: list[bytes]) -> None:
                    if args.protocol:
                        return await _http(app, args.protocol, f"/v1/{op}", mine, token)
                    for body in mine:
                        status = await _asgi(app, f"/v1/{op}", body, token)
                        assert status == 200, status

                async def callers() -> None:
                    await asyncio.gather(*(caller(bodies[k::args.threads]) for k in range(args.threads)))
                if args.protocol:
                    import uvloop  # as uvicorn runs loya serve
                    uvloop.run(callers())
                else:
                    asyncio.run(callers())
            else:
                call = processor.calculate if op == "calculate" else processor.confirm
                if args.threads == 1:  # in this thread: --profile sees it
                    for body in bodies:
                        if args.fresh and not run_id.startswith("warm"):
                            processor._states.clear()
                        call(json.loads(body), key)
                    return
                with ThreadPoolExecutor(args.threads) as pool:
                    for _ in pool.map(lambda body: call(json.loads(body), key), bodies):
                        pass

        for op in ops:
            run(op, f"warm-{op}", args.warm)
            cpu, db, loop_cpu = time.process_time(), tree_cpu(postmaster), time.thread_time()
            profile = cProfile.Profile(time.thread_time) if args.profile else None
            if profile:
                profile.enable()
            run(op, f"run-{op}", args.requests)
            if profile:
                profile.disable()
            cpu, db, loop_cpu = time.process_time() - cpu, tree_cpu(postmaster) - db, time.thread_time() - loop_cpu
            print(f"{args.backend} {op}{' (http)' if args.http else ''}: CPU ms/request: "
                  f"process {1000 * cpu / args.requests:.3f} (this thread {1000 * loop_cpu / args.requests:.3f}) / "
                  f"database {1000 * db / args.requests:.3f}")
            if profile:
                stats = pstats.Stats(profile).sort_stats(args.sort)
                stats.print_stats(args.profile)
                if args.callees:
                    stats.print_callees(args.callees)
        store.close()
    finally:
        if cluster is not None:
            cluster.stop("immediate")
            shutil.rmtree(cluster.dir, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
