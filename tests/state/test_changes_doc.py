"""docs/state.md's table of change kinds (section 6) is generated from the one registry of change kinds,
``state.CHANGES``, so the page cannot drift from the records apply, invert and returns dispatch
through; and every change the engine writes is its kind's JSON form (``from_dict`` then ``to_dict``
gives it back).

    python tests/state/test_changes_doc.py   # rewrite the table after changing a kind
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from loyadsl.runtime.state import CHANGES, parse

DOC = Path(__file__).resolve().parents[2] / "docs" / "state.md"
BEGIN, END = "<!-- change kinds: generated from state.CHANGES by tests/state/test_changes_doc.py -->", \
    "<!-- end of change kinds -->"
JSON_KEYS = {"old": "from", "new": "to", "review": None}  # record fields named otherwise in JSON


def table() -> str:
    rows = ["| op | fields (`?`: optional) | what it does |", "|---|---|---|"]
    for op, kind in CHANGES.items():
        defaults = getattr(kind, "_field_defaults", {})
        fields = []
        for name in kind._fields:  # type: ignore[attr-defined]
            key = JSON_KEYS.get(name, name)
            if key is not None:
                fields.append(f"{key}?" if name in defaults else key)
        doc = re.sub(r"\s+", " ", (kind.__doc__ or "").strip()).replace("|", "\\|").replace("``", "`")
        rows.append(f"| `{op}` | {', '.join(fields)} | {doc} |")
    return "\n".join(rows)


def section(text: str) -> str:
    return text.partition(BEGIN)[2].partition(END)[0].strip()


def test_the_doc_table_is_generated_from_the_registry() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert BEGIN in text and END in text, "docs/state.md lost the markers of the generated table"
    assert section(text) == table(), "docs/state.md is out of step: run python tests/state/test_changes_doc.py"


def test_every_kind_is_one_record_with_one_json_form() -> None:
    for op, kind in CHANGES.items():
        for method in ("from_dict", "to_dict", "apply", "invert"):
            assert callable(getattr(kind, method, None)), f"{op}: {kind.__name__} has no {method}"


def round_trips(change: dict[str, Any]) -> bool:
    """The engine's JSON of a change is its record's JSON form (equal as JSON objects)."""
    return parse(change).to_dict() == change


if __name__ == "__main__":
    text = DOC.read_text(encoding="utf-8")
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    DOC.write_text(f"{head}{BEGIN}\n{table()}\n{END}{tail}", encoding="utf-8")
    sys.exit(0)
