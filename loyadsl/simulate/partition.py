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

Spill files are binary: a record per receipt, two lengths (``<II``) then its header, ``marshal`` of
``(utc, customer, receipt id, return_of, source)``, then its payload. The lengths let a spill be read
256 KiB at a time and cut in memory (``marshal.load`` of a file object reads it value by value,
a method call each). The header is what sorting needs; the payload (``pack``) is decoded only when
the receipt is replayed, so a partition in memory costs about the size of its bytes, not five times
that in Python objects. The payload is msgpack: a tag byte and a length, the ``Receipt``'s slots
and its lines' fields when the reader validated it (``receipt_fields``), from which the replay sets
the ``Receipt`` up as it was instead of validating the JSON again (``receipt_of``;
tests/simulate/test_spill.py checks the two give the same receipt), then the receipt JSON (what the
quarantine shows if the replay refuses it, and a return's fields), left encoded by ``unpack`` until
it is needed (``receipt_json``). A payload with an integer past msgpack's 64 bits is marshal instead. ``marshal`` for the headers
rather than JSON or pickle: it writes and reads integers of any size, floats, strings, tuples and
dicts exactly, several times faster than either, and these files are written and read by one run of
one installation (format version 4, stable since Python 3.4, for a dask worker on another
interpreter). The Parquet writer for the distributed
backend stores the same header fields as columns and the payload as binary.
"""

from __future__ import annotations

import datetime as dt
import itertools
import marshal
import operator
import struct
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Final

import msgspec

from loyadsl.runtime.model import Line, Receipt, _mix, utc_seconds

from .errors import SimulationError
from .inputs import Record

__all__ = ["PartitionRows", "pack", "partition", "partition_index", "read_partition", "read_partition_records",
           "read_partition_rows", "receipt_fields", "receipt_json", "receipt_of", "record_utc", "sort_key", "unpack", "utc_of",
           "write_partitioned_parquet"]

PARQUET_ROWS = 8192  # rows buffered per partition before a Parquet row group is written
MARSHAL_VERSION = 4
_line_fields = msgspec.structs.astuple
_ATTRS = Line.__struct_fields__.index("attrs")  # where a line's attrs are in its fields
_LINES: Final = 15  # where ``receipt_fields`` puts the lines' fields
_msgpack = msgspec.msgpack.Encoder().encode
_unmsgpack = msgspec.msgpack.Decoder().decode


class _SpillLine(Line, array_like=True):
    """A ``Line`` as ``receipt_fields`` writes it (all its fields in order, ``qty`` in thousandths,
    ``tax_rate`` in ppm): decoded straight from the payload in C, no ``Line(*fields)`` call per line.
    Its types are what the decoder made, not the receipt JSON's: the receipt was validated when read."""

    qty: int
    price: int
    amount: int
    brand: str
    min_price: int | None = None
    attrs: dict[str, str] = msgspec.field(default_factory=dict)
    floor: int = 0
    index: int = 0
    kind: str | None = None
    tax_rate: int | None = None


_Fields = tuple[str, str | None, str, int, str, str, str | None, tuple[str, ...], int | str | None,
                tuple[tuple[str, int | None], ...], bool, int, int, bool, bool, tuple[_SpillLine, ...],
                tuple[str, ...], tuple[str | None] | None]
_unpack_fields = msgspec.msgpack.Decoder(_Fields | None).decode  # receipt_fields, typed: its lines made in C
_MSGPACK_TAG = 0  # a payload's first byte when it is msgpack (a marshal tuple starts with 0x28, 0x29, 0xa8, 0xa9)
_MSGPACK_HEAD = struct.Struct("<BI")  # the tag and the fields' length in bytes
_new_receipt = object.__new__
_fromisoformat = dt.datetime.fromisoformat
_starmap = itertools.starmap
_by_key = operator.itemgetter(0)
_SPILL_BUFFER = 1 << 16
_SPILL_READ = 1 << 18  # bytes of a spill read at a time
_SPILL_HEAD = struct.Struct("<II")  # a spill record's lengths: its marshalled header, its payload
_Key = tuple[bool, str, int, str]


def partition_index(receipt: dict[str, Any], n_partitions: int, groups: Mapping[str, str] | None = None) -> int:
    """The partition (0 .. n-1) of a receipt; see the module docstring for the key."""
    customer = receipt.get("customer_id") or None  # "": no card
    if customer is not None:
        key = groups.get(customer, customer) if groups is not None else customer
    else:
        key = receipt.get("return_of") or receipt["receipt_id"]
    return zlib.crc32(key.encode("utf-8")) % n_partitions


def sort_key(receipt: dict[str, Any], utc: int, groups: Mapping[str, str] | None = None) -> tuple[bool, str, int, str]:
    """Order within a partition: customer (anonymous first), UTC instant, receipt id. With ``groups``,
    a group (a shared account) takes the customer's place, so its members' receipts interleave in time."""
    customer = receipt.get("customer_id") or None  # "": no card
    if customer is not None and groups is not None:
        customer = groups.get(customer, customer)
    return (customer is not None, customer or "", utc, receipt["receipt_id"])


def utc_of(receipt: dict[str, Any]) -> int:
    """Seconds since 0001-01-01 UTC: the instant, whatever offset the receipt was written in."""
    return utc_seconds(dt.datetime.fromisoformat(receipt["datetime"]))


def record_utc(record: Record) -> int:
    """``utc_of`` the record's receipt, from its validated ``Receipt`` when the reader made one."""
    return record.parsed.utc if record.parsed is not None else utc_of(record.receipt)


# ------------------------------------------------------------------------------------------ payload


def receipt_fields(receipt: Receipt) -> tuple[Any, ...]:
    """A validated receipt as plain values (``marshal`` writes them), from which ``receipt_of``
    rebuilds it: every slot (the time as text), each line as all its fields in order, and the receipt's
    tax setting (in a list; None: the receipt has no mix), from which its mix of line kinds and tax is
    made again (docs/commerce.md)."""
    mix = receipt.mix
    return (receipt.receipt_id, receipt.customer_id, receipt.datetime.isoformat(), receipt.utc, receipt.store,
            receipt.channel, receipt.currency, receipt.coupons, receipt.redeem, receipt.certificates,
            receipt.stateful, receipt.total, receipt.units, receipt.ordered, receipt.floors,
            tuple(map(_line_fields, receipt.lines)), receipt.rewards, None if mix is None else [mix.tax])


def receipt_of(fields: Sequence[Any]) -> Receipt:
    """The ``Receipt`` of ``receipt_fields`` (as they were, or as msgpack gives them back: arrays as
    lists): already validated when it was read, so its slots are set as they were (the trusted path:
    no check and nothing derived again), each line made by ``Line``'s own constructor from all its
    fields."""
    return _receipt_of(fields, tuple(_starmap(Line, fields[_LINES])))  # each Line(*fields), in C


def _receipt_of(fields: Sequence[Any], lines: tuple[Line, ...]) -> Receipt:
    """``receipt_of`` with its lines made."""
    receipt = _new_receipt(Receipt)
    (receipt.receipt_id, receipt.customer_id, when, receipt.utc, receipt.store, receipt.channel, receipt.currency,
     coupons, receipt.redeem, certificates, receipt.stateful, receipt.total, receipt.units,
     receipt.ordered, receipt.floors, _, rewards, mix) = fields
    receipt.coupons = tuple(coupons) if coupons else ()
    receipt.rewards = tuple(rewards) if rewards else ()
    receipt.certificates = tuple([tuple(certificate) for certificate in certificates]) if certificates else ()
    receipt.datetime = _fromisoformat(when)
    receipt.lines = lines
    receipt.mix = None if mix is None else _mix(lines, mix[0])
    return receipt


def pack(record: Record) -> bytes:
    """A record's spill payload: the receipt's fields when validated (else None) and its JSON, each
    msgpack (about twice as fast to write as marshal; floats are doubles, exact), after a tag byte
    and the fields' length, so that ``unpack`` decodes the fields alone and leaves the JSON encoded
    until it is needed (a return, a receipt the replay refuses). A value msgpack cannot hold as it
    is (an integer past 64 bits) keeps the whole payload in marshal, which writes any integer exactly."""
    parsed = record.parsed
    fields = None if parsed is None else receipt_fields(parsed)
    try:
        head = _msgpack(fields)
        return _MSGPACK_HEAD.pack(_MSGPACK_TAG, len(head)) + head + _msgpack(record.receipt)
    except (OverflowError, TypeError):
        fields = None if fields is None else _plain_attrs(fields)
        return marshal.dumps((fields, marshal.dumps(record.receipt, MARSHAL_VERSION)), MARSHAL_VERSION)


def _plain_attrs(fields: tuple[Any, ...]) -> tuple[Any, ...]:
    """The receipt's fields with each line's attrs a plain dict: marshal writes no ``dict`` subclass, such
    as the empty attrs that lines without any share (``model._NoAttrs``)."""
    def plain(line: tuple[Any, ...]) -> tuple[Any, ...]:
        attrs = line[_ATTRS]
        return (*line[:_ATTRS], dict(attrs) if isinstance(attrs, dict) else attrs, *line[_ATTRS + 1:])

    return (*fields[:_LINES], tuple([plain(line) for line in fields[_LINES]]), *fields[_LINES + 1:])


Packed = memoryview | bytes  # a payload's receipt JSON, still encoded: msgpack, or marshal (bytes)


def unpack(payload: bytes) -> tuple[Receipt | None, Packed]:
    """A payload's ``Receipt`` (None: a return, or a record that was not validated when read) and its
    receipt JSON, still packed (``receipt_json`` gives the dict, only when it is needed)."""
    if payload[0] == _MSGPACK_TAG:
        end = _MSGPACK_HEAD.size + _MSGPACK_HEAD.unpack_from(payload)[1]
        view = memoryview(payload)
        head, data = view[_MSGPACK_HEAD.size:end], view[end:]
        try:
            fields = _unpack_fields(head)
        except msgspec.ValidationError:  # a receipt not made by the decoder (e.g. a channel of None): as it is
            fields = _unmsgpack(head)
            return (None if fields is None else receipt_of(fields)), data
        return (None if fields is None else _receipt_of(fields, fields[_LINES])), data
    fields, data = marshal.loads(payload)  # marshal, for a value past msgpack (a marshal tuple never starts with the tag)
    return (None if fields is None else receipt_of(fields)), data


def receipt_json(data: Packed) -> dict[str, Any]:
    """The receipt JSON of ``unpack``."""
    return marshal.loads(data) if type(data) is bytes else _unmsgpack(data)


def partition(records: Iterable[Record], n_partitions: int, folder: str | Path,
              groups: Mapping[str, str] | None = None, prefix: str = "part") -> list[Path]:
    """Spill valid records into ``n_partitions`` files in ``folder`` (created if needed, files
    overwritten); returns the ``n_partitions`` paths, index = partition, empty partitions included.
    ``prefix`` names the files, so that several readers can spill into one folder."""
    if n_partitions < 1:
        raise ValueError(f"n_partitions must be >= 1, got {n_partitions}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{prefix}-{i:05d}.spill" for i in range(n_partitions)]
    files: list[IO[bytes] | None] = [None] * n_partitions
    dumps, head_of = marshal.dumps, _SPILL_HEAD.pack
    try:
        for record in records:
            receipt = record.receipt
            index = partition_index(receipt, n_partitions, groups)
            out = files[index]
            if out is None:
                # one file per partition stays open while spilling; all are closed below
                out = files[index] = open(paths[index], "wb", buffering=_SPILL_BUFFER)  # noqa: SIM115
            head = dumps((record_utc(record), receipt.get("customer_id") or None, receipt["receipt_id"],
                          receipt.get("return_of"), record.source), MARSHAL_VERSION)
            payload = pack(record)
            out.write(head_of(len(head), len(payload)) + head + payload)
    finally:
        for out in files:
            if out is not None:
                out.close()
    for index, path in enumerate(paths):
        if files[index] is None:
            path.write_bytes(b"")  # an empty partition is still a file, so the list is complete
    return paths


class PartitionRows:
    """A partition's receipts sorted by ``sort_key``, each kept as its packed payload and unpacked
    when iterated; ``returned`` holds the ids that some return in it refers to."""

    def __init__(self, rows: list[tuple[_Key, str, bytes]], returned: set[str]) -> None:
        self.rows = rows
        self.returned = returned

    def __len__(self) -> int:
        return len(self.rows)

    def packed(self) -> Iterator[tuple[str, bytes]]:
        """(source, payload) in order: what the replay unpacks one at a time."""
        for _key, source, payload in self.rows:
            yield source, payload

    def __iter__(self) -> Iterator[Record]:
        for _key, source, payload in self.rows:
            parsed, data = unpack(payload)
            yield Record(source, receipt_json(data), parsed)


def read_partition_rows(paths: str | Path | Sequence[str | Path], groups: Mapping[str, str] | None = None
                        ) -> PartitionRows:
    """A partition (spills or Parquet; several files when several readers spilled it)."""
    rows: list[tuple[_Key, str, bytes]] = []
    returned: set[str] = set()
    for path in [paths] if isinstance(paths, str | Path) else paths:
        path = Path(path)
        heads = _parquet_rows(path) if path.suffix == ".parquet" else _spill_rows(path)
        for utc, customer, receipt_id, return_of, source, payload in heads:
            if customer is not None and groups is not None:
                customer = groups.get(customer, customer)
            rows.append(((customer is not None, customer or "", utc, receipt_id), source, payload))
            if return_of is not None:
                returned.add(str(return_of))
    rows.sort(key=_by_key)
    return PartitionRows(rows, returned)


def _spill_rows(path: Path) -> Iterator[tuple[Any, ...]]:
    """A spill file's records: read 256 KiB at a time and cut at the lengths each record starts with
    (``marshal.load`` of a file calls its ``readinto`` for every value: several times the cost)."""
    loads, head_at, size = marshal.loads, _SPILL_HEAD.unpack_from, _SPILL_HEAD.size
    with open(path, "rb", buffering=0) as f:
        data = b""
        while chunk := f.read(_SPILL_READ):
            data = data + chunk if data else chunk
            del chunk  # one piece in memory at a time, beside the records cut from it
            at, end = 0, len(data)
            while at + size <= end:
                head, payload = head_at(data, at)
                start = at + size
                stop = start + head + payload
                if stop > end:
                    break
                yield (*loads(data[start:start + head]), data[start + head:stop])
                at = stop
            data = data[at:]
    if data:  # written by this run: only a disk that failed under it leaves a record cut short
        raise SimulationError("the spill file ends within a record (was the disk full?)", str(path))


def read_partition_records(paths: str | Path | Sequence[str | Path], groups: Mapping[str, str] | None = None
                           ) -> list[Record]:
    """A partition's records, unpacked, sorted by ``sort_key``."""
    return list(read_partition_rows(paths, groups))


def read_partition(path: str | Path, groups: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """A partition's receipts, sorted by (customer, UTC time, receipt id)."""
    return [record.receipt for record in read_partition_records(path, groups)]


# ---------------------------------------------------------------------------------------- Parquet


def write_partitioned_parquet(records: Iterable[Record], folder: str | Path, n_partitions: int,
                              groups: Mapping[str, str] | None = None) -> list[Path]:
    """One Parquet file per partition (``part-00000.parquet`` ...) for the distributed backend.

    Columns: ``customer_id``, ``receipt_id``, ``return_of`` (strings: the sort and the returns, and
    for inspection and filters), ``utc`` (int64), ``source``, and ``payload`` (``pack``: binary,
    reads back exactly). Rows are written
    in row groups of ``PARQUET_ROWS`` per partition, so memory is bounded by n × that buffer."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if n_partitions < 1:
        raise ValueError(f"n_partitions must be >= 1, got {n_partitions}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"part-{i:05d}.parquet" for i in range(n_partitions)]
    schema = pa.schema([("customer_id", pa.string()), ("receipt_id", pa.string()), ("utc", pa.int64()),
                        ("return_of", pa.string()), ("source", pa.string()), ("payload", pa.binary())])
    buffers: list[list[tuple[Any, ...]]] = [[] for _ in range(n_partitions)]
    writers: list[Any] = [None] * n_partitions
    def flush(index: int) -> None:
        rows = buffers[index]
        if writers[index] is None:
            writers[index] = pq.ParquetWriter(paths[index], schema)
        columns: list[Any] = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
        arrays = [pa.array(column, field.type) for column, field in zip(columns, schema, strict=True)]
        writers[index].write_table(pa.Table.from_arrays(arrays, schema=schema))
        buffers[index] = []

    try:
        for record in records:
            receipt = record.receipt
            index = partition_index(receipt, n_partitions, groups)
            buffer = buffers[index]
            buffer.append((receipt.get("customer_id") or None, receipt["receipt_id"], record_utc(record),
                           receipt.get("return_of"), record.source, pack(record)))
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


def _parquet_rows(path: Path) -> Iterator[tuple[Any, ...]]:
    """A Parquet partition's rows as spill records."""
    import pyarrow.parquet as pq

    names = ("utc", "customer_id", "receipt_id", "return_of", "source", "payload")
    table = pq.read_table(path, columns=list(names))
    return zip(*(table.column(name).to_pylist() for name in names), strict=True)
