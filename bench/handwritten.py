"""The six mechanics of shared/bench/MECHANICS.md, hand-written in idiomatic pure Python.

This is the yardstick the compiled programme is timed against: straightforward code a competent
engineer would write for exactly these six rules, with the parameters baked in at set-up.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

MSK = ZoneInfo("Europe/Moscow")


class SixMechanics:
    def __init__(self, params: dict[str, Any]) -> None:
        self.c_skus = frozenset(params["c_skus"])
        self.e_stores = frozenset(params["e_stores"])
        self.e_brand = params["e_brand"]

    def evaluate(self, r: dict[str, Any]) -> dict[str, Any]:
        lines = r["lines"]
        total = 0
        not_tobacco = 0
        dairy = 0
        brand = 0
        coffee = 0
        c_units: list[tuple[int, int, int]] = []
        croissants: list[tuple[int, int, int]] = []
        for line in lines:
            amount = line["amount"]
            category = line["category"]
            top = category.split("/", 1)[0]
            total += amount
            if top != "tobacco":
                not_tobacco += amount
            if top == "dairy":
                dairy += amount * 10 // 100
            if line["brand"] == self.e_brand:
                brand += amount
            if line["sku"] in self.c_skus:
                c_units.append((-line["unit_price"], line["line_no"], int(line["qty"])))
            if category == "cafe/coffee":
                coffee += int(line["qty"])
            elif category == "cafe/croissant":
                croissants.append((line["unit_price"], line["line_no"], int(line["qty"])))

        a = not_tobacco * 3 // 10000

        local = dt.datetime.fromisoformat(r["datetime"]).astimezone(MSK)
        b = dairy if local.weekday() < 5 and 10 <= local.hour < 16 and total >= 100000 else 0

        c = 0
        position = 0
        for neg_price, _, qty in sorted(c_units):
            free = (position + qty) // 3 - position // 3
            c -= neg_price * free
            position += qty

        d = 50000 if total >= 500000 else 20000 if total >= 250000 else 0
        d_alloc = [0] * len(lines)
        if d:
            largest = 0
            for i, line in enumerate(lines):
                d_alloc[i] = d * line["amount"] // total
                if line["amount"] > lines[largest]["amount"]:
                    largest = i
            d_alloc[largest] += d - sum(d_alloc)

        e = brand * 12 // 10000 if r["store_id"] in self.e_stores else 0

        f = 0
        pairs = min(coffee, sum(q for _, _, q in croissants))
        for price, _, qty in sorted(croissants):
            if pairs <= 0:
                break
            used = min(pairs, qty)
            f += used * (price * 50 // 100)
            pairs -= used

        return {"a": a, "b": b, "c": c, "d": d, "d_alloc": d_alloc, "e": e, "f": f}
