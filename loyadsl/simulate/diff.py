"""``loya diff OLD NEW``: two programmes replayed over the same history, compared (docs/simulate.md, "Diff JSON").

The history is read, validated and partitioned once, by the ``Simulation`` of NEW, so partitions,
quarantine and input counts are exactly those of ``loya simulate NEW``. Each partition job replays
its partition with OLD and then with NEW, observing every evaluated receipt, and compares the two
outcomes receipt by receipt. A partition holds whole customers, so per-customer sums are complete
within it; a job returns only its K largest receipts and customers and summed breakdown rows, which
are merged in partition order and cut to K with a total order: the diff is the same whatever the
number of workers or the backend. Totals, campaigns and collisions come from the two full reports
(``report.build``), so ``cost`` means here what it means in the report. Nothing here is a float.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from loyadsl.runtime.bundle import Bundle
from loyadsl.runtime.model import Outcome, Receipt, Rows
from loyadsl.simulate import asserts as guards
from loyadsl.simulate.errors import DiffError
from loyadsl.simulate.report import Tally, _money_of_points, build, merge_all, week_start
from loyadsl.simulate.run import Job, Result, Simulation, _engine, replay_job

TOP = 10
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS = tuple(f"{h:02d}" for h in range(24))

# a breakdown row while summing: receipts, changed, discount old/new, points old/new
Row = list[int]
RECEIPTS, CHANGED, D_OLD, D_NEW, P_OLD, P_NEW = range(6)


class Seen(NamedTuple):
    """One receipt's outcome under one programme: what a comparison needs, nothing more."""

    discount: int
    points: int
    applied: frozenset[str]


def _row() -> Row:
    return [0] * 6


def _add(row: Row, other: Sequence[int]) -> None:
    for i, value in enumerate(other):
        row[i] += value


@dataclass
class PartitionDiff:
    """What one partition contributes to the diff; partitions hold disjoint customers, so these add."""

    changed_receipts: int = 0
    changed_customers: int = 0
    participants: list[int] = field(default_factory=lambda: [0, 0])  # old, new
    collisions: list[int] = field(default_factory=lambda: [0, 0])  # receipts with a collision: old, new
    receipts: list[tuple[tuple[int, str], dict[str, Any]]] = field(default_factory=list)  # (order key, row), top K
    customers: list[tuple[tuple[int, str], dict[str, Any]]] = field(default_factory=list)
    stores: dict[str, Row] = field(default_factory=dict)
    weekdays: list[Row] = field(default_factory=lambda: [_row() for _ in WEEKDAYS])
    hours: list[Row] = field(default_factory=lambda: [_row() for _ in HOURS])
    weeks: dict[int, Row] = field(default_factory=dict)  # week start (ordinal) -> row

    def merge(self, other: PartitionDiff, top: int) -> None:
        self.changed_receipts += other.changed_receipts
        self.changed_customers += other.changed_customers
        _add(self.participants, other.participants)
        _add(self.collisions, other.collisions)
        self.receipts = heapq.nsmallest(top, self.receipts + other.receipts, key=lambda item: item[0])
        self.customers = heapq.nsmallest(top, self.customers + other.customers, key=lambda item: item[0])
        for key, row in other.stores.items():
            _add(self.stores.setdefault(key, _row()), row)
        for mine, theirs in zip(self.weekdays + self.hours, other.weekdays + other.hours, strict=True):
            _add(mine, theirs)
        for week, row in other.weeks.items():
            _add(self.weeks.setdefault(week, _row()), row)


@dataclass
class DiffResult(Result):
    """A partition replayed with both programmes: NEW's result (what ``Simulation`` folds into the NEW
    report), OLD's tally, and the comparison."""

    old: Tally = field(default_factory=Tally)
    diff: PartitionDiff = field(default_factory=PartitionDiff)

    def sides(self) -> dict[str, Tally]:
        return {"new": self.tally, "old": self.old}


# ---------------------------------------------------------------------------------------- one partition


def _touched(outcome: Outcome) -> bool:
    """Whether some campaign gave the receipt something on a line (how the report counts participants)."""
    effects = outcome.effects.rows if isinstance(outcome.effects, Rows) else outcome.effects
    return any(any(effect[4]) for effect in effects)


def _collided(outcome: Outcome) -> bool:
    return any(r.reason == "lost_to_stacking" for r in outcome.rejected)


class _Side:
    """Observes one programme's replay of a partition: each receipt's outcome, participants, collisions."""

    def __init__(self) -> None:
        self.seen: dict[str, Seen] = {}
        self.participants: set[str] = set()
        self.collisions = 0

    def observe(self, receipt: Receipt, outcome: Outcome) -> Seen:
        seen = Seen(outcome.discount_total, outcome.points_total, frozenset(outcome.applied))
        if receipt.customer_id is not None and _touched(outcome):
            self.participants.add(receipt.customer_id)
        self.collisions += _collided(outcome)
        return seen

    def keep(self, receipt: Receipt, outcome: Outcome) -> None:
        self.seen[receipt.receipt_id] = self.observe(receipt, outcome)


class _Comparison:
    """Observes NEW's replay of a partition and compares each receipt with OLD's outcome of it.

    A receipt one of the replays quarantined (an evaluation error) has nothing to be compared with
    and is left out of the comparison (it is in the quarantine and the input counts)."""

    def __init__(self, old: _Side, old_cost: Callable[[int], int], new_cost: Callable[[int], int],
                 zone: ZoneInfo, top: int) -> None:
        self.old = old
        self.new = _Side()
        self.old_cost = old_cost  # points -> their money value, in each programme
        self.new_cost = new_cost
        self.zone = zone  # NEW's local time, for the breakdowns and the receipts' times
        self.top = top
        self.out = PartitionDiff()
        self.customers: dict[str, list[int]] = {}  # customer -> changed receipts, discount/points old/new
        # changed receipts: (order key, receipt id, customer, store, local time, old, new), cut to the top now and then
        self.changed: list[tuple[tuple[int, str], str, str | None, str, dt.datetime, Seen, Seen]] = []

    def observe(self, receipt: Receipt, outcome: Outcome) -> None:
        new = self.new.observe(receipt, outcome)
        old = self.old.seen.pop(receipt.receipt_id, None)
        if old is None:
            return
        changed = old.discount != new.discount or old.points != new.points or old.applied != new.applied
        row = (1, int(changed), old.discount, new.discount, old.points, new.points)
        out = self.out
        local = receipt.datetime.astimezone(self.zone).replace(tzinfo=None)
        _add(out.stores.setdefault(receipt.store, _row()), row)
        _add(out.weekdays[local.weekday()], row)
        _add(out.hours[local.hour], row)
        _add(out.weeks.setdefault(week_start(local.toordinal()), _row()), row)
        customer = receipt.customer_id
        if customer is not None:
            sums = self.customers.setdefault(customer, [0] * 5)
            for i, value in enumerate(row[1:]):
                sums[i] += value
        if changed:
            out.changed_receipts += 1
            delta = new.discount + self.new_cost(new.points) - old.discount - self.old_cost(old.points)
            self.changed.append(((-abs(delta), receipt.receipt_id), receipt.receipt_id, customer, receipt.store,
                                 local, old, new))
            if len(self.changed) > 2 * self.top + 1000:  # memory bounded by the top, not the changes
                self.changed = heapq.nsmallest(self.top, self.changed, key=lambda item: item[0])

    def result(self) -> PartitionDiff:
        out = self.out
        out.participants = [len(self.old.participants), len(self.new.participants)]
        out.collisions = [self.old.collisions, self.new.collisions]
        for key, receipt_id, customer, store, local, old, new in heapq.nsmallest(self.top, self.changed,
                                                                                 key=lambda item: item[0]):
            out.receipts.append((key, self._receipt(receipt_id, customer, store, local, old, new)))
        ranked = []
        for customer, (n, d_old, d_new, p_old, p_new) in self.customers.items():
            if not n:
                continue
            out.changed_customers += 1
            cost = self._costs(d_old, d_new, p_old, p_new)
            ranked.append(((-abs(cost["delta"]), customer), customer, n, d_old, d_new, p_old, p_new, cost))
        for key, customer, n, d_old, d_new, p_old, p_new, cost in heapq.nsmallest(self.top, ranked,
                                                                                  key=lambda item: item[0]):
            out.customers.append((key, {"customer_id": customer, "receipts": n, "discount": change(d_old, d_new),
                                        "points_accrued": change(p_old, p_new), "cost": cost}))
        return out

    def _costs(self, d_old: int, d_new: int, p_old: int, p_new: int) -> dict[str, int]:
        return change(d_old + self.old_cost(p_old), d_new + self.new_cost(p_new))

    def _receipt(self, receipt_id: str, customer: str | None, store: str, local: dt.datetime, old: Seen,
                 new: Seen) -> dict[str, Any]:
        return {
            "receipt_id": receipt_id, "customer_id": customer, "store_id": store,
            "datetime": local.isoformat(timespec="seconds"),
            "discount": change(old.discount, new.discount), "points_accrued": change(old.points, new.points),
            "cost": self._costs(old.discount, new.discount, old.points, new.points),
            "campaigns": {"added": sorted(new.applied - old.applied), "removed": sorted(old.applied - new.applied)},
        }


def diff_job(old_bundle: bytes, top: int, job: Job) -> DiffResult:
    """Replay one partition with OLD, then with NEW (``job.bundle``), comparing receipt by receipt; what
    every backend runs for ``loya diff`` (a module-level function, so a pool or a cluster can pickle it)."""
    old_engine, new_engine = _engine(old_bundle), _engine(job.bundle)
    old_side = _Side()
    old = replay_job(dataclasses.replace(job, bundle=old_bundle), old_side.keep, side="old")
    comparison = _Comparison(old_side, partial(_money_of_points, bundle=old_engine.bundle),
                             partial(_money_of_points, bundle=new_engine.bundle), new_engine.zone, top)
    new = replay_job(job, comparison.observe)
    return DiffResult(new.tally, new.bad, new.receipts, old=old.tally, diff=comparison.result())


# ---------------------------------------------------------------------------------------- the whole diff


def change(old: int, new: int) -> dict[str, int]:
    return {"old": old, "new": new, "delta": new - old}


def check_comparable(old: Bundle, new: Bundle) -> None:
    """Money deltas only mean something in one currency (and one minor unit)."""
    a, b = old.settings, new.settings
    if (a.currency, a.minor) != (b.currency, b.minor):
        raise DiffError(f"OLD counts money in {a.currency} (minor {a.minor}) and NEW in {b.currency} "
                        f"(minor {b.minor}): a diff compares programmes of the same currency")


def run_diff(old_bundle: bytes, simulation: Simulation, top: int = TOP,
             assertions: Iterable[guards.Assertion] = ()) -> dict[str, Any]:
    """The diff JSON of OLD (``old_bundle``) and NEW (``simulation.bundle``) over ``simulation``'s history;
    ``assertions`` are checked against the NEW report."""
    old_engine, new_engine = _engine(old_bundle), _engine(simulation.bundle)
    check_comparable(old_engine.bundle, new_engine.bundle)
    sim = dataclasses.replace(simulation, work=partial(diff_job, old_bundle, top), side_bundles={"old": old_bundle})
    new_report = sim.run()
    results = [r for r in sim.results if isinstance(r, DiffResult)]
    assert len(results) == len(sim.results)
    old_report = build(merge_all(r.old for r in results), old_engine.bundle, new_report["input"],
                       _levels(old_engine.bundle), sim.cutoffs.get("old"))
    merged = PartitionDiff()
    for result in results:  # in partition order
        merged.merge(result.diff, top)
    return compose(old_report, new_report, merged, top, old_engine.bundle, new_engine.bundle,
                   guards.check(assertions, new_report))


def _levels(bundle: Bundle) -> list[str]:
    tiers = bundle.state.tiers
    return [level.name for level in tiers.levels] if tiers else []


def compose(old: Mapping[str, Any], new: Mapping[str, Any], merged: PartitionDiff, top: int, old_bundle: Bundle,
            new_bundle: Bundle, assertions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The diff JSON from the two reports and the merged comparison."""
    ot, nt = old["totals"], new["totals"]
    totals = {key: change(ot[key], nt[key]) for key in
              ("revenue", "discount", "points_accrued", "points_redeemed", "cost", "cost_share_ppm", "liability")}
    totals["participants"] = change(*merged.participants)
    totals["collisions"] = change(*merged.collisions)

    def cost(row: Sequence[int]) -> dict[str, int]:
        return change(row[D_OLD] + _money_of_points(row[P_OLD], old_bundle),
                      row[D_NEW] + _money_of_points(row[P_NEW], new_bundle))

    def breakdown(key: str, row: Row) -> dict[str, Any]:
        return {"key": key, "receipts": row[RECEIPTS], "changed": row[CHANGED],
                "discount": change(row[D_OLD], row[D_NEW]), "points_accrued": change(row[P_OLD], row[P_NEW]),
                "cost": cost(row)}

    stores = [breakdown(key, row) for key, row in merged.stores.items()]
    stores.sort(key=lambda r: (-abs(r["cost"]["delta"]), r["key"]))
    series = [{"start": _day(week), "discount": change(row[D_OLD], row[D_NEW]),
               "points_accrued": change(row[P_OLD], row[P_NEW]), "cost": cost(row)}
              for week, row in sorted(merged.weeks.items())]
    return {
        "kind": "diff",
        "old": dict(old["programme"]),
        "new": dict(new["programme"]),
        "input": dict(new["input"]),
        "top": top,
        "changed": {"receipts": merged.changed_receipts, "customers": merged.changed_customers},
        "totals": totals,
        "campaigns": _campaigns(old["campaigns"], new["campaigns"]),
        "collisions": _collisions(old["collisions"], new["collisions"]),
        "customers": [row for _key, row in merged.customers],
        "receipts": [row for _key, row in merged.receipts],
        "breakdowns": {"store": stores,
                       "weekday": [breakdown(k, r) for k, r in zip(WEEKDAYS, merged.weekdays, strict=True)],
                       "hour": [breakdown(k, r) for k, r in zip(HOURS, merged.hours, strict=True)]},
        "series": {"period": "week", "points": series},
        "assertions": assertions or [],
    }


def _day(ordinal: int) -> str:
    return dt.date.fromordinal(ordinal).isoformat()


CAMPAIGN_CHANGES = ("receipts", "participants", "discount", "points_accrued", "cost")


def _campaigns(old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every campaign of either programme; a campaign only in one of them counts zero in the other."""
    old_rows = {row["name"]: row for row in old}
    new_rows = {row["name"]: row for row in new}
    rows = []
    for name in [*new_rows, *(n for n in old_rows if n not in new_rows)]:
        before, after = old_rows.get(name), new_rows.get(name)
        changes = {key: change(before[key] if before else 0, after[key] if after else 0) for key in CAMPAIGN_CHANGES}
        if before is None:
            status = "added"
        elif after is None:
            status = "removed"
        else:
            status = "same" if all(c["delta"] == 0 for c in changes.values()) else "changed"
        group = (after or before or {}).get("group")
        rows.append({"name": name, "group": group, "status": status, **changes})
    rows.sort(key=lambda r: (-abs(r["cost"]["delta"]), r["name"]))
    return rows


def _collisions(old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Collisions of either programme by (group, campaigns met), the most frequent first."""
    counts: dict[tuple[str, tuple[str, ...]], list[int]] = {}
    for side, rows in enumerate((old, new)):
        for row in rows:
            counts.setdefault((row["group"], tuple(row["campaigns"])), [0, 0])[side] += row["receipts"]
    ordered = sorted(counts.items(), key=lambda kv: (-max(kv[1]), kv[0]))
    return [{"campaigns": list(met), "group": group, "receipts": change(*n)} for (group, met), n in ordered]
