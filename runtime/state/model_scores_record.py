"""The record of a customer's model scores (docs/offers.md, "Scores in the language"); its change is
in ``model_scores.py``."""

from __future__ import annotations

from pydantic import BaseModel, Field

from .jsontypes import _CONFIG, Date, Time

MAX_SCORES = 2000  # values a record may hold (categories of next_purchase and affinity included)


class ModelScores(BaseModel):
    """The scores of one model for one customer, with where they come from and when they were written."""

    model_config = _CONFIG
    model: str = Field(description="the model's identity: format, version and a digest of its parameters")
    version: int = Field(ge=1, description="the model file's version")
    as_of: Date = Field(description="the last day of the history the model was fitted on")
    refreshed: Time = Field(description="when `loya offers score` wrote the record")
    fitted: list[str] = Field(default_factory=list, description=(
        "the scores the model fitted (p_alive, clv_12m, rfm, next_purchase, affinity)"))
    values: dict[str, int] = Field(default_factory=dict, max_length=MAX_SCORES, description=(
        "score key -> integer on the language's scale (docs/offers.md)"))
