"""`loya ab report --lang ru`: many arms wrap into further tables, each within 80 columns; a figure
that is no number (arms without variance) prints as a dash, never ``nan``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from loyadsl import locale_text
from loyadsl.i18n import ru_ab
from loyadsl.render import display_width


@pytest.fixture(autouse=True)
def _russian() -> Iterator[None]:
    locale_text.use("ru")
    yield
    locale_text.use(None)


def arm(name: str) -> dict[str, object]:
    return {"arm": name, "customers": 123456, "receipts": 9876543, "revenue": 123456789012, "cost": 98765432,
            "revenue_per_customer": 1000012.5, "average_receipt": None, "frequency": 80.0}


def test_many_arms_wrap_within_80_columns() -> None:
    names = [f"offer_variant_{i}" for i in range(7)]
    lines = ru_ab.arms_table([arm(n) for n in names])
    assert max(display_width(line) for line in lines) <= 80
    headers = [line for line in lines if line.startswith("Группа")]
    assert len(headers) > 1 and [w for h in headers for w in h.split()[1:]] == names  # wrapped, each arm once
    assert "Средний чек" in lines[6] and lines[6].split()[-1] == "—"
    assert "1\N{NO-BREAK SPACE}234\N{NO-BREAK SPACE}567\N{NO-BREAK SPACE}890,12" in lines[3]


@pytest.mark.parametrize(("value", "shown"), [(float("nan"), "—"), (None, "—"), (0.008188, "0,008188"),
                                              (71.1111, "71,11"), (1e-17, "< 0,0001")])
def test_numbers(value: float | None, shown: str) -> None:
    assert (ru_ab.p_value(value) if shown.startswith("<") else ru_ab.number(value)) == shown
