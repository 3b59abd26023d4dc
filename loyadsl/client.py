"""A Python client of the processing server (`loya serve`, docs/server.md), on the standard library.

    from loyadsl.client import Client
    till = Client("https://loyalty.example", key="loya_...")
    answer = till.calculate(receipt)            # show answer["outcome"] to the customer
    till.confirm(receipt)                       # when paid; or till.cancel(receipt["receipt_id"])
    till.refund("RET-1", receipt["receipt_id"], "2026-11-22T10:00:00+03:00", lines={1: 1})

Confirm, cancel and returns are idempotent (the receipt id, the return id): ``retries`` sends the same
request again after a lost connection or a 503, and the server applies it once. An error answer
raises ``ServerError`` with the server's code (LOY8xx), HTTP status and detail.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from loyadsl.runtime.errors import LoyaError

RETRY_STATUSES = (502, 503, 504)


class ServerError(LoyaError):
    """The server refused the request (``code`` LOY8xx, ``status``, ``cause``: the runtime's code)."""

    def __init__(self, status: int, problem: Mapping[str, Any]) -> None:
        super().__init__(str(problem.get("code", "LOY819")), str(problem.get("detail", f"HTTP {status}")))
        self.status = status
        self.cause = problem.get("cause")
        self.problem = dict(problem)


class Client:
    def __init__(self, url: str, key: str | None = None, timeout: float = 10.0, retries: int = 0,
                 backoff: float = 0.2) -> None:
        self.url = url.rstrip("/")
        self.key = key
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff

    # receipts
    def calculate(self, receipt: Mapping[str, Any]) -> dict[str, Any]:
        return self._json("POST", "/v1/calculate", receipt)

    def confirm(self, receipt: Mapping[str, Any]) -> dict[str, Any]:
        return self._json("POST", "/v1/confirm", receipt)

    def cancel(self, receipt_id: str, store_id: str | None = None) -> dict[str, Any]:
        return self._json("POST", "/v1/cancel", _some({"receipt_id": receipt_id, "store_id": store_id}))

    def refund(self, return_id: str, receipt_id: str, when: str, lines: Mapping[int, Any] | None = None,
               store_id: str | None = None) -> dict[str, Any]:
        """Return ``lines`` (line_no -> quantity; None: everything not yet returned) of a confirmed receipt."""
        body = _some({"return_id": return_id, "receipt_id": receipt_id, "datetime": when, "store_id": store_id,
                      "lines": None if lines is None else [{"line_no": n, "qty": q} for n, q in lines.items()]})
        return self._json("POST", "/v1/returns", body)

    # customers and bundles
    def customer(self, customer_id: str) -> dict[str, Any]:
        return self._json("GET", f"/v1/customers/{urllib.parse.quote(customer_id, safe='')}")

    def create_customer(self, state: Mapping[str, Any]) -> dict[str, Any]:
        return self._json("POST", "/v1/customers", state)

    def import_customers(self, states: list[Mapping[str, Any]]) -> dict[str, Any]:
        return self._json("POST", "/v1/customers/import", {"customers": list(states)})

    def upload_bundle(self, data: bytes) -> dict[str, Any]:
        return json.loads(self._send("POST", "/v1/bundles", data, "application/octet-stream"))

    def bundle(self) -> bytes:
        return self._send("GET", "/v1/bundles/current")

    def health(self) -> dict[str, Any]:
        return self._json("GET", "/v1/health")

    # plumbing
    def _json(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        answer: dict[str, Any] = json.loads(self._send(method, path, data, "application/json"))
        return answer

    def _send(self, method: str, path: str, data: bytes | None = None, media: str = "application/json") -> bytes:
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = media
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        request = urllib.request.Request(self.url + path, data, headers, method=method)
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    body: bytes = response.read()
                    return body
            except urllib.error.HTTPError as exc:
                text = exc.read()
                if exc.code in RETRY_STATUSES and not last:
                    time.sleep(self.backoff * (attempt + 1))
                    continue
                raise ServerError(exc.code, _problem(text, exc.code)) from None
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if last:
                    raise
                time.sleep(self.backoff * (attempt + 1))
        raise AssertionError("unreachable")


def _some(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


def _problem(text: bytes, status: int) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {"code": "LOY819", "detail": f"HTTP {status} without a problem document"}
    return value if isinstance(value, dict) else {"detail": str(value)}
