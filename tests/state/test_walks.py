"""Random walks of one customer through the example programmes (examples/supermarket and every
programme of tests/golden_state, hypothesis): sales (with points, certificates and coupons), returns
(full and partial, of any earlier receipt, in any order) and the clock, each booked with
``state.apply`` under the programme's declarations.

* every step books: no refund, outcome or clock change is refused (returns always book), and the
  state reads back under the programme (no debt past a credit limit, no lot below zero);
* points are conserved per account: accrued = balance + spent + expired + reversed;
* every refund adds up: per line ``payable`` = money + points_money + certificates + withheld, no part
  is negative, and what a line's returns give back of each payment part never exceeds what was paid
  by it (all of it once the line is returned in full).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyadsl.api import compile_file
from loyadsl.runtime import Engine, Outcome, load_bundle
from loyadsl.runtime.ledger import Refund
from loyadsl.runtime.state import CustomerState, apply, parse

ROOT = Path(__file__).resolve().parents[2]
PROGRAMMES = [ROOT / "examples" / "supermarket" / "programme.loya",
              *sorted(p for p in (ROOT / "tests" / "golden_state").glob("*/programme.loya")
                      if "account " in p.read_text(encoding="utf-8"))]
START = dt.datetime(2025, 6, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=3)))
CATEGORIES = ("food", "dairy", "tobacco", "alcohol/wine", "cafe/coffee", "produce/fruits", "misc")
Key = tuple[bool, str]  # (shared, account)


@cache
def engine(path: Path) -> Engine:
    data, result = compile_file(path)
    assert data is not None, [str(d) for d in result.diagnostics]
    return Engine(load_bundle(data))


def certificate_skus(e: Engine) -> list[str]:
    return sorted(sku for series in e.bundle.state.certificates for sku in series.skus)


line_specs = st.lists(st.tuples(st.sampled_from(CATEGORIES), st.integers(1, 3), st.integers(1, 3),
                                st.integers(100, 90_000), st.booleans()), min_size=1, max_size=4)
sales = st.tuples(st.just("sale"), line_specs, st.one_of(st.none(), st.just("max"), st.integers(1, 3000)),
                  st.booleans(), st.booleans(), st.booleans())
returns = st.tuples(st.just("return"), st.integers(0, 50), st.one_of(st.none(), st.integers(1, 999)),
                    st.integers(0, 10))
clock = st.tuples(st.just("clock"), st.sampled_from([1, 7, 20, 45, 100]))
walks = st.lists(st.one_of(sales, sales, returns, returns, clock), min_size=1, max_size=25)


class Walk:
    """One customer's history under a programme: books every step and keeps the flows per account."""

    def __init__(self, e: Engine) -> None:
        self.e = e
        self.decls = e.bundle.state
        self.state = CustomerState(id="C1")
        self.now = START
        self.outcomes: list[Outcome] = []
        self.flows: dict[Key, Counter[str]] = {}
        self.refunded: dict[tuple[str, int], Counter[str]] = {}  # (receipt, line) -> parts given back

    def book(self, changes: Any) -> None:
        self.state = apply(self.state, list(changes), self.decls)  # the walk's point: this never refuses
        assert CustomerState.from_dict(self.state.to_dict(), self.decls) == self.state  # reads back as itself
        for c in changes:
            assert parse(c).to_dict() == c, c  # every change the engine writes is its kind's one JSON form
            op, points = c["op"], c.get("points")
            if op not in ("lot", "take", "debt"):
                continue
            f = self.flows.setdefault((c.get("shared") is True, c["account"]), Counter())
            reason = c.get("reason")
            if op == "lot":
                f["accrued" if points > 0 else "reversed"] += abs(points)
            elif op == "take":
                f["spent" if reason == "redeem" else "expired" if reason == "expire" else "reversed"] += points
            elif reason == "repay":
                f["accrued"] -= points  # an accrual that repaid the debt
            else:
                f["spent" if reason == "redeem" else "reversed"] += points

    def sale(self, specs: list[tuple[str, int, int, int, bool]], redeem: Any, sell: bool, pay_by_card: bool,
             coupon: bool) -> None:
        lines = []
        for i, (category, sku, qty, price, weighed) in enumerate(specs, 1):
            q = qty + 0.375 if weighed else qty
            lines.append({"line_no": i, "sku": f"S{sku}", "category": category, "qty": q, "unit_price": price,
                          "amount": int(price * q)})
        skus = certificate_skus(self.e)
        if sell and skus:
            lines.append({"line_no": len(lines) + 1, "sku": skus[0], "category": "gift", "qty": 1,
                          "unit_price": 100_000, "amount": 100_000})
        rid = f"R{len(self.outcomes) + 1}"
        receipt: dict[str, Any] = {"receipt_id": rid, "customer_id": "C1", "datetime": self.now.isoformat(),
                                   "store_id": "S001", "lines": lines}
        if redeem is not None:
            receipt["redeem"] = {"points": redeem}
        if pay_by_card and self.state.certificates:
            receipt["certificates"] = [{"code": self.state.certificates[-1].code}]
        if coupon and self.state.coupons:
            receipt["coupons"] = [self.state.coupons[0].code]
        o = self.e.evaluate(receipt, self.state)
        self.outcomes.append(o)
        self.book(o.changes)

    def give_back(self, pick: int, part: int | None, line_pick: int) -> None:
        if not self.outcomes:
            return
        o = self.outcomes[pick % len(self.outcomes)]
        assert o.payment is not None
        done = self.state.returns.get(o.receipt_id, {})
        left = {e["line_no"]: e["qty"] - done.get(str(e["line_no"]), 0) for e in o.payment["lines"]}
        left = {ln: q for ln, q in left.items() if q > 0}
        if not left:
            return
        if part is None:
            back = self.e.refund(o, None, self.state, self.now)
        else:
            ln = sorted(left)[line_pick % len(left)]
            back = self.e.refund(o, {ln: max(1, left[ln] * part // 1000) / 1000}, self.state, self.now)
        self.check(o, back)
        self.book(back.changes)

    def check(self, o: Outcome, back: Refund) -> None:
        assert o.payment is not None
        sold = {e["line_no"]: e for e in o.payment["lines"]}
        for line in back.lines:
            parts = ("money", "points_money", "certificates", "withheld")
            assert all(line[k] >= 0 for k in parts), line
            assert line["payable"] == sum(line[k] for k in parts), line
            given = self.refunded.setdefault((o.receipt_id, line["line_no"]), Counter())
            given.update({"payable": line["payable"], "points_money": line["points_money"],
                          "cash": line["money"] + line["withheld"]})
            entry = sold[line["line_no"]]
            assert given["points_money"] <= entry["points_money"] and given["payable"] <= entry["payable"]
            assert given["cash"] <= entry["to_pay"] + entry["certificates"]  # a gone card is paid in money
            returned = self.state.returns.get(o.receipt_id, {}).get(str(line["line_no"]), 0) + line["qty"]
            if returned == entry["qty"]:
                assert (given["payable"], given["points_money"]) == (entry["payable"], entry["points_money"])
        assert back.money == sum(x["money"] for x in back.lines)
        assert back.withheld == sum(x["withheld"] for x in back.lines)

    def tick(self, days: int) -> None:
        self.now += dt.timedelta(days=days)
        changes, _ = self.e.advance(self.state, self.now)
        self.book(changes)

    def conserved(self) -> None:
        """accrued = balance + spent + expired + reversed, per account (own and shared)."""
        for (shared, name), f in self.flows.items():
            holder = self.state.shared.accounts if shared and self.state.shared is not None else self.state.accounts
            acc = holder.get(name)
            balance = acc.balance if acc is not None else 0
            assert f["accrued"] == balance + f["spent"] + f["expired"] + f["reversed"], (name, f, balance)


def walk(path: Path, steps: list[tuple[Any, ...]]) -> None:
    w = Walk(engine(path))
    for step in steps:
        w.now += dt.timedelta(hours=5)
        if step[0] == "sale":
            w.sale(*step[1:])
        elif step[0] == "return":
            w.give_back(*step[1:])
        else:
            w.tick(step[1])
        w.conserved()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PROGRAMMES), walks)
def test_any_walk_books_completely_and_conserves_points(path: Path, steps: list[tuple[Any, ...]]) -> None:
    walk(path, steps)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(walks)
def test_supermarket_walks_book_completely(steps: list[tuple[Any, ...]]) -> None:
    """The example programme (`shortfall negative` on a credit account, promo and bonus accounts,
    certificates) gets more walks: its returns that undid a debt repayment were the ones refused."""
    walk(PROGRAMMES[0], steps)
