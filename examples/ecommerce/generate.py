"""Writes receipts.jsonl, the example history of the Nordlicht Home programme: six months of web, app
and pick-up orders with delivery, assembly service, bottle deposits charged and returned, goodwill
corrections, and a few returns. Deterministic (a fixed seed): `python examples/ecommerce/generate.py`
rewrites the same file. Prices are net of VAT, in cents; lines carry `tax_rate` where it is not the
programme's 19% (docs/commerce.md)."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
ZONE = ZoneInfo("Europe/Berlin")
SEED = 2026
RECEIPTS = 420
CUSTOMERS = [f"C{n:04d}" for n in range(1, 91)]
STAFF = CUSTOMERS[:3]  # in the segment "employees" (customers.jsonl): the staff discount, no points
# the rewards catalogue: reward, points price, weight
REWARDS = [("voucher_5", 500, 5), ("delivery_reward", 300, 3), ("tote_bag", 800, 2), ("food_bank", 200, 1)]
EARN = 25  # points a member earns per EUR of net goods, at least (3% of gross, before discounts: a safe guess)

# sku, category, net unit price (cents), tax rate (None: the programme's 19%), bottles per unit
CATALOGUE: list[tuple[str, str, int, int | None, int]] = [
    ("LAMP-ARC", "home/lighting", 8990, None, 0),
    ("LAMP-DESK", "home/lighting", 3490, None, 0),
    ("TOWEL-SET", "home/textiles", 2490, None, 0),
    ("BEDLINEN-200", "home/textiles", 5990, None, 0),
    ("CUSHION", "home/textiles", 1290, None, 0),
    ("PAN-28", "home/kitchen", 3990, None, 0),
    ("KNIFE-CHEF", "home/kitchen", 4590, None, 0),
    ("SHELF-OAK", "home/furniture", 14990, None, 0),
    ("TABLE-SIDE", "home/furniture", 8990, None, 0),
    ("COFFEE-BEANS", "pantry/coffee", 1190, 7, 0),
    ("TEA-GREEN", "pantry/tea", 490, 7, 0),
    ("WATER-6", "pantry/drinks", 354, None, 6),
    ("JUICE-APPLE", "pantry/drinks", 249, None, 1),
    ("COOKBOOK", "books", 2290, 7, 0),
]
DEPOSIT = 21  # cents net per bottle (0.25 EUR with VAT)


def _line(no: int, sku: str, category: str, qty: int, price: int, **extra: Any) -> dict[str, Any]:
    return {"line_no": no, "sku": sku, "category": category, "qty": qty, "unit_price": price,
            "amount": price * qty, **extra}


def _order(rng: random.Random, number: int, when: dt.datetime, customer: str | None,
           balance: dict[str, int]) -> dict[str, Any]:
    channel = rng.choices(["web", "app", "pos"], [50, 35, 15])[0]
    lines: list[dict[str, Any]] = []
    bottles = 0
    furniture = False
    for item in rng.sample(CATALOGUE, rng.randint(1, 5)):
        sku, category, price, rate, per_unit = item
        qty = rng.choice([1, 1, 1, 2, 3]) if not per_unit else rng.choice([1, 2, 4])
        extra = {} if rate is None else {"tax_rate": rate}
        lines.append(_line(len(lines) + 1, sku, category, qty, price, **extra))
        bottles += per_unit * qty
        furniture = furniture or category == "home/furniture"
    if bottles:
        lines.append(_line(len(lines) + 1, "DEPOSIT", "deposit", bottles, DEPOSIT, kind="deposit"))
        if rng.random() < 0.4:
            back = rng.randint(1, 12)
            lines.append(_line(len(lines) + 1, "DEPOSIT-RETURN", "deposit", back, -DEPOSIT, kind="deposit"))
    if furniture and rng.random() < 0.5:
        lines.append(_line(len(lines) + 1, "ASSEMBLY", "services/assembly", 1, 2900, kind="service"))
    if channel != "pos":
        ship = ("SHIP-BULKY", 2490) if furniture else ("SHIP-STD", 490)
        lines.append(_line(len(lines) + 1, ship[0], "delivery", 1, ship[1], kind="delivery"))
    goods = sum(line["amount"] for line in lines if "kind" not in line)
    if rng.random() < 0.04 and goods > 2000:
        lines.append(_line(len(lines) + 1, "GOODWILL", "correction", 1, -500, kind="correction"))
    order = {"receipt_id": f"N{number:06d}", "customer_id": customer, "datetime": when.isoformat(),
             "store_id": "BER-WEB" if channel != "pos" else "BER-01", "channel": channel, "lines": lines}
    if customer is None or customer in STAFF:
        return order
    if when.month >= 3 and rng.random() < 0.15:
        order["redeem"] = {"points": "max"}  # pays up to 30% with the points earned so far
        balance[customer] = 0
    elif when.month >= 2 and rng.random() < 0.3:
        _choose_reward(rng, order, balance, customer, goods)
    balance[customer] = balance.get(customer, 0) + goods * EARN // 1000  # cents: 2.5% of net goods
    return order


def _choose_reward(rng: random.Random, order: dict[str, Any], balance: dict[str, int], customer: str,
                   goods: int) -> None:
    """A member who has surely earned enough picks a reward from the catalogue (free delivery only on
    an online order under the free-delivery threshold)."""
    online_small = order["channel"] != "pos" and goods * 119 // 100 < 5900
    offers = [(name, price, weight) for name, price, weight in REWARDS
              if balance.get(customer, 0) >= price + 200 and (name != "delivery_reward" or online_small)]
    if offers:
        name, price, _ = rng.choices(offers, [weight for _, _, weight in offers])[0]
        order["rewards"] = [name]
        balance[customer] -= price


def _return(rng: random.Random, number: int, sale: dict[str, Any]) -> dict[str, Any]:
    when = dt.datetime.fromisoformat(sale["datetime"]) + dt.timedelta(days=rng.randint(2, 12))
    if rng.random() < 0.5:  # everything back
        lines: list[dict[str, Any]] = []
    else:
        line = rng.choice(sale["lines"])
        lines = [{"line_no": line["line_no"], "qty": 1}]
    return {"receipt_id": f"N{number:06d}", "customer_id": sale["customer_id"], "datetime": when.isoformat(),
            "store_id": sale["store_id"], "return_of": sale["receipt_id"], "lines": lines}


def history() -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    start = dt.datetime(2026, 1, 5, tzinfo=ZONE)
    moments = []
    for number in range(1, RECEIPTS + 1):
        day = start + dt.timedelta(days=rng.randint(0, 170))
        when = day.replace(hour=rng.randint(7, 22), minute=rng.randint(0, 59))
        customer = None if rng.random() < 0.12 else rng.choice(CUSTOMERS)
        moments.append((when, number, customer))
    balance: dict[str, int] = {}  # what each member has surely earned so far, in points
    sales = [_order(rng, number, when, customer, balance) for when, number, customer in sorted(moments)]
    sales.sort(key=lambda r: (dt.datetime.fromisoformat(r["datetime"]), r["receipt_id"]))
    candidates = [s for s in sales if s["customer_id"] is not None
                  and dt.datetime.fromisoformat(s["datetime"]) < dt.datetime(2026, 6, 1, tzinfo=ZONE)]
    returns = [_return(rng, RECEIPTS + i + 1, sale) for i, sale in enumerate(rng.sample(candidates, 10))]
    out = sales + returns
    out.sort(key=lambda r: (dt.datetime.fromisoformat(r["datetime"]), r["receipt_id"]))
    return out


def customers() -> list[dict[str, Any]]:
    """The members' states before the history: the staff, in their segment."""
    return [{"id": customer, "segments": ["employees"]} for customer in STAFF]


def main() -> None:
    with (HERE / "receipts.jsonl").open("w", encoding="utf-8") as f:
        for record in history():
            f.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
    with (HERE / "customers.jsonl").open("w", encoding="utf-8") as f:
        for record in customers():
            f.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
