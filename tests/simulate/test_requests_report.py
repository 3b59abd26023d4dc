"""The report accounts for every request a receipt makes (issue 16, item 5): each redemption, coupon and
certificate presented is counted once with what it got, and the report states its assumptions."""

from __future__ import annotations

import json
from pathlib import Path

from loyadsl.api import compile_file
from loyadsl.simulate.render import assumption_grid, request_grid
from loyadsl.simulate.run import Simulation

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "supermarket"


def test_every_request_is_counted_with_its_outcome() -> None:
    bundle, _ = compile_file(EXAMPLE / "programme.loya")
    assert bundle is not None
    report = Simulation(bundle, [EXAMPLE / "receipts.jsonl"], customers=EXAMPLE / "customers.jsonl").run()
    sales = [r for r in map(json.loads, (EXAMPLE / "receipts.jsonl").read_text(encoding="utf-8").splitlines())
             if "return_of" not in r]
    assert report["input"]["quarantined"] == 0
    asked = {"redemption": sum(1 for r in sales if r.get("redeem") is not None),
             "coupon": sum(len(r.get("coupons") or ()) for r in sales),
             "certificate": sum(len(r.get("certificates") or ()) for r in sales)}
    got = report["requests"]
    for what, count in asked.items():
        assert got[what]["requests"] == count == sum(got[what]["outcomes"].values()), what
    assert got["redemption"]["outcomes"] == {"in_full": 9, "limited": 2}
    assert got["redemption"]["reasons"] == {"balance": 1, "max_share": 1}
    assert got["coupon"]["outcomes"]["redeemed"] == report["totals"]["coupons_redeemed"]
    rows = {row[0].text: row for row in request_grid(report).rows}
    assert rows["Points redemption"][3].text == "limited 2 (balance 1, max_share 1)"
    stated = " ".join(row[0].text for row in assumption_grid(report).rows)
    assert "No behavioural response" in stated and "1.00 RUB a point" in stated
