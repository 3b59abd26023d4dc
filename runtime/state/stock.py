"""The stock of catalogue rewards (docs/rewards.md): programme-wide, like budgets, so the customer's
state ignores a ``stock`` change and the host keeps the levels.

``StockChange`` is the change record (one unit of a reward given: delta -1; a full return gives it
back: +1). ``StockLevels`` is the keeper an in-process host or a simulator uses: ``apply`` is all or
nothing and refuses a change that would take a level below zero (LOY564), which is what the
processing server does in the confirm transaction (``UPDATE ... SET left = left + delta WHERE
reward = ? AND left + delta >= 0``), so two tills racing for the last unit cannot both have it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from ..errors import StateError
from .applier import _Applier, _int, _new, _str


class StockChange(NamedTuple):
    """A catalogue reward given (``delta`` -1) or given back by a full return (+1): programme-wide, the
    host keeps stock; this state ignores it."""

    reward: str
    delta: int
    receipt: str | None = None

    @classmethod
    def from_dict(cls, c: Mapping[str, Any]) -> StockChange:
        return _new(cls, (_str(c, "reward"), _int(c, "delta"), c.get("receipt")))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": "stock", "reward": self.reward, "delta": self.delta}
        if self.receipt is not None:
            out["receipt"] = self.receipt
        return out

    def apply(self, a: _Applier) -> None:
        """Not this state's."""

    def invert(self, fields: dict[str, Any]) -> StockChange:
        return self._replace(delta=-self.delta)


class StockLevels:
    """What each stocked reward has left, programme-wide. ``levels`` maps a reward (its campaign's name)
    to units left; a reward missing from it has its declared stock (``declared``)."""

    def __init__(self, declared: Mapping[str, int], levels: Mapping[str, int] | None = None) -> None:
        self.declared = dict(declared)
        self.levels = {name: (levels or {}).get(name, stock) for name, stock in self.declared.items()}

    def left(self) -> dict[str, int]:
        """The mapping ``Engine.evaluate(..., stock=)`` takes."""
        return dict(self.levels)

    def apply(self, changes: Iterable[Mapping[str, Any]]) -> None:
        """Book the ``stock`` changes of an outcome or a refund, all or nothing: a change that would take
        a reward below zero (its last unit given between calculate and apply) or above its declared
        stock, or names a reward without stock, is refused with LOY564 and nothing is booked."""
        after = dict(self.levels)
        for i, change in enumerate(changes):
            if change.get("op") != "stock":
                continue
            c = StockChange.from_dict(change)
            if c.reward not in after:
                raise StateError(f"reward {c.reward!r} has no stock", f"changes[{i}]", "LOY564")
            level = after[c.reward] + c.delta
            if not 0 <= level <= self.declared[c.reward]:
                why = "is out of stock" if level < 0 else f"would hold more than its stock of {self.declared[c.reward]}"
                raise StateError(f"reward {c.reward!r} {why}: nothing is booked", f"changes[{i}]", "LOY564")
            after[c.reward] = level
        self.levels = after

    @staticmethod
    def invert(changes: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The stock changes that undo ``changes``' (in reverse order)."""
        return [StockChange.from_dict(c).invert({}).to_dict() for c in reversed(list(changes)) if c.get("op") == "stock"]
