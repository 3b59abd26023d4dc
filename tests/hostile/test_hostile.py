"""Hostile receipts and customer records, as data: each line of ``receipts.jsonl`` and
``customers.jsonl`` is one case (what to set on a valid input, the code and the place expected).
``Receipt.from_dict``, ``Engine.evaluate`` (the supermarket example), the customer reader and
``loya eval`` must refuse each with that code and place: never another exception, never a
message that cannot be printed. Big values are written short: ``{"$repeat": [text or list, n]}``,
``{"$key": [key, value]}``, ``{"$attrs": n}``, ``{"$lines": n, field: value...}``, ``{"$delete": true}``."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from loyadsl.api import compile_file
from loyadsl.runtime import Engine, LoyaError, Receipt, load_bundle
from loyadsl.runtime.state import CustomerState, read_customer, read_customers

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
LINE = {"line_no": 1, "sku": "SKU1", "category": "dairy/milk", "brand": "BR1", "qty": 1, "unit_price": 100,
        "amount": 100}
BASE = {"receipt_id": "R1", "customer_id": "C1", "datetime": "2025-03-05T12:00:00+03:00", "store_id": "S001",
        "lines": [LINE]}
_DELETE = object()


def _cases(name: str) -> list[dict[str, Any]]:
    lines = (HERE / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _expand(value: Any) -> Any:
    if isinstance(value, list):
        return [_expand(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "$repeat" in value:
        item, times = value["$repeat"]
        return item * times
    if "$key" in value:
        key, item = _expand(value["$key"])
        return {key: item}
    if "$attrs" in value:
        return {f"k{i}": "v" for i in range(value["$attrs"])}
    if "$lines" in value:
        extra = {k: v for k, v in value.items() if k != "$lines"}
        return [dict(LINE, line_no=i + 1, **extra) for i in range(value["$lines"])]
    if "$delete" in value:
        return _DELETE
    return {k: _expand(v) for k, v in value.items()}


def _build(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(base)
    for path, raw in changes.items():
        *head, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        holder: Any = data
        for part in head:
            holder = holder[part]
        value = _expand(raw)
        if value is _DELETE:
            del holder[last]
        else:
            holder[last] = value
    return data


RECEIPTS = _cases("receipts.jsonl")
CUSTOMERS = _cases("customers.jsonl")


@pytest.fixture(scope="module")
def engine() -> Engine:
    data, result = compile_file(ROOT / "examples" / "supermarket" / "programme.loya")
    assert data is not None, result.diagnostics
    return Engine(load_bundle(data))


def _refused(call: Any, code: str, where: str) -> LoyaError:
    with pytest.raises(LoyaError) as info:
        call()
    exc = info.value
    assert (exc.code, exc.where) == (code, where), exc.message
    assert exc.message.startswith(where) and len(exc.message) < 400
    exc.message.encode("utf-8")  # printable: no lone surrogate reaches a message
    return exc


def test_the_base_inputs_are_valid(engine: Engine) -> None:
    assert engine.evaluate(copy.deepcopy(BASE)).total == 100
    assert engine.evaluate(copy.deepcopy(BASE), {"id": "C1"}).total == 100


@pytest.mark.parametrize("case", RECEIPTS, ids=[c["case"] for c in RECEIPTS])
def test_hostile_receipts_are_refused_with_code_and_place(case: dict[str, Any], engine: Engine) -> None:
    receipt = _build(BASE, case["set"])
    if case.get("via") != "evaluate":
        _refused(lambda: Receipt.from_dict(copy.deepcopy(receipt)), case["code"], case["where"])
    _refused(lambda: engine.evaluate(receipt), case["code"], case["where"])


@pytest.mark.parametrize("case", CUSTOMERS, ids=[c["case"] for c in CUSTOMERS])
def test_hostile_customers_are_refused_with_code_and_place(case: dict[str, Any], engine: Engine) -> None:
    customer = _build({}, {"x": case["customer"]})["x"]
    _refused(lambda: CustomerState.from_dict(customer), case["code"], case["where"])
    _refused(lambda: engine.evaluate(copy.deepcopy(BASE), customer), case["code"], case["where"])
    text = json.dumps(customer)
    _refused(lambda: read_customer(text, "c.jsonl:3"), case["code"], f"c.jsonl:3: {case['where']}")


RAW = [  # (JSON text of a line, code): what only a JSON reader sees
    (b"\xff\xfe{}", "LOY501"),
    (b"[" * 100 + b"]" * 100, "LOY501"),
    (b'{"receipt_id": 1' + b"0" * 5000 + b"}", "LOY501"),
    (b'{"receipt_id": "R1",', "LOY501"),
    (b"NaN", "LOY501"),
]


def _loya(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "loyadsl.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, check=False)


def test_loya_eval_reports_every_bad_line_and_evaluates_the_rest(tmp_path: Path) -> None:
    lines = [json.dumps(BASE).encode()]
    expected = []
    for case in RECEIPTS:
        lines.append(json.dumps(_build(BASE, case["set"])).encode())
        expected.append((len(lines), case["code"]))
    for text, code in RAW:
        lines.append(text)
        expected.append((len(lines), code))
    receipts = tmp_path / "hostile.jsonl"
    receipts.write_bytes(b"\n".join(lines) + b"\n")
    result = _loya("eval", ROOT / "examples" / "supermarket" / "programme.loya", receipts, "--format", "json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    # a return (`return_of`) of a receipt not in the run is skipped; one without an original's id is refused,
    # by the rules `loya simulate` applies to it (LOY501)
    skipped = sum(1 for c in RECEIPTS if c["set"].get("return_of"))
    assert len(report["outcomes"]) == 1 and report["returns_skipped"] == skipped
    got = [(int(p["where"].rsplit(":", 1)[1]), p["code"]) for p in report["problems"]]
    refused = {n for n, case in enumerate(RECEIPTS, 2) if "return_of" in case["set"] and not case["set"]["return_of"]}
    assert got == [(n, "LOY501" if n in refused else code) for n, code in expected
                   if code != "LOY506" or n in refused]


def test_a_bad_customers_line_is_refused_with_file_and_line(tmp_path: Path) -> None:
    good = json.dumps({"id": "C1"}).encode()
    for case in CUSTOMERS:
        bad = json.dumps(_build({}, {"x": case["customer"]})["x"]).encode()
        people = tmp_path / "customers.jsonl"
        people.write_bytes(good + b"\n\n" + bad + b"\n")
        problems: list[LoyaError] = []
        with people.open("rb") as f:
            states = read_customers(f, "customers.jsonl", problems)
        assert list(states) == ["C1"] and [(p.code, p.where) for p in problems] == \
            [(case["code"], f"customers.jsonl:3: {case['where']}")]
    for text in (b"\xff", b"[" * 100 + b"]" * 100, b'{"id": 1' + b"0" * 5000 + b"}", b"{}", good):
        people.write_bytes(good + b"\n" + text + b"\n")
        problems = []
        with people.open("rb") as f:
            read_customers(f, "customers.jsonl", problems)
        assert [p.code for p in problems] == ["LOY502"] and problems[0].where.startswith("customers.jsonl:2")
    result = _loya("eval", ROOT / "examples" / "supermarket" / "programme.loya", tmp_path / "none.json",
                   "--customers", people, "--format", "json")
    assert result.returncode == 2 and json.loads(result.stdout)["error"]["code"] == "LOY502"


@pytest.mark.parametrize(("qty", "price", "amount", "accepted"), [
    (1, 100, 101, True), (1, 100, 102, False),  # one unit: 1 + 0.5 minor units of slack
    (3, 33, 100, True), (2, 100, 150, False),  # 100 / 3 rounded is a fair unit price; a discount is not
    (10, 100, 1006, True), (10, 100, 1007, False),  # 1 + 10 / 2 = 6
    (0.5, 999, 500, True), (0.5, 999, 499, True), (0.5, 999, 498, False),  # 499.5 ± 1.25
    (1000, 1, 1501, True), (1000, 1, 1502, False), (1000, 2, 1499, True),  # large counts, cheap units
])
def test_the_amount_rule_at_its_bounds(qty: float, price: int, amount: int, accepted: bool) -> None:
    receipt = _build(BASE, {"lines.0.qty": qty, "lines.0.unit_price": price, "lines.0.amount": amount})
    if accepted:
        assert Receipt.from_dict(receipt).lines[0].amount == amount
    else:
        _refused(lambda: Receipt.from_dict(receipt), "LOY505", "lines[0].amount")
