"""Checks of application order and exclusivity (docs/order.md): a group's ``order``, a campaign's
``exclusive`` and ``redistribute floors`` clauses, and how they fit the campaign's group.

* LOY270: an exclusive campaign in a ``stack_all`` group: the group says all its campaigns apply
  together, the clause says this one applies alone.
* LOY271: a campaign ``priority`` in a group with ``order declared``: the group applies its campaigns
  in the order they are written, so the priority would be silently ignored.
"""

from __future__ import annotations

from collections.abc import Callable

from loyadsl.diagnostics import Diagnostic, did_you_mean, error
from loyadsl.syntax import nodes as n

ORDERS = ("priority", "declared")
EXCLUSIVE_SCOPES = ("receipt", "lines")

Report = Callable[[Diagnostic], None]


def group_order(g: n.GroupDecl, report: Report) -> str | None:
    """The group's order (``priority`` when not stated), or None after reporting an unknown one."""
    if g.order is None:
        return "priority"
    if g.order not in ORDERS:
        report(error("LOY207", f"unknown order `{g.order}` in group `{g.name}`", g.span,
                     did_you_mean(g.order, ORDERS) or "use `order declared` (or leave it out: by priority)"))
        return None
    return g.order


def campaign_order(c: n.CampaignDecl, clauses: list[n.Clause], group: n.GroupDecl | None, report: Report) -> bool:
    """Whether the campaign's ``exclusive`` and ``priority`` fit its group (LOY270, LOY271, reported)."""
    if group is None:
        return True
    ok = True
    for clause in clauses:
        if isinstance(clause, n.ExclusiveClause) and group.stacking == "stack_all":
            report(error(
                "LOY270", f"campaign `{c.name}` is `exclusive {clause.scope}` in group `{group.name}`, "
                          "which stacks everything", clause.span,
                "`stacking stack_all` applies every campaign of the group together; put the exclusive campaign in "
                "a group with `stacking first_by_priority` (or `best_for_customer`), or drop `exclusive`"))
            ok = False
        if isinstance(clause, n.PriorityClause) and group.order == "declared":
            report(error(
                "LOY271", f"campaign `{c.name}` has a priority, but group `{group.name}` applies its campaigns "
                          "in declared order", clause.span,
                "remove the `priority` clause and move the campaign in the file, or remove `order declared` "
                "from the group"))
            ok = False
    return ok
