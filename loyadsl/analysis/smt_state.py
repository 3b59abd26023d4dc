"""The customer's state in the SMT encoding (docs/collisions.md, "State witnesses").

A campaign may read what the programme remembers about a customer: a counter's or chips' value
(``counter.NAME``, ``chips.NAME``), an account's active points (``balance.ACCOUNT``), the benefit of
the customer's tier level (``tier.BENEFIT``), or need a presented coupon of a series it holds, or a
counter balance to spend. Each value read becomes one integer variable bound only by what holds for
every customer (as the runtime's ``state.view`` computes it):

* an anonymous receipt reads 0 for all of them;
* counters and chips are never negative (a balance can be, by debt);
* with tiers declared, a known customer's tier is one of the levels (the entry level stands in for
  none), and ``tier.BENEFIT`` is that level's benefit (0 for a benefit the level does not name).

So ``unsat`` stays a proof. A model (concrete encoding) becomes a customer record holding exactly
those values: counters in the period of the receipt's local day, one active lot per account, one
valid coupon of each series a campaign wants presented, which the runtime then evaluates.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from loyadsl.compile import ir
from loyadsl.runtime.declarations import StateDecls
from loyadsl.runtime.opcodes import Op
from loyadsl.runtime.state.periods import period_key

MAX_COUNT = 10**6  # a witness's counter or balance: large enough for any threshold, small enough to read


class StateVars:
    """The state values the campaigns read, as z3 integers keyed by (op, name)."""

    def __init__(self, z: Any, known: Any, tier: Any, tier_index: dict[str, int], decls: StateDecls | None,
                 concrete: bool, facts: list[Any]) -> None:
        self.z, self.known, self.tier, self.decls, self.concrete = z, known, tier, decls, concrete
        self.tier_index = tier_index
        self.values: dict[tuple[Op, str], Any] = {}
        self.coupons: list[str] = []  # series a witness presents a coupon of
        self.facts = facts  # the encoding's: the values are made as the campaigns are encoded
        levels = decls.tiers.levels if decls is not None and decls.tiers is not None else ()
        if levels:  # a known customer's tier is a level's name (runtime/state/view.py)
            self.facts.append(z.Implies(known, z.Or([tier == tier_index[lv.name] for lv in levels])))

    def read(self, e: ir.StateLoad) -> Any:
        return self.value(e.op, e.name)

    def value(self, op: Op, name: str) -> Any:
        key = (op, name)
        if key not in self.values:
            self.values[key] = self._new(op, name)
        return self.values[key]

    def _new(self, op: Op, name: str) -> Any:
        z = self.z
        var = z.Int(f"{op.lower()}.{name}")
        if op == Op.BENEFIT and self.decls is not None:
            self.facts.append(var == z.If(self.known, self._benefit(name), 0))
            return var
        self.facts.append(z.Implies(z.Not(self.known), var == 0))  # (a benefit without the decls: any value)
        if op == Op.COUNTER or self.concrete:  # counters never go below 0; a witness builds no debt
            self.facts.append(var >= 0)
        if self.concrete:
            self.facts.append(var <= MAX_COUNT)
        return var

    def _benefit(self, name: str) -> Any:
        levels = self.decls.tiers.levels if self.decls is not None and self.decls.tiers is not None else ()
        value = self.z.IntVal(0)
        for level in reversed(levels):
            value = self.z.If(self.tier == self.tier_index[level.name], level.benefits.get(name, 0), value)
        return value

    def needs(self, c: ir.ICampaign, integer: Any) -> list[tuple[str, Any]]:
        """What a witness must hold for the campaign's state requests (concrete encoding only: the
        runtime refuses a campaign whose coupon is missing or whose counter cannot pay the spend)."""
        if not self.concrete:
            return []
        out: list[tuple[str, Any]] = []
        if c.coupon is not None:
            if c.coupon not in self.coupons:
                self.coupons.append(c.coupon)
            out.append(("coupon", self.known))
        for a in c.actions:
            if isinstance(a, ir.StateAction) and a.op == Op.SPEND_COUNTER and a.value is not None:
                held = self.value(Op.COUNTER, a.name)
                out.append(("spend", self.z.And(self.known, held >= integer(a.value))))
        return out

    def customer(self, m: Any, local: dt.datetime) -> dict[str, Any]:
        """The model's state as customer record fields, at the receipt's local time."""
        def number(var: Any) -> int:
            return int(m.eval(var, model_completion=True).as_long())

        counters: dict[str, Any] = {}
        accounts: dict[str, Any] = {}
        resets = {c.name: c.reset for c in self.decls.counters} if self.decls is not None else {}
        since = (local - dt.timedelta(days=1)).isoformat()
        for (op, name), var in self.values.items():
            value = number(var)
            if op == Op.COUNTER and name in resets and value:
                counters[name] = {"value": value, "period": period_key(local.date().toordinal(), resets[name])}
            elif op == Op.BALANCE and value > 0:
                accounts[name] = {"balance": value, "lots": [{"id": f"W-{name}", "points": value, "left": value,
                                                              "active_from": since}]}
        coupons = [{"code": f"W-{series}", "series": series, "issued": since, "valid_from": since}
                   for series in self.coupons]
        return {"counters": counters, "accounts": accounts, "coupons": coupons}
