"""Inputs several simulate tests share."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any


def cj_history(path: Path, receipts: int, households: int, stores: int, spacing: tuple[int, int],
               return_every: int) -> Path:
    """Complete Journey-shaped receipts (the CJ example's mapping reads them) written to ``path``:
    ``receipts`` baskets of 1-9 lines over ``households`` customers and ``stores`` stores, receipt k on
    day k * spacing[0] // spacing[1] of 2017, and every ``return_every``-th (k % return_every == 5) one
    returned two days later, in full or its first line in part. Sorted by time."""
    rows: list[dict[str, Any]] = []
    for k in range(receipts):
        day = dt.date(2017, 1, 1) + dt.timedelta(days=k * spacing[0] // spacing[1])
        lines = [{"sku": str(1000 + j), "name": "ITEM", "category": "ROLLS", "department": "PASTRY", "brand": "National",
                  "qty": 1 + j % 2, "unit_price_minor": 99 + 350 * j + k % 7 * 100,
                  "amount_minor": (1 + j % 2) * (99 + 350 * j + k % 7 * 100)} for j in range(1 + k % 9)]
        rows.append({"receipt_id": f"B{k}", "customer_id": str(k % households),
                     "datetime": f"{day.isoformat()}T10:{k % 60:02d}:00-05:00",
                     "store_id": str(300 + k % stores), "lines": lines})
        if k % return_every == 5:
            back = day + dt.timedelta(days=2)
            rows.append({"receipt_id": f"R{k}", "customer_id": str(k % households), "return_of": f"B{k}",
                         "datetime": f"{back.isoformat()}T12:00:00-05:00", "store_id": "300",
                         "lines": [] if k % 2 else [{"line_no": 1, "qty": 1}]})
    rows.sort(key=lambda row: row["datetime"])
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path
