"""The generated driver (runtime/driver.py) runs the stateless path without a trace; the engine's
general loop (``Engine._group``) runs every other. On random stateless programmes of several groups
(every stacking mode and basis, caps, SKU-gated campaigns, groups big enough to keep the general
loop) and random receipts, the driver's outcome is the general loop's, field for field."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, LoyaError, driver, load_bundle

from . import strategies
from .compare import general_loop, outcomes
from .test_fuzz_sku_skip import SKU_ACTIONS

STATELESS_CLAUSES = strategies._pick([
    "priority 10", "valid 2025-01-01 .. 2025-12-31", "weekdays mon..fri", "hours 10:00 .. 16:00", "stores moscow",
    "channels [pos]", "audience customer.known", "limit 2 per receipt"])
CAPS = strategies._pick(["", "max discount 100.00 RUB per receipt", "max discount 0.01 RUB per receipt",
                         "max points 100 points per receipt", "max points 1 points per receipt",
                         "max discount 1.00 RUB per receipt  max points 2 points per receipt"])
CONDITIONS = strategies.VALID_CONDITION.filter(lambda c: "customer.receipts" not in c)  # (state)
ACTIONS = st.one_of(strategies.VALID_ACTION.filter(lambda a: "discount 0%" not in a), strategies._pick(SKU_ACTIONS))


def header_and_groups(draw: st.DrawFn) -> tuple[list[str], int]:
    """A programme's header, a SKU and a store list, and 1-3 groups, each with its own stacking and basis."""
    parts = [draw(strategies.VALID_HEADER), 'skus some = ["A", "B", "SKU00001"]', 'stores moscow = ["S1", "S001"]']
    groups = draw(st.integers(1, 3))
    for g in range(groups):
        basis = draw(strategies._pick(["original", "discounted"]))
        parts.append(f"group g{g} {{ priority {100 - g}  stacking {draw(strategies.STACKING)}  basis {basis} }}")
    return parts, groups


@st.composite
def programmes(draw: st.DrawFn) -> str:
    """A programme without customer state: 1-3 groups, each with its own stacking and basis."""
    parts, groups = header_and_groups(draw)
    for i in range(draw(st.integers(1, 12))):  # more than 8 SKU-gated campaigns keep the general loop
        clauses = [f"group g{draw(st.integers(0, groups - 1))}",
                   *draw(st.lists(STATELESS_CLAUSES, max_size=3, unique=True)), draw(CAPS)]
        if draw(st.booleans()):
            clauses.append(f"when {draw(CONDITIONS)}")
        clauses.append("then " + "\n        ".join(draw(st.lists(ACTIONS, min_size=1, max_size=3))))
        parts.append(f'campaign c{i} "Кампания {i}" {{\n    ' + "\n    ".join(clauses) + "\n}")
    return "\n\n".join(parts) + "\n"


@st.composite
def _line(draw: st.DrawFn, line_no: int) -> dict[str, Any]:
    qty = draw(st.sampled_from([1, 2, 3, 7, 0.5, 1.25]))
    price = draw(st.sampled_from([0, 1, 99, 4999, 10_000, 123_457]))
    line = {"line_no": line_no, "sku": draw(st.sampled_from(["A", "B", "C", "SKU00001", "Q1", "Q2", "Z9"])),
            "category": draw(st.sampled_from(["dairy", "dairy/milk", "sweets", "tobacco", "food", "cafe/coffee"])),
            "qty": qty, "unit_price": price, "amount": int(price * qty)}
    if draw(st.booleans()):
        line["brand"] = draw(st.sampled_from(["BR1", "BR007"]))
    if draw(st.integers(0, 5)) == 0:
        line["min_price"] = draw(st.integers(0, price))
    if draw(st.booleans()):
        line["attrs"] = {"colour": draw(st.sampled_from(["red", "blue"]))}
    return line


@st.composite
def _receipt(draw: st.DrawFn) -> dict[str, Any]:
    """A valid receipt without state (no coupons, redemption or certificates)."""
    day, hour = draw(st.integers(1, 28)), draw(st.integers(0, 23))
    receipt = {"receipt_id": f"R{draw(st.integers(1, 99))}", "store_id": draw(st.sampled_from(["S1", "S001", "S9"])),
               "datetime": f"2025-{draw(st.sampled_from(['03', '06', '12']))}-{day:02d}T{hour:02d}:30:00+03:00",
               "channel": draw(st.sampled_from(["pos", "online"])),
               "lines": [draw(_line(i + 1)) for i in range(draw(st.integers(1, 8)))]}
    if draw(st.booleans()):
        receipt["customer_id"] = "C1"
    return receipt


def _receipts() -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(_receipt(), min_size=1, max_size=4)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(programmes(), _receipts(), st.sampled_from([driver.INLINE, 0, 1, 3]))
def test_the_driver_gives_the_general_loops_outcome(source: str, receipts: list[dict[str, Any]], inline: int) -> None:
    """Whether the driver holds every campaign's code inline, none, or the first few and calls the rest."""
    data, _ = compile_text(source, "p.loya")
    assume(data is not None)
    assert data is not None
    default, driver.INLINE = driver.INLINE, inline
    try:
        driven = Engine(load_bundle(data))
    finally:
        driver.INLINE = default
    general = Engine(load_bundle(data))
    assume(not driven._stateful)
    general_loop(general)
    assert outcomes(driven, receipts) == outcomes(general, receipts)
    for receipt in receipts:  # and the trace explains every false condition without failing (runtime/explain.py)
        try:
            explained = driven.evaluate(receipt, explain=True)
        except LoyaError:
            continue
        assert all(r.detail is None or isinstance(r.detail, str) for r in explained.rejected)


def test_the_driver_is_straight_line_code_for_small_groups(monkeypatch: Any) -> None:
    """Campaigns are written out one by one, a SKU gate a set lookup; a group of many SKU-gated campaigns
    that does not fit in what is left of ``driver.INLINE`` calls the general loop (its index skips what a
    receipt cannot touch)."""
    gated = "\n".join(f'campaign s{i} "S{i}" {{ group big  then discount 5% on lines where sku in ["Q{i}"] }}'
                      for i in range(12))
    source = 'programme "P" version "1" {\n currency RUB minor 2\n timezone "UTC"\n}\n' \
        'group small { priority 2  stacking best_for_customer  basis discounted }\n' \
        'group big { priority 1  stacking stack_all  basis original }\n' \
        'campaign a "A" { group small  max discount 1.00 RUB per receipt  then discount 10% on receipt }\n' + gated
    data, result = compile_text(source, "p.loya")
    assert data is not None, result.diagnostics
    receipt = {"receipt_id": "R", "datetime": "2025-03-03T12:00:00+00:00", "store_id": "S1",
               "lines": [{"line_no": 1, "sku": "Q3", "category": "x", "qty": 1, "unit_price": 100000, "amount": 100000}]}
    for inline in (driver.INLINE, 12):
        monkeypatch.setattr(driver, "INLINE", inline)
        engine = Engine(load_bundle(data))
        src = engine.driver_source
        # the campaign's own code, inline: its reward written out (jit._FastAction), its cap, the group's stacking
        assert "R_DISCOUNT_TOTAL(r, " not in src and "_allocate(_xa, _xw, _amode" in src and "RUN0_0" not in src and "MAXD0_0" in src and "STACK(G0" in src
        if inline == 12:  # one left for a group of 12
            assert "GENERAL(G1, r, cu, t, None, None)" in src and "RUN1_" not in src
        else:
            assert "GENERAL(" not in src and "if 4 not in touched: rejected.append(REJ1_3_no_eligible_items)" in src
        outcome = engine.evaluate(receipt)
        assert outcome.applied == ("a", "s3") and outcome.discount_total == 100 + 5000


def test_campaigns_past_the_inline_limit_are_called(monkeypatch: Any) -> None:
    """The driver holds the first ``driver.INLINE`` campaigns' code inline and calls the others' functions,
    with the same outcome."""
    source = 'programme "P" version "1" {\n currency RUB minor 2\n timezone "UTC"\n}\n' \
        'group g { priority 1  stacking stack_all  basis original }\n' + "\n".join(
            f'campaign c{i} "C{i}" {{ group g  when receipt.total >= {i}.00 RUB  then discount {i + 1}% on receipt }}'
            for i in range(4))
    data, result = compile_text(source, "p.loya")
    assert data is not None, result.diagnostics
    receipt = {"receipt_id": "R", "datetime": "2025-03-03T12:00:00+00:00", "store_id": "S1",
               "lines": [{"line_no": 1, "sku": "Q3", "category": "x", "qty": 1, "unit_price": 250, "amount": 250}]}
    every = Engine(load_bundle(data))
    monkeypatch.setattr(driver, "INLINE", 2)
    some = Engine(load_bundle(data))
    assert "RUN0_0" not in some.driver_source and "RUN0_1" not in some.driver_source
    assert "RUN0_2(r, cu)" in some.driver_source and "RUN0_3(r, cu)" in some.driver_source
    assert some.evaluate(receipt).to_dict() == every.evaluate(receipt).to_dict()
    assert every.evaluate(receipt).applied == ("c0", "c1", "c2")


def test_a_group_notes_the_payable_only_when_the_bytecode_reads_it() -> None:
    """``r.payable`` is set at each group's start when some code reads ``receipt.payable`` (known from the
    bytecode's ``Op.RECEIPT`` operands, ``jit.Program.receipt_fields``), and the outcome is the same."""
    head = 'programme "P" version "1" {\n currency RUB minor 2\n timezone "UTC"\n}\n' \
        'group g { priority 2  stacking stack_all  basis original }\n' \
        'group h { priority 1  stacking stack_all  basis discounted }\n' \
        'campaign a "A" { group g  then discount 10% on lines where category "receipt.payable" }\n'
    reads = 'campaign b "B" { group h  when receipt.payable >= 5.00 RUB  then discount 1.00 RUB on receipt }\n'
    other = 'campaign b "B" { group h  when receipt.total >= 5.00 RUB  then discount 1.00 RUB on receipt }\n'
    receipt = {"receipt_id": "R", "datetime": "2025-03-03T12:00:00+00:00", "store_id": "S1",
               "lines": [{"line_no": 1, "sku": "Q", "category": "receipt.payable", "qty": 1, "unit_price": 550,
                          "amount": 550}]}
    for tail, noted, applied in ((reads, True, ("a",)), (other, False, ("a", "b"))):
        data, result = compile_text(head + tail, "p.loya")
        assert data is not None, result.diagnostics
        engine = Engine(load_bundle(data))
        assert ("r.payable = sum(left)" in engine.driver_source) is noted
        assert ("payable" in engine.program.receipt_fields) is noted
        assert engine.evaluate(receipt).to_dict() == general_loop(Engine(load_bundle(data))).evaluate(receipt).to_dict()
        assert engine.evaluate(receipt).applied == applied
