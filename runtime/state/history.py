"""The purchase history a customer state keeps when the programme has segments (docs/segments.md):
per-day buckets over a bounded horizon, per tracked line selection too, and all-time totals; and its
two change kinds, ``history`` (a receipt, or the part of it a return undoes) and ``history_prune``
(buckets leaving the horizon, from ``advance``). Both apply and invert exactly, so a receipt and its
full return leave the history as it was.

Every sum is commutative (buckets add up), so returns in any order undo their receipts; the first
and last purchase days are read from the buckets, and from ``first``/``last`` (the bounds of the
buckets pruned) once they have left the horizon."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from typing import Any, NamedTuple

from ..limits import MAX_VALUE
from .applier import _Applier, _Failed, _int, _new, over
from .history_record import EMPTY, MAX_TRACK_KEYS, History


def _history(a: _Applier) -> dict[str, Any]:
    """The history's fields, as a fresh dict the change may write (the record is replaced whole)."""
    h: History | None = a.fields.get("history")
    return dict((h or EMPTY).__dict__)


def _store(a: _Applier, fields: dict[str, Any]) -> None:
    empty = not fields["days"] and not fields["tracks"] and not fields["receipts"] and not fields["spend"] \
        and not fields["coupons"] and fields["first"] is None and fields["last"] is None
    a.put(a.fields, "history", None if empty else History.model_construct(**fields))


def _add(rows: list[Any], day: int, deltas: tuple[int, ...], what: str) -> list[Any]:
    """``rows`` with ``deltas`` added to the row of ``day`` (made when missing, dropped when all zero)."""
    out = list(rows)
    at = len(out) if not out or out[-1][0] < day else bisect_left(out, [day])  # rows sorted by day
    old = out[at][1:] if at < len(out) and out[at][0] == day else [0] * len(deltas)
    new = [o + d for o, d in zip(old, deltas, strict=True)]
    if min(new) < 0:
        raise _Failed(f"{what} of day {day} would be {new}: below zero")
    if max(new) > MAX_VALUE:
        raise over(max(new), what)
    if at < len(out) and out[at][0] == day:
        if any(new):
            out[at] = [day, *new]
        else:
            del out[at]
    elif any(new):
        out.insert(at, [day, *new])
    return out


class HistoryChange(NamedTuple):
    """A receipt's purchase (or the part of it a return takes back): ``receipts``, ``spend`` (minor
    units), ``coupons`` used, added to the totals and, with ``day``, to that day's bucket (null: the
    bucket has left the horizon); ``tracks``: per tracked selection ``{receipts, spend, lines?}``;
    ``lines``: the spend per receipt line (what a return undoes line by line)."""

    day: int | None
    receipts: int
    spend: int
    coupons: int = 0
    tracks: Mapping[str, Mapping[str, Any]] | None = None
    lines: Any = None
    receipt: str | None = None

    @classmethod
    def from_dict(cls, c: Mapping[str, Any]) -> HistoryChange:
        day = _int(c, "day") if c.get("day") is not None else None
        tracks = c.get("tracks")
        if tracks is not None and (not isinstance(tracks, Mapping) or not all(
                isinstance(v, Mapping) and type(v.get("receipts")) is int and type(v.get("spend")) is int
                for v in tracks.values())):
            raise _Failed("tracks must map each selection to {receipts, spend}")
        return _new(cls, (day, _int(c, "receipts"), _int(c, "spend"), _int(c, "coupons") if "coupons" in c else 0,
                          tracks, c.get("lines"), c.get("receipt")))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": "history", "day": self.day, "receipts": self.receipts, "spend": self.spend,
                               "coupons": self.coupons}
        if self.tracks:
            out["tracks"] = {k: dict(v) for k, v in self.tracks.items()}
        if self.lines is not None:
            out["lines"] = self.lines
        if self.receipt is not None:
            out["receipt"] = self.receipt
        return out

    def apply(self, a: _Applier) -> None:
        h = _history(a)
        for key, delta in (("receipts", self.receipts), ("spend", self.spend), ("coupons", self.coupons)):
            value = h[key] + delta
            if value < 0:
                raise _Failed(f"history {key} would be {value}")
            if value > MAX_VALUE:
                raise over(value, f"history {key}")
            h[key] = value
        if self.day is not None:
            h["days"] = _add(h["days"], self.day, (self.receipts, self.spend, self.coupons), "history")
            tracks = dict(h["tracks"])
            for key, t in (self.tracks or {}).items():
                rows = _add(tracks.get(key, []), self.day, (t["receipts"], t["spend"]), f"track {key!r}")
                if rows:
                    tracks[key] = rows
                else:
                    tracks.pop(key, None)
            if len(tracks) > MAX_TRACK_KEYS:
                raise _Failed(f"more than {MAX_TRACK_KEYS} tracked selections")
            h["tracks"] = tracks
        _store(a, h)

    def invert(self, fields: dict[str, Any]) -> HistoryChange:
        tracks = None if not self.tracks else {k: {"receipts": -v["receipts"], "spend": -v["spend"]}
                                               for k, v in self.tracks.items()}
        lines = None if self.lines is None else [[ln, -part] for ln, part in self.lines]
        return self._replace(receipts=-self.receipts, spend=-self.spend, coupons=-self.coupons, tracks=tracks,
                             lines=lines)


class HistoryPrune(NamedTuple):
    """Buckets before ``before`` (a local day) leave the horizon (``advance``): ``days`` and ``tracks``
    are the rows removed, ``first``/``last`` the pruned purchase bounds before and after, as
    ``[old, new]``. ``restore`` (its inverse) puts the rows back and the old bounds."""

    before: int
    days: tuple[Any, ...]
    tracks: Mapping[str, Any]
    first: tuple[int | None, int | None]
    last: tuple[int | None, int | None]
    restore: bool = False

    @classmethod
    def from_dict(cls, c: Mapping[str, Any]) -> HistoryPrune:
        try:
            days = tuple([int(x) for x in row] for row in c.get("days", ()))
            tracks = {str(k): tuple([int(x) for x in row] for row in rows)
                      for k, rows in dict(c.get("tracks") or {}).items()}
            first, last = tuple(c["first"]), tuple(c["last"])
        except (TypeError, ValueError, KeyError) as exc:
            raise _Failed(f"a history_prune needs days, tracks, first and last ({exc})") from None
        if len(first) != 2 or len(last) != 2:
            raise _Failed("first and last are [old, new]")
        return _new(cls, (_int(c, "before"), days, tracks, first, last, bool(c.get("restore", False))))

    def to_dict(self) -> dict[str, Any]:
        out = {"op": "history_prune", "before": self.before, "days": [list(r) for r in self.days],
               "tracks": {k: [list(r) for r in rows] for k, rows in self.tracks.items()},
               "first": list(self.first), "last": list(self.last)}
        if self.restore:
            out["restore"] = True
        return out

    def apply(self, a: _Applier) -> None:
        h = _history(a)
        old, new = (1, 0) if self.restore else (0, 1)
        if h["first"] != self.first[old] or h["last"] != self.last[old]:
            raise _Failed(f"the pruned bounds are {h['first']}, {h['last']}, not {self.first[old]}, {self.last[old]}")
        h["days"] = self._move(h["days"], self.days)
        tracks = dict(h["tracks"])
        for key, rows in self.tracks.items():
            moved = self._move(tracks.get(key, []), rows)
            if moved:
                tracks[key] = moved
            else:
                tracks.pop(key, None)
        h["tracks"] = tracks
        h["first"], h["last"] = self.first[new], self.last[new]
        _store(a, h)

    def _move(self, rows: list[Any], moved: tuple[Any, ...]) -> list[Any]:
        """Pruning: ``moved`` must be exactly the rows before ``before``; restoring puts them back first."""
        if self.restore:
            if rows and moved and rows[0][0] <= moved[-1][0]:
                raise _Failed("rows to restore overlap the history's")
            return [list(r) for r in (*moved, *rows)]
        head = [list(r) for r in rows if r[0] < self.before]
        if head != [list(r) for r in moved]:
            raise _Failed(f"the rows before day {self.before} are not the ones this change prunes")
        return list(rows[len(head):])

    def invert(self, fields: dict[str, Any]) -> HistoryPrune:
        return self._replace(restore=not self.restore)


def prune(history: History, before: int) -> dict[str, Any] | None:
    """The ``history_prune`` change that drops the buckets before day ``before``, or None."""
    days = [list(r) for r in history.days if r[0] < before]
    tracks = {k: [list(r) for r in rows if r[0] < before] for k, rows in history.tracks.items()}
    tracks = {k: rows for k, rows in tracks.items() if rows}
    if not days and not tracks:
        return None
    bought = [r[0] for r in days if r[1] > 0]
    first = min([*([history.first] if history.first is not None else []), *bought], default=None)
    last = max([*([history.last] if history.last is not None else []), *bought], default=None)
    return HistoryPrune(before, tuple(days), {k: tuple(rows) for k, rows in tracks.items()}, (history.first, first),
                        (history.last, last)).to_dict()
