"""`loya ab report` and `loya ab plan` in Russian (``--lang ru``): the same figures as the English
text (``loyadsl/ab.py``), their numbers and money formatted by Babel (``loyadsl/locale_text.py``),
the per-arm figures as a table with one column an arm, so that it fits 80 columns.

Amounts arrive in minor units (kopecks) and are shown in major units (``36 200,71``); a float
figure (a mean, an interval) is rounded to the minor unit first, never printed as a float."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from loyadsl import locale_text

WIDTH = 80
NO_FIGURE = "—"
P_FLOOR = 0.0001
TESTS = {
    "welch": "t-тест Уэлча (scipy.stats.ttest_ind, equal_var=False)",
    "bootstrap": "бутстреп BCa (scipy.stats.bootstrap, {n} повторных выборок, seed {seed})",
}


def _decimal(units: int, decimals: int) -> str:
    return locale_text.decimal_text(units, decimals) or str(Decimal(units).scaleb(-decimals))


def money(minor: float | None, sign: bool = False) -> str:
    """An amount in minor units as major units (``+3 331,05``), rounded to the minor unit."""
    if minor is None or not math.isfinite(minor):
        return NO_FIGURE
    units = round(minor)
    return ("+" if sign and units >= 0 else "") + _decimal(units, 2)


def number(value: float | None, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits, with the Russian decimal comma (``0,008188``)."""
    if value is None or not math.isfinite(value):
        return NO_FIGURE
    exact = Decimal(f"{value:.{digits}g}")
    decimals = max(0, -exact.as_tuple().exponent)  # type: ignore[operator]
    return _decimal(int(exact.scaleb(decimals)), decimals)


def p_value(p: float | None) -> str:
    """A p-value as ``number`` writes it, a tiny one as ``< 0,0001`` (no run of zeros)."""
    return f"< {number(P_FLOOR)}" if p is not None and 0 <= p < P_FLOOR else number(p)


def fixed(value: float, decimals: int) -> str:
    """``value`` with ``decimals`` decimals (``0,000``)."""
    return _decimal(round(value * 10**decimals), decimals) if math.isfinite(value) else NO_FIGURE


def percent(share: float) -> str:
    """A share (``0.881``) as a percent with one decimal (``88,1 %``)."""
    if not math.isfinite(share):
        return NO_FIGURE
    return _decimal(round(share * 1000), 1) + "\N{NO-BREAK SPACE}%"


def report_lines(a: dict[str, Any], resamples: int, seed: int) -> list[str]:
    """``loya ab report``'s text in Russian (``a`` is ``ab.analyse``'s report)."""
    check = a["sample_ratio"]
    verdict = "в порядке" if check["ok"] else "НЕСООТВЕТСТВИЕ: разбиение нарушено, приросту доверять нельзя"
    lines = [f"Проверка долей групп (хи-квадрат к весам): χ² {fixed(check['chi2'], 3)}, p {p_value(check['p'])}",
             f"  {verdict}", "", *arms_table(a["arms"])]
    if a["cuped"] is not None:
        lines += ["", f"CUPED по `pre`: θ {number(a['cuped']['theta'])}, дисперсия выручки на покупателя",
                  f"  снижена на {percent(a['cuped']['variance_reduction'])}"]
    lines += ["", f"Прирост выручки на покупателя к группе {a['control']}, интервал "
                  f"{number(100 * (1 - a['alpha']))}\N{NO-BREAK SPACE}%:",
              "  " + TESTS[a["method"]].format(n=_decimal(resamples, 0), seed=seed)]
    if a["cuped"] is not None:
        lines.append("  с поправкой CUPED по `pre`")
    for u in a["uplift"]:
        d, net = u["difference"], u["incremental_net"]
        significance = "значимо" if u["significant"] else "НЕ значимо: интервал включает нулевой эффект"
        shown_p = f"p {p_value(u['p'])}, " if u["p"] is not None else ""
        lines += [f"{u['arm']}: {money(d['estimate'], True)} [{money(d['low'], True)}; {money(d['high'], True)}], "
                  f"{shown_p}n {u['customers']} к {u['control_customers']}",
                  f"  {significance}",
                  f"  доп. выручка за вычетом затрат {money(net['estimate'], True)} "
                  f"[{money(net['low'], True)}; {money(net['high'], True)}]",
                  f"  затраты {money(u['cost'])}"]
    lines += ["", "Суммы — в основных единицах валюты; в таблице они в сотых (копейках, центах)."]
    return lines


ROWS = (
    ("Покупатели", lambda r: _decimal(r["customers"], 0)),
    ("Чеки", lambda r: _decimal(r["receipts"], 0)),
    ("Выручка", lambda r: money(r["revenue"])),
    ("Затраты", lambda r: money(r["cost"])),
    ("Выручка / покупатель", lambda r: money(r["revenue_per_customer"])),
    ("Средний чек", lambda r: money(r["average_receipt"])),
    ("Частота, чеков", lambda r: fixed(r["frequency"], 3)),
)


def arms_table(arms: list[dict[str, Any]]) -> list[str]:
    """One row a figure, one column an arm; arms that do not fit 80 columns go into a further table."""
    head = max(len("Группа"), *(len(name) for name, _ in ROWS))
    cells = [[row["arm"], *(shown(row) for _, shown in ROWS)] for row in arms]
    widths = [max(len(c) for c in column) for column in cells]
    lines: list[str] = []
    start = 0
    while start < len(cells):
        end, used = start, head
        while end < len(cells) and (end == start or used + 2 + widths[end] <= WIDTH):
            used += 2 + widths[end]
            end += 1
        names = ["Группа", *(name for name, _ in ROWS)]
        for i, name in enumerate(names):
            lines.append((name.ljust(head) + "".join("  " + cells[c][i].rjust(widths[c])
                                                    for c in range(start, end))).rstrip())
        start = end
        if start < len(cells):
            lines.append("")
    return lines


def plan_lines(alpha: float, power: float, size: int, mde: float, rel: float, mean: float) -> list[str]:
    """``loya ab plan``'s text in Russian."""
    return ["Метод: мощность t-теста для двух выборок (statsmodels TTestIndPower)",
            f"  α {number(alpha)}, мощность {number(power)}",
            f"Покупателей в группе: {_decimal(size, 0)}",
            f"Минимальный обнаружимый эффект: {number(mde)} ({percent(rel)} от {number(mean, 6)})"]
