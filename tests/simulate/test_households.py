"""Households in the replay: a family account's members interleave in time and share one balance,
and a referral reward reaches the referrer's state (docs/simulate.md, "Households")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from loyadsl.api import compile_file
from loyadsl.simulate.run import Simulation, households

HERE = Path(__file__).parent / "data" / "households"


def simulate(**options: Any) -> dict[str, Any]:
    bundle, result = compile_file(HERE / "programme.loya")
    assert bundle is not None, result.diagnostics
    return Simulation(bundle, [HERE / "receipts.jsonl"], customers=HERE / "customers.jsonl", **options).run()


def test_households_join_shared_members_and_referrals() -> None:
    states = {"M1": {"shared": {"id": "F"}}, "M2": {"shared": {"id": "F"}}, "N1": {"referral": {"referred_by": "R0"}},
              "N2": {"referral": {"referred_by": "N1"}}, "Z": {}}
    assert households(states) == {"M1": "M1", "M2": "M1", "N1": "N1", "N2": "N1", "R0": "N1"}


def test_family_account_and_referral_by_hand() -> None:
    t = simulate()["totals"]
    # M2 100.00 -> 10 to the family account F; M1 500.00 -> 50 to F; M2 300.00 pays with all 60 of F
    # (under the 50% share) and earns 10% of the 240.00 left -> 24. N1's first purchase of 200.00 earns
    # 20, and the referral gives N1 200 and R0 300; R0 then pays 300 of 1000.00 by points, earns 70.
    assert (t["points_accrued"], t["points_referral"], t["points_redeemed"]) == (174, 500, 360)
    assert t["redeemed_money"] == 36_000
    # F (24, counted once for its two members) + N1 (220) + R0 (70); R0 had no state in the file
    assert (t["liability_start"], t["liability"], t["customers"]) == (0, 314, 4)
    assert t["cost"] == 67_400  # the referral's points are a cost too: (174 + 500) x 1.00 RUB


def test_households_give_the_same_report_with_any_number_of_workers() -> None:
    one, two = simulate(), simulate(workers=2, partitions=3)
    for report in (one, two):
        for key in ("workers", "partitions"):
            report["input"].pop(key)
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)
