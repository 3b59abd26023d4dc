"""Bad requests, as data (data/bad_requests.json): each is answered with its HTTP status and LOY code
as application/problem+json, says nothing of the server's inside, and applies nothing (the journal,
the customers, the sessions and the stored answers are as before)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from srv_support import Server

DATA = json.loads((Path(__file__).parent / "data" / "bad_requests.json").read_text(encoding="utf-8"))
CASES = DATA["cases"]


def _content(case: dict[str, Any]) -> bytes | None:
    if "raw" in case:
        return b"[" * 10_000 if case["raw"] == "DEEP" else case["raw"].encode()
    if "raw_hex" in case:
        return bytes.fromhex(case["raw_hex"])
    if "size" in case:
        return b'{"receipt_id": "' + b"x" * case["size"] + b'"}'
    if "body" in case:
        return json.dumps(case["body"]).encode()
    if case.get("method", "POST") == "GET":
        return None
    body = {k: v for k, v in DATA["base"].items() if k not in case.get("drop", [])}
    return json.dumps({**body, **case.get("patch", {})}).encode()


def _key(server: Server, kind: str) -> dict[str, str]:
    return {"none": {}, "bogus": {"Authorization": "Bearer loya_not-a-key"}, "admin": server.admin,
            "till": server.till("S002"), "other_store": server.till("S999")}[kind]


def _snapshot(server: Server) -> list[Any]:
    with server.store.transaction() as tx:
        conn = tx.conn  # type: ignore[attr-defined]
        return [conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for table in ("journal", "customers", "sessions", "answers", "outcomes", "bundles")] + [
            conn.execute("SELECT state FROM customers WHERE id = 'C00000101'").fetchone()[0]]


@pytest.mark.parametrize("warm", [False, True], ids=["new key", "known key"])
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_bad_request_is_coded_and_applies_nothing(server: Server, case: dict[str, Any], warm: bool) -> None:
    before = _snapshot(server)
    key = _key(server, case.get("key", "till"))
    if warm and key:  # a key the server knows already: calculate and confirm take the hot path (hot.py)
        assert server.http.get("/v1/customers/C00000101", headers=key).status_code in (200, 401, 403)
    answer = server.http.request(case.get("method", "POST"), case["path"], content=_content(case),
                                 headers={**key, "Content-Type": "application/json"})
    status, code, *cause = case["expect"]
    assert (answer.status_code, answer.headers["content-type"]) == (status, "application/problem+json"), answer.text
    problem = answer.json()
    assert problem["code"] == code and problem["status"] == status, problem
    assert problem.get("cause") == (cause[0] if cause else None), problem
    assert problem["type"].endswith(f"/docs/codes/{code}.md") and problem["title"] and problem["detail"]
    assert "Traceback" not in answer.text and "/work/" not in answer.text and "SELECT" not in answer.text
    assert _snapshot(server) == before


def test_every_case_names_a_registered_code() -> None:
    from loyadsl.runtime.codes import CODES
    assert {c["expect"][1] for c in CASES} <= set(CODES)
