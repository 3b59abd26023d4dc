"""Deterministic, sticky assignment of customers to experiment arms (docs/experiments.md).

A customer's bucket is the first 8 bytes of SHA-256(salt UTF-8, 0x00, customer id UTF-8), read as a
big-endian unsigned integer, modulo ``BUCKETS`` (10,000: one bucket is 0.01 %). It depends on
nothing but the two strings, so it is the same in every process, on every machine and in every
version. Arms own contiguous bucket ranges in their declared order: the first arm of weight w1
(in basis points) owns buckets [0, w1), the next [w1, w1 + w2), and so on to 10,000.

Pure: no I/O, no state, no imports beyond hashlib; the engine and ``loya ab assign`` share it.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

BUCKETS = 10_000  # one bucket is one basis point (0.01 %) of the audience


@dataclass(frozen=True, slots=True)
class Arm:
    """One arm of an experiment: its name and weight in basis points (100 = 1 %)."""

    name: str
    weight: int


def bucket(salt: str, customer_id: str) -> int:
    """The customer's bucket in 0..BUCKETS-1 for this experiment's salt."""
    digest = hashlib.sha256(salt.encode("utf-8") + b"\x00" + customer_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def bounds(arms: Sequence[Arm]) -> list[int]:
    """The exclusive upper bucket of each arm, in declared order (the last is BUCKETS).

    The caller (the checker) has already refused weights that are negative or do not sum to
    BUCKETS; a violation here is a bug, not bad input."""
    ends: list[int] = []
    total = 0
    for arm in arms:
        if arm.weight < 0:
            raise ValueError(f"arm {arm.name!r} has a negative weight")
        total += arm.weight
        ends.append(total)
    if total != BUCKETS:
        raise ValueError(f"arm weights sum to {total} basis points, not {BUCKETS}")
    return ends


def arm_of(arms: Sequence[Arm], salt: str, customer_id: str) -> str:
    """The name of the arm this customer is in."""
    ends = bounds(arms)
    return arms[bisect_right(ends, bucket(salt, customer_id))].name


@dataclass(frozen=True, slots=True)
class Experiment:
    """An experiment as a bundle carries it (docs/experiments.md). The arm named "holdout" is the
    holdout when ``holdout`` is set; ``anonymous`` is the arm whose campaigns a receipt without a
    customer id gets (None: none of the experiment's campaigns). Such a receipt is in no arm."""

    name: str
    salt: str
    arms: tuple[Arm, ...]
    holdout: bool = False
    anonymous: str | None = None
    title: str | None = None
    ends: tuple[int, ...] = field(init=False, repr=False, compare=False)  # bounds(arms), once

    def __post_init__(self) -> None:
        object.__setattr__(self, "ends", tuple(bounds(self.arms)))

    def assign(self, customer_id: str | None) -> str | None:
        """The customer's arm (as ``arm_of``); None for an anonymous receipt (no or an empty customer id)."""
        if not customer_id:
            return None
        return self.arms[bisect_right(self.ends, bucket(self.salt, customer_id))].name

    def gate(self, arm: str | None) -> str | None:
        """The arm whose campaigns a receipt gets: its own, or for an anonymous one the declared rule's."""
        return self.anonymous if arm is None else arm


@dataclass(frozen=True, slots=True)
class ArmGate:
    """A campaign runs only when the receipt's arm of experiment ``experiment`` (an index into the
    bundle's experiments) is one of ``arms``."""

    experiment: int
    arms: frozenset[str]
