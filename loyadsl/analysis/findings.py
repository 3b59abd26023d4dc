"""Group-level findings as lint warnings (docs/collisions.md, "Findings"): a campaign that can never
fire (LOY311), and a campaign shadowed in a first-by-priority group (LOY310).

Each finding is a proof by the solver, and a shadowing one is also confirmed by the runtime on a
witness receipt, so a warning is never a guess. ``loya collisions --findings`` prints them, in every
format ``loya check`` has (text, json, sarif, junit, github).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from loyadsl.analysis import smt
from loyadsl.analysis.asserts import free_line_findings
from loyadsl.analysis.collisions import state_needed
from loyadsl.analysis.search import fired
from loyadsl.compile import ir
from loyadsl.diagnostics import Diagnostic, warning
from loyadsl.runtime import Engine, LoyaError

SHADOWED = "LOY310"  # always beaten by a higher-priority campaign of a first_by_priority group
NEVER_FIRES = "LOY311"  # its own window, filters, audience and conditions cannot hold together


def findings(programme: ir.Programme, engine: Engine) -> list[Diagnostic]:
    zone = ZoneInfo(programme.settings.timezone)
    out: list[Diagnostic] = []
    never: set[str] = set()
    for c in programme.campaigns:
        proof = smt.proof([c], zone)
        if proof is not None:
            never.add(c.name)
            out.append(warning(NEVER_FIRES, f"campaign `{c.name}` can never fire: {_parts(proof)} cannot hold "
                                            "together (proved by z3)", c.span,
                               "widen the window or the conditions, or delete the campaign"))
    for gi, group in enumerate(programme.groups):
        if group.stacking != "first_by_priority":
            continue
        ranked = sorted((c for c in programme.campaigns if c.group == gi and c.name not in never),
                        key=lambda c: (-c.priority, c.order))
        for j, loser in enumerate(ranked):
            winner = next((w for w in ranked[:j] if _shadows(w, loser, zone, engine)), None)
            if winner is not None:
                out.append(warning(
                    SHADOWED, f"campaign `{loser.name}` is always shadowed by `{winner.name}` in group "
                              f"`{group.name}` (first_by_priority): whenever `{loser.name}` can fire, "
                              f"`{winner.name}` comes first, is eligible and has a line to reward, so "
                              f"`{loser.name}` wins only where that reward comes to nothing", loser.span,
                    f"give `{loser.name}` a priority above {winner.priority}, narrow `{winner.name}`, "
                    "or move one of them to another group"))
    return out + free_line_findings(programme, engine)


def _shadows(winner: ir.ICampaign, loser: ir.ICampaign, zone: ZoneInfo, engine: Engine) -> bool:
    """Proved: whatever lets the loser fire lets the winner too (its window, filters, audience and
    condition hold, and a line its rewards need is there: unsat of loser and not winner); and shown:
    on a receipt where both fire, the winner applies and the loser loses to stacking. The proof cannot
    say the winner's reward is never zero (a line already at its price, a rounding), hence the
    wording. A winner gated by something outside its conditions (a coupon, a limit, a budget, state)
    is never claimed."""
    if winner.coupon or winner.usage_limit or winner.budget or state_needed(winner) is not None:
        return False
    if smt.proof([loser], zone, negate=winner) is None:
        return False
    both = smt.witness([winner, loser], zone)
    if both is None:
        return False
    try:
        outcome = engine.evaluate(both.receipt, both.customer)
    except LoyaError:
        return False
    return winner.name in outcome.applied and loser.name in fired(outcome) - set(outcome.applied)


def _parts(proof: smt.Proof) -> str:
    return ", ".join(p.split(": ", 1)[-1] for p in proof.parts) or "its parts"
