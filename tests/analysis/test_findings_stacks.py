"""LOY310 beyond first_by_priority: a campaign behind N campaigns of a `stack_up_to N` group that are
eligible whenever it is, and a campaign of a `best_for_customer` group that another always matches or
beats; and the cases that must not be claimed."""

from __future__ import annotations

from loyadsl.analysis.findings import findings
from loyadsl.api import compile_text
from loyadsl.runtime import Engine

HEAD = 'programme "Shop" { currency RUB minor 2  timezone "Europe/Moscow" }\n'


def shadowed(text: str) -> dict[str, str]:
    data, result = compile_text(HEAD + text, "t.loya")
    assert data is not None and result.programme is not None, result.diagnostics
    found = findings(result.programme, Engine.from_bytes(data))
    return {d.message.split("`")[1]: d.message for d in found if d.code == "LOY310"}


def test_stack_up_to_n_shadows_a_campaign_behind_n_that_always_apply() -> None:
    text = """group two { priority 100  stacking stack_up_to 2  basis original }
campaign a { group two  priority 30  then discount 5% on receipt }
campaign b { group two  priority 20  then discount 3% on receipt }
campaign c { group two  priority 10  when receipt.total >= 1000.00 RUB  then discount 10% on receipt }
"""
    found = shadowed(text)
    assert list(found) == ["c"] and "`a`, `b`" in found["c"] and "stack_up_to 2" in found["c"]
    assert shadowed(text.replace("stack_up_to 2", "stack_up_to 3")) == {}
    # b is not eligible on every receipt c is: only one campaign is always ahead
    assert shadowed(text.replace("campaign b { group two  priority 20  then",
                                 "campaign b { group two  priority 20  hours 10:00 .. 12:00  then")) == {}


def test_best_for_customer_outdone_by_a_better_or_equal_first_campaign() -> None:
    text = """group best { priority 50  stacking best_for_customer  basis original }
campaign big { group best  priority 10  then discount 5% on receipt }
campaign small { group best  priority 20  when receipt.total >= 500.00 RUB  then discount 3% on receipt }
campaign equal { group best  priority 5  then discount 5% on receipt }
campaign more { group best  priority 1  then discount 6% on receipt }
campaign dairy { group best  priority 0  then discount 4% on lines where category "dairy" }
"""
    found = shadowed(text)
    assert set(found) == {"small", "equal", "big", "dairy"}  # `more` (6%) outdoes big, equal and dairy's 4%
    assert "outdone by `more`" in found["big"] and "outdone by `more`" in found["small"]
    # with `more` gone, `big` comes first among equals and `dairy` gives less on fewer lines
    without = shadowed(text.replace("campaign more { group best  priority 1  then discount 6% on receipt }\n", ""))
    assert set(without) == {"small", "equal", "dairy"} and "outdone by `big`" in without["equal"]


def test_a_capped_winner_is_never_claimed() -> None:
    text = """group best { priority 50  stacking best_for_customer  basis original }
campaign big { group best  priority 10  then discount 5% on receipt  max discount 10.00 RUB per receipt }
campaign small { group best  priority 20  then discount 3% on receipt }
"""
    assert shadowed(text) == {}
