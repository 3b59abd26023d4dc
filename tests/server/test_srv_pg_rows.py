"""postgres.py's conversions on the hot path (``_params``: a statement's parameters for libpq; ``_rows``:
a result's rows as Python values) have fast paths (exact ``str`` and ``int`` first; one column
alone): each must give what the general way gives, which is kept here as the reference, for any
values, subclasses and shapes of result (hypothesis)."""

from __future__ import annotations

import enum
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyadsl.server import postgres


def _params_reference(args: tuple[Any, ...]) -> tuple[list[bytes | None], list[int] | None]:
    values: list[bytes | None] = []
    binary = False
    for arg in args:
        if arg is None:
            values.append(None)
        elif isinstance(arg, str):
            values.append(arg.encode())
        elif isinstance(arg, int) and not isinstance(arg, bool):
            values.append(b"%d" % arg)
        elif isinstance(arg, bytes):
            values.append(arg)
            binary = True
        else:
            raise TypeError(f"no SQL parameter of type {type(arg).__name__}")
    if not binary:
        return values, None
    return values, [int(isinstance(arg, bytes)) for arg in args]


class _Text(str):
    pass


class _Number(enum.IntEnum):
    ONE = 1
    BIG = 2**62


ARGS = st.one_of(st.none(), st.text(), st.integers(), st.booleans(), st.binary(max_size=8), st.floats(),
                 st.text().map(_Text), st.sampled_from(_Number))


def _outcome(call: Any) -> Any:
    try:
        return call()
    except TypeError as exc:
        return ("TypeError", str(exc))


@settings(max_examples=1500, deadline=None)
@given(st.lists(ARGS, max_size=8).map(tuple))
def test_params_are_what_the_general_way_makes(args: tuple[Any, ...]) -> None:
    assert _outcome(lambda: postgres._params(args)) == _outcome(lambda: _params_reference(args))


class _Result:
    """What ``_rows`` reads of psycopg's PGresult."""

    def __init__(self, types: list[int], cells: list[list[bytes | None]]) -> None:
        self.types, self.cells = types, cells
        self.ntuples, self.nfields = len(cells), len(types)

    def ftype(self, column: int) -> int:
        return self.types[column]

    def get_value(self, row: int, column: int) -> bytes | None:
        return self.cells[row][column]


def _rows_reference(result: _Result) -> list[Any]:
    columns = range(result.nfields)
    types = [result.ftype(column) for column in columns]
    return [tuple(postgres._value(types[column], result.get_value(row, column)) for column in columns)
            for row in range(result.ntuples)]


# a column's type and a cell of it, as PostgreSQL's text format writes them
CELLS = {25: st.text().map(str.encode), 1043: st.text().map(str.encode), 20: st.integers().map(lambda n: b"%d" % n),
         23: st.integers(-2**31, 2**31 - 1).map(lambda n: b"%d" % n), 16: st.sampled_from([b"t", b"f"]),
         2278: st.just(b"")}


@st.composite
def _results(draw: st.DrawFn) -> _Result:
    types = draw(st.lists(st.sampled_from(sorted(CELLS)), min_size=1, max_size=4))
    rows = draw(st.integers(0, 4))
    cells = [[draw(st.one_of(st.none(), CELLS[oid])) for oid in types] for _ in range(rows)]
    return _Result(types, cells)


@settings(max_examples=1500, deadline=None)
@given(_results())
def test_rows_are_what_the_general_way_makes(result: _Result) -> None:
    assert postgres._rows(result) == _rows_reference(result)


def test_an_unknown_column_type_is_refused_as_before() -> None:
    for types in ([600], [25, 600]):
        with pytest.raises(TypeError, match="no conversion for PostgreSQL type 600"):
            postgres._rows(_Result(types, [[b"x"] * len(types)]))
