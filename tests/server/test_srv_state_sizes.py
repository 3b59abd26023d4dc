"""A customer's stored state read with its text (processing._parsed -> ``CustomerState.from_dict(data,
decls, text)``): the sizes are seen in the text at once when they can be (``checks.sizes_within``), and
node by node otherwise. The shortcut never passes what the node-by-node check (``_check_sizes``) refuses,
for any JSON value written any way (hypothesis: long strings, escapes, lone surrogates, integers around
``MAX_VALUE``), and a reading with the text is the reading without it, refusals included."""

from __future__ import annotations

import json
from contextlib import suppress
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyadsl.runtime.errors import LoyaError
from loyadsl.runtime.limits import MAX_TEXT_CHARS, MAX_VALUE
from loyadsl.runtime.state import CustomerState
from loyadsl.runtime.state.checks import _check_sizes, sizes_within

_EDGES = [MAX_VALUE, -MAX_VALUE, MAX_VALUE + 1, -MAX_VALUE - 1, MAX_VALUE // 10, 10 * MAX_VALUE - 1, 10 ** 40]
_TEXTS = st.one_of(
    st.text(max_size=6),
    st.text(st.sampled_from(["a", "я", "\ud800", "\udfff", '"', "\\", "\n", "0", "9"]), max_size=6),
    st.builds(lambda n, c: c * n, st.integers(MAX_TEXT_CHARS - 3, MAX_TEXT_CHARS + 3),
              st.sampled_from(["a", "я", '"', "\\", "\n", "1"])))
_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10 ** 17, 10 ** 17), st.sampled_from(_EDGES),
              st.floats(allow_nan=False, allow_infinity=False), _TEXTS),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_TEXTS, inner, max_size=4)),
    max_leaves=12)


def _writings(value: dict[str, Any]) -> list[str]:
    out = [json.dumps(value), json.dumps(value, ensure_ascii=False), json.dumps(value, indent=1, ensure_ascii=False)]
    with suppress(msgspec.EncodeError, UnicodeError):  # a lone surrogate: msgspec does not write it
        out.append(msgspec.json.encode(value, order="sorted").decode())  # as the server stores a state
    return out


def _fails(data: dict[str, Any]) -> bool:
    try:
        _check_sizes(data)
    except LoyaError:
        return True
    return False


@settings(max_examples=1500, deadline=None)
@given(_VALUES)
def test_the_text_shortcut_never_passes_what_the_sizes_check_refuses(value: Any) -> None:
    for text in _writings({"x": value}):
        data = json.loads(text)
        if sizes_within(text):
            assert not _fails(data), text


def test_the_shortcut_sees_each_limit() -> None:
    assert sizes_within('{"a":"' + "x" * MAX_TEXT_CHARS + '","b":' + "9" * (len(str(MAX_VALUE)) - 1) + "}")
    for text in ['{"a":"' + "x" * (MAX_TEXT_CHARS + 1) + '"}', '{"a":' + str(MAX_VALUE) + "}", '{"a":"\\ud800"}',
                 '{"a":"\\n"}', '{"a":"\ud800"}']:
        assert not sizes_within(text), text


def _reading(data: Any, text: str | None) -> Any:
    try:
        return CustomerState.from_dict(data, None, text)
    except LoyaError as exc:
        return exc.code, exc.message, exc.where


def test_the_example_states_take_the_shortcut_and_read_alike(customers: list[dict[str, Any]]) -> None:
    texts = [msgspec.json.encode(CustomerState.from_dict(c).to_dict(), order="sorted").decode() for c in customers]
    assert sum(map(sizes_within, texts)) >= 0.9 * len(texts)
    for text in texts:
        assert _reading(json.loads(text), text) == _reading(json.loads(text), None)


_STATE = st.fixed_dictionaries({"id": _TEXTS}, optional={
    "city": _TEXTS, "attributes": st.dictionaries(_TEXTS, _TEXTS, max_size=3), "receipts": st.sampled_from(_EDGES),
    "segments": st.lists(_TEXTS, max_size=3), "coupon_uses": st.dictionaries(_TEXTS, st.integers(-2, 2), max_size=2),
    "accounts": st.dictionaries(st.sampled_from(["bonus", "b"]), st.fixed_dictionaries({
        "balance": st.sampled_from([*_EDGES, 0, 5]), "lots": st.just([])}), max_size=1)})


@pytest.mark.parametrize("how", ["ascii", "utf-8"])
@settings(max_examples=400, deadline=None)
@given(state=_STATE)
def test_a_state_read_with_its_text_is_read_as_without(how: str, state: dict[str, Any]) -> None:
    text = json.dumps(state, ensure_ascii=how == "ascii")
    assert _reading(json.loads(text), text) == _reading(json.loads(text), None)
