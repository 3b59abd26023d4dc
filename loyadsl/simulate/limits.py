"""Programme-wide limits, kept by the simulation as one host replaying every receipt in the order of
time would keep them: campaigns' budgets, the stock of catalogue rewards (docs/rewards.md) and
campaigns' usage limits (`redemptions N [per store] [per day]`, docs/limits-fraud.md).

Customers are replayed apart, so a pass cannot know what other customers' receipts took before a
receipt. Each pass records every use with its receipt's time (a budget's amount given, a reward's
units, a limit's uses; a return's as negative), as one ``Timeline`` per limit; the next pass gives
each receipt what the last pass's timelines leave it at its time (``left_at``), as the engine's
``budgets=``, ``stock=`` and ``redemptions=`` (``at``). The replay ends when a pass sees what it was
given (``seen``): then every receipt got what the uses before it in time left, which is exactly the
host's answer, returns that give uses back included. A limit is named by its *id*: a budget by its
campaign's name, a reward's stock by ``stock:NAME``, a usage limit by its ``redemption_key`` (JSON
text, ``["spring","S1","2026-03-01"]``); names are identifiers, so the three never meet.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from loyadsl.runtime.bundle import Bundle

STOCK = "stock:"
Key = tuple[int, str]  # a receipt's place in time: (UTC seconds, receipt id)


class Cutoff(NamedTuple):
    """Where a limit runs out: the receipt (in the order of time, then receipt id, over all customers)
    that gets what is left of it."""

    utc: int
    receipt_id: str
    room: int


class Timeline:
    """One limit's uses in one pass, in the order of time, as running totals."""

    __slots__ = ("amount", "keys", "running", "steps")

    def __init__(self, events: Iterable[tuple[int, str, int]], amount: int) -> None:
        self.amount = amount
        self.steps = sorted(events)
        self.keys: list[Key] = [(utc, receipt) for utc, receipt, _ in self.steps]
        self.running: list[int] = []
        total = 0
        for _, _, n in self.steps:
            total += n
            self.running.append(total)

    def left_at(self, key: Key) -> int:
        """What the uses before ``key`` leave of the limit."""
        i = bisect_left(self.keys, key)
        return max(0, self.amount - (self.running[i - 1] if i else 0))

    def tight(self) -> bool:
        """Whether the uses ever reach the amount (else the limit never binds)."""
        return any(total >= self.amount for total in self.running)

    def seen(self) -> list[tuple[Key, int]]:
        """What receipts see of the limit: the running total, capped at the amount, where it changes.
        Two passes whose limits are seen alike gave every receipt the same."""
        out: list[tuple[Key, int]] = []
        last = 0
        for key, total in zip(self.keys, self.running, strict=True):
            shown = min(total, self.amount)
            if shown != last:
                out.append((key, shown))
                last = shown
        return out

    def cutoff(self) -> Cutoff | None:
        """The receipt that takes the last of the limit (None: it lasts)."""
        before = 0
        for (utc, receipt, n), total in zip(self.steps, self.running, strict=True):
            if total >= self.amount and n > 0:
                return Cutoff(utc, receipt, self.amount - before)
            before = total
        return None


class _At(Mapping[str, int]):
    """What the tight limits of one kind leave the receipt at ``key``, read lazily by the engine."""

    def __init__(self, timelines: Mapping[str, Timeline], key: Key, prefix: str, used: bool) -> None:
        self.timelines, self.key, self.prefix, self.used = timelines, key, prefix, used

    def __getitem__(self, name: str) -> int:
        t = self.timelines[self.prefix + name]
        left = t.left_at(self.key)
        return t.amount - left if self.used else left

    def __iter__(self) -> Iterator[str]:
        return (limit[len(self.prefix):] for limit in self.timelines)

    def __len__(self) -> int:
        return len(self.timelines)


class Left(NamedTuple):
    """The engine's ``budgets``, ``stock`` and ``redemptions`` for one receipt (None: that kind has no
    limit that binds, so none is enforced, as in a first pass)."""

    budgets: Mapping[str, int] | None
    stock: Mapping[str, int] | None
    redemptions: Mapping[str, int] | None


UNLIMITED = Left(None, None, None)  # the first pass: no limit is known to bind


def kinds(timelines: Mapping[str, Timeline]) -> tuple[dict[str, Timeline], dict[str, Timeline], dict[str, Timeline]]:
    """The tight limits of a pass split by kind: budgets, stock, usage limits."""
    budgets: dict[str, Timeline] = {}
    stock: dict[str, Timeline] = {}
    redemptions: dict[str, Timeline] = {}
    for limit, t in timelines.items():
        (stock if limit.startswith(STOCK) else redemptions if limit.startswith("[") else budgets)[limit] = t
    return budgets, stock, redemptions


def at(split: tuple[dict[str, Timeline], dict[str, Timeline], dict[str, Timeline]], key: Key) -> Left:
    """What the limits leave the receipt at ``key``: a budget's and a stock's left, a usage limit's uses."""
    budgets, stock, redemptions = split
    return Left(_At(budgets, key, "", False) if budgets else None,
                _At(stock, key, STOCK, False) if stock else None,
                _At(redemptions, key, "", True) if redemptions else None)


def timelines(uses_of: Mapping[str, list[tuple[int, str, int]]], bundle: Bundle) -> dict[str, Timeline]:
    """The limits a pass found binding, each with its uses in the order of time."""
    out = {}
    for limit, amount in amounts(bundle, uses_of).items():
        t = Timeline(uses_of.get(limit, ()), amount)
        if t.tight():
            out[limit] = t
    return out


def seen(by_side: Mapping[str, Mapping[str, Timeline]]) -> dict[str, dict[str, list[tuple[Key, int]]]]:
    return {side: {limit: t.seen() for limit, t in found.items()} for side, found in by_side.items()}


def uses(changes: Iterable[Mapping[str, Any]]) -> list[tuple[str, int]]:
    """The limit ids a receipt's (or a return's) changes use, with how much: a budget change gives
    ``delta``, a stock change takes ``-delta`` units, a redemption change ``delta`` uses (negative when
    a return gives them back)."""
    out: list[tuple[str, int]] = []
    for change in changes:
        op = change.get("op")
        if op == "budget":
            out.append((change["campaign"], int(change["delta"])))
        elif op == "stock":
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
