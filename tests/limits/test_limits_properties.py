"""Properties of usage limits and anti-fraud limits (docs/limits-fraud.md), over receipts drawn by
hypothesis, in any order, calculated in batches against the same counts (as concurrent tills do; a card's
receipts are never in one batch, as the server serialises them) and then applied one by one: no limit is ever exceeded (uses per key, points per receipt and per card
and day, receipts with points per card and day), a refused commit changes nothing, and fully
returning every applied receipt of a customer nets the counts, the cards' usage and their balances
to zero (what anonymous receipts used stays: a return needs a customer, docs/state.md section 7)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_limits_golden import Host

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, load_bundle
from loyadsl.runtime.redemptions import redemption_changes

PROGRAMME = """
programme "Shop" {
    currency RUB minor 2
    timezone "Europe/Moscow"
    max points 150 per receipt
    max points 250 per day
    max receipts 2 per day
    velocity 1 per 30 minutes
}
account bonus { expiry never }
group base { priority 100  stacking stack_all  basis original }

campaign opening {
    group base
    redemptions 4
    redemptions 2 per store
    redemptions 1 per store per day
    then discount 10% on receipt
    then accrue 40 points
}
campaign cashback {
    group base
    then accrue 5% on receipt
}
"""
LIMITS = {"overall": 4, "store": 2, "store_day": 1}
DATA, _ = compile_text(PROGRAMME, "p.loya")
assert DATA is not None
ENGINE = Engine(load_bundle(DATA))

receipts = st.lists(st.tuples(st.sampled_from(["ann", "ben", None]), st.sampled_from(["S1", "S2"]),
                              st.integers(1, 2), st.integers(0, 23), st.integers(1, 60_000)),
                    min_size=1, max_size=8)


def _receipt(i: int, customer: str | None, store: str, day: int, hour: int, rub: int) -> dict[str, Any]:
    r: dict[str, Any] = {"receipt_id": f"R{i}", "store_id": store, "datetime": f"2026-03-0{day}T{hour:02d}:00:00+03:00",
                         "lines": [{"line_no": 1, "sku": "A", "category": "food", "qty": 1, "unit_price": rub * 100,
                                    "amount": rub * 100}]}
    if customer is not None:
        r["customer_id"] = customer
    return r


def _scope(key: str) -> str:
    _, store, day = key.strip("[]").split(",")
    return "overall" if store == "null" else "store" if day == "null" else "store_day"


def _batches(rows: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    """Consecutive batches of at most ``size`` receipts, none with two of one card: a card's receipts
    are evaluated on its state as it is (the server locks the customer's row and evaluates again), so
    only programme-wide counts are raced."""
    out: list[list[dict[str, Any]]] = [[]]
    for r in rows:
        cards = {x.get("customer_id") for x in out[-1]} - {None}
        if len(out[-1]) >= size or r.get("customer_id") in cards:
            out.append([])
        out[-1].append(r)
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(receipts, st.integers(1, 4), st.randoms(use_true_random=False))
def test_limits_hold_in_any_order_and_full_returns_net_to_zero(drawn: list[tuple[Any, ...]], batch: int,
                                                               rnd: Any) -> None:
    host = Host(ENGINE)
    rows = [_receipt(i, *row) for i, row in enumerate(drawn)]
    rnd.shuffle(rows)
    applied: list[str] = []
    points_by_day: dict[tuple[str, str], list[int]] = {}
    for chunk in _batches(rows, batch):
        results = [host.calculate(r) for r in chunk]  # all against the same counts: a race
        for r, result in zip(chunk, results, strict=True):
            before = (dict(host.book.used), dict(host.states))
            done = host.apply(r["receipt_id"])
            if "error" in done:
                assert done["error"] == "LOY570" and (dict(host.book.used), dict(host.states)) == before
                continue
            applied.append(r["receipt_id"])
            assert result["points_total"] <= 150
            if r.get("customer_id"):
                points_by_day.setdefault((r["customer_id"], r["datetime"][:10]), []).append(result["points_total"])
        for key, used in host.book.used.items():
            assert used <= LIMITS[_scope(key)], key
    for (customer, day), points in points_by_day.items():
        assert sum(points) <= 250, (customer, day)  # in any order of the day's receipts
        assert sum(1 for p in points if p) <= 2
    anonymous: dict[str, int] = {}  # a return needs a customer (docs/state.md, section 7): these uses stay
    for rid in reversed(applied) if rnd.random() < 0.5 else applied:
        outcome = host.outcomes[rid]
        if (outcome.payment or {}).get("customer") is None:
            for change in redemption_changes(outcome.changes or ()):
                anonymous[change.key] = anonymous.get(change.key, 0) + 1
            continue
        assert host.full_return(rid, "2026-03-05T12:00:00+03:00") == {"ok": True}
    assert {k: v for k, v in host.book.used.items() if v} == anonymous
    for state in host.states.values():
        assert all(v == 0 for counts in state.usage.values() for v in counts.values()), state.usage
        assert all(account.balance == 0 for account in state.accounts.values())


def test_the_property_sees_refusals() -> None:
    """Two tills calculate the same store's receipts together: one commit is refused (LOY570)."""
    host = Host(ENGINE)
    one, two = _receipt(1, "ann", "S1", 1, 10, 100), _receipt(2, "ben", "S1", 1, 11, 100)
    host.calculate(one), host.calculate(two)
    assert host.apply("R1") == {"ok": True} and host.apply("R2") == {"error": "LOY570"}
    assert dt.date(2026, 3, 1).isoformat() in next(iter(k for k in host.book.used if "S1" in k and "03" in k))
