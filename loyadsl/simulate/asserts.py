"""CI guards over a simulation report: ``totals.cost_share <= 3%``, ``campaigns.welcome.cost <= 5000.00 RUB``.

An assertion is written in the language's own expression syntax (so literals carry their units and
errors point at a column), and compared exactly: money in minor units, points in point minor units,
shares in ppm. Nothing here is a float.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext
from pathlib import Path
from typing import Any

from loyadsl.diagnostics import did_you_mean
from loyadsl.runtime.limits import MAX_INT_DIGITS
from loyadsl.simulate.errors import AssertionSyntaxError
from loyadsl.simulate.mapping import read_yaml
from loyadsl.syntax import nodes as n
from loyadsl.syntax.parser import parse_expression

_OPS: dict[str, Callable[[int, int], bool]] = {
    "<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt, "==": operator.eq, "!=": operator.ne,
}
_CURRENCY_SIGNS = {"₽": "RUB", "$": "USD", "€": "EUR", "₴": "UAH", "₸": "KZT"}


@dataclass(frozen=True)
class Assertion:
    text: str
    path: tuple[str, ...]
    op: str
    literal: n.Expr


def parse_assertion(text: str) -> Assertion:
    expr, diags = parse_expression(text, "--assert")
    if expr is None or diags:
        reason = diags[0].message if diags else "not an expression"
        raise AssertionSyntaxError(f"{text!r}: {reason}")
    if not isinstance(expr, n.Compare) or not isinstance(expr.left, n.Ref):
        raise AssertionSyntaxError(f"{text!r}: expected FIGURE OP VALUE, e.g. 'totals.cost_share <= 3%'")
    return Assertion(text, expr.left.path, expr.op, expr.right)


def load_assertions(texts: Iterable[str], files: Iterable[Path] = ()) -> list[Assertion]:
    """Assertions from ``--assert`` texts and YAML files (a list of strings, or ``{assert: [...]}``)."""
    every = list(texts)
    for path in files:
        data = read_yaml(path, AssertionSyntaxError, "the assertions")
        if isinstance(data, dict):
            data = data.get("assert")
        if not isinstance(data, list) or not all(isinstance(item, str) for item in data):
            raise AssertionSyntaxError(f"{path}: expected a list of assertion strings (or 'assert: [...]')")
        every += data
    return [parse_assertion(text) for text in every]


def validate(assertions: Iterable[Assertion], shape: dict[str, Any]) -> None:
    """Before a run: each assertion names a figure of a report of this shape (``run.report_shape``)
    and compares it with a value of its unit, else ``AssertionSyntaxError`` (a usage error, exit 2)."""
    for a in assertions:
        try:
            _, unit = _figure(shape, a.path)
            _literal(a.literal, unit, shape)
        except AssertionSyntaxError as exc:
            raise AssertionSyntaxError(f"{a.text!r}: {exc}") from None


def check(assertions: Iterable[Assertion], report: dict[str, Any]) -> list[dict[str, Any]]:
    """Each assertion's verdict: ``{expr, ok, value, expected, detail}``; values as the report holds them."""
    results = []
    for a in assertions:
        try:
            found, unit = _figure(report, a.path)
            limit = _literal(a.literal, unit, report)
        except AssertionSyntaxError as exc:
            results.append({"expr": a.text, "ok": False, "value": None, "expected": None, "detail": str(exc)})
            continue
        ok = _OPS[a.op](found, limit)
        detail = f"{'.'.join(a.path)} is {_show(found, unit, report)}, expected {a.op} {_show(limit, unit, report)}"
        results.append({"expr": a.text, "ok": ok, "value": found, "expected": limit, "detail": detail})
    return results


def _figure(report: dict[str, Any], path: tuple[str, ...]) -> tuple[int, str]:
    """The integer a path names and its unit (money, points, ppm or count)."""
    if len(path) < 2:
        raise AssertionSyntaxError(f"{'.'.join(path)}: name a figure, e.g. totals.cost or campaigns.NAME.cost")
    section, rest = path[0], list(path[1:])
    if section in ("campaigns", "budgets"):
        key = "name" if section == "campaigns" else "campaign"
        rows = {row[key]: row for row in report.get(section, [])}
        if len(rest) != 2 or rest[0] not in rows:
            known = ", ".join(sorted(rows)) or "none"
            raise AssertionSyntaxError(f"{'.'.join(path)}: no {section[:-1]} {rest[0]!r}"
                                       f"{_hint(rest[0], rows)} (known: {known})")
        table: dict[str, Any] = rows[rest[0]]
        field = rest[1]
    elif section in ("totals", "input") and len(rest) == 1:
        table, field = report.get(section, {}), rest[0]
    else:
        raise AssertionSyntaxError(f"{'.'.join(path)}{_hint(section, ('totals', 'input', 'campaigns', 'budgets'))}: "
                                   "expected totals.F, input.F, campaigns.NAME.F or budgets.NAME.F")
    if field.endswith("_share") and field + "_ppm" in table:
        return int(table[field + "_ppm"]), "ppm"
    value = table.get(field)
    if type(value) is not int:
        figures = sorted(k for k, v in table.items() if type(v) is int)
        names = figures + [k[:-4] for k in figures if k.endswith("_share_ppm")]
        raise AssertionSyntaxError(f"{'.'.join(path)}: not a figure{_hint(field, names)} "
                                   f"(figures: {', '.join(figures)})")
    return value, _unit(field)


def _hint(name: str, known: Iterable[str]) -> str:
    """``, did you mean `x`?`` for a misspelt name, or nothing."""
    hint = did_you_mean(name, tuple(known))
    return f", {hint}" if hint else ""


def _unit(field: str) -> str:
    if field.startswith("points") or field == "liability":
        return "points"
    if field.endswith("_ppm"):
        return "ppm"
    if field in ("turnover", "revenue", "discount", "cost", "redeemed_money", "certificates_used", "amount",
                 "given", "certificates_sold_value"):
        return "money"
    return "count"


def _literal(e: n.Expr, unit: str, report: dict[str, Any]) -> int:
    programme = report.get("programme", {})
    if isinstance(e, n.PercentLit):
        if unit != "ppm":
            raise AssertionSyntaxError(f"a percent compares with a share, not with {unit}")
        return _scaled(e.value, 10_000)
    if isinstance(e, n.MoneyLit):
        if unit != "money":
            raise AssertionSyntaxError(f"money compares with a money figure, not with {unit}")
        currency = _CURRENCY_SIGNS.get(e.currency, e.currency)
        if currency != programme.get("currency"):
            raise AssertionSyntaxError(f"the report is in {programme.get('currency')}, not {currency}")
        return _scaled(e.amount, 10 ** int(programme.get("minor", 2)))
    if isinstance(e, n.PointsLit):
        if unit != "points":
            raise AssertionSyntaxError(f"points compare with a points figure, not with {unit}")
        return _scaled(e.amount, 10 ** int(programme.get("points_minor", 0)))
    if isinstance(e, n.NumberLit):
        if unit not in ("count", "ppm"):
            raise AssertionSyntaxError(f"write the unit: {unit} (e.g. 5000.00 RUB, 100 points, 3%)")
        return _scaled(e.text, 1)
    raise AssertionSyntaxError("the right side must be a literal: a number, money, points or a percent")


def _scaled(text: str, scale: int) -> int:
    try:
        with localcontext(prec=2 * MAX_INT_DIGITS):
            value = Decimal(text) * scale
    except InvalidOperation:
        raise AssertionSyntaxError(f"not a number: {text[:40]}") from None
    if not value.is_finite() or abs(value) >= 10**MAX_INT_DIGITS:
        raise AssertionSyntaxError(f"{text[:40]}: a number of more than {MAX_INT_DIGITS} digits")
    if value != value.to_integral_value():
        raise AssertionSyntaxError(f"{text} has more decimals than the figure can hold")
    return int(value)


def _show(value: int, unit: str, report: dict[str, Any]) -> str:
    if unit == "ppm":
        whole, frac = divmod(abs(value), 10_000)
        return f"{'-' if value < 0 else ''}{whole}.{frac // 100:02d}%"
    if unit == "money":
        minor = int(report.get("programme", {}).get("minor", 2))
        whole, frac = divmod(abs(value), 10**minor)
        sign = "-" if value < 0 else ""
        amount = f"{sign}{whole}.{frac:0{minor}d}" if minor else f"{sign}{whole}"
        return f"{amount} {report.get('programme', {}).get('currency', '')}".strip()
    if unit == "points":
        return f"{value} points"
    return str(value)
