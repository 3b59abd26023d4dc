"""``Outcome.to_dict`` writes an outcome's lines, effects and rejections from their plain rows
(``_line_dicts``, ``_effect_dicts``: no named tuple and no ``to_dict`` call per row); what it gives
equals, key order included, the rows' own ``to_dict`` (the general way), for ``Rows``, ``LazyRows``,
``LineRows`` and plain tuples of named tuples (hypothesis), and for the engine's outcomes of the
example's receipts."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from loyadsl.runtime import Engine, Receipt, load_bundle
from loyadsl.runtime.model import Effect, LineOutcome, Outcome, Rejection, Rows, lazy_rows, plain_rows

ints = st.integers(-(10**12), 10**12)
texts = st.text(max_size=6)
line_rows = st.lists(st.tuples(st.integers(1, 99), texts, ints, ints, ints, ints), max_size=6)
effect_rows = st.lists(st.tuples(texts, texts, st.sampled_from(["discount", "points"]),
                                 st.lists(ints, max_size=4).map(tuple), st.lists(ints, max_size=4).map(tuple),
                                 ints, ints), max_size=5)
rejections = st.lists(st.tuples(texts, texts, st.none() | texts), max_size=5)


def _general(outcome: Outcome) -> dict[str, Any]:
    """What ``to_dict`` gave before: each row's own ``to_dict``."""
    return {**outcome.to_dict(), "lines": [line.to_dict() for line in outcome.lines],
            "effects": [effect.to_dict() for effect in outcome.effects],
            "rejected": [r.to_dict() for r in outcome.rejected]}


def _as(kind: type[Any], rows: list[tuple[Any, ...]], how: int) -> Any:
    eager = tuple(rows)
    if how == 0:
        return plain_rows(kind, eager)
    if how == 1:
        half = len(eager) // 2
        return lazy_rows(kind, eager[:half], lambda: eager[half:])
    if how == 2:
        return Rows(kind, eager)
    return tuple(kind(*row) for row in eager)  # named tuples: the general way


@settings(max_examples=300, deadline=None)
@given(line_rows, effect_rows, rejections, st.integers(0, 3), st.integers(0, 3))
def test_rows_written_as_their_own_to_dict_writes_them(lines: list[tuple[Any, ...]], effects: list[tuple[Any, ...]],
                                                       rejected: list[tuple[Any, ...]], how_lines: int,
                                                       how_effects: int) -> None:
    outcome = Outcome("R1", "RUB", 100, 10, 90, 5, _as(LineOutcome, lines, how_lines),
                      _as(Effect, effects, how_effects), ("a",), tuple(Rejection(*r) for r in rejected), ("t",))
    fast, general = outcome.to_dict(), _general(outcome)
    assert fast == general
    for name in ("lines", "effects", "rejected"):
        assert [list(row) for row in fast[name]] == [list(row) for row in general[name]]  # key order
        assert all(type(value) is type(other) for row, row2 in zip(fast[name], general[name], strict=True)
                   for value, other in zip(row.values(), row2.values(), strict=True))


def test_the_engines_outcomes_of_the_example(bundle: bytes, receipts: list[dict[str, Any]]) -> None:
    engine = Engine(load_bundle(bundle))
    seen = 0
    for record in receipts[:150]:
        outcome = engine.evaluate(Receipt.from_dict(record))
        fast, general = outcome.to_dict(), _general(outcome)
        assert fast == general and list(fast) == list(general)
        assert [list(row) for row in fast["lines"]] == [list(row) for row in general["lines"]]
        seen += bool(fast["effects"]) and bool(fast["rejected"])
    assert seen > 10
