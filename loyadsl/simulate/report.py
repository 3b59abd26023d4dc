"""The simulation report (docs/simulate.md, "Report"): per-partition tallies folded into one JSON.

A ``Tally`` is plain sums and counts. Partitions hold disjoint customers, so tallies merge by
addition (participants and active customers included) and the merged result does not depend on how
partitions were spread over workers. Time series are kept as deltas per week and summed into running
values only when the report is built. Nothing here is a float.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from loyadsl.runtime.bundle import Bundle
from loyadsl.runtime.money import minor_text
from loyadsl.runtime.opcodes import Op
from loyadsl.simulate import arms, flags, group_order, limits, settle
from loyadsl.simulate.limits import Cutoff
from loyadsl.simulate.triggers import TriggerTally
from loyadsl.simulate.triggers import section as trigger_section

# per-campaign integer columns, in this order
CAMPAIGN_FIELDS = ("receipts", "participants", "turnover", "units", "discount", "points_accrued", "points_expired",
                   "points_returned", "coupons_issued", "coupons_redeemed", "revenue")
# per split row (store, channel, tier, segment): what the receipts of that kind brought and cost
SPLIT_FIELDS = ("receipts", "turnover", "revenue", "discount", "points")
SPLITS = ("store", "channel", "tier", "segment")
# per-week integer columns (deltas for liability, plain sums for the rest)
WEEK_FIELDS = ("receipts", "revenue", "discount", "points_accrued", "points_redeemed", "points_expired", "liability")
TOTAL_FIELDS = ("turnover", "revenue", "receipts", "units", "lines", "receipts_with_card", "discount",
                "points_accrued", "points_referral", "points_redeemed", "points_expired", "points_returned",
                "redeemed_money",
                "certificates_used", "certificates_sold", "coupons_issued", "coupons_redeemed", "coupons_expired",
                "active_customers",
                "first_purchase", "repeat_purchase", "returns", "refunded", "liability_start", "liability", "customers")


def line_attributes(bundle: Bundle) -> tuple[str, ...]:
    """The line attributes (``attr.NAME``) the programme's code reads: a history whose lines never
    carry one of them leaves the campaigns that need it silent, which the report shows."""
    codes = [*bundle.predicates, *(code for c in bundle.campaigns for code in (c.audience, c.condition, c.actions))]
    names = {bundle.constants[instr[1]] for code in codes for instr in code or () if instr[0] == Op.LINE_ATTR}
    return tuple(sorted(str(name) for name in names))


def week_start(ordinal: int) -> int:
    """The Monday of the ISO week holding the day (proleptic ordinals; ordinal 1 is a Monday)."""
    return ordinal - (ordinal - 1) % 7


class Tally:
    """What one partition contributes to the report."""

    def __init__(self) -> None:
        self.totals: dict[str, int] = dict.fromkeys(TOTAL_FIELDS, 0)
        self.campaigns: dict[str, list[int]] = {}
        self.collisions: dict[tuple[str, tuple[str, ...]], dict[str, int]] = {}  # (group, met) -> winner -> n
        self.weeks: dict[int, list[int]] = {}
        self.tiers: dict[int, dict[str, int]] = {}  # week -> level -> delta of customers
        self.budgets: dict[str, dict[int, int]] = {}  # campaign -> day -> given
        self.uses: dict[str, list[tuple[int, str, int]]] = {}  # limit id -> (utc, receipt id, used): limits.py
        self.attrs: dict[str, int] = {}  # line attribute the programme reads -> lines that have it
        self.requests: dict[tuple[str, str, str], int] = {}  # (what, outcome, reason) -> receipts (see ``request``)
        self.splits: dict[tuple[str, str], list[int]] = {}  # (dimension, value) -> SPLIT_FIELDS
        self.burn: dict[str, int] = {}  # month ("2026-03", or "never") -> points held at the end that expire then
        self.arms = arms.ArmTally()  # experiment arms per customer (simulate/arms.py)
        self.triggers = TriggerTally()  # trigger chains (simulate/triggers.py)
        self.first: int | None = None
        self.last: int | None = None
        self.flags: dict[str, int] = {}  # anti-fraud flag -> receipts (simulate/flags.py)
        self.partners: dict[str, list[int]] = {}  # partner -> settle.FIELDS (simulate/settle.py)
        self.order = group_order.OrderTally()  # equal-priority groups in the other order (simulate/group_order.py)

    # ------------------------------------------------------------------------------ adding
    def campaign(self, name: str) -> list[int]:
        row = self.campaigns.get(name)
        if row is None:
            row = self.campaigns[name] = [0] * len(CAMPAIGN_FIELDS)
        return row

    def week(self, day: int) -> list[int]:
        key = week_start(day)
        row = self.weeks.get(key)
        if row is None:
            row = self.weeks[key] = [0] * len(WEEK_FIELDS)
        return row

    def see_day(self, day: int) -> None:
        if self.first is None or day < self.first:
            self.first = day
        if self.last is None or day > self.last:
            self.last = day

    def tier_move(self, day: int, old: str | None, new: str | None) -> None:
        row = self.tiers.setdefault(week_start(day), {})
        if old:
            row[old] = row.get(old, 0) - 1
        if new:
            row[new] = row.get(new, 0) + 1

    def request(self, what: str, outcome: str, reason: str | None = None) -> None:
        """One request a receipt made: ``redemption`` (in_full or limited), a ``coupon`` or a
        ``certificate`` presented (its status), and why it was not granted in full."""
        key = (what, outcome, reason or "")
        self.requests[key] = self.requests.get(key, 0) + 1

    def split(self, dimension: str, value: str, figures: tuple[int, ...]) -> None:
        row = self.splits.get((dimension, value))
        if row is None:
            row = self.splits[(dimension, value)] = [0] * len(SPLIT_FIELDS)
        for i, figure in enumerate(figures):
            row[i] += figure

    # ------------------------------------------------------------------------------ merging
    def merge(self, other: Tally) -> None:
        for key, value in other.totals.items():
            self.totals[key] = self.totals.get(key, 0) + value
        for name, row in other.campaigns.items():
            mine = self.campaign(name)
            for i, value in enumerate(row):
                mine[i] += value
        for met, won in other.collisions.items():
            mine_won = self.collisions.setdefault(met, {})
            for name, count in won.items():
                mine_won[name] = mine_won.get(name, 0) + count
        for week, row in other.weeks.items():
            mine = self.weeks.setdefault(week, [0] * len(WEEK_FIELDS))
            for i, value in enumerate(row):
                mine[i] += value
        for week, levels in other.tiers.items():
            mine_levels = self.tiers.setdefault(week, {})
            for level, delta in levels.items():
                mine_levels[level] = mine_levels.get(level, 0) + delta
        for name, days in other.budgets.items():
            mine_days = self.budgets.setdefault(name, {})
            for day, given in days.items():
                mine_days[day] = mine_days.get(day, 0) + given
        for name, lines in other.attrs.items():
            self.attrs[name] = self.attrs.get(name, 0) + lines
        for asked, count in other.requests.items():
            self.requests[asked] = self.requests.get(asked, 0) + count
        for (dimension, where), figures in other.splits.items():
            self.split(dimension, where, tuple(figures))
        for month, points in other.burn.items():
            self.burn[month] = self.burn.get(month, 0) + points
        for name, used in other.uses.items():
            self.uses.setdefault(name, []).extend(used)
        self.arms.merge(other.arms)
        self.triggers.merge(other.triggers)
        flags.merge(self.flags, other.flags)
        settle.merge(self.partners, other.partners)
        self.order.merge(other.order)
        for seen in (other.first, other.last):
            if seen is not None:
                self.see_day(seen)


def merge_all(tallies: Iterable[Tally]) -> Tally:
    merged = Tally()
    for tally in tallies:
        merged.merge(tally)
    return merged


# ---------------------------------------------------------------------------------------- building


def _ratio(numerator: int, denominator: int, scale: int = 100) -> str:
    """numerator/denominator as a decimal string with two decimals, rounded half up, exactly."""
    if denominator == 0:
        return "0.00"
    hundredths = (2 * numerator * scale // denominator + 1) // 2
    whole, frac = divmod(hundredths, 100)
    return f"{whole}.{frac:02d}"


def _ppm(numerator: int, denominator: int) -> int:
    return (2 * numerator * 1_000_000 // denominator + 1) // 2 if denominator else 0


def _money_of_points(points: int, bundle: Bundle) -> int:
    s = bundle.settings
    return points * s.point_value // 10**s.points_minor


def _date(ordinal: int | None) -> str | None:
    return dt.date.fromordinal(ordinal).isoformat() if ordinal is not None else None


def build(
    tally: Tally,
    bundle: Bundle,
    input_counts: Mapping[str, Any],
    levels: Sequence[str] = (),
    cutoffs: Mapping[str, Cutoff] | None = None,
) -> dict[str, Any]:
    """The report JSON of docs/simulate.md from a merged tally."""
    s = bundle.settings
    totals = _totals(tally, bundle)
    m = bundle.manifest
    experiments = {"experiments": arms.section(tally.arms, bundle)} if bundle.experiments else {}
    experiments |= {"triggers": trigger_section(tally.triggers, bundle)} if bundle.triggers else {}
    return {
        "kind": "simulation",
        "programme": {"name": m.programme_name, "version": m.programme_version, "digest": bundle.digest,
                      "currency": s.currency, "minor": s.minor, "points_minor": s.points_minor},
        "input": {**input_counts, "first": _date(tally.first), "last": _date(tally.last),
                  "line_attributes": dict(sorted(tally.attrs.items()))},
        "totals": totals,
        "campaigns": _campaign_rows(tally, bundle, totals["turnover"]),
        "collisions": _collisions(tally),
        "series": {"period": "week", "points": _weekly_points(tally, levels, totals["liability_start"])},
        "budgets": _budgets(tally, bundle, cutoffs or {}),
        "requests": requests_of(tally),
        "splits": splits_of(tally, bundle),
        "burn_forecast": [{"month": month, "points": points} for month, points in sorted(tally.burn.items())],
        "assumptions": assumptions(totals, bundle, input_counts),
        "assertions": [],
        **experiments,
        **({"limits": limits.section(tally.uses, bundle, cutoffs)} if limits.declared(bundle) else {}),
        **({"flags": flags.section(tally.flags)} if s.fraud is not None else {}),
        **({"settlement": settle.section(tally.partners, s.people, 10**s.points_minor)}
           if s.people is not None and s.people.partners else {}),
        **({"order_dependence": group_order.section(tally.order)} if group_order.has_ties(bundle) else {}),
    }


def _totals(tally: Tally, bundle: Bundle) -> dict[str, Any]:
    """The run's totals and the ratios made of them (cost: discounts plus the points' money, net of returns)."""
    t = dict(tally.totals)
    minor = 10**bundle.settings.minor
    cost = t["discount"] + _money_of_points(t["points_accrued"] + t["points_referral"] - t["points_returned"], bundle)
    return {
        **t,
        "card_share_ppm": _ppm(t["receipts_with_card"], t["receipts"]),
        "average_receipt": _ratio(t["revenue"], t["receipts"] * minor),
        "frequency": _ratio(t["receipts_with_card"], t["active_customers"]),
        "items_per_receipt": _ratio(t["units"], t["receipts"] * 1000),
        "average_item_price": _ratio(t["revenue"] * 1000, t["units"] * minor),
        "cost": cost,
        "cost_share_ppm": _ppm(cost, t["turnover"]),
        "repeat_share_ppm": _ppm(t["repeat_purchase"], t["first_purchase"]),
    }


def _campaign_rows(tally: Tally, bundle: Bundle, turnover: int) -> list[dict[str, Any]]:
    """One row per campaign in programme order, touched or not, with its cost and return on cost."""
    groups = {c.name: bundle.groups[c.group].name for c in bundle.campaigns}
    rows = []
    for c in bundle.campaigns:
        values = dict(zip(CAMPAIGN_FIELDS, tally.campaigns.get(c.name, [0] * len(CAMPAIGN_FIELDS)), strict=True))
        cost = values["discount"] + _money_of_points(values["points_accrued"] - values["points_returned"], bundle)
        rows.append({"name": c.name, "group": groups[c.name], **values, "cost": cost,
                     "cost_share_ppm": _ppm(cost, turnover),
                     "return_on_cost": _ratio(values["revenue"], cost) if cost > 0 else None})
    return rows


def _collisions(tally: Tally) -> list[dict[str, Any]]:
    """The campaigns met on one receipt in a group, most receipts first, with who won how often."""
    return [
        {"group": group, "campaigns": list(met), "receipts": sum(won.values()), "won": dict(sorted(won.items()))}
        for (group, met), won in sorted(tally.collisions.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    ]


def _weekly_points(tally: Tally, levels: Sequence[str], liability: int) -> list[dict[str, Any]]:
    """The weekly series: each week's figures, the points' liability carried and the customers per tier."""
    points = []
    tiers: dict[str, int] = dict.fromkeys(levels, 0)
    for week in sorted(set(tally.weeks) | set(tally.tiers)):
        values = dict(zip(WEEK_FIELDS, tally.weeks.get(week, [0] * len(WEEK_FIELDS)), strict=True))
        liability += values["liability"]
        for level, delta in tally.tiers.get(week, {}).items():
            tiers[level] = tiers.get(level, 0) + delta
        points.append({"start": _date(week), **values, "liability": liability, "tiers": dict(tiers)})
    return points


def _budgets(tally: Tally, bundle: Bundle, cutoffs: Mapping[str, Cutoff]) -> list[dict[str, Any]]:
    """Each campaign budget: what was given, what is left, the day it ran out and the receipt that cut it."""
    budgets = []
    for c in bundle.campaigns:
        b = c.state.budget
        if b is None:
            continue
        given = 0
        exhausted = None
        for day, amount in sorted(tally.budgets.get(c.name, {}).items()):
            given += amount
            if exhausted is None and given >= b.amount:
                exhausted = _date(day)
        cut = cutoffs.get(c.name)
        budgets.append({"campaign": c.name, "kind": b.kind, "amount": b.amount, "given": given,
                        "left": max(0, b.amount - given), "exhausted_on": exhausted,
                        "exhausted_by": cut.receipt_id if cut is not None else None})
    return budgets


def splits_of(tally: Tally, bundle: Bundle) -> dict[str, list[dict[str, Any]]]:
    """Per store, channel, tier and segment: receipts, turnover, revenue, discount, points, cost and
    cost share (a receipt counts once per segment its customer is in; "(none)": no tier or segment,
    "(anonymous)": no card). Rows by revenue, largest first."""
    out: dict[str, list[dict[str, Any]]] = {dimension: [] for dimension in SPLITS}
    for (dimension, value), figures in tally.splits.items():
        row = dict(zip(SPLIT_FIELDS, figures, strict=True))
        cost = row["discount"] + _money_of_points(row["points"], bundle)
        out[dimension].append({"key": value, **row, "cost": cost, "cost_share_ppm": _ppm(cost, row["turnover"])})
    for rows in out.values():
        rows.sort(key=lambda r: (-r["revenue"], r["key"]))
    return out


def requests_of(tally: Tally) -> dict[str, Any]:
    """What the receipts asked for and what they got, so that nothing refused goes unseen: per kind
    (redemption, coupon, certificate), receipts by outcome, and those not granted in full by reason."""
    out: dict[str, Any] = {}
    for (what, outcome, reason), count in sorted(tally.requests.items()):
        row = out.setdefault(what, {"requests": 0, "outcomes": {}, "reasons": {}})
        row["requests"] += count
        row["outcomes"][outcome] = row["outcomes"].get(outcome, 0) + count
        if reason:
            row["reasons"][reason] = row["reasons"].get(reason, 0) + count
    return out


def assumptions(totals: Mapping[str, Any], bundle: Bundle, input_counts: Mapping[str, Any]) -> list[str]:
    """What the figures take for granted, in words (docs/simulate.md, "Assumptions")."""
    s = bundle.settings
    value = minor_text(s.point_value, s.minor)
    out = [
        "No behavioural response: customers buy exactly what the history holds; the programme changes the "
        "money of each receipt, not who comes, when, or what is in the basket.",
        f"Coupons are redeemed only where a receipt of the history presents one ({totals['coupons_redeemed']:,} "
        f"redeemed, {totals['coupons_issued']:,} issued in this run): the history's rate, not a forecast.",
        "Points are redeemed only where a receipt asks for it (its `redeem`); cost counts points at their "
        f"declared value ({value} {s.currency} a point) when accrued, whether or not they are spent later.",
        "Customers missing from the customers file start with an empty state; returns are replayed against "
        "their original receipts.",
    ]
    if input_counts.get("quarantined"):
        out.append(f"{input_counts['quarantined']:,} receipts that could not be read are left out (the "
                   "quarantine file lists them with the reason).")
    return out
