"""Rewards' stock and usage limits in the simulation (simulate/limits.py): kept in the order of time
over all customers, however they are partitioned, exactly as a single host replaying every receipt
in that order keeps them (``RedemptionBook`` and ``StockLevels``, docs/limits-fraud.md)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyadsl.api import compile_file
from loyadsl.runtime import Engine, load_bundle
from loyadsl.runtime.redemptions import RedemptionBook
from loyadsl.runtime.state import CustomerState, StockLevels, apply
from loyadsl.simulate.run import Simulation

HERE = Path(__file__).parent / "data" / "limits"
BUNDLE, _ = compile_file(HERE / "programme.loya")
assert BUNDLE is not None


def simulate(receipts: Path, **options: Any) -> dict[str, Any]:
    assert BUNDLE is not None
    return Simulation(BUNDLE, [receipts], **options).run()


def test_the_first_uses_by_time_get_the_limits() -> None:
    r = simulate(HERE / "receipts.jsonl")
    # S1 on March 1st: A1 (C1, 10:00) and A2 (C2, 11:00) get 100.00 off; A3 and A4 come later. S2 has
    # its own count (A5). The mug's 3 units go to B1, B2, B3 by time; C3's second try (B4) gets none
    rows = {(x["kind"], x["campaign"], x["store"]): x for x in r["limits"]}
    assert rows["redemptions", "first_two", "S1"] == {
        "kind": "redemptions", "campaign": "first_two", "store": "S1", "day": "2025-03-01", "amount": 2, "used": 2,
        "left": 0, "exhausted_by": "A2"}
    assert (rows["redemptions", "first_two", "S2"]["used"], rows["redemptions", "first_two", "S2"]["left"]) == (1, 1)
    assert rows["stock", "mug", None] == {"kind": "stock", "campaign": "mug", "store": None, "day": None,
                                          "amount": 3, "used": 3, "left": 0, "exhausted_by": "B3"}
    campaigns = {c["name"]: c for c in r["campaigns"]}
    assert (campaigns["first_two"]["receipts"], campaigns["first_two"]["discount"]) == (3, 30000)
    assert campaigns["mug"]["receipts"] == 3
    assert r["input"]["quarantined"] == 0 and r["input"]["passes"] == 2


def test_a_unit_a_return_gives_back_goes_to_a_later_receipt() -> None:
    """C1 returns B3 on March 3rd: its mug goes back to stock, and C2's B5 on March 4th gets it,
    while C3's B4, before the return, still gets none."""
    r = simulate(HERE / "receipts_return.jsonl")
    (mug,) = [x for x in r["limits"] if x["kind"] == "stock"]
    assert (mug["used"], mug["left"], mug["exhausted_by"]) == (3, 0, "B3")  # 4 given, 1 given back
    assert r["requests"]["reward"] == {"requests": 5, "outcomes": {"given": 4, "refused": 1},
                                       "reasons": {"out_of_stock": 1}}
    assert r["input"]["quarantined"] == 0


def test_limits_are_kept_the_same_with_any_number_of_workers() -> None:
    one, two = simulate(HERE / "receipts.jsonl"), simulate(HERE / "receipts.jsonl", workers=2, partitions=3)
    for report in (one, two):
        for key in ("workers", "partitions"):
            report["input"].pop(key)
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)


def sequential(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """One host replaying every receipt in the order of time: the uses and stock in memory."""
    assert BUNDLE is not None
    engine = Engine(load_bundle(BUNDLE))
    book, stock = RedemptionBook(), StockLevels({"mug": 3})
    states: dict[str, CustomerState] = {}
    figures: dict[str, list[int]] = {}
    outcomes: dict[str, Any] = {}
    for row in sorted(rows, key=lambda d: (dt.datetime.fromisoformat(d["datetime"]), d["receipt_id"])):
        customer = row["customer_id"]
        state = states.setdefault(customer, CustomerState(id=customer))
        if "return_of" in row:  # a full return: its uses and units go back
            refund = engine.refund(outcomes[row["return_of"]], None, state,
                                   dt.datetime.fromisoformat(row["datetime"]), row["receipt_id"])
            book.commit(refund.changes)
            stock.apply(refund.changes)
            states[customer] = apply(state, list(refund.changes), engine.bundle.state)
            continue
        outcome = outcomes[row["receipt_id"]] = engine.evaluate(row, state, redemptions=book.used,
                                                                 stock=stock.left())
        changes = list(outcome.changes or ())
        book.commit(changes)
        stock.apply(changes)
        states[customer] = apply(state, changes, engine.bundle.state)
        for name in outcome.applied:
            figures.setdefault(name, [0, 0])[0] += 1
        for effect in outcome.effects:
            if effect[2] == "discount":
                figures.setdefault(effect[0], [0, 0])[1] += effect[5]
    return {"figures": figures, "used": book.used, "stock": stock.levels}


HISTORY = st.lists(st.tuples(st.sampled_from(["C1", "C2", "C3", "C4"]), st.integers(1, 2), st.integers(8, 20),
                             st.sampled_from(["S1", "S2"]), st.integers(300, 900), st.booleans(),
                             st.sampled_from([None, None, None, 1, 5])),  # returned after so many hours
                   min_size=1, max_size=18)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(HISTORY)
def test_a_simulation_keeps_the_limits_as_one_host_in_the_order_of_time(tmp_path_factory: Any,
                                                                         history: list[Any]) -> None:
    rows = []
    for n, (customer, day, hour, store, rub, mug, back) in enumerate(history):
        when = dt.datetime(2025, 3, day, hour, n, tzinfo=dt.timezone(dt.timedelta(hours=3)))
        row = {"receipt_id": f"R{n:02d}", "customer_id": customer, "datetime": when.isoformat(),
               "store_id": store, "lines": [{"line_no": 1, "sku": "X", "category": "food", "qty": 1,
                                             "unit_price": rub * 100, "amount": rub * 100}]}
        rows.append(row | ({"rewards": ["mug"]} if mug else {}))
        if back is not None:
            rows.append({"receipt_id": f"B{n:02d}", "customer_id": customer, "store_id": store, "lines": [],
                         "return_of": row["receipt_id"], "datetime": (when + dt.timedelta(hours=back)).isoformat()})
    path = tmp_path_factory.mktemp("limits") / "receipts.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    want = sequential(rows)
    report = simulate(path, partitions=3)
    assert report["input"]["quarantined"] == 0
    got = {c["name"]: [c["receipts"], c["discount"]] for c in report["campaigns"] if c["receipts"]}
    assert got == want["figures"]
    used = {(x["store"], x["day"]): x["used"] for x in report["limits"] if x["kind"] == "redemptions"}
    assert used == {tuple(json.loads(key)[1:]): n for key, n in want["used"].items()}
    (mug,) = [x for x in report["limits"] if x["kind"] == "stock"]
    assert mug["left"] == want["stock"]["mug"]
