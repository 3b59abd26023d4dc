"""The states the server wrote are read back without validating them again (``trusted_state``) when their
row's seal is that of their text under the engine's key (``processing._read_state``, ``sql.seal``); every
other row is validated (``from_dict``). The two readings agree on every state the server writes (random
histories of the example programme through calculate, confirm and return; random valid states with every
field), to the types of the values inside; a row without a seal (written before migration 4, or by a
path that does not seal), with another programme's seal, a seal changed or a text changed is validated,
and refused with its coded error when invalid."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from srv_support import EXAMPLE, Server
from test_srv_protocol import CUSTOMER, receipt

from loyadsl.api import compile_file
from loyadsl.runtime import Engine, load_bundle
from loyadsl.runtime.errors import LoyaError
from loyadsl.runtime.state import CustomerState
from loyadsl.runtime.state.trusted import trusted_state
from loyadsl.server import processing
from loyadsl.server.connect import open_store
from loyadsl.server.processing import Processor, _read_state
from loyadsl.server.sql import decode, encode, seal, seal_key
from loyadsl.server.store import Key

ROOT = Path(__file__).resolve().parents[2]
_DATA, _ = compile_file(EXAMPLE / "programme.loya")
_OTHER, _ = compile_file(Path(__file__).parent / "data" / "chains.loya")
assert _DATA is not None and _OTHER is not None
ENGINE = Engine(load_bundle(_DATA))
OTHER = Engine(load_bundle(_OTHER))
CUSTOMERS = [json.loads(line) for line in (EXAMPLE / "customers.jsonl").read_text(encoding="utf-8").splitlines()]
RECEIPTS = [json.loads(line) for line in (EXAMPLE / "receipts.jsonl").read_text(encoding="utf-8").splitlines()]


def shape(value: Any) -> Any:
    """``value`` with the type of every value inside it (models, containers, leaves)."""
    if isinstance(value, BaseModel):
        return type(value), {key: shape(item) for key, item in value.__dict__.items()}
    if isinstance(value, dict):
        return dict, {key: shape(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value), [shape(item) for item in value]
    return type(value), value


def assert_read_alike(text: str, engine: Engine = ENGINE) -> CustomerState:
    trusted = trusted_state(decode(text))
    validated = CustomerState.from_dict(decode(text), engine.bundle.state, text)
    assert trusted == validated and trusted.to_dict() == validated.to_dict() == decode(text)
    assert shape(trusted) == shape(validated)
    assert json.dumps(trusted.to_dict()) == json.dumps(validated.to_dict())  # the keys in the same order too
    return trusted


# ----------------------------------------------------------------------------- the server's histories


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[str, int]]:
    """Receipts of the example (by index) calculated, confirmed or returned after their confirm, in order."""
    picked = draw(st.lists(st.integers(0, len(RECEIPTS) - 1), min_size=1, max_size=14, unique=True))
    return [(draw(st.sampled_from(["calculate", "confirm", "confirm", "return"])), index) for index in sorted(picked)]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(history=histories())
def test_every_state_the_server_writes_is_sealed_and_read_alike_both_ways(tmp_path: Path,
                                                                         history: list[tuple[str, int]]) -> None:
    store = open_store(f"sqlite:///{tmp_path / f'h{abs(hash(tuple(history)))}.db'}")
    store.upgrade()
    processor = Processor(store)
    processor.install_bundle(_DATA)
    processor.import_customers(CUSTOMERS)
    booked = 0
    for op, index in history:
        record = RECEIPTS[index]
        till = Key("till", record["store_id"])
        try:
            if op == "calculate":
                processor.calculate(dict(record), till)
                continue
            processor.confirm(dict(record), till)
            booked += 1
            if op == "return":
                processor.refund({"return_id": f"RET-{record['receipt_id']}", "receipt_id": record["receipt_id"],
                                  "datetime": record["datetime"], "store_id": record["store_id"]}, till)
        except LoyaError:
            pass  # a receipt the programme or the server refuses: nothing written
    key = seal_key(processor.current_engine())
    assert key is not None
    with store.transaction() as tx:
        rows = tx.conn.execute("SELECT state, seal FROM customers").fetchall()  # type: ignore[attr-defined]
    assert len(rows) >= len(CUSTOMERS) and booked >= sum(op != "calculate" for op, _ in history) // 2
    for text, sealed in rows:
        assert sealed == seal(key, text), "a state the server wrote without its seal"
        assert_read_alike(text)
    store.close()


# ------------------------------------------------------------------------------------ random valid states

_TIMES = st.integers(0, 4000 * 86400).map(lambda s: (dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
                                                      + dt.timedelta(seconds=s)).isoformat())
_OFFSET_TIMES = st.tuples(_TIMES, st.sampled_from(["+00:00", "+03:00", "-05:30"])).map(
    lambda t: dt.datetime.fromisoformat(t[0]).astimezone(dt.timezone(dt.timedelta(
        hours=int(t[1][:3]), minutes=int(t[1][0] + t[1][4:])))).isoformat())
_DATES = st.integers(0, 20000).map(lambda d: (dt.date(1950, 1, 1) + dt.timedelta(days=d)).isoformat())
_NAMES = st.text("abcxyz_", min_size=1, max_size=6)
_COUNT = st.integers(0, 10**6)


@st.composite
def _accounts(draw: st.DrawFn) -> dict[str, Any]:
    accounts = {}
    for name in draw(st.sets(st.sampled_from(["bonus", "promo"]), max_size=2)):
        lots = []
        for n in range(draw(st.integers(0, 4))):
            points = draw(st.integers(1, 10**5))
            lots.append({"id": f"L{n}", "points": points, "left": draw(st.integers(0, points)),
                         "active_from": draw(_OFFSET_TIMES), "expires": draw(st.none() | _TIMES),
                         "receipt": draw(st.none() | _NAMES), "campaign": draw(st.none() | _NAMES)})
        debt = draw(st.integers(0, 300)) if name == "bonus" else 0  # the example's credit limit
        accounts[name] = {"balance": sum(lot["left"] for lot in lots) - debt, "debt": debt, "lots": lots}
    return accounts


@st.composite
def states(draw: st.DrawFn) -> dict[str, Any]:
    """A customer record with any of its fields (valid; ``from_dict`` puts it in canonical form)."""
    raw: dict[str, Any] = {"id": draw(st.text(min_size=1, max_size=8)), "receipts": draw(_COUNT)}
    optional: dict[str, Any] = {
        "registered": st.none() | _DATES, "birthday": st.none() | _DATES,
        "children_birthdays": st.lists(_DATES, max_size=3), "gender": st.none() | _NAMES,
        "city": st.none() | st.text(max_size=5), "registration_channel": st.none() | _NAMES,
        "consents": st.dictionaries(_NAMES, st.booleans(), max_size=2),
        "attributes": st.dictionaries(_NAMES, st.text(max_size=4), max_size=3),
        "segments": st.lists(_NAMES, max_size=3), "tier": st.none() | st.sampled_from(["bronze", "silver", "gold"]),
        "accounts": _accounts(),
        "counters": st.dictionaries(_NAMES, st.fixed_dictionaries({"value": _COUNT, "period": _NAMES}), max_size=2),
        "coupons": st.lists(st.fixed_dictionaries({
            "code": _NAMES, "series": _NAMES, "issued": _OFFSET_TIMES, "valid_from": _TIMES,
            "valid_to": st.none() | _TIMES, "uses_left": st.integers(0, 3)}), max_size=3, unique_by=lambda c: c["code"]),
        "coupon_uses": st.dictionaries(_NAMES, st.integers(0, 4), max_size=2),
        "certificates": st.lists(st.integers(1, 10**5).flatmap(lambda value: st.fixed_dictionaries({
            "code": _NAMES, "series": _NAMES, "value": st.just(value), "balance": st.integers(0, value),
            "expires": st.none() | _TIMES, "multi_use": st.booleans()})), max_size=2, unique_by=lambda c: c["code"]),
        "qualification": st.none() | st.lists(st.tuples(st.integers(700000, 740000), st.integers(0, 900)), max_size=3,
                                              unique_by=lambda d: d[0]).flatmap(lambda days: st.fixed_dictionaries({
                                                  "period": _NAMES, "value": st.just(sum(v for _, v in days)),
                                                  "previous": _COUNT, "days": st.just([list(d) for d in days])})),
        "usage": st.dictionaries(_NAMES, st.dictionaries(_NAMES, st.integers(0, 5), max_size=2), max_size=2),
        "referral": st.none() | st.fixed_dictionaries({"referred_by": st.none() | _NAMES, "rewarded": st.booleans()}),
        "returns": st.dictionaries(_NAMES, st.dictionaries(st.integers(1, 40).map(str), st.integers(0, 3), max_size=2),
                                   max_size=2),
        "applied": st.dictionaries(_NAMES, _OFFSET_TIMES, max_size=3),
        "history": st.none() | st.fixed_dictionaries({
            "days": st.lists(st.lists(_COUNT, min_size=4, max_size=4), max_size=3),
            "tracks": st.dictionaries(_NAMES, st.lists(st.lists(_COUNT, min_size=3, max_size=3), max_size=2), max_size=2),
            "spend": _COUNT, "receipts": _COUNT, "coupons": _COUNT, "first": st.none() | _COUNT,
            "last": st.none() | _COUNT}),
        "chains": st.dictionaries(_NAMES, st.fixed_dictionaries({
            "key": _NAMES, "entered": _OFFSET_TIMES, "step": st.integers(0, 5), "due": st.none() | _TIMES,
            "bought": st.booleans(), "sent": st.lists(_TIMES, max_size=2)}), max_size=2),
        "scores": st.none() | st.fixed_dictionaries({
            "model": _NAMES, "version": st.integers(1, 9), "as_of": _DATES, "refreshed": _OFFSET_TIMES,
            "fitted": st.lists(_NAMES, max_size=2), "values": st.dictionaries(_NAMES, st.integers(-5, 10**6),
                                                                              max_size=3)}),
    }
    for name in draw(st.sets(st.sampled_from(sorted(optional)))):
        raw[name] = draw(optional[name])
    if draw(st.booleans()):
        members = {raw["id"]: {"accrue": True, "redeem": True, "redeem_limit": None},
                   "M2": {"accrue": draw(st.booleans()), "redeem": False, "redeem_limit": draw(st.none() | _COUNT)}}
        raw["shared"] = {"id": "F1", "owner": draw(st.sampled_from(sorted(members))), "members": members,
                         "accounts": draw(_accounts())}
    return raw


@settings(max_examples=400, deadline=None)
@given(raw=states())
def test_a_valid_state_with_any_field_reads_alike_both_ways(raw: dict[str, Any]) -> None:
    state = CustomerState.from_dict(raw, ENGINE.bundle.state)
    assert assert_read_alike(encode(state.to_dict())) == state


def test_the_example_customers_read_alike_both_ways() -> None:
    for raw in CUSTOMERS:
        assert_read_alike(encode(CustomerState.from_dict(raw, ENGINE.bundle.state).to_dict()))


# ------------------------------------------------------------------------------------ which rows are trusted


def _invalid(server: Server) -> str:
    """The customer's state in full, with a field no validation passes (a negative receipt count)."""
    with server.store.transaction() as tx:
        text = tx.customer_text(CUSTOMER)
    assert text is not None
    return encode({**decode(text), "receipts": -1})


def _put(server: Server, text: str, sealed: str | None) -> None:
    server.processor._states.clear()
    with server.store.transaction(write=True) as tx:
        tx.write("UPDATE customers SET state = ?, seal = ? WHERE id = ?", text, sealed, CUSTOMER)  # type: ignore[attr-defined]


def _refused(server: Server, rid: str) -> None:
    answer = server.post("/v1/calculate", receipt(rid))
    assert answer.status_code == 422 and answer.json()["cause"] == "LOY502", answer.text


def test_rows_the_server_wrote_are_read_the_trusted_way(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """Imported (validated) and confirmed (made by ``apply``) states are sealed, and read without ``from_dict``."""
    validated: list[str] = []
    real = CustomerState.from_dict.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(CustomerState, "from_dict", classmethod(lambda cls, *a, **k: (validated.append("x"), real(cls, *a, **k))[1]))
    server.processor._states.clear()
    assert server.post("/v1/calculate", receipt("T1")).status_code == 200
    assert server.post("/v1/confirm", receipt("T2")).status_code == 200
    server.processor._states.clear()
    assert server.post("/v1/calculate", receipt("T3")).status_code == 200
    assert validated == []


def test_an_unsealed_row_is_validated_and_refused_when_invalid(server: Server) -> None:
    """NULL: a row from before migration 4, or written by a path that does not seal."""
    _put(server, _invalid(server), None)
    _refused(server, "N1")
    _refused(server, "N2")  # a refused state is not kept


def test_a_row_sealed_for_another_programme_is_validated(server: Server) -> None:
    other = seal_key(OTHER)
    assert other is not None and other != seal_key(server.processor.current_engine())
    text = _invalid(server)
    _put(server, text, seal(other, text))
    _refused(server, "O1")


def test_a_changed_seal_or_a_changed_text_is_validated(server: Server) -> None:
    key = seal_key(server.processor.current_engine())
    assert key is not None
    with server.store.transaction() as tx:
        valid = tx.customer_text(CUSTOMER)
    assert valid is not None
    text = _invalid(server)
    right = seal(key, text)
    _put(server, text, ("0" if right[0] != "0" else "1") + right[1:])
    _refused(server, "C1")
    _put(server, text, seal(key, valid))  # the seal of the text before it was changed by hand
    _refused(server, "C2")
    _put(server, valid, seal(key, valid))
    assert server.post("/v1/calculate", receipt("C3")).status_code == 200


def test_a_sealed_text_of_another_form_is_validated() -> None:
    """A sealed record the trusted reading cannot take (not the form ``to_dict`` writes) is validated."""
    key = seal_key(ENGINE)
    assert key is not None
    for raw in ({"id": "X1", "receipts": -1}, {"id": "X1", "accounts": []}):
        text = encode(raw)
        with pytest.raises(processing.Problem) as info:
            _read_state(decode(text), ENGINE, text, seal(key, text))
        assert info.value.cause == "LOY502"
    assert _read_state({"id": "X2"}, ENGINE, encode({"id": "X2"}), seal(key, encode({"id": "X2"}))).id == "X2"
