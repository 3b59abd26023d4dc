"""Expected against actual. A mapping expects only the keys it writes (the rest of the actual record
is free; a key written `null` must be absent or null), a list expects exactly its length and each item in turn (a list of plain values is one
difference as a whole), anything else equality. The
result is every difference, each with its path, so a report can name the line of the expectation."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Mismatch:
    path: Path_  # inside the expectation: ("state", "counters", "stamps")
    expected: Any
    actual: Any
    missing: bool = False  # the actual record has no such key

    def describe(self) -> str:
        where = ".".join(str(p) for p in self.path)
        if self.missing:
            return f"{where}: expected {show(self.expected)}, but there is no `{self.path[-1]}`"
        return f"{where}: expected {show(self.expected)}, got {show(self.actual)}"


def show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def compare(expected: Any, actual: Any, path: Path_ = ()) -> list[Mismatch]:
    if isinstance(expected, dict) and isinstance(actual, dict):
        out: list[Mismatch] = []
        for key, want in expected.items():
            if key not in actual:
                if want is not None:  # `key: null` expects the key absent (or null)
                    out.append(Mismatch((*path, key), want, None, missing=True))
            else:
                out += compare(want, actual[key], (*path, key))
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual) or not any(isinstance(x, dict | list) for x in expected):
            return [] if _same(expected, actual) else [Mismatch(path, expected, actual)]
        return [m for i, (want, got) in enumerate(zip(expected, actual, strict=True))
                for m in compare(want, got, (*path, i))]
    return [] if _same(expected, actual) else [Mismatch(path, expected, actual)]


def _same(expected: Any, actual: Any) -> bool:
    """Equal, and a boolean only to a boolean (``1 == True`` in Python, not in a test)."""
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(_same(a, b) for a, b in zip(expected, actual, strict=True))
    if isinstance(expected, dict) or isinstance(actual, dict):
        return not compare(expected, actual) if isinstance(expected, dict) and isinstance(actual, dict) else False
    return expected == actual and isinstance(expected, bool) == isinstance(actual, bool)
