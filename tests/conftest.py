"""What every test shares: no progress lines from a slow replay.

`loya simulate` and `loya diff` write a progress line to stderr every 10 s of a long run
(loyadsl/progress.py). Typer's ``CliRunner`` mixes stderr into ``result.output``, which the tests read as
the command's JSON, so on a loaded machine a run past 10 s broke the JSON the test parsed (seen in
tests/simulate/test_hostile_inputs.py at load 10). The tests of the progress lines themselves
(tests/test_progress_plain.py) set ``LOYA_PROGRESS_EVERY`` on their own.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_progress_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOYA_PROGRESS_EVERY", "0")
