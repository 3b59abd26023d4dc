"""The purchase-history record of a customer state (docs/segments.md); its changes are in ``history.py``."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from .jsontypes import _CONFIG, Count

MAX_BUCKETS = 800  # rows per list: above the longest horizon (730 days), so a valid state always loads
MAX_TRACK_KEYS = 16

Bucket = Annotated[list[Count], Field(min_length=4, max_length=4)]  # [local day ordinal, receipts, spend, coupons]
TrackBucket = Annotated[list[Count], Field(min_length=3, max_length=3)]  # [local day ordinal, receipts, spend]


class History(BaseModel):
    """``days``: per local day with purchases inside the horizon, oldest first; ``tracks``: the same per
    tracked selection (its text); ``spend``/``receipts``/``coupons``: all time (LTV is ``spend``);
    ``first``/``last``: the first and last purchase days among the buckets pruned (null: none)."""

    model_config = _CONFIG
    days: list[Bucket] = Field(default_factory=list, max_length=MAX_BUCKETS)
    tracks: dict[str, list[TrackBucket]] = Field(default_factory=dict, max_length=MAX_TRACK_KEYS)
    spend: Count = 0
    receipts: Count = 0
    coupons: Count = 0
    first: Count | None = None
    last: Count | None = None


EMPTY = History()
