"""Messages in the reader's language: ``--lang ru`` (or a Russian locale) for diagnostics, the CLI's
own lines and report labels; English, the default, is the text as the code writes it, unchanged.

Diagnostics stay data in English (JSON, SARIF, JUnit and the language server carry them as they
are); only the text edge asks this module for the reader's words:

- ``title(code)``: a code's title (``ru_titles.TITLES``; every code has one, a test checks it);
- ``localized(diagnostic)``: its message, hint and notes from the templates of ``ru_messages``
  (``"unknown name `{name}`"`` -> ``"неизвестное имя `{name}`"``, parameters recovered from the
  English text; the runtime's and the tools' messages are in ``ru_runtime`` and ``ru_tools``); a
  message no template matches reads ``<Russian title> — <English message>``, and a code listed in
  ``ru_messages.UNTRANSLATED`` has no template on purpose;
- ``say(msgid, **params)``: one of the CLI's and reports' own lines, gettext-style: the English text
  is the key (``ru_cli.CLI``), a missing translation prints the English;
- ``explain(text)``: a step of `loya eval --explain`, a rejection's detail or an upsell hint
  (``ru_explain``); ``note(text)``: a sentence of a report (``ru_report``).

`loya ab report` and `loya ab plan` have their own Russian text (``ru_ab``), built from the figures.

The catalogues are plain Python tables, typed and checked by mypy and the tests; no compiled .mo
files, no Babel needed for words (Babel formats numbers and money: ``loyadsl/locale_text.py``).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from contextlib import suppress
from contextvars import ContextVar
from typing import Any

from loyadsl.diagnostics import Diagnostic
from loyadsl.i18n.templates import Catalogue

LANGUAGES = ("en", "ru")
_ENV_ORDER = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")  # gettext's order: the first one set decides
_language: ContextVar[str | None] = ContextVar("loya_messages_language", default=None)


def from_environment(environ: Mapping[str, str] = os.environ) -> str | None:
    """The language of the locale (``ru_RU.UTF-8`` -> ``ru``), when it is one with a catalogue other
    than English; None (English, the plain forms) for ``C``, ``en_US`` or anything else."""
    for variable in _ENV_ORDER:
        value = environ.get(variable, "")
        if value:
            language = value.split(":")[0].split(".")[0].split("_")[0].split("@")[0].lower()
            return language if language in LANGUAGES and language != "en" else None
    return None


def use(language: str | None) -> None:
    """Speak ``language`` from now on (``None`` or ``en``: the English text as written)."""
    _language.set(None if language == "en" else language)


def speak(language: str | None) -> None:
    """Speak ``language`` (None: the locale's, from the environment) and format money and numbers for it
    (``loyadsl/locale_text.py``), as every verb's --lang does. A language without a catalogue is LOY700,
    and one that needs Babel when it is missing is LOY730; the locale's language falls back to plain
    numbers without Babel."""
    from loyadsl import locale_text
    from loyadsl.runtime.errors import LoyaError

    if language is None:
        language = from_environment()
        use(language)
        with suppress(ModuleNotFoundError):
            locale_text.use(language)
        return
    if language not in locale_text.LANGUAGES:
        raise LoyaError("LOY700", f"{language!r} is not one of {', '.join(locale_text.LANGUAGES)}", "--lang")
    use(language)
    try:
        locale_text.use(language)
    except ModuleNotFoundError:
        raise LoyaError("LOY730", f"--lang {language} needs Babel, which is not installed; install it with: "
                                  "pip install 'loyadsl[i18n]'") from None


def current() -> str | None:
    return _language.get()


def title(code: str) -> str:
    """A code's title in the current language (the English registry's title by default)."""
    from loyadsl.runtime.codes import CODES

    if current() == "ru":
        from loyadsl.i18n.ru_titles import TITLES

        return TITLES.get(code, CODES.get(code, code))
    return CODES.get(code, code)


def _catalogue() -> Catalogue:
    from loyadsl.i18n.ru_messages import catalogue

    return catalogue()


def message(code: str, text: str) -> str:
    """A diagnostic's (or a CLI error's) message in the current language: its template's translation,
    or the code's title before the English text."""
    if current() != "ru":
        return text
    found = _catalogue().translate(code, text)
    if found is None and ": " in text:  # a runtime error's place first (``lines[2].qty: ...``)
        where, rest = text.split(": ", 1)
        translated = _catalogue().translate(code, rest)
        found = None if translated is None else f"{where}: {translated}"
    return found if found is not None else f"{title(code)} — {text}"


def phrase(text: str) -> str:
    """A hint or note in the current language, when a template matches it; else as it is."""
    if current() != "ru":
        return text
    found = _catalogue().translate("", text)
    return found if found is not None else text


def localized(d: Diagnostic) -> Diagnostic:
    """``d`` with its message, hint and notes in the current language (``d`` itself in English)."""
    if current() != "ru":
        return d
    return dataclasses.replace(d, message=message(d.code, d.message),
                               hint=phrase(d.hint) if d.hint else d.hint,
                               notes=tuple(phrase(n) for n in d.notes))


def say(msgid: str, **params: Any) -> str:
    """The CLI's own line ``msgid`` (English, with ``{named}`` parameters) in the current language."""
    text = msgid
    if current() == "ru":
        from loyadsl.i18n.ru_cli import CLI

        text = CLI.get(msgid, msgid)
    return text.format(**params) if params else text


_titles: ContextVar[Mapping[str, str] | None] = ContextVar("loya_campaign_titles", default=None)


def know_titles(titles: Mapping[str, str | None]) -> None:
    """The campaign titles the author wrote (``campaign milk10 "Скидка 10% на молоко"``), for reports."""
    _titles.set({name: title for name, title in titles.items() if title})


def campaign(name: str) -> str:
    """How reports name a campaign: its author's title in a chosen language, its name in English."""
    if current() is None:
        return name
    return (_titles.get() or {}).get(name, name)


def explain(text: str) -> str:
    """A step of `loya eval --explain`, a rejection's detail or an upsell hint in the current language
    (``ru_explain``), when a template matches it; else as it is."""
    if current() != "ru" or not text:
        return text
    from loyadsl.i18n.ru_explain import catalogue

    found = catalogue().translate("", text)
    return found if found is not None else text


def note(text: str) -> str:
    """A sentence of a report (a figure's note, the input line) in the current language, when a
    template of ``ru_report`` matches it; else as it is."""
    if current() != "ru" or not text:
        return text
    from loyadsl.i18n.ru_report import catalogue

    found = catalogue().translate("", text)
    return found if found is not None else text
