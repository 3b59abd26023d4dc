"""The server's state after a receipt history equals the state `loya simulate`'s replay computes for
the same history, customer by customer (both backends).

The history is the example's (purchases with redemption, coupons, certificates, family accounts,
referrals and returns) sent to the server in time order: each purchase calculated, its rejected
coupons taken off as a till would, then confirmed; each return sent to /v1/returns. The same
receipts, as confirmed, are then replayed by the simulator's ``PartitionReplay``, whose states are
captured when each household is done (before it runs the clocks to the end of history)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from srv_support import Server

from loyadsl.runtime import Engine, load_bundle
from loyadsl.simulate.replay import PartitionReplay
from loyadsl.simulate.run import households


class _Capture(PartitionReplay):
    """A replay that keeps every member's state as it is when the household's receipts are done."""

    final: dict[str, dict[str, Any]]

    def _finish_household(self) -> None:
        key = self._household
        if key is not None:
            for customer in self._members_of.get(key, ()):
                self._member(customer)
        for customer, member in self._members.items():
            self.final[customer] = member.state.to_dict()
        super()._finish_household()


def _send(server: Server, record: dict[str, Any], refused: list[str]) -> dict[str, Any] | None:
    """Book one record at the server as a till would; the record as booked, or None when refused."""
    if record.get("return_of") is not None:
        body = {"return_id": record["receipt_id"], "receipt_id": record["return_of"], "datetime": record["datetime"],
                "store_id": record["store_id"], "lines": [{"line_no": x["line_no"], "qty": x["qty"]}
                                                          for x in record.get("lines", [])] or None}
        answer = server.post("/v1/returns", {k: v for k, v in body.items() if v is not None})
        if answer.status_code != 200:
            refused.append(answer.text)
        return record if answer.status_code == 200 else None
    calculated = server.post("/v1/calculate", record)
    if calculated.status_code != 200:
        refused.append(calculated.text)
        return None
    outcome = calculated.json()["outcome"]
    rejected = {c["code"] for c in outcome.get("coupons") or () if c["status"] == "rejected"}
    rejected_certs = {c["code"] for c in (outcome.get("payment") or {}).get("certificates", ())
                      if c["status"] == "rejected"}
    if rejected or rejected_certs:  # the till takes them off and calculates again
        record = dict(record, coupons=[c for c in record["coupons"] if c not in rejected],
                      certificates=[c for c in record.get("certificates", []) if c["code"] not in rejected_certs])
        record = {k: v for k, v in record.items() if v != []}
        assert server.post("/v1/calculate", record).status_code == 200
    confirmed = server.post("/v1/confirm", record)
    assert confirmed.status_code in (200, 422), confirmed.text
    if confirmed.status_code != 200:
        refused.append(confirmed.text)
    return record if confirmed.status_code == 200 else None


def test_server_state_equals_the_simulators_customer_by_customer(
        server: Server, bundle: bytes, receipts: list[dict[str, Any]], customers: list[dict[str, Any]]) -> None:
    history = sorted(receipts, key=lambda r: (dt.datetime.fromisoformat(r["datetime"]), r["receipt_id"]))
    refused: list[str] = []
    booked = [b for b in (_send(server, record, refused) for record in history) if b is not None]
    assert len(refused) <= 5, refused[:3]
    assert sum(1 for b in booked if b.get("return_of")) == 3
    assert sum(1 for b in booked if b.get("redeem")) >= 5

    engine = Engine(load_bundle(bundle))
    states = {c["id"]: c for c in customers}
    groups = households(states)
    times = [dt.datetime.fromisoformat(r["datetime"]) for r in booked]
    replay = _Capture(engine, states, min(times), max(times), households=groups)
    replay.final = {}
    # the server runs the trigger chains at each confirm, the steps that came due since first
    # (loyadsl/server/chains.py, ``catch_up``), as the simulator does between a household's receipts; segment
    # changes by time alone, which the simulator also looks for at each midnight, are the server's ticks' work
    assert replay.chains is not None and not replay.chains.ticker.watch_segments
    order = sorted(booked, key=lambda r: (groups.get(r.get("customer_id") or "", r.get("customer_id") or ""),
                                          dt.datetime.fromisoformat(r["datetime"]), r["receipt_id"]))
    for record in order:
        replay.receipt(record)  # the simulator's own path for a receipt JSON (a purchase or a return)
    replay._finish_household()
    assert len(replay.final) >= 20
    for customer, expected in sorted(replay.final.items()):
        assert server.state(customer) == expected, f"customer {customer} differs"
