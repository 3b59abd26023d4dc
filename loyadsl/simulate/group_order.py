"""Observed order dependence between groups of equal priority (docs/collisions.md, "Observed order
dependence").

Groups run from the highest priority down, ties in declaration order: nothing in the programme says
that order was meant. For a programme with two or more groups of one priority, the replay evaluates
each receipt on which campaigns of two such groups fired once more, with every set of equal-priority
groups in the reverse order (same customer state, same budgets), and counts the receipts whose
totals differ: how often, the cost difference (reversed minus actual: discount plus the points'
money value), and the receipt with the largest difference as an example. A programme without ties
pays nothing per receipt.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from loyadsl.runtime import Engine, LoyaError
from loyadsl.runtime.bundle import Bundle
from loyadsl.runtime.model import Outcome, Receipt
from loyadsl.runtime.state import CustomerState

FIELDS = ("receipts_checked", "receipts_differing", "cost_difference", "cost_difference_abs", "max_abs")


class OrderTally:
    """tie (the equal-priority groups, declared order) -> figures, and the example per tie."""

    def __init__(self) -> None:
        self.ties: dict[tuple[str, ...], list[int]] = {}
        self.examples: dict[tuple[str, ...], tuple[int, str, int, int]] = {}  # -abs diff, receipt id, actual, reversed
        self._reversed: Engine | None = None
        self._tie_of: dict[str, tuple[str, ...]] = {}  # campaign -> its group's tie

    def begin(self, engine: Engine) -> None:
        """Build the engine with equal-priority groups reversed, when the programme has such groups."""
        b = engine.bundle
        ties = _ties(b)
        if not ties:
            return
        tie_of_group = {g: tie for tie in ties for g in tie}
        groups = {i: b.groups[i].name for i in range(len(b.groups))}
        self._tie_of = {c.name: tie_of_group[groups[c.group]] for c in b.campaigns if groups[c.group] in tie_of_group}
        self._reversed = Engine(reversed_ties(b), engine.max_cost)
        s = b.settings
        self._point_value, self._points_scale = s.point_value, 10**s.points_minor

    def check(self, receipt: Receipt, state: CustomerState | None, outcome: Outcome,
              **limits: Mapping[str, int] | None) -> None:
        """Compare the receipt's outcome with the reversed order's, if a campaign of a tied group fired
        on it (the other group's may fire only in the other order: a discount first can drop the receipt
        under its threshold). ``limits``: what the replay passed to ``Engine.evaluate`` (budgets, stock,
        redemptions), passed again."""
        if self._reversed is None:
            return
        ties = sorted({tie for name in _fired(outcome) if (tie := self._tie_of.get(name)) is not None})
        if not ties:
            return
        try:
            other = self._reversed.evaluate(receipt, state, **limits)  # type: ignore[arg-type]
        except LoyaError:  # the receipt was evaluated once already: the other order cannot refuse it
            return
        diff = self._cost(other) - self._cost(outcome)
        for tie in ties:
            row = self.ties.setdefault(tie, [0] * len(FIELDS))
            row[0] += 1
            if diff or other.discount_total != outcome.discount_total or other.points_total != outcome.points_total:
                row[1] += 1
                row[2] += diff
                row[3] += abs(diff)
                row[4] = max(row[4], abs(diff))
                example = (-abs(diff), receipt.receipt_id, self._cost(outcome), self._cost(other))
                if tie not in self.examples or example < self.examples[tie]:
                    self.examples[tie] = example

    def __getstate__(self) -> dict[str, Any]:
        """What a partition sends back from its worker: the figures, not the engine (which does not pickle)."""
        return {"ties": self.ties, "examples": self.examples}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]
        self.ties, self.examples = state["ties"], state["examples"]

    def _cost(self, outcome: Outcome) -> int:
        return outcome.discount_total + outcome.points_total * self._point_value // self._points_scale

    def merge(self, other: OrderTally) -> None:
        for tie, row in other.ties.items():
            mine = self.ties.setdefault(tie, [0] * len(FIELDS))
            for i in range(4):
                mine[i] += row[i]
            mine[4] = max(mine[4], row[4])
        for tie, example in other.examples.items():
            if tie not in self.examples or example < self.examples[tie]:
                self.examples[tie] = example


def section(tally: OrderTally) -> list[dict[str, Any]]:
    """The report's ``order_dependence``: one row per set of equal-priority groups that met on a receipt."""
    out = []
    for tie in sorted(tally.ties):
        row = dict(zip(FIELDS, tally.ties[tie], strict=True))
        example = tally.examples.get(tie)
        out.append({"groups": list(tie), **row,
                    "example": None if example is None else
                    {"receipt_id": example[1], "cost": example[2], "cost_reversed": example[3]}})
    return out


def has_ties(b: Bundle) -> bool:
    return bool(_ties(b))


def _ties(b: Bundle) -> list[tuple[str, ...]]:
    """The sets of two or more groups (with campaigns) that share a priority, each in declared order."""
    used = {c.group for c in b.campaigns}
    by_priority: dict[int, list[str]] = {}
    for i, g in enumerate(b.groups):
        if i in used:
            by_priority.setdefault(g.priority, []).append(g.name)
    return [tuple(names) for names in by_priority.values() if len(names) > 1]


def reversed_ties(b: Bundle) -> Bundle:
    """The bundle with every set of equal-priority groups in reverse order, all else as it was: the
    engine orders groups by (-priority, index), so priority p of group i becomes p·(n + 1) + i."""
    n = len(b.groups)
    groups = tuple(dataclasses.replace(g, priority=g.priority * (n + 1) + i) for i, g in enumerate(b.groups))
    return dataclasses.replace(b, groups=groups)


def _fired(outcome: Outcome) -> list[str]:
    return [*outcome.applied, *(r.campaign for r in outcome.rejected if r.reason == "lost_to_stacking")]
