"""`loya simulate` returns anonymous receipts as the processing server does: in parts and in full,
each line paid back once (the receipt's return record), a return of a customer's receipt made without
the customer still refused (LOY607)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from loyadsl.api import compile_file
from loyadsl.simulate.run import Simulation

HERE = Path(__file__).parent
SALE = {"receipt_id": "A1", "customer_id": None, "datetime": "2026-03-01T12:00:00+03:00", "store_id": "S1", "lines": [
    {"line_no": 1, "sku": "A", "category": "food", "qty": 2, "unit_price": 10000, "amount": 20000},
    {"line_no": 2, "sku": "B", "category": "food", "qty": 1, "unit_price": 5000, "amount": 5000}]}


def _return(rid: str, of: str, when: str, lines: list[dict[str, Any]] | None = None,
            customer: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"receipt_id": rid, "customer_id": customer, "datetime": when, "store_id": "S1",
                            "return_of": of}
    return body if lines is None else {**body, "lines": lines}


def test_simulate_returns_an_anonymous_receipt_in_parts(tmp_path: Path) -> None:
    history = [SALE, {**SALE, "receipt_id": "C1-1", "customer_id": "C1"},
               _return("RET1", "A1", "2026-03-02T12:00:00+03:00", [{"line_no": 1, "qty": 1}]),
               _return("RET2", "A1", "2026-03-02T13:00:00+03:00"),
               _return("RET3", "A1", "2026-03-02T14:00:00+03:00"),  # nothing left: quarantined
               _return("RET4", "C1-1", "2026-03-02T15:00:00+03:00")]  # a customer's receipt, returned anonymously
    receipts = tmp_path / "receipts.jsonl"
    receipts.write_text("".join(json.dumps(r) + "\n" for r in history), encoding="utf-8")
    bundle, result = compile_file(HERE / "programme.loya")
    assert bundle is not None, result.diagnostics
    quarantine = tmp_path / "quarantine.jsonl"
    report = Simulation(bundle, [receipts], quarantine=quarantine).run()
    assert (report["totals"]["returns"], report["totals"]["refunded"]) == (2, 9000 + 13500)
    codes = {json.loads(line)["record"]["receipt_id"]: json.loads(line)["code"]
             for line in quarantine.read_text(encoding="utf-8").splitlines()}
    assert codes == {"RET3": "LOY503", "RET4": "LOY607"}
