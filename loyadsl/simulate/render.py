"""Simulation reports and diffs for people: figures, tables and the terminal (rich).

The report JSON (docs/simulate.md) holds integers only; this module turns it into text once, in
``Figure`` and ``Grid`` values that both the terminal renderer below and the HTML renderer
(``html.py``) lay out, so the two never disagree about a number. Money is formatted from minor units
with integer ``divmod`` (never a float); shares are ppm shown as percents with two decimals,
truncated toward zero as the assertion messages do, so a table never says 3.00% where a guard said
2.99%.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.columns import Columns
from rich.console import Console
from rich.table import Table
from rich.text import Text

from loyadsl import i18n, locale_text
from loyadsl.render import display_width

# ------------------------------------------------------------------------------------------ numbers


def count_text(value: int) -> str:
    """An integer with thousands separators: ``1234567`` -> ``1,234,567`` (``1 234 567`` under ``--lang ru``)."""
    return locale_text.decimal_text(value, 0) or f"{value:,}"


def money_text(value: int, minor: int) -> str:
    """Minor units as a grouped decimal, exactly: ``money_text(123456, 2) == "1,234.56"`` (``1 234,56``
    under ``--lang ru``)."""
    localised = locale_text.decimal_text(value, minor)
    if localised is not None:
        return localised
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 10**minor)
    return f"{sign}{whole:,}.{frac:0{minor}d}" if minor else f"{sign}{whole:,}"


def quantity_text(thousandths: int) -> str:
    """A quantity held in thousandths (docs/bundle.md: 0.768 kg is 768) without trailing zeros: ``1,338.5``."""
    sign = "-" if thousandths < 0 else ""
    whole, frac = divmod(abs(thousandths), 1000)
    tail = f".{frac:03d}".rstrip("0").rstrip(".")
    digits = max(len(tail) - 1, 0)
    localised = locale_text.decimal_text(thousandths // 10 ** (3 - digits), digits)
    return localised or f"{sign}{whole:,}{tail}"


def ppm_text(ppm: int) -> str:
    """Parts per million as a percent with two decimals, truncated toward zero: 68716 -> ``6.87%``."""
    hundredths = abs(ppm) // 100  # toward zero
    sign = "-" if ppm < 0 and hundredths else ""
    whole, frac = divmod(hundredths, 100)
    localised = locale_text.percent_text(-hundredths if sign else hundredths)
    return localised or f"{sign}{whole:,}.{frac:02d}%"


def decimal_text(text: str) -> str:
    """A decimal string from the report (``"1148.80"``) with its whole part grouped (``"1,148.80"``)."""
    sign, body = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, dot, frac = body.partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()):
        return text  # not a plain decimal: show it as the report wrote it
    localised = locale_text.decimal_text(int(f"{sign}{whole}{frac}"), len(frac))
    return localised or f"{sign}{int(whole):,}{dot}{frac}"


def day_text(value: object) -> str:
    """A report's ISO date as the chosen language writes it (``2 января 2025 г.``), as it is without one;
    ``—`` for none."""
    if not value:
        return "—"
    try:
        return locale_text.date_text(dt.date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def period_text(i: Mapping[str, Any]) -> str:
    """The history's first and last day: ``2025-01-02 … 2025-12-30``."""
    return f"{day_text(i.get('first'))} … {day_text(i.get('last'))}"


def signed(text: str, value: int) -> str:
    """Prefix a formatted change with ``+`` when it is positive (a negative one already has ``-``)."""
    return f"+{text}" if value > 0 else text


def change_ppm(old: int, new: int) -> int | None:
    """The change relative to old, (new - old) / |old|, in ppm truncated toward zero; None when old is zero."""
    if old == 0:
        return None
    delta = new - old
    magnitude = abs(delta) * 1_000_000 // abs(old)  # toward zero
    return magnitude if delta >= 0 else -magnitude


def compact_text(value: int, minor: int) -> str:
    """A short axis label: minor units as ``250k``, ``1.25M``; at most two decimals, truncated."""
    sign = "-" if value < 0 else ""
    v = abs(value)
    unit = 10**minor
    for suffix, factor in (("B", 10**9), ("M", 10**6), ("k", 10**3)):
        if v >= factor * unit:
            hundredths = v * 100 // (factor * unit)  # toward zero
            whole, frac = divmod(hundredths, 100)
            tail = f".{frac:02d}".rstrip("0").rstrip(".")
            return f"{sign}{whole}{tail}{suffix}"
    whole, frac = divmod(v, unit)
    return f"{sign}{whole:,}" if frac == 0 else money_text(value, minor)


def num(row: Mapping[str, Any] | None, key: str) -> int:
    """A figure of the report; a missing or null one counts as zero (an empty report has few)."""
    if not row:
        return 0
    value = row.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


@dataclass(frozen=True)
class Units:
    """How a report writes money and points (taken from its ``programme`` block)."""

    currency: str = ""
    minor: int = 2
    points_minor: int = 0

    @classmethod
    def of(cls, programme: Mapping[str, Any] | None) -> Units:
        p = programme or {}
        return cls(str(p.get("currency") or ""), num(p, "minor") if "minor" in p else 2, num(p, "points_minor"))

    def money(self, value: int) -> str:
        return money_text(value, self.minor)

    def money_with_currency(self, value: int) -> str:
        return f"{self.money(value)} {locale_text.currency_symbol(self.currency)}".rstrip()

    def points(self, value: int) -> str:
        return money_text(value, self.points_minor)

    def amount(self, kind: str, value: int) -> str:
        """A budget amount: money, points or a plain count."""
        if kind == "money":
            return self.money_with_currency(value)
        if kind == "points":
            return f"{self.points(value)} points"
        return count_text(value)


# ------------------------------------------------------------------------------------------ shapes


@dataclass(frozen=True)
class Figure:
    """One headline number: what it is, its text, and an optional note under it."""

    label: str
    value: str
    note: str = ""
    tone: str = ""


@dataclass(frozen=True)
class Cell:
    """A table cell; ``tone`` is one of "", "ok", "failed", "muted", "up", "down"."""

    text: str
    tone: str = ""


@dataclass
class Grid:
    """A table as text: both renderers lay it out, neither formats a number."""

    key: str
    title: str
    columns: list[tuple[str, bool]]  # (header, numeric: right-aligned)
    rows: list[list[Cell]] = field(default_factory=list)
    footer: list[Cell] | None = None
    empty: str = "none"
    note: str = ""


def _cells(*texts: str) -> list[Cell]:
    return [Cell(t) for t in texts]


def _tone(delta: int) -> str:
    return "up" if delta > 0 else "down" if delta < 0 else "muted"


# ------------------------------------------------------------------------------------------ report


def programme_title(programme: Mapping[str, Any] | None) -> str:
    p = programme or {}
    name = str(p.get("name") or "programme")
    version = str(p.get("version") or "")
    return f"{name} {version}".strip()


def short_digest(digest: object) -> str:
    text = str(digest or "")
    algo, _, hexes = text.partition(":")
    return f"{algo}:{hexes[:12]}…" if hexes and len(hexes) > 12 else text


def headline(report: Mapping[str, Any]) -> list[tuple[str, list[Figure]]]:
    """The headline figures, in sections: sales, customers, programme cost, points."""
    u = Units.of(report.get("programme"))
    t: Mapping[str, Any] = report.get("totals") or {}
    cur = locale_text.currency_symbol(u.currency)

    def avg(key: str) -> str:
        return decimal_text(str(t.get(key) or "0.00"))

    sales = [
        Figure("Revenue", u.money_with_currency(num(t, "revenue")), f"turnover {u.money(num(t, 'turnover'))}"),
        Figure("Receipts", count_text(num(t, "receipts")), f"{quantity_text(num(t, 'units'))} units"),
        Figure("Average receipt", f"{avg('average_receipt')} {cur}".rstrip()),
        Figure("Items per receipt", avg("items_per_receipt")),
        Figure("Average item price", f"{avg('average_item_price')} {cur}".rstrip()),
    ]
    customers = [
        Figure("Active customers", count_text(num(t, "active_customers"))),
        Figure("Frequency", avg("frequency"), "receipts per active customer"),
        Figure("Card share", ppm_text(num(t, "card_share_ppm")),
               f"{count_text(num(t, 'receipts_with_card'))} receipts with a card"),
        Figure("First purchases", count_text(num(t, "first_purchase")), "conversion to a first purchase"),
        Figure("Repeat purchases", count_text(num(t, "repeat_purchase")),
               f"{ppm_text(num(t, 'repeat_share_ppm'))} of first purchases"),
    ]
    cost = [
        Figure("Programme cost", u.money_with_currency(num(t, "cost")), "discount + points at their value"),
        Figure("Cost share", ppm_text(num(t, "cost_share_ppm")), "of turnover"),
        Figure("Discount", u.money_with_currency(num(t, "discount"))),
        Figure("Coupons", f"{count_text(num(t, 'coupons_redeemed'))} / {count_text(num(t, 'coupons_issued'))}",
               f"redeemed / issued; {count_text(num(t, 'coupons_expired'))} expired"),
        Figure("Certificates", u.money_with_currency(num(t, "certificates_used")),
               f"used; {u.money_with_currency(num(t, 'certificates_sold'))} sold"),
    ]
    points = [
        Figure("Points accrued", u.points(num(t, "points_accrued"))),
        Figure("Points redeemed", u.points(num(t, "points_redeemed")),
               f"worth {u.money_with_currency(num(t, 'redeemed_money'))}"),
        Figure("Points expired", u.points(num(t, "points_expired"))),
        Figure("Liability", u.points(num(t, "liability")), "points outstanding at the end"),
    ]
    return [("Sales", sales), ("Customers", customers), ("Cost", cost), ("Points", points)]


def input_accounting(report: Mapping[str, Any]) -> tuple[str, bool]:
    """``read N = simulated S + quarantined Q [+ skipped K]`` and whether it adds up (the skipped
    term is shown when there is one)."""
    i: Mapping[str, Any] = report.get("input") or {}
    read, simulated, quarantined = num(i, "read"), num(i, "simulated"), num(i, "quarantined")
    skipped = num(i, "skipped")
    text = f"read {count_text(read)} = simulated {count_text(simulated)} + quarantined {count_text(quarantined)}"
    if skipped:
        text += f" + skipped {count_text(skipped)}"
    left = read - simulated - quarantined - skipped
    return (text if not left else f"{text} — does not add up (differs by {count_text(left)})"), not left


def attribute_warnings(report: Mapping[str, Any]) -> list[str]:
    """Line attributes the programme reads that no line of the history has (its campaigns stay silent)."""
    have = (report.get("input") or {}).get("line_attributes") or {}
    return [f"attr.{name}: the programme reads it; no line of the history has it"
            for name, lines in sorted(have.items()) if not lines]


def input_figures(report: Mapping[str, Any]) -> list[Figure]:
    i: Mapping[str, Any] = report.get("input") or {}
    period = period_text(i)
    workers = f"{num(i, 'workers')} × {i.get('backend') or '—'}"
    return [
        Figure("Receipts read", count_text(num(i, "read"))),
        Figure("Simulated", count_text(num(i, "simulated"))),
        Figure("Quarantined", count_text(num(i, "quarantined")), tone="failed" if num(i, "quarantined") else ""),
        *([Figure("Skipped", count_text(num(i, "skipped")), "returns of quarantined receipts")]
          if num(i, "skipped") else []),
        Figure("Returns", count_text(num(i, "returns"))),
        Figure("Customers", count_text(num(i, "customers"))),
        Figure("Anonymous receipts", count_text(num(i, "anonymous"))),
        Figure("Period", period),
        Figure("Workers", workers),
        *[Figure(f"Lines with attr.{name}", count_text(lines),
                 "the programme reads it; no line of the history has it" if not lines else "",
                 tone="failed" if not lines else "")
          for name, lines in sorted((i.get("line_attributes") or {}).items())],
    ]


def campaign_grid(report: Mapping[str, Any]) -> Grid:
    """Campaigns by cost, most expensive first, with their share of turnover and a total row."""
    u = Units.of(report.get("programme"))
    cur = u.currency or "money"
    grid = Grid("campaigns", "Campaigns", [
        ("Campaign", False), ("Group", False), ("Receipts", True), ("Participants", True),
        (f"Turnover, {cur}", True), (f"Discount, {cur}", True), ("Points", True), (f"Cost, {cur}", True),
        ("Cost share", True), ("Revenue / cost", True),
    ], empty="no campaigns")
    rows = list(report.get("campaigns") or [])
    rows.sort(key=lambda c: (-num(c, "cost"), str(c.get("name", ""))))
    for c in rows:
        grid.rows.append(_cells(
            i18n.campaign(str(c.get("name", ""))), str(c.get("group") or ""), count_text(num(c, "receipts")),
            count_text(num(c, "participants")), u.money(num(c, "turnover")), u.money(num(c, "discount")),
            u.points(num(c, "points_accrued")), u.money(num(c, "cost")), ppm_text(num(c, "cost_share_ppm")),
            decimal_text(str(c["return_on_cost"])) if c.get("return_on_cost") else "—",
        ))
    if rows:
        t = report.get("totals") or {}
        grid.footer = _cells(
            locale_text.label("Total"), "", count_text(num(t, "receipts")), count_text(num(t, "active_customers")),
            u.money(num(t, "turnover")), u.money(num(t, "discount")), u.points(num(t, "points_accrued")),
            u.money(num(t, "cost")), ppm_text(num(t, "cost_share_ppm")), "",
        )
    return grid


SPLIT_TITLES = {"store": "By store", "channel": "By channel", "tier": "By tier", "segment": "By segment"}


def split_grid(report: Mapping[str, Any], dimension: str, top: int = 12) -> Grid:
    """One split of the report (store, channel, tier, segment): the largest rows by revenue."""
    u = Units.of(report.get("programme"))
    cur = u.currency or "money"
    rows = list((report.get("splits") or {}).get(dimension) or [])
    note = f"the {top} largest of {len(rows)} by revenue" if len(rows) > top else ""
    if dimension == "segment":
        note = "; ".join(filter(None, [note, "a receipt counts under each segment of its customer"]))
    grid = Grid(f"split-{dimension}", SPLIT_TITLES.get(dimension, dimension), [
        (dimension.capitalize(), False), ("Receipts", True), (f"Revenue, {cur}", True), (f"Discount, {cur}", True),
        ("Points", True), (f"Cost, {cur}", True), ("Cost share", True)], empty="no receipts", note=note)
    for row in rows[:top]:
        grid.rows.append(_cells(i18n.say(str(row.get("key", ""))), count_text(num(row, "receipts")),
                                u.money(num(row, "revenue")),
                                u.money(num(row, "discount")), u.points(num(row, "points")), u.money(num(row, "cost")),
                                ppm_text(num(row, "cost_share_ppm"))))
    return grid


def burn_grid(report: Mapping[str, Any]) -> Grid:
    """The points outstanding at the end, by the month they expire in."""
    u = Units.of(report.get("programme"))
    grid = Grid("burn", "Points liability: burn forecast", [("Expires in", False), ("Points", True)],
                empty="no points outstanding",
                note="the points left in lots at the end of the history (those not yet active included), by the "
                     "month their lot expires unless spent first")
    for row in report.get("burn_forecast") or []:
        grid.rows.append(_cells(str(row.get("month", "")), u.points(num(row, "points"))))
    return grid


def collision_grid(report: Mapping[str, Any]) -> Grid:
    grid = Grid("collisions", "Collisions", [("Campaigns", False), ("Group", False), ("Receipts", True),
                                            ("Won", False)], empty="no collisions")
    for c in report.get("collisions") or []:
        won: Mapping[str, Any] = c.get("won") or {}
        names = [str(n) for n in c.get("campaigns") or []]
        wins = ", ".join(f"{n} {count_text(num(won, n))}" for n in (names or [str(k) for k in won]))
        grid.rows.append(_cells(" × ".join(names), str(c.get("group") or ""), count_text(num(c, "receipts")), wins))
    return grid


def budget_grid(report: Mapping[str, Any]) -> Grid:
    u = Units.of(report.get("programme"))
    grid = Grid("budgets", "Budgets", [("Campaign", False), ("Budget", True), ("Given", True), ("Used", True),
                                      ("Runs out", False)], empty="no budgets",
                note="Budgets are programme-wide and kept in time order over all customers: a campaign stops at "
                     "the receipt that spends the last of its budget.")
    for b in report.get("budgets") or []:
        kind = str(b.get("kind") or "money")
        amount, given = num(b, "amount"), num(b, "given")
        used = ppm_text(given * 1_000_000 // amount) if amount > 0 else "—"  # toward zero
        day = b.get("exhausted_on")
        grid.rows.append([Cell(str(b.get("campaign", ""))), Cell(u.amount(kind, amount)), Cell(u.amount(kind, given)),
                          Cell(used, "failed" if amount > 0 and given >= amount else ""),
                          Cell(str(day), "failed") if day else Cell("not exhausted", "muted")])
    return grid


def assertion_grid(report: Mapping[str, Any]) -> Grid:
    grid = Grid("assertions", "Assertions", [("Result", False), ("Assertion", False), ("Detail", False)],
                empty="no assertions")
    for a in report.get("assertions") or []:
        ok = a.get("ok") is True
        grid.rows.append([Cell(i18n.say("ok" if ok else "FAILED"), "ok" if ok else "failed"),
                          Cell(str(a.get("expr", ""))), Cell(i18n.note(str(a.get("detail") or "")))])
    return grid


def assertion_summary(report: Mapping[str, Any]) -> tuple[int, int]:
    """(passed, failed) assertions."""
    every = list(report.get("assertions") or [])
    passed = sum(1 for a in every if a.get("ok") is True)
    return passed, len(every) - passed


_GRANTED = {"redemption": "in_full", "coupon": "redeemed", "certificate": "used", "reward": "given"}
_ASKED = {"redemption": "Points redemption", "coupon": "Coupons presented", "certificate": "Certificates presented",
          "reward": "Catalogue rewards chosen"}


def request_grid(report: Mapping[str, Any]) -> Grid:
    """What receipts asked for and got: nothing refused goes unseen."""
    grid = Grid("requests", "Requests", [("Request", False), ("Receipts", True), ("Granted", True),
                                        ("Not granted in full", False)], empty="no receipt asked for anything")
    for what, row in sorted((report.get("requests") or {}).items()):
        outcomes: Mapping[str, Any] = row.get("outcomes") or {}
        granted = num(outcomes, _GRANTED.get(what, ""))
        others = [f"{k} {count_text(num(outcomes, k))}" for k in sorted(outcomes) if k != _GRANTED.get(what)]
        reasons = ", ".join(f"{k} {count_text(num(row.get('reasons'), k))}" for k in sorted(row.get("reasons") or {}))
        detail = "; ".join(others) + (f" ({reasons})" if reasons else "")
        grid.rows.append([Cell(_ASKED.get(what, what)), Cell(count_text(num(row, "requests"))),
                          Cell(count_text(granted)), Cell(detail or "—", "failed" if others else "muted")])
    return grid


def assumption_grid(report: Mapping[str, Any]) -> Grid:
    grid = Grid("assumptions", "Assumptions", [("What the figures take for granted", False)], empty="none stated")
    grid.rows = [[Cell(i18n.note(str(text)))] for text in report.get("assumptions") or []]
    return grid


def arm_grid(report: Mapping[str, Any]) -> Grid:
    """Per experiment arm: its weight, customers and what they did (docs/experiments.md)."""
    u = Units.of(report.get("programme"))
    grid = Grid("experiments", "Experiment arms", [("Experiment", False), ("Arm", False), ("Weight", True),
                                                   ("Customers", True), ("Receipts", True), ("Revenue", True),
                                                   ("Cost", True), ("Revenue / customer", True)],
                empty="no experiments",
                note="Receipts without a customer id are in no arm. Compare arms with `loya ab report` on this "
                     "report's JSON (intervals, SRM check).")
    for x in report.get("experiments") or []:
        for arm in x.get("arms") or []:
            customers = num(arm, "customers")
            grid.rows.append(_cells(str(x.get("name", "")), str(arm.get("name", "")), ppm_text(num(arm, "share_ppm")),
                                    count_text(customers), count_text(num(arm, "receipts")), u.money(num(arm, "revenue")),
                                    u.money(num(arm, "cost")),
                                    u.money(num(arm, "revenue") // customers) if customers else "—"))
    return grid


def trigger_grid(report: Mapping[str, Any]) -> Grid:
    """Per trigger chain: who entered, what was sent, given and redeemed, and who came back (docs/triggers.md)."""
    u = Units.of(report.get("programme"))
    grid = Grid("triggers", "Trigger chains", [("Trigger", False), ("Entered", True), ("Messages", False),
                                               ("Coupons issued", True), ("Redeemed", True), ("Points", True),
                                               ("Cost", True), ("Came back", True)],
                empty="no triggers",
                note="Messages are counted on the first channel of each cascade; `came back`: entries followed "
                     "by a purchase within the chain's window.")
    for t in report.get("triggers") or []:
        messages = ", ".join(f"{channel} {count}" for channel, count in (t.get("messages") or {}).items()) or "—"
        grid.rows.append(_cells(str(t.get("trigger", "")), count_text(num(t, "entered")), messages,
                                count_text(num(t, "coupons_issued")), count_text(num(t, "coupons_redeemed")),
                                count_text(num(t, "points")), u.money(num(t, "cost")),
                                ppm_text(num(t, "came_back_ppm"))))
    return grid


def report_grids(report: Mapping[str, Any]) -> list[Grid]:
    arms = [arm_grid(report), arm_campaign_grid(report)] if report.get("experiments") else []
    arms += [order_grid(report)] if "order_dependence" in report else []
    arms += [trigger_grid(report)] if report.get("triggers") else []
    return [campaign_grid(report), collision_grid(report), budget_grid(report), request_grid(report),
            *(split_grid(report, dimension) for dimension in SPLIT_TITLES), burn_grid(report), *arms,
            assertion_grid(report), assumption_grid(report), *_flag_grids(report)]


def arm_campaign_grid(report: Mapping[str, Any]) -> Grid:
    """Per experiment arm and campaign: what the campaign did in the arm (simulate/arm_campaigns.py)."""
    u = Units.of(report.get("programme"))
    grid = Grid("arm-campaigns", "Campaigns per arm",
                [("Experiment", False), ("Arm", False), ("Campaign", False), ("Receipts", True), ("Customers", True),
                 ("Cost", True), ("Revenue", True), ("Return on cost", True)],
                empty="no campaign touched a receipt of an arm",
                note="Revenue: what was paid on the receipts the campaign touched in the arm.")
    for x in report.get("experiments") or []:
        for row in x.get("campaigns") or []:
            roc = row.get("return_on_cost")
            grid.rows.append(_cells(str(x.get("name", "")), str(row.get("arm", "")), str(row.get("campaign", "")),
                                    count_text(num(row, "receipts")), count_text(num(row, "customers")),
                                    u.money(num(row, "cost")), u.money(num(row, "revenue")),
                                    decimal_text(roc) if roc else "—"))
    return grid


def order_grid(report: Mapping[str, Any]) -> Grid:
    """Groups of equal priority in the other order (simulate/group_order.py)."""
    u = Units.of(report.get("programme"))
    grid = Grid("order-dependence", "Order dependence of equal-priority groups",
                [("Groups", False), ("Receipts met", True), ("Differ", True), ("Cost difference", True),
                 ("Largest", True), ("Example", False)],
                empty="no receipt met two groups of equal priority",
                note="Each receipt on which a campaign of such a group fired, evaluated again with the groups in "
                     "reverse order; cost difference: reversed minus actual (discount and points at their value).")
    for row in report.get("order_dependence") or []:
        example = row.get("example") or {}
        grid.rows.append(_cells(", ".join(row.get("groups") or []), count_text(num(row, "receipts_checked")),
                                count_text(num(row, "receipts_differing")), u.money(num(row, "cost_difference")),
                                u.money(num(row, "max_abs")), str(example.get("receipt_id", "—"))))
    return grid


def _flag_grids(report: Mapping[str, Any]) -> list[Grid]:
    return [*([limits_grid(report)] if "limits" in report else []),
            *([flags_grid(report)] if "flags" in report else []),
            *([settlement_grid(report)] if "settlement" in report else [])]


# ------------------------------------------------------------------------------------------ diff


def change_of(row: Mapping[str, Any] | None, key: str) -> tuple[int, int, int]:
    """(old, new, delta) of one compared figure; delta is recomputed when it is missing."""
    ch = (row or {}).get(key) or {}
    old, new = num(ch, "old"), num(ch, "new")
    return old, new, num(ch, "delta") if "delta" in ch else new - old


def diff_units(diff: Mapping[str, Any]) -> Units:
    return Units.of(diff.get("new") or diff.get("old"))


# (key, label, unit) of the overall figures a diff compares
DIFF_TOTALS = (
    ("revenue", "Revenue", "money"), ("discount", "Discount", "money"), ("points_accrued", "Points accrued", "points"),
    ("points_redeemed", "Points redeemed", "points"), ("cost", "Programme cost", "money"),
    ("cost_share_ppm", "Cost share", "ppm"), ("liability", "Liability", "points"),
    ("participants", "Participants", "count"), ("collisions", "Receipts with a collision", "count"),
)


def _fmt(u: Units, unit: str, value: int) -> str:
    if unit == "money":
        return u.money(value)
    if unit == "points":
        return u.points(value)
    if unit == "ppm":
        return ppm_text(value)
    return count_text(value)


def _delta_cell(u: Units, unit: str, delta: int) -> Cell:
    return Cell(signed(_fmt(u, unit, delta), delta), _tone(delta))


def diff_totals_grid(diff: Mapping[str, Any]) -> Grid:
    u = diff_units(diff)
    grid = Grid("totals", "Overall", [("Figure", False), ("Old", True), ("New", True), ("Change", True),
                                     ("Change, %", True)])
    t = diff.get("totals") or {}
    for key, label, unit in DIFF_TOTALS:
        if key not in t:
            continue
        old, new, delta = change_of(t, key)
        rel = change_ppm(old, new) if unit != "ppm" else None
        name = f"{label}, {u.currency}" if unit == "money" and u.currency else label
        grid.rows.append([Cell(locale_text.label(name)), Cell(_fmt(u, unit, old)), Cell(_fmt(u, unit, new)),
                          _delta_cell(u, unit, delta),
                          Cell(signed(ppm_text(rel), rel), _tone(rel)) if rel is not None else Cell("—", "muted")])
    return grid


def diff_headline(diff: Mapping[str, Any]) -> list[Figure]:
    """Cost, discount, points and the receipts and customers whose outcome changed."""
    u = diff_units(diff)
    t = diff.get("totals") or {}
    out = []
    for key, label, unit in DIFF_TOTALS[:7]:
        if key not in t:
            continue
        old, new, delta = change_of(t, key)
        value = u.money_with_currency(new) if unit == "money" else _fmt(u, unit, new)
        rel = change_ppm(old, new) if unit != "ppm" else None
        note = f"{signed(_fmt(u, unit, delta), delta)}" + (f" ({signed(ppm_text(rel), rel)})" if rel is not None else "")
        out.append(Figure(label, value, f"was {_fmt(u, unit, old)}; {note}", _tone(delta)))
    changed = diff.get("changed") or {}
    out.append(Figure("Receipts changed", count_text(num(changed, "receipts")),
                      f"of {count_text(num(diff.get('input'), 'simulated'))} simulated"))
    out.append(Figure("Customers changed", count_text(num(changed, "customers"))))
    return out


def diff_campaign_grid(diff: Mapping[str, Any]) -> Grid:
    u = diff_units(diff)
    cur = u.currency or "money"
    grid = Grid("campaigns", "Campaigns", [
        ("Campaign", False), ("Status", False), ("Δ Receipts", True), ("Δ Participants", True),
        (f"Δ Discount, {cur}", True), ("Δ Points", True), (f"New cost, {cur}", True), (f"Δ Cost, {cur}", True),
    ], empty="no campaigns")
    for c in diff.get("campaigns") or []:
        status = str(c.get("status") or "changed")
        grid.rows.append([
            Cell(i18n.campaign(str(c.get("name", "")))), Cell(i18n.say(status), "muted" if status == "same" else ""),
            _delta_cell(u, "count", change_of(c, "receipts")[2]), _delta_cell(u, "count", change_of(c, "participants")[2]),
            _delta_cell(u, "money", change_of(c, "discount")[2]), _delta_cell(u, "points", change_of(c, "points_accrued")[2]),
            Cell(u.money(change_of(c, "cost")[1])),
            _delta_cell(u, "money", change_of(c, "cost")[2]),
        ])
    return grid


def diff_collision_grid(diff: Mapping[str, Any]) -> Grid:
    grid = Grid("collisions", "Collisions", [("Campaigns", False), ("Group", False), ("Old", True), ("New", True),
                                            ("Change", True)], empty="no collisions in either version")
    u = diff_units(diff)
    for c in diff.get("collisions") or []:
        old, new, delta = change_of(c, "receipts")
        grid.rows.append([Cell(" × ".join(str(n) for n in c.get("campaigns") or [])), Cell(str(c.get("group") or "")),
                          Cell(count_text(old)), Cell(count_text(new)), _delta_cell(u, "count", delta)])
    return grid


def diff_customer_grid(diff: Mapping[str, Any]) -> Grid:
    u = diff_units(diff)
    grid = Grid("customers", "Customers with the largest change", [
        ("Customer", False), ("Receipts changed", True), ("Δ Discount", True), ("Δ Points", True), ("Δ Cost", True),
    ], empty="no customer changed")
    for c in diff.get("customers") or []:
        grid.rows.append([Cell(str(c.get("customer_id", ""))), Cell(count_text(num(c, "receipts"))),
                          _delta_cell(u, "money", change_of(c, "discount")[2]),
                          _delta_cell(u, "points", change_of(c, "points_accrued")[2]),
                          _delta_cell(u, "money", change_of(c, "cost")[2])])
    return grid


def diff_receipt_grid(diff: Mapping[str, Any]) -> Grid:
    u = diff_units(diff)
    grid = Grid("receipts", "Receipts with the largest change", [
        ("Receipt", False), ("Customer", False), ("Store", False), ("When", False), ("Δ Discount", True),
        ("Δ Points", True), ("Δ Cost", True), ("Campaigns", False),
    ], empty="no receipt changed")
    for r in diff.get("receipts") or []:
        camps = r.get("campaigns") or {}
        moved = [f"+{n}" for n in camps.get("added") or []] + [f"-{n}" for n in camps.get("removed") or []]
        grid.rows.append([Cell(str(r.get("receipt_id", ""))), Cell(str(r.get("customer_id") or i18n.say("anonymous"))),
                          Cell(str(r.get("store_id") or "")), Cell(str(r.get("datetime") or "").replace("T", " ")),
                          _delta_cell(u, "money", change_of(r, "discount")[2]),
                          _delta_cell(u, "points", change_of(r, "points_accrued")[2]),
                          _delta_cell(u, "money", change_of(r, "cost")[2]), Cell(" ".join(moved))])
    return grid


WEEKDAYS = {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday",
            "sat": "Saturday", "sun": "Sunday"}
BREAKDOWNS = (("store", "By store", "Store"), ("weekday", "By weekday", "Weekday"), ("hour", "By hour", "Hour"))


def breakdown_label(kind: str, key: str) -> str:
    if kind == "weekday":
        return i18n.say(WEEKDAYS.get(key, key))
    if kind == "hour" and key.isdigit():
        return f"{int(key):02d}:00"
    return key


def diff_breakdown_grid(diff: Mapping[str, Any], kind: str) -> Grid:
    u = diff_units(diff)
    title, header = next((t, h) for k, t, h in BREAKDOWNS if k == kind)
    grid = Grid(f"by-{kind}", title, [
        (header, False), ("Receipts", True), ("Changed", True), ("Δ Discount", True), ("Δ Points", True),
        ("Δ Cost", True),
    ], empty="no receipts")
    for row in (diff.get("breakdowns") or {}).get(kind) or []:
        grid.rows.append([Cell(breakdown_label(kind, str(row.get("key", "")))), Cell(count_text(num(row, "receipts"))),
                          Cell(count_text(num(row, "changed"))), _delta_cell(u, "money", change_of(row, "discount")[2]),
                          _delta_cell(u, "points", change_of(row, "points_accrued")[2]),
                          _delta_cell(u, "money", change_of(row, "cost")[2])])
    return grid


def diff_grids(diff: Mapping[str, Any]) -> list[Grid]:
    grids = [diff_totals_grid(diff), diff_campaign_grid(diff), diff_collision_grid(diff),
             diff_customer_grid(diff), diff_receipt_grid(diff)]
    grids += [diff_breakdown_grid(diff, kind) for kind, _, _ in BREAKDOWNS]
    if diff.get("assertions"):
        grids.append(assertion_grid(diff))
    return grids


# ------------------------------------------------------------------------------------------ terminal

_STYLES = {"ok": "bold green", "failed": "bold red", "muted": "dim", "up": "yellow", "down": "cyan", "": ""}


def _text(cell: Cell | str, tone: str = "") -> Text:
    """User text (campaign names come from programmes) as a Text, never parsed as rich markup."""
    if isinstance(cell, Cell):
        return Text(cell.text, style=_STYLES.get(cell.tone, ""))
    return Text(cell, style=_STYLES.get(tone, ""))


def grid_table(grid: Grid) -> Table:
    table = Table(title=Text(grid.title, style="bold"), title_justify="left", show_footer=grid.footer is not None,
                  header_style="bold", expand=False)
    for i, (header, numeric) in enumerate(grid.columns):
        footer = _text(grid.footer[i]) if grid.footer else ""
        # figures never wrap; names fold onto more lines rather than being cut short
        table.add_column(Text(header), footer=footer, justify="right" if numeric else "left", no_wrap=numeric,
                         overflow="ellipsis" if numeric else "fold", min_width=None if numeric else 6,
                         footer_style="bold")
    for row in grid.rows:
        table.add_row(*(_text(c) for c in row))
    return table


def _table_width(grid: Grid) -> int:
    """The narrowest the table can be without cutting a figure or a word: figures and headers whole,
    names folded between words, but to no fewer than 6 columns."""
    width = 1
    for i, (header, numeric) in enumerate(grid.columns):
        cells = [row[i].text for row in grid.rows] + ([grid.footer[i].text] if grid.footer else [])
        widest = max(display_width(header), *(display_width(c) for c in cells))
        word = max(display_width(w) for text in [header, *cells] for w in [*text.split(), ""])
        width += (widest if numeric else min(widest, max(word, 6))) + 3
    return width


def grid_records(grid: Grid) -> Table:
    """A table too wide for the terminal, one row after another as ``column  value`` lines."""
    table = Table(title=Text(grid.title, style="bold"), title_justify="left", show_header=False, box=None,
                  padding=(0, 1))
    table.add_column("column", style="dim")
    table.add_column("value", overflow="fold")
    rows = [*grid.rows, grid.footer] if grid.footer else grid.rows
    for n, row in enumerate(rows):
        if n:
            table.add_row("", "")
        for (header, _numeric), cell in zip(grid.columns, row, strict=True):
            table.add_row(Text(header), _text(cell))
    return table


def _print_grid(console: Console, grid: Grid) -> None:
    grid = _localised(grid)
    if not grid.rows:
        console.print(Text.assemble((grid.title, "bold"), (f": {grid.empty}", "dim")))
        console.print()
        return
    console.print(grid_table(grid) if _table_width(grid) <= console.width else grid_records(grid))
    if grid.note:
        console.print(Text(grid.note, style="dim"))
    console.print()


def _figure_table(title: str, figures: Sequence[Figure]) -> Table:
    table = Table(title=Text(locale_text.label(title), style="bold"), title_justify="left", show_header=False,
                  box=None, padding=(0, 1))
    table.add_column("figure", style="dim")
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("note", style="dim")
    for f in figures:
        table.add_row(Text(locale_text.label(f.label)), _text(f.value, f.tone), Text(i18n.note(f.note)))
    return table


def _localised(grid: Grid) -> Grid:
    """The grid's title and headers in the report's language (``--lang``), its cells as they are."""
    label = locale_text.label
    return dataclasses.replace(grid, title=label(grid.title), columns=[(label(h), n) for h, n in grid.columns],
                               empty=label(grid.empty), note=i18n.note(grid.note))


def render_report(report: Mapping[str, Any], console: Console) -> None:
    """A simulation report on the terminal: headline, input accounting, campaigns, collisions, budgets, assertions."""
    programme = report.get("programme") or {}
    i = report.get("input") or {}
    console.print(Text.assemble((i18n.say("Simulation: "), "bold"), (programme_title(programme), "bold cyan"),
                                (f"  {short_digest(programme.get('digest'))}", "dim")))
    console.print(Text(i18n.note(f"{period_text(i)}; "
                                 f"{num(i, 'customers'):,} customers, {num(i, 'returns'):,} returns, "
                                 f"{num(i, 'workers')} workers ({i.get('backend') or '—'})"), style="dim"))
    accounting, adds_up = input_accounting(report)
    console.print(Text(i18n.note(accounting), style="" if adds_up else "bold red"))
    for warning in attribute_warnings(report):
        console.print(Text(warning, style="bold yellow"))
    console.print()
    console.print(Columns([_figure_table(title, figures) for title, figures in headline(report)], padding=(0, 4)))
    console.print()
    for grid in report_grids(report):
        _print_grid(console, grid)
    passed, failed = assertion_summary(report)
    if passed or failed:
        style = "bold red" if failed else "bold green"
        console.print(Text(i18n.note(f"assertions: {passed} passed, {failed} failed"), style=style))


def render_diff(diff: Mapping[str, Any], console: Console) -> None:
    """A diff of two programme versions on the terminal: overall change, campaigns, who changed most, breakdowns."""
    old, new = diff.get("old") or {}, diff.get("new") or {}
    i = diff.get("input") or {}
    console.print(Text.assemble((i18n.say("Diff: "), "bold"), (programme_title(old), "bold"), (" → ", ""),
                                (programme_title(new), "bold cyan")))
    console.print(Text(f"{short_digest(old.get('digest'))} → {short_digest(new.get('digest'))}; "
                       f"{period_text(i)}", style="dim"))
    accounting, adds_up = input_accounting(diff)
    console.print(Text(i18n.note(accounting), style="" if adds_up else "bold red"))
    changed = diff.get("changed") or {}
    console.print(Text(i18n.note(f"{num(changed, 'receipts'):,} receipts and {num(changed, 'customers'):,} customers "
                                 "got a different outcome")))
    console.print()
    for grid in diff_grids(diff):
        _print_grid(console, grid)
    passed, failed = assertion_summary(diff)
    if passed or failed:
        console.print(Text(i18n.note(f"assertions: {passed} passed, {failed} failed"),
                           style="bold red" if failed else "bold green"))


def limits_grid(report: Mapping[str, Any]) -> Grid:
    out = Grid("limits", "Stock and usage limits", [("Campaign", False), ("Limit", False), ("Amount", True),
                                                    ("Used", True), ("Left", True), ("Ran out at", False)],
               empty="no stock or usage limit was used",
               note="programme-wide, kept in time order over all customers: a reward's stock, a campaign's "
                    "`redemptions N [per store] [per day]`, one row per store and day used")
    for row in report.get("limits") or []:
        scope = " ".join(str(row[k]) for k in ("store", "day") if row.get(k)) or "overall"
        limit = "stock" if row.get("kind") == "stock" else f"redemptions, {scope}"
        cut = row.get("exhausted_by")
        out.rows.append([Cell(str(row.get("campaign", ""))), Cell(limit), Cell(count_text(num(row, "amount"))),
                         Cell(count_text(num(row, "used"))), Cell(count_text(num(row, "left"))),
                         Cell(f"receipt {cut}", "failed") if cut else Cell("not reached", "muted")])
    return out


def flags_grid(report: Mapping[str, Any]) -> Grid:
    out = Grid("flags", "Anti-fraud flags", [("Flag", False), ("Receipts", True)], empty="no receipt raised a flag",
               note="receipts that hit an anti-fraud limit of the programme header (points capped, receipts past "
                    "the day's limit, velocity)")
    for row in report.get("flags") or []:
        out.rows.append(_cells(str(row.get("flag", "")), count_text(num(row, "receipts"))))
    return out


def settlement_grid(report: Mapping[str, Any]) -> Grid:
    u = Units.of(report.get("programme"))
    out = Grid("settlement", "Partner settlement", [("Partner", False), ("Receipts", True), ("Points earned", True),
                                                   ("Points spent", True), ("Partner pays", True),
                                                   ("We pay", True), ("Net", True)],
               empty="no partners", note="points earned and spent on partner receipts, at the partner's price per "
                                         "point; net > 0: the partner owes the programme")
    for row in report.get("settlement") or []:
        out.rows.append(_cells(str(row.get("partner", "")), count_text(num(row, "receipts")),
                               u.points(num(row, "points_earned")), u.points(num(row, "points_spent")),
                               u.money(num(row, "billed")), u.money(num(row, "owed")), u.money(num(row, "net"))))
    return out
