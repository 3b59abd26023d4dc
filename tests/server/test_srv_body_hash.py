"""The idempotency hash of a request body must never change (a retry after an upgrade hashes as the
first request did): ``processing.body_hash`` (msgspec where it writes what json.dumps writes) is
the hash of ``sql.dumps`` for every JSON value, floats, infinities, big integers and any text included."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from loyadsl.server.processing import _FLOAT_MARK, body_hash, float_mark
from loyadsl.server.sql import dumps

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(-(10**40), 10**40),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(),
                    st.sampled_from(["null", "1.5", "1e5", "x9E", "\x00\x1f\x7f", "\u2028", "\ud800", "é😀"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=5)),
                      max_leaves=30)


def _old(value: Any) -> str | None:
    try:
        return hashlib.sha256(dumps(value).encode()).hexdigest()
    except (TypeError, ValueError, UnicodeEncodeError):
        return None


def _new(value: Any) -> str | None:
    try:
        return body_hash(value)
    except (TypeError, ValueError, UnicodeEncodeError):
        return None


@settings(max_examples=1500, deadline=None)
@given(VALUES)
def test_the_hash_is_the_canonical_jsons(value: Any) -> None:
    assert _new(value) == _old(value)


def test_a_receipt() -> None:
    receipt = {"receipt_id": "R-1", "customer_id": None, "store_id": "S001", "datetime": "2025-03-03T12:00:00+03:00",
               "redeem": {"points": 50}, "lines": [{"line_no": 1, "sku": "SKU0800", "qty": 1.5, "amount": 10990}]}
    assert body_hash(receipt) == hashlib.sha256(dumps(receipt).encode()).hexdigest()
    assert body_hash(json.loads(json.dumps(receipt))) == body_hash(dict(reversed(receipt.items())))


@settings(max_examples=1500, deadline=None)
@given(st.one_of(st.binary(max_size=100), st.lists(st.sampled_from([b"0", b"9", b".", b"e", b"E", b"/", b":", b"d",
                                                                    b"-", b"\xb9", b"\xd9\xa3", b" "]),
                                                   max_size=12).map(b"".join)))
def test_the_float_mark_check_is_the_regex(text: bytes) -> None:
    assert float_mark(text) == (_FLOAT_MARK.search(text) is not None)
