"""Evaluation semantics (runtime/engine.py, runtime/rewards.py): each reward, stacking, bases, caps, limits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rt_asm import TRUE, bundle_bytes, campaign, cat_in, group, line, receipt, sku_in

from loyadsl.runtime import Customer, CustomerError, Engine, Outcome, ReceiptError


def engine(*campaigns: dict[str, Any], groups: list[dict[str, Any]] | None = None, **settings: Any) -> Engine:
    return Engine.from_bytes(bundle_bytes(list(campaigns), groups, **settings))


def discount(outcome: Outcome, name: str) -> tuple[int, ...]:
    (effect,) = [e for e in outcome.effects if e.campaign == name and e.kind == "discount"]
    return effect.requested


def points(outcome: Outcome, name: str) -> tuple[int, ...]:
    (effect,) = [e for e in outcome.effects if e.campaign == name and e.kind == "points"]
    return effect.applied


def reasons(outcome: Outcome) -> dict[str, str]:
    return {r.campaign: r.reason for r in outcome.rejected}


def pct(p: float) -> int:
    return round(p * 10000)


# ------------------------------------------------------------------------------------ reward ops


def test_discount_lines_rounds_per_line() -> None:
    e = engine(campaign("dairy", [("CONST", pct(10)), ("DISCOUNT_LINES", cat_in("dairy"))]))
    o = e.evaluate(receipt(line("M", 1000, category="dairy/milk"), line("C", 333, category="dairy/cheese"),
                           line("B", 500, category="bakery/bread")))
    assert discount(o, "dairy") == (100, 33, 0)
    assert [x.payable for x in o.lines] == [900, 300, 500] and o.discount_total == 133 and o.payable == 1700


def test_discount_total_rounds_once_and_allocates() -> None:
    e = engine(campaign("all", [("CONST", pct(10)), ("DISCOUNT_TOTAL", TRUE)]))
    o = e.evaluate(receipt(line("A", 1000), line("B", 333), line("C", 500)))
    assert discount(o, "all") == (100, 33, 50)  # 183 = floors 99+33+49, +1 to .918 and .836


def test_discount_amount_is_at_most_the_basis() -> None:
    e = engine(campaign("fixed", [("CONST", 3000), ("DISCOUNT_AMOUNT", sku_in("A", "B"))]))
    o = e.evaluate(receipt(line("A", 1000), line("B", 500), line("C", 700)))
    assert discount(o, "fixed") == (1000, 500, 0)


def test_discount_per_unit_whole_units_and_limit() -> None:
    e = engine(campaign("pet", [("CONST", 30), ("DISCOUNT_PER_UNIT", TRUE)]),
               campaign("pet2", [("CONST", 30), ("DISCOUNT_PER_UNIT", TRUE)], limits={"applications": 2}),
               groups=[group("g", basis="original")])
    o = e.evaluate(receipt(line("A", 100, 3), line("B", 20, 1), line("W", 100, 1.5, amount=150)))
    assert discount(o, "pet") == (90, 20, 30)  # min(30, unit value) × whole units; 1.5 kg is one unit
    assert discount(o, "pet2") == (60, 0, 0)


def test_set_price() -> None:
    e = engine(campaign("price", [("CONST", 80), ("SET_PRICE", TRUE)]))
    o = e.evaluate(receipt(line("A", 100, 3), line("W", 200, 0.5, amount=100), line("B", 50, 1)))
    assert discount(o, "price") == (60, 60, 0)


def test_free_units_every_nth_most_expensive_first() -> None:
    e = engine(campaign("n1", [("CONST", 1), ("CONST", 3), ("FREE_UNITS", TRUE)]))
    o = e.evaluate(receipt(line("A", 100, 2), line("B", 50, 2), line("C", 70, 1)))
    assert discount(o, "n1") == (0, 0, 70)  # A A C | B B: one complete triple, its cheapest is C
    o = e.evaluate(receipt(line("A", 100, 2), line("B", 50, 4)))
    assert discount(o, "n1") == (0, 100)  # A A B | B B B: positions 3 and 6 are both B
    o = e.evaluate(receipt(line("X", 100), line("Y", 100), line("Z", 100)))
    assert discount(o, "n1") == (0, 0, 100)  # equal prices: by line_no, the third is free


def test_free_units_limit_and_two_free() -> None:
    e = engine(campaign("lim", [("CONST", 1), ("CONST", 2), ("FREE_UNITS", TRUE)], limits={"applications": 1}),
               campaign("two", [("CONST", 2), ("CONST", 4), ("FREE_UNITS", TRUE)]))
    o = e.evaluate(receipt(line("A", 100, 2), line("B", 10, 6)))
    assert discount(o, "lim") == (100, 0)  # the first free position is A's second unit, then the limit
    assert discount(o, "two") == (0, 40)  # A A B B | B B B B: the last two of each group of four


def test_free_cheapest() -> None:
    e = engine(campaign("gift", [("CONST", 1), ("FREE_CHEAPEST", TRUE)]),
               campaign("gift3", [("CONST", 3), ("FREE_CHEAPEST", TRUE)]))
    o = e.evaluate(receipt(line("A", 100, 2), line("B", 30, 1), line("C", 30, 1)))
    assert discount(o, "gift") == (0, 30, 0)
    assert discount(o, "gift3") == (100, 30, 30)


def coffee_croissant(reward: str, value: int, part: int | None = None) -> Engine:
    return engine(campaign("combo", [("CONST", value), ("COMBO", {
        "parts": [(cat_in("cafe/coffee"), 1), (cat_in("cafe/croissant"), 1)], "reward": reward, "part": part})]))


CAFE = receipt(line("K", 200, 2, category="cafe/coffee"), line("C1", 100, 1, category="cafe/croissant"),
               line("C2", 80, 2, category="cafe/croissant"))


def test_combo_percent_on_part_uses_the_cheapest_units() -> None:
    o = coffee_croissant("percent_on_part", pct(50), part=1).evaluate(CAFE)
    assert discount(o, "combo") == (0, 0, 80)


def test_combo_amount_per_set_and_set_price() -> None:
    assert discount(coffee_croissant("amount_per_set", 100).evaluate(CAFE), "combo") == (142, 0, 58)
    assert discount(coffee_croissant("amount_per_set", 5000).evaluate(CAFE), "combo") == (400, 0, 160)
    assert discount(coffee_croissant("set_price", 250).evaluate(CAFE), "combo") == (42, 0, 18)
    assert reasons(coffee_croissant("set_price", 1000).evaluate(CAFE)) == {"combo": "no_effect"}


def test_combo_sets_of_mixed_make_up() -> None:
    e = engine(campaign("combo", [("CONST", 30), ("COMBO", {"parts": [(sku_in("A1", "A2"), 2), (sku_in("B"), 1)],
                                                             "reward": "amount_per_set"})]))
    o = e.evaluate(receipt(line("A1", 10, 3), line("A2", 20, 2), line("B", 50, 3)))
    assert discount(o, "combo") == (12, 7, 41)  # sets (A1 A1 B) and (A1 A2 B), 30 each, allocated by price


def test_combo_limit_and_overlapping_parts() -> None:
    e = engine(campaign("lim", [("CONST", pct(100)), ("COMBO", {"parts": [(sku_in("A"), 1), (sku_in("B"), 1)],
                                                                 "reward": "percent_on_part", "part": 1})],
                        limits={"applications": 1}),
               campaign("same", [("CONST", pct(100)), ("COMBO", {"parts": [(sku_in("A"), 1), (sku_in("A"), 1)],
                                                                  "reward": "percent_on_part", "part": 1})]))
    o = e.evaluate(receipt(line("A", 10, 3), line("B", 50, 3)))
    assert discount(o, "lim") == (0, 50)
    assert discount(o, "same") == (10, 0)  # three A units make one pair, not three


def test_accruals_round_once_and_allocate() -> None:
    e = engine(campaign("cash", [("CONST", pct(3)), ("ACCRUE_TOTAL", TRUE)]),
               campaign("fixed", [("CONST", 10), ("ACCRUE_FIXED", sku_in("A", "B"))]))
    o = e.evaluate(receipt(line("A", 30000), line("B", 10000), line("C", 115500)))
    assert points(o, "cash") == (9, 3, 34)  # 155500 × 3% = 46.65 -> 46 points, allocated
    assert points(o, "fixed") == (8, 2, 0)  # 7.5 and 2.5: the tie goes to the smaller line
    assert o.points_total == 56 and [x.points for x in o.lines] == [17, 5, 34]


def test_points_minor_and_point_value() -> None:
    e = engine(campaign("cash", [("CONST", pct(5)), ("ACCRUE_TOTAL", TRUE)]), points_minor=2, point_value=1000)
    o = e.evaluate(receipt(line("A", 12345)))
    assert o.points_total == 61  # 12345 × 5% × 100 / 1000 = 61.725 points in hundredths


# ------------------------------------------------------------------------------------ groups and bases


def two_groups(second_basis: str) -> Engine:
    return engine(campaign("first", [("CONST", pct(10)), ("DISCOUNT_LINES", TRUE)], group=0),
                  campaign("second", [("CONST", pct(10)), ("DISCOUNT_LINES", TRUE)], group=1),
                  groups=[group("low", 100, basis=second_basis), group("high", 200)])


def test_basis_discounted_sees_what_is_left() -> None:
    o = two_groups("discounted").evaluate(receipt(line("A", 1000)))
    assert discount(o, "second") == (100,) and discount(o, "first") == (90,) and o.payable == 810
    assert [e.campaign for e in o.effects] == ["second", "first"]  # the higher-priority group first
    o = two_groups("original").evaluate(receipt(line("A", 1000)))
    assert discount(o, "first") == (100,) and o.payable == 800


def test_receipt_payable_is_what_is_left_when_the_group_starts() -> None:
    e = engine(campaign("first", [("CONST", 500), ("DISCOUNT_AMOUNT", TRUE)], group=1),
               campaign("rich", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)], group=0,
                        condition=[("RECEIPT", "payable"), ("CONST", 1000), ("GE",)]),
               groups=[group("late", 100, basis="discounted"), group("early", 200)])
    assert reasons(e.evaluate(receipt(line("A", 1200)))) == {"rich": "condition_false"}
    assert "rich" in e.evaluate(receipt(line("A", 1600))).applied


def test_accruals_on_paid_or_original_amounts() -> None:
    for basis, want in (("discounted", 27), ("original", 30)):
        e = engine(campaign("off", [("CONST", pct(10)), ("DISCOUNT_LINES", TRUE)], group=1),
                   campaign("cash", [("CONST", pct(3)), ("ACCRUE_TOTAL", TRUE)], group=0),
                   groups=[group("points", 50, basis=basis), group("promo", 200)])
        assert e.evaluate(receipt(line("A", 100000))).points_total == want


def test_accruals_wait_for_later_groups() -> None:
    """A discounted-basis accrual in an early group still accrues on the final amounts."""
    e = engine(campaign("cash", [("CONST", pct(10)), ("ACCRUE_TOTAL", TRUE)], group=1),
               campaign("off", [("CONST", pct(50)), ("DISCOUNT_LINES", TRUE)], group=0),
               groups=[group("late", 50), group("early", 200, basis="discounted")])
    assert e.evaluate(receipt(line("A", 100000))).points_total == 50


# ------------------------------------------------------------------------------------ capping


def test_lines_never_go_below_zero_and_capping_is_recorded() -> None:
    e = engine(campaign("a", [("CONST", pct(60)), ("DISCOUNT_LINES", TRUE)], priority=2),
               campaign("b", [("CONST", pct(60)), ("DISCOUNT_LINES", TRUE)], priority=1))
    o = e.evaluate(receipt(line("A", 1000), line("B", 10)))
    (ea, eb) = o.effects
    assert ea.requested is ea.applied and ea.capped == 0
    assert eb.requested == (600, 6) and eb.applied == (400, 4) and eb.capped == 202 and eb.total == 404
    assert [x.payable for x in o.lines] == [0, 0]


def test_min_price_is_a_floor() -> None:
    e = engine(campaign("half", [("CONST", pct(50)), ("DISCOUNT_LINES", TRUE)]))
    o = e.evaluate(receipt(line("A", 100, 2, min_price=90), line("B", 100, 1)))
    (effect,) = o.effects
    assert effect.requested == (100, 50) and effect.applied == (20, 50) and effect.capped == 80
    assert o.lines[0].payable == 180


# ------------------------------------------------------------------------------------ stacking


def three(stacking: str, limit: int | None = None, **extra: Any) -> Engine:
    return engine(campaign("p", [("CONST", pct(10)), ("DISCOUNT_LINES", TRUE)], priority=30),
                  campaign("q", [("CONST", pct(20)), ("DISCOUNT_LINES", TRUE)], priority=20),
                  campaign("r", [("CONST", pct(5)), ("DISCOUNT_LINES", TRUE)], priority=10),
                  campaign("none", [("CONST", 0), ("DISCOUNT_LINES", TRUE)], priority=40),
                  groups=[group("g", stacking=stacking, limit=limit)], **extra)


@pytest.mark.parametrize(("stacking", "limit", "applied"), [
    ("stack_all", None, ("p", "q", "r")),
    ("stack_up_to", 2, ("p", "q")),
    ("first_by_priority", None, ("p",)),
    ("best_for_customer", None, ("q",)),
    ("lowest_discount", None, ("r",)),
])
def test_stacking_modes(stacking: str, limit: int | None, applied: tuple[str, ...]) -> None:
    o = three(stacking, limit).evaluate(receipt(line("A", 1000)))
    assert o.applied == applied
    lost = {r.campaign for r in o.rejected if r.reason == "lost_to_stacking"}
    assert lost == {"p", "q", "r"} - set(applied)
    assert reasons(o)["none"] == "no_effect"


def test_best_for_customer_counts_points_at_their_value_and_ties_go_by_priority() -> None:
    e = engine(campaign("money", [("CONST", 300), ("DISCOUNT_AMOUNT", TRUE)], priority=2),
               campaign("points", [("CONST", 5), ("ACCRUE_FIXED", TRUE)], priority=1),
               campaign("same", [("CONST", 500), ("DISCOUNT_AMOUNT", TRUE)], priority=0),
               groups=[group("g", stacking="best_for_customer")])
    assert e.evaluate(receipt(line("A", 1000))).applied == ("points",)  # 5 points = 5.00 RUB > 3.00 RUB
    e2 = engine(campaign("low", [("CONST", 500), ("DISCOUNT_AMOUNT", TRUE)], priority=1),
                campaign("high", [("CONST", 500), ("DISCOUNT_AMOUNT", TRUE)], priority=2),
                groups=[group("g", stacking="best_for_customer")])
    assert e2.evaluate(receipt(line("A", 1000))).applied == ("high",)


def test_best_for_customer_counts_only_what_the_lines_can_take() -> None:
    e = engine(campaign("first", [("CONST", 900), ("DISCOUNT_AMOUNT", sku_in("A"))], group=1),
               campaign("big", [("CONST", 800), ("DISCOUNT_AMOUNT", sku_in("A"))], group=0, priority=2),
               campaign("small", [("CONST", 300), ("DISCOUNT_AMOUNT", sku_in("B"))], group=0, priority=1),
               groups=[group("g", 100, stacking="best_for_customer"), group("pre", 200)])
    o = e.evaluate(receipt(line("A", 1000), line("B", 1000)))
    # "big" asks 800 but A has 100 left; "small" can really give its 300
    assert o.applied == ("first", "small")


# ------------------------------------------------------------------------------------ limits


def test_max_discount_scales_the_allocation_down() -> None:
    e = engine(campaign("half", [("CONST", pct(50)), ("DISCOUNT_LINES", TRUE)], limits={"discount": 500}))
    o = e.evaluate(receipt(line("A", 1000), line("B", 600)))
    assert discount(o, "half") == (313, 187)


def test_max_points() -> None:
    e = engine(campaign("cash", [("CONST", pct(10)), ("ACCRUE_TOTAL", TRUE)], limits={"points": 7}))
    assert points(e.evaluate(receipt(line("A", 5000), line("B", 5000))), "cash") == (4, 3)


# ------------------------------------------------------------------------------------ footprint


def test_footprint_reasons() -> None:
    e = engine(
        campaign("dates", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)], dates=[739252, 739300]),  # 2025-01-01..02-18
        campaign("weekday", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)], weekdays=[6, 7]),
        campaign("hours", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)], hours=[36000, 43200]),
        campaign("night", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)], hours=[79200, 7200]),
        campaign("stores", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)], stores={"in": ["S002"]}),
        campaign("not_here", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)], stores={"not_in": ["S001"]}),
        campaign("channels", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)], channels={"in": ["online"]}),
        campaign("skus", [("CONST", 1), ("DISCOUNT_AMOUNT", sku_in("Z"))], needs_skus=["Z"]),
        campaign("audience", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)], audience=[("CUSTOMER", "known")]),
        campaign("condition", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)],
                 condition=[("RECEIPT", "lines"), ("CONST", 2), ("GE",)]),
        campaign("nothing", [("CONST", 1), ("DISCOUNT_AMOUNT", sku_in("Q"))]),
        campaign("ok", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)], dates=[739252, 739616], weekdays=[3],
                 hours=[43200, 43260], stores={"in": ["S001"]}, channels={"in": ["pos"]}, needs_skus=["A"]),
    )
    o = e.evaluate(receipt(line("A", 100), when="2025-03-05T12:00:30+03:00"))  # a Wednesday
    assert reasons(o) == {"dates": "outside_dates", "weekday": "wrong_weekday", "hours": "outside_hours",
                          "night": "outside_hours", "stores": "store_not_eligible", "not_here": "store_not_eligible",
                          "channels": "channel_not_eligible", "skus": "no_eligible_items", "audience": "audience",
                          "condition": "condition_false", "nothing": "no_effect"}
    assert o.applied == ("ok",)
    late = e.evaluate(receipt(line("A", 100), when="2025-03-05T23:30:00+03:00"))
    assert "night" in late.applied


def test_receipt_time_is_converted_to_the_programme_zone() -> None:
    e = engine(campaign("thu_night", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)], weekdays=[4], hours=[0, 10800],
                        dates=[739316, 739316]))  # 2025-03-06
    o = e.evaluate(receipt(line("A", 100), when="2025-03-05T23:30:00+00:00"))  # 02:30 Thursday in Moscow
    assert o.applied == ("thu_night",)
    assert e.evaluate(receipt(line("A", 100), when="2025-03-05T23:30:00+03:00")).applied == ()
    import datetime as dt

    now = dt.datetime(2025, 3, 6, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    assert e.evaluate(receipt(line("A", 100), when="2025-01-01T12:00:00+03:00"), now=now).applied == ("thu_night",)
    with pytest.raises(ReceiptError):
        e.evaluate(receipt(line("A", 100)), now=dt.datetime(2025, 3, 6))


def test_daylight_saving_zone() -> None:
    e = engine(campaign("morning", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)], hours=[32400, 36000]),
               timezone="Europe/Berlin")
    assert e.evaluate(receipt(line("A", 1), when="2025-07-01T07:30:00+00:00")).applied == ("morning",)  # CEST
    assert e.evaluate(receipt(line("A", 1), when="2025-01-15T08:30:00+00:00")).applied == ("morning",)  # CET
    assert e.evaluate(receipt(line("A", 1), when="2025-01-15T07:30:00+00:00")).applied == ()


# ------------------------------------------------------------------------------------ expressions


def test_customer_and_receipt_expressions() -> None:
    e = engine(
        campaign("vip", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)],
                 audience=[("CONST", "vip"), ("CUSTOMER", "segments"), ("IN",), ("OR",), ("CUSTOMER", "tier"),
                           ("CONST", "gold"), ("EQ",), ("END",)]),
        campaign("moscow", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)],
                 audience=[("CUSTOMER_ATTR", "city"), ("CONST", "Москва"), ("EQ",)]),
        campaign("known", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)], audience=[("CUSTOMER", "known")]),
        campaign("agg", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)],
                 condition=[("SUM", cat_in("dairy")), ("CONST", 150), ("GE",), ("AND",), ("COUNT", TRUE), ("CONST", 2),
                            ("EQ",), ("AND",), ("QTY", TRUE), ("CONST", 2500), ("EQ",), ("AND",), ("UNITS", TRUE),
                            ("CONST", 2), ("EQ",), ("END",), ("END",), ("END",)]),
        campaign("math", [("RECEIPT", "total"), ("CONST", pct(10)), ("MULDIV", [1000000, "ceil"]),
                          ("CONST", 5), ("MAX",), ("DISCOUNT_AMOUNT", TRUE)]),
        campaign("attr", [("CONST", 7), ("DISCOUNT_AMOUNT", [("LINE_ATTR", "country"), ("CONST", "RU"), ("EQ",)])]),
    )
    r = receipt(line("A", 100, 1, category="dairy/milk", attrs={"country": "RU"}),
                line("B", 100, 1.5, category="dairy", amount=150), customer="C1")
    o = e.evaluate(r)
    assert set(o.applied) == {"known", "agg", "math", "attr"}
    assert discount(o, "math") == (10, 15)  # ⌈250 × 10%⌉ = 25
    assert discount(o, "attr") == (7, 0)
    o = e.evaluate(r, {"id": "C1", "tier": "gold", "attributes": {"city": "Москва"}})
    assert {"vip", "moscow", "known"} <= set(o.applied)
    o = e.evaluate({**r, "customer_id": None}, Customer(id="C9", segments=["vip"]))
    assert "vip" in o.applied and "known" in o.applied
    anonymous = e.evaluate({**r, "customer_id": None})
    assert reasons(anonymous)["known"] == "audience"
    with pytest.raises(CustomerError):
        e.evaluate(r, {"tier": "gold"})


def test_currency_must_match() -> None:
    e = engine(campaign("x", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)]))
    assert e.evaluate(receipt(line("A", 1), currency="RUB")).currency == "RUB"
    with pytest.raises(ReceiptError, match="unknown currency") as info:
        e.evaluate(receipt(line("A", 1), currency="USD"))
    assert info.value.where == "currency"


# ------------------------------------------------------------------------------------ outcome


def test_outcome_json_shape_and_explain() -> None:
    e = engine(campaign("off", [("CONST", pct(10)), ("DISCOUNT_LINES", TRUE)]),
               campaign("cash", [("CONST", pct(3)), ("ACCRUE_TOTAL", TRUE)]),
               campaign("late", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)], hours=[72000, 79200]))
    r = receipt(line("A", 100000), line("B", 555, 2, category="x/y"))
    o = e.evaluate(r)
    d = o.to_dict()
    assert list(d) == ["receipt_id", "currency", "total", "discount_total", "payable", "points_total", "lines",
                       "effects", "applied", "rejected", "trace"]
    assert d["lines"][1] == {"line_no": 2, "sku": "B", "amount": 1110, "discount": 111, "payable": 999, "points": 0}
    assert d["points_total"] == 30 and d["lines"][0]["points"] == 30  # 3% of 1011.10 RUB, allocated
    assert d["effects"][0] == {"campaign": "off", "group": "base", "kind": "discount", "requested": [10000, 111],
                               "applied": [10000, 111], "total": 10111, "capped": 0}
    assert d["rejected"] == [{"campaign": "late", "reason": "outside_hours", "detail": None}]
    assert d["trace"] == []
    json.dumps(d)
    explained = e.evaluate(r, explain=True)
    assert explained.rejected[0].detail == "12:00 not in 20:00..22:00"
    text = "\n".join(explained.trace)
    assert "group base" in text and "off: applied discount 101.11" in text and "late: outside_hours" in text
    assert "points: cash gives" in text
    assert explained._replace(trace=(), rejected=o.rejected) == o


def test_evaluation_is_deterministic() -> None:
    data = bundle_bytes([campaign("off", [("CONST", pct(7)), ("DISCOUNT_TOTAL", TRUE)]),
                         campaign("cash", [("CONST", pct(3)), ("ACCRUE_TOTAL", TRUE)])])
    r = receipt(*[line(f"S{i}", 100 + 37 * i, 1 + i % 3) for i in range(12)])
    first = json.dumps(Engine.from_bytes(data).evaluate(r, explain=True).to_dict(), sort_keys=True)
    for _ in range(3):
        assert json.dumps(Engine.from_bytes(data).evaluate(r, explain=True).to_dict(), sort_keys=True) == first


# ------------------------------------------------------------------------------------ properties

PROPERTY_ENGINE = engine(
    campaign("lines", [("CONST", pct(15)), ("DISCOUNT_LINES", cat_in("a"))], group=0),
    campaign("total", [("CONST", pct(7)), ("DISCOUNT_TOTAL", TRUE)], group=0),
    campaign("amount", [("CONST", 5000), ("DISCOUNT_AMOUNT", cat_in("b"))], group=0, limits={"discount": 3000}),
    campaign("unit", [("CONST", 150), ("DISCOUNT_PER_UNIT", TRUE)], group=1, limits={"applications": 3}),
    campaign("price", [("CONST", 99), ("SET_PRICE", cat_in("a/x"))], group=1),
    campaign("n1", [("CONST", 1), ("CONST", 3), ("FREE_UNITS", sku_in("S1", "S2", "S3"))], group=1),
    campaign("cheap", [("CONST", 2), ("FREE_CHEAPEST", cat_in("b"))], group=2),
    campaign("combo", [("CONST", 700), ("COMBO", {"parts": [(cat_in("a"), 2), (cat_in("b"), 1)],
                                                   "reward": "set_price"})], group=2),
    campaign("pair", [("CONST", pct(30)), ("COMBO", {"parts": [(cat_in("a"), 1), (sku_in("S1", "S4"), 1)],
                                                      "reward": "percent_on_part", "part": 1})], group=2),
    campaign("cash", [("CONST", pct(5)), ("ACCRUE_TOTAL", TRUE)], group=3, limits={"points": 40}),
    campaign("bonus", [("CONST", 25), ("ACCRUE_FIXED", cat_in("b"))], group=3),
    groups=[group("one", 400), group("two", 300, basis="discounted", stacking="stack_up_to", limit=2),
            group("three", 200, basis="discounted", stacking="best_for_customer"), group("points", 100, basis="discounted")],
    allocation="largest_line",
)

@st.composite
def line_st(draw: st.DrawFn) -> dict[str, Any]:
    price = draw(st.integers(0, 50000))
    thousandths = draw(st.sampled_from([1000, 2000, 3000, 5000, 9000, 1, 150, 768, 1500, 2350]))
    qty: int | float = thousandths // 1000 if thousandths % 1000 == 0 else thousandths / 1000
    min_price = draw(st.none() | st.integers(0, 30000))
    return line(draw(st.sampled_from(["S1", "S2", "S3", "S4", "S5"])), price, qty,
                draw(st.sampled_from(["a", "a/x", "a/y", "b", "b/z", "c"])),
                amount=thousandths * price // 1000, **({"min_price": min_price} if min_price is not None else {}))


@settings(max_examples=300, deadline=None)
@given(st.lists(line_st(), min_size=1, max_size=12), st.permutations(range(12)))
def test_money_invariants(lines: list[dict[str, Any]], order: list[int]) -> None:
    numbers = [n + 1 for n in order if n < len(lines)]
    r = receipt(*[{**item, "line_no": no} for item, no in zip(lines, numbers, strict=True)])
    o = PROPERTY_ENGINE.evaluate(r)
    assert o == PROPERTY_ENGINE.evaluate(r)  # deterministic
    assert o.total == sum(x.amount for x in o.lines) and o.payable == o.total - o.discount_total
    applied = [0] * len(lines)
    for effect in o.effects:
        assert effect.total == sum(effect.applied) and effect.capped == sum(effect.requested) - effect.total
        assert all(0 <= a <= q for a, q in zip(effect.applied, effect.requested, strict=True))
        if effect.kind == "discount":
            applied = [x + y for x, y in zip(applied, effect.applied, strict=True)]
    for item, out, got in zip(r["lines"], o.lines, applied, strict=True):
        assert 0 <= out.discount <= out.amount and out.payable >= 0 and out.discount == got
        if "min_price" in item:
            floor = -(-item["min_price"] * round(item["qty"] * 1000) // 1000)
            assert out.payable >= min(floor, out.amount)
    assert o.points_total == sum(x.points for x in o.lines) and all(x.points >= 0 for x in o.lines)
    cash = [e for e in o.effects if e.campaign == "cash"]
    assert not cash or cash[0].total <= 40
    amount = [e for e in o.effects if e.campaign == "amount"]
    assert not amount or sum(amount[0].requested) <= 3000


def test_times_the_zone_cannot_represent_are_receipt_errors() -> None:
    e = engine(campaign("x", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)], hours=[0, 3600]))
    for when in ("0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"):
        with pytest.raises(ReceiptError, match="out of range"):
            e.evaluate(receipt(line("A", 100), when=when))
    assert e.evaluate(receipt(line("A", 100), when="2025-03-04T21:30:00Z")).applied == ("x",)  # 00:30 MSK


def test_a_campaigns_plain_rejections_are_made_once_on_first_use() -> None:
    from loyadsl.runtime.engine import REASONS, Rejection, _Rejections

    made = _Rejections("promo")
    assert len(made) == 0
    first = made["no_effect"]
    assert first == Rejection("promo", "no_effect", None) and made["no_effect"] is first and len(made) == 1
    assert {made[reason] for reason in REASONS} == {Rejection("promo", reason, None) for reason in REASONS}
    with pytest.raises(KeyError):
        made["no_such_reason"]
