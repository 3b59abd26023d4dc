"""Properties of arms (hypothesis): shares over many customers match the declared weights; a
compiled programme gates each campaign exactly by the documented hash; moving weight between two
neighbouring arms moves only customers between those two."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from loyadsl.api import compile_text
from loyadsl.runtime import Engine, load_bundle
from loyadsl.runtime.experiments import BUCKETS, Arm, arm_of

CUSTOMERS = 20_000
SIGMAS = 5  # a share outside 5 standard errors happens about once in 1.7 million arms


@st.composite
def weights(draw: st.DrawFn, least: int = 500) -> list[int]:
    """2-4 arm weights in basis points, each at least ``least``, summing to BUCKETS."""
    count = draw(st.integers(2, 4))
    cuts = sorted(draw(st.lists(st.integers(1, BUCKETS - 1), min_size=count - 1, max_size=count - 1, unique=True)))
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, BUCKETS], strict=True)]
    if min(parts) < least:
        parts = [least] * (count - 1) + [BUCKETS - least * (count - 1)]
    return parts


salts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@settings(max_examples=15, deadline=None)
@given(weights(), salts)
def test_exp_arm_shares_match_the_weights(parts: list[int], salt: str) -> None:
    arms = [Arm(f"a{i}", w) for i, w in enumerate(parts)]
    counts = dict.fromkeys((a.name for a in arms), 0)
    for i in range(CUSTOMERS):
        counts[arm_of(arms, salt, f"P{i}")] += 1
    for arm in arms:
        p = arm.weight / BUCKETS
        error = SIGMAS * math.sqrt(p * (1 - p) / CUSTOMERS)
        assert abs(counts[arm.name] / CUSTOMERS - p) <= error, (arm, counts)


def _programme(parts: list[int], salt: str) -> str:
    arms = "\n".join(f"    arm a{i} {w // 100}.{w % 100:02d}%" for i, w in enumerate(parts))
    return f'''programme "p" {{ currency RUB minor 2  timezone "UTC" }}
experiment x {{
    salt "{salt}"
{arms}
}}
group g {{ priority 1  stacking stack_all  basis original }}
campaign first {{ group g  arm x.a0  then discount 10% on receipt }}
campaign last {{ group g  arm x.a{len(parts) - 1}  then accrue 10 points }}
'''


@settings(max_examples=8, deadline=None)
@given(weights(least=1), st.from_regex(r"[a-z0-9-]{0,10}", fullmatch=True),
       st.lists(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=10),
                min_size=1, max_size=30))
def test_exp_the_engine_gates_by_the_documented_hash(parts: list[int], salt: str, customers: list[str]) -> None:
    data, result = compile_text(_programme(parts, salt), "p.loya")
    assert data is not None, [str(d) for d in result.diagnostics]
    engine = Engine(load_bundle(data))
    arms = [Arm(f"a{i}", w) for i, w in enumerate(parts)]
    last = f"a{len(parts) - 1}"
    for customer in customers:
        receipt = {"receipt_id": "R", "customer_id": customer, "datetime": "2026-01-01T12:00:00+00:00",
                   "store_id": "S", "lines": [{"line_no": 1, "sku": "A", "category": "c", "qty": 1,
                                               "unit_price": 1000, "amount": 1000}]}
        outcome = engine.evaluate(receipt)
        arm = arm_of(arms, salt, customer)
        assert outcome.arms == {"x": arm}
        assert ("first" in outcome.applied) == (arm == "a0")
        assert ("last" in outcome.applied) == (arm == last)


@settings(max_examples=20, deadline=None)
@given(weights(), st.data())
def test_exp_moving_weight_between_neighbours_moves_only_them(parts: list[int], data: st.DataObject) -> None:
    k = data.draw(st.integers(0, len(parts) - 2))  # arms k and k + 1 trade weight
    delta = data.draw(st.integers(-(parts[k] - 1), parts[k + 1] - 1))
    before = [Arm(f"a{i}", w) for i, w in enumerate(parts)]
    changed = list(parts)
    changed[k] += delta
    changed[k + 1] -= delta
    after = [Arm(f"a{i}", w) for i, w in enumerate(changed)]
    moved = 0
    for i in range(2_000):
        old, new = arm_of(before, "s", f"M{i}"), arm_of(after, "s", f"M{i}")
        if old != new:
            moved += 1
            assert {old, new} == {f"a{k}", f"a{k + 1}"}
    assert moved <= 2_000 * (abs(delta) / BUCKETS) + SIGMAS * math.sqrt(2_000) + 1
