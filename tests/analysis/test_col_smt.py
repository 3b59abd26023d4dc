"""The solver's answers against brute force, on random small programmes whose campaigns have `when`
conditions (receipt totals, counts and units of lines by category) and audiences (tiers, known or
not) besides weekdays and hours: every ``disjoint`` (from filters or from z3) is confirmed by
evaluating a grid of receipts and customers, every witness fires both campaigns in the runtime."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyadsl.analysis.collisions import analyse, fired
from loyadsl.analysis.findings import findings
from loyadsl.api import compile_text
from loyadsl.compile import ir
from loyadsl.runtime import Engine

NAME = re.compile(r"campaign `(\w+)`")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CONDITIONS = (
    "receipt.total >= 1000.00 RUB", "receipt.total < 1000.00 RUB", "receipt.total >= 5000.00 RUB",
    "receipt.total <= 400.00 RUB", 'count(lines where category "x") >= 2', 'count(lines where category "x") == 0',
    'units(lines where category "y") >= 3', 'sum(lines where category "y") < 500.00 RUB', "receipt.lines >= 3",
    'count(lines where category "x") >= 1 and receipt.total < 2000.00 RUB',
)
AUDIENCES = ('customer.tier == "gold"', 'customer.tier in ["silver", "gold"]', "not customer.known", "customer.known")

campaign = st.fixed_dictionaries({
    "weekdays": st.none() | st.sets(st.sampled_from(DAYS), min_size=1, max_size=3),
    "hours": st.none() | st.sampled_from(((8, 12), (11, 15), (22, 2))),
    "audience": st.none() | st.sampled_from(AUDIENCES),
    "when": st.none() | st.sampled_from(CONDITIONS),
    "on": st.sampled_from(("receipt", 'lines where category "x"', 'lines where category "y"')),
})


def programme(specs: list[dict[str, Any]], stacking: str) -> str:
    out = ['programme "t" {\n    currency RUB minor 2\n    timezone "UTC"\n}\n',
           f"group g {{\n    priority 1\n    stacking {stacking}\n    basis original\n}}\n"]
    for i, s in enumerate(specs):
        body = ["    group g", f"    priority {10 - i}"]
        if s["weekdays"]:
            body.append(f"    weekdays [{', '.join(d for d in DAYS if d in s['weekdays'])}]")
        if s["hours"]:
            body.append(f"    hours {s['hours'][0]:02}:00 .. {s['hours'][1]:02}:00")
        if s["audience"]:
            body.append(f"    audience {s['audience']}")
        if s["when"]:
            body.append(f"    when {s['when']}")
        body.append(f"    then discount 10% on {s['on']}")
        out.append(f"campaign c{i} {{\n" + "\n".join(body) + "\n}\n")
    return "\n".join(out)


def _lines(cats: str, price: int, qty: int) -> list[dict[str, Any]]:
    return [{"line_no": i + 1, "sku": f"K{i}", "category": c, "qty": qty, "unit_price": price,
             "amount": qty * price} for i, c in enumerate(cats)]


def grid() -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Receipts at each weekday and at hours inside and outside every window, with line mixes of the
    two categories at prices on both sides of every threshold, for no customer and each tier."""
    out = []
    baskets = [(cats, price, qty) for cats in ("x", "y", "xx", "xy", "yy", "xxy", "xyy")
               for price, qty in ((10_000, 1), (30_000, 3), (150_000, 1), (400_000, 2))]
    for day, hour, (cats, price, qty), tier in itertools.product(
            range(7), (1, 9, 11, 13, 16, 23), baskets, (None, "gold", "silver", "bronze")):
        customer = None if tier is None else {"id": "C1", "tier": tier, "segments": []}
        when = dt.datetime(2025, 1, 6 + day, hour, 30, tzinfo=dt.UTC)
        out.append(({"receipt_id": "G", "customer_id": customer and "C1", "datetime": when.isoformat(),
                     "store_id": "S1", "lines": _lines(cats, price, qty)}, customer))
    return out


GRID = grid()


def compiled(text: str) -> tuple[ir.Programme, Engine]:
    data, result = compile_text(text)
    assert data is not None and result.programme is not None, result.diagnostics
    return result.programme, Engine.from_bytes(data)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(campaign, min_size=2, max_size=3),
       st.sampled_from(("stack_all", "best_for_customer", "first_by_priority")))
def test_solver_answers_hold_against_brute_force(specs: list[dict[str, Any]], stacking: str) -> None:
    prog, engine = compiled(programme(specs, stacking))
    verdicts = analyse(prog, engine)
    disjoint = [v for v in verdicts if v.answer == "disjoint"]
    if disjoint:
        seen = [fired(engine.evaluate(receipt, customer)) for receipt, customer in GRID]
        for v in disjoint:
            assert not any({v.a, v.b} <= names for names in seen), v
    for v in verdicts:
        if v.answer == "meet":
            assert v.witness is not None
            assert {v.a, v.b} <= fired(engine.evaluate(v.witness["receipt"], v.witness["customer"])), v


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(campaign, min_size=2, max_size=4))
def test_findings_hold_against_brute_force(specs: list[dict[str, Any]]) -> None:
    """LOY311: the campaign fires on no receipt of the grid. LOY310: in a first_by_priority group, the
    shadowed campaign is applied only on receipts where the one shadowing it was eligible and gave
    nothing."""
    prog, engine = compiled(programme(specs, "first_by_priority"))
    found = findings(prog, engine)
    if not found:
        return
    outcomes = [engine.evaluate(receipt, customer) for receipt, customer in GRID]
    for d in found:
        name = NAME.match(d.message).group(1)  # type: ignore[union-attr]
        if d.code == "LOY311":
            assert not any(name in fired(o) for o in outcomes), d.message
        else:
            assert d.code == "LOY310"
            winner = re.findall(r"`(\w+)`", d.message)[1]
            for o in outcomes:  # the loser wins only where the winner was eligible with nothing to give
                if name in o.applied:
                    assert (winner, "no_effect") in {(r.campaign, r.reason) for r in o.rejected}, d.message
            assert any(name in fired(o) for o in outcomes), d.message  # it does fire, and loses
