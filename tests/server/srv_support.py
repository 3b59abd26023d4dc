"""What the server tests share besides fixtures (tests/server/conftest.py has those): the example's
paths, a PostgreSQL cluster in a temp dir, and an in-process server. A module of its own, with a
name no other test folder uses, so that test files import it without colliding with another
folder's conftest."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from itertools import count
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "supermarket"
# Debian's postgresql package (15 on bookworm; the newest installed version is taken)
PG_BIN = Path(os.environ.get("LOYA_PG_BIN") or max(Path("/usr/lib/postgresql").glob("*/bin"),
                                                    key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
                                                    default=Path("/usr/lib/postgresql/15/bin")))
BACKENDS = ["sqlite", "postgres"]
_databases = count(1)


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
