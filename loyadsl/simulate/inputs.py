"""Reading receipts for the simulator: JSONL, CSV and Parquet (each may be gzip-compressed), through a
column mapping, validated one by one into ``Record`` (usable) or ``Bad`` (quarantined, with where and
why). Nothing is dropped: every record read comes out as exactly one of the two.

Memory stays bounded by one receipt (plus one Parquet batch), except for the index of receipt ids
used to find duplicates (about 140 bytes per receipt: 1.4 GB for 10 million receipts).

How each format is read, and why:

* JSONL: line by line with Python's ``json``, not ``pyarrow.json``. Arrow infers one schema for the
  whole file, so heterogeneous lines fail (``redeem`` points of a number then ``"max"``) or get
  coerced (integers become floats once a column holds a decimal), and one malformed line aborts the
  whole read. Line by line gives each bad record its exact ``file:line`` and holds one line in memory.
  Through a column mapping, a line is first offered to the mapping's direct reader (``direct.py``:
  typed msgspec structs straight to the receipt JSON); what it refuses is read as above.
* CSV: Python's ``csv`` module, not ``pyarrow.csv.open_csv``. Arrow's streaming reader reports a
  malformed row to ``invalid_row_handler`` without its row number (``InvalidRow.number`` is None),
  and blank lines and quoted newlines make counting rows ourselves impossible; ``csv`` gives the
  physical line of every row. Every cell stays a string; the mapping converts it exactly.
* Parquet: ``pyarrow.parquet.ParquetFile.iter_batches`` (typed columns, a batch at a time, only the
  mapped columns). A ``lines`` list column gives nested receipts; otherwise rows are lines.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import itertools
import json
import os
import shutil
import sys
import tempfile
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any, NamedTuple, cast

import msgspec

from loyadsl.runtime.errors import LoyaError, ReceiptError
from loyadsl.runtime.limits import MAX_JSON_DEPTH, MAX_RECEIPT_BYTES
from loyadsl.runtime.model import Receipt

from .direct import decoder
from .errors import InputError, MappingError, SimulationError, StrictError
from .mapping import FIELDS, IDENTITY, Mapping

__all__ = ["Bad", "InputError", "MappingError", "QuarantineWriter", "Record", "StrictError", "check_inputs",
           "detect_format", "jsonl_ranges", "open_binary", "read_range", "read_receipts", "records_only", "write_quarantine"]

BATCH_ROWS = 8192  # Parquet rows per batch
RANGE_MIN_BYTES = 4 << 20  # a JSONL file is read in parallel in ranges of at least this
QUARANTINE_PREFIX = 200  # bytes of a line too long to read that the quarantine keeps
_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "csv",
               ".txt": "csv", ".parquet": "parquet", ".pq": "parquet"}


class Record(NamedTuple):
    """A valid receipt: where it was read (``file:line``), the receipt JSON (docs/bundle.md and
    docs/state.md section 4, plus ``return_of`` for a return), and the ``Receipt`` its validation
    made (None for a return), which the replay is given instead of validating the JSON again."""

    source: str
    receipt: dict[str, Any]
    parsed: Receipt | None = None


class Bad(NamedTuple):
    """A record that cannot be used: where, why, the record as far as it could be read (the parsed
    object, the raw text of a line that is not JSON, or a flat receipt's rows), and the code of
    what is wrong (runtime/codes.py: LOY603 unreadable, LOY604 not convertible, LOY605 duplicate,
    LOY606 currency, LOY607 return of an unknown receipt, LOY613 skipped, the runtime's LOY5xx)."""

    source: str
    reason: str
    record: Any
    code: str = "LOY603"
    receipt_id: str | None = None  # as far as it could be read: a return of it is then skipped

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "code": self.code, "reason": self.reason, "record": self.record}


# ---------------------------------------------------------------------------------------- reading


def read_receipts(
    paths: str | Path | Sequence[str | Path],
    mapping: Mapping | None = None,
    *,
    strict: bool = False,
    currency: str | None = None,
) -> Iterator[Record | Bad]:
    """Every record of every file, in file order, as a ``Record`` or a ``Bad``.

    ``currency``: the programme's currency; a receipt in another one is bad. ``strict``: raise
    ``StrictError`` at the first bad record instead. A receipt id seen before (in any of the files)
    is bad as a duplicate. ``MappingError`` (a column the file lacks) and ``InputError`` (a file that
    cannot be read) are raised when the file is reached.
    """
    mapping = mapping if mapping is not None else IDENTITY
    if isinstance(paths, str | Path):
        paths = [paths]
    seen = _Seen([str(path) for path in paths])
    for index, path in enumerate(paths):
        native = mapping is IDENTITY and detect_format(Path(path), mapping) == "jsonl"
        for item in _validated(_units(Path(path), mapping), mapping, seen, index, currency, native):
            if strict and type(item) is Bad:
                raise StrictError(item)
            yield item


def check_inputs(paths: str | Path | Sequence[str | Path], mapping: Mapping | None = None) -> None:
    """Fail fast, before a long read: every file exists, has a known format and can be opened, and
    the mapping fits it (CSV header, Parquet schema, first JSONL receipt). Raises ``InputError`` or
    ``MappingError``."""
    mapping = mapping if mapping is not None else IDENTITY
    for path in [paths] if isinstance(paths, str | Path) else paths:
        units = _units(Path(path), mapping)
        try:
            for unit in units:  # the checks run before the first record; a JSONL one at its first receipt
                if not isinstance(unit, Bad):
                    break
        finally:
            units.close()


def records_only(items: Iterable[Record | Bad], on_bad: Callable[[Bad], object]) -> Iterator[Record]:
    """The records of ``items``, handing each bad one to ``on_bad`` (e.g. ``QuarantineWriter.add``)."""
    for item in items:
        if isinstance(item, Bad):
            on_bad(item)
        else:
            yield item


def detect_format(path: Path, mapping: Mapping | None = None) -> str:
    """``jsonl``, ``csv`` or ``parquet``: the mapping's ``format``, else from the name (``.gz`` aside)."""
    if mapping is not None and mapping.format is not None:
        return mapping.format
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    fmt = _EXTENSIONS.get(os.path.splitext(name)[1])
    if fmt is None:
        raise InputError(f"{path}: cannot tell the format from the name; use .jsonl, .csv or .parquet "
                         "(optionally .gz), or set format in the mapping")
    return fmt


# A unit is a source receipt before conversion: where, the receipt fields, its lines, the row numbers
# of a flat export (None for a nested record; the line's number when the direct reader read it), and
# the raw record for the quarantine.
_Unit = tuple[str, dict[str, Any], Any, Any, Any]
# A row of a flat export: the line (or Parquet row) where it starts, the row (a dict, or the cells of a
# malformed one), a problem or None, and the receipt id as read (None: unknown).
_Row = tuple[int, Any, str | None, Any]


def _units(path: Path, mapping: Mapping) -> Generator[_Unit | Bad, None, None]:
    fmt = detect_format(path, mapping)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if fmt == "jsonl":
        return _jsonl(path, mapping)
    if fmt == "csv":
        return _csv(path, mapping)
    return _parquet(path, mapping)


class _Seen(dict[str, int]):
    """Receipt ids read so far, each with where: ``file index << 40 | line`` (an int costs a third of
    the ``file:line`` text, and this index is the one part of reading that grows with the input)."""

    def __init__(self, files: list[str]) -> None:
        super().__init__()
        self.files = files

    def where(self, packed: int) -> str:
        return f"{self.files[packed >> 40]}:{packed & (1 << 40) - 1}"


def _validated(units: Iterator[_Unit | Bad], mapping: Mapping, seen: _Seen, file_index: int,
               currency: str | None, native: bool = False) -> Iterator[Record | Bad]:
    """``native``: the records are receipt JSON already (JSONL without a mapping); one that
    validates as it is is used as it is."""
    for unit in units:
        if isinstance(unit, Bad):
            yield unit
            continue
        source, head, lines, rows, raw = unit
        if lines is DIRECT:  # the receipt JSON already (direct.py): used if it is a valid record
            record = _direct_record(source, head, seen, file_index << 40 | cast(int, rows), currency)
            if record is not None:
                yield record
                continue
            unit = _jsonl_unit(raw, source, raw.count(b"{") + raw.count(b"["), mapping.lines)  # to say what is wrong
            if isinstance(unit, Bad):
                yield unit
                continue
            source, head, lines, rows, raw = unit
        rid = _receipt_id(head, mapping)
        try:
            parsed = _native(head) if native and "return_of" not in head else None
            if parsed is not None:
                receipt = head
            else:
                receipt = _build(mapping, head, lines, rows)
                if "return_of" in receipt:
                    check_return(receipt)
                else:
                    parsed = Receipt.from_dict(receipt)
        except SimulationError:
            raise
        except LoyaError as exc:  # a value the mapping cannot convert, a receipt the runtime refuses
            yield Bad(source, _with_row(str(exc), exc.where, source, rows), raw, exc.code, rid)
            continue
        if currency is not None and receipt.get("currency", currency) != currency:
            yield Bad(source, f"currency: {receipt['currency']!r}, but the programme counts in {currency}", raw,
                      "LOY606", rid)
            continue
        rid = receipt["receipt_id"]
        first = seen.get(rid)
        if first is not None:
            yield Bad(source, f"duplicate receipt_id {rid!r}, first seen at {seen.where(first)}", raw, "LOY605")
            continue
        seen[rid] = file_index << 40 | int(source.rpartition(":")[2])
        yield Record(source, receipt, parsed)


def _direct_record(source: str, receipt: dict[str, Any], seen: _Seen, where: int,
                   currency: str | None) -> Record | None:
    """The record of a receipt the direct reader made, or None for one that the general path, reading
    its line again, will quarantine (invalid, another currency, a duplicate), saying why. The receipt's
    strings are text (direct.py), so it is validated as text. ``where``: ``_Seen``'s file index and
    line of it."""
    try:
        parsed = Receipt.from_dict(receipt, text=True)
    except LoyaError:
        return None
    if currency is not None and receipt.get("currency", currency) != currency:
        return None
    rid = receipt["receipt_id"]
    if rid in seen:
        return None
    seen[rid] = where
    return _new_tuple(Record, (source, receipt, parsed))  # Record(...) without the named tuple's Python-level __new__


_new_tuple = tuple.__new__


def _receipt_id(head: dict[str, Any], mapping: Mapping) -> str | None:
    """The receipt id of a source receipt as far as it can be read (for a bad one: its returns are skipped)."""
    value = head.get(mapping.column("receipt_id"))
    return str(value) if type(value) in (str, int) and value != "" else None


def _native(obj: dict[str, Any]) -> Receipt | None:
    """A receipt already in the native form is used as it is (building it would give the same one,
    at twice the cost): its ``Receipt``. None sends it through the mapping, which converts what it
    can or says precisely what is wrong."""
    try:
        return Receipt.from_dict(obj)
    except ReceiptError:
        return None


def _build(mapping: Mapping, head: dict[str, Any], lines: Any, rows: list[int] | None) -> dict[str, Any]:
    """The receipt the mapping makes of a source receipt; malformed lines are passed on as they are,
    so that ``Receipt.from_dict`` says what is wrong with them."""
    receipt = mapping.build(head, lines if type(lines) is list else [], rows)
    if type(lines) is not list and lines is not None:
        receipt["lines"] = lines
    elif lines is None:
        receipt.pop("lines", None)
    return receipt


def check_return(receipt: dict[str, Any]) -> None:
    """A return (``return_of``) names lines of the original by ``line_no`` with the ``qty`` returned
    (no lines: all of it). Its fields are checked by the receipt rules, through a probe receipt whose
    lines carry only those two fields, so the messages and limits are exactly the purchase's."""
    original = receipt["return_of"]
    if type(original) is not str or not original:
        raise ReceiptError("expected the id of the original receipt (a non-empty string)", "return_of")
    lines = receipt.get("lines", [])
    if type(lines) is not list:
        raise ReceiptError("expected an array of {line_no, qty} (empty: the whole receipt)", "lines")
    probe_lines = []
    for i, line in enumerate(lines):
        if type(line) is not dict:
            raise ReceiptError("a line is a JSON object", f"lines[{i}]")
        if "line_no" not in line:
            raise ReceiptError("required: which line of the original receipt is returned", f"lines[{i}].line_no")
        if "qty" not in line:
            raise ReceiptError("required: how much of the line is returned", f"lines[{i}].qty")
        probe_lines.append({"line_no": line["line_no"], "sku": "-", "category": "", "qty": line["qty"],
                            "unit_price": 0, "amount": 0})
    probe = {**receipt, "lines": probe_lines or [{"line_no": 1, "sku": "-", "category": "", "qty": 1,
                                                  "unit_price": 0, "amount": 0}]}
    Receipt.from_dict(probe)


def _with_row(message: str, where: str | None, source: str, rows: list[int] | None) -> str:
    """Point a flat export's line error at the row it came from (``file:line``, or Parquet ``file:row``)."""
    if rows is None or not where or not where.startswith("lines["):
        return message
    index = where[6:where.index("]")]
    if index.isdigit() and int(index) < len(rows):
        return f"{message} (at {source.rpartition(':')[0]}:{rows[int(index)]})"
    return message


# ------------------------------------------------------------------------------------------ JSONL


def jsonl_ranges(path: Path, pieces: int) -> list[tuple[int, int, int]] | None:
    """A plain (not gzip) JSONL file cut into about ``pieces`` byte ranges on line starts, for
    reading in parallel: ``(start, end, number of the range's first line)``; ranges are at least
    ``RANGE_MIN_BYTES`` (a small file is one range). None for a gzip file, which cannot be cut."""
    size = path.stat().st_size
    if _is_gzip(path):
        return None
    pieces = max(1, min(pieces, size // max(1, RANGE_MIN_BYTES)))
    cuts = [0]
    with open(path, "rb") as f:
        for k in range(1, pieces):
            f.seek(max(size * k // pieces, cuts[-1]))
            f.readline()  # to the start of the next line
            if f.tell() >= size:
                break
            if f.tell() > cuts[-1]:
                cuts.append(f.tell())
        cuts.append(size)
        ranges = []
        line = 1
        f.seek(0)
        for start, end in itertools.pairwise(cuts):
            ranges.append((start, end, line))
            left = end - start
            while left:  # the newlines of the range: the next range's first line number
                chunk = f.read(min(left, 1 << 24))
                line += chunk.count(b"\n")
                left -= len(chunk)
    return ranges


def read_range(path: str | Path, start: int, end: int, first_line: int, file_index: int, files: Sequence[str],
               mapping: Mapping | None = None, *, currency: str | None = None) -> Iterator[Record | Bad]:
    """``read_receipts`` for the lines of a JSONL file that start in ``[start, end)``; duplicates are
    found within the range only (the caller compares ranges). ``files``: every input, for where a
    duplicate was first seen; ``files[file_index]`` names this one (``path`` may be an unpacked copy)."""
    mapping = mapping if mapping is not None else IDENTITY
    path = Path(path)
    seen = _Seen([str(f) for f in files])
    native = mapping is IDENTITY
    yield from _validated(_jsonl(path, mapping, start, end, first_line, files[file_index]), mapping, seen, file_index,
                          currency, native)


def _jsonl(path: Path, mapping: Mapping, start: int = 0, end: int | None = None,
           first_line: int = 1, name: str | None = None) -> Generator[_Unit | Bad, None, None]:
    """``name``: the input's name in sources and messages (``path`` may be an unpacked copy of it).
    A line the mapping's direct reader takes (``direct.py``) comes as the receipt JSON it made, marked
    ``DIRECT`` in place of its lines; the others as the parsed object (``_jsonl_unit``). The direct
    reader waits for the first receipt, through which the general path checks the mapping's columns."""
    name = str(path) if name is None else name
    lines_key = mapping.lines
    return_column = mapping.column("return_of")
    read_direct = decoder(mapping) if DIRECT_READING else None
    checked = False
    number = first_line - 1
    with open_binary(path) as stream:
        if start:
            stream.seek(start)
        try:
            for number, (raw, size) in enumerate(bounded_lines(stream, MAX_RECEIPT_BYTES, None if end is None else end - start),
                                                 first_line):
                if number == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[3:]
                if raw.isspace() or not raw:
                    continue  # a blank line is not a record
                source = f"{name}:{number}"
                if size > MAX_RECEIPT_BYTES:
                    yield Bad(source, f"the line is {size:,} bytes long; a receipt is at most {MAX_RECEIPT_BYTES:,}",
                              raw[:QUARANTINE_PREFIX].decode("utf-8", "replace") + "…")
                    continue
                brackets = len(raw.translate(None, _NOT_BRACKETS))  # its { and [, counted once: loads and the depth bound read it
                if checked and read_direct is not None and brackets <= FAST_BRACKETS and _plain_text(raw):
                    receipt = read_direct(raw)
                    # every line an object: the depth bound of _deep_bound, which the general path checks past
                    if receipt is not None and brackets - max(0, len(receipt["lines"]) - 1) <= MAX_JSON_DEPTH:
                        yield source, receipt, DIRECT, number, raw  # the line's number where the rows go
                        continue
                unit = _jsonl_unit(raw, source, brackets, lines_key)
                if not checked and not isinstance(unit, Bad):
                    obj, lines = unit[1], unit[2]
                    if obj.get(return_column) is None and type(lines) is list and lines and type(lines[0]) is dict:
                        mapping.check_columns(obj.keys(), lines[0].keys(), source, complete=False)
                        checked = True
                yield unit
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{name}:{number + 1}: cannot read on: {exc}") from None


DIRECT_READING = True  # whether _jsonl tries the mapping's direct reader (tests turn it off to compare)
DIRECT: Any = object()  # a unit's lines when the direct reader read it: its head is the receipt JSON, its rows the line number


def _jsonl_unit(raw: bytes, source: str, brackets: int, lines_key: str) -> _Unit | Bad:
    """One JSONL line read the general way: the parsed object, or what is wrong with it."""
    try:
        obj = loads(raw, brackets)
    except UnicodeDecodeError:
        return Bad(source, "not UTF-8 text", raw.decode("utf-8", "replace").rstrip("\r\n"))
    except (ValueError, RecursionError) as exc:
        text = raw.decode("utf-8", "replace").rstrip("\r\n")
        reason = f"bad JSON: {exc}"
        if isinstance(exc, json.JSONDecodeError):  # the column within the line, not past its end
            reason = f"bad JSON: {exc.msg} (column {min(exc.pos, len(text)) + 1})"
        return Bad(source, reason, text)
    if type(obj) is not dict:
        return Bad(source, f"a receipt is a JSON object, got {_kind(obj)}", obj)
    if brackets > MAX_JSON_DEPTH and _deep_bound(raw, obj.get(lines_key)) > MAX_JSON_DEPTH \
            and deeper(obj, MAX_JSON_DEPTH):
        return Bad(source, f"the record nests deeper than {MAX_JSON_DEPTH} levels",
                   raw[:QUARANTINE_PREFIX].decode("utf-8", "replace") + "…")
    # a lone backslash search is a memchr, 50 times cheaper than the escapes' own: most lines have none
    if b"\\" in raw and (b"\\ud" in raw or b"\\uD" in raw) and not _is_text(obj):
        return Bad(source, "a \\u escape of half a surrogate pair (U+D800..U+DFFF) is not text",
                   raw.decode("utf-8", "replace").rstrip("\r\n"))
    return source, obj, obj.get(lines_key), None, obj


_ZERO_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_NOT_BRACKETS = bytes(set(range(256)) - set(b"{["))  # deleted, a line's { and [ are left: one pass, not two counts


def _plain_text(raw: bytes) -> bool:
    """Whether the direct reader may read ``raw``: nothing in it that only the general decode's check
    of the columns the direct reader skips would refuse or read otherwise: bytes that are not UTF-8
    (or a surrogate written in UTF-8, which ``json.loads`` reads), a surrogate escape (``\\ud800``,
    which the general path tests as text), a run of digits past ``json.loads``'s integer limit."""
    if b"\\" in raw and (b"\\ud" in raw or b"\\uD" in raw):
        return False
    if not raw.isascii():
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return False
    limit = sys.get_int_max_str_digits()
    return not (limit and len(raw) > limit and _digit_run(raw, limit))


def _digit_run(raw: bytes, limit: int) -> bool:
    """Whether ``raw`` holds more than ``limit`` digits in a row. Such a run covers four bytes in a row
    of those at every ``limit // 4``-th place (any ``limit`` bytes in a row hold four of them), so
    ``raw`` is searched whole only when four such bytes in a row are digits (for text with numbers
    in it, about one line in a hundred of those longer than ``limit``)."""
    step = limit // 4
    if b"0000" not in raw[step - 1::step].translate(_ZERO_DIGITS):
        return False
    return b"0" * (limit + 1) in raw.translate(_ZERO_DIGITS)


# -------------------------------------------------------------------------------------------- CSV


def _csv(path: Path, mapping: Mapping) -> Generator[_Unit | Bad, None, None]:
    name = str(path)
    delimiter = "\t" if path.name.lower().removesuffix(".gz").endswith(".tsv") and mapping.delimiter == "," \
        else mapping.delimiter
    check_text = codecs.lookup(mapping.encoding).name.startswith("utf-8")
    with open_binary(path) as binary:
        text = io.TextIOWrapper(binary, encoding=mapping.encoding, errors="surrogateescape", newline="")
        reader = csv.reader(text, delimiter=delimiter)
        try:
            header = next(reader, None)
            if header is None:
                return  # an empty file holds no records
            header = [column.strip() for column in header]
            if check_text and not _is_text(header):
                raise InputError(f"{name}:1: the header is not {mapping.encoding} text (set csv.encoding in the mapping)")
            twice = sorted({c for c in header if header.count(c) > 1})
            if twice:
                raise InputError(f"{name}:1: column `{twice[0]}` appears twice in the header")
            mapping.check_columns(header, None, name, complete=True)
            index = header.index(mapping.column("receipt_id"))
            yield from _grouped(_csv_rows(reader, header, index, check_text, mapping.encoding), name)
        except csv.Error as exc:
            raise InputError(f"{name}:{reader.line_num}: not readable as CSV: {exc}") from None
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{name}:{reader.line_num + 1}: cannot read on: {exc}") from None


def _csv_rows(reader: Any, header: list[str], index: int, check_text: bool, encoding: str) -> Iterator[_Row]:
    """The rows of a CSV file with where each starts; blank rows are skipped."""
    width = len(header)
    end = reader.line_num
    for row in reader:
        start, end = end + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue  # a blank line (or only delimiters) is not a record
        trouble = None
        if len(row) != width:
            trouble = f"the row has {len(row)} cells, the header {width}"
        elif check_text:
            try:
                "".join(row).encode("utf-8")
            except UnicodeEncodeError:
                row = _printable(row)
                trouble = f"not {encoding} text (set csv.encoding in the mapping)"
        if trouble is not None:
            rid = row[index] if index < len(row) and row[index] else None
            yield start, row, trouble, rid
            continue
        record = {column: (cell if cell != "" else None) for column, cell in zip(header, row, strict=True)}
        yield start, record, None, record[header[index]]


def _grouped(rows: Iterable[_Row], name: str) -> Iterator[_Unit | Bad]:
    """Adjacent rows with the same receipt id make one receipt. A broken row spoils the receipt whose
    id it carries (never a receipt with a line missing); a row without an id stands alone."""
    group: list[Any] = []
    numbers: list[int] = []
    problem: str | None = None
    current: Any = None

    def flush() -> _Unit | Bad:
        source = f"{name}:{numbers[0]}"
        if problem is not None:
            return Bad(source, problem, list(group))
        return source, group[0], list(group), list(numbers), list(group)

    for number, row, trouble, rid in rows:
        if group and (rid is None or rid != current):
            yield flush()
            group, numbers, problem = [], [], None
        current = rid
        group.append(row)
        numbers.append(number)
        if trouble is not None and problem is None:
            problem = f"line {number}: {trouble}"
        if rid is None:
            yield flush()
            group, numbers, problem, current = [], [], None, None
    if group:
        yield flush()


# ----------------------------------------------------------------------------------------- Parquet


def _parquet(path: Path, mapping: Mapping) -> Generator[_Unit | Bad, None, None]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    name = str(path)
    with ExitStack() as stack:
        target = path
        if _is_gzip(path):  # Parquet compresses inside; a .parquet.gz is unpacked to a temporary file
            handle = stack.enter_context(tempfile.NamedTemporaryFile(suffix=".parquet"))
            try:
                with gzip.open(path, "rb") as packed:
                    shutil.copyfileobj(packed, handle)
            except (OSError, EOFError, zlib.error) as exc:
                raise InputError(f"{name}: cannot unpack: {exc}") from None
            handle.flush()
            target = Path(handle.name)
        try:
            parquet = pq.ParquetFile(target)
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"{name}: not a Parquet file: {exc}") from None
        schema = parquet.schema_arrow
        names = list(schema.names)
        nested = mapping.lines in names and pa.types.is_list(schema.field(mapping.lines).type)
        if nested:
            item = schema.field(mapping.lines).type.value_type
            line_names = [f.name for f in item] if pa.types.is_struct(item) else []
            mapping.check_columns(names, line_names, name, complete=True)
        else:
            mapping.check_columns(names, None, name, complete=True)
        wanted = {mapping.column(f) for f in FIELDS} | set(mapping.attrs.values()) | {"attrs", mapping.lines}
        wanted |= {c for c in (mapping.date_column, mapping.time_column) if c is not None}
        columns = [c for c in names if c in wanted]
        batches = parquet.iter_batches(batch_size=BATCH_ROWS, columns=columns)

        def rows() -> Iterator[dict[str, Any]]:
            try:
                for batch in batches:
                    yield from batch.to_pylist()
            except (pa.ArrowException, OSError) as exc:
                raise InputError(f"{name}: cannot read on: {exc}") from None

        if nested:
            for number, obj in enumerate(rows(), 1):
                yield f"{name}:{number}", obj, obj.get(mapping.lines), None, obj
        else:
            id_column = mapping.column("receipt_id")
            yield from _grouped(((n, row, None, row.get(id_column)) for n, row in enumerate(rows(), 1)), name)


# ------------------------------------------------------------------------------------------ files


def bounded_lines(stream: IO[bytes], limit: int, size: int | None = None) -> Iterator[tuple[bytes, int]]:
    """The stream's lines (newline kept), each with its length in bytes. A line longer than ``limit``
    comes as its first ``limit`` bytes, the rest read and counted but never held. ``size``: only the
    lines that start within the stream's next ``size`` bytes."""
    left = size
    while left is None or left > 0:
        raw = stream.readline(limit + 1)
        if not raw:
            return
        length = len(raw)
        if length > limit and not raw.endswith(b"\n"):
            raw = raw[:limit]
            while True:
                more = stream.readline(1 << 20)
                length += len(more)
                if not more or more.endswith(b"\n"):
                    break
        if left is not None:
            left -= length
        yield raw, length


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def open_binary(path: Path) -> IO[bytes]:
    """The file's bytes, gunzipped when it is gzip (told by its first bytes, not its name); a file
    that cannot be opened is an ``InputError``."""
    try:
        if _is_gzip(path):
            return cast(IO[bytes], gzip.open(path, "rb"))
        return open(path, "rb", buffering=1 << 16)
    except OSError as exc:
        raise InputError(f"{path}: cannot open: {exc.strerror or exc}") from None


def deeper(value: Any, limit: int) -> bool:
    """Whether parsed JSON nests deeper than ``limit`` (``jsonio.depth(value) > limit``), looking
    only at its objects and arrays and stopping at the first one too deep: a receipt of many lines
    costs a test per value, not a tuple per value."""
    stack = [(value, 1)] if type(value) is dict or type(value) is list else []
    while stack:
        item, level = stack.pop()
        if level > limit:
            return True
        for child in item.values() if type(item) is dict else item:
            if type(child) is dict or type(child) is list:  # json.loads makes no subclasses
                stack.append((child, level + 1))
    return False


def _deep_bound(raw: bytes, lines: Any) -> int:
    """At least the nesting depth of the JSON text ``raw`` whose lines are ``lines``: every object
    or array is one ``{`` or ``[`` of the text, and a path from the top down passes through one line
    at most, so of the lines that are objects or arrays all but one are off the deepest path. A
    receipt of many flat lines is known shallow without walking it (``deeper``)."""
    brackets = raw.count(b"{") + raw.count(b"[")
    if type(lines) is not list:
        return brackets
    containers = sum(1 for line in lines if type(line) is dict or type(line) is list)
    return brackets - max(0, containers - 1)


FAST_BRACKETS = 512  # a line with more objects and arrays than this is read by json.loads alone
_decode = msgspec.json.Decoder().decode


def loads(raw: bytes, brackets: int | None = None) -> Any:
    """``json.loads(raw)``, sooner: msgspec's decoder reads the line first (about 1.5 times faster),
    and whatever it refuses goes to ``json.loads``, which reads it or says what is wrong in its own
    words. Where the two differ, msgspec is the one that refuses (a number past a double's range,
    an integer of 4,300 digits, a surrogate written in UTF-8, NaN, a byte-order mark;
    tests/simulate/test_inputs_loads.py), and it reads the same values, key order and floats
    otherwise. A line of many objects and arrays goes to ``json.loads`` at once: how deep each
    can nest before it gives up differs. ``brackets``: the line's count of ``{`` and ``[`` when the
    caller has it."""
    if brackets is None:
        brackets = raw.count(b"{") + raw.count(b"[")
    if brackets <= FAST_BRACKETS:
        try:
            return _decode(raw)
        except msgspec.DecodeError:
            pass
    return json.loads(raw)


def _is_text(obj: Any) -> bool:
    """Whether every string of a parsed JSON value is Unicode text (no lone surrogate, which JSON's
    ``\\ud800`` escapes can make and UTF-8 cannot hold)."""
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"}.get(
        type(value), "null")


def _printable(row: list[str]) -> list[str]:
    return [cell.encode("utf-8", "surrogateescape").decode("utf-8", "replace") for cell in row]


# --------------------------------------------------------------------------------------- quarantine


class QuarantineWriter:
    """Bad records to a JSONL file as they come: ``{"source", "code", "reason", "record"}`` a line.
    They are written beside the file (``.NAME.PID.partial``), which ``close`` puts in place and
    ``discard`` removes: a run that fails or is interrupted leaves no half-written quarantine."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.partial = self.path.with_name(f".{self.path.name}.{os.getpid()}.partial")
        self.count = 0
        try:
            self._file: IO[str] = open(self.partial, "w", encoding="utf-8")  # noqa: SIM115 (closed by close())
        except OSError as exc:
            raise InputError(f"{path}: cannot write the quarantine: {exc.strerror or exc}") from None

    def add(self, bad: Bad) -> None:
        self._file.write(_quarantine_line(bad))
        self.count += 1

    def close(self) -> None:
        """Finish the file and put it in place."""
        if self._file.closed:
            return
        try:
            self._file.close()
            os.replace(self.partial, self.path)
        except OSError as exc:
            self.discard()
            raise InputError(f"{self.path}: cannot write the quarantine: {exc.strerror or exc}") from None

    def discard(self) -> None:
        """Remove what was written (the run failed)."""
        self._file.close()
        self.partial.unlink(missing_ok=True)

    def __enter__(self) -> QuarantineWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if kind is None:
            self.close()
        else:
            self.discard()


def write_quarantine(bad_records: Iterable[Bad], path: str | Path) -> int:
    """Write bad records as JSONL (source, reason, record); returns how many."""
    with QuarantineWriter(path) as writer:
        for bad in bad_records:
            writer.add(bad)
        return writer.count


def _quarantine_line(bad: Bad) -> str:
    data = bad.to_dict()
    text = json.dumps(data, ensure_ascii=False, default=str)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes kept as escapes rather than lost
        text = json.dumps(data, ensure_ascii=True, default=str)
    return text + "\n"
