"""`--lang ru`: money, numbers, percents and dates of reports written for the language, from Babel's
CLDR data (loyadsl/locale_text.py); no language keeps the plain forms the golden reports hold."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loyadsl import locale_text
from loyadsl.cli import app
from loyadsl.simulate.render import Units, count_text, decimal_text, money_text, ppm_text, quantity_text

pytest.importorskip("babel")
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "supermarket"
NB = "\u00a0"  # CLDR's Russian group separator and the space before % and ₽
RUB = Units("RUB", 2, 0)

CASES = [  # language, what, expected
    (None, lambda: RUB.money_with_currency(89797039), "897,970.39 RUB"),
    ("ru", lambda: RUB.money_with_currency(89797039), f"897{NB}970,39 ₽"),
    ("en", lambda: RUB.money_with_currency(89797039), "897,970.39 RUB"),
    ("ru", lambda: money_text(-123456, 2), f"-1{NB}234,56"),
    ("ru", lambda: money_text(5, 0), "5"),
    ("ru", lambda: count_text(1234567), f"1{NB}234{NB}567"),
    ("ru", lambda: ppm_text(68716), f"6,87{NB}%"),
    ("en", lambda: ppm_text(-68716), "-6.87%"),
    (None, lambda: ppm_text(68716), "6.87%"),
    ("ru", lambda: quantity_text(3153033), f"3{NB}153,033"),
    ("ru", lambda: quantity_text(1500), "1,5"),
    ("ru", lambda: decimal_text("1148.80"), f"1{NB}148,80"),
    ("ru", lambda: decimal_text("n/a"), "n/a"),
    ("ru", lambda: locale_text.date_text(dt.date(2026, 3, 5)), "5 марта 2026\u202fг."),  # CLDR: a narrow no-break space
    ("en", lambda: locale_text.date_text(dt.date(2026, 3, 5)), "March 5, 2026"),
    (None, lambda: locale_text.date_text(dt.date(2026, 3, 5)), "2026-03-05"),
]


@pytest.fixture(autouse=True)
def plain_afterwards() -> Iterator[None]:
    yield
    locale_text.use(None)


@pytest.mark.parametrize(("language", "what", "expected"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_formats(language: str | None, what: object, expected: str) -> None:
    locale_text.use(language)
    assert callable(what)
    assert what() == expected


def simulate(*extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["simulate", str(EXAMPLE / "programme.loya"), "-r", str(EXAMPLE / "receipts.jsonl"),
                                      "--customers", str(EXAMPLE / "customers.jsonl"), *extra])
    return result.exit_code, result.output


def test_the_report_in_russian_and_back() -> None:
    code, russian = simulate("--lang", "ru")
    assert code == 0 and f"897{NB}970,39 ₽" in russian and "Ромашка" in russian
    assert "2 января 2025\u202fг. … 30 декабря 2025\u202fг." in russian
    # titles, figure names and column headers from the catalogue (locale_text.RU)
    assert all(word in russian for word in ("Продажи", "Выручка", "Средний чек", "Кампании", "По магазинам", "Допущения"))
    code, plain = simulate()  # the language does not stick to the next command
    assert code == 0 and "897,970.39 RUB" in plain and "₽" not in plain and "2025-01-02 … 2025-12-30" in plain
    assert "Sales" in plain and "Продажи" not in plain
    # the rows of the tables (they start with a space; prose lines are soft-wrapped by the terminal)
    # stay within 80 columns
    rows = [line for line in russian.splitlines() if line.startswith(" ")]
    assert len(rows) > 50 and max(len(line) for line in rows) <= 80
    code, bad = simulate("--lang", "fr")
    assert code == 2 and "LOY700" in bad and "not one of en, ru" in bad
