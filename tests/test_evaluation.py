"""`loya eval` over several receipts (loyadsl/evaluation.py): in the order of time, each customer's
state carried on, returns refunded against their originals, results in the file's order."""

from __future__ import annotations

from typing import Any

from loyadsl.api import compile_text
from loyadsl.evaluation import Evaluation
from loyadsl.runtime import Engine, LoyaError, load_bundle

PROGRAMME = '''programme "P" version "1" {
    currency RUB minor 2
    points minor 0 value 1.00 RUB
    timezone "UTC"
}
account bonus { activation 0 days  expiry never  spend soonest_expiring  default }
redemption {
    accounts bonus
    max share 100%
    min payment 0 RUB
}
group g { priority 1  stacking stack_all  basis original }
campaign cashback "Cashback" { group g  then accrue 10% on receipt }
campaign bulk "Bulk" { group g  when receipt.total >= 100.00 RUB  then discount 5% on receipt }
'''


def _receipt(rid: str, when: str, card: str | None, amount: int = 10000, **more: Any) -> dict[str, Any]:
    r = {"receipt_id": rid, "datetime": f"2026-03-0{when}T12:00:00+00:00", "store_id": "S1",
         "lines": [{"line_no": 1, "sku": "A", "category": "x", "qty": 1, "unit_price": amount, "amount": amount}],
         **more}
    if card is not None:
        r["customer_id"] = card
    return r


def _engine() -> Engine:
    data, result = compile_text(PROGRAMME, "p.loya")
    assert data is not None, result.diagnostics
    return Engine(load_bundle(data))


def test_time_order_state_carried_and_returns_refunded() -> None:
    items = [("f:1", _receipt("R2", "3", "C1", redeem={"points": 5})),  # later: spends points R1 gave
             ("f:2", _receipt("R1", "1", "C1")),                # first in time: 10% of 100.00 = 10 points
             ("f:3", {"receipt_id": "X1", "return_of": "R1", "datetime": "2026-03-04T12:00:00+00:00",
                      "store_id": "S1", "customer_id": "C1", "lines": []}),
             ("f:4", {"receipt_id": "X2", "return_of": "NOPE", "datetime": "2026-03-04T12:00:00+00:00",
                      "store_id": "S1", "lines": []}),
             ("f:5", LoyaError("LOY501", "unreadable", "f:5"))]
    people: dict[str, Any] = {}
    run = Evaluation(_engine(), people).all(items)
    assert [o["receipt_id"] for o in run.outcomes] == ["R2", "R1"]  # the file's order
    r2, r1 = run.outcomes
    assert r1["points_total"] == 10 and r2["payment"]["points"] == 5  # R2 saw R1's points: time order
    [refund] = run.refunds
    assert (refund["receipt_id"], refund["money"], refund["full"]) == ("R1", 9500, True)
    # R1's lot had 10 points, R2 spent 5 of them: the return takes back the 5 left and reports the
    # other 5 as a shortfall (docs/state.md, section 7); R2's own lot (10% of 95.00 paid, floor: 9) stays
    assert {"op": "take", "account": "bonus", "lot": "R1:bonus:cashback", "points": 5, "reason": "return",
            "shared": False, "receipt": "R1"} in refund["changes"]
    assert [s["points"] for s in refund["shortfall"]] == [5]
    assert run.unmatched == ["NOPE"]
    assert [p["where"] for p in run.problems] == ["f:5"]
    assert people["C1"].accounts["bonus"].balance == 9

def test_a_return_needs_an_outcome_with_state() -> None:
    """A stateless outcome has no payment record to refund from: the return is refused with the
    engine's reason (LOY503), the sale stands."""
    stateless = PROGRAMME[:PROGRAMME.index("account bonus")] + PROGRAMME[PROGRAMME.index("group g"):].replace(
        "then accrue 10% on receipt", "then discount 1% on receipt")
    data, _ = compile_text(stateless, "p.loya")
    assert data is not None
    items = [("f:1", _receipt("R1", "1", None)),
             ("f:2", {"receipt_id": "X1", "return_of": "R1", "datetime": "2026-03-02T12:00:00+00:00",
                      "store_id": "S1", "lines": [{"line_no": 1, "qty": 1}]})]
    run = Evaluation(Engine(load_bundle(data)), {}).all(items)
    assert len(run.outcomes) == 1 and run.refunds == []
    assert [(p["where"], p["code"]) for p in run.problems] == [("f:2", "LOY503")]
    assert "evaluated without customer state" in run.problems[0]["message"]
