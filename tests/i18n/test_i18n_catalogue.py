"""The Russian catalogue: every registered code has a Russian title; every code has its messages
translated or is listed in ``UNTRANSLATED`` with a reason; each message template is well formed (the
same parameters on both sides); real runtime errors read in Russian; and the coverage figures,
printed with ``pytest -s`` for the maintainers."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest

from loyadsl import i18n
from loyadsl.i18n.ru_cli import CLI
from loyadsl.i18n.ru_messages import ROWS, UNTRANSLATED, catalogue
from loyadsl.i18n.ru_titles import TITLES
from loyadsl.i18n.templates import Template
from loyadsl.runtime import LoyaError, load_bundle
from loyadsl.runtime.codes import CODES
from loyadsl.runtime.model import Receipt

CYRILLIC = re.compile(r"[а-яё]", re.I)
FIELD = re.compile(r"\{([a-z_]+)(?:\|[a-z]+)?\}")


@pytest.fixture(autouse=True)
def _english_after() -> Iterator[None]:
    yield
    i18n.use(None)


def test_every_code_has_a_russian_title() -> None:
    missing = sorted(set(CODES) - set(TITLES))
    assert not missing, f"codes without a Russian title in loyadsl/i18n/ru_titles.py: {missing}"
    assert not sorted(set(TITLES) - set(CODES)), "titles of codes that runtime/codes.py does not register"
    assert all(CYRILLIC.search(text) for text in TITLES.values())


def test_every_code_is_translated_or_says_why_not() -> None:
    translated = catalogue().codes()
    neither = sorted(set(CODES) - translated - set(UNTRANSLATED))
    assert not neither, f"codes with neither a message template nor a reason in UNTRANSLATED: {neither}"
    both = sorted(translated & set(UNTRANSLATED))
    assert not both, f"codes with templates that UNTRANSLATED still lists: {both}"
    assert set(UNTRANSLATED) <= set(CODES)
    assert all(len(reason.split()) >= 5 for reason in UNTRANSLATED.values()), "a reason is a sentence"


@pytest.mark.parametrize(("code", "en", "ru"), ROWS, ids=[f"{c or 'hint'}:{e[:30]}" for c, e, _ in ROWS])
def test_templates_are_well_formed(code: str, en: str, ru: str) -> None:
    assert code == "" or code in CODES
    assert set(FIELD.findall(ru)) == Template(code, en, ru).names, "the same parameters on both sides"
    assert CYRILLIC.search(ru)


@pytest.mark.parametrize("name", ["messages", "explain", "report"])
def test_every_filter_a_template_names_exists(name: str) -> None:
    from loyadsl.i18n import ru_explain, ru_report

    made = {"messages": catalogue, "explain": ru_explain.catalogue, "report": ru_report.catalogue}[name]()
    used = {how for ts in made.by_code.values() for t in ts for how in re.findall(r"\{[a-z_]+\|([a-z]+)\}", t.ru)}
    assert used <= {"word", *made.filters}


def test_explain_hints_and_report_sentences_keep_their_parameters() -> None:
    from loyadsl.i18n import ru_explain, ru_report

    for en, ru in (*ru_explain.ROWS, *ru_report.ROWS):
        assert set(FIELD.findall(ru)) == Template("", en, ru).names, en
        assert CYRILLIC.search(ru) or "|" in ru, en  # Russian, or words the filters translate


def test_a_template_recovers_its_parameters_and_translates_words() -> None:
    i18n.use("ru")
    assert i18n.message("LOY205", "list `vip` is declared twice") == "список `vip` объявлено дважды"
    assert i18n.message("LOY201", "unknown group `promos`") == "неизвестная группа `promos`"
    assert i18n.phrase("did you mean `promo`?") == "возможно, имелось в виду `promo`?"


RECEIPT = {"receipt_id": "r1", "store_id": "s1", "datetime": "2026-03-05T10:00:00+03:00", "currency": "RUB",
           "lines": [{"line_no": 1, "sku": "a", "category": "c", "qty": 1, "unit_price": 100, "amount": 100}]}


@pytest.mark.parametrize(("fails", "russian"), [
    (lambda: load_bundle(b"junk"), "это не бандл loyadsl (он не начинается с LOYAB)"),
    (lambda: load_bundle("text"), "бандл — это байты, а получено str"),
    (lambda: Receipt.from_dict({**RECEIPT, "lines": [{**RECEIPT["lines"][0], "tax_rate": 120}]}),
     "lines[0].tax_rate: ожидался процент от 0 до 100 с не более чем 4 знаками после запятой, а получено 120"),
    (lambda: Receipt.from_dict({**RECEIPT, "lines": [{**RECEIPT["lines"][0], "amount": 300}]}),
     "lines[0].amount: 300 не равно unit_price × qty = 100 × 1 = 100 с точностью до округлений "
     "(1 + qty / 2 минимальных единиц)"),
], ids=["not-a-bundle", "not-bytes", "tax-rate", "amount"])
def test_the_runtimes_errors_read_in_russian(fails: Callable[[], object], russian: str) -> None:
    """Errors the runtime really raises (their place first) are recognised by their templates."""
    with pytest.raises(LoyaError) as raised:
        fails()
    i18n.use("ru")
    assert i18n.message(raised.value.code, str(raised.value)) == russian


def test_a_message_without_a_template_shows_the_russian_title_first() -> None:
    i18n.use("ru")
    assert i18n.message("LOY999", "boom") == "внутренняя ошибка: дефект loyadsl — boom"
    i18n.use(None)
    assert i18n.message("LOY999", "boom") == "boom"


def test_english_is_the_text_as_written() -> None:
    assert i18n.current() is None
    assert i18n.say("[green]ok[/] {path}: programme “{name}”, {campaigns} campaigns in {groups} groups",
                    path="a", name="b", campaigns=1, groups=2) == "[green]ok[/] a: programme “b”, 1 campaigns in 2 groups"


def test_cli_lines_keep_their_parameters() -> None:
    for en, ru in CLI.items():
        assert set(FIELD.findall(en)) == set(FIELD.findall(ru)), en


@pytest.mark.parametrize(("environ", "language"), [
    ({"LANG": "ru_RU.UTF-8"}, "ru"), ({"LANG": "C.UTF-8"}, None), ({"LANG": "en_GB.UTF-8"}, None),
    ({"LANGUAGE": "ru:en", "LANG": "en_US.UTF-8"}, "ru"), ({"LC_ALL": "de_DE", "LANG": "ru_RU"}, None),
    ({"LC_MESSAGES": "ru_RU@latin"}, "ru"), ({}, None),
])
def test_the_language_of_the_locale(environ: dict[str, str], language: str | None) -> None:
    assert i18n.from_environment(environ) == language


def test_coverage_figures() -> None:
    """Codes with Russian text: all (titles); codes with translated messages: printed."""
    templated = catalogue().codes()
    print(f"\nRussian titles: {len(set(TITLES) & set(CODES))}/{len(CODES)} codes; "
          f"message templates: {len(templated)} codes, {len(ROWS)} templates; CLI lines: {len(CLI)}")
    print("codes with message templates:", ", ".join(sorted(templated)))
    assert templated <= set(CODES)
