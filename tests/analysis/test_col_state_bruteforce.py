"""State witnesses against brute force (docs/collisions.md, "State witnesses"): random small programmes
whose campaigns read a counter, a balance, the tier's benefit and a profile attribute. Every ``disjoint``
is confirmed by evaluating a grid of customer states (values at and around every threshold, every level,
every city, no customer),
and every witness's receipt and customer fire both campaigns in the runtime."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyadsl.analysis.collisions import analyse, fired
from loyadsl.api import compile_text
from loyadsl.compile import ir
from loyadsl.runtime import Engine

THRESHOLDS = (0, 1, 5, 20)
READS = {"counter": "counter.cups", "balance": "balance.bonus", "rate": "tier.rate"}
UNIT = {"counter": "", "balance": " points", "rate": ""}
LEVELS = (("bronze", 0, 3), ("silver", 100_000, 5), ("gold", 500_000, 9))

condition = st.tuples(st.sampled_from(sorted(READS)), st.sampled_from((">=", "<", "==")), st.sampled_from(THRESHOLDS))
campaign = st.fixed_dictionaries({
    "conditions": st.lists(condition, min_size=1, max_size=2),
    "anonymous": st.booleans(),
    "spend": st.booleans(),
    "city": st.none() | st.tuples(st.sampled_from(("==", "!=")), st.sampled_from(("A", "B"))),
})


def programme(specs: list[dict[str, Any]]) -> str:
    levels = "\n".join(f"    level {n} >= {t // 100}.00 RUB {{ rate {r} }}" for n, t, r in LEVELS)
    out = ['programme "t" {\n    currency RUB minor 2\n    timezone "UTC"\n}\n',
           "account bonus {\n    default\n}\n", f"tiers status {{\n    qualify spend over year\n{levels}\n}}\n",
           "counter cups { reset month }\n",
           "group g {\n    priority 1\n    stacking stack_all\n    basis original\n}\n"]
    for i, s in enumerate(specs):
        when = " and ".join(f"{READS[r]} {op} {k}{UNIT[r]}" for r, op, k in s["conditions"])
        body = ["    group g", f"    priority {10 - i}", f"    when {when}"]
        if s["city"]:
            body[-1] += f' and customer.attr.city {s["city"][0]} "{s["city"][1]}"'
        if s["anonymous"]:
            body.append("    audience not customer.known")
        body.append('    then discount 10% on lines where category "x"')
        if s["spend"]:
            body.append("         spend 1 from cups")
        out.append(f"campaign c{i} {{\n" + "\n".join(body) + "\n}\n")
    return "\n".join(out)


RECEIPT = {"receipt_id": "G", "customer_id": None, "datetime": "2025-01-15T12:00:00+00:00", "store_id": "S1",
           "lines": [{"line_no": 1, "sku": "K", "category": "x", "qty": 1, "unit_price": 10_000, "amount": 10_000}]}
VALUES = sorted({max(0, k + d) for k in THRESHOLDS for d in (-1, 0, 1)})


def grid() -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """The receipt for no customer, and for customers with every counter and balance value near a
    threshold and every level."""
    out: list[tuple[dict[str, Any], dict[str, Any] | None]] = [(RECEIPT, None)]
    for cups, points, (level, _, _), city in itertools.product(VALUES, VALUES, LEVELS, ("", "A", "B", "C")):
        customer: dict[str, Any] = {"id": "C1", "tier": level, "attributes": {"city": city} if city else {}}
        if cups:
            customer["counters"] = {"cups": {"value": cups, "period": "2025-01"}}
        if points:
            customer["accounts"] = {"bonus": {"balance": points, "lots": [
                {"id": "L", "points": points, "left": points, "active_from": "2025-01-01T00:00:00+00:00"}]}}
        out.append(({**RECEIPT, "customer_id": "C1"}, customer))
    return out


GRID = grid()


def compiled(text: str) -> tuple[ir.Programme, Engine]:
    data, result = compile_text(text)
    assert data is not None and result.programme is not None, result.diagnostics
    return result.programme, Engine.from_bytes(data)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(campaign, min_size=2, max_size=3))
def test_state_answers_hold_against_brute_force(specs: list[dict[str, Any]]) -> None:
    prog, engine = compiled(programme(specs))
    for v in analyse(prog, engine):
        if v.answer == "disjoint":
            for receipt, customer in GRID:
                assert not {v.a, v.b} <= fired(engine.evaluate(receipt, customer)), (v, customer)
        elif v.answer == "meet":
            assert v.witness is not None
            assert {v.a, v.b} <= fired(engine.evaluate(v.witness["receipt"], v.witness["customer"])), v


def test_state_pairs_are_decided() -> None:
    """Pairs that meet only for a customer holding state are met with a witness that holds it; pairs
    whose state conditions contradict are proved disjoint: none is left unknown."""
    specs = [{"conditions": [("counter", ">=", 20)], "anonymous": False, "spend": True, "city": ("==", "A")},
             {"conditions": [("balance", ">=", 20), ("rate", "==", 9)], "anonymous": False, "spend": False,
              "city": None},
             {"conditions": [("counter", "<", 5)], "anonymous": False, "spend": False, "city": ("!=", "B")},
             {"conditions": [("counter", ">=", 0)], "anonymous": False, "spend": False, "city": ("==", "B")}]
    prog, engine = compiled(programme(specs))
    answers = {(v.a, v.b): v for v in analyse(prog, engine)}
    assert answers["c0", "c1"].answer == "meet"
    customer = answers["c0", "c1"].witness["customer"]  # type: ignore[index]
    assert customer["tier"] == "gold" and customer["counters"]["cups"]["value"] >= 20
    assert customer["accounts"]["bonus"]["balance"] >= 20
    assert answers["c0", "c2"].answer == "disjoint"
    assert answers["c1", "c2"].answer == "meet"
    assert customer["attributes"] == {"city": "A"}
    assert answers["c0", "c3"].answer == answers["c2", "c3"].answer == "disjoint"
