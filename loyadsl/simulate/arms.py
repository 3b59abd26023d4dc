"""Experiment arms in a simulation (docs/experiments.md, "Simulate, then report").

Per experiment, each customer's arm and what the customer did: receipts, revenue (what was paid),
discount and points given. The report's ``experiments`` section lists them one row a customer, so
``loya ab report`` reads a simulation report directly. Partitions hold disjoint customers, so
tallies merge by addition. Receipts without a customer id are in no arm: they are only counted.
"""

from __future__ import annotations

from typing import Any

from loyadsl.runtime.bundle import Bundle
from loyadsl.runtime.experiments import BUCKETS
from loyadsl.runtime.model import Outcome, Receipt

CUSTOMER_FIELDS = ("customer", "arm", "receipts", "revenue", "discount", "points", "cost")


class ArmTally:
    """experiment -> customer -> [arm, receipts, revenue, discount, points]; experiment -> anonymous receipts."""

    def __init__(self) -> None:
        self.customers: dict[str, dict[str, list[Any]]] = {}
        self.anonymous: dict[str, int] = {}

    def count(self, receipt: Receipt, outcome: Outcome) -> None:
        if not outcome.arms:
            return
        for experiment, arm in outcome.arms.items():
            if arm is None or receipt.customer_id is None:
                self.anonymous[experiment] = self.anonymous.get(experiment, 0) + 1
                continue
            rows = self.customers.setdefault(experiment, {})
            row = rows.get(receipt.customer_id)
            if row is None:
                row = rows[receipt.customer_id] = [arm, 0, 0, 0, 0]
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


def section(tally: ArmTally, bundle: Bundle) -> list[dict[str, Any]]:
    """The report's ``experiments``: per experiment its arms (weight, customers, sums) and one row a
    customer (sorted by id), with ``cost`` = discount + the points' money value, in minor units."""
    out = []
    s = bundle.settings
    for x in bundle.experiments:
        rows = tally.customers.get(x.name, {})
        customers = []
        sums = {a.name: [0, 0, 0, 0, 0, 0] for a in x.arms}  # customers, receipts, revenue, discount, points, cost
        for customer in sorted(rows):
            arm, receipts, revenue, discount, points = rows[customer]
            cost = discount + points * s.point_value // 10**s.points_minor
            customers.append([customer, arm, receipts, revenue, discount, points, cost])
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
            "customer_fields": list(CUSTOMER_FIELDS),
            "customers": customers,
        })
    return out
