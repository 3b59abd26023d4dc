"""A customer's record of one trigger chain (docs/triggers.md, "State"): bounded by construction,
one record per trigger the programme declares (at most ``spec.MAX_TRIGGERS``), each with at most
``spec.MAX_CAP`` send times."""

from __future__ import annotations

from pydantic import BaseModel, Field

from .jsontypes import _CONFIG, Time


class ChainState(BaseModel):
    """``key``: what the chain was last entered for (a receipt id, a birthday's year, ...), so one
    occasion enters it once; ``entered``: when; ``step``: the next step to run; ``due``: when it runs
    (None: the chain has ended); ``bought``: a purchase since entering; ``sent``: the times of the
    messages counted by the trigger's frequency cap (the newest, at most the cap's count)."""

    model_config = _CONFIG
    key: str
    entered: Time
    step: int = 0
    due: Time | None = None
    bought: bool = False
    sent: list[Time] = Field(default_factory=list)
