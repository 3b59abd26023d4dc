"""Collision analysis: can one receipt and customer satisfy two campaigns at once (docs/collisions.md).

A pair is ``disjoint`` only with a proof (from the campaigns' filters, or from the SMT solver over
their conditions); ``meet`` only with a witness receipt on which the runtime really fires both
(applied, or eligible and lost to the group's stacking); otherwise ``unknown``. The stages run
cheapest first, and each one only sees the pairs the earlier ones left open.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from loyadsl.analysis import smt
from loyadsl.analysis.filters import disjoint_reason
from loyadsl.analysis.search import Pair, Search, Witness, fired
from loyadsl.compile import ir
from loyadsl.compile.footprint import _children
from loyadsl.runtime import Engine
from loyadsl.runtime.declarations import StateDecls
from loyadsl.runtime.opcodes import Op

__all__ = ["Verdict", "analyse", "disjoint_reason", "fired"]

RETRY_PRICES = (100, 1_000_000)  # the least unit price of a solver witness's lines, in minor units, per try
UNKNOWN = "no proof of disjointness and no witness in the bounded search"


@dataclass(frozen=True)
class Verdict:
    a: str
    b: str
    answer: str  # disjoint | meet | unknown
    reason: str | None = None
    witness: dict[str, Any] | None = None
    resolution: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"a": self.a, "b": self.b, "answer": self.answer}
        for key in ("reason", "witness", "resolution"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out


def analyse(programme: ir.Programme, engine: Engine, pairs: Sequence[Pair] | None = None,
            solver: bool = True, progress: Callable[[str, int, int], None] | None = None) -> list[Verdict]:
    """One verdict per pair of campaigns (all pairs, or the ones asked for), in the order asked;
    ``solver``: decide the pairs the search leaves open with z3 (the `analysis` extra); ``progress``
    hears ("pairs", pairs decided, pairs in all) after each step."""
    if solver:
        smt.z3()  # a missing extra is LOY712 before any work, whatever the programme
    by_name = {c.name: c for c in programme.campaigns}
    if pairs is None:
        pairs = list(itertools.combinations([c.name for c in programme.campaigns], 2))
    done: dict[Pair, Verdict] = {}

    def step() -> None:
        if progress is not None:
            progress("pairs", len(done), len(pairs))

    for a, b in pairs:
        proof = disjoint_reason(by_name[a], by_name[b])
        if proof is not None:
            done[a, b] = Verdict(a, b, "disjoint", proof)
    step()
    search = Search(programme, engine)
    open_pairs = [p for p in pairs if p not in done]
    for quick in (True, False):  # the second round's receipts hold only the lines of pairs still open
        for pair, witness in search.shared([p for p in open_pairs if p not in done], quick).items():
            done[pair] = _meet(pair, witness)
        step()
    if solver:
        zone = ZoneInfo(programme.settings.timezone)
        for a, b in [p for p in open_pairs if p not in done]:
            decided = _solve(by_name[a], by_name[b], zone, search, engine.bundle.state)
            if decided is not None:
                done[a, b] = decided
            step()
    for a, b in (p for p in open_pairs if p not in done):
        alone = search.pair(a, b) if {a, b} <= search.fired_any else None
        done[a, b] = _meet((a, b), alone) if alone is not None else \
            Verdict(a, b, "unknown", _why_unknown(by_name[a], by_name[b]))
    return [done[p] for p in pairs]


def _solve(a: ir.ICampaign, b: ir.ICampaign, zone: ZoneInfo, search: Search, decls: StateDecls) -> Verdict | None:
    """z3's answer: a model the runtime confirms (its customer holds the state the two read: counters,
    balances, coupons; smt_state.py), or a proof (unsat core); None to search on. The model comes
    first: most open pairs meet, and one check is cheaper than two."""
    for min_price in RETRY_PRICES:  # larger amounts when the runtime saw no effect at small ones
        model = smt.witness([a, b], zone, decls, min_price)
        if model is None:
            break
        confirmed = search.confirm(model.receipt, model.customer, a.name, b.name)
        if confirmed is not None:
            return _meet((a.name, b.name), confirmed)
    proof = smt.proof([a, b], zone, decls=decls)
    if proof is not None:
        return Verdict(a.name, b.name, "disjoint", "conditions exclude each other (z3): " + "; ".join(proof.parts))
    return None


def _why_unknown(a: ir.ICampaign, b: ir.ICampaign) -> str:
    needs = [f"{c.name} needs {need}" for c in (a, b) if (need := state_needed(c)) is not None]
    return UNKNOWN + (f" ({'; '.join(needs)}: the search builds no state, and the solver's state witness "
                      "was not confirmed by the runtime)" if needs else "")


def state_needed(c: ir.ICampaign) -> str | None:
    """What customer state a campaign needs before it can fire, if any: the search never builds it."""
    if c.coupon is not None:
        return f"a presented coupon of {c.coupon}"
    if any(isinstance(a, ir.StateAction) and a.op == Op.SPEND_COUNTER for a in c.actions):
        return "a counter balance to spend"
    reads = [e for e in (c.audience, c.condition) if e is not None and _reads_state(e)]
    return "a state value (counter, chips, balance or benefit)" if reads else None


def _reads_state(e: ir.IExpr) -> bool:
    return isinstance(e, ir.StateLoad) or any(_reads_state(x) for x in _children(e))


def _meet(pair: Pair, w: Witness) -> Verdict:
    return Verdict(*pair, "meet", witness={"receipt": w.receipt, "customer": w.customer}, resolution=w.resolution)
