"""Raffles (docs/rewards.md, "Raffles"): the draw is deterministic, follows the documented sha256 rule,
draws in proportion to tickets, refuses bad input with LOY565; `loya raffle draw` reads a programme and
a customers file."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loyadsl.cli import app
from loyadsl.runtime import LoyaError
from loyadsl.runtime.raffle import draw

PROGRAMME = """programme "R" {
    currency RUB minor 2
    timezone "Europe/Moscow"
}
chips tickets "Raffle" { earn 1 per 1000 RUB }
"""


def test_the_winner_holds_the_lowest_ticket_by_the_documented_rule() -> None:
    entries = [("A", 2), ("B", 3)]
    scores = {(c, i): hashlib.sha256(f"s\x00{c}\x00{i}".encode()).hexdigest() for c, n in entries
              for i in range(1, n + 1)}
    lowest = min(scores, key=lambda k: scores[k])
    first = draw(entries, "s", 1)[0]
    assert (first.customer, first.ticket, first.score) == (*lowest, scores[lowest])


def test_same_input_same_winners_and_one_prize_per_customer() -> None:
    entries = [(f"C{i}", i % 4) for i in range(40)]
    a, b = draw(entries, "seed", 10), draw(list(reversed(entries)), "seed", 10)
    assert a == b
    assert len({w.customer for w in a}) == 10 and all(w.tickets for w in a)
    assert draw(entries, "other seed", 10) != a


def test_first_prizes_go_in_proportion_to_tickets() -> None:
    wins = Counter(draw([("few", 1), ("many", 3)], f"seed {k}", 1)[0].customer for k in range(2000))
    assert 0.70 < wins["many"] / 2000 < 0.80  # 3 of 4 tickets; bounded count, a wide band


@pytest.mark.parametrize(("entries", "seed", "prizes", "words"), [
    ([("A", 1)], "", 1, "seed is empty"),
    ([("A", 1)], "s", 0, "at least 1"),
    ([("A", 1), ("A", 2)], "s", 1, "listed twice"),
    ([("A", -1)], "s", 1, "not a count"),
    ([("A", 10_000_001)], "s", 1, "more than"),
])
def test_bad_input_is_loy565(entries: list[tuple[str, int]], seed: str, prizes: int, words: str) -> None:
    with pytest.raises(LoyaError) as info:
        draw(entries, seed, prizes)
    assert info.value.code == "LOY565" and words in info.value.message


def test_the_command_draws_from_a_customers_file(tmp_path: Path) -> None:
    (tmp_path / "p.loya").write_text(PROGRAMME, encoding="utf-8")
    people = [{"id": "C1", "counters": {"tickets": {"value": 3, "period": "all"}}},
              {"id": "C2", "counters": {"tickets": {"value": 1, "period": "all"}}}, {"id": "C3"},
              {"id": "C4", "counters": {"tickets": {"value": 5, "period": "all"}}}]
    (tmp_path / "c.jsonl").write_text("".join(json.dumps(p) + "\n" for p in people), encoding="utf-8")
    args = ["raffle", "draw", str(tmp_path / "p.loya"), str(tmp_path / "c.jsonl"), "--tickets", "tickets",
            "--prizes", "2", "--seed", "2026-12-31 draw", "--format", "json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert [w["customer"] for w in out["winners"]] == ["C4", "C1"]  # as docs/rewards.md's vectors
    assert (out["holders"], out["tickets"]) == (3, 9)
    bad = CliRunner().invoke(app, [*args[:4], "--tickets", "ticket", *args[6:]])
    assert bad.exit_code == 2 and "LOY565" in bad.output


def test_a_bad_customer_record_is_named_once(tmp_path: Path) -> None:
    """The customers file's problem is one coded line naming its place once (it was printed twice)."""
    (tmp_path / "p.loya").write_text(PROGRAMME, encoding="utf-8")
    (tmp_path / "c.jsonl").write_text('{"id": "C1"}\n{"id": 5}\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["raffle", "draw", str(tmp_path / "p.loya"), str(tmp_path / "c.jsonl"),
                                      "--tickets", "tickets", "--prizes", "1", "--seed", "s"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error[LOY502]: ")
    assert lines[0].count("c.jsonl:2") == 1, lines[0]
