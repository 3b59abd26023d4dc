"""The hot paths of calculate and confirm (loyadsl/server/hot.py) accept only what the Starlette path
accepts, as the same value: every body the msgspec decoder takes, the slow parser (the runtime's JSON
limits and the pydantic model) takes too and reads equal; the rest is left to the slow path."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_srv_bad_input import CASES, DATA, _content

from loyadsl.runtime.errors import LoyaError
from loyadsl.runtime.limits import MAX_INT_DIGITS
from loyadsl.server.app import _parse
from loyadsl.server.errors import CONFLICT, Problem
from loyadsl.server.hot import _LONG_DIGITS, decode, long_digits
from loyadsl.server.metrics import Metrics
from loyadsl.server.models import ENDPOINTS
from loyadsl.server.respond import answer, answer_raw, perform
from loyadsl.server.store import Stored

RECEIPT = next(e for e in ENDPOINTS if e.name == "confirm")
BASE = DATA["base"]
LINE = BASE["lines"][0]
BODIES: list[tuple[str, bytes]] = [(c["name"], _content(c) or b"") for c in CASES if c["path"] in ("/v1/confirm",
                                                                                                   "/v1/calculate")]
VARIANTS: list[tuple[str, Any]] = [
    ("base", BASE),
    ("extra fields", {**BASE, "note": {"a": [1, 2, {"b": None}]}, "lines": [{**LINE, "attrs": {"x": "y"}}]}),
    ("redeem points", {**BASE, "redeem": {"points": 50}}),
    ("redeem extra key", {**BASE, "redeem": {"points": 50, "more": 1}}),
    ("redeem a float", {**BASE, "redeem": {"points": 5.0}}),
    ("redeem true", {**BASE, "redeem": {"points": True}}),
    ("qty as text", {**BASE, "lines": [{**LINE, "qty": "1.5"}]}),
    ("qty a float", {**BASE, "lines": [{**LINE, "qty": 1.5}]}),
    ("line_no a bool", {**BASE, "lines": [{**LINE, "line_no": True}]}),
    ("line_no as text", {**BASE, "lines": [{**LINE, "line_no": "1"}]}),
    ("customer null", {**BASE, "customer_id": None}),
    ("customer a number", {**BASE, "customer_id": 101}),
    ("coupons", {**BASE, "coupons": ["A", "B"]}),
    ("coupons not text", {**BASE, "coupons": [1]}),
    ("certificate", {**BASE, "certificates": [{"code": "G1", "amount": 500}]}),
    ("certificate extra key", {**BASE, "certificates": [{"code": "G1", "x": 1}]}),
    ("a long integer", {**BASE, "lines": [{**LINE, "weight": 10 ** 45}]}),
    ("beyond 64 bits", {**BASE, "lines": [{**LINE, "weight": -(10 ** 30)}]}),
    ("fractions", {**BASE, "lines": [{**LINE, "weight": 0.1, "volume": 1e-7, "q": 2.5e300}]}),
    ("a long digit string", {**BASE, "sku_list": "9" * 50}),
    ("deep extras", {**BASE, "x": json.loads("[" * 31 + "]" * 31)}),
    ("too deep extras", {**BASE, "x": json.loads("[" * 40 + "]" * 40)}),
    ("many lines", {**BASE, "lines": [{**LINE, "line_no": n} for n in range(1, 60)]}),
    ("unicode", {**BASE, "receipt_id": "чек-№1 \u2028"}),
]
BODIES += [(name, json.dumps(value).encode()) for name, value in VARIANTS]
BODIES += [("duplicate key", b'{"receipt_id": "A", ' + json.dumps(BASE).encode()[1:]),
           ("NaN", json.dumps({**BASE, "x": float("nan")}).encode()),
           ("a lone surrogate", json.dumps({**BASE, "receipt_id": "\ud800"}).encode()),
           ("whitespace", b"  \n" + json.dumps(BASE).encode() + b"\n")]


@pytest.mark.parametrize("body", [b for _, b in BODIES], ids=[n for n, _ in BODIES])
def test_the_hot_decoder_takes_only_what_the_slow_parser_takes(body: bytes) -> None:
    hot = decode(body)
    try:
        slow = _parse(body, RECEIPT)
    except LoyaError:
        assert hot is None
        return
    assert hot is None or hot == slow


# bytes with digit runs about as long as the limit, among other bytes (non-ASCII digits included)
_RUNS = st.lists(st.one_of(st.binary(max_size=8), st.integers(MAX_INT_DIGITS - 2, MAX_INT_DIGITS + 2).map(
    lambda n: b"7" * n), st.sampled_from([b"0", b"9", b"/", b":", "\u0663".encode(), b"\xd9\xa3", b"-", b"."])),
    max_size=12).map(b"".join)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(st.binary(max_size=200), _RUNS))
def test_the_digit_run_check_is_the_regex(body: bytes) -> None:
    assert long_digits(body) == (_LONG_DIGITS.search(body) is not None)


def test_the_digit_run_check_finds_a_run_at_either_end() -> None:
    run = b"1" * (MAX_INT_DIGITS + 1)
    assert long_digits(run) and long_digits(b"x" + run) and long_digits(run + b"}")
    assert not long_digits(run[1:]) and not long_digits(run[1:] + b" " + run[1:])


def test_an_ordinary_receipt_takes_the_hot_path() -> None:
    assert sum(decode(b) is not None for _, b in BODIES) >= 8
    assert decode(json.dumps(BASE).encode()) == BASE


def _fail(exc: Exception) -> Any:
    def work() -> Any:
        raise exc
    return work


OUTCOMES: list[tuple[str, Any]] = [
    ("an answer", lambda: {"receipt_id": "R1", "status": "calculated", "outcome": {"payable": 100, "x": [1, None]}}),
    ("a stored answer", lambda: Stored("h", 200, {"receipt_id": "чек", "status": "confirmed"})),
    ("a problem", _fail(Problem(CONFLICT, "receipt 'R1' was confirmed with another body", "receipt_id"))),
    ("a refusal", _fail(LoyaError("LOY501", "bad time", "receipt.datetime"))),
    ("a failure", _fail(RuntimeError("secret inside"))),
    ("an answer that cannot be written", lambda: {"receipt_id": "R1", "x": object()}),
]


@pytest.mark.parametrize("work", [w for _, w in OUTCOMES], ids=[n for n, _ in OUTCOMES])
def test_the_hot_answer_is_the_slow_one(work: Any) -> None:
    """The hot paths send their answer as raw ASGI messages (respond.answer_raw): the same status,
    headers and bytes as Starlette's response of the slow path, and the same metrics."""
    async def both() -> tuple[list[Any], list[Any]]:
        hot: list[Any] = []
        slow: list[Any] = []

        async def send_hot(message: Any) -> None:
            hot.append(message)

        async def send_slow(message: Any) -> None:
            slow.append(message)

        await answer_raw(RECEIPT, fast_metrics, 0.0, work, send_hot)
        response = await answer(RECEIPT, slow_metrics, 0.0, perform(RECEIPT, work))
        await response({"type": "http"}, None, send_slow)  # type: ignore[arg-type]
        return hot, slow

    fast_metrics, slow_metrics = Metrics(), Metrics()
    hot, slow = asyncio.run(both())
    assert [m["type"] for m in hot] == [m["type"] for m in slow] == ["http.response.start", "http.response.body"]
    assert hot[0]["status"] == slow[0]["status"]
    assert hot[1]["body"] == slow[1]["body"] and b"secret" not in hot[1]["body"]
    timing = [(k, v) for k, v in slow[0]["headers"] if k == b"server-timing"]
    assert [(k, v) for k, v in hot[0]["headers"] if k != b"server-timing"] == [h for h in slow[0]["headers"]
                                                                             if h[0] != b"server-timing"]
    assert [k for k, _ in hot[0]["headers"] if k == b"server-timing"] == [k for k, _ in timing]
    assert fast_metrics.requests == slow_metrics.requests and fast_metrics.errors == slow_metrics.errors
