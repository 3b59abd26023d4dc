"""A JSONL receipt read straight into the receipt JSON its column mapping makes: one msgspec decode
into types generated for the mapping (each source column a typed field, the columns the mapping does
not read skipped in C), then one generated function that lays the fields out as ``Mapping.build``
would. It replaces, for the usual line, the generic JSON decode (a dict per object, every column
included) and the mapping's per-field lookups and type tests.

It is a shortcut, never a second set of rules: it takes only what needs no conversion (every value
of a type the mapping takes as it is, ``Mapping._plan``'s ``ready`` types) and says None to anything
else (a value to convert, a return, state fields, a line without ``line_no`` beside one with it, JSON
the typed decoder refuses), and the reader then reads that line the general way (``inputs._jsonl``),
which converts it or says what is wrong. What it makes is validated by ``Receipt.from_dict`` as
before, as text (``text=True``): every string in it was decoded by msgspec, which refuses lone
surrogates, or is the mapping's own (a default, an attribute's name), which must be text for the
mapping to have a direct reader at all. Nor is it more lenient about the text: the decoder skips the columns it does not read without
checking them as the general decode does, so a line that could hold what only that check refuses
(bytes that are not UTF-8, an integer past Python's digit limit, a surrogate escape, nesting past
the depth limit) goes the general way too (``inputs._jsonl``, before and after the decode).
tests/simulate/test_direct.py holds both readers to the same records and quarantine entries.

Only for a mapping whose receipt fields need no conversion either: no date or time columns, no
datetime format or time zone, no scale, no derived field, no default for ``return_of`` or the state
fields, and defaults already of the types taken as they are, all text (``decoder`` gives None otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import msgspec

from .mapping import IDENTITY, RECEIPT_FIELDS, Mapping

__all__ = ["decoder"]

Direct = Callable[[bytes], "dict[str, Any] | None"]
_IDENTS = ("receipt_id", "customer_id", "datetime", "store_id", "channel", "currency")  # strings, taken as they are
_ABSENT = ("return_of", "coupons", "redeem", "certificates")  # must be null or absent: the general path reads them
_REFUSED = (msgspec.DecodeError, msgspec.ValidationError, RecursionError)


def decoder(mapping: Mapping) -> Direct | None:
    """The direct reader of ``mapping``: receipt JSON bytes to the receipt dict ``Mapping.build`` makes
    of them, or None for a line to read the general way. None when the mapping needs conversions."""
    if not _fits(mapping):
        return None
    try:
        return _generate(mapping)
    except (TypeError, ValueError):  # e.g. two fields read from one column: the general path reads it
        return None


def _fits(m: Mapping) -> bool:
    if m is IDENTITY or m.date_column is not None or m.time_column is not None or m.datetime_format is not None \
            or m.timezone is not None or m.scale or m.derive is not None:
        return False
    if any(m.defaults.get(name) is not None for name in (*_ABSENT, "min_price")):
        return False
    if any(m.defaults.get(name) is not None and type(m.defaults[name]) is not str for name in _IDENTS):
        return False
    for _name, _column, default, ready, _conversion in m._plan:
        if not ready or (default is not None and type(default) not in ready):
            return False
    # what the reader writes that is not from the line's text: text too, so that its receipts are
    # validated as text (``Receipt.from_dict(text=True)``, no search for lone surrogates)
    return all(_is_text(value) for value in (*m.attrs, *m.defaults.values()) if type(value) is str)


def _is_text(value: str) -> bool:
    """Whether ``value`` holds no lone surrogate (UTF-8 can write it)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _generate(m: Mapping) -> Direct:
    names: dict[str, Any] = {"_REFUSED": _REFUSED}
    line_fields: list[tuple[str, Any, Any]] = []  # (attribute, type, default) of the line struct
    line_rename: dict[str, str] = {}
    shown: list[tuple[str, str]] = []  # (field, expression) of the line dict, in the mapping's order
    optional = None  # the one field that may be left out (the brand, without a default)
    line_no = "f0"  # the plan starts with line_no, which has no default
    for k, (name, column, default, ready, _conversion) in enumerate(m._plan):
        attribute = f"f{k}"
        line_rename[attribute] = column
        if name == "min_price":  # a line with one takes the general path (it has no default: see _fits)
            line_fields.append((attribute, None, None))
            continue
        kind: Any = ready[0] if len(ready) == 1 else ready[0] | ready[1]
        if default is not None:
            names[f"D{k}"] = default
            line_fields.append((attribute, kind | None, None))
            shown.append((name, f"(D{k} if (v := src.{attribute}) is None else v)"))
        elif name in ("line_no", "brand"):  # may be absent: line_no numbered below, the brand left out
            line_fields.append((attribute, kind | None, None))
            shown.append((name, f"src.{attribute}"))
            if name == "line_no":
                line_no = attribute
            else:
                optional = attribute
        else:  # required by the receipt's rules: a line without it takes the general path, which says so
            line_fields.append((attribute, kind, msgspec.NODEFAULT))
            shown.append((name, f"src.{attribute}"))

    def display(fields: list[tuple[str, str]]) -> str:
        return "{" + ", ".join(f"'{name}': {expression}" for name, expression in fields) + "}"

    line_fields.append(("attrs", dict[str, str | None] | None, None))
    line_rename["attrs"] = "attrs"
    extras = []  # the attributes read from columns of their own: (attribute, its name's global)
    for k, (attr, column) in enumerate(m.attrs.items()):
        line_fields.append((f"a{k}", str | None, None))
        line_rename[f"a{k}"] = column
        names[f"A{k}"] = attr
        extras.append((f"a{k}", f"A{k}"))

    def alone(extras: list[tuple[str, str]]) -> list[str]:
        """The attrs of the columns' attributes without an attrs column, in their order, those that are
        null left out (no attrs when all are): one or two written out case by case, more collected."""
        if len(extras) == 1:
            (a, name), = extras
            return [f"if (v := src.{a}) is not None:", f"    line['attrs'] = {{{name}: v}}"]
        if len(extras) == 2:
            (a, first), (b, second) = extras
            return [f"v, w = src.{a}, src.{b}",
                    "if w is None:", "    if v is not None:", f"        line['attrs'] = {{{first}: v}}",
                    "elif v is None:", f"    line['attrs'] = {{{second}: w}}",
                    "else:", f"    line['attrs'] = {{{first}: v, {second}: w}}"]
        return [*collect_all(extras), "if extra:", "    line['attrs'] = extra"]

    def collect_all(extras: list[tuple[str, str]]) -> list[str]:
        collect = ["extra = {}"]
        for attribute, name in extras:
            collect += [f"v = src.{attribute}", "if v is not None:", f"    extra[{name}] = v"]
        return collect

    def body(number: str | None) -> list[str]:
        """A line's dict from ``src``, appended to ``built`` (8 spaces in): its line_no as read, or
        ``number`` when the receipt's lines are numbered here."""
        fields = [(name, number) if name == "line_no" and number is not None else (name, expression)
                  for name, expression in shown]
        lines = []
        if optional is not None:
            lines += [f"if src.{optional} is None:",
                      f"    line = {display([f for f in fields if f[1] != f'src.{optional}'])}",
                      "else:",
                      f"    line = {display(fields)}"]
        else:
            lines.append(f"line = {display(fields)}")
        lines += ["attrs = src.attrs"]
        collect = collect_all(extras)
        if extras:  # without an attrs column, the columns' attributes alone (none: no attrs)
            lines += ["if attrs is None:", *(f"    {text}" for text in alone(extras)), "else:"]
        else:
            lines += ["if attrs is not None:"]
        lines += ["    if None in attrs.values():",
                  "        attrs = {k: v for k, v in attrs.items() if v is not None}"]
        if extras:
            lines += [*(f"    {text}" for text in collect), "    attrs = {**attrs, **extra}"]
        lines += ["    line['attrs'] = attrs", "built.append(line)"]
        return [f"        {text}" for text in lines]

    # line_no read from every line, or from none (numbered 1, 2, ... here); a receipt of both: the general path
    code_line = ["    lines = s.lines",
                 "    built = []",
                 f"    if not lines or lines[0].{line_no} is not None:",
                 "        for src in lines:",
                 f"            if src.{line_no} is None:",
                 "                return None",
                 *(f"    {text}" for text in body(None)),
                 "    else:",
                 "        for number, src in enumerate(lines, 1):",
                 f"            if src.{line_no} is not None:",
                 "                return None",
                 *(f"    {text}" for text in body("number"))]
    line_fields.sort(key=lambda f: f[2] is not msgspec.NODEFAULT)  # required fields first
    line_type = msgspec.defstruct("DirectLine", [f if f[2] is not msgspec.NODEFAULT else f[:2] for f in line_fields],
                                  rename=line_rename, gc=False)

    head_fields: list[tuple[str, Any, Any]] = []
    head_rename: dict[str, str] = {}
    code = ["def direct(raw):",
            "    try:",
            "        s = decode(raw)",
            "    except _REFUSED:",
            "        return None",
            "    if s.r0 is None:",
            "        return None",
            "    out = {'receipt_id': s.r0}"]
    for k, name in enumerate(RECEIPT_FIELDS):
        attribute = f"r{k}"
        head_rename[attribute] = m.column(name)
        if name in _ABSENT:
            head_fields.append((attribute, None, None))
            continue
        head_fields.append((attribute, str | None, None))
        if name == "receipt_id":
            continue
        code.append(f"    v = s.{attribute}")
        default = m.defaults.get(name)
        if default is not None:
            names[f"H{k}"] = default
            code += ["    if v is None:", f"        v = H{k}"]
        if name == "customer_id":
            code.append("    out['customer_id'] = v")
        else:
            code += ["    if v is not None:", f"        out['{name}'] = v"]
    head_fields.append(("lines", list[line_type], msgspec.NODEFAULT))  # type: ignore[valid-type]
    head_rename["lines"] = m.lines
    head_fields.sort(key=lambda f: f[2] is not msgspec.NODEFAULT)  # the required field first
    head_type = msgspec.defstruct("DirectReceipt", [f if f[2] is not msgspec.NODEFAULT else f[:2] for f in head_fields],
                                  rename=head_rename, gc=False)
    names["decode"] = msgspec.json.Decoder(head_type).decode
    code += code_line
    code += ["    out['lines'] = built",
             "    return out"]
    names["SOURCE"] = text = "\n".join(code) + "\n"
    exec(compile(text, f"<direct reader of {m.origin}>", "exec"), names)  # our own text
    return cast(Direct, names["direct"])
