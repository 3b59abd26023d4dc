"""Column mapping: how a retailer's export becomes our receipt JSON (docs/simulate.md, "Inputs").

A ``Mapping`` says which source column holds each receipt or line field (unmapped fields are looked
up under their own name), how decimal money becomes integer minor units (``scale``, exact, via
Decimal), what fills a field the export lacks (``defaults``), how date and time are written, and a
few reading options (CSV delimiter and encoding, decimal comma). ``Mapping.build`` turns one source
receipt (a nested object, or the rows of a flat export) into the canonical receipt dict; it converts
but does not validate (``Receipt.from_dict`` does that), except where a conversion itself fails.
"""

from __future__ import annotations

import codecs
import datetime as dt
import difflib
import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from loyadsl.runtime.limits import MAX_SOURCE_CHARS
from loyadsl.simulate.errors import FieldError, MappingError, SimulationError

RECEIPT_FIELDS = ("receipt_id", "customer_id", "datetime", "store_id", "channel", "currency", "return_of",
                  "coupons", "redeem", "certificates")
LINE_FIELDS = ("line_no", "sku", "category", "brand", "qty", "unit_price", "amount", "min_price")
FIELDS = RECEIPT_FIELDS + LINE_FIELDS
MONEY = ("unit_price", "amount", "min_price")
SCALABLE = (*MONEY, "qty")
DERIVABLE = ("amount", "unit_price")
# what a purchase cannot do without (a flat export must have a column for each, or a default)
REQUIRED = ("receipt_id", "datetime", "store_id", "sku", "category", "qty", "unit_price", "amount")
FORMATS = ("csv", "jsonl", "parquet")
DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}
_KEYS = ("columns", "attrs", "scale", "defaults", "derive", "timezone", "datetime", "lines", "csv", "decimal",
         "list_separator", "format")
_SPEC_KEYS = ("timezone", "date", "time", "datetime_format", "derive", "lines", "delimiter", "encoding", "decimal",
              "list_separator", "format")


def read_yaml(path: Path, error: type[SimulationError], what: str) -> Any:
    """A YAML file the simulator reads (a mapping, assertions), under the limit of a source file;
    anything wrong raises ``error`` naming the place."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read(MAX_SOURCE_CHARS + 1)
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read {what}: {exc}") from None
    if len(text) > MAX_SOURCE_CHARS:
        raise error(f"{path}: {what} is longer than {MAX_SOURCE_CHARS:,} characters")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(f"{where}: not valid YAML: {problem}") from None
    except RecursionError:
        raise error(f"{path}: {what}: the YAML nests too deep") from None


@dataclass(frozen=True)
class Mapping:
    """A validated column mapping (build one with ``from_spec``, ``from_file`` or ``from_dict``)."""

    columns: dict[str, str] = field(default_factory=dict)  # field -> source column, as given
    attrs: dict[str, str] = field(default_factory=dict)  # line attribute -> source column
    scale: dict[str, Decimal] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    derive: str | None = None
    timezone: ZoneInfo | None = None
    date_column: str | None = None
    time_column: str | None = None
    datetime_format: str | None = None  # strptime pattern, "unix" or "unix_ms"; None: ISO 8601
    lines: str = "lines"
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    decimal_comma: bool = False
    list_separator: str = ";"
    format: str | None = None
    origin: str = "the mapping"

    # ------------------------------------------------------------------------------ construction
    @classmethod
    def from_spec(cls, text: str) -> Mapping:
        """``--map receipt_id=CHECK_ID,sku=ITEM,scale.amount=100,default.store_id=1,timezone=Europe/Moscow``."""
        data: dict[str, Any] = {}
        for part in text.split(","):
            part = part.strip()
            if not part:
                continue
            key, sep, value = part.partition("=")
            key, value = key.strip(), value.strip()
            if not sep or not key:
                raise MappingError(f"--map: `{part}` is not FIELD=COLUMN")
            head, dot, rest = key.partition(".")
            if dot and head in ("scale", "default", "defaults", "attrs"):
                section = "defaults" if head == "default" else head
                data.setdefault(section, {})[rest] = value
            elif key in ("date", "time", "datetime_format"):
                data.setdefault("datetime", {})["format" if key == "datetime_format" else key] = value
            elif key in ("delimiter", "encoding"):
                data.setdefault("csv", {})[key] = value
            elif key in _SPEC_KEYS:
                data[key] = value
            else:
                data.setdefault("columns", {})[key] = value
        return cls.from_dict(data, "--map")

    @classmethod
    def from_file(cls, path: str | Path) -> Mapping:
        """A YAML mapping file (see docs/simulate.md for the keys)."""
        path = Path(path)
        data = read_yaml(path, MappingError, "the mapping")
        if data is None:
            data = {}
        return cls.from_dict(data, str(path))

    @classmethod
    def from_dict(cls, data: Any, origin: str = "the mapping") -> Mapping:
        """Check every key and value; a problem raises ``MappingError`` naming it."""
        if not isinstance(data, dict):
            raise MappingError(f"{origin}: a mapping is a YAML object with keys {', '.join(_KEYS)}")
        _no_unknown(data, _KEYS, origin, "key")
        columns, attrs = _columns(data, origin)
        scale, defaults = _scale(data, origin), _defaults(data, origin)
        derive = data.get("derive")
        if derive is not None and derive not in DERIVABLE:
            raise MappingError(f"{origin}: derive: expected amount or unit_price, got {derive!r}")
        timezone = _timezone(data, origin)
        date_column, time_column, fmt = _when(data, columns, origin)
        delimiter, encoding = _csv_options(data, origin)
        decimal = str(data.get("decimal", "."))
        if decimal not in (".", ",", "comma", "point"):
            raise MappingError(f"{origin}: decimal: expected . or , (or point, comma), got {decimal!r}")
        separator = str(data.get("list_separator", ";"))
        if not separator:
            raise MappingError(f"{origin}: list_separator: cannot be empty")
        fmt_name = data.get("format")
        if fmt_name is not None and fmt_name not in FORMATS:
            raise MappingError(f"{origin}: format: expected one of {', '.join(FORMATS)}, got {fmt_name!r}")
        lines = str(data.get("lines", "lines"))
        return cls(columns=columns, attrs=attrs, scale=scale, defaults=defaults, derive=derive, timezone=timezone,
                   date_column=date_column, time_column=time_column, datetime_format=fmt, lines=lines,
                   delimiter=delimiter, encoding=encoding, decimal_comma=decimal in (",", "comma"),
                   list_separator=separator, format=fmt_name, origin=origin)

    # ------------------------------------------------------------------------------ columns
    def column(self, name: str) -> str:
        """The source column of a field: as mapped, else the field's own name."""
        return self.columns.get(name, name)

    def check_columns(self, receipt_columns: Iterable[str], line_columns: Iterable[str] | None, where: str,
                      *, complete: bool) -> None:
        """Raise ``MappingError`` when a column the mapping names is not in the source.

        ``complete``: the column lists are the source's whole schema (CSV header, Parquet schema), so
        every mapped column must be there, and so must a column (or a default) for each required field.
        Otherwise (the first JSON record) only explicitly mapped required fields are checked, since
        optional keys may be absent from one record."""
        head = set(receipt_columns)
        line = set(line_columns) if line_columns is not None else head

        def missing(column: str, what: str, scope: set[str], hint: str = "") -> MappingError:
            has = "the lines have" if scope is line and line is not head else "the file has"
            return MappingError(f"{where}: no column `{column}` for {what}{hint}; {has}: {_listing(scope)}")

        for name in FIELDS:
            scope = head if name in RECEIPT_FIELDS else line
            column = self.column(name)
            if column in scope or (name == "datetime" and self.date_column is not None):
                continue
            mapped = name in self.columns
            required = name in REQUIRED and name not in self.defaults and name != self.derive
            if (mapped and (complete or required)) or (complete and required):
                hint = "" if mapped else f" (map one: --map {name}=COLUMN, or set defaults.{name})"
                raise missing(column, name, scope, hint)
        for part, part_column in (("date", self.date_column), ("time", self.time_column)):
            if part_column is not None and part_column not in head:
                raise missing(part_column, f"datetime.{part}", head)
        if complete:
            for attr, column in self.attrs.items():
                if column not in line:
                    raise missing(column, f"attrs.{attr}", line)

    # ------------------------------------------------------------------------------ building
    def build(self, head: dict[str, Any], lines: Sequence[Any], rows: Sequence[int] | None = None) -> dict[str, Any]:
        """The receipt dict from a source receipt: ``head`` holds the receipt fields, ``lines`` the
        line objects (for a flat export, ``head`` is the first row and ``lines`` all its rows, whose
        receipt fields must agree). Raises ``FieldError`` for a value that cannot be converted."""
        if rows is not None and len(lines) > 1:
            self._check_agree(lines, rows)
        get = self._getter(head)
        out: dict[str, Any] = {"receipt_id": _ident(get("receipt_id"))}
        customer = get("customer_id")
        out["customer_id"] = None if customer is None else _ident(customer)
        out["datetime"] = self._datetime(head)
        out["store_id"] = _ident(get("store_id"))
        for name in ("channel", "currency"):
            value = get(name)
            if value is not None:
                out[name] = _ident(value)
        return_of = get("return_of")
        if return_of is not None:
            out["return_of"] = _ident(return_of)
        coupons = get("coupons")
        if coupons is not None:
            out["coupons"] = self._split(coupons) if isinstance(coupons, str) else coupons
        redeem = get("redeem")
        if redeem is not None:
            out["redeem"] = _redeem(redeem)
        certificates = get("certificates")
        if certificates is not None:
            out["certificates"] = self._certificates(certificates) if isinstance(certificates, str) else certificates
        if return_of is not None:
            out["lines"] = [self._returned(line, i) for i, line in enumerate(lines)]
        else:
            make = self._line_builder
            built = [make(line, i) for i, line in enumerate(lines)]
            if all(line["line_no"] is None for line in built):
                for number, line in enumerate(built, 1):  # numbered in the order they come
                    line["line_no"] = number
            else:
                for line in built:
                    if line["line_no"] is None:
                        del line["line_no"]  # Receipt.from_dict says it is required
            out["lines"] = built
        # an absent required field stays absent, so that Receipt.from_dict names it
        return {k: v for k, v in out.items() if v is not None or k == "customer_id"}

    def _getter(self, src: dict[str, Any]) -> Any:
        columns, defaults = self.columns, self.defaults

        def get(name: str) -> Any:
            value = src.get(columns.get(name, name))
            if value is None:
                return defaults.get(name)
            return value

        return get

    def _line(self, src: Any, i: int) -> dict[str, Any]:
        """The line dict of the receipt JSON from a source line (``_line_source`` says how)."""
        return self._line_builder(src, i)

    @functools.cached_property
    def _line_builder(self) -> Callable[[Any, int], dict[str, Any]]:
        """``_line`` as one function generated for this mapping: the plan's loop unrolled, each field's
        column, default and converter bound once, so a line costs a lookup and a type test per field."""
        source, names = self._line_source()
        namespace: dict[str, Any] = {**names, "FieldError": FieldError, "_pairs": _pairs, "_attr": _attr}
        exec(compile(source, f"<mapping {self.origin}>", "exec"), namespace)  # our own text, every value bound by name
        return cast(Callable[[Any, int], dict[str, Any]], namespace["line"])

    def _line_source(self) -> tuple[str, dict[str, Any]]:
        """The text of the generated line function and the values it reads (columns, defaults and
        converters are names bound to values, never written into the text). What it does, in order:
        each field of ``_plan`` (its column, else its default; a value not of the types taken as they
        are converted, naming ``lines[i].field``), the derived field, then the line's attributes: its
        own ``attrs`` object (pairs read as a dict, null values dropped) merged with the mapped columns."""
        names: dict[str, Any] = {}
        code = ["def line(src, i):",
                "    if type(src) is not dict:",
                "        raise FieldError(f'lines[{i}]', 'a line is a JSON object')",
                "    get = src.get",
                "    out = {'line_no': None}"]
        for k, (name, column, default, ready, convert) in enumerate(self._plan):
            names[f"C{k}"], names[f"D{k}"], names[f"V{k}"] = column, default, convert
            code.append(f"    v = get(C{k})")
            if default is not None:
                code += ["    if v is None:", f"        v = D{k}"]
            code.append("    if v is not None:")
            if ready:
                names.update({f"T{k}_{j}": kind for j, kind in enumerate(ready)})
                test = " and ".join(f"type(v) is not T{k}_{j}" for j in range(len(ready)))
                code.append(f"        if {test}:")
                code.append(f"            v = V{k}(v, f'lines[{{i}}].{name}')")
            else:
                code.append(f"        v = V{k}(v, f'lines[{{i}}].{name}')")
            code.append(f"        out['{name}'] = v")
        if self.derive is not None:
            names["derive"] = self._derive
            code += [f"    if '{self.derive}' not in out:", "        derive(out)"]
        code += ["    attrs = get('attrs')",
                 "    if attrs is not None and type(attrs) is not dict:",
                 "        attrs = _pairs(attrs)",
                 "    elif attrs is not None and None in attrs.values():",
                 "        attrs = {k: v for k, v in attrs.items() if v is not None}"]
        if self.attrs:
            code.append("    extra = {}")
            for k, (attr, column) in enumerate(self.attrs.items()):
                names[f"A{k}"], names[f"AC{k}"] = attr, column
                code += [f"    v = get(AC{k})",
                         "    if v is not None:",
                         f"        extra[A{k}] = v if type(v) is str else _attr(v)"]
            code += ["    if isinstance(attrs, dict):",
                     "        attrs = {**attrs, **extra}",
                     "    elif attrs is None and extra:",
                     "        attrs = extra"]
        code += ["    if attrs is not None:",
                 "        out['attrs'] = attrs",
                 "    return out"]
        return "\n".join(code) + "\n", names

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without what is made from the fields on first use (generated functions do not pickle)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("_plan", "_line_builder")}

    @functools.cached_property
    def _plan(self) -> tuple[tuple[str, str, Any, tuple[type, ...], Callable[[Any, str], Any]], ...]:
        """Per line field: (field, column, default, types taken as they are, converter)."""
        comma = self.decimal_comma

        def integer(value: Any, where: str) -> Any:
            return _integer(value, where, comma)

        def ident(value: Any, where: str) -> Any:
            return _ident(value)

        plan: list[tuple[str, str, Any, tuple[type, ...], Callable[[Any, str], Any]]] = []
        ready: tuple[type, ...]
        convert: Callable[[Any, str], Any]
        for name in LINE_FIELDS:
            factor = self.scale.get(name)
            if name == "line_no":
                ready, convert = (int,), integer
            elif name == "qty":
                ready = (int, float) if factor is None else ()
                convert = functools.partial(_scaled, _quantity, factor, comma)
            elif name in MONEY:
                ready = (int,) if factor is None else ()
                convert = functools.partial(_scaled, _money, factor, comma)
            else:
                ready, convert = (str,), ident
            plan.append((name, self.column(name), self.defaults.get(name), ready, convert))
        return tuple(plan)

    def _returned(self, src: Any, i: int) -> dict[str, Any]:
        """A returned line: which line of the original (line_no) and how much (qty)."""
        if type(src) is not dict:
            raise FieldError(f"lines[{i}]", "a line is a JSON object")
        get = self._getter(src)
        out: dict[str, Any] = {}
        line_no, qty = get("line_no"), get("qty")
        if line_no is not None:
            out["line_no"] = _integer(line_no, f"lines[{i}].line_no", self.decimal_comma)
        if qty is not None:
            out["qty"] = _quantity(qty, self.scale.get("qty"), f"lines[{i}].qty", self.decimal_comma)
        return out

    def _derive(self, out: dict[str, Any]) -> None:
        qty = out.get("qty")
        if type(qty) not in (int, float) or not qty:
            return  # nothing to derive from; validation names the missing field
        units = Decimal(repr(qty))
        if self.derive == "amount" and type(out.get("unit_price")) is int:
            out["amount"] = int((out["unit_price"] * units).to_integral_value(ROUND_HALF_UP))
        elif self.derive == "unit_price" and type(out.get("amount")) is int:
            out["unit_price"] = int((out["amount"] / units).to_integral_value(ROUND_HALF_UP))

    def _datetime(self, head: dict[str, Any]) -> Any:
        if self.date_column is not None:
            date = head.get(self.date_column)
            time = head.get(self.time_column) if self.time_column is not None else None
            if date is None:
                raise FieldError("datetime", f"required: the date column `{self.date_column}` is empty")
            if isinstance(date, dt.datetime):
                value: Any = date
            elif isinstance(date, dt.date):
                clock = time if isinstance(time, dt.time) else (_time(time) if time is not None else dt.time())
                value = dt.datetime.combine(date, clock)
            else:
                value = f"{date} {time}" if time is not None else str(date)
                if self.datetime_format is None:
                    value = value if time is not None else f"{value}T00:00:00"
        else:
            value = head.get(self.column("datetime"))
            if value is None:
                value = self.defaults.get("datetime")
            if value is None:
                return None
        return self._when(value)

    def _when(self, value: Any) -> Any:
        fmt, zone = self.datetime_format, self.timezone
        if fmt in ("unix", "unix_ms"):
            try:
                number = Decimal(str(value).strip())
                seconds = number / 1000 if fmt == "unix_ms" else number
                # exact: whole microseconds from the Decimal, never through a float
                when = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=int(seconds * 1_000_000))
            except (InvalidOperation, ValueError, OverflowError):
                raise FieldError("datetime", f"expected {fmt} seconds, got {value!r}") from None
            return (when.astimezone(zone) if zone is not None else when).isoformat()
        if isinstance(value, str):
            if fmt is None and zone is None:
                return value  # ISO 8601 with an offset: Receipt.from_dict parses and checks it
            try:
                when = dt.datetime.strptime(value, fmt) if fmt else dt.datetime.fromisoformat(value)
            except ValueError:
                expected = f"the format {fmt!r}" if fmt else "an ISO 8601 date and time"
                raise FieldError("datetime", f"expected {expected}, got {value!r}") from None
        elif isinstance(value, dt.datetime):
            when = value
        else:
            return value  # ill-typed: validation says so
        if when.tzinfo is None:
            if zone is None:
                raise FieldError("datetime", f"{when.isoformat()} has no UTC offset; "
                                             "set timezone in the mapping (e.g. timezone: Europe/Moscow)")
            when = when.replace(tzinfo=zone)  # an ambiguous local time reads as its first occurrence
        return when.isoformat()

    def _check_agree(self, rows: Sequence[Any], numbers: Sequence[int]) -> None:
        """The receipt fields of a flat export repeat on each row; they must not disagree."""
        first = rows[0]
        columns = [self.column(n) for n in RECEIPT_FIELDS if n != "datetime"]
        columns += [c for c in (self.date_column, self.time_column) if c is not None]
        if self.date_column is None:
            columns.append(self.column("datetime"))
        for k in range(1, len(rows)):
            row = rows[k]
            for column in columns:
                a, b = first.get(column), row.get(column)
                if a != b:
                    raise FieldError(column, f"the rows of one receipt disagree: {_short(a)} at {numbers[0]}, "
                                             f"{_short(b)} at {numbers[k]}")

    def _split(self, text: str) -> list[str]:
        return [part.strip() for part in text.split(self.list_separator) if part.strip()]

    def _certificates(self, text: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for i, part in enumerate(self._split(text)):
            code, colon, amount = part.partition(":")
            item: dict[str, Any] = {"code": code.strip()}
            if colon:
                item["amount"] = _money(amount.strip(), None, f"certificates[{i}].amount", self.decimal_comma)
            out.append(item)
        return out


IDENTITY = Mapping(origin="the default mapping")


def load_mapping(spec: str | None = None, file: str | Path | None = None) -> Mapping:
    """The mapping from ``--map`` or ``--map-file`` (not both); the identity mapping without either."""
    if spec is not None and file is not None:
        raise MappingError("give --map or --map-file, not both")
    if file is not None:
        return Mapping.from_file(file)
    if spec is not None:
        return Mapping.from_spec(spec)
    return IDENTITY


# ---------------------------------------------------------------------------------- conversions


def _ident(value: Any) -> Any:
    """Identifiers are strings; an integer column (common in Parquet) reads as its decimal text."""
    if type(value) is int:
        return str(value)
    return value


def _attr(value: Any) -> Any:
    if type(value) in (int, Decimal) or isinstance(value, dt.date):
        return str(value)
    return value


def _scaled(convert: Callable[[Any, Decimal | None, str, bool], Any], factor: Decimal | None, comma: bool,
            value: Any, where: str) -> Any:
    return convert(value, factor, where, comma)


def _decimal(value: Any, where: str, comma: bool) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if type(value) is float:
        return Decimal(repr(value))  # the shortest decimal that reads back as this double
    if type(value) is int:
        return Decimal(value)
    if not isinstance(value, str):
        raise FieldError(where, f"expected a number, got {_short(value)}")
    text = value.strip().replace(" ", "").replace("\u00a0", "")
    if comma:
        text = text.replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise FieldError(where, f"expected a number, got {_short(value)}") from None
    if not number.is_finite():
        raise FieldError(where, f"expected a finite number, got {_short(value)}")
    return number


def _money(value: Any, scale: Decimal | None, where: str, comma: bool) -> Any:
    """Minor units, exactly: ``"12.34"`` with scale 100 is 1234; anything not whole is an error."""
    kind = type(value)
    if kind is int and scale is None:
        return value
    if kind is bool or (kind is float and scale is None):
        return value  # ill-typed: validation says so
    number = _decimal(value, where, comma)
    if scale is not None:
        number *= scale
    if number != number.to_integral_value():
        hint = "" if scale is not None else f"; scale: {{{where.rpartition('.')[2]}: 100}} reads decimal currency"
        raise FieldError(where, f"{_short(value)} is not a whole number of minor units{hint}")
    return int(number)


def _quantity(value: Any, scale: Decimal | None, where: str, comma: bool) -> Any:
    """Units as a JSON number (int, or a float with at most 3 decimals)."""
    kind = type(value)
    if (kind is int or kind is float) and scale is None:
        return value
    if kind is bool:
        return value
    number = _decimal(value, where, comma)
    if scale is not None:
        number *= scale
    if number == number.to_integral_value():
        return int(number)
    thousandths = number * 1000
    if thousandths != thousandths.to_integral_value():
        raise FieldError(where, f"at most 3 decimals, got {_short(value)}")
    # the receipt JSON's qty is a number; a float with at most 3 decimals reads back as exact thousandths
    # (model._thousandths). A quantity, never money.
    return float(number)


def _integer(value: Any, where: str, comma: bool) -> Any:
    if type(value) is int or type(value) is bool or type(value) is float:
        return value
    number = _decimal(value, where, comma)
    if number != number.to_integral_value():
        raise FieldError(where, f"expected an integer, got {_short(value)}")
    return int(number)


def _pairs(value: Any) -> Any:
    if type(value) is list and all(type(p) is tuple and len(p) == 2 for p in value):
        return dict(value)
    return value  # ill-typed: validation says so


def _redeem(value: Any) -> Any:
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text == "max":
            return {"points": "max"}
        if text.isdigit():
            return {"points": int(text)}
        raise FieldError("redeem", f'expected points (an integer) or "max", got {_short(value)}')
    return {"points": value}


def _time(value: Any) -> dt.time:
    try:
        return dt.time.fromisoformat(str(value).strip())
    except ValueError:
        raise FieldError("datetime", f"expected a time such as 14:05:00, got {_short(value)}") from None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ---------------------------------------------------------------------------------- validation helpers


def _section(data: dict[str, Any], key: str, origin: str) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MappingError(f"{origin}: {key}: expected an object (key: value lines)")
    return value


def _no_unknown(data: dict[str, Any], known: Sequence[str], origin: str, what: str) -> None:
    for key in data:
        if key not in known:
            raise MappingError(f"{origin}: unknown {what} `{key}`{_did_you_mean(str(key), known)}; "
                               f"known: {', '.join(known)}")


def _known_field(name: str, known: Sequence[str], origin: str, section: str) -> None:
    if name not in known:
        raise MappingError(f"{origin}: {section}: unknown field `{name}`{_did_you_mean(name, known)}; "
                           f"fields: {', '.join(known)}")


def _did_you_mean(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean `{close[0]}`?)" if close else ""


def _column(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise MappingError(f"{where}: expected a column name, got {value!r}")
    return str(value)


def _factor(value: Any, where: str) -> Decimal:
    try:
        factor = Decimal(repr(value)) if type(value) is float else Decimal(str(value).strip())
    except InvalidOperation:
        factor = Decimal(0)
    if isinstance(value, bool) or not factor.is_finite() or factor <= 0:
        raise MappingError(f"{where}: expected a number > 0 (100 turns 12.34 into 1234 minor units), got {value!r}")
    return factor


def _listing(columns: Iterable[str]) -> str:
    names = sorted(columns)
    shown = ", ".join(names[:30])
    return shown + (f", ... ({len(names)} in all)" if len(names) > 30 else "") if names else "(nothing)"


# ------------------------------------------------------------------------------ sections of a mapping


def _columns(data: dict[Any, Any], origin: str) -> tuple[dict[str, str], dict[str, str]]:
    """``columns`` (the fields' source columns) and the attributes' columns, from ``columns.attrs``,
    ``columns`` keys ``attrs.NAME`` and the ``attrs`` section."""
    columns: dict[str, str] = {}
    attrs: dict[str, str] = {}
    for name, column in _section(data, "columns", origin).items():
        name = str(name)
        if name == "attrs" and isinstance(column, dict):
            for attr, col in column.items():
                attrs[str(attr)] = _column(col, f"{origin}: columns.attrs.{attr}")
            continue
        if name.startswith("attrs."):
            attrs[name[6:]] = _column(column, f"{origin}: columns.{name}")
            continue
        _known_field(name, FIELDS, origin, "columns")
        columns[name] = _column(column, f"{origin}: columns.{name}")
    for attr, col in _section(data, "attrs", origin).items():
        attrs[str(attr)] = _column(col, f"{origin}: attrs.{attr}")
    if "" in attrs:
        raise MappingError(f"{origin}: attrs: an attribute needs a name")
    return columns, attrs


def _scale(data: dict[Any, Any], origin: str) -> dict[str, Decimal]:
    scale: dict[str, Decimal] = {}
    for name, factor in _section(data, "scale", origin).items():
        name = str(name)
        _known_field(name, SCALABLE, origin, "scale")
        scale[name] = _factor(factor, f"{origin}: scale.{name}")
    return scale


def _defaults(data: dict[Any, Any], origin: str) -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    for name, value in _section(data, "defaults", origin).items():
        name = str(name)
        _known_field(name, FIELDS, origin, "defaults")
        if name in ("receipt_id", "line_no"):
            raise MappingError(f"{origin}: defaults.{name}: {name} cannot have a default (it tells records apart)")
        defaults[name] = value
    return defaults


def _timezone(data: dict[Any, Any], origin: str) -> ZoneInfo | None:
    if data.get("timezone") is None:
        return None
    try:
        return ZoneInfo(str(data["timezone"]))
    except (ZoneInfoNotFoundError, ValueError):
        raise MappingError(f"{origin}: timezone: unknown time zone {data['timezone']!r} "
                           "(an IANA name such as Europe/Moscow)") from None


def _when(data: dict[Any, Any], columns: dict[str, str], origin: str) -> tuple[str | None, str | None, Any]:
    """The ``datetime`` section: the date column, the time column and the format."""
    when = _section(data, "datetime", origin)
    _no_unknown(when, ("date", "time", "format"), f"{origin}: datetime", "key")
    date_column = _column(when["date"], f"{origin}: datetime.date") if when.get("date") is not None else None
    time_column = _column(when["time"], f"{origin}: datetime.time") if when.get("time") is not None else None
    if time_column is not None and date_column is None:
        raise MappingError(f"{origin}: datetime.time needs datetime.date (the column with the date)")
    if date_column is not None and "datetime" in columns:
        raise MappingError(f"{origin}: give either columns.datetime or datetime.date, not both")
    fmt = when.get("format")
    if fmt is not None and (not isinstance(fmt, str) or not fmt):
        raise MappingError(f"{origin}: datetime.format: expected a strptime pattern, unix or unix_ms")
    return date_column, time_column, fmt


def _csv_options(data: dict[Any, Any], origin: str) -> tuple[str, str]:
    """The ``csv`` section: the delimiter (one character) and the encoding (a BOM tolerated in UTF-8)."""
    csv_options = _section(data, "csv", origin)
    _no_unknown(csv_options, ("delimiter", "encoding"), f"{origin}: csv", "key")
    delimiter = str(csv_options.get("delimiter", ","))
    delimiter = DELIMITERS.get(delimiter, delimiter)
    if len(delimiter) != 1:
        raise MappingError(f"{origin}: csv.delimiter: one character or comma, semicolon, tab, pipe; "
                           f"got {delimiter!r}")
    encoding = str(csv_options.get("encoding", "utf-8-sig"))
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise MappingError(f"{origin}: csv.encoding: unknown encoding {encoding!r}") from None
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        encoding = "utf-8-sig"  # tolerate the byte-order mark spreadsheet programs write
    return delimiter, encoding
