"""Refreshing on a schedule (docs/offers.md, "Refreshing"): a model is used, for scores or offers, only
from the day after its last day (LOY743) and for at most ``max_age`` days (LOY742), and a refresh never
rolls a customer's scores back to an older model's (LOY744). The host runs fit, score and issue on
its schedule; these checks make a missed or misordered run an error rather than stale scores."""

from __future__ import annotations

import datetime as dt

from loyadsl.runtime.state.model_scores_record import ModelScores

from .errors import MODEL_AHEAD, NEWER_SCORES, STALE_MODEL, OffersError
from .model import Model, day

DEFAULT_MAX_AGE = 7  # days; a model file without the setting (fitted before it existed)


def max_age(model: Model, override: int | None = None) -> int:
    return override if override is not None else int(model.header["config"].get("max_age", DEFAULT_MAX_AGE))


def check_fresh(model: Model, now: dt.datetime, override: int | None = None) -> None:
    """``now`` (its local date as written) is after the model's last day and at most ``max_age`` days
    after it."""
    today = now.date().toordinal()
    if today <= model.as_of:
        raise OffersError(MODEL_AHEAD, f"the model is fitted up to {day(model.as_of)}, on or after the day it is "
                          f"used for ({day(today)}): use it from {day(model.as_of + 1)} (--now), or fit it on "
                          "the history up to the day before")
    age, limit = today - model.as_of, max_age(model, override)
    if age > limit:
        raise OffersError(STALE_MODEL, f"the model is {age} days old on {day(today)} (fitted up to "
                          f"{day(model.as_of)}) and its max_age is {limit} days: fit it again on the history up "
                          "to the day before (loya offers fit --as-of), or give a larger --max-age")


def check_not_newer(cid: str, held: ModelScores | None, new: ModelScores | None, model: Model) -> None:
    """The customer's scores are not those of a newer model, or of this one refreshed later."""
    if held is None:
        return
    as_of = dt.date.fromordinal(model.as_of)
    later = held.as_of > as_of or (held.as_of == as_of and new is not None and held.refreshed > new.refreshed)
    if later:
        raise OffersError(NEWER_SCORES, f"customer {cid!r} holds the scores of a model fitted up to "
                          f"{held.as_of.isoformat()} (refreshed {held.model_dump(mode='json')['refreshed']}); "
                          f"this model is fitted up to {day(model.as_of)}: writing it would roll them back")
