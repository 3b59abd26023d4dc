"""The short fuzz run (the long one is ``python bench/fuzz.py``): every target of ``targets.py`` on a
few dozen inputs from its strategy, the same inputs on every run (derandomised), and every kept
reproducer of ``regressions/`` (failures the long run found, minimised; each must now pass).

The oracle is the same everywhere: loyadsl returns normally or raises a ``LoyaError`` with a
registered code that is not LOY999; the compiler never raises (targets.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from . import strategies, targets

REGRESSIONS = Path(__file__).parent / "regressions"

# Inputs per target: the whole folder stays well under a minute on a laptop.
EXAMPLES = {"check": 40, "fmt": 40, "bundle": 60, "receipt": 80, "customer": 80, "jsonio": 150}


@pytest.mark.parametrize("target", sorted(targets.TARGETS))
def test_short_run(target: str) -> None:
    @settings(max_examples=EXAMPLES[target], derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(strategies.FOR_TARGET[target]())
    def one(case: targets.Case) -> None:
        targets.run(target, case)

    one()


def test_every_target_has_a_strategy_and_a_budget() -> None:
    assert set(targets.TARGETS) == set(strategies.FOR_TARGET) == set(EXAMPLES)


def _regressions() -> list[Path]:
    return sorted(REGRESSIONS.glob("*.json"))


@pytest.mark.parametrize("path", _regressions(), ids=lambda p: p.stem)
def test_regression(path: Path) -> None:
    """A failure the long run found (target, minimised input, what happened then) no longer fails; a
    stall's input is refused by the target's reader (a limit of runtime/limits.py)."""
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["target"] in targets.TARGETS, path.name
    case = targets.decode(record["case"])
    if record["kind"] == "stall":  # no timed assertions: an input too big to handle fast must be refused
        assert targets.refused(record["target"], case), f"{path.name}: {record['summary']} at {record['where']}"
    else:
        targets.run(record["target"], case)


def test_cases_survive_their_json_form() -> None:
    case = {"bundle": b"LOYAB\n\xff", "text": "\ud800", "n": [1, {"x": None}]}
    assert targets.decode(json.loads(targets.dumps(targets.encode(case)))) == case
