"""Simulation reports and diffs as one self-contained HTML file (``loya simulate --format html``).

The file must open anywhere a CI artefact or a mail attachment lands: inline CSS, inline SVG charts
(``charts.py``), no script and no URL to fetch (a Content-Security-Policy says so to the browser
too). Figures and tables come from ``render.py`` already formatted, so the page and the terminal
agree to the digit; the templates only lay them out. Autoescaping is on: campaign, group and tier
names come from user programmes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from loyadsl import __version__
from loyadsl.simulate import charts
from loyadsl.simulate.render import (
    BREAKDOWNS,
    Figure,
    Units,
    assertion_summary,
    breakdown_label,
    change_of,
    compact_text,
    count_text,
    diff_grids,
    diff_headline,
    diff_units,
    headline,
    input_accounting,
    input_figures,
    num,
    period_text,
    programme_title,
    report_grids,
    short_digest,
)

TEMPLATES = Path(__file__).resolve().parent / "templates"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(("html",), default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _week_ticks(starts: Sequence[str]) -> list[str]:
    """Axis labels for weekly points: the month at the first week starting in it, the year at January and first."""
    out: list[str] = []
    seen: tuple[int, int] | None = None
    for i, text in enumerate(starts):
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            out.append(text if i == 0 else "")
            continue
        month = (day.year, day.month)
        if month == seen:
            out.append("")
            continue
        name = _MONTHS[day.month - 1]
        out.append(f"{name} {day.year}" if seen is None or day.month == 1 else name)
        seen = month
    return out


def _period_word(period: str) -> str:
    return {"week": "Week of", "day": "Day", "month": "Month of"}.get(period, period.capitalize() or "Period")


def report_charts(report: Mapping[str, Any]) -> list[tuple[str, str, Markup]]:
    """(title, caption, svg) for each time-series chart of a report."""
    u = Units.of(report.get("programme"))
    series = report.get("series") or {}
    points: list[Mapping[str, Any]] = list(series.get("points") or [])
    period = str(series.get("period") or "week")
    starts = [str(p.get("start", "")) for p in points]
    labels = [f"{_period_word(period)} {s}" for s in starts]
    ticks = _week_ticks(starts)

    def column(key: str) -> list[int]:
        return [num(p, key) for p in points]

    def money_chart(title: str, name: str, key: str, area: bool) -> Markup:
        return charts.line_chart(title, labels, [charts.Series(name, column(key))], area=area,
                                 value_text=u.money_with_currency, tick_text=lambda v: compact_text(v, u.minor),
                                 x_ticks=ticks, unit=u.currency)

    def points_text(v: int) -> str:
        return f"{u.points(v)} points"

    def points_tick(v: int) -> str:
        return compact_text(v, u.points_minor)

    tiers: list[str] = []
    for p in points:
        tiers += [str(name) for name in (p.get("tiers") or {}) if str(name) not in tiers]
    tier_series = [charts.Series(name, [num(p.get("tiers"), name) for p in points]) for name in tiers]
    per = f"per {period}"
    return [
        (f"Revenue {per}", "after discounts", money_chart(f"Revenue {per}", "Revenue", "revenue", True)),
        (f"Receipts {per}", "simulated receipts",
         charts.line_chart(f"Receipts {per}", labels, [charts.Series("Receipts", column("receipts"), charts.PALETTE[5])],
                           value_text=count_text, tick_text=lambda v: compact_text(v, 0), x_ticks=ticks,
                           unit="receipts")),
        (f"Discount {per}", "given by every campaign", money_chart(f"Discount {per}", "Discount", "discount", False)),
        (f"Points {per}", "accrued, redeemed and expired",
         charts.line_chart(f"Points {per}", labels, [
             charts.Series("Accrued", column("points_accrued"), charts.PALETTE[2]),
             charts.Series("Redeemed", column("points_redeemed"), charts.PALETTE[0]),
             charts.Series("Expired", column("points_expired"), charts.PALETTE[3]),
         ], value_text=points_text, tick_text=points_tick, x_ticks=ticks, unit="points")),
        ("Liability", "points outstanding at the end of each period",
         charts.line_chart("Liability", labels, [charts.Series("Liability", column("liability"), charts.PALETTE[4])],
                           area=True, value_text=points_text, tick_text=points_tick, x_ticks=ticks, unit="points")),
        ("Tiers", "customers per level at the end of each period",
         charts.stacked_bar_chart("Tiers", labels, tier_series, value_text=lambda v: f"{count_text(v)} customers",
                                  tick_text=lambda v: compact_text(v, 0), x_ticks=ticks, unit="customers")),
    ]


def render_html(report: Mapping[str, Any]) -> str:
    """The simulation report as one self-contained HTML page."""
    programme = report.get("programme") or {}
    accounting, adds_up = input_accounting(report)
    passed, failed = assertion_summary(report)
    return _env.get_template("report.html").render(
        title=f"Simulation — {programme_title(programme)}",
        programme=programme_title(programme),
        digest=short_digest(programme.get("digest")),
        currency=str(programme.get("currency") or ""),
        period=_period(report),
        headline=headline(report),
        accounting=accounting,
        adds_up=adds_up,
        input_figures=input_figures(report),
        grids={g.key: g for g in report_grids(report)},
        charts=report_charts(report),
        has_series=bool((report.get("series") or {}).get("points")),
        passed=passed,
        failed=failed,
        version=__version__,
    )


def _period(doc: Mapping[str, Any]) -> str:
    return period_text(doc.get("input") or {})


def diff_charts(diff: Mapping[str, Any]) -> list[tuple[str, str, Markup]]:
    """Cost per period, old against new, and the change in cost by weekday and by hour."""
    u = diff_units(diff)
    old_name = programme_title(diff.get("old")) or "old"
    new_name = programme_title(diff.get("new")) or "new"
    if old_name == new_name:
        old_name, new_name = f"old {old_name}", f"new {new_name}"
    series = diff.get("series") or {}
    points: list[Mapping[str, Any]] = list(series.get("points") or [])
    period = str(series.get("period") or "week")
    starts = [str(p.get("start", "")) for p in points]
    labels = [f"{_period_word(period)} {s}" for s in starts]

    def money_tick(v: int) -> str:
        return compact_text(v, u.minor)

    def signed_money(v: int) -> str:
        return ("+" if v > 0 else "") + u.money_with_currency(v)

    out = [(f"Programme cost per {period}", "old and new version over the same receipts",
            charts.line_chart(f"Programme cost per {period}", labels, [
                charts.Series(old_name, [change_of(p, "cost")[0] for p in points], "#9ca3af"),
                charts.Series(new_name, [change_of(p, "cost")[1] for p in points], charts.PALETTE[0]),
            ], value_text=u.money_with_currency, tick_text=money_tick, x_ticks=_week_ticks(starts),
                unit=u.currency, frame=charts.Frame(width=1240, height=280)))]
    for kind, title, _header in BREAKDOWNS[1:]:
        rows = list((diff.get("breakdowns") or {}).get(kind) or [])
        keys = [str(r.get("key", "")) for r in rows]
        names = [breakdown_label(kind, k) for k in keys]
        short = [k.capitalize() if kind == "weekday" else k for k in keys]
        out.append((f"Change in cost {title.lower()}", "new minus old",
                    charts.bar_chart(f"Change in cost {title.lower()}", names, [change_of(r, "cost")[2] for r in rows],
                                     value_text=signed_money, tick_text=money_tick, x_ticks=short, unit=u.currency,
                                     name="Δ cost")))
    return out


def render_diff_html(diff: Mapping[str, Any]) -> str:
    """The diff of two programme versions as one self-contained HTML page."""
    old, new = diff.get("old") or {}, diff.get("new") or {}
    accounting, adds_up = input_accounting(diff)
    passed, failed = assertion_summary(diff)
    figures: list[Figure] = diff_headline(diff)
    return _env.get_template("diff.html").render(
        title=f"Diff — {programme_title(old)} → {programme_title(new)}",
        old=programme_title(old),
        new=programme_title(new),
        old_digest=short_digest(old.get("digest")),
        new_digest=short_digest(new.get("digest")),
        period=_period(diff),
        figures=figures,
        accounting=accounting,
        adds_up=adds_up,
        grids={g.key: g for g in diff_grids(diff)},
        charts=diff_charts(diff),
        passed=passed,
        failed=failed,
        version=__version__,
    )
