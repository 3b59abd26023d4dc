"""A host of anonymous receipts for the tests of this folder: programme-wide counts only (the usage
limits' ``RedemptionBook``, what each budget has given, catalogue stock given), and the return record
of each returned receipt (``anonymous_record`` with the earlier returns applied)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from loyadsl.runtime import Engine, Outcome
from loyadsl.runtime.ledger.refund import Refund, anonymous_record
from loyadsl.runtime.redemptions import RedemptionBook
from loyadsl.runtime.state import CustomerState, apply

Json = dict[str, Any]


class AnonymousHost:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.book = RedemptionBook()
        self.spent: dict[str, int] = {}  # budget name or "stock:REWARD" -> given so far
        self.outcomes: dict[str, Outcome] = {}
        self.records: dict[str, CustomerState] = {}

    def budgets_left(self) -> dict[str, int]:
        return {c.name: c.state.budget.amount - self.spent.get(c.name, 0)
                for c in self.engine.bundle.campaigns if c.state.budget is not None}

    def sell(self, receipt: Json) -> Outcome:
        outcome = self.engine.evaluate(receipt, None, budgets=self.budgets_left(), redemptions=self.book.used)
        self.outcomes[outcome.receipt_id] = outcome
        self._book(outcome.changes or ())
        return outcome

    def give_back(self, receipt_id: str, lines: dict[int, Any] | None, now: str, return_id: str) -> Refund:
        refund = self.engine.refund(self.outcomes[receipt_id], lines, self.records.get(receipt_id),
                                    dt.datetime.fromisoformat(now), return_id)
        record = self.records.get(receipt_id, anonymous_record(receipt_id))
        self.records[receipt_id] = apply(record, list(refund.changes), self.engine.bundle.state)
        self._book(refund.changes)
        return refund

    def _book(self, changes: Any) -> None:
        self.book.commit(changes)
        for change in changes:
            if change["op"] == "budget":
                self.spent[change["campaign"]] = self.spent.get(change["campaign"], 0) + change["delta"]
            elif change["op"] == "stock":
                key = "stock:" + change["reward"]
                self.spent[key] = self.spent.get(key, 0) - change["delta"]

    def counters(self) -> Json:
        return {"uses": {k: v for k, v in self.book.used.items() if v},
                "spent": {k: v for k, v in self.spent.items() if v}}
