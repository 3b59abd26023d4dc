"""The reader's nesting check (``inputs.deeper``) says what ``jsonio.depth`` says, at any limit."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from loyadsl.runtime.jsonio import depth
from loyadsl.simulate.inputs import deeper

json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=3),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner,
                                                                                      max_size=4), max_leaves=40)


@given(json_values, st.integers(0, 8))
def test_deeper_is_depth_beyond_the_limit(value: Any, limit: int) -> None:
    assert deeper(value, limit) == (depth(value) > limit)


def test_a_deep_receipt_and_a_wide_one() -> None:
    deep: Any = "x"
    for _ in range(40):
        deep = {"a": [deep]}
    assert deeper(deep, 32) and not deeper({"lines": [{"attrs": {"k": "v"}}] * 5000}, 32)
