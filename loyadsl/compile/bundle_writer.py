"""Assemble the bundle payload (docs/bundle.md) from a checked programme.

Everything is ordered deterministically (declaration order, sorted sets, sorted source list), so
the same sources always give byte-identical bundles.
"""

from __future__ import annotations

import hashlib
from typing import Any

from loyadsl import __version__
from loyadsl.compile import ir
from loyadsl.compile.codegen import Emitter, Pool, block_cost
from loyadsl.compile.footprint import footprint
from loyadsl.runtime.bundle import pack_bundle

FORMAT_VERSION = 1


def build_payload(programme: ir.Programme) -> dict[str, Any]:
    pool = Pool()
    campaigns: list[dict[str, Any]] = []
    sku_index: dict[str, list[int]] = {}
    total_fixed = total_per_line = 0
    for index, c in enumerate(programme.campaigns):
        audience = Emitter(pool).block(c.audience) if c.audience is not None else None
        condition = Emitter(pool).block(c.condition) if c.condition is not None else None
        actions = Emitter(pool).block(actions=c.actions)
        fp = footprint(c)
        for sku in fp["needs_skus"] or ():
            sku_index.setdefault(sku, []).append(index)
        campaigns.append(
            {
                "name": c.name,
                "title": c.title,
                "group": c.group,
                "priority": c.priority,
                "order": c.order,
                "footprint": fp,
                "audience": audience,
                "condition": condition,
                "actions": actions,
                "limits": {
                    "applications": c.limit_applications,
                    "discount": c.max_discount,
                    "points": c.max_points,
                },
                "multiplier_base": c.multiplier_base,
                "span": c.span.to_dict() if c.span else None,
            }
        )
    # Costs are computed once every predicate exists (a later campaign cannot change an earlier
    # campaign's predicates, but keeping the pass separate keeps the rule in one place).
    for record in campaigns:
        fixed = per_line = 0
        for block in ("audience", "condition", "actions"):
            f, p = block_cost(record[block], pool.predicates, pool.constants)
            fixed += f
            per_line += p
        record["cost"] = {"fixed": fixed, "per_line": per_line}
        total_fixed += fixed
        total_per_line += per_line
    s = programme.settings
    source_hash = hashlib.sha256(
        "\n".join(f"{src.path}:{src.sha256}" for src in programme.sources).encode("utf-8")
    ).hexdigest()
    return {
        "manifest": {
            "format_version": FORMAT_VERSION,
            "compiler_version": __version__,
            "programme": {"name": programme.name, "version": programme.version},
            "source_hash": f"sha256:{source_hash}",
            "sources": [{"path": src.path, "sha256": src.sha256} for src in programme.sources],
        },
        "settings": {
            "currency": s.currency,
            "minor": s.minor,
            "points_minor": s.points_minor,
            "point_value": s.point_value,
            "timezone": s.timezone,
            "rounding": {"discount": s.rounding_discount, "points": s.rounding_points},
            "allocation": s.allocation,
        },
        "constants": pool.constants,
        "predicates": pool.predicates,
        "groups": [
            {
                "name": g.name,
                "title": g.title,
                "priority": g.priority,
                "stacking": g.stacking,
                "stacking_limit": g.stacking_limit,
                "basis": g.basis,
            }
            for g in programme.groups
        ],
        "campaigns": campaigns,
        "sku_index": {sku: sku_index[sku] for sku in sorted(sku_index)},
        "cost": {"fixed": total_fixed, "per_line": total_per_line},
    }


def write_bundle(programme: ir.Programme, signing_key: bytes | None = None) -> bytes:
    return pack_bundle(build_payload(programme), signing_key=signing_key)
