"""Programme-wide counts other than budgets, kept by the simulation as a till's host keeps them: the
stock of catalogue rewards (docs/rewards.md) and campaigns' usage limits (`redemptions N [per store]
[per day]`, docs/limits-fraud.md).

Customers are replayed apart, so a pass cannot refuse the use that comes after the last one. As
for budgets (``Simulation._replay_limits``), a pass records every use with its receipt's time; the
receipt that takes a limit's last unit, in the order of time over all customers, is its cutoff;
the next pass gives the limit what was left there and nothing after. A limit is named by its *id*:
a budget by its campaign's name, a reward's stock by ``stock:NAME``, a usage limit by its
``redemption_key`` (JSON text, ``["spring","S1","2026-03-01"]``); names are identifiers, so the
three never meet.

A use given back by a return after its limit ran out is counted in the report, not given to a
later receipt (the cutoff model keeps one point per limit).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from loyadsl.runtime.bundle import Bundle

STOCK = "stock:"


class Left(NamedTuple):
    """What the limits with a cutoff leave a receipt, as ``Engine.evaluate`` takes them (None: the
    kind is not enforced on this receipt, as in a pass that has found no cutoff of it)."""

    budgets: dict[str, int] | None
    stock: dict[str, int] | None
    redemptions: dict[str, int] | None


def split(left: Mapping[str, int], bundle: Bundle) -> Left:
    """The engine's three mappings from what each limit id has left: a usage limit's as the uses
    already made (its count less what is left)."""
    budgets: dict[str, int] = {}
    stock: dict[str, int] = {}
    redemptions: dict[str, int] = {}
    for limit, room in left.items():
        if limit.startswith(STOCK):
            stock[limit[len(STOCK):]] = room
        elif limit.startswith("["):
            redemptions[limit] = usage_count(limit, bundle) - room
        else:
            budgets[limit] = room
    return Left(budgets or None, stock or None, redemptions or None)


def uses(changes: Iterable[Mapping[str, Any]]) -> list[tuple[str, int]]:
    """The limit ids a receipt's (or a return's) changes use, with how much: a stock change takes
    ``-delta`` units, a redemption change ``delta`` uses (negative when a return gives them back)."""
    out: list[tuple[str, int]] = []
    for change in changes:
        op = change.get("op")
        if op == "stock":
            out.append((STOCK + change["reward"], -int(change["delta"])))
        elif op == "redemption":
            out.append((json.dumps([change["campaign"], change.get("store"), change.get("day")],
                                   separators=(",", ":"), ensure_ascii=False), int(change["delta"])))
    return out


def amounts(bundle: Bundle, seen: Iterable[str]) -> dict[str, int]:
    """Each limit's amount: declared budgets and stocks, and the usage limits ``seen`` in a pass."""
    out: dict[str, int] = {}
    for c in bundle.campaigns:
        if c.state.budget is not None:
            out[c.name] = c.state.budget.amount
        reward = c.state.reward
        if reward is not None and reward.stock is not None:
            out[STOCK + c.name] = reward.stock
    for limit in seen:
        if limit.startswith("["):
            out[limit] = usage_count(limit, bundle)
    return out


def usage_count(key: str, bundle: Bundle) -> int:
    """The count of the usage limit a ``redemption_key`` counts for: its campaign's limit of that scope."""
    campaign, store, day = json.loads(key)
    for c in bundle.campaigns:
        if c.name == campaign:
            for limit in c.state.redemptions:
                if limit.store == (store is not None) and limit.day == (day is not None):
                    return limit.count
    raise KeyError(key)  # the engine only makes keys of declared limits


def section(uses_of: Mapping[str, list[tuple[int, str, int]]], bundle: Bundle,
            cutoffs: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The report's ``limits``: per stocked reward and per usage-limit key that was used, the amount,
    the units used, what is left and the receipt that took the last one."""
    limits = amounts(bundle, uses_of)
    rows = []
    for limit in sorted(limits):
        if not (limit.startswith(STOCK) or limit.startswith("[")):
            continue  # budgets have their own section
        used = sum(n for _utc, _receipt, n in uses_of.get(limit, ()))
        cut = (cutoffs or {}).get(limit)
        if limit.startswith(STOCK):
            row = {"kind": "stock", "campaign": limit[len(STOCK):], "store": None, "day": None}
        else:
            campaign, store, day = json.loads(limit)
            row = {"kind": "redemptions", "campaign": campaign, "store": store, "day": day}
        rows.append({**row, "amount": limits[limit], "used": used, "left": max(0, limits[limit] - used),
                     "exhausted_by": cut.receipt_id if cut is not None else None})
    return rows


def declared(bundle: Bundle) -> bool:
    """Whether the programme has a stock or a usage limit (the report then has a ``limits`` section)."""
    return any(c.state.redemptions or (c.state.reward is not None and c.state.reward.stock is not None)
               for c in bundle.campaigns)
