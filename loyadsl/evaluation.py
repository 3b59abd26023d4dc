"""``loya eval`` over several receipts, as a till's back office would run them: in the order of time
(stable: receipts of the same instant keep the file's order; the results are reported in the file's
order), each customer's state carried from one receipt to the next (the outcome's changes applied), and a
return (``return_of``) refunded against its original outcome from the same run
(``Engine.refund``, docs/state.md section 7). Stateless programmes are unchanged by this: their
outcomes have no changes.

A return's fields are checked by the simulator's rules (``simulate.inputs.check_return``), so that
`loya eval` and `loya simulate` accept and refuse the same files. A return whose original receipt is
not in the run cannot be refunded here: it is counted, not guessed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from loyadsl.runtime import Engine, LoyaError, Receipt
from loyadsl.runtime.model import Outcome, utc_seconds
from loyadsl.runtime.state import CustomerState, apply


@dataclass
class Run:
    """What an evaluation run gives: outcomes and refunds as JSON, problems (``where``, ``code``,
    ``message``), and the returns whose original receipt was not in the run."""

    outcomes: list[dict[str, Any]] = field(default_factory=list)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)


class Evaluation:
    def __init__(self, engine: Engine, people: dict[str, CustomerState], now: dt.datetime | None = None,
                 explain: bool = False, budgets: Mapping[str, int] | None = None, hints: bool = False) -> None:
        self.engine, self.people, self.now, self.explain, self.budgets = engine, people, now, explain, budgets
        self.hints = hints
        self.sold: dict[str, tuple[Outcome, str | None]] = {}  # receipt id -> (outcome, customer)
        self.run = Run()

    def all(self, items: Iterable[tuple[str, Any]]) -> Run:
        """Evaluate ``items`` ((where, receipt JSON)) in the order of time; report in the given order."""
        given = list(items)
        results: dict[int, tuple[str, Any]] = {}
        for position in sorted(range(len(given)), key=lambda i: (_instant(given[i][1]), i)):
            where, item = given[position]
            if isinstance(item, LoyaError):  # unreadable: reading said why
                results[position] = ("problem", problem(item, where))
                continue
            try:
                results[position] = self._return(item) if isinstance(item, dict) and "return_of" in item \
                    else ("outcome", self._sale(item))
            except LoyaError as exc:
                results[position] = ("problem", {"where": where, "code": exc.code, "message": str(exc)})
        shelves: dict[str, list[Any]] = {"outcome": self.run.outcomes, "refund": self.run.refunds, "problem": self.run.problems,
                   "unmatched": self.run.unmatched}
        for position in range(len(given)):
            kind, value = results[position]
            shelves[kind].append(value)
        return self.run

    def _sale(self, item: Any) -> dict[str, Any]:
        receipt = Receipt.from_dict(item)
        card = receipt.customer_id
        customer = self.people.get(card) if card is not None else None
        outcome = self.engine.evaluate(receipt, customer, self.now, explain=self.explain, budgets=self.budgets,
                                       hints=self.hints)
        if outcome.changes and card is not None:
            self.people[card] = apply(customer or CustomerState(id=card), outcome.changes, self.engine.bundle.state)
        self.sold[receipt.receipt_id] = (outcome, card)
        return outcome.to_dict()

    def _return(self, item: dict[str, Any]) -> tuple[str, Any]:
        from loyadsl.simulate.inputs import check_return  # the simulator's rules for a return record

        check_return(item)
        original = self.sold.get(item["return_of"])
        if original is None:
            return "unmatched", str(item["return_of"])
        outcome, card = original
        state = self.people.get(card) if card is not None else None
        returned = {int(line["line_no"]): line["qty"] for line in item.get("lines", [])}
        now = self.now or dt.datetime.fromisoformat(item["datetime"])
        customer = state if state is not None else CustomerState(id=card) if card is not None else None
        refund = self.engine.refund(outcome, returned or None, customer, now, str(item["receipt_id"]))
        if card is not None and refund.changes:
            self.people[card] = apply(state or CustomerState(id=card), refund.changes, self.engine.bundle.state)
        return "refund", refund.to_dict()


def problem(exc: LoyaError, where: str) -> dict[str, Any]:
    """A problem row: the place (``file:line``, then the JSON path when there is one) and the message."""
    message = exc.message[len(exc.where) + 2:] if exc.where else exc.message
    return {"where": exc.where or where, "code": exc.code, "message": message}


def _instant(item: Any) -> tuple[int, int]:
    """When a receipt happened, for the order of evaluation; one whose time cannot be read comes first
    (it is refused when evaluated)."""
    try:
        when = dt.datetime.fromisoformat(item["datetime"])
        return (1, utc_seconds(when)) if when.utcoffset() is not None else (0, 0)
    except (TypeError, KeyError, ValueError, OverflowError):
        return (0, 0)
