"""Message templates with named parameters, keyed by code, translated at render time.

A template pairs the English text a diagnostic is written with (``"unknown group `{name}`"``) and
its translation (``"неизвестная группа `{name}`"``). The English side is read back into a pattern,
so a message built anywhere by an f-string is recognised and its parameters recovered; the
translation is then filled with them. ``{name|word}`` in a translation also translates the value
through the catalogue's word list (``account`` -> ``счёт``), for the English words some messages
insert (``unknown {what} `{name}```); ``{name|money}`` and other named filters rewrite the value with
the catalogue's function of that name (``120.00`` -> ``120,00`` for the reader's language), and a
filter that cannot read the value leaves it as it is.

Templates under the code ``""`` are hints and notes, shared by every code.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

Filter = Callable[[str], str]

_FIELD = re.compile(r"\{([a-z_]+)(?:\|([a-z]+))?\}")


@dataclass(frozen=True)
class Template:
    code: str
    en: str
    ru: str
    pattern: re.Pattern[str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", re.compile(_regex(self.en), re.S))

    @property
    def names(self) -> set[str]:
        return {m.group(1) for m in _FIELD.finditer(self.en)}

    def fill(self, text: str, words: Mapping[str, str], filters: Mapping[str, Filter] | None = None) -> str | None:
        """The translation of ``text``, when ``text`` is this template's English; else None."""
        found = self.pattern.fullmatch(text)
        if found is None:
            return None
        values = found.groupdict()

        def value(m: re.Match[str]) -> str:
            raw, how = values[m.group(1)], m.group(2)
            if how == "word":
                return words.get(raw, raw)
            return (filters or {})[how](raw) if how else raw
        return _FIELD.sub(value, self.ru)


def _regex(english: str) -> str:
    """``english`` as an anchored pattern: literal text, each ``{name}`` any text, perhaps none (shortest first),
    a name used twice the same text both times."""
    out, seen, at = [], set(), 0
    for m in _FIELD.finditer(english):
        out.append(re.escape(english[at:m.start()]))
        name = m.group(1)
        out.append(f"(?P={name})" if name in seen else f"(?P<{name}>.*?)")
        seen.add(name)
        at = m.end()
    out.append(re.escape(english[at:]))
    return "".join(out)


class Catalogue:
    """Templates by code, tried in the order written (the more specific first)."""

    def __init__(self, templates: Iterable[Template], words: Mapping[str, str],
                 filters: Mapping[str, Filter] | None = None) -> None:
        self.by_code: dict[str, list[Template]] = defaultdict(list)
        for t in templates:
            self.by_code[t.code].append(t)
        self.words = dict(words)
        self.filters = dict(filters or {})

    def translate(self, code: str, text: str) -> str | None:
        for t in self.by_code.get(code, ()):
            filled = t.fill(text, self.words, self.filters)
            if filled is not None:
                return filled
        return None

    def codes(self) -> set[str]:
        return {code for code in self.by_code if code}
