"""A window with an open end (``valid 2025-06-01 ..``, ``valid .. 2025-06-01``) compiles to a bundle that
loads: the open end is the first or last date a bundle admits (runtime/limits.py MIN_DATE, MAX_DATE).
Found by the differential test (tests/runtime/test_rt_differential.py): the compiler wrote
``date.max`` and the loader refused its own compiler's bundle (LOY404)."""

from __future__ import annotations

import pytest

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, load_bundle
from loyadsl.runtime.limits import MAX_DATE, MIN_DATE

HEADER = ('programme "P" {\n    currency RUB minor 2\n    timezone "UTC"\n}\n'
          "group g { priority 100  stacking stack_all  basis original }\n")


@pytest.mark.parametrize(("window", "dates"), [
    ("valid 2025-06-01 ..", [739403, MAX_DATE.toordinal()]),
    ("valid .. 2025-06-01", [MIN_DATE.toordinal(), 739403]),
])
def test_a_campaign_window_open_at_one_end(window: str, dates: list[int]) -> None:
    data, result = compile_text(HEADER + f"campaign c {{\n    group g\n    {window}\n    then discount 10% on lines\n}}\n")
    assert data is not None, [d.message for d in result.diagnostics]
    bundle = load_bundle(data)
    assert list(bundle.campaigns[0].footprint.dates or ()) == dates
    line = {"line_no": 1, "sku": "A", "category": "c", "qty": 1, "unit_price": 1000, "amount": 1000}
    for day, applies in (("2025-05-31", dates[0] == MIN_DATE.toordinal()), ("2025-06-02", dates[1] > 739403)):
        outcome = Engine(bundle).evaluate({"receipt_id": "R", "datetime": f"{day}T12:00:00+00:00", "store_id": "S",
                                           "lines": [line]})
        assert ("c" in outcome.applied) is applies


@pytest.mark.parametrize("valid", ["valid 2026-03-01 ..", "valid .. 2026-04-30"])
def test_chips_and_coupons_open_at_one_end(valid: str) -> None:
    text = HEADER + (f'chips stickers {{ earn 1 per 500.00 RUB  {valid}  reset never }}\n'
                     f'coupons autumn {{ code shared "AUTUMN10"  {valid} }}\n'
                     'campaign c {\n    group g\n    coupon autumn\n    then discount 10% on receipt\n}\n')
    data, result = compile_text(text)
    assert data is not None, [d.message for d in result.diagnostics]
    state = load_bundle(data).state
    assert state.counters[0].valid is not None and state.coupons[0].valid is not None
