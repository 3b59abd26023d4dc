"""A property-based test against the OpenAPI document (issue 13): schemathesis generates requests for
every operation of docs/openapi.json, valid and not, and the server answers none of them with a 5xx;
every error it gives is problem+json with a LOY code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from srv_support import ROOT, Server

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is a test dependency")

OPENAPI = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))


@pytest.fixture
def served(tmp_path: Path, bundle: bytes, signing: tuple[bytes, bytes]) -> Iterator[Server]:
    srv = Server(f"sqlite:///{tmp_path / 'loya.db'}", bundle, signing[1])
    yield srv
    srv.close()


OPERATIONS = [(path, method.upper()) for path, item in sorted(OPENAPI["paths"].items()) for method in sorted(item)]


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_no_request_gets_a_server_error(path: str, method: str, served: Server) -> None:
    schema = schemathesis.openapi.from_dict(OPENAPI)
    schema.app = served.http.app

    @given(case=schema[path][method].as_strategy())
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def any_request(case: Any) -> None:
        body = case.body if isinstance(case.body, dict) else {}
        store = body.get("store_id")
        headers = served.till(store) if isinstance(store, str) and store else served.admin
        response = case.call(headers=headers)
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            kind = {k.lower(): v for k, v in response.headers.items()}.get("content-type") or [""]
            kind = kind[0] if isinstance(kind, list) else kind
            assert kind.startswith("application/problem+json"), response.text
            assert str(response.json().get("code", "")).startswith("LOY"), response.text

    any_request()
