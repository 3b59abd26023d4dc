"""docs/limits.md names every limit of runtime/limits.py with its value, and no limit that is not there:
its first table has one row per constant (the name in the first column, the value in the second), so
the page cannot drift from the table the code uses."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from loyadsl.runtime import limits

DOC = Path(__file__).resolve().parent.parent / "docs" / "limits.md"
ROW = re.compile(r"^\| `([A-Z][A-Z0-9_]*)` \| ([^|]+) \|", re.M)


def _value(text: str) -> int | dt.date:
    """A value as the page writes it: `1,000`, `10^15`, `2^127 − 1`, `4 MiB`, `1900-01-01`."""
    text = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return dt.date.fromisoformat(text)
    if found := re.fullmatch(r"(\d+) MiB", text):
        return int(found.group(1)) << 20
    if found := re.fullmatch(r"(\d+)\^(\d+)(?: − (\d+))?", text):
        return int(found.group(1)) ** int(found.group(2)) - int(found.group(3) or 0)
    assert re.fullmatch(r"\d{1,3}(,\d{3})*", text), f"cannot read the value {text!r} in docs/limits.md"
    return int(text.replace(",", ""))


def _documented() -> dict[str, int | dt.date]:
    """The rows of the page's first table (`## The limits`), by constant."""
    table = DOC.read_text(encoding="utf-8").partition("## The limits")[2].partition("\n## ")[0]
    rows = ROW.findall(table)
    documented = {name: _value(value) for name, value in rows}
    assert len(documented) == len(rows), "a constant has two rows in docs/limits.md"
    return documented


def _constants() -> dict[str, object]:
    return {name: value for name, value in vars(limits).items() if name.isupper() and not name.startswith("_")}


def test_every_limit_is_documented_with_its_value() -> None:
    documented = _documented()
    missing = sorted(set(_constants()) - set(documented))
    assert not missing, f"limits of runtime/limits.py not in docs/limits.md: {missing}"
    wrong = {name: (documented[name], value) for name, value in _constants().items() if documented[name] != value}
    assert not wrong, f"docs/limits.md gives other values than runtime/limits.py (doc, code): {wrong}"


def test_the_page_documents_no_other_limit() -> None:
    extra = sorted(set(_documented()) - set(_constants()))
    assert not extra, f"docs/limits.md documents limits that runtime/limits.py does not have: {extra}"


def test_values_are_read_as_written() -> None:
    assert [_value(v) for v in ("36,525", "10^15", "2^127 − 1", "4 MiB", "2199-12-31")] == \
        [36_525, 10**15, 2**127 - 1, 4 << 20, dt.date(2199, 12, 31)]
