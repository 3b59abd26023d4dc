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
from loyadsl.runtime.bundle import FORMAT_VERSION, WITHOUT_EXPERIMENTS_VERSION, pack_bundle
from loyadsl.runtime.declarations import Budget, Expiry, UsageLimit
from loyadsl.runtime.segments.decls import SegmentDecls, SegmentDef, Track
from loyadsl.runtime.segments.decls import to_json as segments_json

__all__ = ["FORMAT_VERSION", "build_payload", "state_section", "write_bundle"]


def build_payload(programme: ir.Programme) -> dict[str, Any]:
    pool = Pool()
    campaigns = [_campaign(c, pool, programme.experiments) for c in programme.campaigns]
    state = state_section(programme.state, pool)
    # Costs are computed once every predicate exists (a later campaign cannot change an earlier
    # campaign's predicates, but keeping the pass separate keeps the rule in one place).
    for record in campaigns:
        record["cost"] = _cost(record, pool)
    return {
        "manifest": _manifest(programme),
        "settings": _settings(programme.settings),
        "constants": pool.constants,
        "predicates": pool.predicates,
        "groups": [_group(g) for g in programme.groups],
        "campaigns": campaigns,
        "sku_index": _sku_index(campaigns),
        "cost": {"fixed": sum(r["cost"]["fixed"] for r in campaigns),
                 "per_line": sum(r["cost"]["per_line"] for r in campaigns)},
        "state": state,
        **({"experiments": [_experiment(x) for x in programme.experiments]} if programme.experiments else {}),
        **({"triggers": [t.to_dict() for t in programme.triggers]} if programme.triggers else {}),
        **({"messages": {name: [{"channel": s.channel, "template": list(s.template)} for s in sends]
                         for name, sends in programme.messages}} if programme.messages else {}),
    }


def _campaign(c: ir.ICampaign, pool: Pool, experiments: tuple[ir.IExperiment, ...]) -> dict[str, Any]:
    """A campaign's record; its blocks are emitted into ``pool`` in the order audience, condition, actions."""
    audience = Emitter(pool).block(c.audience) if c.audience is not None else None
    condition = Emitter(pool).block(c.condition) if c.condition is not None else None
    record: dict[str, Any] = {
        "name": c.name,
        "title": c.title,
        "group": c.group,
        "priority": c.priority,
        "order": c.order,
        "footprint": footprint(c),
        "audience": audience,
        "condition": condition,
        "actions": Emitter(pool).block(actions=c.actions),
        "limits": {"applications": c.limit_applications, "discount": c.max_discount, "points": c.max_points},
        "multiplier_base": c.multiplier_base,
        "span": c.span.to_dict() if c.span else None,
        "account": c.account,
        "coupon": c.coupon,
        "usage_limit": _usage_limit(c.usage_limit),
        "budget": _budget(c.budget),
    }
    # The keys below are written only when set, so a programme without them keeps its bytes.
    if c.redemptions:
        record["redemptions"] = [limit.to_dict() for limit in c.redemptions]
    if c.discount_cap is not None:
        record["discount_cap"] = list(c.discount_cap)
    if c.arm is not None:
        record["arm"] = _arm_gate(c.arm, experiments)
    record.update(order_keys(c))  # docs/order.md
    if c.reward is not None:  # a catalogue reward (docs/rewards.md)
        record["reward"] = {"account": c.reward.account, "points": c.reward.points, "stock": c.reward.stock}
    return record


def _cost(record: dict[str, Any], pool: Pool) -> dict[str, int]:
    fixed = per_line = 0
    for block in ("audience", "condition", "actions"):
        f, p = block_cost(record[block], pool.predicates, pool.constants)
        fixed += f
        per_line += p
    return {"fixed": fixed, "per_line": per_line}


def _sku_index(campaigns: list[dict[str, Any]]) -> dict[str, list[int]]:
    """Which campaigns (by index) need each SKU, the SKUs sorted."""
    index: dict[str, list[int]] = {}
    for position, record in enumerate(campaigns):
        for sku in record["footprint"]["needs_skus"] or ():
            index.setdefault(sku, []).append(position)
    return {sku: index[sku] for sku in sorted(index)}


def _manifest(programme: ir.Programme) -> dict[str, Any]:
    source_hash = hashlib.sha256(
        "\n".join(f"{src.path}:{src.sha256}" for src in programme.sources).encode("utf-8")
    ).hexdigest()
    return {
        "format_version": FORMAT_VERSION if programme.experiments else WITHOUT_EXPERIMENTS_VERSION,
        "compiler_version": __version__,
        "programme": {"name": programme.name, "version": programme.version},
        "source_hash": f"sha256:{source_hash}",
        "sources": [{"path": src.path, "sha256": src.sha256} for src in programme.sources],
    }


def _settings(s: ir.Settings) -> dict[str, Any]:
    return {
        "currency": s.currency,
        "minor": s.minor,
        "points_minor": s.points_minor,
        "point_value": s.point_value,
        "timezone": s.timezone,
        "rounding": {"discount": s.rounding_discount, "points": s.rounding_points},
        "allocation": s.allocation,
        **({} if s.commerce is None else {"commerce": s.commerce.to_json()}),  # docs/commerce.md
        **({"fraud": s.fraud.to_dict()} if s.fraud is not None else {}),  # (a key only when set)
        **({"people": s.people.to_dict()} if s.people is not None else {}),
    }


def _group(g: ir.IGroup) -> dict[str, Any]:
    return {
        "name": g.name,
        "title": g.title,
        "priority": g.priority,
        "stacking": g.stacking,
        "stacking_limit": g.stacking_limit,
        "basis": g.basis,
        **({"order": g.order} if g.order != "priority" else {}),
    }


def _experiment(x: ir.IExperiment) -> dict[str, Any]:
    return {"name": x.name, "title": x.title, "salt": x.salt,
            "arms": [{"name": a.name, "weight": a.weight} for a in x.arms],
            "holdout": x.holdout, "anonymous": x.anonymous}


def state_section(state: ir.IState, pool: Pool) -> dict[str, Any]:
    """The payload's ``"state"`` (docs/state.md, "Bundle"); line selections go to the predicate table."""
    r = state.redemption
    t = state.tiers
    f = state.referral
    out = {
        "accounts": [
            {"name": a.name, "title": a.title, "activation": a.activation, "expiry": _expiry(a.expiry),
             "spend": a.spend, "credit": a.credit, "repay": a.repay, "shortfall": a.shortfall, "notify": a.notify}
            for a in state.accounts
        ],
        "default_account": state.default_account,
        "redemption": None if r is None else {
            "accounts": list(r.accounts), "max_share": r.max_share, "min_payment": r.min_payment,
            "exclude": None if r.exclude is None else pool.predicate(r.exclude),
            "accrue_on_redeemed": r.accrue_on_redeemed,
            **({"steps": r.steps} if r.steps != 1 else {}),  # docs/units.md; absent: 1, bundles stay as they were
            **({} if r.earn_with_burn else {"earn_with_burn": False}),
        },
        "tiers": None if t is None else {
            "name": t.name, "title": t.title, "measure": t.measure,
            "period": {"kind": t.period.kind, "days": t.period.days},
            "levels": [{"name": lv.name, "threshold": lv.threshold, "benefits": dict(lv.benefits)}
                       for lv in t.levels],
        },
        "counters": [
            {"name": c.name, "title": c.title, "kind": c.kind, "reset": c.reset,
             "earn": None if c.earn is None else {"count": c.earn.count, "per": c.earn.per,
                                                   "predicate": pool.predicate(c.earn.predicate)},
             "valid": None if c.valid is None else list(c.valid)}
            for c in state.counters
        ],
        "coupons": [
            {"name": s.name, "title": s.title, "code": s.code, "text": s.text, "valid_for": s.valid_for,
             "valid": None if s.valid is None else list(s.valid), "uses": s.uses, "per_customer": s.per_customer}
            for s in state.coupons
        ],
        "certificates": [
            {"name": c.name, "title": c.title, "skus": sorted(c.skus), "expiry": _expiry(c.expiry),
             "multi_use": c.multi_use, **({"per_unit": True} if c.per_unit else {})}
            for c in state.certificates
        ],
        "referral": None if f is None else {
            "qualify": f.qualify, "referrer": f.referrer, "referrer_account": f.referrer_account,
            "newcomer": f.newcomer, "newcomer_account": f.newcomer_account,
        },
    }
    if state.segments is not None:  # docs/segments.md (absent otherwise: other bundles keep their bytes)
        out["segments"] = _segments(state.segments, pool)
    return out


def _segments(seg: ir.ISegments, pool: Pool) -> dict[str, Any]:
    tracks = tuple(Track(key, pool.predicate(predicate)) for key, predicate in seg.tracks)
    decls = SegmentDecls(seg.profile, seg.horizon, tracks, seg.metrics, seg.lifecycle, seg.scores,
                         tuple(SegmentDef(name, title, ()) for name, title, _ in seg.segments))
    return segments_json(decls, [Emitter(pool).block(condition) for _, _, condition in seg.segments])


def _expiry(e: Expiry) -> dict[str, Any]:
    if e.kind == "after":
        return {"kind": "after", "seconds": e.seconds}
    if e.kind == "end_of":
        return {"kind": "end_of", "period": e.period, "next": e.next}
    return {"kind": "never"}


def _usage_limit(u: UsageLimit | None) -> dict[str, Any] | None:
    return None if u is None else {"count": u.count, "per": u.per}


def _arm_gate(gate: ir.ArmGate, experiments: tuple[ir.IExperiment, ...]) -> dict[str, Any]:
    """``{"experiment": index, "arms": [names]}``: the experiment by its index in ``"experiments"``."""
    index = next(i for i, x in enumerate(experiments) if x.name == gate.experiment)
    return {"experiment": index, "arms": list(gate.arms)}


def _budget(b: Budget | None) -> dict[str, Any] | None:
    return None if b is None else {"kind": b.kind, "amount": b.amount}


def order_keys(c: ir.ICampaign) -> dict[str, Any]:
    """A campaign's ``exclusive`` and ``redistribute`` keys (docs/order.md), only those that are set."""
    keys: dict[str, Any] = {}
    if c.exclusive is not None:
        keys["exclusive"] = c.exclusive
    if c.redistribute:
        keys["redistribute"] = True
    return keys


def write_bundle(programme: ir.Programme, signing_key: bytes | None = None) -> bytes:
    return pack_bundle(build_payload(programme), signing_key=signing_key)
