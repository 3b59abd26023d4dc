"""``loya find-sku``: every campaign that can affect a SKU, and how (docs/collisions.md)."""

from __future__ import annotations

from typing import Any

from loyadsl.compile import ir
from loyadsl.compile.footprint import _all_rewards, _children, footprint


def affecting(programme: ir.Programme, sku: str) -> list[dict[str, Any]]:
    """Campaigns whose rewards can touch a line of this SKU: named directly (or by a list), by a
    category or brand filter (the SKU's own category and brand decide), or on any line."""
    out: list[dict[str, Any]] = []
    for c in programme.campaigns:
        how = _how(c, sku)
        if how is not None:
            out.append({"campaign": c.name, "group": programme.groups[c.group].name, "how": how,
                        "effects": footprint(c)["effects"]})
    return out


def _how(c: ir.ICampaign, sku: str) -> str | None:
    tests: list[tuple[str, frozenset[str], bool]] = []
    rewards = _all_rewards(c.actions)
    for reward in rewards:
        preds = [p for p, _ in reward.parts] if isinstance(reward, ir.ComboReward) else [reward.predicate]
        for pred in preds:
            _line_tests(pred, False, tests)
    if not rewards:
        return None
    if any(field == "sku" and negated and sku in values for field, values, negated in tests):
        return None if all(f == "sku" for f, _, _ in tests) else "excluded by a SKU list, unless other lines"
    if any(field == "sku" and not negated and sku in values for field, values, negated in tests):
        return "directly (SKU or SKU list)"
    positive = [(f, v) for f, v, neg in tests if not neg]
    if any(f == "sku" for f, _ in positive):
        return None if all(f == "sku" for f, _ in positive) else _by_sets(positive)
    if positive:
        return _by_sets(positive)
    return "any line"


def _by_sets(positive: list[tuple[str, frozenset[str]]]) -> str:
    parts = [f"{field} in {', '.join(sorted(values))}" for field, values in positive if field != "sku"]
    return "if its " + "; ".join(parts)


def _line_tests(e: ir.IExpr, negated: bool, out: list[tuple[str, frozenset[str], bool]]) -> None:
    if isinstance(e, ir.In) and isinstance(e.item, ir.Load) and e.item.source == "line" \
            and e.item.field in ("sku", "category", "brand") and isinstance(e.collection, ir.Const) \
            and isinstance(e.collection.value, frozenset):
        out.append((e.item.field, e.collection.value, negated))
        return
    for child in _children(e):
        _line_tests(child, negated ^ isinstance(e, ir.NotE), out)
