"""The comparison rules of docs/testing.md ("Expectations"), as data: (expected, actual, the paths
that differ)."""

from __future__ import annotations

from typing import Any

import pytest

from loyadsl.mechtest.match import compare

CASES: list[tuple[str, Any, Any, list[tuple[Any, ...]]]] = [
    ("a mapping expects only its keys", {"a": 1}, {"a": 1, "b": 2}, []),
    ("a wrong value", {"a": 1}, {"a": 2}, [("a",)]),
    ("a missing key", {"a": 1}, {}, [("a",)]),
    ("null expects the key absent", {"a": None}, {}, []),
    ("null expects the key absent or null", {"a": None}, {"a": None}, []),
    ("null is not a value", {"a": None}, {"a": 0}, [("a",)]),
    ("a list of values is one difference", {"p": [1, 2]}, {"p": [1, 3]}, [("p",)]),
    ("a list's length", [1], [1, 2], [()]),
    ("a list of mappings item by item", [{"a": 1}, {"a": 2}], [{"a": 1, "x": 0}, {"a": 3}], [(1, "a")]),
    ("nested mappings", {"s": {"c": {"v": 1}}}, {"s": {"c": {"v": 2, "p": "all"}}}, [("s", "c", "v")]),
    ("1 is not true", {"a": 1}, {"a": True}, [("a",)]),
    ("true is not 1 inside a list", [True], [1], [()]),
    ("an empty mapping expects nothing", {}, {"a": 1}, []),
    ("a mapping is not a list", {"a": {"b": 1}}, {"a": [1]}, [("a",)]),
]


@pytest.mark.parametrize(("expected", "actual", "paths"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_compare(expected: Any, actual: Any, paths: list[tuple[Any, ...]]) -> None:
    assert [m.path for m in compare(expected, actual)] == paths


def test_a_difference_reads_well() -> None:
    (missing,) = compare({"state": {"counters": {"stamps": {"value": 3}}}}, {"state": {"counters": {}}})
    assert missing.describe() == 'state.counters.stamps: expected {"value": 3}, but there is no `stamps`'
    (wrong,) = compare({"discount": [1000]}, {"discount": [999]})
    assert wrong.describe() == "discount: expected [1000], got [999]"
