"""The JSONL reader's ``loads`` (msgspec first, ``json.loads`` for whatever msgspec refuses) is
``json.loads``: the same value (types, key order, floats to the bit) or the same error, on valid JSON,
on the cases where the two parsers differ, and on random mutations of receipt lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyadsl.simulate.inputs import FAST_BRACKETS, loads

SAMPLE = Path(__file__).parent / "data" / "completejourney" / "first230.jsonl.gz"


def reference(raw: bytes) -> tuple[str, Any]:
    try:
        return "ok", repr(json.loads(raw))
    except (ValueError, RecursionError) as exc:
        return "error", f"{type(exc).__name__}: {exc}"


def ours(raw: bytes) -> tuple[str, Any]:
    try:
        return "ok", repr(loads(raw))
    except (ValueError, RecursionError) as exc:
        return "error", f"{type(exc).__name__}: {exc}"


@pytest.mark.parametrize("raw", [
    b'{"a":1,"b":"\xff\xfe"}', b'{"\xff":1}', b'{"b":"\xc0\xaf"}', b'{"a":1,"b":2,"a":3}',
    b'{"a":' + b"9" * 30 + b"}", b'{"a":-' + b"9" * 4300 + b"}", b'{"a":' + b"9" * 4301 + b"}",
    b'{"b":"\xed\xa0\x80"}', b'{"b":"\\ud800"}', b'{"a":1e400}', b'{"a":1.7976931348623157e309}', b'{"a":NaN}',
    b'{"a":-Infinity}', b'\xef\xbb\xbf{"a":1}', b'{"a":1,}', b'{"a":01}', b'{"a":1}\x0b', b'{"a":"x\x01"}',
    b'{"a":-0.0,"b":0.1e1,"c":5e-324,"d":1E2}', b' {"a":1} \r\n', b'{"a":"\\u00e9\\ud83d\\ude00\xf0\x9f\x98\x80"}',
    b"[" * 600 + b"]" * 600, b'{"a":' * 400 + b"1" + b"}" * 400, b"", b"null", b"[1,2", b'"x"',
])
def test_where_the_parsers_differ(raw: bytes) -> None:
    assert ours(raw) == reference(raw)


def test_a_line_of_many_brackets_is_read_by_json_loads_alone() -> None:
    raw = b"[" * (FAST_BRACKETS + 1) + b"]" * (FAST_BRACKETS + 1)
    assert ours(raw) == reference(raw)


def sample_lines() -> list[bytes]:
    import gzip

    with gzip.open(SAMPLE, "rb") as f:
        return f.read().splitlines()[:40]


LINES = sample_lines()


def test_real_receipts_read_the_same() -> None:
    for raw in LINES:
        assert ours(raw) == reference(raw)


@settings(max_examples=400, deadline=None)
@given(line=st.sampled_from(LINES), at=st.integers(0, 10**6), junk=st.binary(min_size=1, max_size=4),
       cut=st.booleans())
def test_mutated_receipt_lines(line: bytes, at: int, junk: bytes, cut: bool) -> None:
    at %= len(line)
    raw = line[:at] + (b"" if cut else junk) + line[at + (len(junk) if cut else 0):]
    assert ours(raw) == reference(raw)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
              st.text()),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=4)),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(value=json_values, ascii_only=st.booleans())
def test_any_json_value(value: Any, ascii_only: bool) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    assert ours(raw) == reference(raw)
