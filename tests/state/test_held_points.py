"""``Engine.evaluate(..., held=N)``: the points other open sessions hold (the server's calculated, unconfirmed
receipts of the customer) are taken off what the receipt can spend now, before the programme's per-receipt
limits (docs/state.md, section 5, step 4). Until h/hold the server did it itself: it computed the customer's
spendable points again (``_spendable`` below: the view's balances plus credit room per redemption account)
and cut the receipt's ``redeem`` to what other sessions left (``today`` below). On random states (lots
active, not yet active, expired; debt; credit; a shared account with or without redeem rights and a
``redeem_limit``; a catalogue reward taken) × N × redeem:

* the points redeemed never exceed what the state can spend now (``general_sources`` walked) less N;
* with N = 0 the outcome is the one without ``held``;
* whenever today's ``_spendable`` equals what the engine can spend, the outcome is today's server answer,
  but for ``payment.requested`` (now the till's own request, not the cut one) and ``payment.limited_by``
  (``balance`` when the held points cut the request and no other limit bound)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyadsl.api import compile_file
from loyadsl.runtime import Engine, Outcome
from loyadsl.runtime.ledger import payment
from loyadsl.runtime.ledger.lots import _member, _walk
from loyadsl.runtime.model import Receipt, utc_datetime
from loyadsl.runtime.state import CustomerState, apply
from loyadsl.runtime.state.view import view

from .test_redeem_sources import EXPIRES, FROM, ORDERS, general_sources, state_data

PROGRAMME = """programme "Held" {{
    currency RUB minor 2
    points minor 0 value 1.00 RUB
    timezone "UTC"
}}
group rewards {{ priority 1 stacking stack_all basis discounted }}
account bonus {{ spend {order} }}
account promo {{ credit {credit} points }}
redemption {{
    accounts promo, bonus
    {limits}
}}
campaign mug "A mug for 30 points" {{
    group rewards
    reward 30 points from bonus
    then gift one of ["MUG"]
}}
"""
LIMITS = ["", "max share 50%", "min payment 300 RUB", "steps 5 points"]


@functools.cache
def _engine(order: str, credit: int, limits: str, tmp: Path) -> Engine:
    path = tmp / f"held-{order}-{credit}-{LIMITS.index(limits)}.loya"
    path.write_text(PROGRAMME.format(order=order, credit=credit, limits=limits), encoding="utf-8")
    data, result = compile_file(path)
    assert data is not None, result.diagnostics
    return Engine.from_bytes(data)


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("held")


def _spendable(engine: Engine, state: CustomerState, utc: int) -> int:
    """processing.py's ``_spendable`` before h/hold (f1b3893): the points the server counted."""
    decls = engine.bundle.state
    lead, _ = engine.advance(state, utc_datetime(utc))
    now = apply(state, lead, decls) if lead else state
    balances = view(now, decls, utc, engine.local_date).balances
    names = decls.redemption.accounts if decls.redemption is not None else tuple(a.name for a in decls.accounts)
    credit = {a.name: a.credit for a in decls.accounts}
    return sum(balances.get(name, 0) + credit.get(name, 0) for name in names)


def today(engine: Engine, data: dict[str, Any], state: CustomerState, others: int) -> Outcome:
    """The server's calculate before h/hold (``_within_holds``): ``redeem`` cut to what other sessions leave."""
    if others:
        room = max(0, _spendable(engine, state, _utc(data)) - others)
        asked = data["redeem"]["points"]
        if asked == "max" or asked > room:
            data = {**data, "redeem": {"points": room}}
    return engine.evaluate(data, state)


def _utc(data: dict[str, Any]) -> int:
    return Receipt.from_dict(data).utc


_LOT = st.tuples(st.integers(0, 300), st.sampled_from(range(len(FROM))), st.sampled_from(range(len(EXPIRES))))
_ACCOUNTS = st.dictionaries(st.sampled_from(["bonus", "promo"]),
                            st.tuples(st.lists(_LOT, max_size=4), st.integers(0, 40)), max_size=2)


def _state(own: dict[str, Any], shared: dict[str, Any] | None, rights: bool, limit: int | None) -> CustomerState:
    return CustomerState.from_dict(state_data(own, shared, rights, limit))


def _receipt(redeem: int | str, mug: bool) -> dict[str, Any]:
    return {"receipt_id": "R2", "customer_id": "C2", "datetime": "2025-03-05T09:00:00+00:00", "store_id": "S1",
            "redeem": {"points": redeem}, **({"rewards": ["mug"]} if mug else {}),
            "lines": [{"line_no": 1, "sku": "A", "category": "food", "qty": 1, "unit_price": 60000, "amount": 60000},
                      {"line_no": 2, "sku": "B", "category": "food", "qty": 2, "unit_price": 2550, "amount": 5100}]}


def _spent(outcome: Outcome, available: list[int]) -> int:
    """The points the outcome redeems (checked against its take and debt changes)."""
    points = (outcome.payment or {}).get("points", 0)
    taken = sum(c["points"] for c in outcome.changes or () if c["op"] in ("take", "debt") and c["reason"] == "redeem")
    assert points == taken
    assert available, "the redemption was not reached"
    return int(points)


def _evaluate(engine: Engine, data: dict[str, Any], state: CustomerState, held: int) -> tuple[Outcome, list[int]]:
    """The outcome with ``held``, and what the state could spend now as the general way counts it (the
    sources of ``general_sources`` walked, up to a member's shared room), seen from inside the payment."""
    seen: list[int] = []
    real = payment._Payer._redeem

    def spy(self: Any, left: Any, redeem: Any, sold: Any) -> Any:
        member = _member(self.state)
        shared_ok = member is not None and member.redeem
        room = member.redeem_limit if shared_ok else None
        seen.append(sum(t for _, _, t in _walk(general_sources(self, shared_ok), None, room)))
        return real(self, left, redeem, sold)

    payment._Payer._redeem = spy  # type: ignore[method-assign]
    try:
        return engine.evaluate(data, state, held=held), seen
    finally:
        payment._Payer._redeem = real  # type: ignore[method-assign]


@settings(max_examples=500, deadline=None)
@given(order=st.sampled_from(ORDERS), credit=st.sampled_from([0, 0, 50]), limits=st.sampled_from(LIMITS),
       own=_ACCOUNTS, shared=st.none() | _ACCOUNTS, rights=st.booleans(), limit=st.none() | st.integers(0, 200),
       mug=st.booleans(), held=st.sampled_from([0, 0, 1, 7, 30, 100, 250, 10_000]),
       redeem=st.sampled_from(["max", "max", 1, 25, 120, 400, 5000]))
def test_held_points_are_never_spent_and_the_answer_is_todays(
        tmp: Path, order: str, credit: int, limits: str, own: dict[str, Any], shared: dict[str, Any] | None,
        rights: bool, limit: int | None, mug: bool, held: int, redeem: int | str) -> None:
    engine = _engine(order, credit, limits, tmp)
    state = _state(own, shared, rights, limit)
    data = _receipt(redeem, mug)
    got, available = _evaluate(engine, data, state, held)
    assert _spent(got, available) <= max(0, available[0] - held)
    before = today(engine, data, state, held)
    if held == 0:
        assert got.to_dict() == before.to_dict() == engine.evaluate(data, state).to_dict()
        return
    if _spendable(engine, state, _utc(data)) != available[0]:
        return
    now, then = got.to_dict(), before.to_dict()
    pay, was = now["payment"], then["payment"]
    assert pay["requested"] == redeem
    cut = redeem == "max" or int(redeem) > max(0, available[0] - held)
    assert pay["limited_by"] == (was["limited_by"] or ("balance" if cut else None))
    assert {**now, "payment": {**pay, "requested": None, "limited_by": None}} == \
        {**then, "payment": {**was, "requested": None, "limited_by": None}}


def test_held_must_be_a_whole_number_of_points(tmp: Path) -> None:
    engine = _engine("oldest_first", 0, "", tmp)
    for bad in (-1, 2.5, True, "7"):
        with pytest.raises(ValueError, match="held"):
            engine.evaluate(_receipt("max", False), _state({}, None, False, None), held=bad)  # type: ignore[arg-type]
