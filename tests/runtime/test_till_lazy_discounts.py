"""In a group that takes its first candidates (``first_by_priority``, ``stack_up_to``), the driver prices a
campaign's spread discounts and its cap only once it has won (runtime/driver.py, ``Pricer.settle``): the
losers' allocations over lines are never made, and the outcome is the general loop's, which prices every
candidate at once."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, load_bundle
from loyadsl.runtime import rewards as rewards_module

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the fuzz package, as tests/fuzz/test_fuzz.py has it
from fuzz.compare import general_loop

SOURCE = """programme "Lazy discounts" version "1" {
    currency RUB minor 2
    timezone "UTC"
    allocation largest_remainder
}

group first { priority 3 stacking first_by_priority basis original }
group two { priority 2 stacking stack_up_to 2 basis discounted }
group rest { priority 1 stacking stack_all basis discounted }

campaign a "A" { group first  then discount 7% on receipt }
campaign b "B" { group first  max discount 1.00 RUB per receipt  then discount 9% on lines where category "dairy" }
campaign c "C" { group first  then discount 5.00 RUB on receipt }
campaign d "D" { group two  max discount 0.50 RUB per receipt  then discount 3% on receipt  discount 10% on lines where category "dairy" }
campaign e "E" {
    group two
    then tiers receipt.payable {
        >= 100.00 RUB: discount 3.00 RUB on receipt
        >= 1.00 RUB: discount 0.01 RUB on receipt
    }
}
campaign f "F" { group two  then discount 2% on receipt }
campaign g "G" { group rest  then discount 1.00 RUB on receipt }
"""


def _receipt(amounts: list[int]) -> dict[str, Any]:
    categories = ["dairy", "tobacco", "dairy/milk", "bakery"]
    return {"receipt_id": "R1", "store_id": "S1", "datetime": "2025-03-03T12:00:00+00:00",
            "lines": [{"line_no": i + 1, "sku": f"K{i}", "category": categories[i % 4], "qty": 1,
                       "unit_price": amount, "amount": amount} for i, amount in enumerate(amounts)]}


# (amounts, (allocations the driver makes, allocations the general loop makes)): the driver allocates
# the winners' spreads and caps (A; D and its cap, E; G), the general loop every candidate's too (B's cap, C, F)
CASES = [([10_000], (5, 8)), ([12_345, 999, 50_001], (5, 8)), ([333_333, 0, 77_777, 1_000, 10], (5, 8)),
         ([1, 2, 3, 4, 5, 6, 7], (2, 3)),  # D, E and F give nothing; B's discount is under its cap
         ([0, 0], (0, 0))]


@pytest.mark.parametrize(("amounts", "allocations"), CASES)
def test_only_the_winners_are_priced(amounts: list[int], allocations: tuple[int, int], monkeypatch: pytest.MonkeyPatch) -> None:
    data, result = compile_text(SOURCE, "lazy.loya")
    assert data is not None, result.diagnostics
    lazy, eager = Engine(load_bundle(data)), general_loop(Engine(load_bundle(data)))
    calls: list[int] = []
    allocate = rewards_module.allocate

    def counting(*args: Any) -> list[int]:
        calls.append(1)
        return allocate(*args)

    monkeypatch.setattr(rewards_module, "allocate", counting)
    # and where the driver writes a reward out (jit._FastAction, a stack_all group's G), it allocates itself
    monkeypatch.setitem(lazy._drive.__globals__, "_allocate", counting)  # type: ignore[attr-defined]
    receipt = _receipt(amounts)
    expected = eager.evaluate(receipt).to_dict()
    general = len(calls)
    calls.clear()
    assert lazy.evaluate(receipt).to_dict() == expected
    assert (len(calls), general) == allocations
