"""The campaign table split by experiment arm (docs/experiments.md, "Campaigns per arm").

Per experiment, arm and campaign: the receipts the campaign touched (applied to: a discount, points,
or an effect without money such as a stamp), the customers they belong to, the discount and points
it gave, its cost (discount + the points' money value), the revenue (amount paid) of those receipts
and the return on cost. A control arm's row of a campaign it is held out of stays empty, which is
the point: the arms' rows of one campaign side by side show what the split changed. Receipts
without a customer id are in no arm. Partitions hold disjoint customers, so tallies merge by
addition (the customer sets by union).
"""

from __future__ import annotations

from typing import Any

from loyadsl.runtime.bundle import Bundle
from loyadsl.runtime.model import Outcome, Receipt, Rows

FIELDS = ("receipts", "customers", "discount", "points", "cost", "revenue", "return_on_cost")


class ArmCampaigns:
    """(experiment, arm, campaign) -> [receipts, discount, points, revenue] and the customers' ids."""

    def __init__(self) -> None:
        self.sums: dict[tuple[str, str, str], list[int]] = {}
        self.customers: dict[tuple[str, str, str], set[str]] = {}

    def count(self, receipt: Receipt, outcome: Outcome, before: frozenset[str] = frozenset()) -> None:
        """``before``: the experiments that have not started yet (their pre-period is not counted)."""
        customer = receipt.customer_id
        if customer is None or not outcome.arms:
            return
        given: dict[str, list[int]] = {}  # campaign -> [discount, points]
        for name, _group, kind, _requested, _applied, total, _capped in (
                outcome.effects.rows if isinstance(outcome.effects, Rows) else outcome.effects):
            given.setdefault(name, [0, 0])[kind != "discount"] += total
        for name in outcome.applied:
            given.setdefault(name, [0, 0])
        for experiment, arm in outcome.arms.items():
            if arm is None or experiment in before:
                continue
            for name, (discount, points) in given.items():
                key = (experiment, arm, name)
                row = self.sums.get(key)
                if row is None:
                    row = self.sums[key] = [0, 0, 0, 0]
                    self.customers[key] = set()
                row[0] += 1
                row[1] += discount
                row[2] += points
                row[3] += outcome.payable
                self.customers[key].add(customer)

    def merge(self, other: ArmCampaigns) -> None:
        for key, row in other.sums.items():
            mine = self.sums.get(key)
            if mine is None:
                self.sums[key] = list(row)
                self.customers[key] = set(other.customers[key])
                continue
            for i, value in enumerate(row):
                mine[i] += value
            self.customers[key] |= other.customers[key]

    def rows(self, experiment: str, arms: list[str], bundle: Bundle) -> list[dict[str, Any]]:
        """One row per arm and campaign that touched a receipt in it: campaigns in programme order,
        then arms in declared order."""
        s = bundle.settings
        out = []
        for c in bundle.campaigns:
            for arm in arms:
                row = self.sums.get((experiment, arm, c.name))
                if row is None:
                    continue
                receipts, discount, points, revenue = row
                cost = discount + points * s.point_value // 10**s.points_minor
                out.append({"arm": arm, "campaign": c.name, "receipts": receipts,
                            "customers": len(self.customers[experiment, arm, c.name]), "discount": discount,
                            "points": points, "cost": cost, "revenue": revenue,
                            "return_on_cost": _ratio(revenue, cost) if cost > 0 else None})
        return out


def _ratio(numerator: int, denominator: int) -> str:
    """numerator/denominator with two decimals, rounded half up, exactly (as the campaign table's)."""
    hundredths = (2 * numerator * 100 // denominator + 1) // 2
    whole, frac = divmod(hundredths, 100)
    return f"{whole}.{frac:02d}"
