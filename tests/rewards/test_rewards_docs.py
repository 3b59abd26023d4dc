"""docs/rewards.md runs: its programme compiles, its example receipt gives the events and changes the page
shows, and the raffle test vectors are what the draw computes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, load_bundle
from loyadsl.runtime.raffle import draw, entries_digest

PAGE = (Path(__file__).resolve().parents[2] / "docs" / "rewards.md").read_text(encoding="utf-8")


def block(marker: str) -> Any:
    """The JSON block right after ``<!-- example: MARKER -->``."""
    found = re.search(rf"<!-- example: {marker} -->\n```json\n(.*?)```", PAGE, re.S)
    assert found, marker
    return json.loads(found.group(1))


def engine() -> Engine:
    programme = re.search(r"```loya\n(.*?)```", PAGE, re.S)
    assert programme
    data, result = compile_text(programme.group(1), "rewards.loya")
    assert data is not None, [str(d) for d in result.diagnostics]
    return Engine(load_bundle(data))


def test_the_example_gives_what_the_page_says() -> None:
    outcome = engine().evaluate(block("receipt"), block("customer"), stock=block("stock"))
    assert list(outcome.events or ()) == block("events")
    ops = [c for c in outcome.changes or () if c["op"] in ("take", "stock")]
    assert ops == block("reward changes")


def test_the_raffle_vectors() -> None:
    table = PAGE.partition("<!-- raffle vectors -->")[2]
    rows = re.findall(r"^\| `([^`]+)` \| ([^|]+) \| ([^|]+) \| `([0-9a-f]{64})` \|$", table, re.M)
    assert len(rows) == 2
    for seed, tickets, winners, digest in rows:
        entries = [(who, int(n)) for who, n in (t.split() for t in tickets.split(","))]
        expected = [tuple(w.split()) for w in winners.replace("`", "").split(",")]
        got = draw(entries, seed, len(expected))
        assert [(w.customer, str(w.ticket), w.score[:16]) for w in got] == expected
        assert entries_digest(entries) == digest
