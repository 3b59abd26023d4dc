"""The engine skips a campaign whose only static filter is the SKUs it needs when none is on the
receipt, without running its code (runtime/engine.py, ``sku_gated``). Skipping must change nothing:
on random valid programmes and receipts, the outcome, with and without explain, is the one of an
engine that runs every campaign's code."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, load_bundle

from . import strategies
from .compare import outcomes

SKU_ACTIONS = ['discount 10% on lines where sku in some', 'free 1 in 2 units of lines where sku in some',
               'accrue 5% on lines where sku in ["B", "C"]', 'price 1.00 RUB on lines where sku == "A"',
               'discount 5% on lines where sku in ["Q1", "Q2"]', 'accrue 1% on lines where sku == "Z9"',
               'free 1 in 3 units of lines where sku in ["Q2", "A"]']


@st.composite
def programmes(draw: st.DrawFn) -> str:
    """A valid programme with, often, SKU-gated campaigns added (some with other filters too)."""
    text = draw(strategies.valid_programmes())
    for i in range(draw(st.integers(1, 6))):
        clauses = ["group g", *draw(st.lists(strategies._pick(["stores moscow", "weekdays mon..fri",
                                                                  "audience customer.known"]), max_size=1))]
        clauses.append("then " + draw(strategies._pick(SKU_ACTIONS)))
        text += f'\ncampaign s{i} "SKU {i}" {{\n    ' + "\n    ".join(clauses) + "\n}\n"
    return text


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(programmes(), st.lists(strategies.receipt_json(), min_size=1, max_size=4), st.booleans())
def test_skipping_sku_gated_campaigns_changes_nothing(source: str, receipts: list[dict[str, Any]],
                                                     explain: bool) -> None:
    data, _ = compile_text(source, "p.loya")
    assume(data is not None)
    assert data is not None
    skipping, by_index, running = Engine(load_bundle(data)), Engine(load_bundle(data)), Engine(load_bundle(data))
    for group in running.groups:
        for camp in group.campaigns:
            camp.sku_gated = False
        group.plan()
    for group in by_index.groups:
        group.by_index = True
    expected = outcomes(running, receipts, explain)
    assert outcomes(skipping, receipts, explain) == expected
    assert outcomes(by_index, receipts, explain) == expected


def test_skipped_campaigns_exist_and_say_why() -> None:
    """The property above is not vacuous: a campaign of SKUs alone is skipped, one with another filter
    first is not, and the skipped one is rejected for the reason its code gives."""
    source = PROGRAMME + '''
campaign s0 "SKU" { group g  then discount 10% on lines where sku in some }
campaign s1 "SKU in Moscow" { group g  stores moscow  then discount 10% on lines where sku in some }
'''
    data, result = compile_text(source, "p.loya")
    assert data is not None, result.diagnostics
    engine = Engine(load_bundle(data))
    assert [camp.sku_gated for group in engine.groups for camp in group.campaigns] == [True, False]
    outcome = engine.evaluate({"receipt_id": "R1", "datetime": "2025-06-04T12:00:00+03:00", "store_id": "S9",
                               "lines": [{"line_no": 1, "sku": "Z", "category": "x", "qty": 1, "unit_price": 100,
                                          "amount": 100}]}, explain=True)
    assert [(r.campaign, r.reason) for r in outcome.rejected] == [("s0", "no_eligible_items"),
                                                                   ("s1", "store_not_eligible")]


def test_skipped_rejections_keep_their_places() -> None:
    """Campaigns skipped and run interleave, in two groups: the rejections come in campaign order."""
    source = PROGRAMME + '''
group h { priority 50  stacking first_by_priority  basis discounted }
campaign s0 "Q" { group g  then discount 10% on lines where sku in ["Q1"] }
campaign a0 "all" { group g  then discount 1% on lines where category "none" }
campaign s1 "A" { group g  then discount 10% on lines where sku in some }
campaign s2 "Q" { group g  then accrue 1% on lines where sku in ["Q2"] }
campaign s3 "Q" { group g  then accrue 1% on lines where sku in ["Q3"] }
campaign a1 "all" { group g  stores moscow  then discount 10% on receipt }
campaign s4 "Q" { group g  then accrue 1% on lines where sku in ["Q4"] }
campaign s5 "Q" { group h  then accrue 1% on lines where sku in ["Q5"] }
campaign s6 "A" { group h  then accrue 1% on lines where sku in ["A"] }
campaign s7 "Q" { group h  then accrue 1% on lines where sku in ["Q7"] }
'''
    data, result = compile_text(source, "p.loya")
    assert data is not None, result.diagnostics
    skipping, running = Engine(load_bundle(data)), Engine(load_bundle(data))
    for group in running.groups:
        for camp in group.campaigns:
            camp.sku_gated = False
        group.plan()
    receipt = {"receipt_id": "R1", "datetime": "2025-06-04T12:00:00+03:00", "store_id": "S9",
               "lines": [{"line_no": 1, "sku": "A", "category": "x", "qty": 1, "unit_price": 100, "amount": 100}]}
    gated = [camp.name for group in skipping.groups for camp in group.campaigns if camp.sku_gated]
    assert gated == ["s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7"]
    assert not any(group.by_index for group in skipping.groups)  # few gated: one lookup each
    assert skipping.evaluate(receipt) == running.evaluate(receipt)
    for group in skipping.groups:  # many gated: only the touched ones are visited (positions)
        group.by_index = True
    got = skipping.evaluate(receipt)
    assert [r.campaign for r in got.rejected] == ["s0", "a0", "s2", "s3", "a1", "s4", "s5", "s6", "s7"]  # s6: no_effect
    assert got == running.evaluate(receipt)


def test_a_campaign_gated_by_state_says_so_first() -> None:
    """A coupon campaign's state gate runs before its code: without the coupon, it is rejected as
    no_coupon, even when none of its SKUs is on the receipt."""
    source = PROGRAMME + '''
coupons welcome "Welcome" { code unique "WEL-"  valid 30 days }
campaign s0 "SKU by coupon" { group g  coupon welcome  then discount 10% on lines where sku in some }
'''
    data, result = compile_text(source, "p.loya")
    assert data is not None, result.diagnostics
    outcome = Engine(load_bundle(data)).evaluate(
        {"receipt_id": "R1", "datetime": "2025-06-04T12:00:00+03:00", "store_id": "S9", "customer_id": "C1",
         "lines": [{"line_no": 1, "sku": "Z", "category": "x", "qty": 1, "unit_price": 100, "amount": 100}]})
    assert [(r.campaign, r.reason) for r in outcome.rejected] == [("s0", "no_coupon")]


PROGRAMME = '''programme "P" version "1" {
    currency RUB minor 2
    points minor 0 value 1.00 RUB
    timezone "Europe/Moscow"
}
skus some = ["A", "B", "SKU00001"]
stores moscow = ["S1", "S001"]
group g { priority 100  stacking stack_all  basis original }
'''
