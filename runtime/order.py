"""Application order and exclusivity (docs/order.md), planned once per engine.

* A group with ``order declared`` applies its campaigns in the order they are written (not by
  priority). When it stacks everything they apply one after another: each campaign computes on, and
  its conditions read (``receipt.payable``), what the earlier ones left. The plan splits such a group
  into one group per campaign, so the driver and the general loop run it as ordinary groups.
* Exclusive campaigns run first, before every other campaign, in evaluation order: those
  ``exclusive receipt`` first, then those ``exclusive lines``, per group a group of its exclusive
  members (which picks one: ``first_by_priority``, or the group's own ``best_for_customer`` /
  ``lowest_discount``). An applied ``exclusive receipt`` campaign is the receipt's only one: every
  other is rejected ``blocked_by_exclusive``. An applied ``exclusive lines`` campaign locks the lines
  it discounted: no later campaign takes anything off them (their floor becomes what is left).

A programme without these features gets its groups back as they were and an empty exclusive plan,
so it pays nothing per receipt.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Protocol, TypeVar

from .bundle import Campaign, Group
from .money import allocate

PICK_ONE = ("best_for_customer", "lowest_discount")  # stackings an exclusive group keeps; others pick the first


class Planned(Protocol):
    """What the plan reads of the engine's prepared group and campaign."""

    source: Any
    campaigns: list[Any]


G = TypeVar("G", bound=Planned)


def plan(groups: Sequence[G], make: Callable[[Group, list[Any]], G]) -> tuple[tuple[tuple[G, str], ...], tuple[G, ...]]:
    """(the exclusive groups with their scope, in the order they run; the other groups, in order).
    ``make(group, campaigns)`` builds a group of the engine's kind."""
    receipt: list[tuple[G, str]] = []
    lines: list[tuple[G, str]] = []
    rest: list[G] = []
    for group in groups:
        g: Group = group.source
        members = group.campaigns
        if g.order == "declared":
            members = sorted(members, key=lambda camp: (_campaign(camp).order, _campaign(camp).index))
        for scope, into in (("receipt", receipt), ("lines", lines)):
            chosen = [camp for camp in members if _campaign(camp).exclusive == scope]
            if chosen:
                stacking = g.stacking if g.stacking in PICK_ONE else "first_by_priority"
                into.append((make(replace(g, stacking=stacking, stacking_limit=None), chosen), scope))
        others = [camp for camp in members if _campaign(camp).exclusive is None]
        if not others:
            continue
        if g.order == "declared" and g.stacking == "stack_all":
            rest += [make(g, [camp]) for camp in others]  # one after another
        elif len(others) == len(group.campaigns) and g.order != "declared":
            rest.append(group)  # unchanged
        else:
            rest.append(make(g, others))
    return (*receipt, *lines), tuple(rest)


def _campaign(camp: Any) -> Campaign:
    source: Campaign = camp.source
    return source


def lock(effects: Sequence[tuple[Any, ...]], left: list[int], floors: list[int]) -> None:
    """Lock the lines the effect rows discounted: each one's floor becomes what is left of it."""
    for row in effects:
        if row[2] == "discount":
            for i, given in enumerate(row[4]):
                if given:
                    floors[i] = left[i]


def redistribute(want: Sequence[int], got: list[int], left: list[int], floors: list[int] | None, cut: int,
                 mode: str) -> int:
    """``redistribute floors``: spread ``cut`` (what floors took off the campaign's discount, already out
    of ``got``) over its other discounted lines by their requested discount, each at most down to its
    floor, until it is placed or no line has room; what could not be placed is returned. Each round
    places everything or fills a line, so there are at most as many rounds as lines."""
    while cut:
        room = [left[i] - (floors[i] if floors is not None else 0) if w else 0 for i, w in enumerate(want)]
        open_ = [i for i, r in enumerate(room) if r > 0]
        if not open_:
            break
        parts = allocate(cut, [want[i] for i in open_], mode)
        for i, part in zip(open_, parts, strict=True):
            take = min(part, room[i])
            got[i] += take
            left[i] -= take
            cut -= take
    return cut
