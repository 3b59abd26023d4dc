"""What a programme declares about profile fields, purchase history and segments (the bundle's
``state.segments``, docs/segments.md), and its reader."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import BundleError

if TYPE_CHECKING:  # the model imports this module's vocabularies
    from .. import bundle_model as model

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


def from_json(s: model.Segments, n_predicates: int) -> SegmentDecls:
    """The section as the bundle model read it (types, ranges and vocabularies are the model's), checked
    for what a shape cannot say (LOY404 naming the place): every reference resolves, so the runtime trusts
    what it reads. Segment code is verified with the rest of the bytecode (``verify``)."""
    profile = tuple(ProfileField(f.name, f.type, f.slot, tuple(f.options)) for f in s.profile)
    for i, t in enumerate(s.tracks):
        if t.predicate >= n_predicates:
            raise _fail(f"tracks[{i}].predicate", f"index {t.predicate} out of range")
    tracks = tuple(Track(t.key, t.predicate) for t in s.tracks)
    fields = {f.name for f in profile}
    metrics = tuple(_metric(m, f"metrics[{i}]", len(tracks), fields) for i, m in enumerate(s.metrics))
    lc = s.lifecycle
    lifecycle = None if lc is None else Lifecycle(lc.new, lc.active, lc.sleeping)
    keys = {m.key for m in metrics}
    for i, x in enumerate(s.scores):
        if x.metric not in keys:
            raise _fail(f"scores[{i}].metric", f"names no metric of the bundle: {x.metric!r}")
    scores = tuple(Score(x.name, x.metric, tuple((b[0], b[1], b[2]) for b in x.bins)) for x in s.scores)
    segments = tuple(SegmentDef(x.name, x.title, tuple(map(tuple, x.code))) for x in s.segments)
    return SegmentDecls(profile, s.horizon, tracks, metrics, lifecycle, scores, segments)


def _metric(m: model.Metric, where: str, n_tracks: int, fields: set[str]) -> Metric:
    kind, track, field = m.kind, m.track, m.field
    if track is not None and track >= n_tracks:
        raise _fail(f"{where}.track", f"index {track} out of range")
    if kind in ("bought", "spent", "share") and track is None:
        raise _fail(where, f"a `{kind}` metric needs a tracked selection")
    if kind in ("age", "days_since", "filled", "flag", "count") and field not in fields:
        raise _fail(where, f"names no declared profile field: {field!r}")
    if kind in ("model", "model_has") and field is None:
        raise _fail(where, f"a `{kind}` metric names its score in `field`")
    return Metric(m.key, kind, m.days, track, field)
