"""The reader's byte scans of a JSONL line (``inputs._jsonl``, ``inputs._plain_text``) against their
plain definitions: a run of digits past Python's integer limit, and the count of ``{`` and ``[``."""

from __future__ import annotations

import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from loyadsl.simulate import inputs

LIMIT = 640  # the least limit Python allows: short lines reach it


def plain_run(raw: bytes, limit: int) -> bool:
    run = longest = 0
    for byte in raw:
        run = run + 1 if 48 <= byte <= 57 else 0
        longest = max(longest, run)
    return longest > limit


pieces = st.one_of(st.binary(max_size=40), st.integers(0, 2 * LIMIT).map(lambda n: b"7" * n),
                   st.integers(LIMIT - 3, LIMIT + 3).map(lambda n: b"0123456789" * (n // 10) + b"5" * (n % 10)),
                   st.sampled_from([b"{", b"[", b'{"a":[1,{"b":2}]}', b"\\ud800", b"x"]))


@settings(max_examples=400, deadline=None)
@given(parts=st.lists(pieces, max_size=12), limit=st.sampled_from([LIMIT, LIMIT + 1, LIMIT + 3, 4300]))
def test_the_digit_run_check_is_the_plain_scan(parts: list[bytes], limit: int) -> None:
    raw = b"".join(parts)
    assert inputs._digit_run(raw, limit) == plain_run(raw, limit)


@settings(max_examples=200, deadline=None)
@given(parts=st.lists(pieces, max_size=12))
def test_plain_text_refuses_a_run_past_the_interpreters_limit(parts: list[bytes]) -> None:
    raw = b"".join(parts)
    before = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(LIMIT)
    try:
        refused = not inputs._plain_text(raw)
    finally:
        sys.set_int_max_str_digits(before)
    if plain_run(raw, LIMIT):
        assert refused


@given(raw=st.binary(max_size=300))
def test_the_bracket_count_is_two_counts(raw: bytes) -> None:
    assert len(raw.translate(None, inputs._NOT_BRACKETS)) == raw.count(b"{") + raw.count(b"[")
