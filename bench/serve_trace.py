"""Where a slow request of `loya serve` waits: every request of a paced phase timed at each hop.

    python bench/serve_trace.py [--op calculate|confirm] [--rate 1000] [--clients 64] [--workers 2]
                                [--seconds 5] [--threads 16]

Starts PostgreSQL and the server as bench/serve.py does, but each uvicorn worker runs the application
through ``traced_app`` (this module), which wraps the hot path's ``answer_raw``, the work it hands to a
thread, PostgreSQL's round trips (``postgres._results``) and the garbage collector's passes, and
writes one record per request. The load generator (64 paced tills, as ``--tills``) notes when it sent
each request and when it had the answer. All clocks are ``time.perf_counter`` (CLOCK_MONOTONIC, one
clock for every process of the machine), so a request's latency splits into:

    inbound   the till wrote the request .. the worker's application got it (the worker's event
              loop busy or not scheduled; uvicorn parsing)
    to-thread the application .. a work thread started the job (a free thread, the GIL)
    work      the job in the thread: ``cpu`` (the thread's own CPU time), ``db`` (waiting for
              PostgreSQL's answers and the GIL back after them), the rest (waiting for the GIL,
              or for a core)
    back      the job done .. the answer handed to uvicorn (the event loop's wake-up)
    outbound  the answer handed to uvicorn .. the till had read it (uvicorn, the till's own loop)

It prints the median and the mean of each part over all requests and over the slowest 1 %, the
requests and connections each worker got, and the collector's passes that overlapped slow requests.
A measuring tool, not a benchmark: the wrappers cost a few µs a request.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "server"))
sys.path.insert(0, str(ROOT / "bench"))

ENV_TRACE = "LOYA_TRACE_DIR"


# ------------------------------------------------------------------------------ in the server's workers
def traced_app() -> Any:
    """``app.from_environment`` with every hot request timed (uvicorn's factory in each worker)."""
    from loyadsl.server import app, hot, postgres

    out = Path(os.environ[ENV_TRACE]) / f"worker-{os.getpid()}.jsonl"
    records: list[dict[str, Any]] = []
    local = threading.local()
    original_answer, original_results = hot.answer_raw, postgres._results

    def results(pg: Any) -> Any:
        start = time.perf_counter()
        try:
            return original_results(pg)
        finally:
            local.db = getattr(local, "db", 0.0) + time.perf_counter() - start
            local.trips = getattr(local, "trips", 0) + 1

    async def answer_raw(endpoint: Any, metrics: Any, start: float, work: Any, send: Any) -> None:
        record: dict[str, Any] = {"id": work.args[0]["receipt_id"], "app": start, "call": time.perf_counter()}

        def timed() -> Any:
            record["run"] = time.perf_counter()
            local.db, local.trips = 0.0, 0
            cpu = time.thread_time()
            try:
                return work()
            finally:
                record["cpu"] = time.thread_time() - cpu
                record["done"] = time.perf_counter()
                record["db"], record["trips"] = local.db, local.trips

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                record["send"] = time.perf_counter()
                record["status"] = message["status"]
            await send(message)

        await original_answer(endpoint, metrics, start, timed, sending)
        records.append(record)

    gc_start: list[float] = [0.0]

    def collected(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            gc_start[0] = time.perf_counter()
        else:
            records.append({"gc": info["generation"], "at": gc_start[0], "took": time.perf_counter() - gc_start[0]})

    def flush() -> None:
        while True:
            time.sleep(0.5)
            taken = records[:]
            del records[:len(taken)]
            with out.open("a") as f:
                f.writelines(json.dumps(r) + "\n" for r in taken)

    if "LOYA_TRACE_HELD_BUSY" in os.environ:
        original_results = _results_holding_the_gil()
    hot.answer_raw = answer_raw
    postgres._results = results
    gc.callbacks.append(collected)
    threading.Thread(target=flush, daemon=True).start()
    if "LOYA_TRACE_THREADS" in os.environ:
        from loyadsl.server import respond
        respond._WORKERS = respond._Workers(int(os.environ["LOYA_TRACE_THREADS"]))
    if "LOYA_TRACE_SWITCH" in os.environ:
        sys.setswitchinterval(float(os.environ["LOYA_TRACE_SWITCH"]))
    if "LOYA_TRACE_NO_FREEZE" in os.environ:  # the server as it was before gc.freeze (app.settle_heap)
        app.settle_heap = lambda processor: None
    return app.from_environment()


def _results_holding_the_gil() -> Any:
    """An experiment (``--held-busy``): ``postgres._results`` asking libpq's PQisBusy through
    ``ctypes.PyDLL`` (the GIL kept) instead of psycopg's ``is_busy``, which lets the GIL go and must take
    it back, once per result. Not for a server: it needs psycopg's own libpq file."""
    import ctypes
    import select

    import psycopg  # noqa: F401  (psycopg_binary wants it first)
    import psycopg_binary
    from psycopg import pq

    from loyadsl.server import postgres

    path = next((Path(psycopg_binary.__file__).parent.parent / "psycopg_binary.libs").glob("libpq-*"))
    busy = ctypes.PyDLL(str(path)).PQisBusy
    busy.argtypes, busy.restype = [ctypes.c_void_p], ctypes.c_int

    def results(pg: Any) -> list[Any]:
        ready = select.poll()
        ready.register(pg.socket, select.POLLIN | select.POLLOUT)
        while pg.flush():
            if any(event & select.POLLIN for _, event in ready.poll()):
                pg.consume_input()
        ready.modify(pg.socket, select.POLLIN)
        found: list[Any] = []
        error: Exception | None = None
        pointer = pg.pgconn_ptr
        while True:
            while busy(pointer):
                ready.poll()
                pg.consume_input()
            result = pg.get_result()
            if result is None:
                continue
            if result.status == pq.ExecStatus.PIPELINE_SYNC:
                break
            if result.status == pq.ExecStatus.FATAL_ERROR and error is None:
                error = postgres._error(result)
            found.append(result)
        if error is not None:
            raise error
        return found

    return results


def _serve_traced(bundle: Path, db: str, workers: int, trace: Path) -> None:
    """The server's process: `loya serve`'s setup, then uvicorn with ``traced_app``."""
    import uvicorn

    from loyadsl.server.app import ENV_DB, ENV_HOLD, ENV_KEYS, ENV_METRICS
    from loyadsl.server.commands import _bundle_bytes
    from loyadsl.server.connect import open_store
    from loyadsl.server.processing import Processor

    store = open_store(db)
    store.upgrade()
    Processor(store).install_bundle(_bundle_bytes(bundle))
    store.close()
    shared = tempfile.mkdtemp(prefix="loya-metrics-")
    os.environ.update({ENV_DB: db, ENV_KEYS: "", ENV_HOLD: "300", ENV_TRACE: str(trace)})
    if workers > 1:
        os.environ[ENV_METRICS] = shared
    port = int(os.environ["LOYA_TRACE_PORT"])
    if "LOYA_TRACE_ONE_SOCKET" in os.environ or workers == 1:  # uvicorn's workers, sharing one socket
        uvicorn.run("serve_trace:traced_app", factory=True, host="127.0.0.1", port=port, workers=workers,
                    log_level="warning", access_log=False)
    else:  # as `loya serve` runs them: a socket each (loyadsl/server/workers.py)
        from loyadsl.server import workers as processes
        processes.run("serve_trace:traced_app", "127.0.0.1", port, workers, factory=True, log_level="warning",
                      access_log=False)


# ------------------------------------------------------------------------------ the load generator
async def _paced(port: int, key: str, path: str, clients: int, rate: float, seconds: float,
                 run: str) -> list[tuple[str, float, float]]:
    """bench/serve.py's paced tills; per request: its id, when it was written, when its answer was read."""
    from serve import Conn, _receipt, pace

    limit = int(rate * seconds) + clients
    bodies = [_receipt(n, run) for n in range(limit)]
    ids = [json.loads(b)["receipt_id"] for b in bodies]
    done: list[tuple[str, float, float]] = []
    counter = iter(range(limit))
    start = time.perf_counter()
    deadline = start + seconds

    async def till(k: int) -> None:
        conn = Conn(port, key)

        async def send(n: int) -> None:
            sent = time.perf_counter()
            await conn.post(path, bodies[n])
            done.append((ids[n], sent, time.perf_counter()))

        await pace(k, clients, rate, start, deadline, counter, send)

    await asyncio.gather(*(till(k) for k in range(clients)))
    return done


class _Sampler(threading.Thread):
    """PostgreSQL's side while the phase runs: every 10 ms, what each of the server's backends is
    doing (pg_stat_activity): running a statement, waiting for a lock (wait_event_type Lock: another
    transaction's row or advisory lock), or idle inside a transaction (waiting for the server's next
    statements: the server's thread between its round trips)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stop, self.samples = url, threading.Event(), Counter[str]()
        self.rounds = 0

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.wait(0.01):
                self.rounds += 1
                for state, wait in conn.execute(
                        "SELECT state, wait_event_type FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"):
                    self.samples["lock wait" if wait == "Lock" else str(state)] += 1

    def report(self) -> None:
        rounds = max(1, self.rounds)
        print("PostgreSQL's backends, on average at a sample: " + ", ".join(
            f"{state} {count / rounds:.2f}" for state, count in self.samples.most_common()))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else 0.0


def report(done: list[tuple[str, float, float]], trace: Path) -> None:
    server: dict[str, dict[str, Any]] = {}
    gcs: list[dict[str, Any]] = []
    pids: Counter[str] = Counter()
    for path in trace.glob("worker-*.jsonl"):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            if "gc" in record:
                gcs.append(record)
            else:
                record["pid"] = path.stem
                server[record["id"]] = record
    rows = []
    for rid, sent, got in done:
        r = server.get(rid)
        if r is None or "send" not in r or "run" not in r:
            continue
        pids[r["pid"]] += 1
        rows.append({"latency": got - sent, "inbound": r["app"] - sent, "to-thread": r["run"] - r["app"],
                     "cpu": r["cpu"], "db": r["db"], "work-rest": r["done"] - r["run"] - r["cpu"] - r["db"],
                     "back": r["send"] - r["done"], "outbound": got - r["send"], "trips": r["trips"],
                     "sent": sent, "got": got})
    rows.sort(key=lambda row: row["latency"])
    slow = rows[-max(1, len(rows) // 100):]
    parts = ["latency", "inbound", "to-thread", "cpu", "db", "work-rest", "back", "outbound"]
    print(f"{len(rows)} requests traced; per worker: {dict(pids)}")
    print(f"{'ms':<22}" + "".join(f"{p:>11}" for p in parts))
    for label, group, pick in (("all, median", rows, statistics.median), ("all, mean", rows, statistics.fmean),
                               ("slowest 1%, median", slow, statistics.median),
                               ("slowest 1%, mean", slow, statistics.fmean)):
        print(f"{label:<22}" + "".join(f"{1000 * pick([row[p] for row in group]):>11.2f}" for p in parts))
    print(f"p99 latency {1000 * _pct([r['latency'] for r in rows], 0.99):.1f} ms, p50 "
          f"{1000 * _pct([r['latency'] for r in rows], 0.5):.1f} ms; round trips per request "
          f"{statistics.fmean(r['trips'] for r in rows):.2f}")
    first, last = min(r["sent"] for r in rows), max(r["got"] for r in rows)
    passes = [g for g in gcs if first <= g["at"] <= last]
    by_gen = Counter(g["gc"] for g in passes)
    longest = sorted(passes, key=lambda g: g["took"])[-3:]
    took = {gen: round(1000 * sum(g["took"] for g in passes if g["gc"] == gen), 1) for gen in sorted(by_gen)}
    print(f"collector passes in the phase by generation: {dict(sorted(by_gen.items()))}, ms in all {took}, longest "
          f"{[round(1000 * g['took'], 2) for g in longest]} ms")
    overlapped = sum(1 for row in slow if any(row["sent"] <= g["at"] <= row["got"] and g["gc"] == 2 for g in passes))
    print(f"slowest 1% overlapping a generation-2 pass: {overlapped} of {len(slow)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--op", default="calculate", choices=("calculate", "confirm"))
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--threads", type=int, default=0, help="work threads per worker (0: the server's own)")
    parser.add_argument("--switch", type=float, default=0, help="sys.setswitchinterval in the workers (0: as is)")
    parser.add_argument("--uvloop", action="store_true", help="the load generator on uvloop")
    parser.add_argument("--held-busy", action="store_true", help="an experiment: libpq's PQisBusy with the GIL kept")
    parser.add_argument("--one-socket", action="store_true", help="uvicorn's workers on one listening socket "
                        "(before workers.py)")
    parser.add_argument("--no-freeze", action="store_true", help="no gc.freeze() in the workers (app.settle_heap)")
    args = parser.parse_args()

    from serve import _port, ready, seed
    from srv_support import Postgres

    from loyadsl.api import compile_file

    data, _ = compile_file(ROOT / "examples" / "supermarket" / "programme.loya")
    assert data is not None
    work = Path(tempfile.mkdtemp(prefix="loya-trace-"))
    bundle, trace = work / "programme.loyab", work / "trace"
    bundle.write_bytes(data)
    trace.mkdir()
    cluster = Postgres()
    db, port = cluster.new_database(), _port()
    env = {**os.environ, "LOYA_TRACE_PORT": str(port),
           "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), os.environ.get("PYTHONPATH", "")])}
    if args.threads:
        env["LOYA_TRACE_THREADS"] = str(args.threads)
    if args.switch:
        env["LOYA_TRACE_SWITCH"] = str(args.switch)
    run = asyncio.run
    if args.uvloop:
        import uvloop
        run = uvloop.run
    if args.held_busy:
        env["LOYA_TRACE_HELD_BUSY"] = "1"
    if args.one_socket:
        env["LOYA_TRACE_ONE_SOCKET"] = "1"
    if args.no_freeze:
        env["LOYA_TRACE_NO_FREEZE"] = "1"
    process = subprocess.Popen([sys.executable, __file__, "--serve", str(bundle), db, str(args.workers), str(trace)],
                               env=env, start_new_session=True)
    try:
        ready(port)
        key = seed(db)
        run(_paced(port, key, "/v1/confirm", args.clients, 500, 1.0, "warm"))
        time.sleep(1)
        for path in trace.glob("*.jsonl"):
            path.unlink()
        sampler = _Sampler(db)
        sampler.start()
        done = run(_paced(port, key, f"/v1/{args.op}", args.clients, args.rate, args.seconds, "run"))
        sampler.stop.set()
        sampler.join()
        time.sleep(1.2)  # the workers' last records written
        print(f"{args.op}, {args.clients} tills offering {args.rate:g}/s, {args.workers} workers: "
              f"{len(done) / args.seconds:.0f}/s answered; load {os.getloadavg()[0]:.2f}")
        report(done, trace)
        sampler.report()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        cluster.stop("immediate")
        shutil.rmtree(cluster.dir, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        _serve_traced(Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]), Path(sys.argv[5]))
    else:
        main()
