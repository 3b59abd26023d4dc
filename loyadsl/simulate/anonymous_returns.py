"""Returns of anonymous receipts in ``loya simulate`` (docs/state.md section 7): the outcomes of
anonymous receipts a return may refer to, and each one's return record (``anonymous_record`` with its
earlier returns applied), so a receipt returned in parts is never paid back twice. Only programme-wide
state comes back (usage limits, budgets, stock), as on the processing server (loyadsl/server)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Container
from typing import Any

from loyadsl.runtime import Engine, Outcome
from loyadsl.runtime.ledger.refund import Refund, anonymous_record
from loyadsl.runtime.state import CustomerState, apply


class AnonymousReturns:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.outcomes: dict[str, Outcome] = {}
        self.records: dict[str, CustomerState] = {}

    def keep(self, outcome: Outcome, returned: Container[str] | None) -> None:
        """Keep an anonymous receipt's outcome when a return may refer to it (``returned``: the ids
        returns refer to; None: every receipt)."""
        if returned is None or outcome.receipt_id in returned:
            self.outcomes[outcome.receipt_id] = outcome

    def give_back(self, data: dict[str, Any]) -> Refund | None:
        """The return ``data`` (receipt JSON with ``return_of``) of a kept anonymous receipt; None when
        it returns no receipt kept here."""
        of = str(data["return_of"])
        original = self.outcomes.get(of)
        if original is None:
            return None
        returned = {int(line["line_no"]): line["qty"] for line in data.get("lines", [])}
        refund = self.engine.refund(original, returned or None, self.records.get(of),
                                    dt.datetime.fromisoformat(data["datetime"]), str(data["receipt_id"]))
        self.records[of] = apply(self.records.get(of) or anonymous_record(of), list(refund.changes),
                                 self.engine.bundle.state)
        return refund
