"""The redemption's sources (``_Payer._sources``: the active lots of the redemption accounts in their spend
order, own then shared, then the credit rooms) are read from the state's mappings and filtered before their
records are made, and what they hold is summed without walking them (``lots.held``) when no shared room
limits them: both must give what the general way gives (``_lots``, ``_active``, ``spend_order`` on copies
of the accounts; ``_walk`` of every source), on random states with own and shared lots, debts, credit, and
what catalogue rewards took."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyadsl.runtime import Engine
from loyadsl.runtime.ledger import payment
from loyadsl.runtime.ledger.lots import _accounts, _active, _lots, _walk, held, spend_order
from loyadsl.runtime.state import CustomerState

from .test_ledger_kit import TRUE, account, campaign, line, receipt, redemption
from .test_ledger_kit import engine as make_engine

FROM = ["2025-01-01T00:00:00+00:00", "2025-03-05T09:00:00+00:00", "2025-04-01T00:00:00+00:00"]  # the receipt: 09:00
EXPIRES = [None, "2025-02-01T00:00:00+00:00", "2025-03-05T09:00:00+00:00", "2025-06-01T00:00:00+00:00"]
ORDERS = ["soonest_expiring", "oldest_first", "newest_first"]


def general_sources(self: Any, shared_ok: bool) -> list[tuple[str, Any]]:
    """``_sources`` as it was written before (ebc1d0b)."""
    ledger = self.ledger
    rules = ledger.decls.redemption
    sources: list[tuple[str, Any]] = []
    credit: list[tuple[str, bool, int]] = []
    for name in rules.accounts or tuple(ledger.accounts):
        decl = ledger.accounts[name]
        for shared in (False, True):
            if shared and not shared_ok:
                continue
            acc = _accounts(self.state, shared).get(name)
            room = decl.credit - (acc.debt if acc is not None else 0)
            if acc is not None:
                active = [lot for lot in _lots(acc, name, shared) if _active(lot, self.utc)]
                if self.reward_taken:
                    active = [x for lot in active if _active(x := lot._replace(
                        left=lot.left - self.reward_taken.get((shared, name, lot.id), 0)), self.utc)]
                sources += [("lot", lot) for lot in spend_order(active, decl.spend)]
            if decl.credit and room > 0:
                credit.append((name, shared, room))
    return sources + [("credit", c) for c in credit]


@functools.cache
def _engine(orders: tuple[str, str], credits: tuple[int, int]) -> Engine:
    return make_engine(campaign("cash", [("CONST", 50_000), ("ACCRUE_TOTAL", TRUE)]),
                       accounts=[account("bonus", spend=orders[0], credit=credits[0]),
                                 account("promo", spend=orders[1], credit=credits[1])],
                       redemption=redemption("promo", "bonus"))


_LOT = st.tuples(st.integers(0, 40), st.sampled_from(range(len(FROM))), st.sampled_from(range(len(EXPIRES))))


def _account(lots: list[tuple[int, int, int]], debt: int, tag: str) -> dict[str, Any]:
    made = [{"id": f"{tag}{i}", "points": left + 5, "left": left, "active_from": FROM[f], "expires": EXPIRES[x]}
            for i, (left, f, x) in enumerate(lots)]
    return {"balance": sum(m["left"] for m in made) - debt, "debt": debt, "lots": made}


def state_data(own: dict[str, Any], shared: dict[str, Any] | None, rights: bool, limit: int | None) -> dict[str, Any]:
    """Customer C2's state JSON: its ``own`` accounts and, with ``shared``, family F1's (owner C1), where C2 may
    redeem (``rights``) up to ``limit``; accounts as name -> (lots as (left, FROM index, EXPIRES index), debt)."""
    data: dict[str, Any] = {"id": "C2", "accounts": {n: _account(lots, debt, f"{n}-") for n, (lots, debt) in own.items()}}
    if shared is not None:
        members = {"C1": {"accrue": True, "redeem": True},
                   "C2": {"accrue": False, "redeem": rights, **({} if limit is None else {"redeem_limit": limit})}}
        data["shared"] = {"id": "F1", "owner": "C1", "members": members,
                          "accounts": {n: _account(lots, debt, f"s{n}-") for n, (lots, debt) in shared.items()}}
    return data


_ACCOUNTS = st.dictionaries(st.sampled_from(["bonus", "promo"]),
                            st.tuples(st.lists(_LOT, max_size=5), st.integers(0, 30)), max_size=2)


@settings(max_examples=300, deadline=None)
@given(orders=st.tuples(st.sampled_from(ORDERS), st.sampled_from(ORDERS)),
       credits=st.tuples(st.sampled_from([0, 0, 50]), st.sampled_from([0, 50])),
       own=_ACCOUNTS, shared=st.none() | _ACCOUNTS, rights=st.booleans(), limit=st.none() | st.integers(0, 60),
       taken=st.lists(st.integers(0, 30), max_size=4), redeem=st.sampled_from(["max", 25, 500]))
def test_sources_and_what_they_hold_are_the_general_ones(orders: tuple[str, str], credits: tuple[int, int],
                                                         own: dict[str, Any], shared: dict[str, Any] | None,
                                                         rights: bool, limit: int | None, taken: list[int],
                                                         redeem: Any) -> None:
    data = state_data(own, shared, rights, limit)
    state = CustomerState.from_dict(data)
    e = _engine(orders, credits)
    seen: list[int] = []
    real = payment._Payer._sources

    def compare(self: Any, shared_ok: bool) -> list[tuple[str, Any]]:
        # what catalogue rewards took (``reward_taken``), on some of the lots
        self.reward_taken = {(s, name, lot["id"]): t for (s, name, lot), t in zip(
            [(s, n, x) for s, accs in ((False, own), (True, shared or {})) for n in accs
             for x in (data["shared"] if s else data)["accounts"][n]["lots"]], taken, strict=False)}
        got, want = real(self, shared_ok), general_sources(self, shared_ok)
        assert got == want
        assert held(got) == sum(t for _, _, t in _walk(want, None, None))
        seen.append(len(got))
        return got

    payment._Payer._sources = compare  # type: ignore[method-assign]
    try:
        e.evaluate(receipt(line("A", 100000), customer="C2", redeem={"points": redeem}), state)
    finally:
        payment._Payer._sources = real  # type: ignore[method-assign]
    assert seen, "the redemption read no sources"


@pytest.mark.parametrize("sources", [[], [("credit", ("bonus", False, 7))]])
def test_held_counts_credit_rooms(sources: list[tuple[str, Any]]) -> None:
    assert held(sources) == sum(t for _, _, t in _walk(sources, None, None))
