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

Spill files are text, a line per receipt: a JSON header ``[utc, customer, receipt id, return_of,
source]``, a tab, and the receipt JSON. Appending a line per receipt streams with a small buffer per
partition, reads back exactly (integers of any size, the float quantities' shortest repr), and needs
no schema for the receipt's optional and union-typed parts (``attrs`` objects, ``redeem`` of a number
or ``"max"``), which Arrow IPC would have to flatten. The header is what sorting needs, so a
partition is held sorted as header and text, and each receipt is parsed only when it is replayed:
a partition in memory costs the size of its text, not five times that in Python objects. (A JSON
header never holds a raw tab: JSON escapes it.) The Parquet writer for the distributed backend
stores the same fields as columns and the receipt JSON as text, for the same reason.
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from loyadsl.runtime.model import utc_seconds

from .inputs import Record

__all__ = ["PartitionRows", "partition", "partition_index", "read_partition", "read_partition_records",
           "read_partition_rows", "sort_key", "utc_of",
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
            out.write(dumps([utc_of(receipt), receipt.get("customer_id"), receipt["receipt_id"],
                             receipt.get("return_of"), source]))
            out.write("\t")
            out.write(dumps(receipt))
            out.write("\n")
    finally:
        for out in files:
            if out is not None:
                out.close()
    for index, path in enumerate(paths):
        if files[index] is None:
            path.write_bytes(b"")  # an empty partition is still a file, so the list is complete
    return paths


class PartitionRows:
    """A partition's receipts sorted by ``sort_key``, each kept as its JSON text and parsed when
    iterated (``Record``s); ``returned`` holds the ids that some return in it refers to."""

    def __init__(self, rows: list[tuple[tuple[bool, str, int, str], str, str]], returned: set[str]) -> None:
        self.rows = rows
        self.returned = returned

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Record]:
        loads = json.loads
        for _key, source, text in self.rows:
            yield Record(source, loads(text))


def read_partition_rows(paths: str | Path | Sequence[str | Path], groups: Mapping[str, str] | None = None
                        ) -> PartitionRows:
    """A partition (JSONL spills or Parquet; several files when several readers spilled it)."""
    rows: list[tuple[tuple[bool, str, int, str], str, str]] = []
    returned: set[str] = set()
    loads = json.loads
    for path in [paths] if isinstance(paths, str | Path) else paths:
        path = Path(path)
        headers: Iterable[tuple[list[Any], str]]
        if path.suffix == ".parquet":
            headers = _parquet_rows(path)
        else:
            with open(path, encoding="utf-8") as f:
                headers = [(loads(head), text) for head, _, text in (line.partition("\t") for line in f)]
        for (utc, customer, receipt_id, return_of, source), text in headers:
            if customer is not None and groups is not None:
                customer = groups.get(customer, customer)
            rows.append(((customer is not None, customer or "", utc, receipt_id), source, text))
            if return_of is not None:
                returned.add(str(return_of))
    rows.sort(key=lambda row: row[0])
    return PartitionRows(rows, returned)


def read_partition_records(paths: str | Path | Sequence[str | Path], groups: Mapping[str, str] | None = None
                           ) -> list[Record]:
    """A partition's records, parsed, sorted by ``sort_key``."""
    return list(read_partition_rows(paths, groups))


def read_partition(path: str | Path, groups: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """A partition's receipts, sorted by (customer, UTC time, receipt id)."""
    return [record.receipt for record in read_partition_records(path, groups)]


# ---------------------------------------------------------------------------------------- Parquet


def write_partitioned_parquet(records: Iterable[Record], folder: str | Path, n_partitions: int,
                              groups: Mapping[str, str] | None = None) -> list[Path]:
    """One Parquet file per partition (``part-00000.parquet`` ...) for the distributed backend.

    Columns: ``customer_id``, ``receipt_id``, ``return_of`` (strings: the sort and the returns, and
    for inspection and filters), ``utc`` (int64), ``source`` and ``receipt`` (the receipt JSON as
    text, which reads back exactly). Rows are written
    in row groups of ``PARQUET_ROWS`` per partition, so memory is bounded by n × that buffer."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if n_partitions < 1:
        raise ValueError(f"n_partitions must be >= 1, got {n_partitions}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"part-{i:05d}.parquet" for i in range(n_partitions)]
    schema = pa.schema([("customer_id", pa.string()), ("receipt_id", pa.string()), ("utc", pa.int64()),
                        ("return_of", pa.string()), ("source", pa.string()), ("receipt", pa.string())])
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
            buffer.append((receipt.get("customer_id"), receipt["receipt_id"], utc_of(receipt), receipt.get("return_of"),
                           source, dumps(receipt)))
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


def _parquet_rows(path: Path) -> list[tuple[list[Any], str]]:
    """A Parquet partition's rows as (spill header, receipt JSON text)."""
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["utc", "customer_id", "receipt_id", "return_of", "source", "receipt"])
    columns = [table.column(name).to_pylist() for name in ("utc", "customer_id", "receipt_id", "return_of", "source")]
    return [(list(head), text) for head, text in zip(zip(*columns, strict=True), table.column("receipt").to_pylist(),
                                                     strict=True)]
