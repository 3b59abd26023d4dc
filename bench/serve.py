"""`loya serve` under load over loopback: calculate and confirm throughput and latency (p50, p99), and
where a request's time goes (HTTP, the engine, the database and state), for SQLite and PostgreSQL.

    python bench/serve.py [--seconds 5] [--clients 64] [--workers 2] [--backends sqlite,postgres] [--rates 0,200]
                          [--tills calculate=1000,confirm=500] [--threads]

Bounded: each phase runs at most ``--seconds`` and ``--requests`` (after an unmeasured second of
warm-up). The load generator is a small asyncio HTTP/1.1 client (on uvloop) on raw keep-alive connections (one per
simulated till) in this process, apart from the server's; its CPU is printed (cores busy). The server
is `loya serve` with ``--workers`` uvicorn processes. On a 2-core machine the generator takes CPU from
the server, so figures are a lower bound. ``--rates``: 0 is a closed loop (every client sends again as
soon as it is answered: the throughput; latency is then clients / throughput by Little's law); a rate
is an open loop offering that many requests/s, whose latency counts from when each request was due.
``--tills``: paced phases, the ``--clients`` tills each with think time between requests so that they
offer that many requests/s in all (the targets' setting: 64 tills, 1,000 calculates/s, 500
confirms/s); the rate achieved and p50/p99 from sending. PostgreSQL is started in a temp dir as the tests
start it (tests/server/conftest.py), with fsync off: the figures measure the server, not the disk.
Time shares come from the server's ``Server-Timing`` header: ``eval`` (Engine.evaluate), ``work``
(the whole request in the processor: database, state JSON, evaluation); HTTP = latency - work.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "server"))

CUSTOMERS = 2000
T = TypeVar("T")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _customer(n: int) -> dict[str, Any]:
    return {"id": f"B{n:05d}", "accounts": {"bonus": {"balance": 100000, "debt": 0, "lots": [
        {"id": f"B{n}-init", "points": 100000, "left": 100000, "active_from": "2025-01-01T00:00:00+00:00",
         "expires": "2026-01-01T00:00:00+00:00"}]}}}


def _receipt(n: int, run: str) -> bytes:
    lines = [{"line_no": i + 1, "sku": f"SKU0{800 + i}", "category": "grocery/coffee_beans" if i % 3 else "dairy",
              "brand": "BR045" if i % 2 else "BR148", "qty": 1, "unit_price": 10000 + 990 * i, "amount": 10000 + 990 * i}
             for i in range(8)]
    return json.dumps({"receipt_id": f"{run}-{n}", "customer_id": f"B{n % CUSTOMERS:05d}", "store_id": "S001",
                       "datetime": "2025-03-03T12:00:00+03:00", "redeem": {"points": 50}, "lines": lines}).encode()


class Conn:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, port: int, key: str) -> None:
        self.port, self.key = port, key
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, due: float | None = None) -> tuple[int, float, float, float]:
        """Send one request; its latency counts from ``due`` (when an open-loop schedule wanted it sent)."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {self.key}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        start = time.perf_counter() if due is None else due
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        headers: dict[str, str] = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        await self.reader.readexactly(int(headers.get("content-length", "0")))
        latency = time.perf_counter() - start
        timing = dict(part.strip().split(";dur=") for part in headers.get("server-timing", "eval;dur=0, work;dur=0")
                      .split(","))
        return int(status_line.split()[1]), latency, float(timing["eval"]) / 1000, float(timing["work"]) / 1000


async def phase(port: int, key: str, path: str, clients: int, seconds: float, limit: int, run: str,
                rate: float = 0, roots: tuple[int, int] = (0, 0), paced: bool = False) -> dict[str, Any]:
    """Closed loop (``rate`` 0: each client sends its next request when the last is answered, so latency
    is clients / throughput), or open loop: request n is due at start + n / ``rate`` on the first free
    client, and its latency counts from then (a request that waited for a client waited in a queue).
    ``paced``: tills with think time: each client sends every clients / ``rate`` seconds (the clients'
    first requests spread over that period), or at once when its previous answer came later; latency
    counts from sending, and the rate achieved says whether the server kept up."""
    results: list[tuple[int, float, float, float]] = []
    counter = iter(range(limit))
    bodies = [_receipt(n, run) for n in range(limit)]  # made before the clock starts: not the client's load
    start = time.perf_counter()
    deadline = start + seconds

    async def paced_till(k: int) -> None:
        conn = Conn(port, key)

        async def send(n: int) -> None:
            results.append(await conn.post(path, bodies[n]))

        await pace(k, clients, rate, start, deadline, counter, send)

    async def till() -> None:
        conn = Conn(port, key)
        for n in counter:
            due = start + n / rate if rate else None
            if (due or time.perf_counter()) > deadline:
                return
            if due is not None and due > time.perf_counter():
                await asyncio.sleep(due - time.perf_counter())
            results.append(await conn.post(path, bodies[n], due))

    cpu = resource.getrusage(resource.RUSAGE_SELF)
    server_cpu, db_cpu, threads = tree_cpu(roots[0]), tree_cpu(roots[1]), worker_threads(roots[0])
    await asyncio.gather(*(paced_till(k) if paced else till() for k in range(clients)))
    elapsed = time.perf_counter() - start
    used = resource.getrusage(resource.RUSAGE_SELF)
    server_cpu, db_cpu = tree_cpu(roots[0]) - server_cpu, tree_cpu(roots[1]) - db_cpu
    threads = {name: now - threads.get(name, 0.0) for name, now in worker_threads(roots[0]).items()}
    client_cpu = (used.ru_utime - cpu.ru_utime + used.ru_stime - cpu.ru_stime) / elapsed
    latencies = sorted(r[1] for r in results)
    ok = sum(1 for r in results if r[0] == 200)
    total, evaluating, working = sum(latencies), sum(r[2] for r in results), sum(r[3] for r in results)
    return {"requests": len(results), "ok": ok, "per_s": len(results) / elapsed,
            "p50_ms": latencies[len(latencies) // 2] * 1000, "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
            "http": (total - working) / total, "eval": evaluating / total, "db": (working - evaluating) / total,
            "client_cpu": client_cpu, "server_ms": 1000 * server_cpu / max(1, len(results)),
            "db_ms": 1000 * db_cpu / max(1, len(results)), "statuses": sorted(Counter(r[0] for r in results).items()),
            "threads": {name: 1000 * value / max(1, len(results)) for name, value in threads.items()}}


async def pace(k: int, clients: int, rate: float, start: float, deadline: float, counter: Iterator[int],
               send: Callable[[int], Awaitable[None]]) -> None:
    """Till ``k`` of ``clients`` with think time: it sends request n (the next of ``counter``) every
    clients / ``rate`` seconds, the tills' first requests spread over that period, or at once when its
    previous answer came later; until ``deadline``."""
    period = clients / rate
    due = start + period * k / clients
    for n in counter:
        if due > deadline:
            return
        if due > time.perf_counter():
            await asyncio.sleep(due - time.perf_counter())
        await send(n)
        due = max(due + period, time.perf_counter())  # think until the next turn; late: no catching up


def tree_cpu(root: int) -> float:
    """CPU seconds used so far by process ``root`` and its live descendants (Linux /proc): the server's
    workers, or PostgreSQL's backends. Unlike throughput, CPU per request hardly depends on what else
    the shared machine runs."""
    if not root:
        return 0.0
    stats: dict[int, tuple[int, float]] = {}  # pid -> (parent, CPU seconds)
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            rest = Path(f"/proc/{entry}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        # its own time and its reaped children's (PostgreSQL backends of closed connections)
        stats[int(entry)] = int(rest[1]), sum(map(int, rest[11:15])) / os.sysconf("SC_CLK_TCK")
    tree = {root}
    while grown := {pid for pid, (parent, _) in stats.items() if parent in tree and pid not in tree}:
        tree |= grown
    return sum(stats[pid][1] for pid in tree if pid in stats)


def worker_threads(root: int) -> dict[str, float]:
    """Of the server's worker processes (the children of ``root``, Linux /proc), in all: CPU seconds of
    their main threads (the event loop: uvicorn, the hot paths), of their other threads (the work
    threads: the processor), and voluntary and involuntary context switches of all their threads."""
    totals = {"loop": 0.0, "work": 0.0, "voluntary": 0.0, "involuntary": 0.0}
    if not root:
        return totals
    tick = os.sysconf("SC_CLK_TCK")
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            if int(Path(f"/proc/{entry}/stat").read_text().rpartition(")")[2].split()[1]) != root:
                continue
            for task in os.listdir(f"/proc/{entry}/task"):
                rest = Path(f"/proc/{entry}/task/{task}/stat").read_text().rpartition(")")[2].split()
                totals["loop" if task == entry else "work"] += (int(rest[11]) + int(rest[12])) / tick
                for line in Path(f"/proc/{entry}/task/{task}/status").read_text().splitlines():
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        totals["voluntary" if line[0] == "v" else "involuntary"] += int(line.split()[1])
        except OSError:
            continue  # gone meanwhile
    return totals


def serve(bundle: Path, db: str, workers: int) -> tuple[subprocess.Popen[bytes], int, str]:
    port = _port()
    process = subprocess.Popen([sys.executable, "-m", "loyadsl.cli", "serve", str(bundle), "--db", db,
                                "--port", str(port), "--workers", str(workers)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    ready(port)
    return process, port, seed(db)


def ready(port: int) -> None:
    """Waits (up to 30 s) until the server on ``port`` answers its health check."""
    from loyadsl.client import Client

    for _ in range(300):
        try:
            Client(f"http://127.0.0.1:{port}", timeout=1).health()
            return
        except Exception:
            time.sleep(0.1)


def seed(db: str) -> str:
    """The bench's customers imported into ``db``; a till's key for store S001."""
    from loyadsl.server.connect import open_store
    from loyadsl.server.processing import Processor

    store = open_store(db)
    processor = Processor(store)
    processor.import_customers([_customer(n) for n in range(CUSTOMERS)])
    key = processor.add_key("till", "S001")
    store.close()
    return key


def _loop() -> Callable[[Coroutine[Any, Any, T]], T]:
    """The load generator's event loop: uvloop where installed (the `serve` extra), which spends less of the
    cores the server shares with it than asyncio's own loop does."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--rates", default="0", help="offered requests/s, comma-separated (0: closed loop)")
    parser.add_argument("--tills", default="", help="paced phases, e.g. calculate=1000,confirm=500: --clients tills "
                        "with think time, offering that many requests/s in all")
    parser.add_argument("--threads", action="store_true", help="also the workers' CPU per request by thread (the "
                        "event loops, the other threads) and their context switches")
    args = parser.parse_args()
    run = _loop()

    from loyadsl.api import compile_file
    data, _ = compile_file(ROOT / "examples" / "supermarket" / "programme.loya")
    assert data is not None
    work = Path(tempfile.mkdtemp(prefix="loya-bench-"))
    bundle = work / "programme.loyab"
    bundle.write_bytes(data)
    cluster = None
    print(f"loya serve, {args.workers} workers, {args.clients} clients, {os.cpu_count()} cores, phases of at most "
          f"{args.seconds:g} s / {args.requests} requests; 8-line receipts paying 50 points")
    print(f"{'backend':<10} {'phase':<22} {'req/s':>8} {'ok':>7} {'p50 ms':>8} {'p99 ms':>8}   share: http / eval / db+state"
          "   client CPU (cores)   CPU ms/request: server / database")
    try:
        for backend in args.backends.split(","):
            if backend == "postgres":
                from srv_support import Postgres
                cluster = Postgres()
                db = cluster.new_database()
            else:
                db = f"sqlite:///{work / 'bench.db'}"
            process, port, key = serve(bundle, db, args.workers)
            postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0]) if backend == "postgres" else 0
            try:
                # warm-up, not measured: each worker loads the bundle, opens its connections, prepares statements
                run(phase(port, key, "/v1/confirm", args.clients, 1.0, 1000, f"{backend}-warm"))
                phases = [(name, rate, False) for name, rate in itertools.product(
                    ("calculate", "confirm"), [float(r) for r in args.rates.split(",") if r])]
                phases += [(name, float(rate), True) for name, _, rate in
                           (item.partition("=") for item in args.tills.split(",") if item)]
                for name, rate, paced in phases:
                    r = run(phase(port, key, f"/v1/{name}", args.clients, args.seconds, args.requests,
                                          f"{backend}-{name}-{rate:g}-{paced}", rate, (process.pid, postmaster), paced))
                    label = name if not rate else f"{name}{' tills' if paced else ''}@{rate:g}/s"
                    print(f"{backend:<10} {label:<22} {r['per_s']:>8.0f} {r['ok']:>7} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f}"
                          f"   {r['http']:.1%} / {r['eval']:.1%} / {r['db']:.1%}   {r['client_cpu']:>6.2f}"
                          f"   {r['server_ms']:>6.2f} / {r['db_ms']:.2f}")
                    if args.threads:
                        t = r["threads"]
                        print(f"{'':<33} per request: event loops {t['loop']:.3f} ms, other threads {t['work']:.3f} ms "
                              f"of CPU; context switches {t['voluntary'] / 1000:.1f} voluntary, "
                              f"{t['involuntary'] / 1000:.1f} involuntary")
                    if r["ok"] != r["requests"]:
                        print(f"{'':<27} statuses: {r['statuses']}")
            finally:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
    finally:
        if cluster is not None:
            cluster.stop("immediate")
            shutil.rmtree(cluster.dir, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
