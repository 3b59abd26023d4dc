"""COMBO's sets (rewards._segments) walk each part once: the same segments as the plain definition
(set k takes positions [k·need, (k+1)·need) of each part's units), in time linear in the runs."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from loyadsl.runtime.rewards import Run, _segments


def _plain(used: list[list[Run]], needs: list[int], sets: int) -> list[list[tuple[int, int, int]]]:
    """Each set's members computed on their own (the definition)."""
    def members(k: int) -> list[tuple[int, int, int]]:
        out = []
        for p, (part, need) in enumerate(zip(used, needs, strict=True)):
            start, end, position = k * need, k * need + need, 0
            for unit, line_no, i, units in part:
                overlap = min(end, position + units) - max(start, position)
                if overlap > 0:
                    out.append((line_no, p, unit, i, overlap))
                position += units
        return [(unit, i, units) for _, _, unit, i, units in sorted(out)]

    return [members(k) for k in range(sets)]


@st.composite
def parts(draw: st.DrawFn) -> tuple[list[list[Run]], list[int], int]:
    needs = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    sets = draw(st.integers(1, 12))
    used = []
    for p, need in enumerate(needs):
        sizes = draw(st.lists(st.integers(1, 5), min_size=1, max_size=need * sets))
        while sum(sizes) < need * sets:
            sizes.append(1)
        take, runs = need * sets, []
        for k, size in enumerate(sizes):
            if take == 0:
                break
            runs.append((draw(st.integers(1, 9)), 100 * p + k, 100 * p + k, min(size, take)))
            take -= min(size, take)
        used.append(runs)
    return used, needs, sets


@settings(max_examples=300, deadline=None)
@given(parts())
def test_segments_equal_the_plain_definition(case: tuple[list[list[Run]], list[int], int]) -> None:
    used, needs, sets = case
    segments = list(_segments(used, needs, sets))
    assert [make_up for count, make_up in segments for _ in range(count)] == _plain(used, needs, sets)
    assert len(segments) <= 2 * sum(len(part) for part in used) + 1  # O(runs) segments, whatever the sets
