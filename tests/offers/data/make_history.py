"""Writes history.jsonl and customers.jsonl: a small synthetic shop (2025-03-01 to 2025-06-20, USD)
whose customers each show one pattern the stdlib strategies look for. Deterministic (random.Random(14));
run it again only to change the fixture, then review the golden files it changes.

    R1-R8  regulars: coffee weekly, milk and bread every few days, cheese often
    X1-X6  like the regulars but never cheese: cross-sell candidates
    L1-L6  spent a lot weekly until April, then stopped: win-back candidates
    T1-T4  spent about 1,400 USD this quarter: 100 USD short of silver (1,500 USD)
    B1-B4  occasional customers whose birthdays (customers.jsonl) fall in the week after 2025-06-20
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

HERE = Path(__file__).parent
START, END = dt.date(2025, 3, 1), dt.date(2025, 6, 20)
PRICES = {"COFFEE": 899, "MILK": 189, "BREAD": 249, "CHEESE": 459, "EGGS": 299, "TEA": 399, "WINE": 1299}


def visit_days(rng: random.Random, every: int, start: dt.date, end: dt.date) -> list[dt.date]:
    day, out = start + dt.timedelta(days=rng.randrange(every)), []
    while day <= end:
        out.append(day)
        day += dt.timedelta(days=max(1, every + rng.choice((-1, 0, 0, 1))))
    return out


def baskets(rng: random.Random) -> list[tuple[str, dt.date, dict[str, int]]]:
    out: list[tuple[str, dt.date, dict[str, int]]] = []
    for kind, n in (("R", 8), ("X", 6)):
        for i in range(1, n + 1):
            cid = f"{kind}{i}"
            for d in visit_days(rng, 3, START, END):
                cats = {"MILK": 1, "BREAD": 1}
                if (d - START).days % 7 < 3:
                    cats["COFFEE"] = 1
                if kind == "R" and rng.random() < 0.6:
                    cats["CHEESE"] = 1
                if rng.random() < 0.3:
                    cats["EGGS"] = 1
                out.append((cid, d, cats))
    for i in range(1, 7):
        for d in visit_days(rng, 7, START, dt.date(2025, 4, 10)):
            out.append((f"L{i}", d, {"WINE": 12, "CHEESE": 4, "COFFEE": 2}))
    for i in range(1, 5):
        for d in visit_days(rng, 10, START, END):
            wine = 14 if d >= dt.date(2025, 4, 1) else 3
            out.append((f"T{i}", d, {"WINE": wine, "TEA": 1}))
    for i in range(1, 5):
        for d in visit_days(rng, 14, START, END):
            out.append((f"B{i}", d, {"TEA": 1, "EGGS": 1}))
    return sorted(out, key=lambda b: (b[1], b[0]))


def main() -> None:
    rng = random.Random(14)
    lines = []
    for n, (cid, day, cats) in enumerate(baskets(rng), start=1):
        when = dt.datetime.combine(day, dt.time(10 + n % 9, n % 60), dt.UTC)
        items = [{"line_no": k, "sku": f"{cat}-1", "category": cat, "qty": qty, "unit_price": PRICES[cat],
                  "amount": PRICES[cat] * qty} for k, (cat, qty) in enumerate(sorted(cats.items()), start=1)]
        lines.append(json.dumps({"receipt_id": f"S{n:05d}", "customer_id": cid, "datetime": when.isoformat(),
                                 "store_id": "S1", "currency": "USD", "lines": items}))
    (HERE / "history.jsonl").write_text("\n".join(lines) + "\n")
    states = [{"id": f"B{i}", "birthday": f"19{80 + i}-06-{21 + i:02d}"} for i in range(1, 5)]
    states += [{"id": "R1", "birthday": "1990-01-15"}]
    (HERE / "customers.jsonl").write_text("\n".join(json.dumps(s) for s in states) + "\n")


if __name__ == "__main__":
    main()
