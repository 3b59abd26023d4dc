"""Fixtures of the processing server's tests: a signed bundle of the example programme, a store of each
backend (SQLite in a temp dir; PostgreSQL 15 started for the session by ``initdb`` + ``pg_ctl`` on
127.0.0.1 and a unix socket in a temp dir, as a non-root user), a processor and an in-process client."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from loyadsl.api import compile_file

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "supermarket"
# Debian's postgresql package (15 on bookworm; the newest installed version is taken)
PG_BIN = Path(os.environ.get("LOYA_PG_BIN") or max(Path("/usr/lib/postgresql").glob("*/bin"),
                                                    key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
                                                    default=Path("/usr/lib/postgresql/15/bin")))
BACKENDS = ["sqlite", "postgres"]
_databases = count(1)


@pytest.fixture(scope="session")
def signing() -> tuple[bytes, bytes]:
    """An Ed25519 key pair (private, public) as raw bytes."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return raw, key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@pytest.fixture(scope="session")
def bundle(signing: tuple[bytes, bytes]) -> bytes:
    data, result = compile_file(EXAMPLE / "programme.loya", signing_key=signing[0])
    assert data is not None, result.diagnostics
    return data


@pytest.fixture(scope="session")
def customers() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (EXAMPLE / "customers.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="session")
def receipts() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (EXAMPLE / "receipts.jsonl").read_text(encoding="utf-8").splitlines()]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Postgres:
    """A PostgreSQL cluster in a temp dir, run by a non-root user (PostgreSQL refuses root)."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="loya-pg-"))
        self.port = _free_port()
        self.user = "postgres" if os.getuid() == 0 else None
        if self.user:
            shutil.chown(self.dir, self.user)
        self.data = self.dir / "data"
        self._as_user([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                       "--no-sync", "-E", "UTF8"])
        self.start()

    def _as_user(self, args: list[str]) -> None:
        command = ["runuser", "-u", self.user, "--", *args] if self.user else args
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off -c max_connections=200"
        self._as_user([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"),
                       "-w", "start"])

    def stop(self, mode: str = "fast") -> None:
        self._as_user([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        import psycopg

        name = f"loya_{os.getpid()}_{next(_databases)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    if not (PG_BIN / "postgres").is_file():
        pytest.skip(f"PostgreSQL binaries not found in {PG_BIN} (Debian: apt-get install postgresql)")
    pytest.importorskip("psycopg", reason="the `serve` extra (psycopg) is not installed")
    cluster = Postgres()
    yield cluster
    cluster.stop("immediate")
    shutil.rmtree(cluster.dir, ignore_errors=True)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'loya.db'}"
    cluster: Postgres = request.getfixturevalue("postgres")
    return cluster.new_database()


class Server:
    """A processor over a fresh store with the example's signed bundle, served in-process."""

    def __init__(self, url: str, bundle: bytes, public: bytes, hold_seconds: int = 300) -> None:
        from starlette.testclient import TestClient

        from loyadsl.server.app import create_app
        from loyadsl.server.connect import open_store
        from loyadsl.server.processing import Processor

        self.store = open_store(url)
        self.store.upgrade()
        self.processor = Processor(self.store, [public], hold_seconds)
        self.processor.install_bundle(bundle)
        self.admin = {"Authorization": "Bearer " + self.processor.add_key("admin", None)}
        self._tills: dict[str, dict[str, str]] = {}
        self.http = TestClient(create_app(self.processor), raise_server_exceptions=False)
        self.http.__enter__()  # one event loop (and thread pool) for all the requests

    def till(self, store: str) -> dict[str, str]:
        if store not in self._tills:
            self._tills[store] = {"Authorization": "Bearer " + self.processor.add_key("till", store)}
        return self._tills[store]

    def post(self, path: str, body: Any, key: dict[str, str] | None = None) -> Any:
        if key is None:
            key = self.till(body["store_id"]) if isinstance(body, dict) and "store_id" in body else self.admin
        return self.http.post(path, json=body, headers=key)

    def state(self, customer: str) -> dict[str, Any]:
        answer = self.http.get(f"/v1/customers/{customer}", headers=self.admin)
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()["customer"]
        return result

    def journal_size(self) -> int:
        with self.store.transaction() as tx:
            return int(tx.conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0])  # type: ignore[attr-defined]

    def close(self) -> None:
        self.http.__exit__(None, None, None)
        self.store.close()


@pytest.fixture
def server(db_url: str, bundle: bytes, signing: tuple[bytes, bytes], customers: list[dict[str, Any]]) -> Iterator[Server]:
    srv = Server(db_url, bundle, signing[1])
    answer = srv.post("/v1/customers/import", {"customers": customers}, srv.admin)
    assert answer.status_code == 200, answer.text
    yield srv
    srv.close()
