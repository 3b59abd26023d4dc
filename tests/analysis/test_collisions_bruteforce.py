"""Static answers against brute force, on random small programmes: every ``disjoint`` is confirmed by
evaluating a grid of receipts and customers, every witness fires both campaigns in the runtime."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyadsl.analysis.collisions import analyse, fired
from loyadsl.api import compile_text
from loyadsl.compile import ir
from loyadsl.runtime import Engine

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
STORES = ("S1", "S2", "S3")
HOURS = (0, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 22)

campaign = st.fixed_dictionaries({
    "weekdays": st.none() | st.sets(st.sampled_from(DAYS), min_size=1, max_size=4),
    "hours": st.none() | st.tuples(st.sampled_from((8, 10, 12, 14)), st.sampled_from((1, 2, 4))),
    "stores": st.none() | st.tuples(st.booleans(), st.sets(st.sampled_from(STORES), min_size=1, max_size=2)),
    "tier": st.none() | st.sampled_from(("gold", "silver")),
    "category": st.sampled_from(("x", "y")),
})


def programme(specs: list[dict[str, Any]], stacking: str) -> str:
    out = ['programme "t" {\n    currency RUB minor 2\n    timezone "UTC"\n}\n',
           f"group g {{\n    priority 1\n    stacking {stacking}\n    basis original\n}}\n"]
    for i, s in enumerate(specs):
        body = ["    group g", f"    priority {10 - i}"]
        if s["weekdays"]:
            body.append(f"    weekdays [{', '.join(d for d in DAYS if d in s['weekdays'])}]")
        if s["hours"]:
            start, length = s["hours"]
            body.append(f"    hours {start:02}:00 .. {start + length:02}:00")
        if s["stores"]:
            negated, stores = s["stores"]
            listed = ", ".join(f'"{x}"' for x in sorted(stores))
            body.append(f"    stores {'not ' if negated else ''}[{listed}]")
        if s["tier"]:
            body.append(f'    audience customer.tier == "{s["tier"]}"')
        body.append(f'    then discount 10% on lines where category "{s["category"]}"')
        out.append(f"campaign c{i} {{\n" + "\n".join(body) + "\n}\n")
    return "\n".join(out)


def grid() -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Receipts (each with a line of both categories) at every weekday, boundary hour and store, for
    no customer and a customer of each tier."""
    lines = [{"line_no": i + 1, "sku": f"K{i}", "category": cat, "qty": 1, "unit_price": 10_000, "amount": 10_000}
             for i, cat in enumerate(("x", "y"))]
    out = []
    for day, hour, minute, store, tier in itertools.product(range(7), HOURS, (0, 30), (*STORES, "S9"),
                                                           (None, "gold", "silver")):
        when = dt.datetime(2025, 1, 6 + day, hour, minute, tzinfo=dt.UTC)
        customer = None if tier is None else {"id": "C1", "tier": tier, "segments": []}
        out.append(({"receipt_id": "G", "customer_id": customer and "C1", "datetime": when.isoformat(),
                     "store_id": store, "lines": lines}, customer))
    return out


GRID = grid()


def compiled(text: str) -> tuple[ir.Programme, Engine]:
    data, result = compile_text(text)
    assert data is not None and result.programme is not None, result.diagnostics
    return result.programme, Engine.from_bytes(data)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(campaign, min_size=2, max_size=3),
       st.sampled_from(("stack_all", "best_for_customer", "first_by_priority")))
def test_static_answers_hold_against_brute_force(specs: list[dict[str, Any]], stacking: str) -> None:
    prog, engine = compiled(programme(specs, stacking))
    for v in analyse(prog, engine):
        if v.answer == "disjoint":
            for receipt, customer in GRID:
                assert not {v.a, v.b} <= fired(engine.evaluate(receipt, customer)), (v, receipt, customer)
        elif v.answer == "meet":
            assert v.witness is not None
            outcome = engine.evaluate(v.witness["receipt"], v.witness["customer"])
            assert {v.a, v.b} <= fired(outcome)


def test_the_filters_of_the_grid_are_decided() -> None:
    """Campaigns that differ only in weekday, hours, stores or tier: each pair is decided (no unknown)."""
    specs = [{"weekdays": {"mon"}, "hours": None, "stores": None, "tier": None, "category": "x"},
             {"weekdays": {"tue"}, "hours": None, "stores": None, "tier": None, "category": "x"},
             {"weekdays": None, "hours": (8, 2), "stores": (False, {"S1"}), "tier": "gold", "category": "y"},
             {"weekdays": None, "hours": (12, 2), "stores": (True, {"S1"}), "tier": "silver", "category": "y"}]
    prog, engine = compiled(programme(specs, "stack_all"))
    answers = {(v.a, v.b): (v.answer, v.reason) for v in analyse(prog, engine)}
    assert answers["c0", "c1"] == ("disjoint", "weekdays do not overlap")
    assert answers["c2", "c3"] == ("disjoint", "hours do not overlap")
    assert answers["c0", "c2"][0] == "meet"
