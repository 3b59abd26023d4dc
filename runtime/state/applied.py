"""The applied-ids memory (docs/state.md, "Idempotency"): ``applied`` remembers a receipt's, a return's
or a transfer's id (LOY510 when it is there already), ``unapplied`` is its inverse; the newest
``MAX_APPLIED_IDS`` are kept."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..limits import MAX_APPLIED_IDS
from .applier import _Applier, _Failed, _str, _time
from .checks import _by_time
from .jsontypes import iso


def _applied(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    """Remember a receipt's or a return's id (``at``: its time); an id remembered already is refused
    (LOY510), so one outcome is never applied twice. Past ``MAX_APPLIED_IDS`` the oldest are forgotten."""
    key, at = _str(c, "id"), _time(c, "at")
    assert at is not None
    held: dict[str, int] = root["applied"]
    if key in held:
        raise _Failed(f"{key} was applied to customer {root['id']} already (at {iso(held[key])}); "
                      "applying it again would count it twice", "LOY510")
    a.put(root, "applied", _remember(held, key, at))


def _remember(held: dict[str, int], key: str, at: int) -> dict[str, int]:
    """``held`` with ``key`` added, less the oldest past the bound."""
    newest = next(reversed(held), None)
    if newest is None or (at, key) > (held[newest], newest):
        out = {**held, key: at}  # the usual case: the newest
    else:
        out = _by_time({**held, key: at})
    while len(out) > MAX_APPLIED_IDS:
        del out[next(iter(out))]
    return out


def _unapplied(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    """The inverse of ``applied``: forget the id and remember again the ids it made forget (``dropped``,
    ``[[id, at], ...]``)."""
    key = _str(c, "id")
    held: dict[str, int] = dict(root["applied"])
    dropped = c.get("dropped") or []
    if not isinstance(dropped, list) or not all(isinstance(p, list) and len(p) == 2 and type(p[0]) is str
                                                for p in dropped):
        raise _Failed("dropped must be an array of [id, time]")
    if key not in held and not any(pair[0] == key for pair in dropped):
        raise _Failed(f"{key} is not among the applied ids")
    held.pop(key, None)
    for old, when in dropped:
        if old != key:
            held[old] = _time({"at": when}, "at") or 0
    a.put(root, "applied", _by_time(held))


