"""Partner settlement in a simulation (docs/limits-fraud.md, "Partners"): per partner declared in the
programme header, the receipts of its channel, the points earned and spent there, and the money each
side owes at the partner's price per point. The report's ``settlement`` section and its grid."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from loyadsl.runtime.bundle_types import People
from loyadsl.runtime.model import Outcome, Receipt

if TYPE_CHECKING:
    pass

FIELDS = ("receipts", "points_earned", "points_spent")


def count(partners: dict[str, list[int]], people: People | None, receipt: Receipt, outcome: Outcome) -> None:
    if people is None or not any(p.name == receipt.channel for p in people.partners):
        return
    row = partners.setdefault(receipt.channel, [0] * len(FIELDS))
    row[0] += 1
    row[1] += outcome.points_total
    row[2] += int((outcome.payment or {}).get("points", 0))


def merge(mine: dict[str, list[int]], other: Mapping[str, list[int]]) -> None:
    for name, row in other.items():
        into = mine.setdefault(name, [0] * len(FIELDS))
        for i, value in enumerate(row):
            into[i] += value


def section(partners: Mapping[str, list[int]], people: People, points_scale: int) -> list[dict[str, Any]]:
    """Per declared partner (in the header's order): ``billed`` (what the partner pays for the points its
    receipts earned), ``owed`` (what the programme pays the partner for the points spent there), and
    ``net`` = billed − owed; money at the partner's price, rounded down per partner."""
    out = []
    for p in people.partners:
        receipts, earned, spent = partners.get(p.name, [0, 0, 0])
        billed, owed = earned * p.price // points_scale, spent * p.price // points_scale
        out.append({"partner": p.name, "rate_ppm": p.rate, "price": p.price, "receipts": receipts,
                    "points_earned": earned, "points_spent": spent, "billed": billed, "owed": owed,
                    "net": billed - owed})
    return out
