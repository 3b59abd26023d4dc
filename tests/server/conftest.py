"""Fixtures of the processing server's tests: a signed bundle of the example programme, a store of each
backend (SQLite in a temp dir; PostgreSQL 15 started for the session by ``initdb`` + ``pg_ctl`` on
127.0.0.1 and a unix socket in a temp dir, as a non-root user), a processor and an in-process client."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from srv_support import BACKENDS, EXAMPLE, PG_BIN, Postgres, Server

from loyadsl.api import compile_file


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


@pytest.fixture
def server(db_url: str, bundle: bytes, signing: tuple[bytes, bytes], customers: list[dict[str, Any]]) -> Iterator[Server]:
    srv = Server(db_url, bundle, signing[1])
    answer = srv.post("/v1/customers/import", {"customers": customers}, srv.admin)
    assert answer.status_code == 200, answer.text
    yield srv
    srv.close()
