"""Group-level findings as lint warnings (docs/collisions.md, "Findings"): a campaign that can never
fire (LOY311); a campaign shadowed (LOY310) by the campaigns ahead of it in a `first_by_priority` or
`stack_up_to N` group, or outdone by a better one in a `best_for_customer` group; stacked campaigns
that can take a whole line (LOY313, loyadsl/analysis/asserts.py).

Each finding is a proof by the solver, and a shadowing one is also confirmed by the runtime on a
witness receipt, so a warning is never a guess. ``loya collisions --findings`` prints them, in every
format ``loya check`` has (text, json, sarif, junit, github).
"""

from __future__ import annotations

import itertools
from zoneinfo import ZoneInfo

from loyadsl.analysis import smt
from loyadsl.analysis.asserts import free_line_findings
from loyadsl.analysis.collisions import state_needed
from loyadsl.analysis.search import Search, fired
from loyadsl.compile import ir
from loyadsl.diagnostics import Diagnostic, warning
from loyadsl.runtime import Engine, LoyaError
from loyadsl.runtime.opcodes import Op

SHADOWED = "LOY310"  # always beaten by campaigns ahead in a first_by_priority / stack_up_to N group, or outdone
# in a best_for_customer group
NEVER_FIRES = "LOY311"  # its own window, filters, audience and conditions cannot hold together


def findings(programme: ir.Programme, engine: Engine) -> list[Diagnostic]:
    zone = ZoneInfo(programme.settings.timezone)
    out, never = _never_fires(programme, zone)
    for gi, group in enumerate(programme.groups):
        ranked = sorted((c for c in programme.campaigns if c.group == gi and c.name not in never),
                        key=lambda c: (-c.priority, c.order))
        if group.stacking in ("first_by_priority", "stack_up_to"):
            out += _shadowed_by_rank(programme, group, ranked, zone, engine)
        elif group.stacking == "best_for_customer":
            out += _outdone(programme, group, ranked, zone, engine)
    return out + free_line_findings(programme, engine)


def _never_fires(programme: ir.Programme, zone: ZoneInfo) -> tuple[list[Diagnostic], set[str]]:
    out: list[Diagnostic] = []
    never: set[str] = set()
    for c in programme.campaigns:
        proof = smt.proof([c], zone)
        if proof is not None:
            never.add(c.name)
            out.append(warning(NEVER_FIRES, f"campaign `{c.name}` can never fire: {_parts(proof)} cannot hold "
                                            "together (proved by z3)", c.span,
                               "widen the window or the conditions, or delete the campaign"))
    return out, never


def _shadowed_by_rank(programme: ir.Programme, group: ir.IGroup, ranked: list[ir.ICampaign], zone: ZoneInfo,
                      engine: Engine) -> list[Diagnostic]:
    """In a group that applies its first N campaigns (N = 1 for first_by_priority): a campaign with N
    campaigns ahead of it that are eligible whenever it is, shown on a witness where they apply and it
    loses to stacking."""
    n = 1 if group.stacking == "first_by_priority" else group.stacking_limit or 1
    out = []
    for j, loser in enumerate(ranked):
        ahead = [w for w in ranked[:j] if _implies(w, loser, zone)]
        tries = [[w] for w in ahead] if n == 1 else [ahead[:n]] if len(ahead) >= n else []
        winners = next((ws for ws in tries if _beaten(programme, ws, loser, zone, engine)), None)
        if winners is None:
            continue
        names = ", ".join(f"`{w.name}`" for w in winners)
        policy = group.stacking if n == 1 else f"stack_up_to {n}"
        out.append(warning(
            SHADOWED, f"campaign `{loser.name}` is always shadowed by {names} in group `{group.name}` "
                      f"({policy}): whenever `{loser.name}` can fire, {names} come first, are eligible and "
                      f"have a line to reward, so `{loser.name}` wins only where a reward of theirs comes to "
                      "nothing", loser.span,
            f"give `{loser.name}` a priority above {min(w.priority for w in winners)}, narrow {names}, "
            "or move one of them to another group"))
    return out


def _outdone(programme: ir.Programme, group: ir.IGroup, ranked: list[ir.ICampaign], zone: ZoneInfo, engine: Engine) -> list[Diagnostic]:
    """In a best_for_customer group: a campaign that another, eligible whenever it is, always matches or
    beats (the same kind of reward on at least its lines, at least as much, winning ties by coming first)."""
    out = []
    for j, loser in enumerate(ranked):
        for k, winner in enumerate(ranked):
            if winner is loser or not _dominates(winner, loser, k < j) or not _implies(winner, loser, zone):
                continue
            if _beaten(programme, [winner], loser, zone, engine):
                out.append(warning(
                    SHADOWED, f"campaign `{loser.name}` is always outdone by `{winner.name}` in group "
                              f"`{group.name}` (best_for_customer): whenever `{loser.name}` can fire, "
                              f"`{winner.name}` is eligible and gives at least as much on at least its lines",
                    loser.span, f"make `{loser.name}` give more than `{winner.name}`, narrow `{winner.name}`, "
                                "or delete one of them"))
                break
    return out


DOMINATED_OPS = (Op.DISCOUNT_TOTAL, Op.DISCOUNT_LINES, Op.ACCRUE_TOTAL)


def _dominates(winner: ir.ICampaign, loser: ir.ICampaign, winner_first: bool) -> bool:
    """Sufficient: one constant reward each, of the same kind (or a percentage of the receipt against a
    percentage of lines), the winner's lines a superset (the same predicate, or all lines), its value at least the loser's (more, or equal and first on ties), and no
    cap or limit on the winner that could make it give less."""
    w, lo = _single(winner), _single(loser)
    if w is None or lo is None or w.op not in DOMINATED_OPS:
        return False
    # a percentage of the receipt (rounded once) is at least as much as that percentage of some lines
    if w.op != lo.op and (w.op, lo.op) != (Op.DISCOUNT_TOTAL, Op.DISCOUNT_LINES):
        return False
    if winner.max_discount is not None or winner.max_points is not None or winner.limit_applications is not None:
        return False
    if not (w.predicate == lo.predicate or (isinstance(w.predicate, ir.Const) and w.predicate.value is True)):
        return False
    wv, lv = (r.args[0].value if isinstance(r.args[0], ir.Const) else None for r in (w, lo))
    if not isinstance(wv, int) or not isinstance(lv, int):
        return False
    return wv > lv or (wv == lv and winner_first)


def _single(c: ir.ICampaign) -> ir.Reward | None:
    rewards = [a for a in c.actions if isinstance(a, ir.Reward)]
    return rewards[0] if len(rewards) == 1 and len(c.actions) == 1 else None


def _implies(winner: ir.ICampaign, loser: ir.ICampaign, zone: ZoneInfo) -> bool:
    """Proved: whatever lets the loser fire lets the winner too (its window, filters, audience and
    condition hold, and a line its rewards need is there: unsat of loser and not winner). A winner gated
    by something outside its conditions (a coupon, a limit, a budget, state) is never claimed."""
    if winner.coupon or winner.usage_limit or winner.budget or state_needed(winner) is not None:
        return False
    return smt.proof([loser], zone, negate=winner) is not None


def _beaten(programme: ir.Programme, winners: list[ir.ICampaign], loser: ir.ICampaign, zone: ZoneInfo,
            engine: Engine) -> bool:
    """Shown: on a receipt where they all fire (the solver's, else one of the search's grid, whose
    larger amounts keep rewards from rounding to nothing), the winners apply and the loser loses to
    stacking. The proof cannot say a winner's reward is never zero (a line already at its price, a
    rounding), hence the findings' wording."""
    names = [w.name for w in winners]
    solved = smt.witness([*winners, loser], zone, engine.bundle.state)
    tried = [] if solved is None else [(solved.receipt, solved.customer)]
    for receipt, customer in itertools.chain(tried, Search(programme, engine).candidates([*names, loser.name])):
        try:
            outcome = engine.evaluate(receipt, customer)
        except LoyaError:
            continue
        if all(n in outcome.applied for n in names) and loser.name in fired(outcome) - set(outcome.applied):
            return True
    return False


def _parts(proof: smt.Proof) -> str:
    return ", ".join(p.split(": ", 1)[-1] for p in proof.parts) or "its parts"
