"""One generated function that runs every group of a bundle on the stateless path without a trace.

The engine's general loop (``Engine._group``) asks, for every campaign of every receipt, what a
compiler knows once: whether the campaign is gated by a SKU, whether it has a discount or points
cap, whether its group stacks everything, on which basis the group computes. This module writes
that knowledge out as straight-line Python, once per engine: per campaign a few statements, with
no branch for a cap it does not have, and for a ``stack_all`` group the winners taken as they come
(nothing is ranked, so a candidate list would only be built to be walked). A group with many
SKU-gated campaigns keeps the general loop, whose index skips the campaigns a receipt cannot touch.

The outcome is the general loop's, field for field (tests/runtime/test_rt_driver.py checks it on
random programmes). Safety, as in runtime/jit.py: the source holds only names made up here and
integer positions; every value (campaigns, rejections, caps) lives in the namespace, which has no
builtins but ``sum`` and ``len``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol


class Campaign(Protocol):
    """What the driver reads of the engine's prepared campaign."""

    name: str
    index: int
    run: Callable[[Any, Any], str | None]
    sku_gated: bool
    discounts: bool  # its actions may ask for a discount (``r.vec``)
    accrues: bool  # its actions may accrue points (``r.acc``)
    applications: int | None
    max_discount: int | None
    max_points: int | None
    rejections: dict[str, Any]


class Group(Protocol):
    name: str
    original: bool
    stacking: str
    by_index: bool
    campaigns: list[Any]


Driver = Callable[[Any, Any, Any], None]  # (r, cu, tally)


def build(groups: Sequence[Group], general: Callable[..., None], pricer: Any,
          apply: Callable[..., tuple[Any, ...]], stack: Callable[..., list[Any]],
          live: bool = False, exclusive: Callable[..., bool] | None = None) -> tuple[Driver, str]:
    """The driver for ``groups`` (in evaluation order) and its source. ``general(group, r, cu, t,
    None, None)`` runs a group the general way; ``apply`` and ``stack`` are the engine's. ``live``:
    a predicate reads what is left of lines, so each group starts by noting it (``r.now``, docs/order.md).
    ``exclusive(r, cu, t, None, None)`` runs the exclusive campaigns first, and says whether one took the
    whole receipt (runtime/order.py); None: the programme has none."""
    ns: dict[str, Any] = {"__builtins__": {}, "sum": sum, "len": len, "PTOTAL": pricer.points_total,
                          "CAP": pricer.cap, "APPLY": apply, "STACK": stack, "GENERAL": general}
    body = ["def drive(r, cu, t):",
            "    lines, n, ordered = r.lines, r.nlines, r.ordered",
            "    amounts, left, floors = t.amounts, t.left, t.floors",
            "    rejected, applied, effects, pending = t.rejected, t.applied, t.effects, t.pending"]
    if exclusive is not None:
        ns["EXCLUSIVE"] = exclusive
        body += ["    if EXCLUSIVE(r, cu, t, None, None): return", "    floors = t.floors"]
    for g, group in enumerate(groups):
        ns[f"G{g}"] = group
        if group.by_index:
            body.append(f"    GENERAL(G{g}, r, cu, t, None, None)")
            continue
        body += _group(g, group, ns, live)
    if len(body) == (6 if exclusive is not None else 4):
        body.append("    return")
    source = "\n".join(body) + "\n"
    exec(compile(source, "<loyadsl driver>", "exec"), ns)  # our own source: see the docstring
    return ns["drive"], source


def _group(g: int, group: Group, ns: dict[str, Any], live: bool = False) -> list[str]:
    out = [f"    # group {g}: {group.stacking}, basis {'original' if group.original else 'discounted'}",
           "    r.basis = basis = amounts" if group.original else "    r.basis = basis = left[:]",
           "    r.payable = sum(left)"]
    if live:
        out.append("    r.now = left[:]")
    ranked = group.stacking != "stack_all"
    if ranked:
        out.append("    cands = []")
    for p, camp in enumerate(group.campaigns):
        out += _campaign(f"{g}_{p}", camp, group.original, ranked, ns)
    if ranked:
        out += [f"    if len(cands) > 1: cands = STACK(G{g}, cands, left, floors, rejected, None)",
                "    for camp, discount, accruals, points, pv, _ in cands:",
                "        applied.append(camp.name)",
                "        if discount is not None: effects.append(APPLY(camp, discount, left, floors, None))",
                f"        if accruals: pending.append((camp, accruals, pv, {group.original}, "
                f"{'points' if group.original else 'None'}))"]
    return out


def _campaign(key: str, camp: Campaign, original: bool, ranked: bool, ns: dict[str, Any]) -> list[str]:
    """One campaign's statements. What its actions can ask for is known from its bytecode
    (``discounts``, ``accrues``), so a points campaign has no discount lines and the reverse. Points are
    decided as a total; the points per line are allocated when the outcome is read (runtime/engine.py,
    ``_Points``), from the pending accruals; on the original basis that total is final, and the pending
    entry keeps it."""
    ns.update({f"C{key}": camp, f"RUN{key}": camp.run, f"REJ{key}": camp.rejections,
               f"NOEFFECT{key}": camp.rejections["no_effect"], f"NAME{key}": camp.name,
               f"APPS{key}": camp.applications, f"MAXD{key}": camp.max_discount, f"MAXP{key}": camp.max_points})
    out: list[str] = []
    pad = "    "
    if camp.sku_gated:
        ns[f"NOITEMS{key}"] = camp.rejections["no_eligible_items"]
        ns[f"IDX{key}"] = camp.index
        out += [f"    if not r.wants(IDX{key}): rejected.append(NOITEMS{key})", "    else:"]
        pad = "        "
    out += [f"r.vec = r.acc = None; r.budget = APPS{key}",
            f"reason = RUN{key}(r, cu)",
            f"if reason is not None: rejected.append(REJ{key}[reason])",
            "else:"]
    gives = []
    if camp.discounts:
        out += ["    discount = r.vec", "    requested = sum(discount) if discount is not None else 0"]
        if camp.max_discount is not None:
            out.append(f"    if requested and requested > MAXD{key}: discount = CAP(discount, MAXD{key}, lines, ordered); "
                       f"requested = MAXD{key}")
        gives.append("requested")
    if camp.accrues:
        out += ["    accruals = r.acc", "    points = PTOTAL(accruals, basis) if accruals else 0"]
        if camp.max_points is not None:
            out.append(f"    if points > MAXP{key}: points = MAXP{key}")
        gives.append("points")
    if not gives:
        out.append(f"    rejected.append(NOEFFECT{key})")
        return _indent(out, pad, camp.sku_gated)
    out += [f"    if not {' and not '.join(gives)}: rejected.append(NOEFFECT{key})", "    else:"]
    discount = "discount if requested else None" if camp.discounts else "None"
    if ranked:
        accruals, points = ("accruals or []", "points") if camp.accrues else ("[]", "0")
        out.append(f"        cands.append((C{key}, {discount}, {accruals}, {points}, None, None))")
    else:
        out.append(f"        applied.append(NAME{key})")
        if camp.discounts:
            out.append(f"        if requested: effects.append(APPLY(C{key}, discount, left, floors, None))")
        if camp.accrues:
            out.append(f"        if accruals: pending.append((C{key}, accruals, None, {original}, "
                       f"{'points' if original else 'None'}))")
    return _indent(out, pad, camp.sku_gated)


def _indent(out: list[str], pad: str, gated: bool) -> list[str]:
    return [out[0], out[1]] + [pad + line for line in out[2:]] if gated else [pad + line for line in out]
