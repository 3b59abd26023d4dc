"""``view._index`` keeps the last declarations' index at hand (the replay asks for one programme's
three times a receipt): asked for several programmes' declarations in any order, it gives each the
index built from those declarations, as ``_Index`` builds it afresh."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from loyadsl.api import compile_file
from loyadsl.runtime import load_bundle
from loyadsl.runtime.declarations import StateDecls

_view = sys.modules["loyadsl.runtime.state.view"]
_EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _decls(name: str) -> StateDecls:
    data, _ = compile_file(_EXAMPLES / name / "programme.loya")
    assert data is not None
    return load_bundle(data).state


_ALL = [_decls("completejourney"), _decls("supermarket"), StateDecls()]


def _fields(index: object) -> tuple[object, ...]:
    return tuple(getattr(index, name) for name in _view._Index.__slots__)


@settings(max_examples=100, deadline=None, database=None)
@given(st.lists(st.sampled_from(range(len(_ALL))), min_size=1, max_size=12))
def test_each_declarations_get_their_own_index(order: list[int]) -> None:
    for i in order:
        decls = _ALL[i]
        assert _fields(_view._index(decls)) == _fields(_view._Index(decls))
