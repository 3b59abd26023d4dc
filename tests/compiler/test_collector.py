"""The compile pauses the cycle collector while it builds its trees (loyadsl/api.py, ``check_text``):
the collector is as the caller had it afterwards, whether the programme compiles, fails or raises."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from loyadsl import api

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "supermarket" / "programme.loya"


@pytest.fixture
def collector() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    if enabled:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_is_paused_during_the_check_and_back_after(collector: None,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    parse = api.parse_any

    def watching(text: str, file: str) -> object:
        seen.append(gc.isenabled())
        return parse(text, file)

    gc.enable()
    result = api.check_text(EXAMPLE.read_text(encoding="utf-8"), EXAMPLE.name, EXAMPLE, parse_text=watching)
    assert result.ok and seen and not any(seen)
    assert gc.isenabled()
    data, result = api.compile_file(EXAMPLE)
    assert data is not None and gc.isenabled()
    data, result = api.compile_text("campaign x {\n  then discount 5% on\n}\n", "bad.loya")
    assert data is None and result.diagnostics and gc.isenabled()


def test_a_raising_check_gives_the_collector_back(collector: None) -> None:
    def broken(text: str, file: str) -> object:
        raise RuntimeError("boom")

    gc.enable()
    with pytest.raises(RuntimeError):
        api.check_text("campaign x {}\n", "x.loya", parse_text=broken)  # type: ignore[arg-type]
    assert gc.isenabled()


def test_a_caller_that_paused_the_collector_keeps_it_paused(collector: None) -> None:
    gc.disable()
    data, _ = api.compile_file(EXAMPLE)
    assert data is not None and not gc.isenabled()
