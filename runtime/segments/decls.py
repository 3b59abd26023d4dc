"""What a programme declares about profile fields, purchase history and segments (the bundle's
``state.segments``, docs/segments.md), and its reader."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import BundleError

Code = tuple[tuple[Any, ...], ...]  # as ``bundle_types.Code`` (which imports the declarations, so not from there)

MAX_HORIZON = 730  # days of per-day purchase buckets a customer state may keep
MAX_TRACKS = 16  # line selections (`bought(category "coffee", ...)`) a programme may track
NEVER = 99_999  # recency() of a customer who never bought
PROFILE_TYPES = ("date", "dates", "string", "bool", "count", "one_of")
METRIC_KINDS = ("spend", "receipts", "recency", "ltv", "coupons", "bought", "spent", "share", "age", "days_since",
                "filled", "flag", "count", "lifecycle", "score",
                "model", "model_has")  # docs/offers.md: a model score from the state's `scores`, its presence
STAGES = ("new", "active", "sleeping", "churned")


@dataclass(frozen=True, slots=True)
class ProfileField:
    """A declared profile field and where the customer state keeps it (``slot``): ``birthday``,
    ``children_birthdays``, ``gender``, ``city``, ``registered``, ``registration_channel``,
    ``consents:NAME`` or ``attributes:NAME``."""

    name: str
    type: str  # PROFILE_TYPES
    slot: str
    options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Metric:
    """One value segment code reads (``METRIC key``): ``kind`` with its window in days, the index of a
    tracked line selection, or the profile field / lifecycle stage / score it is about."""

    key: str
    kind: str  # METRIC_KINDS
    days: int = 0
    track: int | None = None
    field: str | None = None


@dataclass(frozen=True, slots=True)
class Score:
    name: str
    metric: str  # the key of the metric it bins
    bins: tuple[tuple[int, int | None, int | None], ...]  # (score, low, high), inclusive, ascending


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """Days: first purchase within ``new`` -> new; last within ``active`` -> active; within
    ``sleeping`` -> sleeping; older -> churned; no purchase -> no stage."""

    new: int
    active: int
    sleeping: int


@dataclass(frozen=True, slots=True)
class Track:
    key: str  # the selection as written (`category "coffee"`): the customer state's key
    predicate: int  # index into the bundle's predicate table


@dataclass(frozen=True, slots=True)
class SegmentDef:
    name: str
    title: str | None
    code: Code  # an AUDIENCE block


@dataclass(frozen=True, slots=True)
class SegmentDecls:
    profile: tuple[ProfileField, ...] = ()
    horizon: int = 0  # days of purchase buckets kept; 0: the programme keeps no purchase history
    tracks: tuple[Track, ...] = ()
    metrics: tuple[Metric, ...] = ()
    lifecycle: Lifecycle | None = None
    scores: tuple[Score, ...] = ()
    segments: tuple[SegmentDef, ...] = ()

    @property
    def history(self) -> bool:
        """Whether the programme keeps purchase history (a ``history`` change per receipt)."""
        return self.horizon > 0

    def field(self, name: str) -> ProfileField:
        return next(f for f in self.profile if f.name == name)


# ------------------------------------------------------------------------------------------ JSON


def to_json(d: SegmentDecls, code: list[list[Any]]) -> dict[str, Any]:
    """The bundle's ``state.segments``; ``code`` holds each segment's emitted block."""
    return {
        "profile": [{"name": f.name, "type": f.type, "slot": f.slot, "options": list(f.options)} for f in d.profile],
        "horizon": d.horizon,
        "tracks": [{"key": t.key, "predicate": t.predicate} for t in d.tracks],
        "metrics": [{"key": m.key, "kind": m.kind, "days": m.days, "track": m.track, "field": m.field}
                    for m in d.metrics],
        "lifecycle": None if d.lifecycle is None else {"new": d.lifecycle.new, "active": d.lifecycle.active,
                                                       "sleeping": d.lifecycle.sleeping},
        "scores": [{"name": s.name, "metric": s.metric, "bins": [list(b) for b in s.bins]} for s in d.scores],
        "segments": [{"name": s.name, "title": s.title, "code": block} for s, block in zip(d.segments, code,
                                                                                            strict=True)],
    }


def _fail(where: str, message: str) -> BundleError:
    return BundleError("LOY404", message, f"state.segments.{where}")


def _get(obj: Any, key: str, where: str) -> Any:
    if not isinstance(obj, Mapping) or key not in obj:
        raise _fail(where, f"needs `{key}`")
    return obj[key]


def _int(value: Any, where: str, low: int, high: int, none: bool = False) -> Any:
    if value is None and none:
        return None
    if type(value) is not int or not low <= value <= high:
        raise _fail(where, f"must be a whole number from {low} to {high}, got {value!r}")
    return value


def _text(value: Any, where: str, none: bool = False) -> Any:
    if value is None and none:
        return None
    if not isinstance(value, str) or not value or len(value) > 200:
        raise _fail(where, f"must be a text of 1 to 200 characters, got {value!r}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list) or len(value) > 1000:
        raise _fail(where, "must be a list (at most 1000 items)")
    return value


def from_json(s: Any, n_predicates: int) -> SegmentDecls:
    """Read and check the section (LOY404 naming the place): every reference resolves, so the runtime
    trusts what it reads. Segment code is verified with the rest of the bytecode (``verify``)."""
    profile = tuple(
        ProfileField(_text(_get(f, "name", f"profile[{i}]"), f"profile[{i}].name"),
                     _choice(_get(f, "type", f"profile[{i}]"), f"profile[{i}].type", PROFILE_TYPES),
                     _text(_get(f, "slot", f"profile[{i}]"), f"profile[{i}].slot"),
                     tuple(_text(o, f"profile[{i}].options") for o in _list(_get(f, "options", f"profile[{i}]"),
                                                                             f"profile[{i}].options")))
        for i, f in enumerate(_list(_get(s, "profile", ""), "profile")))
    horizon = _int(_get(s, "horizon", ""), "horizon", 0, MAX_HORIZON)
    tracks = tuple(Track(_text(_get(t, "key", f"tracks[{i}]"), f"tracks[{i}].key"),
                         _int(_get(t, "predicate", f"tracks[{i}]"), f"tracks[{i}].predicate", 0, n_predicates - 1))
                   for i, t in enumerate(_list(_get(s, "tracks", ""), "tracks")))
    if len(tracks) > MAX_TRACKS:
        raise _fail("tracks", f"at most {MAX_TRACKS} tracked selections")
    fields = {f.name for f in profile}
    metrics = tuple(_metric(m, f"metrics[{i}]", len(tracks), fields) for i, m in enumerate(_list(_get(s, "metrics", ""),
                                                                                                  "metrics")))
    lc = _get(s, "lifecycle", "")
    lifecycle = None if lc is None else Lifecycle(*(_int(_get(lc, k, "lifecycle"), f"lifecycle.{k}", 1, 100_000)
                                                    for k in ("new", "active", "sleeping")))
    keys = {m.key for m in metrics}
    scores = tuple(
        Score(_text(_get(x, "name", f"scores[{i}]"), f"scores[{i}].name"),
              _key(_get(x, "metric", f"scores[{i}]"), f"scores[{i}].metric", keys),
              tuple(_bin(b, f"scores[{i}].bins[{j}]") for j, b in enumerate(_list(_get(x, "bins", f"scores[{i}]"),
                                                                                  f"scores[{i}].bins"))))
        for i, x in enumerate(_list(_get(s, "scores", ""), "scores")))
    segments = tuple(
        SegmentDef(_text(_get(x, "name", f"segments[{i}]"), f"segments[{i}].name"),
                   _text(_get(x, "title", f"segments[{i}]"), f"segments[{i}].title", none=True),
                   _code(_get(x, "code", f"segments[{i}]"), f"segments[{i}].code"))
        for i, x in enumerate(_list(_get(s, "segments", ""), "segments")))
    return SegmentDecls(profile, horizon, tracks, metrics, lifecycle, scores, segments)


def _choice(value: Any, where: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise _fail(where, f"must be one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def _key(value: Any, where: str, keys: set[str]) -> str:
    if value not in keys:
        raise _fail(where, f"names no metric of the bundle: {value!r}")
    return str(value)


def _bin(b: Any, where: str) -> tuple[int, int | None, int | None]:
    if not isinstance(b, list) or len(b) != 3:
        raise _fail(where, "a bin is [score, low, high]")
    return (_int(b[0], where, 0, 999), _int(b[1], where, -10**15, 10**15, none=True),
            _int(b[2], where, -10**15, 10**15, none=True))


def _metric(m: Any, where: str, n_tracks: int, fields: set[str]) -> Metric:
    kind = _choice(_get(m, "kind", where), f"{where}.kind", METRIC_KINDS)
    track = _int(_get(m, "track", where), f"{where}.track", 0, max(n_tracks - 1, 0), none=True)
    if kind in ("bought", "spent", "share") and (track is None or not n_tracks):
        raise _fail(where, f"a `{kind}` metric needs a tracked selection")
    field = _text(_get(m, "field", where), f"{where}.field", none=True)
    if kind in ("age", "days_since", "filled", "flag", "count") and field not in fields:
        raise _fail(where, f"names no declared profile field: {field!r}")
    if kind in ("model", "model_has") and field is None:
        raise _fail(where, f"a `{kind}` metric names its score in `field`")
    return Metric(_text(_get(m, "key", where), f"{where}.key"), kind,
                  _int(_get(m, "days", where), f"{where}.days", 0, MAX_HORIZON), track, field)


def _code(value: Any, where: str) -> Code:
    """The block as given: the bundle loader reads its instructions like any code (``bundle._code``)."""
    return tuple(_list(value, where))
