"""Progress in CI logs (loyadsl/progress.py): plain periodic lines with count, rate and ETA when
stderr is not a terminal, nothing for a run shorter than the interval."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loyadsl.cli import app
from loyadsl.progress import PlainProgress, interval_from_env

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "supermarket"
LINE = re.compile(r"^loya: (\w+): [\d,]+ (receipts|pairs), [\d,]+/s, [\d,]+ s(; \d+% of ~[\d,]+, ETA [\d,]+ s)?$")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_line_per_interval_with_rate_and_eta() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = PlainProgress(stream, 10, clock=clock)
    for second in range(1, 26):  # reading 1,000 receipts a second for 25 s
        clock.now = second
        progress("read", second * 1000)
    clock.now = 25.5
    progress("replay", 0)
    clock.now = 35.5
    progress("replay", 5000)  # 500/s; the 25,000 read are the likely total
    assert stream.getvalue().splitlines() == [
        "loya: read: 10,000 receipts, 1,000/s, 10 s",
        "loya: read: 20,000 receipts, 1,000/s, 20 s",
        "loya: replay: 5,000 receipts, 500/s, 10 s; 20% of ~25,000, ETA 40 s",
    ]


def test_a_known_total_and_a_quiet_short_run() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = PlainProgress(stream, 5, "pairs", clock=clock)
    clock.now = 4.9
    progress("pairs", 49, 100)
    assert stream.getvalue() == ""
    clock.now = 6
    progress("pairs", 60, 100)
    assert stream.getvalue() == "loya: pairs: 60 pairs, 10/s, 6 s; 60% of ~100, ETA 4 s\n"
    off = PlainProgress(stream := io.StringIO(), 0, clock=clock)
    clock.now = 1000
    off("read", 1)
    assert stream.getvalue() == ""


@pytest.mark.parametrize(("value", "expected"), [("", 10.0), ("2.5", 2.5), ("0", 0.0), ("soon", 10.0), ("-1", 10.0)])
def test_interval_from_the_environment(monkeypatch: pytest.MonkeyPatch, value: str, expected: float) -> None:
    monkeypatch.setenv("LOYA_PROGRESS_EVERY", value)
    assert interval_from_env() == expected


@pytest.mark.parametrize("verb", [
    ["simulate", str(EXAMPLE / "programme.loya"), "-r", str(EXAMPLE / "receipts.jsonl"), "-f", "json"],
    ["collisions", str(EXAMPLE / "programme.loya"), "-f", "json"],
])
def test_long_commands_print_plain_lines_without_a_terminal(verb: list[str]) -> None:
    result = CliRunner().invoke(app, verb, env={"LOYA_PROGRESS_EVERY": "0.000001"})
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("loya: ")]
    assert lines and all(LINE.match(line) for line in lines), result.stderr[-500:]
    assert "\x1b[" not in result.stderr  # no terminal control codes in a log
    quiet = CliRunner().invoke(app, verb)  # the default interval: a short run prints no progress
    assert not [line for line in quiet.stderr.splitlines() if line.startswith("loya: ")]
