"""The generated stateful driver (runtime/stateful.py) runs the groups of a receipt with a customer's
state and no trace; the engine's general loop (``Engine._group``) runs them otherwise. On random
programmes with state (accounts, tiers, counters, chips, coupons, redemption, referrals; limits per
customer and per day, budgets, caps; 1-3 groups of every stacking mode and basis) and random
histories of one customer (each outcome's changes applied before the next receipt), the driver's
outcomes, refusals and final state are the general loop's, field for field."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, LoyaError, load_bundle
from loyadsl.runtime.state import CustomerState, apply

from . import strategies
from .test_fuzz_driver import _line, header_and_groups

CLAUSES = strategies.VALID_CLAUSE  # (limits per customer and per day, budgets, caps among them)


@st.composite
def programmes(draw: st.DrawFn) -> str:
    """A programme with state: 1-3 groups, each with its own stacking and basis, campaigns with state actions."""
    parts, groups = header_and_groups(draw)
    declared = [kind for kind in strategies.VALID_STATE if draw(st.booleans())]
    if "redemption" in declared or "referral" in declared:
        declared.append("account")
    parts += [draw(strategies.VALID_STATE[kind]) for kind in dict.fromkeys(declared)]
    state_actions = [strategies.STATE_ACTIONS[k] for k in declared if k in strategies.STATE_ACTIONS]
    if "counter" in declared:
        state_actions.append("spend 1 from coffee")
    for i in range(draw(st.integers(1, 6))):
        clauses = [f"group g{draw(st.integers(0, groups - 1))}", *draw(st.lists(CLAUSES, max_size=3, unique=True))]
        if draw(st.booleans()):
            clauses.append(f"when {draw(strategies.VALID_CONDITION)}")
        if "coupons" in declared and not draw(st.integers(0, 3)):
            clauses.append("coupon welcome")
        actions = draw(st.lists(strategies.VALID_ACTION, min_size=0 if state_actions else 1, max_size=2))
        if state_actions and (not actions or draw(st.booleans())):
            actions.append(draw(strategies._pick(state_actions)))
        clauses.append("then " + "\n        ".join(actions))
        parts.append(f'campaign c{i} "Кампания {i}" {{\n    ' + "\n    ".join(clauses) + "\n}")
    return "\n\n".join(parts) + "\n"


@st.composite
def histories(draw: st.DrawFn) -> list[dict[str, Any]]:
    """One customer's receipts in time order (a repeated id now and then: refused, LOY510)."""
    out: list[dict[str, Any]] = []
    day = 0
    for i in range(draw(st.integers(1, 6))):
        day += draw(st.sampled_from([0, 1, 3, 10, 40]))
        month, mday = 1 + min(day // 28, 11), 1 + day % 28
        receipt: dict[str, Any] = {
            "receipt_id": f"R{i if draw(st.integers(0, 9)) else 0}", "customer_id": "C1",
            "store_id": draw(st.sampled_from(["S1", "S001", "S9"])),
            "datetime": f"2025-{month:02d}-{mday:02d}T{draw(st.integers(0, 23)):02d}:30:00+03:00",
            "channel": draw(st.sampled_from(["pos", "online"])),
            "lines": [draw(_line(j + 1)) for j in range(draw(st.integers(1, 5)))]}
        if not draw(st.integers(0, 3)):
            receipt["coupons"] = ["SUMMER25"]
        out.append(receipt)
    return out


def general_loop(engine: Engine) -> Engine:
    """``engine`` with its stateful driver replaced by the general loop (``Engine._group`` for every group)."""

    def every_group_the_general_way(r: Any, cu: Any, t: Any, session: Any) -> None:
        for group in engine.groups:
            engine._group(group, r, cu, t, session, None)

    engine._state_drive = every_group_the_general_way
    return engine


def replay(engine: Engine, receipts: list[dict[str, Any]]) -> tuple[list[Any], dict[str, Any]]:
    """Each receipt's outcome JSON (or its coded refusal) against the state the earlier ones left."""
    decls = engine.bundle.state
    state = CustomerState.from_dict({"id": "C1", "segments": ["vip"], "attributes": {"city": "Москва"}}, decls)
    out: list[Any] = []
    for receipt in receipts:
        try:
            outcome = engine.evaluate(receipt, state)
            state = apply(state, outcome.changes or (), decls)
            out.append(outcome.to_dict())
        except LoyaError as exc:
            out.append((exc.code, str(exc)))
    return out, state.to_dict()


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(programmes(), histories())
def test_the_stateful_driver_gives_the_general_loops_outcomes(source: str, receipts: list[dict[str, Any]]) -> None:
    data, _ = compile_text(source, "p.loya")
    assume(data is not None)
    assert data is not None
    driven, general = Engine(load_bundle(data)), general_loop(Engine(load_bundle(data)))
    assume(driven._stateful and not driven._exclusive)
    assert replay(driven, receipts) == replay(general, receipts)
    assert driven._state_drive is not None and driven._state_drive is not general._state_drive  # (it ran)


def test_the_driver_writes_only_what_a_campaign_has() -> None:
    """A campaign gated by state asks its gate, a budgeted one its room, a capped one is capped; one without
    a discount or accrual in its actions has no branch for them; a stacking group ranks its candidates."""
    source = 'programme "P" version "1" {\n currency RUB minor 2\n timezone "UTC"\n}\n' \
        'counter visits { reset month }\n' \
        'group g { priority 2  stacking best_for_customer  basis original }\n' \
        'group h { priority 1  stacking stack_all  basis discounted }\n' \
        'campaign a "A" { group g  limit 1 per customer  budget 100.00 RUB  then discount 10% on receipt }\n' \
        'campaign b "B" { group g  max discount 1.00 RUB per receipt  then discount 5% on receipt }\n' \
        'campaign c "C" { group h  then add 1 to visits }\n'
    data, result = compile_text(source, "p.loya")
    assert data is not None, result.diagnostics
    engine = Engine(load_bundle(data))
    receipt = {"receipt_id": "R", "customer_id": "C1", "datetime": "2025-03-03T12:00:00+00:00", "store_id": "S1",
               "lines": [{"line_no": 1, "sku": "Q", "category": "x", "qty": 1, "unit_price": 10000, "amount": 10000}]}
    state = CustomerState(id="C1")
    outcome = engine.evaluate(receipt, state)
    assert engine._state_drive is not None
    from loyadsl.runtime import stateful
    src = stateful.build(engine.groups, engine._gated, engine._group, engine.pricer, engine._apply, engine._stack,
                         False)[1]
    assert "session.gate(N0_0, S0_0)" in src and "session.discount_room(N0_0, S0_0)" in src
    assert "session.gate(N0_1" not in src and "md = MD0_1" in src and "STACK(G0, cands" in src
    assert "discount, accruals, wants = None, None, r.asks" in src and "STACK(G1" not in src
    assert outcome.to_dict() == general_loop(Engine(load_bundle(data))).evaluate(receipt, state).to_dict()
    assert outcome.applied == ("a", "c") and outcome.discount_total == 1000
