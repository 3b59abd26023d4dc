"""A tiny assembler for runtime tests: readable campaigns in, a bundle payload out.

Instructions are tuples. Operands are written as what they mean and interned here:
``("CONST", 5)``, ``("CONST", {"a", "b"})`` (a set), ``("CUSTOMER_ATTR", "city")``, ``("COUNTER", "coffee")``;
a predicate operand is its code (``("SUM", sku_in("A"))``); a COMBO operand is ``{"parts": [(pred_code, need),
...], "reward": ..., "part": ...}``. ``RET`` is appended. Costs use the verifier's formula.

The customer-state section (docs/state.md) is ``payload(..., state=...)``, with ``STATE`` (nothing
declared) as the default; a predicate inside it (redemption ``exclude``, chips ``earn.predicate``) may be
written as code and is interned like an operand. A campaign's ``account``, ``coupon``, ``usage_limit``
and ``budget`` are keywords of ``campaign``.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from loyadsl.runtime.bundle import FORMAT_VERSION, pack_bundle
from loyadsl.runtime.opcodes import OPCODES, code_cost

Code = list[tuple[Any, ...]]

TRUE: Code = [("CONST", True)]

STATE: dict[str, Any] = {"accounts": [], "default_account": None, "redemption": None, "tiers": None,
                         "counters": [], "coupons": [], "certificates": [], "referral": None}


def sku_in(*skus: str) -> Code:
    return [("LINE", "sku"), ("CONST", set(skus)), ("IN",)]


def cat_in(*cats: str) -> Code:
    return [("LINE", "category"), ("CONST", set(cats)), ("CATEGORY_IN",)]


def brand_is(brand: str) -> Code:
    return [("LINE", "brand"), ("CONST", brand), ("EQ",)]


def const_op(value: int) -> Code:
    return [("CONST", value)]


class Assembler:
    def __init__(self) -> None:
        self.constants: list[Any] = []
        self.predicates: list[list[list[Any]]] = []
        self._const_index: dict[tuple[str, type], int] = {}
        self._pred_index: dict[str, int] = {}

    def const(self, value: Any) -> int:
        encoded = {"set": sorted(value)} if isinstance(value, set | frozenset) else value
        key = (json.dumps(encoded, sort_keys=True), type(encoded))
        if key not in self._const_index:
            self._const_index[key] = len(self.constants)
            self.constants.append(encoded)
        return self._const_index[key]

    def predicate(self, code: Code) -> int:
        block = self.block(code)
        key = json.dumps(block)
        if key not in self._pred_index:
            self._pred_index[key] = len(self.predicates)
            self.predicates.append(block)
        return self._pred_index[key]

    def block(self, code: Code | None) -> Any:
        if code is None:
            return None
        out: list[list[Any]] = []
        for instr in code:
            op, *rest = instr
            spec = OPCODES.get(op)
            if not rest:
                out.append([op])
                continue
            operand = rest[0]
            if op == "CONST" or (spec is not None and spec.operand == "const" and isinstance(operand, str)):
                operand = self.const(operand)
            elif spec is not None and spec.operand == "predicate" and isinstance(operand, list):
                operand = self.predicate(operand)
            elif spec is not None and spec.operand == "combo" and isinstance(operand, dict):
                parts = [[self.predicate(p), need] for p, need in operand["parts"]]
                operand = self.const({"combo": {"parts": parts, "reward": operand["reward"],
                                                "part": operand.get("part")}})
            out.append([op, operand])
        if not out or out[-1] != ["RET"]:
            out.append(["RET"])
        return out

    def cost(self, code: Any) -> tuple[int, int]:
        if code is None:
            return 0, 0
        return code_cost(code, lambda p: len(self.predicates[p]),
                         lambda k: [p for p, _ in self.constants[k]["combo"]["parts"]])


def campaign(
    name: str,
    actions: Code,
    *,
    group: int = 0,
    priority: int = 0,
    condition: Code | None = None,
    audience: Code | None = None,
    limits: dict[str, int | None] | None = None,
    account: str | None = None,
    coupon: str | None = None,
    usage_limit: dict[str, Any] | None = None,
    budget: dict[str, Any] | None = None,
    **footprint: Any,
) -> dict[str, Any]:
    return {"name": name, "actions": actions, "group": group, "priority": priority, "condition": condition,
            "audience": audience, "limits": limits or {}, "footprint": footprint,
            "state": {"account": account, "coupon": coupon, "usage_limit": usage_limit, "budget": budget}}


def group(name: str, priority: int = 100, stacking: str = "stack_all", basis: str = "original",
          limit: int | None = None) -> dict[str, Any]:
    return {"name": name, "title": None, "priority": priority, "stacking": stacking, "stacking_limit": limit,
            "basis": basis}


def payload(
    campaigns: list[dict[str, Any]],
    groups: list[dict[str, Any]] | None = None,
    state: dict[str, Any] | None = None,
    **settings: Any,
) -> dict[str, Any]:
    asm = Assembler()
    state = copy.deepcopy({**STATE, **(state or {})})
    redemption = state["redemption"]
    if redemption is not None and isinstance(redemption.get("exclude"), list):
        redemption["exclude"] = asm.predicate(redemption["exclude"])
    for counter in state["counters"]:
        if counter.get("earn") is not None and isinstance(counter["earn"].get("predicate"), list):
            counter["earn"]["predicate"] = asm.predicate(counter["earn"]["predicate"])
    out = []
    sku_index: dict[str, list[int]] = {}
    total_fixed = total_per_line = 0
    for i, c in enumerate(campaigns):
        audience, condition, actions = asm.block(c["audience"]), asm.block(c["condition"]), asm.block(c["actions"])
        fp = c["footprint"]
        needs = fp.get("needs_skus")
        for sku in needs or ():
            sku_index.setdefault(sku, []).append(i)
        record = {
            "name": c["name"], "title": None, "group": c["group"], "priority": c["priority"], "order": i,
            "footprint": {
                "dates": fp.get("dates"), "weekdays": fp.get("weekdays"), "hours": fp.get("hours"),
                "stores": fp.get("stores"), "channels": fp.get("channels"),
                "needs_skus": sorted(needs) if needs else None,
                "categories": [], "skus": [], "brands": [], "min_total": None, "audience": None,
                "effects": ["discount"],
            },
            "audience": audience, "condition": condition, "actions": actions,
            "limits": {"applications": None, "discount": None, "points": None, **c["limits"]},
            "multiplier_base": None, "span": None, **c.get("state", {}),
        }
        out.append(record)
    for record in out:
        fixed = per_line = 0
        for block in ("audience", "condition", "actions"):
            f, p = asm.cost(record[block])
            fixed += f
            per_line += p
        record["cost"] = {"fixed": fixed, "per_line": per_line}
        total_fixed += fixed
        total_per_line += per_line
    base_settings = {"currency": "RUB", "minor": 2, "points_minor": 0, "point_value": 100,
                     "timezone": "Europe/Moscow", "rounding": {"discount": "floor", "points": "floor"},
                     "allocation": "largest_remainder"}
    base_settings.update(settings)
    return {
        "manifest": {"format_version": FORMAT_VERSION, "compiler_version": "test", "programme": {"name": "test", "version": "1"},
                     "source_hash": "sha256:0", "sources": []},
        "settings": base_settings,
        "constants": asm.constants,
        "predicates": asm.predicates,
        "groups": groups if groups is not None else [group("base")],
        "campaigns": out,
        "sku_index": {sku: sku_index[sku] for sku in sorted(sku_index)},
        "cost": {"fixed": total_fixed, "per_line": total_per_line},
        "state": state,
    }


def bundle_bytes(campaigns: list[dict[str, Any]], groups: list[dict[str, Any]] | None = None,
                 state: dict[str, Any] | None = None, **settings: Any) -> bytes:
    return pack_bundle(payload(campaigns, groups, state, **settings))


# ------------------------------------------------------------------------- the six mechanics


def six_mechanics(params: dict[str, Any]) -> bytes:
    """MECHANICS.md's six mechanics, as bench/six_mechanics.loya compiles them."""
    c_skus = params["c_skus"]
    campaigns = [
        campaign("a", [("CONST", 30000), ("ACCRUE_TOTAL", [*cat_in("tobacco"), ("NOT",)])]),
        campaign("b", [("CONST", 100000), ("DISCOUNT_LINES", cat_in("dairy"))],
                 condition=[("RECEIPT", "total"), ("CONST", 100000), ("GE",)],
                 weekdays=[1, 2, 3, 4, 5], hours=[36000, 57600]),
        campaign("c", [("CONST", 1), ("CONST", 3), ("FREE_UNITS", sku_in(*c_skus))], needs_skus=c_skus),
        campaign("d", [
            ("RECEIPT", "total"), ("CONST", 500000), ("GE",), ("IF",),
            ("CONST", 50000), ("DISCOUNT_AMOUNT", TRUE),
            ("ELSE",),
            ("RECEIPT", "total"), ("CONST", 250000), ("GE",), ("IF",),
            ("CONST", 20000), ("DISCOUNT_AMOUNT", TRUE),
            ("END",), ("END",),
        ]),
        campaign("e", [("CONST", 120000), ("ACCRUE_TOTAL", [("LINE", "brand"), ("CONST", {"BR007"}), ("IN",)])],
                 stores={"in": sorted(params["e_stores"])}),
        campaign("f", [("CONST", 500000), ("COMBO", {
            "parts": [(cat_in("cafe/coffee"), 1), (cat_in("cafe/croissant"), 1)],
            "reward": "percent_on_part", "part": 1})]),
    ]
    return bundle_bytes(campaigns, [group("independent", 1)], allocation="largest_line")


# ------------------------------------------------------------------------- receipts


def line(sku: str, price: int, qty: int | float = 1, category: str = "misc/other", brand: str = "",
         amount: int | None = None, **extra: Any) -> dict[str, Any]:
    if amount is None:
        amount = price * qty if isinstance(qty, int) else (round(qty * 1000) * price + 500) // 1000
    return {"sku": sku, "category": category, "brand": brand, "qty": qty, "unit_price": price, "amount": amount,
            **extra}


def receipt(*lines: dict[str, Any], when: str = "2025-03-05T12:00:00+03:00", store: str = "S001",
            customer: str | None = None, **extra: Any) -> dict[str, Any]:
    numbered = [{"line_no": i, **item} if "line_no" not in item else item for i, item in enumerate(lines, 1)]
    return {"receipt_id": "R1", "customer_id": customer, "datetime": when, "store_id": store, "lines": numbered,
            **extra}


DELETE = object()  # as a value for ``set_at``: remove the key instead


def set_at(data: Any, path: list[Any], value: Any) -> Any:
    """Set (or with DELETE remove) the value at a JSON path inside ``data``; returns ``data``."""
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data
