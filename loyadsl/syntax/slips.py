"""Hints for the slips a new author makes, learnt from other tools: a spelling the author brings from
elsewhere (``stack-all``, ``2x``, ``contains``, ``weekend``) gets the way ``.loya`` writes it, not the
nearest keyword by spelling (``weekend`` is not ``wed``).

Each rule looks at the offending token and the text around it, and returns a hint or None; the
parser falls back to its list of expected tokens.
"""

from __future__ import annotations

import re

_HYPHENATED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)+")
_MULTIPLIER = re.compile(r"(\d+(?:\.\d+)?)\s*[xX×]\b")

# weekday words from other tools -> the `.loya` way to write them
DAY_WORDS = {
    "weekend": "weekdays sat..sun", "weekends": "weekdays sat..sun", "holidays": "weekdays sat..sun",
    "weekday": "weekdays mon..fri", "weekdays": "weekdays mon..fri", "workdays": "weekdays mon..fri",
    "workday": "weekdays mon..fri", "business": "weekdays mon..fri", "daily": "leave `weekdays` out: every day",
    "everyday": "leave `weekdays` out: every day", "all": "leave `weekdays` out: every day",
}


def day_word(day: str) -> str | None:
    """A hint for a weekday word that is not a day (``weekend``), or None."""
    fix = DAY_WORDS.get(day.lower())
    if fix is None:
        return None
    return fix if fix.startswith("leave") else f"write `{fix}`"


def token_slip(text: str, pos: int | None, value: str) -> str | None:
    """A hint for the unexpected token ``value`` at offset ``pos`` of ``text``, or None."""
    if pos is None or not 0 <= pos <= len(text):
        return None
    for rule in (_hyphen, _times, _contains, _uses):
        hint = rule(text, pos, value)
        if hint is not None:
            return hint
    return None


def _hyphen(text: str, pos: int, value: str) -> str | None:
    """``stack-all``: names join words with ``_``."""
    if value != "-":
        return None
    start = pos
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_-"):
        start -= 1
    match = _HYPHENATED.match(text, start)
    if match is None or not match.start() <= pos < match.end():
        return None
    word = match.group(0)
    return f"names join words with `_`, not `-`: did you mean `{word.replace('-', '_')}`?"


def _times(text: str, pos: int, value: str) -> str | None:
    """``2x``: a multiplier comes first, ``x2``, and names what it multiplies."""
    if value.lower() not in ("x", "×"):
        return None
    line_start = text.rfind("\n", 0, pos) + 1
    match = None
    for found in _MULTIPLIER.finditer(text, line_start, pos + len(value)):
        match = found
    if match is None or match.end() != pos + len(value):
        return None
    n = match.group(1)
    return (f"a multiplier is written `x{n}` and names the campaign whose points it multiplies: "
            f"`accrue x{n} of base_cashback on lines where ...`")


def _contains(text: str, pos: int, value: str) -> str | None:
    """``lines contains "A"``: there is no `contains`; count the lines, or test membership with `in`."""
    if value.lower() not in ("contains", "includes", "has"):
        return None
    return ('there is no `contains`: to ask whether the receipt has a product, count its lines '
            '(`count(lines where sku == "A") >= 1`); to ask whether a value is in a list, use `in` '
            '(`receipt.store in moscow`)')


def _uses(text: str, pos: int, value: str) -> str | None:
    """``uses`` among a campaign's clauses: it belongs in the header."""
    if value != "uses":
        return None
    return ('`uses` goes in the campaign\'s header, before `{`: '
            '`campaign three_for_two "3 for 2" uses every_nth_free(items = beer, n = 3) { group base }`')
