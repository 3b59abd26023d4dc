"""A campaign's footprint: the part of its conditions that can be reasoned about without running it.

The engine uses the window, filters and ``needs_skus`` to skip campaigns cheaply; collision analysis,
reports and ``find-sku`` read the rest (sets of SKUs, categories and brands it touches, its receipt
threshold, its audience).
"""

from __future__ import annotations

from typing import Any

from loyadsl.compile import ir
from loyadsl.runtime.opcodes import Op


def footprint(c: ir.ICampaign) -> dict[str, Any]:
    sets: dict[str, set[str]] = {"sku": set(), "category": set(), "brand": set()}
    for pred in _predicates(c):
        _collect_sets(pred, sets)
    effects = sorted({_effect_kind(r) for r in _all_rewards(c.actions)})
    return {
        "dates": list(c.dates) if c.dates else None,
        "weekdays": list(c.weekdays) if c.weekdays else None,
        "hours": list(c.hours) if c.hours else None,
        "stores": _set_filter(c.stores),
        "channels": _set_filter(c.channels),
        "needs_skus": sorted(needs) if (needs := needed_skus(c)) else None,
        "skus": sorted(sets["sku"]),
        "categories": sorted(sets["category"]),
        "brands": sorted(sets["brand"]),
        "min_total": _min_total(c.condition),
        "audience": _audience(c.audience),
        "effects": effects,
    }


def needed_skus(c: ir.ICampaign) -> frozenset[str] | None:
    """SKUs of which a receipt must hold at least one for the campaign to give anything, if known.

    Found either in the condition (a conjunct ``count/qty/units/sum(lines where sku in S) >= k > 0``)
    or in the actions (every reward only ever touches lines with ``sku in S``, and no action changes
    the customer's state, which it does whatever the lines).
    """
    for conjunct in _conjuncts(c.condition):
        if isinstance(conjunct, ir.Cmp) and isinstance(conjunct.left, ir.Agg) and _positive_threshold(conjunct):
            skus = _required_skus(conjunct.left.predicate)
            if skus:
                return skus
    if _state_actions(c.actions):
        return None
    union: set[str] = set()
    for reward in _all_rewards(c.actions):
        preds = [p for p, _ in reward.parts] if isinstance(reward, ir.ComboReward) else [reward.predicate]
        found = [_required_skus(p) for p in preds]
        if isinstance(reward, ir.ComboReward):
            # every part must be present; any one part's SKUs are necessary
            candidates = [s for s in found if s]
            if not candidates:
                return None
            union |= min(candidates, key=len)
            continue
        if not found[0]:
            return None
        union |= found[0]
    return frozenset(union) if union else None


def _positive_threshold(cmp: ir.Cmp) -> bool:
    if not isinstance(cmp.right, ir.Const) or type(cmp.right.value) is not int:
        return False
    value = cmp.right.value
    return (cmp.op == Op.GE and value > 0) or (cmp.op == Op.GT and value >= 0)


def _required_skus(pred: ir.IExpr) -> frozenset[str] | None:
    for conjunct in _conjuncts(pred):
        if (
            isinstance(conjunct, ir.In)
            and conjunct.op == Op.IN
            and isinstance(conjunct.item, ir.Load)
            and conjunct.item.source == "line"
            and conjunct.item.field == "sku"
            and isinstance(conjunct.collection, ir.Const)
            and isinstance(conjunct.collection.value, frozenset)
        ):
            return conjunct.collection.value
    return None


def _conjuncts(e: ir.IExpr | None) -> list[ir.IExpr]:
    if e is None:
        return []
    if isinstance(e, ir.Logic) and e.op == Op.AND:
        return [c for operand in e.operands for c in _conjuncts(operand)]
    return [e]


def _min_total(cond: ir.IExpr | None) -> int | None:
    for conjunct in _conjuncts(cond):
        if (
            isinstance(conjunct, ir.Cmp)
            and conjunct.op in (Op.GE, Op.GT)
            and isinstance(conjunct.left, ir.Load)
            and conjunct.left.source == "receipt"
            and conjunct.left.field == "total"
            and isinstance(conjunct.right, ir.Const)
            and type(conjunct.right.value) is int
        ):
            return conjunct.right.value + (1 if conjunct.op == Op.GT else 0)
    return None


def _audience(aud: ir.IExpr | None) -> dict[str, Any] | None:
    if aud is None:
        return None
    summary: dict[str, Any] = {"known": False, "tiers": [], "segments": []}
    for conjunct in _conjuncts(aud):
        if isinstance(conjunct, ir.Load) and conjunct.field == "known":
            summary["known"] = True
        elif isinstance(conjunct, ir.Cmp) and conjunct.op == Op.EQ and isinstance(conjunct.left, ir.Load) \
                and conjunct.left.field == "tier" and isinstance(conjunct.right, ir.Const):
            summary["tiers"].append(conjunct.right.value)
        elif isinstance(conjunct, ir.In) and isinstance(conjunct.collection, ir.Const) \
                and isinstance(conjunct.collection.value, frozenset):
            field = getattr(conjunct.item, "field", None)
            if field == "tier":
                summary["tiers"].extend(sorted(conjunct.collection.value))
            elif field == "segments":
                summary["segments"].extend(sorted(conjunct.collection.value))
    summary["known"] = summary["known"] or bool(summary["tiers"] or summary["segments"])
    return summary


def _collect_sets(e: ir.IExpr, sets: dict[str, set[str]]) -> None:
    if (isinstance(e, ir.In) and isinstance(e.item, ir.Load) and e.item.source == "line"
            and e.item.field in sets and isinstance(e.collection, ir.Const)
            and isinstance(e.collection.value, frozenset)):
        sets[e.item.field] |= e.collection.value
    for child in _children(e):
        _collect_sets(child, sets)


def _children(e: ir.IExpr) -> list[ir.IExpr]:
    if isinstance(e, ir.Arith | ir.Cmp | ir.MulDiv):
        return [e.left, e.right]
    if isinstance(e, ir.In):
        return [e.item, e.collection]
    if isinstance(e, ir.NotE | ir.Neg):
        return [e.operand]
    if isinstance(e, ir.Logic):
        return list(e.operands)
    if isinstance(e, ir.Agg):
        return [e.predicate]
    return []


def _predicates(c: ir.ICampaign) -> list[ir.IExpr]:
    out: list[ir.IExpr] = []
    if c.condition is not None:
        out.append(c.condition)
    for r in _all_rewards(c.actions):
        if isinstance(r, ir.ComboReward):
            out.extend(p for p, _ in r.parts)
        else:
            out.append(r.predicate)
    for a in c.actions:
        if isinstance(a, ir.TierChoice):
            out.append(a.subject)
    out.extend(a.value for a in _state_actions(c.actions) if a.value is not None)
    return out


def _state_actions(actions: tuple[ir.IAction, ...]) -> list[ir.StateAction]:
    return [a for a in ir.flat_actions(actions) if isinstance(a, ir.StateAction)]


def _all_rewards(actions: tuple[ir.IAction, ...]) -> list[ir.Reward | ir.ComboReward]:
    return [a for a in ir.flat_actions(actions) if isinstance(a, ir.Reward | ir.ComboReward)]


def _effect_kind(r: ir.Reward | ir.ComboReward) -> str:
    return "points" if isinstance(r, ir.Reward) and r.op in (Op.ACCRUE_TOTAL, Op.ACCRUE_FIXED) else "discount"


def _set_filter(f: ir.SetFilter | None) -> dict[str, list[str]] | None:
    if f is None:
        return None
    return {"not_in" if f.negated else "in": sorted(f.values)}
