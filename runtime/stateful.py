"""One generated function that runs every group of a bundle on the stateful path without a trace.

The engine's general loop (``Engine._group``) asks, for every campaign of every receipt with a
customer's state, what is known once per bundle: whether the campaign is gated by a SKU or by the
state (``Ledger.gated``), whether it has a budget, a discount or points cap, a catalogue reward,
whether its group takes every candidate and on which basis it computes. This module writes that
knowledge out as straight-line Python, once per engine (``build``): per campaign the statements of
``_group``'s loop that apply to it, with no branch for a gate, cap or reward it does not have, and
the values it reads (its function, rejections, name, limits) as constants of the namespace. The
campaigns' own code is called as in ``_group`` (``camp.run``); the state's gates, reservations
and releases are the session's (``runtime/ledger``), asked in the same order.

It runs when the receipt has a session, nobody asks for a trace and the programme has no exclusive
campaigns; a group of many SKU-gated campaigns (``_Group.by_index``: the general loop skips those
the receipt cannot touch) is run by the general loop, in its place. The outcome is the general
loop's, field for field (tests/fuzz/test_fuzz_stateful.py on random programmes with state, histories
included; tests/state/test_typed_changes.py on the examples).

Safety, as in runtime/driver.py: the source holds only names made up here, integer positions and
the fixed rejection reasons; every value lives in the namespace, which has no builtins but ``sum``
and ``len``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .codecache import CodeCache, compiled

StatefulDriver = Callable[[Any, Any, Any, Any], None]  # (r, cu, t, session)


def build(groups: Sequence[Any], gated: Any, general: Callable[..., None], pricer: Any,
          apply: Callable[..., tuple[Any, ...]], stack: Callable[..., list[Any]], live: bool,
          code_cache: CodeCache | None = None) -> tuple[StatefulDriver, str]:
    """The driver for ``groups`` (in evaluation order, no exclusive ones) and its source. ``gated``: the
    indexes of the campaigns gated by state (``Ledger.gated``); ``general(group, r, cu, t, session,
    None)`` runs a group the general way; ``apply`` and ``stack`` are the engine's; ``live``: a predicate
    reads what is left of lines, so each group starts by noting it (``r.now``); ``code_cache`` keeps the
    compiled driver (runtime/codecache.py)."""
    ns: dict[str, Any] = {"__builtins__": {}, "sum": sum, "len": len, "CAP": pricer.cap, "POINTS": pricer.points,
                          "PTOTAL": pricer.points_total, "APPLY": apply, "STACK": stack, "GENERAL": general}
    body = ["def drive(r, cu, t, session):",
            "    lines, n, ordered = r.lines, r.nlines, r.ordered",
            "    amounts, left, floors, rejected = t.amounts, t.left, t.floors, t.rejected"]
    for g, group in enumerate(groups):
        ns[f"G{g}"] = group
        if group.by_index:  # many SKU-gated campaigns: the general loop skips those the receipt cannot touch
            body.append(f"    GENERAL(G{g}, r, cu, t, session, None)")
            continue
        body += _group(ns, g, group, gated, live)
    body.append("    return")
    source = "\n".join(body) + "\n"
    exec(compiled(source, "<loyadsl stateful driver>", code_cache), ns)  # our own source: see the docstring
    return ns["drive"], source


def _group(ns: dict[str, Any], g: int, group: Any, gated: Any, live: bool) -> list[str]:
    """The statements of one group: its campaigns' candidates, then the winners applied (``_group``)."""
    out = [f"    r.basis = basis = {'amounts' if group.original else 'left[:]'}",
           "    r.payable = sum(left)"]
    if live:
        out.append("    r.now = left[:]")
    out.append("    cands = []")
    for pos, camp in enumerate(group.campaigns):
        out += _campaign(ns, f"{g}_{pos}", camp, group.original, camp.index in gated)
    if len(group.campaigns) > 1 and group.stacking != "stack_all":
        out += ["    if len(cands) > 1:",
                f"        chosen = STACK(G{g}, cands, left, floors, rejected, None)",
                "        for cand in cands:",
                "            if cand[5]:",
                "                for c in chosen:",
                "                    if c is cand:",
                "                        break",
                "                else:",
                "                    session.release(cand[5])",
                "        cands = chosen"]
    out += ["    for camp, discount, accruals, _, points_vec, wants in cands:",
            "        t.applied.append(camp.name)",
            "        if discount is not None:",
            "            t.effects.append(APPLY(camp, discount, left, floors, None))",
            "        if accruals:",
            f"            t.pending.append((camp, accruals, points_vec, {group.original}, None))",
            "        if wants:",
            "            t.requests[camp.name] = wants"]
    return out


def _campaign(ns: dict[str, Any], k: str, camp: Any, original: bool, state_gated: bool) -> list[str]:
    """One campaign's statements of ``_group``'s loop, in a ``while`` block left by ``break`` (the
    loop's ``continue``); what it does not have (a SKU or state gate, a budget, a cap, a reward) is
    left out."""
    ns.update({f"C{k}": camp, f"RJ{k}": camp.rejections, f"RUN{k}": camp.run, f"N{k}": camp.name,
               f"S{k}": camp.state, f"APPS{k}": camp.applications, f"MD{k}": camp.max_discount,
               f"MP{k}": camp.max_points})
    capped = camp.max_discount is not None or (state_gated and camp.budgeted)
    out = ["    while True:"]
    if camp.sku_gated:
        out += [f"        if not r.wants({camp.index}):",
                f"            rejected.append(RJ{k}['no_eligible_items'])",
                "            break"]
    out += ["        r.vec = r.acc = None",
            f"        r.budget = APPS{k}",
            "        r.asks = None"]
    if capped:
        out.append(f"        md = MD{k}")
    if state_gated:
        out += [f"        reason = session.gate(N{k}, S{k})",
                "        if reason is not None:",
                f"            rejected.append(RJ{k}[reason])",
                "            break"]
        if camp.budgeted:
            out += [f"        room = session.discount_room(N{k}, S{k})",
                    "        if room is not None and (md is None or room < md):",
                    "            md = room"]
    out += [f"        reason = RUN{k}(r, cu)",
            "        if reason is not None:",
            f"            rejected.append(RJ{k}[reason])",
            "            break",
            f"        discount, accruals, wants = {'r.vec' if camp.discounts else 'None'}, "
            f"{'r.acc' if camp.accrues else 'None'}, r.asks"]
    if camp.reward is not None:
        ns[f"RW{k}"] = ("reward", camp.name, camp.reward.points)
        out.append(f"        wants = [*(wants or ()), RW{k}]")
    out += ["        if wants and not session.reserve(wants):",
            f"            rejected.append(RJ{k}[session.shortage])",
            "            break"]
    if camp.discounts:  # (the bytecode's actions may ask for a discount)
        out.append("        requested = sum(discount) if discount is not None else 0")
        if capped:
            out += ["        if requested and md is not None and requested > md:",
                    "            discount = CAP(discount, md, lines, ordered)",
                    "            requested = md"]
    else:
        out.append("        requested = 0")
    out += ["        points = 0",
            "        points_vec = None"]
    if camp.accrues:  # (the bytecode's actions may accrue points)
        out.append("        if accruals:")
        if original:  # the amounts are final already: allocate now, once
            out.append("            points_vec = POINTS(accruals, basis, n, ordered)")
            if camp.max_points is not None:
                out.append(f"            points_vec = CAP(points_vec, MP{k}, lines, ordered)")
            out.append("            points = sum(points_vec)")
        else:
            out.append("            points = PTOTAL(accruals, basis)")
            if camp.max_points is not None:
                out += [f"            if points > MP{k}:",
                        f"                points = MP{k}"]
    out += ["        if not requested and not points and not wants:",
            f"            rejected.append(RJ{k}['no_effect'])",
            "            break",
            f"        cands.append((C{k}, discount if requested else None, accruals or [], points, points_vec, wants))",
            "        break"]
    return out
