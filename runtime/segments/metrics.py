"""What segment code reads about a customer at a local day (docs/segments.md): the metrics (history
windows, recency, LTV, lifecycle stages, scores, profile numbers and flags) and the text profile fields.

Every window counts the local days ``today - days + 1 .. today``: ``spend(30 days)`` on 2026-11-30 is
the spend of 2026-11-01 to 2026-11-30. A metric's cost is bounded by the horizon (one pass over at
most ``horizon`` buckets per window)."""

from __future__ import annotations

import datetime as dt

from ..errors import CustomerError
from ..state.history_record import EMPTY, History
from ..state.records import CustomerState
from .decls import NEVER, Metric, ProfileField, SegmentDecls
from .model_scores import model_number

PPM = 1_000_000


class ProfileError(CustomerError):
    """A customer's profile value does not fit its declared type (LOY530)."""

    def __init__(self, message: str, where: str | None = None) -> None:
        super().__init__(message, where, "LOY530")


# ----------------------------------------------------------------------------------------- profile


def raw(state: CustomerState, f: ProfileField) -> object:
    """The stored value of a declared field (None when not filled), from its slot."""
    kind, _, name = f.slot.partition(":")
    if kind == "consents":
        return state.consents.get(name)
    if kind == "attributes":
        return state.attributes.get(name)
    value = getattr(state, kind)
    return value if value != [] else None


def _dates(state: CustomerState, f: ProfileField) -> list[dt.date]:
    value = raw(state, f)
    if value is None:
        return []
    if isinstance(value, dt.date):
        return [value]
    if isinstance(value, list):
        return list(value)
    try:  # a custom field kept as text in `attributes`: ISO dates, comma-separated
        return [dt.date.fromisoformat(part.strip()) for part in str(value).split(",")]
    except ValueError:
        raise ProfileError(f"profile field `{f.name}` is a {f.type}; {value!r} is not one (YYYY-MM-DD)",
                           f.slot.replace(":", ".")) from None


def _years(born: dt.date, today: dt.date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def profile_number(state: CustomerState, f: ProfileField, kind: str, today: int) -> int:
    """``age`` (whole years; of the youngest for a list; -1 when not filled), ``days_since`` (-1 when not
    filled), ``filled`` (1/0), ``flag`` (a bool field: 1/0), ``count`` (a count field: its value, 0 when
    not filled)."""
    value = raw(state, f)
    if kind == "filled":
        return int(value is not None and value != "")
    if kind == "flag":
        if value is None or isinstance(value, bool):
            return int(bool(value))
        if value in ("true", "false"):
            return int(value == "true")
        raise ProfileError(f"profile field `{f.name}` is a bool; {value!r} is neither \"true\" nor \"false\"",
                           f.slot.replace(":", "."))
    if kind == "count":
        if value is None:
            return 0
        if not (isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 15):
            raise ProfileError(f"profile field `{f.name}` is a count; {value!r} is not a whole number",
                               f.slot.replace(":", "."))
        return int(value)
    dates = _dates(state, f)
    if not dates:
        return -1
    day = dt.date.fromordinal(today)
    if kind == "age":
        return min(_years(born, day) for born in dates)
    return today - max(dates).toordinal()  # days_since


def profile_texts(state: CustomerState, fields: tuple[ProfileField, ...]) -> dict[str, str]:
    """The text fields (``string``, ``one_of``), "" when not filled; a one_of value outside its options
    is LOY530."""
    out: dict[str, str] = {}
    for f in fields:
        if f.type not in ("string", "one_of"):
            continue
        value = raw(state, f)
        text = "" if value is None else str(value)
        if f.type == "one_of" and text and text not in f.options:
            raise ProfileError(f"profile field `{f.name}` is one of {', '.join(f.options)}; {text!r} is none of "
                               "them", f.slot.replace(":", "."))
        out[f.name] = text
    return out


# ----------------------------------------------------------------------------------------- history


def _last(h: History) -> int | None:
    for row in reversed(h.days):  # newest first: usually the first row
        if row[1] > 0:
            return int(row[0])
    return h.last


def _first(h: History) -> int | None:
    if h.first is not None:
        return h.first
    return next((row[0] for row in h.days if row[1] > 0), None)


def stage(h: History, decls: SegmentDecls, today: int) -> str | None:
    """new, active, sleeping, churned by the declared thresholds; None before the first purchase."""
    lc = decls.lifecycle
    last = _last(h)
    if lc is None or last is None:
        return None
    first = _first(h)
    if first is not None and today - first < lc.new:
        return "new"
    if today - last < lc.active:
        return "active"
    if today - last < lc.sleeping:
        return "sleeping"
    return "churned"


class _Windows:
    """Sums of a history's columns over windows ending today, each computed once (rows are sorted by
    day, so a window is a run of the newest rows)."""

    def __init__(self, h: History, decls: SegmentDecls, today: int) -> None:
        self.h, self.decls, self.today = h, decls, today
        self.sums: dict[tuple[int | None, int, int], int] = {}
        self._stage: tuple[str | None] | None = None  # computed once, when first read

    def stage(self) -> str | None:
        if self._stage is None:
            self._stage = (stage(self.h, self.decls, self.today),)
        return self._stage[0]

    def sum(self, track: int | None, column: int, days: int) -> int:
        key = (track, column, days)
        found = self.sums.get(key)
        if found is None:
            rows = self.h.days if track is None else self.h.tracks.get(self.decls.tracks[track].key, ())
            since = self.today - days + 1
            found = 0
            for row in reversed(rows):
                if row[0] < since:
                    break
                found += row[column]
            self.sums[key] = found
        return found


def history_number(h: History, decls: SegmentDecls, m: Metric, today: int, w: _Windows | None = None) -> int:
    w = w or _Windows(h, decls, today)
    kind = m.kind
    if kind == "ltv":
        return h.spend
    if kind == "coupons":
        return h.coupons
    if kind == "recency":
        last = _last(h)
        return NEVER if last is None else today - last
    if kind == "lifecycle":
        return int(w.stage() == m.field)
    if kind in ("spend", "receipts"):
        return w.sum(None, 2 if kind == "spend" else 1, m.days)
    if kind == "bought":
        return w.sum(m.track, 1, m.days)
    spent = w.sum(m.track, 2, m.days)
    if kind == "spent":
        return spent
    total = w.sum(None, 2, m.days)  # share
    return spent * PPM // total if total else 0


def metrics(state: CustomerState, decls: SegmentDecls, today: int) -> dict[str, int]:
    """Every metric the bundle declares, at local day ``today`` (scores after the metrics they bin)."""
    h = state.history or EMPTY
    w = _Windows(h, decls, today)
    out: dict[str, int] = {}
    fields = {f.name: f for f in decls.profile}
    scores: list[Metric] = []
    for m in decls.metrics:
        if m.kind == "score":
            scores.append(m)
        elif m.kind in ("model", "model_has"):
            out[m.key] = model_number(state, m, today)
        elif m.kind in ("age", "days_since", "filled", "flag", "count"):
            assert m.field is not None
            out[m.key] = profile_number(state, fields[m.field], m.kind, today)
        else:
            out[m.key] = history_number(h, decls, m, today, w)
    for m in scores:
        score = next(s for s in decls.scores if s.name == m.field)
        out[m.key] = bin_of(out.get(score.metric, 0), score.bins)
    return out


def bin_of(value: int, bins: tuple[tuple[int, int | None, int | None], ...]) -> int:
    """The score of the bin holding ``value`` (ends inclusive), 0 when none does."""
    for score, low, high in bins:
        if (low is None or low <= value) and (high is None or value <= high):
            return score
    return 0
