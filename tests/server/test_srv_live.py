"""`loya serve` for real: uvicorn on 127.0.0.1, driven by ``loyadsl.client``.

* a round trip on SQLite (and `loya db key`, `loya db export`);
* concurrency: 50 confirms at once for one customer, each spending points, on 2 server processes
  sharing one PostgreSQL database: nothing is spent twice, the balance stays within the credit the
  programme allows, and issued = balance + spent (nothing expired or reversed here);
* faults: the server is killed with SIGKILL during a stream of confirms and restarted, and each
  unanswered request is sent again: the final state equals a fault-free replay of the same receipts.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest
from srv_support import Server

from loyadsl.client import Client, ServerError

START_SECONDS = 60


def loya(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "loyadsl.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=120)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Live:
    """A `loya serve` process group (uvicorn and its workers), started and stopped by the test."""

    def __init__(self, bundle: Path, db: str, workers: int = 1, options: tuple[str, ...] = (),
                 env: dict[str, str] | None = None) -> None:
        self.bundle, self.db, self.workers, self.options, self.env = bundle, db, workers, options, env
        self.port = _port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "loyadsl.cli", "serve", str(self.bundle), "--db", self.db, "--host", "127.0.0.1",
             "--port", str(self.port), "--workers", str(self.workers), *self.options],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
            env=None if self.env is None else {**os.environ, **self.env})
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"loya serve exited: {self.process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                if Client(self.url, timeout=1).health()["status"] == "ok":
                    return
            except (OSError, ServerError):
                time.sleep(0.1)
        raise AssertionError("loya serve did not answer in time")

    def kill(self) -> None:
        """SIGKILL, no warning: the server dies wherever it is."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()

    def key(self, store: str | None = None) -> str:
        """A key made in the database the server uses (as `loya db key` makes it)."""
        from loyadsl.server.connect import open_store
        from loyadsl.server.processing import Processor

        db = open_store(self.db)
        try:
            return Processor(db).add_key("till" if store else "admin", store)
        finally:
            db.close()


@pytest.fixture
def bundle_file(tmp_path: Path, bundle: bytes) -> Path:
    path = tmp_path / "programme.loyab"
    path.write_bytes(bundle)
    return path


@pytest.fixture
def live(request: pytest.FixtureRequest, bundle_file: Path, db_url: str) -> Iterator[Live]:
    server = Live(bundle_file, db_url, getattr(request, "param", 1))
    yield server
    server.stop()


def test_round_trip_over_real_http(live: Live, customers: list[dict[str, Any]], tmp_path: Path) -> None:
    made = loya("db", "key", "--db", live.db, "--admin")
    assert made.returncode == 0, made.stderr
    admin = Client(live.url, made.stdout.strip())
    till = Client(live.url, live.key("S002"), retries=2)
    assert admin.import_customers(customers) == {"imported": len(customers)}
    base = json.loads((Path(__file__).parent / "data" / "bad_requests.json").read_text(encoding="utf-8"))["base"]
    calculated = till.calculate(base)
    assert calculated["hold"]["points"] > 0
    confirmed = till.confirm(base)
    assert confirmed["outcome"]["payment"] == calculated["outcome"]["payment"]
    assert till.confirm(base) == confirmed
    refund = till.refund("RET-1", base["receipt_id"], "2025-01-12T10:00:00+03:00")
    assert refund["refund"]["full"] is True
    with pytest.raises(ServerError) as refused:
        till.confirm({**base, "currency": "EUR", "receipt_id": "EUR-1"})
    assert (refused.value.status, refused.value.code, refused.value.cause) == (422, "LOY807", "LOY501")
    assert till.bundle().startswith(b"LOYAB")
    exported = loya("db", "export", "--db", live.db, "-o", tmp_path / "out.jsonl")
    assert exported.returncode == 0, exported.stderr
    states = {s["id"]: s for s in map(json.loads, (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines())}
    assert states[base["customer_id"]] == admin.customer(base["customer_id"])["customer"]
    assert len(states) == len(customers)


def test_a_restart_loads_the_bundle_from_the_code_cache(bundle_file: Path, db_url: str, tmp_path: Path,
                                                         customers: list[dict[str, Any]]) -> None:
    """`--code-cache DIR`: `loya serve` keeps the compiled bundle there, and a restarted server answers alike."""
    cache = tmp_path / "code"
    server = Live(bundle_file, db_url, options=("--code-cache", str(cache)))
    try:
        till = Client(server.url, server.key("S002"), retries=2)
        admin = Client(server.url, server.key())
        admin.import_customers(customers)
        base = json.loads((Path(__file__).parent / "data" / "bad_requests.json").read_text(encoding="utf-8"))["base"]
        first = till.calculate(base)
        entries = sorted(p.name for p in cache.glob("*.loyc"))
        assert len(entries) == 3  # the bundle's module, the driver, the stateful driver
        server.stop()
        server.start()
        assert till.calculate(base)["outcome"] == first["outcome"]
        assert sorted(p.name for p in cache.glob("*.loyc")) == entries
    finally:
        server.stop()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_stopped_server_leaves_no_temporary_folder(bundle_file: Path, db_url: str, tmp_path: Path,
                                                     workers: int) -> None:
    """SIGTERM: uvicorn stops, then raises the signal again, so one worker must have made no folder to remove.
    Several share one for the run: their counters, and (without --code-cache) their compiled bundles."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    server = Live(bundle_file, db_url, workers, env={"TMPDIR": str(temporary)})
    assert Client(server.url).health()["status"] == "ok"
    kept = sorted(p.name for p in temporary.glob("loya-serve-*/code/*.loyc"))
    assert len(kept) == (2 if workers > 1 else 0)  # the bundle's module and its driver, compiled once
    server.stop()
    assert [p.name for p in temporary.iterdir() if p.name.startswith("loya-")] == []


# ---------------------------------------------------------------------------------- concurrency
RICH = {"id": "RICH", "accounts": {"bonus": {"balance": 5000, "debt": 0, "lots": [
    {"id": "init", "points": 5000, "left": 5000, "active_from": "2025-01-01T00:00:00+00:00",
     "expires": "2026-01-01T00:00:00+00:00"}]}}}
CREDIT = 300  # the example's bonus account may go down to -300


def _spender(n: int) -> dict[str, Any]:
    return {"receipt_id": f"SPEND-{n:02d}", "customer_id": "RICH", "datetime": "2025-03-03T12:00:00+03:00",
            "store_id": "S001", "redeem": {"points": 300},
            "lines": [{"line_no": 1, "sku": "SKU00803", "category": "meat/fresh_meat", "brand": "BR148", "qty": 1,
                       "unit_price": 200000, "amount": 200000}]}


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("live", [2], indirect=True)
def test_fifty_concurrent_confirms_never_spend_twice(live: Live) -> None:
    admin = Client(live.url, live.key())
    admin.create_customer(RICH)
    till = Client(live.url, live.key("S001"), timeout=60)
    receipts = [_spender(n) for n in range(50)]
    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(till.confirm, receipts))
        again = list(pool.map(till.confirm, receipts))  # every retry gets its stored answer
    assert again == answers
    spent = sum(a["outcome"]["payment"]["points"] for a in answers)
    accrued = sum(a["outcome"]["points_total"] for a in answers)
    state = admin.customer("RICH")["customer"]
    accounts = state["accounts"].values()
    lots = [lot for account in accounts for lot in account["lots"]]
    debt = sum(account["debt"] for account in accounts)
    assert 0 < spent <= 5000 + accrued + CREDIT, spent  # 50 x 300 asked for: only what there was went
    assert debt <= CREDIT and all(0 <= lot["left"] <= lot["points"] for lot in lots)
    issued = 5000 + accrued  # what every answer said, against what the state holds:
    assert issued == sum(account["balance"] for account in accounts) + spent  # + expired (0) + reversed (0)
    assert len(state["applied"]) == 50
    import psycopg
    with psycopg.connect(live.db) as conn:
        rows = conn.execute("SELECT ref, changes FROM journal WHERE customer = 'RICH'").fetchall()
    assert sorted(ref for ref, _ in rows) == sorted(r["receipt_id"] for r in receipts)  # each booked once
    taken = sum(c["points"] for _, text in rows for c in json.loads(text)
                if c["op"] in ("take", "debt") and c.get("reason") == "redeem")  # lots and borrowing
    assert taken == spent


# ---------------------------------------------------------------------------------- faults
def _stream(receipts: list[dict[str, Any]], known: set[str]) -> list[dict[str, Any]]:
    """The example's first purchases of known customers in time order, without coupons and certificates
    (which a till takes off when calculate rejects them)."""
    purchases = [r for r in receipts if not r.get("return_of") and r.get("customer_id") in known]
    purchases.sort(key=lambda r: (dt.datetime.fromisoformat(r["datetime"]), r["receipt_id"]))
    return [{k: v for k, v in r.items() if k not in ("coupons", "certificates")} for r in purchases[:60]]


def _confirm_all(till: dict[str, Client], stream: list[dict[str, Any]], live: Live, kills: set[int]) -> None:
    rng = random.Random(13)
    for index, receipt in enumerate(stream):
        client = till[receipt["store_id"]]
        if index in kills:
            killer = threading.Timer(rng.uniform(0.0, 0.03), live.kill)
            killer.start()
            # unanswered, or cut off (a connection reset, or an answer whose body the kill cut short): sent again below
            with suppress(OSError, ServerError, http.client.HTTPException):
                Client(client.url, client.key, timeout=5).confirm(receipt)  # no retries: the kill cuts it off
            killer.join()
            live.start()
        answer = client.confirm(receipt)  # the retry: applied once, whatever happened before
        assert answer["receipt_id"] == receipt["receipt_id"]


def test_sigkill_during_confirms_loses_and_doubles_nothing(live: Live, bundle: bytes, db_url: str, tmp_path: Path,
                                                          signing: tuple[bytes, bytes],
                                                          customers: list[dict[str, Any]],
                                                          receipts: list[dict[str, Any]]) -> None:
    stream = _stream(receipts, {c["id"] for c in customers})
    admin = Client(live.url, live.key(), retries=20, backoff=0.1)
    admin.import_customers(customers)
    stores = sorted({r["store_id"] for r in stream})
    till = {store: Client(live.url, live.key(store), retries=20, backoff=0.1) for store in stores}
    _confirm_all(till, stream, live, kills={5, 17, 30, 44})
    faulty = {c["id"]: admin.customer(c["id"])["customer"] for c in customers}

    calm_url = f"sqlite:///{tmp_path / 'calm.db'}" if db_url.startswith("sqlite") else _fresh(db_url)
    calm = Server(calm_url, bundle, signing[1])
    try:
        assert calm.post("/v1/customers/import", {"customers": customers}, calm.admin).status_code == 200
        for receipt in stream:
            assert calm.post("/v1/confirm", receipt).status_code == 200
        for customer in customers:
            assert faulty[customer["id"]] == calm.state(customer["id"]), customer["id"]
    finally:
        calm.close()


def _fresh(db_url: str) -> str:
    """Another empty PostgreSQL database on the same server."""
    import psycopg

    base, _, name = db_url.rpartition("/")
    name += "_calm"
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"{base}/{name}"


# ---------------------------------------------------------------------------------- metrics
@pytest.mark.parametrize("live", [2], indirect=True)
def test_metrics_sum_the_workers(live: Live) -> None:
    """With 2 workers a scrape, whichever worker answers it, counts every worker's requests."""
    import urllib.request

    for _ in range(30):
        Client(live.url, timeout=5).health()
    time.sleep(2.5)  # each worker publishes its counters at most once a second

    def scrape() -> str:
        with urllib.request.urlopen(f"{live.url}/v1/metrics", timeout=5) as response:
            return response.read().decode()

    for _ in range(6):  # the scrapes land on either worker
        text = scrape()
        assert 'loya_requests_total{endpoint="health",status="200"} ' in text
        counted = int(text.split('loya_requests_total{endpoint="health",status="200"} ')[1].split()[0])
        assert counted >= 30, text  # the start-up probes count too


# ---------------------------------------------------------------------------------- workers (workers.py)
def _connections(pid: int, port: int) -> int:
    """The established TCP connections on local ``port`` among process ``pid``'s open files (Linux /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01" and fields[9] in inodes:
                    count += 1
    return count


def _listening(port: int) -> int:
    """The listening TCP sockets on ``port`` (one per worker: workers.py)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                count += int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A"
    return count


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_REUSEPORT spreads connections on Linux")
@pytest.mark.parametrize("live", [2], indirect=True)
def test_two_workers_share_the_tills_connections(live: Live) -> None:
    """Each worker listens on its own socket of the port: 32 tills connecting at once end up with both
    workers (each at least 4 of the 32: a chance of about 1 in 100,000 to fail by the kernel's hash)."""
    import http.client

    assert live.process is not None
    deadline = time.monotonic() + START_SECONDS
    while _listening(live.port) < 2:  # the first worker answers health checks before the second listens
        assert time.monotonic() < deadline, "the second worker does not listen"
        time.sleep(0.1)
    tills = [http.client.HTTPConnection("127.0.0.1", live.port, timeout=10) for _ in range(32)]
    try:
        for till in tills:
            till.request("GET", "/v1/health")
            assert till.getresponse().read()
        children = [int(pid) for pid in Path(f"/proc/{live.process.pid}/task/{live.process.pid}/children")
                    .read_text().split()]
        held = sorted(filter(None, (_connections(pid, live.port) for pid in children)))  # not multiprocessing's helper
        assert len(held) == 2 and sum(held) == 32 and held[0] >= 4, held
    finally:
        for till in tills:
            till.close()


@pytest.mark.parametrize("live", [2], indirect=True)
def test_a_second_server_on_the_port_fails(live: Live, bundle_file: Path) -> None:
    """Sockets that share a port must not let a second `loya serve` share it unawares: it stops (as
    uvicorn does on a port in use)."""
    second = loya("serve", bundle_file, "--db", live.db, "--host", "127.0.0.1", "--port", str(live.port),
                  "--workers", "2")
    assert second.returncode == 1 and "cannot listen on 127.0.0.1:" in second.stderr, second.stderr
    assert Client(live.url, timeout=5).health()["status"] == "ok"
