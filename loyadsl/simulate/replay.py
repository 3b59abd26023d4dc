"""Replaying one partition of history (docs/simulate.md, "Replay semantics").

A partition is a list of receipts sorted by (customer, time, receipt id). Each customer's receipts
run in order against their own state: before each receipt the engine's ``advance`` is part of the
evaluation (its changes lead the outcome's), after it the outcome's changes are applied. When the
customer's last receipt is done, the clock runs to the end of the history so expiries and tier
reviews up to that day are counted. Everything the report needs goes into a ``Tally``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from loyadsl.runtime import Engine
from loyadsl.runtime.errors import LoyaRuntimeError
from loyadsl.runtime.model import Outcome, Receipt, Rows, utc_seconds
from loyadsl.runtime.state import CustomerState, apply, local_date
from loyadsl.simulate.report import Tally


class Problem(Exception):
    """A receipt the replay cannot use (e.g. the return of an unknown receipt): quarantined."""


class PartitionReplay:
    """Replays the receipts of one partition into a tally; bad receipts are collected, not raised."""

    def __init__(self, engine: Engine, states: Mapping[str, dict[str, Any]], start: dt.datetime, end: dt.datetime,
                 returned_ids: set[str] | None = None,
                 observe: Callable[[Receipt, Outcome], None] | None = None) -> None:
        self.engine = engine
        self.observe = observe  # called with every evaluated receipt and its outcome (``loya diff``)
        self.states = states
        self.local = local_date(engine.zone)
        self.start_day = self.local(utc_seconds(start))  # tiers held before the history count from here
        self.end = end  # the end of history: where each customer's clock stops
        self.customers_seen: set[str] = set()
        self.returned_ids = returned_ids  # receipts some return refers to (None: keep every outcome)
        self.tally = Tally()
        self.bad: list[dict[str, Any]] = []
        b = engine.bundle
        self.group_of = {c.name: b.groups[c.group].name for c in b.campaigns}
        self.budgets = {c.name: c.state.budget for c in b.campaigns if c.state.budget is not None}
        self.zone = engine.zone
        self._customer: str | None = None
        self._state: CustomerState | None = None
        self._seen: set[str] = set()  # campaigns this customer took part in
        self._outcomes: dict[str, Outcome] = {}
        self._lot_campaign: dict[str, str] = {}
        self._purchases = 0

    # ------------------------------------------------------------------------------ driving
    def run(self, records: Iterable[tuple[str, dict[str, Any]]]) -> Tally:
        for source, data in records:
            try:
                self.receipt(data)
            except (Problem, LoyaRuntimeError) as exc:
                self.bad.append({"source": source, "reason": str(exc), "record": data})
        self._finish_customer()
        return self.tally

    def idle(self, customers: Iterable[str]) -> None:
        """Customers with a state but no receipt in the history: their clocks still run to the end
        (expiries, reviews) and their balances count in the liability."""
        for customer in customers:
            self._start_customer(customer)
            self._finish_customer()

    def receipt(self, data: dict[str, Any]) -> None:
        customer = data.get("customer_id")
        if customer != self._customer:
            self._finish_customer()
            self._start_customer(customer)
        if data.get("return_of") is not None:
            self._return(data)
            return
        receipt = Receipt.from_dict(data)
        outcome = self.engine.evaluate(receipt, self._state, now=None)
        day = self._local_day(receipt.utc)
        self._count(receipt, outcome, day)
        if self.observe is not None:
            self.observe(receipt, outcome)
        if self._state is not None:
            self._state = self._apply(outcome.changes, day)
            self._purchases += 1
        if self.returned_ids is None or receipt.receipt_id in self.returned_ids:
            self._outcomes[receipt.receipt_id] = outcome

    # ------------------------------------------------------------------------------ customers
    def _start_customer(self, customer: str | None) -> None:
        self._customer = customer
        self._seen = set()
        self._outcomes = {}
        self._lot_campaign = {}
        self._purchases = 0
        if customer is None:
            self._state = None
            return
        self.customers_seen.add(customer)
        raw = self.states.get(customer)
        self._state = CustomerState.from_dict(raw if raw is not None else {"id": customer})
        t = self.tally.totals
        t["customers"] += 1
        t["liability_start"] += _liability(self._state)
        for account in self._state.accounts.values():
            for lot in account.lots:
                if lot.campaign:
                    self._lot_campaign[lot.id] = lot.campaign
        if self._state.tier:
            self.tally.tier_move(self.start_day, None, self._state.tier)

    def _finish_customer(self) -> None:
        if self._customer is None or self._state is None:
            self._customer = None
            return
        t = self.tally.totals
        if self._purchases:
            t["active_customers"] += 1
            before = self._state.receipts - self._purchases
            if before == 0:
                t["first_purchase"] += 1
            if before <= 1 < self._state.receipts:
                t["repeat_purchase"] += 1
        for name in self._seen:
            self.tally.campaign(name)[1] += 1  # participants
        changes, _events = self.engine.advance(self._state, self.end)
        self._state = self._apply(changes, self.local(utc_seconds(self.end)))
        t["liability"] += _liability(self._state)
        self._customer = None
        self._state = None

    # ------------------------------------------------------------------------------ counting
    def _count(self, receipt: Receipt, outcome: Outcome, day: int) -> None:
        tally = self.tally
        tally.see_day(day)
        t = tally.totals
        known = receipt.customer_id is not None
        t["turnover"] += receipt.total
        t["revenue"] += outcome.payable
        t["receipts"] += 1
        t["units"] += receipt.units
        t["lines"] += len(receipt.lines)
        t["receipts_with_card"] += known
        t["discount"] += outcome.discount_total
        t["points_accrued"] += outcome.points_total
        week = tally.week(day)
        week[0] += 1
        week[1] += outcome.payable
        week[2] += outcome.discount_total
        week[3] += outcome.points_total
        payment = outcome.payment
        if payment:
            t["redeemed_money"] += payment.get("points_money", 0)
            t["certificates_used"] += sum(c.get("amount", 0) for c in payment.get("certificates", ()))
        lines = receipt.lines
        touched: dict[str, set[int]] = {}
        budgets = self.budgets
        for effect in outcome.effects.rows if isinstance(outcome.effects, Rows) else outcome.effects:
            name, _group, kind, _requested, applied, total, _capped = effect
            row = tally.campaign(name)
            row[4 if kind == "discount" else 5] += total
            touched.setdefault(name, set()).update(i for i, v in enumerate(applied) if v)
            budget = budgets.get(name)
            if budget is not None and budget.kind == ("money" if kind == "discount" else "points"):
                days = tally.budgets.setdefault(name, {})
                days[day] = days.get(day, 0) + total
        for name, indexes in touched.items():
            row = tally.campaign(name)
            row[0] += 1
            row[2] += sum(lines[i].amount for i in indexes)
            row[3] += sum(lines[i].qty for i in indexes)
            if known:
                self._seen.add(name)
        self._collisions(outcome)

    def _collisions(self, outcome: Outcome) -> None:
        lost = [r.campaign for r in outcome.rejected if r.reason == "lost_to_stacking"]
        if not lost:
            return
        by_group: dict[str, tuple[list[str], list[str]]] = {}
        for name in outcome.applied:
            by_group.setdefault(self.group_of[name], ([], []))[0].append(name)
        for name in lost:
            by_group.setdefault(self.group_of[name], ([], []))[1].append(name)
        for group, (won, beaten) in by_group.items():
            if not beaten:
                continue
            met = tuple(sorted(won + beaten))
            row = self.tally.collisions.setdefault((group, met), {})
            for name in won or ["(none)"]:
                row[name] = row.get(name, 0) + 1

    def _apply(self, changes: Any, day: int) -> CustomerState:
        """Apply changes to the current state, counting what the report needs from them."""
        state = self._state
        assert state is not None
        if not changes:
            return state
        t = self.tally.totals
        week = self.tally.week(day)
        for change in changes:
            op = change["op"]
            if op == "lot":
                points = change["points"]
                week[6] += points
                if points < 0:  # an accrual withdrawn by a return
                    t["points_returned"] -= points
                    campaign = self._lot_campaign.get(change["lot"])
                    if campaign is not None:
                        self.tally.campaign(campaign)[7] -= points
                elif change.get("campaign"):
                    self._lot_campaign[change["lot"]] = change["campaign"]
            elif op == "take":
                points = change["points"]
                reason = change.get("reason")
                # an expiry is dated by the lot's expiry, not by when the clock noticed it
                when = self.tally.week(self._expiry_day(state, change, day)) if reason == "expire" else week
                when[6] -= points
                if reason == "redeem":
                    t["points_redeemed"] += points
                    week[4] += points
                elif reason == "expire":
                    t["points_expired"] += points
                    when[5] += points
                    campaign = self._lot_campaign.get(change["lot"])
                    if campaign is not None:
                        self.tally.campaign(campaign)[6] += points
                elif reason == "return":
                    t["points_returned"] += points
                    campaign = self._lot_campaign.get(change["lot"])
                    if campaign is not None:
                        self.tally.campaign(campaign)[7] += points
            elif op == "debt":
                week[6] -= change["points"]
            elif op == "coupon_issue":
                t["coupons_issued"] += 1
                if change.get("campaign"):
                    self.tally.campaign(change["campaign"])[8] += 1
            elif op == "coupon_use":
                t["coupons_redeemed"] += 1
                if change.get("campaign"):
                    self.tally.campaign(change["campaign"])[9] += 1
            elif op == "certificate_issue":
                t["certificates_sold"] += change.get("value", change.get("certificate", {}).get("value", 0))
            elif op == "tier":
                self.tally.tier_move(day, change.get("from"), change.get("to"))
        return apply(state, changes)

    def _return(self, data: dict[str, Any]) -> None:
        original = self._outcomes.get(str(data["return_of"]))
        if original is None:
            raise Problem(f"return of unknown receipt {data['return_of']!r}")
        if self._state is None:
            raise Problem("a return needs the customer of the original receipt")
        returned = {int(line["line_no"]): line["qty"] for line in data.get("lines", [])}
        now = dt.datetime.fromisoformat(data["datetime"])
        refund = self.engine.refund(original, returned or None, self._state, now)
        t = self.tally.totals
        t["returns"] += 1
        t["refunded"] += refund.money
        self._state = self._apply(refund.changes, self.local(utc_seconds(now)))

    def _local_day(self, utc: int) -> int:
        return self.local(utc)

    def _expiry_day(self, state: CustomerState, change: Mapping[str, Any], default: int) -> int:
        holder = state.shared.accounts if change.get("shared") and state.shared is not None else state.accounts
        account = holder.get(change["account"])
        for lot in account.lots if account is not None else ():
            if lot.id == change["lot"] and lot.expires is not None:
                return min(default, self.local(lot.expires - 1))
        return default


def _liability(state: CustomerState) -> int:
    return sum(account.balance for account in state.accounts.values())
