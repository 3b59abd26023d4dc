"""`loya offers score`: a model's scores into the customer states (docs/offers.md, "Scores in the
language"), as ``scores`` changes (``runtime/state/model_scores.py``) applied all or nothing.

Each customer of the model gets a record of integers on the language's scale; a customer the states
hold but the model does not (no purchase in its history) has their old record removed, so nobody
reads a stale score. A programme given with ``--programme`` is checked first: every score it reads
must be one the model fitted (LOY635), every category one it has seen (LOY634)."""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
from typing import Any

from loyadsl.compile import ir
from loyadsl.runtime.errors import LoyaError
from loyadsl.runtime.state import CustomerState, apply
from loyadsl.runtime.state.model_scores import ScoresChange
from loyadsl.runtime.state.model_scores_record import ModelScores

from .errors import UNFITTED_SCORE, UNKNOWN_CATEGORY, OffersError
from .model import VERSION, Model, minor, ordinal
from .refresh import check_fresh, check_not_newer

PPM = 1_000_000
CLV_DAYS = 365  # clv_12m: the model's CLV when its horizon is 365 days


def fitted(model: Model) -> list[str]:
    """The language's scores the model holds (``clv_12m`` only for a 365-day CLV horizon)."""
    has = set(model.header.get("scores", ()))
    names = {"p_alive": "p_alive", "rfm": "rfm", "cycles": "next_purchase", "affinity": "affinity"}
    out = [name for key, name in names.items() if key in has]
    if "clv" in has and model.header["config"]["clv_horizon"] == CLV_DAYS:
        out.append("clv_12m")
    return sorted(out)


def model_id(model: Model) -> str:
    """The model's identity: format, version and a digest of what it was fitted on and to."""
    keys = ("as_of", "seed", "config", "history", "bgnbd", "gamma_gamma", "categories")
    digest = hashlib.sha256(json.dumps({k: model.header.get(k) for k in keys}, sort_keys=True,
                                       default=str).encode()).hexdigest()[:16]
    return f"{model.header['format']}/{VERSION}/{digest}"


def values(c: dict[str, Any], names: list[str]) -> dict[str, int]:
    """One customer's scores as integers; a score the model has no value for is left out."""
    out: dict[str, int] = {}
    if "p_alive" in names:
        out["p_alive"] = minor(c["p_alive"] * PPM)
    if "clv_12m" in names:
        out["clv_12m"] = int(c["clv"])
    if "rfm" in names:
        out.update({f"rfm_{k}": int(c["rfm"][k]) for k in ("r", "f", "m")})
    if "next_purchase" in names:
        out.update({f"next_purchase:{cat}": ordinal(v["next"]) for cat, v in c["categories"].items() if v["next"]})
    if "affinity" in names:
        out.update({f"affinity:{cat}": minor(float(s) * PPM) for cat, s in c["affinity"]})
    return out


def records(model: Model, refreshed: dt.datetime) -> dict[str, ModelScores]:
    names, ident, as_of = fitted(model), model_id(model), model.header["as_of"]
    when = refreshed.isoformat()
    return {cid: ModelScores.model_validate({"model": ident, "version": VERSION, "as_of": as_of, "refreshed": when,
                                             "fitted": names, "values": values(c, names)})
            for cid, c in model.customers.items()}


def changes(model: Model, states: dict[str, CustomerState], refreshed: dt.datetime,
            max_age: int | None = None) -> dict[str, ScoresChange]:
    """Each customer's ``scores`` change, built from the typed records: to the model's record, or (not
    in the model) to none. The model must be fresh at ``refreshed`` (LOY742, LOY743), and no customer
    may hold a newer model's scores (LOY744)."""
    check_fresh(model, refreshed, max_age)
    new = records(model, refreshed)
    out: dict[str, ScoresChange] = {}
    for cid in sorted(set(new) | set(states)):
        held = states[cid].scores if cid in states else None
        to = new.get(cid)
        check_not_newer(cid, held, to, model)
        if held is not None or to is not None:
            out[cid] = ScoresChange(held, to)
    return out


def as_change(change: ScoresChange) -> dict[str, Any]:
    """The change as ``apply`` takes it, holding the typed records (no round trip through JSON)."""
    return {"op": "scores", "from": change.old, "to": change.new}


def scored(model: Model, states: dict[str, CustomerState], refreshed: dt.datetime,
           max_age: int | None = None) -> dict[str, CustomerState]:
    """The states with the model's scores, all or nothing."""
    return applied(states, changes(model, states, refreshed, max_age))


def applied(states: dict[str, CustomerState], found: dict[str, ScoresChange]) -> dict[str, CustomerState]:
    """The states after their changes, all or nothing (LOY503 naming the customer)."""
    out = dict(states)
    for cid, change in found.items():
        try:
            out[cid] = apply(states.get(cid) or CustomerState(id=cid), [as_change(change)])
        except LoyaError as exc:
            raise LoyaError(exc.code, exc.message, f"customer {cid!r}") from None
    return out


def reads(programme: ir.Programme) -> list[str]:
    """The score keys a checked programme reads (``p_alive``, ``next_purchase:coffee``, ...)."""
    seg = programme.state.segments
    return [] if seg is None else sorted({m.field for m in seg.metrics if m.kind == "model" and m.field})


def check_reads(model: Model, keys: list[str], where: str) -> None:
    """Every score the programme reads is fitted (LOY635), every category seen (LOY634)."""
    have, categories = fitted(model), model.categories
    for key in keys:
        name, _, category = key.partition(":")
        score = "rfm" if name.startswith("rfm_") else name
        if score not in have:
            why = (f"its CLV horizon is {model.header['config']['clv_horizon']} days, not {CLV_DAYS}"
                   if name == "clv_12m" else f"it fitted {', '.join(have)}")
            raise OffersError(UNFITTED_SCORE, f"the programme reads `customer.{name}`, which the model does not "
                              f"have: {why}", where)
        if category and category not in categories:
            lower = {c.lower(): c for c in categories}
            hint = [lower[h] for h in difflib.get_close_matches(category.lower(), list(lower), n=1)]
            raise OffersError(UNKNOWN_CATEGORY, f"the programme reads `customer.{name}(\"{category}\")`: the model "
                              f"has not seen category {category!r} ({len(categories)} categories up to "
                              f"{model.header['as_of']})" + (f"; did you mean {hint[0]!r}?" if hint else ""), where)
