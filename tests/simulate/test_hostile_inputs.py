"""`loya simulate` and `loya diff` never print a traceback, whatever the files they are given: each
hostile input below is either quarantined record by record (exit 0, the accounting adds up) or a
coded error (its LOY code and exit code). One table of cases, one harness; files are made in
``tmp_path`` (a few are megabytes, or binary)."""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest
from typer.testing import CliRunner

from loyadsl.cli import app
from loyadsl.runtime.limits import MAX_RECEIPT_BYTES

DATA = Path(__file__).parent / "data"
PROGRAMME = DATA / "history" / "programme.loya"
GOOD = (DATA / "history" / "receipts.jsonl").read_bytes()  # 8 records: 5 good, 3 bad
CSV = (DATA / "inputs" / "receipts.csv").read_bytes()
GARBAGE = random.Random(5).randbytes(100_000)


def _parquet(path: Path) -> None:
    """Flat rows whose every column has a type the mapping does not expect."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({
        "receipt_id": [1, 2], "customer_id": [[1], [2]], "datetime": [1.5, 2.5], "store_id": [{"a": 1}, {"a": 2}],
        "sku": [b"\xff", b"x"], "category": pa.array([None, None], pa.string()), "qty": ["two", "x"],
        "unit_price": [1.5, float("nan")], "amount": [True, False]}), path)


def _parquet_nested(path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"receipt_id": ["R1"], "datetime": ["2025-01-01T00:00:00+00:00"], "store_id": ["S"],
                             "lines": pa.array([[{"line_no": "a", "sku": 1, "qty": "q", "amount": [1]}]])}), path)


def _truncated_parquet(path: Path) -> None:
    _parquet(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _bytes(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


class Case(NamedTuple):
    name: str  # the file's name: its format
    make: Callable[[Path], None]
    code: str | None  # None: read record by record (exit 0); else the error's code
    exit: int = 0
    quarantined: int | None = None  # the records quarantined, when read


CASES = [
    Case("empty.jsonl", _bytes(b""), None, quarantined=0),
    Case("empty.csv", _bytes(b""), None, quarantined=0),
    Case("empty.jsonl.gz", _bytes(gzip.compress(b"")), None, quarantined=0),
    Case("empty.parquet", _bytes(b""), "LOY600", 2),
    Case("garbage.jsonl", _bytes(GARBAGE), None),
    Case("garbage.jsonl.gz", _bytes(b"\x1f\x8b" + GARBAGE), "LOY600", 2),
    Case("garbage.csv", _bytes(GARBAGE), "LOY600", 2),  # its header is not text
    Case("garbage.parquet", _bytes(GARBAGE), "LOY600", 2),
    Case("huge-line.jsonl", _bytes(b'{"a": "' + b"x" * (MAX_RECEIPT_BYTES + 10) + b'"}\n' + GOOD), None, quarantined=4),
    Case("huge-line.csv", _bytes(CSV.split(b"\n")[0] + b'\n"' + b"x" * (MAX_RECEIPT_BYTES + 10) + b'"\n'), "LOY600", 2),
    Case("deep.jsonl", _bytes(b"[" * 100_000 + b"]" * 100_000 + b"\n" + b'{"x":' + b"[" * 900 + b"]" * 900 + b"}\n"
                              + GOOD), None, quarantined=5),
    Case("deep-attrs.jsonl", _bytes(GOOD.replace(b'"category":"food"', b'"category":"food","attrs":{"a":' + b"[" * 500
                                                 + b"]" * 500 + b"}", 1)), None, quarantined=3),  # A1's copy is used
    Case("wide.jsonl", _bytes(b'{"receipt_id": "W", "x": [' + b"[], " * 10_000 + b"[]]}\n" + GOOD), None, quarantined=4),
    Case("nul.jsonl", _bytes(GOOD.replace(b'"S1"', b'"S\x001"', 1).replace(b"{", b"\x00{", 1)), None, quarantined=3),
    Case("nul.csv", _bytes(CSV.replace(b"\n", b"\x00\n", 3)), "LOY601", 2),  # NUL in the header: no such column
    Case("nul-row.csv", _bytes(CSV.replace(b"\n", b"\x00\n", 3).replace(b"\x00\n", b"\n", 1)), None),
    Case("surrogate.jsonl", _bytes(GOOD.replace(b'"S1"', b'"\\ud800"', 1)), None, quarantined=3),
    Case("big-number.jsonl", _bytes(GOOD.replace(b'"unit_price":60000', b'"unit_price":6' + b"0" * 5000, 1)), None,
         quarantined=3),
    Case("nan.jsonl", _bytes(GOOD.replace(b'"qty":1', b'"qty":NaN', 1).replace(b'"qty":1', b'"qty":1e400', 1)), None,
         quarantined=4),
    Case("wrong-types.parquet", _parquet, None, quarantined=2),
    Case("wrong-types-nested.parquet", _parquet_nested, "LOY601", 2),  # its lines have no category
    Case("truncated.parquet", _truncated_parquet, "LOY600", 2),
    Case("truncated.jsonl.gz", _bytes(gzip.compress(GOOD * 50)[:-40]), "LOY600", 2),
    Case("truncated.csv.gz", _bytes(gzip.compress(CSV * 20)[:-30]), "LOY600", 2),
    Case("truncated.parquet.gz", lambda p: (_parquet(p), p.write_bytes(gzip.compress(p.read_bytes())[:-20])), "LOY600",
         2),
]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.output


@pytest.mark.parametrize("command", ["simulate", "diff"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_hostile_history_is_quarantined_or_a_coded_error(tmp_path: Path, case: Case, command: str) -> None:
    path = tmp_path / case.name
    case.make(path)
    programmes = [str(PROGRAMME)] * (2 if command == "diff" else 1)
    code, output = run(command, *programmes, "-r", str(path), "-f", "json")
    assert "Traceback" not in output and "LOY999" not in output
    assert code == case.exit, output
    if case.code is not None:
        assert json.loads(output)["error"]["code"] == case.code
        return
    counts = json.loads(output)["input"]
    assert counts["read"] == counts["simulated"] + counts["quarantined"] + counts["skipped"]
    if case.quarantined is not None:
        assert counts["quarantined"] == case.quarantined


@pytest.mark.parametrize(("option", "content", "code"), [
    ("--customers", GARBAGE, "LOY502"),  # a record's own code, as `loya eval` reports it (one reader)
    ("--customers", b"[" * 100_000 + b"]" * 100_000 + b"\n", "LOY502"),
    ("--customers", b'{"id": "C1", "accounts": {"bonus": {"balance": -5}}}\n', "LOY502"),
    ("--customers", gzip.compress(b'{"id": "C1"}\n' * 100, mtime=0)[:-10], "LOY608"),
    ("--map-file", GARBAGE, "LOY601"),
    ("--map-file", b"a:\n" + b"  " * 2000 + b"- [" * 2000 + b"\n", "LOY601"),
    ("--map-file", b"columns: {sku: ITEM}\x00", "LOY601"),
    ("--assert-file", GARBAGE, "LOY602"),
    ("--assert-file", b"[" * 100_000, "LOY602"),
    ("--assert-file", b"- totals.cost <= " + b"9" * 10_000 + b" RUB\n", "LOY602"),
    ("--assert-file", b"- totals.cost_shar <= 3%\n", "LOY602"),  # a typo: checked before the run
])
def test_a_hostile_side_file_is_a_coded_error(tmp_path: Path, option: str, content: bytes, code: str) -> None:
    path = tmp_path / "side.jsonl"
    path.write_bytes(content)
    exit_code, output = run("simulate", str(PROGRAMME), "-r", str(DATA / "history" / "receipts.jsonl"), option,
                            str(path), "-f", "json")
    assert "Traceback" not in output and "LOY999" not in output
    assert exit_code == 2 and json.loads(output)["error"]["code"] == code, output


def test_an_unreachable_scheduler_is_a_coded_error(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    from loyadsl.simulate import run as runner

    monkeypatch.setattr(runner, "DASK_CONNECT_SECONDS", 1)
    code, output = run("simulate", str(PROGRAMME), "-r", str(DATA / "history" / "receipts.jsonl"), "--backend", "dask",
                       "--scheduler", "tcp://127.0.0.1:9", "-f", "json")
    assert code == 2 and json.loads(output)["error"]["code"] == "LOY609"
