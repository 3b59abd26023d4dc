"""The ``chain`` change (docs/triggers.md, "State"): a trigger chain's record replaced whole, ``from``
the record held (null: none) ``to`` the new one (null: removed). ``apply`` checks ``from``, so a
change made for another state is refused; ``invert`` swaps the two."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from ..limits import MAX_TEXT_CHARS
from .applier import _Applier, _Failed, _new, _str, too_long
from .chain_record import ChainState
from .jsontypes import _MISSING, iso


def _record(value: Any, key: str) -> ChainState | None:
    if value is None:
        return None
    if isinstance(value, ChainState):
        return value
    if not isinstance(value, dict):
        raise _Failed(f"{key} must be a chain record or null")
    if isinstance(value.get("key"), str) and len(value["key"]) > MAX_TEXT_CHARS:
        raise too_long(f"{key}.key", value["key"])
    try:
        return ChainState.model_validate(value)
    except ValueError as exc:
        raise _Failed(f"{key}: {exc.errors()[0]['msg'] if hasattr(exc, 'errors') else exc}") from None


def record_dict(record: ChainState | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return {"key": record.key, "entered": iso(record.entered), "step": record.step,
            "due": None if record.due is None else iso(record.due), "bought": record.bought,
            "sent": [iso(t) for t in record.sent]}


class ChainChange(NamedTuple):
    """A trigger chain's record goes ``from`` → ``to`` (entered, a step run, a purchase seen, ended)."""

    trigger: str
    old: ChainState | None
    new: ChainState | None
    at: str | None = None  # ISO time the change was made (information only)

    @classmethod
    def from_dict(cls, c: Mapping[str, Any]) -> ChainChange:
        return _new(cls, (_str(c, "trigger"), _record(c.get("from"), "from"), _record(c.get("to"), "to"),
                          c.get("at")))

    def to_dict(self) -> dict[str, Any]:
        out = {"op": "chain", "trigger": self.trigger, "from": record_dict(self.old), "to": record_dict(self.new)}
        if self.at is not None:
            out["at"] = self.at
        return out

    def apply(self, a: _Applier) -> None:
        chains = a.own(a.fields, "chains")
        held = chains.get(self.trigger)
        if held != self.old:
            raise _Failed(f"the chain {self.trigger!r} is not in the state the change was made from")
        a.put(chains, self.trigger, _MISSING if self.new is None else self.new)

    def invert(self, fields: dict[str, Any]) -> ChainChange:
        return self._replace(old=self.new, new=self.old)
