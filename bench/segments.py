"""What segments cost per receipt (docs/segments.md): the same stateful programme evaluated with and
without profile fields, lifecycle, a score and segments, for a customer with a year of purchase
history (a purchase every third day, in three tracked categories). Prints figures; asserts nothing.

    python bench/segments.py [--receipts 3000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from typing import Any

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, load_bundle
from loyadsl.runtime.state import CustomerState

BASE = """programme "B" { currency RUB minor 2  timezone "Europe/Moscow" }
account bonus { expiry never }
group base { priority 100  stacking stack_all  basis original }
campaign cashback { group base  then accrue 5% on receipt }
"""
SEGMENTS = """profile { birth_date date  city string }
lifecycle { new 30 days  active 90 days  sleeping 365 days }
score frequency { of receipts(365 days)  bin 1: 1 .. 5  bin 2: 6 .. 20  bin 3: 21 .. }
segment sleeping { when lifecycle.sleeping or lifecycle.churned }
segment fans { when bought(category "coffee", 90 days) >= 3 and share(category "coffee", 90 days) >= 20% }
segment no_cakes { when bought(category "cakes", 90 days) == 0 and score.frequency >= 2 }
segment locals { when customer.profile.city == "Moscow" and age(customer.profile.birth_date) >= 18 }
campaign come_back { group base  audience segment.sleeping  then discount 10% on receipt }
campaign fan_deal { group base  audience segment.fans  then discount 5% on lines where category "coffee" }
"""
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def engine(text: str) -> Engine:
    bundle, result = compile_text(text)
    assert bundle is not None, [str(d) for d in result.diagnostics]
    return Engine(load_bundle(bundle))


def customer() -> CustomerState:
    today = NOW.date().toordinal()
    days = [[today - d, 1, 50_000, 0] for d in range(364, 0, -3)]
    tracks = {f'category "{c}"': [[today - d, 1, 20_000, 0][:3] for d in range(364, 0, -3)] for c in ("coffee", "cakes")}
    return CustomerState.from_dict({"id": "C1", "city": "Moscow", "birthday": "1990-05-04", "receipts": len(days),
                                    "history": {"days": days, "tracks": tracks, "spend": 50_000 * len(days),
                                                "receipts": len(days)}})


def receipt(i: int) -> dict[str, Any]:
    return {"receipt_id": f"R{i}", "customer_id": "C1", "datetime": NOW.isoformat(), "store_id": "S1",
            "lines": [{"line_no": n, "sku": f"S{n}", "category": c, "qty": 1, "unit_price": 10_000 + n,
                       "amount": 10_000 + n} for n, c in enumerate(("coffee", "milk", "cakes", "bread"), 1)]}


def per_receipt(e: Engine, state: CustomerState, n: int) -> float:
    receipts = [receipt(i) for i in range(n)]
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for r in receipts:
            e.evaluate(r, state)
        best = min(best, time.perf_counter() - start)
    return best / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--receipts", type=int, default=3000)
    n = parser.parse_args().receipts
    state = customer()
    without = per_receipt(engine(BASE), state, n)
    with_segments = per_receipt(engine(BASE + SEGMENTS), state, n)
    size = len(json.dumps(state.to_dict()["history"]))
    print(f"stateful programme, {n:,} receipts, a customer with {len(state.history.days) if state.history else 0} "
          f"days of purchases in 2 tracked categories ({size:,} bytes of history JSON)")
    print(f"  without segments: {without:.1f} µs/receipt")
    print(f"  with 4 segments, lifecycle, a score, 2 audiences: {with_segments:.1f} µs/receipt "
          f"(+{with_segments - without:.1f} µs, {with_segments / without:.2f}x)")


if __name__ == "__main__":
    main()
