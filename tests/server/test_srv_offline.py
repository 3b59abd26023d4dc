"""Offline batches: receipts a till evaluated offline are booked in time order, each with the bundle
version in force at its time, once (a batch sent again books nothing new), and one refused (a
payment by points, another store, an unknown customer) does not stop the others."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from srv_support import Server
from test_srv_protocol import _bundle

BASE = json.loads((Path(__file__).parent / "data" / "bad_requests.json").read_text(encoding="utf-8"))["base"]


def _offline(rid: str, when: str, **more: Any) -> dict[str, Any]:
    cash = {k: v for k, v in BASE.items() if k != "redeem"}
    return {**cash, "receipt_id": rid, "datetime": when, **more}


def test_offline_receipts_use_the_bundle_of_their_time(server: Server, signing: tuple[bytes, bytes]) -> None:
    switch = int(dt.datetime(2025, 2, 1, tzinfo=dt.UTC).timestamp())
    with server.store.transaction(write=True) as tx:
        tx.conn.execute("UPDATE bundles SET uploaded = 0")  # type: ignore[attr-defined]  # version 1: in force since 1970
    server.processor.clock = lambda: float(switch)
    assert server.http.post("/v1/bundles", content=_bundle(signing[0], "2025.3"), headers=server.admin).status_code == 201
    batch = [_offline("OFF-2", "2025-02-03T10:00:00+03:00"), _offline("OFF-1", "2025-01-20T10:00:00+03:00"),
             _offline("OFF-3", "2025-02-04T10:00:00+03:00", redeem={"points": 10}),
             _offline("OFF-4", "2025-02-05T10:00:00+03:00", store_id="S999"),
             _offline("OFF-5", "2025-02-06T10:00:00+03:00", customer_id="NOBODY")]
    answer = server.post("/v1/offline", {"receipts": batch}, server.till("S002"))
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [(r["receipt_id"], r["status"], r.get("bundle"), r.get("code")) for r in results] == [
        ("OFF-1", "confirmed", 1, None), ("OFF-2", "confirmed", 2, None), ("OFF-3", "refused", None, "LOY801"),
        ("OFF-4", "refused", None, "LOY804"), ("OFF-5", "refused", None, "LOY805")]
    journal = server.journal_size()
    again = server.post("/v1/offline", {"receipts": batch}, server.till("S002")).json()["results"]
    assert [r["outcome"] for r in again[:2]] == [r["outcome"] for r in results[:2]]
    assert server.journal_size() == journal
    applied = server.state(BASE["customer_id"])["applied"]
    assert "OFF-1" in applied and "OFF-2" in applied and "OFF-3" not in applied
