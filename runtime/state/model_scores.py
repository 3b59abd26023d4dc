"""A customer's model scores (docs/offers.md, "Scores in the language"): what `loya offers score`
writes into the customer state from a model of `loya offers fit`, so the till, the server and the
simulator read `customer.p_alive`, `customer.clv_12m`, `customer.next_purchase("coffee")` like any
other state.

The record is replaced whole by a ``scores`` change (``from`` the record held, null: none; ``to`` the
new one), like a trigger chain's: ``apply`` checks ``from``, so a change made for another state is
refused, and ``invert`` swaps the two. Every value is an integer on the language's scale: ``p_alive``
and ``affinity:CATEGORY`` in millionths (percent), ``clv_12m`` in minor units, ``rfm_r``/``rfm_f``/
``rfm_m`` whole scores, ``next_purchase:CATEGORY`` the day (ordinal) the next purchase is expected.
A score the model could not give (a category bought once has no cycle) is absent, never 0."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from pydantic import ValidationError

from .applier import _Applier, _Failed, _new
from .model_scores_record import ModelScores


def _record(value: Any, key: str) -> ModelScores | None:
    if value is None or isinstance(value, ModelScores):
        return value
    if not isinstance(value, dict):
        raise _Failed(f"{key} must be a scores record or null")
    try:
        return ModelScores.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise _Failed(f"{key}.{'.'.join(map(str, first['loc']))}: {first['msg']}") from None


def record_dict(record: ModelScores | None) -> dict[str, Any] | None:
    return None if record is None else record.model_dump(mode="json")


class ScoresChange(NamedTuple):
    """The customer's scores go ``from`` → ``to`` (written by a refresh, or removed)."""

    old: ModelScores | None
    new: ModelScores | None

    @classmethod
    def from_dict(cls, c: Mapping[str, Any]) -> ScoresChange:
        return _new(cls, (_record(c.get("from"), "from"), _record(c.get("to"), "to")))

    def to_dict(self) -> dict[str, Any]:
        return {"op": "scores", "from": record_dict(self.old), "to": record_dict(self.new)}

    def apply(self, a: _Applier) -> None:
        if a.fields.get("scores") != self.old:
            raise _Failed("the customer's scores are not those the change was made from")
        a.put(a.fields, "scores", self.new)

    def invert(self, fields: dict[str, Any]) -> ScoresChange:
        return self._replace(old=self.new, new=self.old)
