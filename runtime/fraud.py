"""Anti-fraud limits per card (the programme header's ``max points N per PERIOD``, ``max receipts N
per PERIOD``, ``velocity N per DURATION``; docs/limits-fraud.md), one receipt at a time.

A ``Guard`` reads the card's counts from its state, caps the points the receipt's campaigns accrue
(in campaign order, each campaign's points cut to the room left, allocated over its lines as any
cap), and reports a *flag* for every limit that bit: the outcome's ``flags``. The counts are the
customer's ``usage`` under names no campaign can have (``@points.day``, ``@receipts.day``,
``@velocity``), kept by ordinary ``usage`` changes, so applying, inverting and a full return (which
negates ``usage``) need nothing new. An anonymous receipt has no card: only ``per receipt`` applies.

* ``max points N per receipt|day|week|month|year``: the receipt accrues at most N, or what is left
  of N in the card's calendar period (the programme's time zone);
* ``max receipts N per day|week|month|year``: a card's receipts past the N-th of the period accrue
  no points (their discounts stand: the till sees the flag);
* ``velocity N per D``: a flag (nothing capped) for a card's receipt after N in one window of D (the
  windows are fixed, counted from the epoch, so a burst across two windows may go unflagged).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .bundle_types import FraudLimits, People
from .state import CustomerState

POINTS, RECEIPTS, VELOCITY = "@points.", "@receipts.", "@velocity"
NO_LIMITS = FraudLimits()
PPM = 1_000_000


def guard(limits: FraudLimits | None, people: People | None, state: CustomerState | None, channel: str,
          period: Callable[[str], str], utc: int) -> Guard:
    """The receipt's guard: anti-fraud limits, and with ``people`` the staff rule (a staff card earns no
    points) and a partner's rate (its receipts earn that share of what the campaigns give)."""
    g = Guard(limits, state.usage if state is not None else None, period, utc)
    if people is not None:
        if people.staff is not None and state is not None and _is_staff(people.staff, state):
            g.staff = True
        g.rate = next((p.rate for p in people.partners if p.name == channel), PPM)
    return g


def _is_staff(rule: tuple[str, str], state: CustomerState) -> bool:
    by, value = rule
    return value in state.segments if by == "segment" else bool(state.attributes.get(value))


class Guard:
    """One receipt's anti-fraud limits: ``cap`` each campaign's points, then ``flags`` and ``changes``."""

    def __init__(self, limits: FraudLimits | None, usage: Mapping[str, Mapping[str, int]] | None,
                 period: Callable[[str], str], utc: int) -> None:
        limits = self.limits = limits or NO_LIMITS
        self.usage = usage
        self.keys = {per: period(per) for per, _ in (*limits.points, *limits.receipts) if per != "receipt"}
        self.window = None if limits.velocity is None else str(utc // limits.velocity[1])
        self.left = {per: most - self._used(POINTS + per, per) for per, most in limits.points}
        self.over = [(per, most) for per, most in limits.receipts
                     if usage is not None and self._used(RECEIPTS + per, per) >= most]
        self.wanted = self.given = 0
        self.staff = False  # the card is staff's: no points
        self.rate = PPM  # a partner's receipt earns this share (ppm) of the campaigns' points

    def target(self, points: int) -> int:
        """What a campaign's ``points`` become at a partner's rate (floor), before any limit."""
        return 0 if self.staff else points if self.rate == PPM else points * self.rate // PPM

    def _used(self, name: str, per: str) -> int:
        if self.usage is None or per == "receipt":
            return 0
        return self.usage.get(name, {}).get(self.keys[per], 0)

    def room(self) -> int | None:
        """The most points the rest of the receipt may accrue (None: no limit)."""
        if self.over or self.staff:
            return 0
        rooms = [left - self.given for per, left in self.left.items() if per == "receipt" or self.usage is not None]
        return max(0, min(rooms)) if rooms else None

    def took(self, wanted: int, given: int) -> None:
        self.wanted += wanted
        self.given += given

    def flags(self) -> tuple[dict[str, Any], ...]:
        out: list[dict[str, Any]] = []
        if self.given < self.wanted:
            for per, most in self.limits.points:
                if (per == "receipt" or self.usage is not None) and self.left[per] < self.wanted:
                    out.append({"flag": f"points_per_{per}", "limit": most, "wanted": self.wanted,
                                "given": self.given})
        for per, most in self.over:
            out.append({"flag": f"receipts_per_{per}", "limit": most, "count": self._used(RECEIPTS + per, per) + 1})
        velocity = self.limits.velocity
        if velocity is not None and self.usage is not None:
            count = self.usage.get(VELOCITY, {}).get(self.window or "", 0) + 1
            if count > velocity[0]:
                out.append({"flag": "velocity", "limit": velocity[0], "seconds": velocity[1], "count": count})
        return tuple(out)

    def changes(self, receipt: str) -> list[dict[str, Any]]:
        """The card's counts after the receipt (``usage`` changes; none for an anonymous receipt)."""
        if self.usage is None:
            return []
        out = [_use(POINTS + per, self.keys[per], self.given, receipt) for per, _ in self.limits.points
               if per != "receipt" and self.given]
        out += [_use(RECEIPTS + per, self.keys[per], 1, receipt) for per, _ in self.limits.receipts]
        if self.window is not None:
            out.append(_use(VELOCITY, self.window, 1, receipt))
        return out


def _use(name: str, key: str, delta: int, receipt: str) -> dict[str, Any]:
    return {"op": "usage", "campaign": name, "period": key, "delta": delta, "receipt": receipt}

