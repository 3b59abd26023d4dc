"""External partitioning: unsorted history into per-customer partitions (docs/simulate.md, "Order").

Valid receipts are spilled into ``n`` files by a stable hash of the customer id, so each customer's
whole history lands in one partition; a partition is then sorted in memory by (customer, UTC time,
receipt id). Memory is bounded by the largest partition, not the whole history, and the partition of
a receipt depends only on its customer and ``n`` (never on the number of workers), which is what
makes the replay's result independent of how it is run.

Partition of a receipt: ``zlib.crc32(key.encode("utf-8")) % n`` where ``key`` is, in order: the
group of its customer when ``groups`` gives one (a shared account: all members together), the
customer id, or for an anonymous receipt the receipt it returns (``return_of``, so a return meets its
original) or its own id. CRC-32 rather than Python's ``hash()``, which is salted per process.

Spill files are JSONL, one ``[utc, source, receipt]`` array a line: appending a line per receipt
streams with a small buffer per partition, reads back exactly (integers of any size, the float
quantities' shortest repr), and needs no schema for the receipt's optional and union-typed parts
(``attrs`` objects, ``redeem`` of a number or ``"max"``), which Arrow IPC would have to flatten. The
Parquet writer for the distributed backend stores the same JSON text in a column, for the same reason.
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from loyadsl.runtime.model import utc_seconds

from .inputs import Record

__all__ = ["partition", "partition_index", "read_partition", "read_partition_records", "sort_key", "utc_of",
           "write_partitioned_parquet"]

PARQUET_ROWS = 8192  # rows buffered per partition before a Parquet row group is written
_SPILL_BUFFER = 1 << 16


def partition_index(receipt: dict[str, Any], n_partitions: int, groups: Mapping[str, str] | None = None) -> int:
    """The partition (0 .. n-1) of a receipt; see the module docstring for the key."""
    customer = receipt.get("customer_id")
    if customer is not None:
        key = groups.get(customer, customer) if groups is not None else customer
    else:
        key = receipt.get("return_of") or receipt["receipt_id"]
    return zlib.crc32(key.encode("utf-8")) % n_partitions


def sort_key(receipt: dict[str, Any], utc: int, groups: Mapping[str, str] | None = None) -> tuple[bool, str, int, str]:
    """Order within a partition: customer (anonymous first), UTC instant, receipt id. With ``groups``,
    a group (a shared account) takes the customer's place, so its members' receipts interleave in time."""
    customer = receipt.get("customer_id")
    if customer is not None and groups is not None:
        customer = groups.get(customer, customer)
    return (customer is not None, customer or "", utc, receipt["receipt_id"])


def utc_of(receipt: dict[str, Any]) -> int:
    """Seconds since 0001-01-01 UTC: the instant, whatever offset the receipt was written in."""
    return utc_seconds(dt.datetime.fromisoformat(receipt["datetime"]))


def partition(records: Iterable[Record], n_partitions: int, folder: str | Path,
              groups: Mapping[str, str] | None = None, prefix: str = "part") -> list[Path]:
    """Spill valid records into ``n_partitions`` JSONL files in ``folder`` (created if needed, files
    overwritten); returns the ``n_partitions`` paths, index = partition, empty partitions included.
    ``prefix`` names the files, so that several readers can spill into one folder."""
    if n_partitions < 1:
        raise ValueError(f"n_partitions must be >= 1, got {n_partitions}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{prefix}-{i:05d}.jsonl" for i in range(n_partitions)]
    files: list[IO[str] | None] = [None] * n_partitions
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    try:
        for source, receipt in records:
            index = partition_index(receipt, n_partitions, groups)
            out = files[index]
            if out is None:
                # one file per partition stays open while spilling; all are closed below
                out = files[index] = open(paths[index], "w", encoding="utf-8", buffering=_SPILL_BUFFER)  # noqa: SIM115
            out.write(dumps([utc_of(receipt), source, receipt]))
            out.write("\n")
    finally:
        for out in files:
            if out is not None:
                out.close()
    for index, path in enumerate(paths):
        if files[index] is None:
            path.write_bytes(b"")  # an empty partition is still a file, so the list is complete
    return paths


def read_partition_records(paths: str | Path | Sequence[str | Path], groups: Mapping[str, str] | None = None
                           ) -> list[Record]:
    """A partition's records (JSONL spills or Parquet; several files when it was spilled by several
    readers), sorted by ``sort_key``."""
    rows: list[list[Any]] = []
    for path in [paths] if isinstance(paths, str | Path) else paths:
        path = Path(path)
        if path.suffix == ".parquet":
            rows += _parquet_rows(path)
        else:
            with open(path, encoding="utf-8") as f:
                rows += [json.loads(line) for line in f]
    rows.sort(key=lambda row: sort_key(row[2], row[0], groups))
    return [Record(source, receipt) for _utc_, source, receipt in rows]


def read_partition(path: str | Path, groups: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """A partition's receipts, sorted by (customer, UTC time, receipt id)."""
    return [record.receipt for record in read_partition_records(path, groups)]


# ---------------------------------------------------------------------------------------- Parquet


def write_partitioned_parquet(records: Iterable[Record], folder: str | Path, n_partitions: int,
                              groups: Mapping[str, str] | None = None) -> list[Path]:
    """One Parquet file per partition (``part-00000.parquet`` ...) for the distributed backend.

    Columns: ``customer_id``, ``receipt_id`` (strings, for inspection and filters), ``utc`` (int64),
    ``source`` and ``receipt`` (the receipt JSON as text, which reads back exactly). Rows are written
    in row groups of ``PARQUET_ROWS`` per partition, so memory is bounded by n × that buffer."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if n_partitions < 1:
        raise ValueError(f"n_partitions must be >= 1, got {n_partitions}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"part-{i:05d}.parquet" for i in range(n_partitions)]
    schema = pa.schema([("customer_id", pa.string()), ("receipt_id", pa.string()), ("utc", pa.int64()),
                        ("source", pa.string()), ("receipt", pa.string())])
    buffers: list[list[tuple[Any, ...]]] = [[] for _ in range(n_partitions)]
    writers: list[Any] = [None] * n_partitions
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def flush(index: int) -> None:
        rows = buffers[index]
        if writers[index] is None:
            writers[index] = pq.ParquetWriter(paths[index], schema)
        columns: list[Any] = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
        arrays = [pa.array(column, field.type) for column, field in zip(columns, schema, strict=True)]
        writers[index].write_table(pa.Table.from_arrays(arrays, schema=schema))
        buffers[index] = []

    try:
        for source, receipt in records:
            index = partition_index(receipt, n_partitions, groups)
            buffer = buffers[index]
            buffer.append((receipt.get("customer_id"), receipt["receipt_id"], utc_of(receipt), source, dumps(receipt)))
            if len(buffer) >= PARQUET_ROWS:
                flush(index)
        for index in range(n_partitions):
            if buffers[index] or writers[index] is None:
                flush(index)
    finally:
        for writer in writers:
            if writer is not None:
                writer.close()
    return paths


def _parquet_rows(path: Path) -> list[list[Any]]:
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["utc", "source", "receipt"])
    loads = json.loads
    return [[utc, source, loads(text)] for utc, source, text in
            zip(table.column("utc").to_pylist(), table.column("source").to_pylist(),
                table.column("receipt").to_pylist(), strict=True)]
