"""Experiment arms in a simulation (docs/experiments.md, "Simulate, then report").

Per experiment, each customer's arm and what the customer did: receipts, revenue (what was paid),
discount and points given. The report's ``experiments`` section lists them one row a customer, so
``loya ab report`` reads a simulation report directly. Partitions hold disjoint customers, so
tallies merge by addition. Receipts without a customer id are in no arm: they are only counted.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from loyadsl.runtime import Engine
from loyadsl.runtime.bundle import Bundle
from loyadsl.runtime.experiments import BUCKETS
from loyadsl.runtime.model import Outcome, Receipt
from loyadsl.simulate.arm_campaigns import ArmCampaigns
from loyadsl.simulate.pre_period import Starts, first_days

CUSTOMER_FIELDS = ("customer", "arm", "receipts", "revenue", "discount", "points", "cost")


class ArmTally:
    """experiment -> customer -> [arm, receipts, revenue, discount, points, pre]; experiment -> anonymous
    receipts. ``pre``: what the customer paid before the experiment's start (pre_period.py); the other
    sums count from the start on."""

    def __init__(self) -> None:
        self.customers: dict[str, dict[str, list[Any]]] = {}
        self.anonymous: dict[str, int] = {}
        self.campaigns = ArmCampaigns()  # the campaign table per arm (arm_campaigns.py)
        self.starts = Starts()  # where each experiment's pre-period ends (``begin``)

    def begin(self, engine: Engine) -> None:
        """Learn the experiments' starts from the programme (called by the replay before its first receipt)."""
        self.starts = Starts.of(engine)

    def count(self, receipt: Receipt, outcome: Outcome) -> None:
        if not outcome.arms:
            return
        before = self.starts.before(receipt)
        self.campaigns.count(receipt, outcome, before)
        for experiment, arm in outcome.arms.items():
            if arm is None or receipt.customer_id is None:
                self.anonymous[experiment] = self.anonymous.get(experiment, 0) + 1
                continue
            rows = self.customers.setdefault(experiment, {})
            row = rows.get(receipt.customer_id)
            if row is None:
                row = rows[receipt.customer_id] = [arm, 0, 0, 0, 0, 0]
            if experiment in before:
                row[5] += outcome.payable
                continue
            row[1] += 1
            row[2] += outcome.payable
            row[3] += outcome.discount_total
            row[4] += outcome.points_total

    def merge(self, other: ArmTally) -> None:
        for experiment, rows in other.customers.items():
            mine = self.customers.setdefault(experiment, {})
            for customer, row in rows.items():
                have = mine.get(customer)
                if have is None:
                    mine[customer] = list(row)
                else:
                    for i in range(1, len(row)):
                        have[i] += row[i]
        for experiment, count in other.anonymous.items():
            self.anonymous[experiment] = self.anonymous.get(experiment, 0) + count
        self.campaigns.merge(other.campaigns)


def section(tally: ArmTally, bundle: Bundle) -> list[dict[str, Any]]:
    """The report's ``experiments``: per experiment its arms (weight, customers, sums) and one row a
    customer (sorted by id), with ``cost`` = discount + the points' money value, in minor units."""
    out = []
    s = bundle.settings
    starts = first_days(bundle)
    for x in bundle.experiments:
        rows = tally.customers.get(x.name, {})
        customers = []
        sums = {a.name: [0, 0, 0, 0, 0, 0] for a in x.arms}  # customers, receipts, revenue, discount, points, cost
        start = starts.get(x.name)
        for customer in sorted(rows):
            arm, receipts, revenue, discount, points, pre = rows[customer]
            cost = discount + points * s.point_value // 10**s.points_minor
            customers.append([customer, arm, receipts, revenue, discount, points, cost, *([pre] if start else [])])
            total = sums[arm]
            for i, value in enumerate((1, receipts, revenue, discount, points, cost)):
                total[i] += value
        out.append({
            "name": x.name,
            "salt": x.salt,
            "anonymous_receipts": tally.anonymous.get(x.name, 0),
            "arms": [{"name": a.name, "weight_bp": a.weight, "share_ppm": a.weight * 1_000_000 // BUCKETS,
                      **dict(zip(("customers", "receipts", "revenue", "discount", "points", "cost"), sums[a.name],
                                 strict=True))}
                     for a in x.arms],
            "campaigns": tally.campaigns.rows(x.name, [a.name for a in x.arms], bundle),
            **({"start": dt.date.fromordinal(start).isoformat()} if start else {}),
            "customer_fields": [*CUSTOMER_FIELDS, *(["pre"] if start else [])],
            "customers": customers,
        })
    return out
