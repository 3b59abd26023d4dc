"""External partitioning: a stable partition per customer, sorted partitions, order-independence, and
the Parquet dataset reading back exactly what the JSONL spill does."""

from __future__ import annotations

import random
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyadsl.simulate.inputs import Record
from loyadsl.simulate.partition import (
    partition,
    partition_index,
    read_partition,
    read_partition_records,
    utc_of,
    write_partitioned_parquet,
)


def receipt(rid: str, customer: str | None, when: str, **extra: Any) -> dict[str, Any]:
    return {"receipt_id": rid, "customer_id": customer, "datetime": when, "store_id": "S1",
            "lines": [{"line_no": 1, "sku": "A", "category": "x", "qty": 0.768, "unit_price": 100, "amount": 77}],
            **extra}


def history(n: int = 120, seed: int = 1) -> list[Record]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        customer = None if rng.random() < 0.2 else f"C{rng.randrange(15)}"
        offset = rng.choice(["+03:00", "+00:00", "-05:00"])
        when = f"2026-0{rng.randrange(1, 10)}-1{rng.randrange(10)}T{rng.randrange(10, 24)}:00:00{offset}"
        out.append(Record(f"f.jsonl:{i + 1}", receipt(f"R{i:04d}", customer, when)))
    return out


def test_the_partition_function_is_fixed() -> None:
    """crc32 of the key mod n: a second implementation (or another process) must agree, so pin it."""
    assert partition_index(receipt("R1", "C1", ""), 16) == zlib.crc32(b"C1") % 16 == 3
    assert partition_index(receipt("R1", "C3", ""), 16) == 15
    assert partition_index(receipt("R7", None, ""), 16) == zlib.crc32(b"R7") % 16 == 6
    assert partition_index(receipt("X1", None, "", return_of="R7"), 16) == 6  # an anonymous return meets its original
    assert partition_index(receipt("R1", "C3", ""), 16, {"C3": "C1"}) == 3  # a shared account's members together


def test_partition_files_and_sorted_contents(tmp_path: Path) -> None:
    records = history()
    paths = partition(records, 8, tmp_path / "parts")
    assert [p.name for p in paths] == [f"part-{i:05d}.spill" for i in range(8)]
    seen = []
    for index, path in enumerate(paths):
        receipts = read_partition(path)
        assert all(partition_index(r, 8) == index for r in receipts)
        keys = [(r["customer_id"] is not None, r["customer_id"] or "", _instant(r["datetime"]), r["receipt_id"])
                for r in receipts]
        assert keys == sorted(keys)
        seen += [r["receipt_id"] for r in receipts]
    assert sorted(seen) == sorted(r.receipt["receipt_id"] for r in records)
    customers = {r.receipt["customer_id"]: partition_index(r.receipt, 8) for r in records if r.receipt["customer_id"]}
    for index, path in enumerate(paths):  # each customer's whole history is in one partition
        assert {r["customer_id"] for r in read_partition(path) if r["customer_id"]} == \
            {c for c, i in customers.items() if i == index}


def _instant(text: str) -> float:
    import datetime as dt

    return dt.datetime.fromisoformat(text).timestamp()


def test_time_order_is_by_instant_not_local_clock(tmp_path: Path) -> None:
    late_local = receipt("A", "C1", "2026-03-02T10:00:00+03:00")  # 07:00 UTC
    early_local = receipt("B", "C1", "2026-03-02T08:00:00+00:00")  # 08:00 UTC
    same = receipt("C", "C1", "2026-03-02T11:00:00+03:00")  # 08:00 UTC too: the receipt id decides
    (path,) = partition([Record("f:1", same), Record("f:2", early_local), Record("f:3", late_local)], 1, tmp_path)
    assert [r["receipt_id"] for r in read_partition(path)] == ["A", "B", "C"]


def test_a_shared_account_interleaves_in_time_when_asked(tmp_path: Path) -> None:
    groups = {"C1": "shared:F", "C2": "shared:F"}
    records = [Record("f:1", receipt("A", "C1", "2026-03-03T10:00:00+03:00")),
               Record("f:2", receipt("B", "C2", "2026-03-02T10:00:00+03:00")),
               Record("f:3", receipt("C", "C1", "2026-03-01T10:00:00+03:00"))]
    paths = partition(records, 4, tmp_path, groups)
    (path,) = [p for p in paths if read_partition(p)]  # both members in one partition
    assert [r["receipt_id"] for r in read_partition(path)] == ["C", "A", "B"]
    assert [r["receipt_id"] for r in read_partition(path, groups)] == ["C", "B", "A"]


def test_utc_of_is_the_instant() -> None:
    assert utc_of(receipt("A", None, "2026-03-02T10:00:00+03:00")) == \
        utc_of(receipt("B", None, "2026-03-02T02:00:00-05:00")) == 739677 * 86400 + 7 * 3600


def test_an_empty_id_is_anonymous_and_anonymous_receipts_come_first(tmp_path: Path) -> None:
    records = [Record("f:1", receipt("A", "", "2026-03-02T10:00:00+03:00")),
               Record("f:2", receipt("B", None, "2026-03-03T10:00:00+03:00")),
               Record("f:3", receipt("C", None, "2026-03-01T10:00:00+03:00")),
               Record("f:4", receipt("D", "K1", "2026-02-01T10:00:00+03:00"))]
    (path,) = partition(records, 1, tmp_path)
    assert [r["receipt_id"] for r in read_partition(path)] == ["C", "A", "B", "D"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.randoms(use_true_random=False), st.integers(1, 9))
def test_shuffled_input_gives_identical_partitions(tmp_path_factory: pytest.TempPathFactory, rng: random.Random,
                                                   n: int) -> None:
    records = history(60, seed=7)
    shuffled = records[:]
    rng.shuffle(shuffled)
    a = partition(records, n, tmp_path_factory.mktemp("a"))
    b = partition(shuffled, n, tmp_path_factory.mktemp("b"))
    for x, y in zip(a, b, strict=True):
        assert read_partition_records(x) == read_partition_records(y)


def test_sources_survive_the_spill(tmp_path: Path) -> None:
    records = history(30)
    paths = partition(records, 3, tmp_path)
    back = {r.source: r.receipt for p in paths for r in read_partition_records(p)}
    assert back == {r.source: r.receipt for r in records}


def test_empty_partitions_and_bad_counts(tmp_path: Path) -> None:
    paths = partition([], 4, tmp_path / "empty")
    assert len(paths) == 4 and all(p.is_file() and read_partition(p) == [] for p in paths)
    with pytest.raises(ValueError, match="n_partitions must be >= 1"):
        partition([], 0, tmp_path)
    with pytest.raises(ValueError, match="n_partitions must be >= 1"):
        write_partitioned_parquet([], tmp_path, 0)


def test_parquet_dataset_reads_back_exactly(tmp_path: Path) -> None:
    records = history(200)
    records.append(Record("f:x", receipt("BIG", "C1", "2026-01-01T00:00:00+03:00", redeem={"points": "max"},
                                         coupons=["WEL-1"])))
    records[-1].receipt["lines"][0]["attrs"] = {"organic": "yes"}
    records[-1].receipt["lines"][0]["amount"] = 10**15
    jsonl = partition(records, 5, tmp_path / "jsonl")
    parquet = write_partitioned_parquet(records, tmp_path / "parquet", 5)
    assert [p.name for p in parquet] == [f"part-{i:05d}.parquet" for i in range(5)]
    for j, q in zip(jsonl, parquet, strict=True):
        assert read_partition_records(q) == read_partition_records(j)
    assert sum(len(read_partition(q)) for q in parquet) == len(records)


def test_parquet_row_groups_and_empty_partitions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow.parquet as pq

    from loyadsl.simulate import partition as module

    monkeypatch.setattr(module, "PARQUET_ROWS", 7)
    records = [Record(f"f:{i}", receipt(f"R{i}", "C1", "2026-01-01T00:00:00+03:00")) for i in range(20)]
    paths = write_partitioned_parquet(records, tmp_path, 3)
    index = partition_index(records[0].receipt, 3)
    assert pq.ParquetFile(paths[index]).metadata.num_row_groups == 3  # 7 + 7 + 6
    assert [len(read_partition(p)) for p in paths] == [20 if i == index else 0 for i in range(3)]


def test_a_spill_read_in_small_pieces_reads_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A spill is read a few MB at a time: records cut by a piece's end read as whole ones."""
    from loyadsl.simulate import partition as parts

    paths = partition(history(), 2, tmp_path / "parts")
    whole = [read_partition_records(path) for path in paths]
    monkeypatch.setattr(parts, "_SPILL_READ", 7)  # every record spans several pieces
    assert [read_partition_records(path) for path in paths] == whole
    assert sum(map(len, whole)) == 120


def test_a_spill_cut_short_is_an_error(tmp_path: Path) -> None:
    """A record cut short (a disk that failed under the run) stops the run with a coded error, never a
    partition silently short of receipts."""
    from loyadsl.simulate.errors import SimulationError

    path = partition(history(), 1, tmp_path / "parts")[0]
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(SimulationError, match="ends within a record"):
        read_partition_records(path)
