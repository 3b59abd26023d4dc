"""The ``redemption`` change: one use of a campaign's programme-wide usage limit (runtime/redemptions.py
holds the host's side: the key, the in-memory book, the refusal)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NamedTuple

from .applier import _Applier, _int, _new, _str

CAP = "@discount"  # a campaign's `usage` name + this: the discount a customer got under its cap per period


def redemption_key(campaign: str, store: str | None, day: str | None) -> str:
    """The one key of a limit's count: ``["spring", "S1", "2026-03-01"]`` as compact JSON (unambiguous
    whatever a store id holds); ``None`` for a scope the limit does not have."""
    return json.dumps([campaign, store, day], separators=(",", ":"), ensure_ascii=False)


class RedemptionChange(NamedTuple):
    """One use (``delta`` 1, or −1 when a full return gives it back) of a campaign's limit of ``limit``
    uses in its scope; programme-wide, so a customer's state ignores it."""

    campaign: str
    store: str | None
    day: str | None
    limit: int
    delta: int
    receipt: str | None = None

    @property
    def key(self) -> str:
        return redemption_key(self.campaign, self.store, self.day)

    @classmethod
    def from_dict(cls, c: Mapping[str, Any]) -> RedemptionChange:
        return _new(cls, (_str(c, "campaign"), _scope(c, "store"), _scope(c, "day"), _int(c, "limit"),
                          _int(c, "delta"), c.get("receipt")))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": "redemption", "campaign": self.campaign, "store": self.store, "day": self.day,
                               "limit": self.limit, "delta": self.delta}
        if self.receipt is not None:
            out["receipt"] = self.receipt
        return out

    def apply(self, a: _Applier) -> None:
        """Not this state's (the host keeps programme-wide counts)."""

    def invert(self, fields: dict[str, Any]) -> RedemptionChange:
        return self._replace(delta=-self.delta)


def _scope(change: Mapping[str, Any], key: str) -> str | None:
    """A scope's value: text, or null when the limit does not have that scope."""
    return None if change.get(key) is None else _str(change, key)
