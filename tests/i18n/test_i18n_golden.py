"""Commands in Russian, as data: each ``cases/*.golden`` file starts with ``$ loya ARGS`` and holds
what the command prints (stdout, then stderr), run in ``cases/``; its exit code is on the second
line (``exit N``). A programme that does not parse on purpose is kept as ``NAME.loya.broken`` (the
formatter's corpus takes every ``tests/**/*.loya``) and run as ``NAME.loya``. English stays as written: the same commands without ``--lang`` print no Russian
word of ours (the golden tests elsewhere hold the English byte for byte)."""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loyadsl import i18n, locale_text
from loyadsl.cli import app
from loyadsl.render import display_width

CASES = Path(__file__).parent / "cases"
GOLDEN = sorted(CASES.glob("*.golden"))
OURS = re.compile(r"ошибка|подсказка|программа|Чек|итого|пройдено|скомпилировано")


@pytest.fixture(autouse=True)
def _english_after(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for variable in ("LOYA_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("COLUMNS", "80")
    for path in CASES.iterdir():
        shutil.copy(path, tmp_path / path.name.removesuffix(".broken"))
    monkeypatch.chdir(tmp_path)
    yield
    i18n.use(None)
    locale_text.use(None)


def run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, args)
    return result.exit_code, (result.stdout + result.stderr).rstrip("\n")


def golden(path: Path) -> tuple[list[str], int, str]:
    command, exit_line, expected = path.read_text(encoding="utf-8").split("\n", 2)
    assert command.startswith("$ loya ") and exit_line.startswith("exit "), path
    return shlex.split(command[len("$ loya "):]), int(exit_line[len("exit "):]), expected.rstrip("\n")


def test_there_are_golden_commands() -> None:
    assert len(GOLDEN) >= 5


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_golden_russian_output(path: Path) -> None:
    args, code, expected = golden(path)
    assert run(args) == (code, expected)


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_without_lang_the_output_is_english(path: Path) -> None:
    args, code, _ = golden(path)
    english = [a for a in args if a not in ("--lang", "ru")]
    got_code, printed = run(english)
    assert got_code == code and OURS.search(printed) is None, printed


def test_the_locale_chooses_russian_when_lang_is_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "ru_RU.UTF-8")
    assert "неизвестная группа `promos`" in run(["check", "--no-collisions", "unknown_names.loya"])[1]
    monkeypatch.setenv("LC_ALL", "C.UTF-8")  # LC_ALL comes before LANG
    assert "unknown group `promos`" in run(["check", "--no-collisions", "unknown_names.loya"])[1]


def test_lang_en_beats_a_russian_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGUAGE", "ru:en")
    assert "unknown group `promos`" in run(["check", "--no-collisions", "--lang", "en", "unknown_names.loya"])[1]


def test_an_unknown_language_is_a_usage_error() -> None:
    code, printed = run(["check", "--lang", "de", "ok.loya"])
    assert code == 2 and "LOY700" in printed


@pytest.mark.parametrize("path", [p for p in GOLDEN if p.stem.startswith(("eval", "simulate", "diff", "ab_"))], ids=lambda p: p.stem)
def test_russian_reports_fit_80_columns(path: Path) -> None:
    _, _, expected = golden(path)
    assert max(display_width(line) for line in expected.splitlines()) <= 80


def test_ab_follows_the_locale_and_refuses_an_unknown_language(monkeypatch: pytest.MonkeyPatch) -> None:
    """`loya ab` has its own --lang (it is a sub-application): the locale chooses Russian, --lang en
    beats it, and a language without a catalogue is LOY700 with exit code 2, no traceback."""
    monkeypatch.setenv("LANG", "ru_RU.UTF-8")
    assert run(["ab", "report", "ab.csv"])[1].startswith("Проверка долей групп")
    assert run(["ab", "report", "--lang", "en", "ab.csv"])[1].startswith("sample ratio check")
    code, printed = run(["ab", "plan", "--lang", "de", "--mean", "1", "--sd", "1", "--n", "10"])
    assert code == 2 and "error[LOY700]: --lang: 'de'" in printed
