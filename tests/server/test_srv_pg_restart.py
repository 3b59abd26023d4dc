"""PostgreSQL stopped and started again under the server: requests meanwhile fail with a clear 503
(LOY813, problem+json) and apply nothing; afterwards they succeed, and nothing confirmed is lost."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from srv_support import PG_BIN, Postgres, Server

BASE = json.loads((Path(__file__).parent / "data" / "bad_requests.json").read_text(encoding="utf-8"))["base"]


def test_a_database_restart_is_a_503_then_nothing_is_lost(bundle: bytes, signing: tuple[bytes, bytes],
                                                          customers: list[dict[str, Any]]) -> None:
    if not (PG_BIN / "postgres").is_file():
        pytest.skip(f"PostgreSQL binaries not found in {PG_BIN} (Debian: apt-get install postgresql)")
    cluster = Postgres()  # its own cluster: the session's is shared by the other tests
    server = Server(cluster.new_database(), bundle, signing[1])
    try:
        assert server.post("/v1/customers/import", {"customers": customers}, server.admin).status_code == 200
        first = server.post("/v1/confirm", {**BASE, "receipt_id": "PG-1"})
        assert first.status_code == 200
        cluster.stop("fast")
        down = server.post("/v1/confirm", {**BASE, "receipt_id": "PG-2"})
        assert (down.status_code, down.headers["content-type"]) == (503, "application/problem+json")
        assert down.json()["code"] == "LOY813" and "retry" in down.json()["detail"]
        cluster.start()
        again = server.post("/v1/confirm", {**BASE, "receipt_id": "PG-2"})
        assert again.status_code == 200, again.text
        assert server.post("/v1/confirm", {**BASE, "receipt_id": "PG-1"}).json() == first.json()
        applied = server.state(BASE["customer_id"])["applied"]
        assert "PG-1" in applied and "PG-2" in applied
    finally:
        server.close()
        cluster.stop("immediate")
        shutil.rmtree(cluster.dir, ignore_errors=True)
