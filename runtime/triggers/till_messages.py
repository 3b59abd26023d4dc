"""Campaigns' till messages in the Outcome (docs/triggers.md, "Messages"): a campaign that applies with
``message receipt "..."`` or ``message cashier "..."`` puts each rendered message into
``Outcome.messages`` as ``{"campaign", "channel", "text"}``, in the order the campaigns applied.

Built by the engine only for a bundle with messages: other programmes never reach this code, and their
outcomes (``messages`` None) keep their JSON. The variables are those of the chains' messages, read
from the customer's state after the outcome's changes (``balance`` with what the receipt accrued)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..state import CustomerState, apply
from .templates import render

if TYPE_CHECKING:
    from ..engine import Engine
    from ..model import Outcome
    from .runner import Triggers


class TillMessages:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.by_campaign = dict(engine.bundle.messages)
        self._triggers: Triggers | None = None  # made at the first message (the engine is built by then)

    def attach(self, outcome: Outcome, customer: CustomerState | dict[str, Any] | None, utc: int) -> Outcome:
        """``outcome`` with ``messages``: None when no applied campaign has one."""
        sends = [(c, s) for c in outcome.applied for s in self.by_campaign.get(c, ())]
        if not sends:
            return outcome
        values = self.values(outcome, customer, utc)
        return outcome._replace(messages=tuple({"campaign": c, "channel": s.channel, "text": render(s.template, values)}
                                               for c, s in sends))

    def values(self, outcome: Outcome, customer: CustomerState | dict[str, Any] | None, utc: int) -> dict[str, str]:
        from .runner import Triggers, _Run  # runner reads the ledger; imported once a message is due

        decls = self.engine.bundle.state
        if self._triggers is None:
            self._triggers = Triggers(self.engine)
        if isinstance(customer, dict):
            customer = CustomerState.from_dict(customer, decls)
        state = customer if customer is not None else CustomerState.from_dict({"id": "anonymous"}, decls)  # no state: no name, no balance
        if customer is not None and outcome.changes:
            state = apply(state, outcome.changes, decls)
        return _Run(self._triggers, state, utc, outcome).values(None, "")
