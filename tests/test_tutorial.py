"""docs/tutorial.md (and each page of docs/cookbook/, and docs/i18n.md) is run as written: from top to bottom, each `<!-- file: NAME -->` block is written
to a fresh folder and each `<!-- run: loya ARGS [; exit N] -->` command runs there, with its exit code
(0 unless stated) and every line of the `text` block after it found in what it prints (spaces
collapsed). Editing the tutorial without running it fails here."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loyadsl.cli import app

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGE = DOCS / "tutorial.md"
RUN_PAGES = [PAGE, DOCS / "i18n.md", *sorted((DOCS / "cookbook").glob("*.md"))]
STEP = re.compile(r"<!-- (file|run): (.*?) -->\n```[a-z]*\n(.*?)^```", re.S | re.M)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def steps(page: Path = PAGE) -> list[tuple[str, str, str]]:
    return [(m.group(1), m.group(2), m.group(3)) for m in STEP.finditer(page.read_text(encoding="utf-8"))]


def test_the_tutorial_has_files_and_commands() -> None:
    kinds = [kind for kind, _, _ in steps()]
    assert kinds.count("file") >= 4 and kinds.count("run") >= 5


def test_each_cookbook_page_has_a_file_and_a_command() -> None:
    cookbook = [page for page in RUN_PAGES if page.parent.name == "cookbook" and page.name != "index.md"]
    assert len(cookbook) >= 20
    for page in cookbook:
        kinds = [kind for kind, _, _ in steps(page)]
        assert "file" in kinds and "run" in kinds, page


@pytest.mark.parametrize("page", RUN_PAGES, ids=lambda p: p.stem)
def test_the_page_runs_as_written(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from loyadsl import i18n, locale_text

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    for variable in ("LOYA_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(variable, raising=False)
    try:
        _run_steps(page, tmp_path)
    finally:  # a page may switch to Russian (--lang ru): the next test starts in English
        i18n.use(None)
        locale_text.use(None)


def _run_steps(page: Path, tmp_path: Path) -> None:
    for kind, what, body in steps(page):
        if kind == "file":
            (tmp_path / what).write_text(body, encoding="utf-8")
            continue
        command, _, exit_text = what.partition("; exit ")
        words = shlex.split(command)
        assert words[0] == "loya", what
        result = CliRunner().invoke(app, words[1:])
        printed = squeeze(result.output)
        assert result.exit_code == int(exit_text or 0), (what, result.output)
        for line in body.splitlines():
            assert squeeze(line) in printed, (what, line, result.output)
