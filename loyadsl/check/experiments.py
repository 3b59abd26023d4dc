"""Experiments: their declarations and the arms campaigns join (docs/experiments.md), LOY230-LOY237.

Two jobs, each a function: ``check_experiments`` turns the ``experiment`` blocks into
``ir.IExperiment`` (weights in basis points that sum to 100 %, arm names unique, the anonymous rule
naming an arm); ``arm_gate`` resolves the ``arm X.Y`` a campaign and its group declare into one
``ir.ArmGate``. ``unjoined_experiments`` reports the experiments no campaign joins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation

from loyadsl.compile import ir
from loyadsl.diagnostics import Diagnostic, did_you_mean, error
from loyadsl.runtime.experiments import BUCKETS, Arm
from loyadsl.syntax import nodes as n

HOLDOUT = "holdout"
Report = Callable[[Diagnostic], None]


def check_experiments(decls: Iterable[n.ExperimentDecl], report: Report) -> tuple[dict[str, ir.IExperiment], set[str]]:
    """The experiments that check, by name, and the names of those with an error (each reported)."""
    out: dict[str, ir.IExperiment] = {}
    broken: set[str] = set()
    for decl in decls:
        checked = _experiment(decl, report)
        if checked is None:
            broken.add(decl.name)
        else:
            out[decl.name] = checked
    return out, broken


def _experiment(decl: n.ExperimentDecl, report: Report) -> ir.IExperiment | None:
    ok = True
    arms: list[Arm] = []
    seen: dict[str, n.ExperimentArm] = {}
    for arm in decl.arms:
        if arm.name in seen or (arm.name == HOLDOUT and not arm.holdout):
            first = seen.get(arm.name)
            report(error("LOY231", f"experiment `{decl.name}` has two arms named `{arm.name}`", arm.span,
                         f"the first is at {first.span}" if first is not None
                         else "`holdout` names the holdout (`holdout 10%`); give this arm another name"))
            ok = False
            continue
        seen[arm.name] = arm
        weight = _basis_points(arm, decl.name, report)
        if weight is None:
            ok = False
            continue
        arms.append(Arm(arm.name, weight))
    if not ok:
        return None
    if len(arms) < 2:
        report(error("LOY236", f"experiment `{decl.name}` has {len(arms)} arm{'s' if len(arms) != 1 else ''}; "
                               "it needs at least two", decl.span,
                     "add a control, e.g. `arm control 50%`, or a `holdout 50%` that gets none of its campaigns"))
        return None
    total = sum(a.weight for a in arms)
    if total != BUCKETS:
        report(error("LOY230", f"the arms of experiment `{decl.name}` sum to {_percent(total)}, not 100%",
                     decl.span, _balance_hint(arms, total)))
        return None
    if decl.anonymous is not None and decl.anonymous not in seen:
        report(error("LOY232", f"`anonymous {decl.anonymous}`: experiment `{decl.name}` has no arm "
                               f"`{decl.anonymous}`", decl.span,
                     did_you_mean(decl.anonymous, list(seen)) or f"its arms: {', '.join(seen)}"))
        return None
    salt = decl.name if decl.salt is None else decl.salt
    return ir.IExperiment(decl.name, decl.title, salt, tuple(arms), HOLDOUT in seen and seen[HOLDOUT].holdout,
                          decl.anonymous)


def _basis_points(arm: n.ExperimentArm, experiment: str, report: Report) -> int | None:
    """An arm's weight in basis points: above 0 and in whole hundredths of a percent (LOY234)."""
    try:
        value = Decimal(arm.weight.value) * 100
    except InvalidOperation:  # pragma: no cover - the grammar admits digits only
        value = Decimal(-1)
    if value != value.to_integral_value() or value <= 0 or value > BUCKETS:
        why = "is 0%: nobody would be in it" if value == 0 else \
            "is more than 100%" if value > BUCKETS else "is finer than 0.01%"
        report(error("LOY234", f"arm `{arm.name}` of experiment `{experiment}` {why}", arm.weight.span or arm.span,
                     "an arm's weight lies between 0.01% and 100%, in steps of 0.01%; drop an arm nobody is in"))
        return None
    return int(value)


def _percent(basis_points: int) -> str:
    whole, part = divmod(basis_points, 100)
    return f"{whole}%" if not part else f"{whole}.{part:02d}%"


def _balance_hint(arms: list[Arm], total: int) -> str:
    last = arms[-1]
    fixed = last.weight + BUCKETS - total
    if 0 < fixed <= BUCKETS:
        return f"e.g. make `{last.name}` {_percent(fixed)}; weights are shares of all customers and sum to exactly 100%"
    return "weights are shares of all customers and sum to exactly 100%"


# ------------------------------------------------------------------------------------ campaigns joining arms


def arm_gate(campaign: n.CampaignDecl, clauses: Iterable[n.Clause], group: n.GroupDecl | None,
             experiments: dict[str, ir.IExperiment], broken: set[str],
             report: Report) -> tuple[bool, ir.ArmGate | None]:
    """The arms the campaign runs for: (ok, gate), gate None when it joins no experiment.

    The campaign's own ``arm`` clauses (one or more arms of one experiment: any of them) and its
    group's ``arm`` (every campaign of the group) must name the same experiment (LOY233); with both,
    the campaign's arms lie within the group's. An experiment in ``broken`` has been reported: its
    arms are not checked again."""
    own = [c.ref for c in clauses if isinstance(c, n.ArmClause)]
    inherited = [group.arm] if group is not None and group.arm is not None else []
    ok = all([ref.experiment not in broken and _known(ref, experiments, report) for ref in (*own, *inherited)])
    if not ok:
        return False, None
    refs = own or inherited
    if not refs:
        return True, None
    names = sorted({ref.experiment for ref in (*own, *inherited)})
    if len(names) > 1:
        first = (inherited or own)[0]
        other = next(ref for ref in own if ref.experiment != first.experiment)
        report(error("LOY233", f"campaign `{campaign.name}` joins arms of two experiments, "
                               f"{' and '.join(f'`{x}`' for x in names)}", other.span,
                     "a customer is in one arm of each experiment, so the result would mix both tests; "
                     "copy the campaign, one per experiment, or test one thing at a time"))
        return False, None
    if own and inherited and any(ref.arm != inherited[0].arm for ref in own):
        outside = next(ref for ref in own if ref.arm != inherited[0].arm)
        report(error("LOY233", f"campaign `{campaign.name}` joins `{_ref(outside)}`, but its group joins "
                               f"`{_ref(inherited[0])}`: it could never run", outside.span,
                     "drop the campaign's `arm` clause (it inherits the group's) or move it to another group"))
        return False, None
    experiment = experiments[names[0]]
    wanted = {ref.arm for ref in refs}
    return True, ir.ArmGate(experiment.name, tuple(a.name for a in experiment.arms if a.name in wanted))


def _known(ref: n.ArmRef, experiments: dict[str, ir.IExperiment], report: Report) -> bool:
    experiment = experiments.get(ref.experiment)
    if experiment is None:
        report(error("LOY232", f"unknown experiment `{ref.experiment}`", ref.span,
                     did_you_mean(ref.experiment, list(experiments))
                     or "declare it: `experiment NAME { arm treatment 50%  arm control 50% }`"))
        return False
    arms = [a.name for a in experiment.arms]
    if ref.arm not in arms:
        report(error("LOY232", f"experiment `{ref.experiment}` has no arm `{ref.arm}`", ref.span,
                     did_you_mean(ref.arm, arms) or f"its arms: {', '.join(arms)}"))
        return False
    if ref.arm == HOLDOUT and experiment.holdout:
        report(error("LOY235", f"`{_ref(ref)}` is the holdout: no campaign may join it", ref.span,
                     "the holdout gets none of the experiment's campaigns; join another arm, or turn the "
                     "holdout into an arm (`arm NAME 10%`)"))
        return False
    return True


def _ref(ref: n.ArmRef) -> str:
    return f"{ref.experiment}.{ref.arm}"


def unjoined_experiments(decls: Iterable[n.ExperimentDecl], gates: Iterable[ir.ArmGate | None],
                         report: Report) -> bool:
    """LOY237 for each experiment no campaign joins (its arms would all get the same thing)."""
    joined = {gate.experiment for gate in gates if gate is not None}
    ok = True
    for decl in decls:
        if decl.name not in joined:
            report(error("LOY237", f"no campaign joins experiment `{decl.name}`", decl.span,
                         f"add `arm {decl.name}.ARM` to the campaigns (or the group) it tests, or remove it"))
            ok = False
    return ok
