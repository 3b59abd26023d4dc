"""The stateless path decides points as totals and allocates them over the lines when the outcome's
``lines`` or ``effects`` are first read (runtime/engine.py, ``_Eval.points_vectors``; model.py, ``LazyRows``). Whatever
is read first, and however the outcome travels (pickle, JSON), it is the outcome the general loop
makes with eager allocation."""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path
from typing import Any

import pytest

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, load_bundle
from loyadsl.runtime.model import LazyRows

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the fuzz package, as tests/fuzz/test_fuzz.py has it
from fuzz.compare import general_loop

SOURCE = """programme "Lazy points" version "1" {
    currency RUB minor 2
    points minor 0 value 1.00 RUB
    timezone "UTC"
    allocation largest_remainder
}

group promo { priority 3 stacking stack_all basis original }
group best { priority 2 stacking best_for_customer basis original }
group later { priority 1 stacking stack_all basis discounted }

campaign a "A" { group promo  then accrue 3% on lines where not category "tobacco" }
campaign b "B" { group promo  then discount 10% on lines where category "dairy"  accrue 7 points on receipt }
campaign c "C" { group best  then accrue 5% on receipt }
campaign d "D" { group best  max points 3 points per receipt  then accrue 9% on lines where category "dairy" }
campaign e "E" { group later  max points 2 points per receipt  then accrue 11% on receipt }
campaign f "F" { group later  then discount 50.00 RUB on receipt  accrue 1% on lines where category "dairy" }
"""


def _receipt(amounts: list[int]) -> dict[str, Any]:
    categories = ["dairy", "tobacco", "dairy/milk", "bakery"]
    return {"receipt_id": "R1", "store_id": "S1", "datetime": "2025-03-03T12:00:00+00:00",
            "lines": [{"line_no": i + 1, "sku": f"K{i}", "category": categories[i % 4], "qty": 1,
                       "unit_price": amount, "amount": amount} for i, amount in enumerate(amounts)]}


RECEIPTS = [_receipt([10_000]), _receipt([12_345, 999, 50_001]), _receipt([1, 2, 3, 4, 5, 6, 7]),
            _receipt([333_333, 0, 77_777, 1_000, 10])]


@pytest.fixture(scope="module")
def engines() -> tuple[Engine, Engine]:
    data, result = compile_text(SOURCE, "lazy.loya")
    assert data is not None, result.diagnostics
    return Engine(load_bundle(data)), general_loop(Engine(load_bundle(data)))  # points per line allocated at once


@pytest.mark.parametrize("receipt", RECEIPTS)
def test_lazy_points_are_the_eager_ones_whatever_is_read_first(engines: tuple[Engine, Engine],
                                                                receipt: dict[str, Any]) -> None:
    lazy, eager = engines
    expected = eager.evaluate(receipt)
    assert expected.points_total > 0
    lines_first = lazy.evaluate(receipt)
    assert isinstance(lines_first.effects, LazyRows)
    assert lines_first.points_total == expected.points_total
    assert tuple(lines_first.lines) == tuple(expected.lines)
    assert tuple(lines_first.effects) == tuple(expected.effects)
    effects_first = lazy.evaluate(receipt)
    assert tuple(effects_first.effects) == tuple(expected.effects)
    assert tuple(effects_first.lines) == tuple(expected.lines)
    assert json.dumps(lazy.evaluate(receipt).to_dict()) == json.dumps(expected.to_dict())
    assert pickle.loads(pickle.dumps(lazy.evaluate(receipt))) == expected
    assert sum(row.points for row in lines_first.lines) == expected.points_total
