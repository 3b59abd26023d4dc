"""The applied-ids memory (docs/state.md, "Idempotency"): ``applied`` remembers a receipt's, a return's
or a transfer's id (LOY510 when it is there already), ``unapplied`` is its inverse; the newest
``MAX_APPLIED_IDS`` are kept. Each is one record: read from JSON (``from_dict``), applied, inverted
and written back (``to_dict``).

Remembering an id costs O(1) in place (``apply_in_place``): the memory is written where it is, the
writes logged for a rollback; a pure ``apply`` copies it once (the input state is never touched)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from ..limits import MAX_APPLIED_IDS, MAX_TEXT_CHARS
from .applier import _FIRST, _LAST, _Applier, _Failed, _new, _str, _text, _time, _when
from .checks import _by_time, _when_then_id
from .jsontypes import _MISSING, iso


class Applied(NamedTuple):
    """Remember a receipt's or a return's id (``at``: its time); an id remembered already is refused
    (LOY510), so one outcome is never applied twice. Past ``MAX_APPLIED_IDS`` the oldest are forgotten."""

    id: str
    at: int
    receipt: str | None = None

    @classmethod
    def from_dict(cls, c: Mapping[str, Any]) -> Applied:
        key, at = _str(c, "id"), _time(c, "at")
        assert at is not None
        return _new(cls, (key, at, c.get("receipt")))

    def verify(self) -> None:
        """What ``from_dict`` checks, of a record the ledger made (its types right by construction)."""
        if len(self.id) > MAX_TEXT_CHARS or not _FIRST <= self.at <= _LAST:
            _text("id", self.id)
            _when("at", self.at)

    def to_dict(self) -> dict[str, Any]:
        return {"op": "applied", "id": self.id, "at": iso(self.at), "receipt": self.receipt}

    def apply(self, a: _Applier) -> None:
        key, at = self.id, self.at
        root = a.fields
        held: dict[str, int] = root["applied"]
        if key in held:
            raise _Failed(f"{key} was applied to customer {root['id']} already (at {iso(held[key])}); "
                          "applying it again would count it twice", "LOY510")
        newest = next(reversed(held), None)
        if newest is not None and (at, key) < (held[newest], newest):  # rare: an older id, out of order
            a.put(root, "applied", _remember(held, key, at))
            return
        held = a.own(root, "applied")
        if len(held) >= MAX_APPLIED_IDS:
            a.reorder_on_rollback(held, _when_then_id)
            while len(held) >= MAX_APPLIED_IDS:
                a.put(held, next(iter(held)), _MISSING)
        a.put(held, key, at)

    def invert(self, fields: dict[str, Any]) -> Unapplied:
        held = fields["applied"]
        kept = _remember(held, self.id, self.at)
        dropped = [[key, iso(when)] for key, when in {**held, self.id: self.at}.items() if key not in kept]
        return Unapplied(self.id, self.at, self.receipt, dropped)


def _remember(held: dict[str, int], key: str, at: int) -> dict[str, int]:
    """A new memory: ``held`` with ``key`` added, less the oldest past the bound."""
    out = _by_time({**held, key: at})
    while len(out) > MAX_APPLIED_IDS:
        del out[next(iter(out))]
    return out


class Unapplied(NamedTuple):
    """The inverse of ``applied``: forget the id and remember again the ids it made forget (``dropped``,
    ``[[id, at], ...]``)."""

    id: str
    at: Any = None
    receipt: str | None = None
    dropped: list[list[Any]] | None = None

    @classmethod
    def from_dict(cls, c: Mapping[str, Any]) -> Unapplied:
        dropped = c.get("dropped") or []
        if not isinstance(dropped, list) or not all(isinstance(p, list) and len(p) == 2 and type(p[0]) is str
                                                    for p in dropped):
            raise _Failed("dropped must be an array of [id, time]")
        at = c.get("at")
        return _new(cls, (_str(c, "id"), at, c.get("receipt"), dropped))

    def to_dict(self) -> dict[str, Any]:
        at = iso(self.at) if type(self.at) is int else self.at
        return {"op": "unapplied", "id": self.id, "at": at, "receipt": self.receipt, "dropped": self.dropped or []}

    def apply(self, a: _Applier) -> None:
        key = self.id
        held: dict[str, int] = dict(a.fields["applied"])
        dropped = self.dropped or []
        if key not in held and not any(pair[0] == key for pair in dropped):
            raise _Failed(f"{key} is not among the applied ids")
        held.pop(key, None)
        for old, when in dropped:
            if old != key:
                held[old] = _time({"at": when}, "at") or 0
        a.put(a.fields, "applied", _by_time(held))

    def invert(self, fields: dict[str, Any]) -> Applied:
        at = self.at if type(self.at) is int else _time({"at": self.at}, "at")
        assert at is not None
        return Applied(self.id, at, self.receipt)
