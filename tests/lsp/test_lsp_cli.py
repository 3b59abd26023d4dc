"""`loya lsp` on the command line: it is registered, and without the `lsp` extra it names the extra
to install (LOY730, exit 2) instead of a traceback."""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

from loyadsl.cli import app


def test_lsp_is_a_verb() -> None:
    result = CliRunner().invoke(app, ["lsp", "--help"])
    assert result.exit_code == 0 and "Language Server Protocol" in result.output


def test_lsp_without_the_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pygls", None)  # as if pygls were not installed
    for name in [m for m in sys.modules if m.startswith(("pygls.", "loyadsl.lsp.server"))]:
        monkeypatch.delitem(sys.modules, name)
    result = CliRunner().invoke(app, ["lsp"])
    assert result.exit_code == 2
    assert "error[LOY730]" in result.output and "pip install 'loyadsl[lsp]'" in result.output
    assert "Traceback" not in result.output
