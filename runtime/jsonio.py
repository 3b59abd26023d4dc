"""Reading JSON from outside with limits: one document (a receipt, a customer, a stored outcome)
is at most ``max_bytes`` long, nests at most ``MAX_JSON_DEPTH`` deep, writes no integer of more
than ``MAX_INT_DIGITS`` digits and no float, and is valid UTF-8. Anything else is a ``LoyaError``
with the caller's code and the place (line and column where the parser says it), never a
RecursionError, a ValueError from Python's integer guard or a UnicodeDecodeError."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import IO, Any

from .errors import LoyaError
from .limits import MAX_INT_DIGITS, MAX_JSON_DEPTH


class _Refused(Exception):
    pass


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _Refused(f"an integer of {len(text.lstrip('-'))} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def _float(text: str) -> Any:
    raise _Refused(f"`{text[:20]}` is a number with a fraction or exponent: amounts are integers in minor units")


def depth(value: Any) -> int:
    """The nesting depth of a parsed JSON value (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
        else:
            continue
        deepest = max(deepest, level + 1)
    return deepest


def load(data: bytes | str, *, code: str, what: str, max_bytes: int, where: str | None = None,
         floats: bool = False) -> Any:
    """Parse one JSON document under the limits, or raise ``LoyaError(code)`` saying ``what`` was wrong
    and where. ``floats=True`` lets fractions through as ``float`` (for callers that convert them
    exactly or refuse them themselves)."""
    size = len(data)
    if size > max_bytes:
        raise LoyaError(code, f"{what} is {size:,} bytes long (at most {max_bytes:,})", where)
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LoyaError(code, f"{what} is not valid UTF-8 (byte {exc.start})", where) from None
    try:
        value = json.loads(data, parse_int=_int, parse_float=float if floats else _float, parse_constant=_float)
    except _Refused as exc:
        raise LoyaError(code, f"{what}: {exc}", where) from None
    except json.JSONDecodeError as exc:
        at = f"line {exc.lineno} column {exc.colno}"
        raise LoyaError(code, f"{what} is not valid JSON: {exc.msg} ({at})", where) from None
    except RecursionError:
        raise LoyaError(code, f"{what} nests deeper than {MAX_JSON_DEPTH} levels", where) from None
    if depth(value) > MAX_JSON_DEPTH:
        raise LoyaError(code, f"{what} nests deeper than {MAX_JSON_DEPTH} levels", where)
    return value


def lines(file: IO[bytes], max_bytes: int) -> Iterator[tuple[int, bytes]]:
    """The non-blank lines of a JSONL file as (line number, bytes), split at b"\\n" only (as JSON
    Lines says; a \\r or \\u2028 inside a line is the parser's business). A line longer than
    ``max_bytes`` is yielded cut at ``max_bytes + 1`` bytes (so ``load`` refuses it by size) and the
    rest of it is skipped, never held in memory."""
    for number in itertools.count(1):
        line = file.readline(max_bytes + 1)
        if not line:
            return
        if len(line) > max_bytes and not line.endswith(b"\n"):
            while (rest := file.readline(1 << 20)) and not rest.endswith(b"\n"):
                pass
        if line.strip():
            yield number, line.removesuffix(b"\n")
