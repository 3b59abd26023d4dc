"""CI guards on how far ``loya diff`` lets a change move the money: ``--max-cost-delta 5%``.

A guard names a change of the diff JSON (``totals.cost``, ``totals.discount``,
``totals.points_accrued`` or one campaign's ``cost``) and a limit on the size of its ``delta``, in
either direction: a percent of the OLD value (``5%``) or an amount in the figure's unit
(``5000.00 RUB``, ``300 points``). A change from zero has no percentage: it passes a percent limit
only when it is zero. Guards become entries of the diff's ``assertions`` with ``code`` LOY615, so
every output format (table, JSON, HTML, SARIF, JUnit, annotations) reports them as it reports
assertions, and a failing one exits 1. A guard that cannot be read is LOY616 (exit 2, before the
replay). Exact throughout: integers and Decimal, never a float.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from loyadsl.diagnostics import did_you_mean
from loyadsl.simulate.errors import SimulationError

FAILED = "LOY615"
_LIMIT = re.compile(r"^\s*(\d{1,15}(?:\.\d{1,6})?)\s*(%|points|[A-Z]{3}|₽|\$|€)\s*$")
_SIGNS = {"₽": "RUB", "$": "USD", "€": "EUR"}
# the totals each option guards, and the unit of its figure
TOTALS = {"cost": "money", "discount": "money", "points": "points"}
_FIGURE = {"cost": "cost", "discount": "discount", "points": "points_accrued"}


class GuardError(SimulationError):
    """A delta guard cannot be read, or names no campaign of the programmes (exit 2)."""

    default = "LOY616"


@dataclass(frozen=True)
class Limit:
    amount: Decimal
    unit: str  # "%", "points" or a currency code

    def __str__(self) -> str:
        return f"{self.amount}%" if self.unit == "%" else f"{self.amount} {self.unit}"


@dataclass(frozen=True)
class Guard:
    option: str  # as written, for the report: "--max-cost-delta 5%"
    figure: str  # "cost", "discount", "points_accrued"
    campaign: str | None  # None: the totals; "*": every campaign
    limit: Limit


def parse_limit(text: str, option: str) -> Limit:
    found = _LIMIT.match(text)
    if found is None:
        raise GuardError(f"{option} {text!r}: expected a percent (5%), money (5000.00 RUB) or points (300 points)")
    unit = _SIGNS.get(found.group(2), found.group(2))
    return Limit(Decimal(found.group(1)), unit)


def totals_guard(name: str, text: str) -> Guard:
    """``--max-NAME-delta TEXT`` for NAME in cost, discount, points."""
    option = f"--max-{name}-delta"
    return Guard(f"{option} {text}", _FIGURE[name], None, parse_limit(text, option))


def campaign_guard(text: str) -> Guard:
    """``--max-campaign-delta NAME=LIMIT`` (``*=LIMIT``: every campaign): a campaign's cost."""
    option = "--max-campaign-delta"
    name, sep, limit = text.partition("=")
    if not sep or not name.strip():
        raise GuardError(f"{option} {text!r}: expected CAMPAIGN=LIMIT, e.g. welcome=10% or '*=5000.00 RUB'")
    return Guard(f"{option} {text}", "cost", name.strip(), parse_limit(limit, option))


def validate(guards: Iterable[Guard], campaigns: Iterable[str], currency: str) -> None:
    """Before the replay: each guard's unit fits its figure and each campaign it names exists."""
    known = set(campaigns)
    for g in guards:
        unit = "points" if g.figure == "points_accrued" else "money"
        if g.limit.unit not in ("%", currency if unit == "money" else "points"):
            want = currency if unit == "money" else "points"
            raise GuardError(f"{g.option}: the {g.figure} is in {want}, not {g.limit.unit}; write a percent or {want}")
        if g.campaign not in (None, "*") and g.campaign not in known:
            hint = did_you_mean(g.campaign, tuple(known))
            raise GuardError(f"{g.option}: no campaign {g.campaign!r} in either programme"
                             + (f"; {hint}" if hint else ""))


def check(guards: Iterable[Guard], diff: dict[str, Any]) -> list[dict[str, Any]]:
    """Each guard's verdict, as an assertion entry: ``{expr, ok, value, expected, detail, code}``."""
    programme = diff.get("new", {})
    results = []
    for g in guards:
        if g.campaign is None:
            rows = [("totals", diff["totals"][g.figure])]
        else:
            rows = [(f"campaigns.{row['name']}", row[g.figure]) for row in diff.get("campaigns", [])
                    if g.campaign in ("*", row["name"])]
        show = _Units(g.figure, programme)
        for where, change in rows:
            ok, size = _within(change, g.limit, show)
            expr = g.option if g.campaign != "*" else f"{g.option} ({where})"
            detail = (f"{where}.{g.figure} moved by {size} ({show(change['old'])} → {show(change['new'])}); "
                      f"at most {g.limit} allowed")
            results.append({"expr": expr, "ok": ok, "value": change["delta"], "expected": str(g.limit),
                            "detail": detail, "code": FAILED})
    return results


class _Units:
    """A figure's integers (money minor units, point minor units) as the author writes them."""

    def __init__(self, figure: str, programme: dict[str, Any]) -> None:
        self.points = figure == "points_accrued"
        self.minor = int(programme.get("points_minor" if self.points else "minor", 0))
        self.unit = "points" if self.points else str(programme.get("currency", ""))

    def scale(self) -> int:
        return 10 ** self.minor

    def __call__(self, value: int) -> str:
        whole, frac = divmod(abs(value), self.scale())
        sign = "-" if value < 0 else ""
        return (f"{sign}{whole}.{frac:0{self.minor}d}" if self.minor else f"{sign}{whole}") + f" {self.unit}"


def _within(change: dict[str, int], limit: Limit, units: _Units) -> tuple[bool, str]:
    """Whether the change's size is within the limit, and the size as the limit counts it."""
    old, delta = change["old"], abs(change["delta"])
    if limit.unit != "%":
        return delta <= limit.amount * units.scale(), units(delta)
    if old == 0:
        return delta == 0, f"{units(delta)} from 0" if delta else "0%"
    share = Decimal(delta) * 100 / abs(old)
    return share <= limit.amount, f"{share.quantize(Decimal('0.01'))}%"
