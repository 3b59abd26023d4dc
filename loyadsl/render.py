"""Rendering at the edge: diagnostics with the source line and a caret, outcomes as tables.

Only the CLI (and later the language server) imports this; the pipeline returns plain data.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from loyadsl import i18n
from loyadsl.diagnostics import Diagnostic
from loyadsl.formats import Case, github, junit, sarif
from loyadsl.locale_text import decimal_text
from loyadsl.runtime.money import minor_text

CI_FORMATS = ("sarif", "junit", "github")


def money(units: int, minor: int) -> str:
    """Minor units as exact decimal text (``1457.98``), grouped for the reader's language under
    ``--lang`` (``1 457,98``; ``loyadsl/locale_text.py``)."""
    return decimal_text(units, minor) or minor_text(units, minor)


def display_width(text: str) -> int:
    """Terminal columns taken by ``text`` (wide CJK characters take two, combining marks none)."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


SHOWN_COLUMNS = 160  # of a long source line, a window this wide around the caret is shown
_BIDI = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"}


def visible(text: str) -> str:
    """``text`` safe for a terminal: control characters (ESC starts terminal escapes) and bidi
    overrides (which reorder what a reader sees) are shown as escapes, never sent raw."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() and ch not in _BIDI else ch.encode("unicode_escape").decode("ascii")
                   for ch in text)


def render_diagnostic(d: Diagnostic, sources: dict[str, str]) -> str:
    """Plain text: ``file:line:col: error[LOY201]: message``, the line, a caret, the hint. Lines are
    the lexer's (split at \\n only); a long line is shown as a window around the caret; whatever
    comes from the input is made ``visible``. Words are the reader's language (``i18n``; English as written)."""
    d = i18n.localized(d)
    where = f"{d.span}: " if d.span else ""
    out = [f"{where}{i18n.say(d.severity.value)}[{d.code}]: {d.message}"]
    if d.span and d.span.file in sources:
        lines = sources[d.span.file].split("\n")
        if 1 <= d.span.line <= len(lines):
            out += _excerpt(lines[d.span.line - 1].rstrip("\r"), d)
    if d.hint:
        out.append(f"      = {i18n.say('hint')}: {d.hint}")
    for note in d.notes:
        out.append(f"      = {i18n.say('note')}: {note}")
    return "\n".join(visible(line) for line in out)


def _excerpt(line: str, d: Diagnostic) -> list[str]:
    """The source line (a window of it) and the caret under the span."""
    assert d.span is not None
    col = d.span.col - 1
    end = d.span.end_col - 1 if d.span.end_line == d.span.line and d.span.end_col > d.span.col else col + 1
    first = max(0, min(col - SHOWN_COLUMNS // 3, len(line) - SHOWN_COLUMNS))
    shown = line[first : first + SHOWN_COLUMNS]
    before, after = ("…" if first else ""), ("…" if first + SHOWN_COLUMNS < len(line) else "")
    text = visible(shown.expandtabs(4))
    start = display_width(before) + display_width(visible(shown[: max(0, col - first)].expandtabs(4)))
    length = max(1, display_width(visible(shown[max(0, col - first) : max(0, end - first)])))
    gutter = f"{d.span.line:>5} | "
    return [gutter + before + text + after, " " * (len(gutter) - 2) + "| " + " " * start + "^" * length]


def print_diagnostics(console: Console, diagnostics: Iterable[Diagnostic], sources: dict[str, str]) -> None:
    for d in diagnostics:
        style = "bold red" if d.is_error else "bold yellow"
        text = render_diagnostic(d, sources)
        first, _, rest = text.partition("\n")
        console.print(f"[{style}]{escape(first)}[/]")
        if rest:
            console.print(escape(rest), highlight=False)


def diagnostics_json(diagnostics: Iterable[Diagnostic]) -> str:
    items = [d.to_dict() for d in diagnostics]
    errors = sum(1 for d in items if d["severity"] == "error")
    return json.dumps(
        {"diagnostics": items, "errors": errors, "warnings": len(items) - errors},
        ensure_ascii=False,
        indent=2,
    )


def ci_report(fmt: str, cases: list[Case], name: str) -> str:
    """``cases`` in a CI format (``CI_FORMATS``); ``name`` is what ran (``loya check``), JUnit's top."""
    if fmt == "sarif":
        return sarif.render(cases) + "\n"
    if fmt == "junit":
        return junit.render(cases, name)
    if fmt == "github":
        return github.render(cases)
    raise ValueError(f"not a CI format: {fmt}")


def outcome_table(outcome: dict[str, Any], minor: int, points_minor: int) -> Table:
    table = Table(title=i18n.say("Receipt {id}", id=outcome['receipt_id']), show_lines=False)
    for col in ("line", "sku", "amount", "discount", "payable", "points"):
        table.add_column(i18n.say(col), justify="right" if col not in ("sku",) else "left")
    for line in outcome["lines"]:
        table.add_row(
            str(line["line_no"]),
            escape(str(line["sku"])),
            money(line["amount"], minor),
            money(line["discount"], minor),
            money(line["payable"], minor),
            money(line["points"], points_minor),
        )
    table.add_section()
    table.add_row(
        "",
        i18n.say("total"),
        money(outcome["total"], minor),
        money(outcome["discount_total"], minor),
        money(outcome["payable"], minor),
        money(outcome["points_total"], points_minor),
    )
    return table


# ---------------------------------------------------------------------------------------------- the state side
# What a receipt did to the customer's state (docs/state.md), in words, for `loya eval`'s text output.

_QUIET = frozenset({"applied", "receipt", "qualify"})  # bookkeeping: the idempotency record, the count, tier progress


def _day(stamp: str | None) -> str:
    """An ISO time of the state as it is written (UTC): to the minute."""
    if stamp is None:
        return i18n.say("never")
    return f"{stamp[:10]} {stamp[11:16]} UTC" if stamp.endswith("+00:00") else stamp


def _change_text(c: dict[str, Any], minor: int, points_minor: int) -> str | None:
    op = c.get("op")
    pts = lambda v: money(int(v), points_minor)  # noqa: E731 - a local shorthand
    if op in _QUIET:
        return None
    if op == "lot":
        if c["points"] > 0:
            return i18n.say("+{points} points to {account}, active from {start}, expire {end} ({source})",
                            points=pts(c['points']), account=c['account'], start=_day(c.get('active_from')),
                            end=_day(c.get('expires')), source=c.get('campaign') or c.get('lot'))
        return i18n.say("{points} points of lot {lot} in {account}", points=pts(c['points']), lot=c['lot'],
                        account=c['account'])
    if op == "take":
        return i18n.say("−{points} points from {account} ({reason}, lot {lot})", points=pts(c['points']),
                        account=c['account'], reason=c.get('reason', 'taken'), lot=c.get('lot', '-'))
    if op == "counter":
        return f"{c['name']} {int(c['delta']):+d} ({c.get('reason', '')})"
    if op == "coupon_issue":
        return i18n.say("coupon issued: {code} ({series}), valid {start} .. {end}", code=c['code'],
                        series=c['series'], start=_day(c.get('valid_from')), end=_day(c.get('valid_to')))
    if op == "coupon_use":
        return i18n.say("coupon used: {code} ({series}) by {campaign}", code=c['code'], series=c['series'],
                        campaign=c.get('campaign', '-'))
    if op == "coupon_expire":
        return i18n.say("coupon expired: {code} ({series})", code=c['code'], series=c.get('series', '-'))
    if op == "usage":
        return i18n.say("{campaign} uses its limit ({period})", campaign=c['campaign'], period=c['period'])
    if op == "budget":
        amount = money(c["delta"], minor) if c.get("kind") == "money" else pts(c["delta"])
        return i18n.say("{campaign} spends {amount} of its budget", campaign=c['campaign'], amount=amount)
    rest = ", ".join(f"{k} {v}" for k, v in c.items() if k not in ("op", "receipt", "lines"))
    return f"{op}: {rest}"


def state_lines(o: dict[str, Any], minor: int, points_minor: int, currency: str) -> list[str]:
    """The payment, the changes and events, and each presented coupon's fate, one line each; none for a
    stateless outcome."""
    if o.get("changes") is None:
        return []
    out: list[str] = []
    pay = o.get("payment") or {}
    if pay.get("points") or pay.get("certificates_money"):
        out.append(i18n.say("payment: {points} points pay {points_money} {currency}, certificates "
                            "{certificates} {currency}; to pay {to_pay} {currency}",
                            points=money(pay.get('points', 0), points_minor),
                            points_money=money(pay.get('points_money', 0), minor), currency=currency,
                            certificates=money(pay.get('certificates_money', 0), minor),
                            to_pay=money(pay.get('to_pay', 0), minor)))
    out += [text for c in o["changes"] if (text := _change_text(c, minor, points_minor)) is not None]
    for e in o.get("events") or ():
        if e.get("event") != "coupon_issued":  # said by its change
            out.append(f"event {e['event']}: " + ", ".join(f"{k} {v}" for k, v in e.items() if k != "event"))
    for entry in o.get("coupons") or ():
        reason = f" ({entry['reason']})" if entry.get("reason") else ""
        out.append(i18n.say("coupon {code}: {status}", code=entry['code'], status=i18n.say(entry['status'])) + reason)
    return out
