"""The TextMate grammar of editors/vscode: valid JSON whose patterns all compile, which highlights
every keyword of the language's grammar (so the two cannot drift apart), and which gives real
lines of the supermarket programme the scopes an editor colours them by. The extension's manifest
names the grammar and the language configuration it ships."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from loyadsl.lsp.analysis import keywords

VSCODE = Path(__file__).resolve().parents[2] / "editors" / "vscode"
GRAMMAR = json.loads((VSCODE / "syntaxes" / "loya.tmLanguage.json").read_text(encoding="utf-8"))


def patterns(node: Any = GRAMMAR) -> list[dict[str, Any]]:
    """Every rule of the grammar, nested ones included."""
    found = []
    if isinstance(node, dict):
        if "match" in node or "begin" in node:
            found.append(node)
        for value in node.values():
            found += patterns(value)
    elif isinstance(node, list):
        for value in node:
            found += patterns(value)
    return found


def scopes(line: str) -> dict[str, str]:
    """What each rule of the grammar matches in ``line``, by the text matched: the rule's scope, or
    the scope of its first captured group (a declaration's keyword), the earliest rule winning."""
    found: dict[str, str] = {}
    for rule in patterns():
        if "match" not in rule:
            continue
        for m in re.finditer(rule["match"], line):
            if "captures" in rule:
                for group, capture in rule["captures"].items():
                    if m.group(int(group)):
                        found.setdefault(m.group(int(group)), capture["name"])
            else:
                found.setdefault(m.group(0), rule["name"])
    return found


def test_every_pattern_compiles() -> None:
    rules = patterns()
    assert len(rules) > 10
    for rule in rules:
        for key in ("match", "begin", "end"):
            if key in rule:
                re.compile(rule[key])


def test_every_keyword_of_the_language_is_highlighted() -> None:
    words: set[str] = set()
    for rule in patterns():  # the alternations of plain words: (account|accounts|accrue|...)
        for alternation in re.findall(r"\(([a-z_|]+)\)", rule.get("match", "")):
            words |= set(alternation.split("|"))
    assert set(keywords()) <= words, sorted(set(keywords()) - words)


def test_lines_get_the_scopes_an_editor_colours() -> None:
    line = 'campaign happy_dairy "Счастливые часы" uses happy_hours(goods = ["dairy"], rate = 10%, min_total = 1000.00 RUB) {'
    found = scopes(line)
    assert found["campaign"] == "storage.type.loya" and found["happy_dairy"] == "entity.name.loya"
    assert found["10%"] == "constant.numeric.percent.loya"
    assert found["1000.00 RUB"] == "constant.numeric.money.loya"
    assert found["uses"] == "keyword.other.loya"
    found = scopes("    valid 2025-01-01 .. 2025-12-31  # all year")
    assert found["2025-01-01"] == "constant.numeric.date.loya" and found["# all year"] == "comment.line.number-sign.loya"
    assert scopes("    when receipt.payable >= 500.00 ₽")["receipt"] == "variable.language.loya"


def test_the_extension_manifest() -> None:
    manifest = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    [language] = manifest["contributes"]["languages"]
    [grammar] = manifest["contributes"]["grammars"]
    assert language["id"] == grammar["language"] == "loya" and language["extensions"] == [".loya"]
    assert grammar["scopeName"] == GRAMMAR["scopeName"]
    assert (VSCODE / grammar["path"]).is_file() and (VSCODE / language["configuration"]).is_file()
    json.loads((VSCODE / language["configuration"]).read_text(encoding="utf-8"))
