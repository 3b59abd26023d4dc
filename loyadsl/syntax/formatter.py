"""``loya fmt`` and ``loya convert``: canonical text that never loses a comment, or a coded refusal.

A .loya file is parsed with its trivia (loyadsl/syntax/trivia.py), printed in ``Line``s that know
the source they print (loyadsl/syntax/printer.py), and each comment is put back where its author
put it:

* a comment on its own line(s) goes before the line that follows it in the source, at that line's
  indentation (one level in before a closing ``}``); blank lines among such comments, and between
  them and that line, are kept (one at most);
* a comment at the end of a line stays at the end of the printed line that ends with the same
  token; the trailing comments of consecutive lines are aligned two spaces after the longest;
* comments after the last declaration stay at the end of the file.

A comment that sits inside what is printed as one line (an expression or a list spanning lines, a
clause split after its keyword) cannot be placed faithfully: LOY120, nothing is written. The result
is then checked mechanically: it parses to the same AST, holds the same comments (as a multiset),
and formatting it again changes nothing; otherwise LOY121 (a formatter bug, never written).

YAML: PyYAML drops comments, and the writer prints the expressions and actions a YAML file embeds
from the AST, so a YAML file with comments (YAML ones, or .loya ones inside an embedded string) is
refused (LOY122), and so is converting a .loya file with comments to YAML (LOY123), unless the
caller drops them on purpose.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import yaml

from loyadsl.diagnostics import Diagnostic, Span, error
from loyadsl.syntax import nodes as n
from loyadsl.syntax.parser import collecting_trivia, parse
from loyadsl.syntax.printer import INDENT, Line, format_module, module_lines
from loyadsl.syntax.trivia import Comment, Pos, Trivia
from loyadsl.syntax.yaml_twin import parse_yaml, to_yaml

Formatted = tuple[str | None, list[Diagnostic]]
_SNIPPET = 40  # characters of a printed line quoted in a refusal


def format_loya(text: str, file: str = "<input>") -> Formatted:
    """The canonical form of a .loya text with every comment kept, or the diagnostics that refuse it."""
    text = text.removeprefix("\ufeff")
    trivia = Trivia()
    module, diags = parse(text, file, trivia)
    if module is None:
        return None, diags
    formatted, diags = _layout(module, trivia, text, file)
    if formatted is None:
        return None, diags
    problem = _verify(module, trivia.comments, formatted, file)
    return (None, [problem]) if problem is not None else (formatted, [])


def format_yaml(text: str, file: str = "<input>") -> Formatted:
    """The canonical YAML twin of a YAML programme; refused (LOY122) if the file has comments."""
    module, diags, comments = _read_yaml(text, file)
    if module is None:
        return None, diags
    if comments:
        return None, [_yaml_comments_lost(comments, file, "`loya fmt` writes the YAML twin without comments")]
    return _checked_yaml(module, file)


def convert(text: str, file: str, from_yaml: bool, to: str, drop_comments: bool = False) -> Formatted:
    """``text`` (YAML when ``from_yaml``) as ``to`` ("loya" or "yaml"). Comments the target cannot carry
    are refused (LOY122, LOY123) unless ``drop_comments``; .loya to .loya keeps them (``format_loya``)."""
    if not from_yaml and to == "loya":
        return format_loya(text, file)
    if from_yaml:
        module, diags, comments = _read_yaml(text, file)
        if module is None:
            return None, diags
        if comments and not drop_comments:
            return None, [_yaml_comments_lost(comments, file, "PyYAML does not read comments")]
    else:
        text = text.removeprefix("\ufeff")
        trivia = Trivia()
        module, diags = parse(text, file, trivia)
        if module is None:
            return None, diags
        if trivia.comments and not drop_comments:
            first = trivia.comments[0]
            return None, [error("LOY123", f"this file has {_count(len(trivia.comments))}; the YAML twin is written "
                                          "without comments, so converting would lose them", _span(file, first),
                                "keep the programme in .loya, or convert with --drop-comments to drop them on purpose")]
    if to == "yaml":
        return _checked_yaml(module, file)
    return _checked_loya(module, file)


# ---------------------------------------------------------------------------------------------- placing comments


@dataclass
class _Placed:
    """Where each comment goes: before a printed line (by index), at its end, or at the end of the file."""

    leading: dict[int, list[Comment]] = field(default_factory=dict)
    trailing: dict[int, Comment] = field(default_factory=dict)
    tail: list[Comment] = field(default_factory=list)


def _layout(module: n.Module, trivia: Trivia, text: str, file: str) -> Formatted:
    """The module's canonical lines with the trivia's comments put back, or LOY120 for each that cannot be."""
    lines = module_lines(module, trivia)
    placed, refused = _place(lines, trivia.comments, text.split("\n"), file)
    if refused:
        return None, refused
    last_code_line = trivia.tokens[-1][1][0] if trivia.tokens else 0
    return _render(lines, placed, last_code_line), []


def _place(lines: list[Line], comments: list[Comment], source: list[str], file: str) -> tuple[_Placed, list[Diagnostic]]:
    anchored = sorted((line.start, i) for i, line in enumerate(lines) if line.start is not None and line.end)
    starts = [start for start, _ in anchored]
    by_end = {line.end: i for i, line in enumerate(lines) if line.start is not None and line.end is not None}
    placed, refused = _Placed(), []
    for comment in comments:
        k = bisect.bisect_left(starts, comment.pos)  # the first line that starts after the comment
        around = lines[anchored[k - 1][1]] if k else None
        if around is not None and around.end is not None and comment.pos < around.end:
            refused.append(_inside(comment, around, file))
            continue
        before = source[comment.line - 1][:comment.col - 1].rstrip()
        if before:  # at the end of a line: stays at the end of the printed line that ends where the code does
            i = by_end.get((comment.line, len(before) + 1))
            if i is None or i in placed.trailing:
                refused.append(_inside(comment, around, file))
            else:
                placed.trailing[i] = comment
        elif k < len(anchored):
            placed.leading.setdefault(anchored[k][1], []).append(comment)
        else:
            placed.tail.append(comment)
    return placed, refused


def _render(lines: Sequence[Line], placed: _Placed, last_code_line: int) -> str:
    rows: list[tuple[str, str | None]] = []  # (text, trailing comment)
    for i, line in enumerate(lines):
        if line.gap and rows:
            rows.append(("", None))
        group = placed.leading.get(i, [])
        _comment_rows(rows, group, line.depth + 1 if line.closes else line.depth)
        if group and line.start is not None and line.start[0] - group[-1].line > 1:
            rows.append(("", None))
        comment = placed.trailing.get(i)
        rows.append((INDENT * line.depth + line.text, None if comment is None else comment.text))
    if placed.tail and rows and placed.tail[0].line - last_code_line > 1:
        rows.append(("", None))
    _comment_rows(rows, placed.tail, 0)
    return "".join(row + "\n" for row in _aligned(rows))


def _comment_rows(rows: list[tuple[str, str | None]], group: list[Comment], depth: int) -> None:
    for j, comment in enumerate(group):
        if j and comment.line - group[j - 1].line > 1:
            rows.append(("", None))
        rows.append((INDENT * depth + comment.text, None))


def _aligned(rows: list[tuple[str, str | None]]) -> list[str]:
    """Trailing comments of consecutive lines start in one column, two spaces after the longest code."""
    out: list[str] = []
    i = 0
    while i < len(rows):
        j = i
        while j < len(rows) and rows[j][1] is not None:
            j += 1
        if j == i:
            out.append(rows[i][0])
            i += 1
            continue
        width = max(len(code) for code, _ in rows[i:j]) + 2
        out += [code.ljust(width) + (comment or "") for code, comment in rows[i:j]]
        i = j
    return out


def _inside(comment: Comment, line: Line | None, file: str) -> Diagnostic:
    where = "" if line is None else f": it is inside `{_snippet(line.text)}`, which is printed as one line"
    return error("LOY120", f"`loya fmt` cannot keep this comment where it is{where}", _span(file, comment),
                 "put the comment on its own line before that line, or at the end of its last line")


def _snippet(text: str) -> str:
    return text if len(text) <= _SNIPPET else text[:_SNIPPET - 3] + "..."


# ---------------------------------------------------------------------------------------------- checking


def _verify(module: n.Module, comments: list[Comment], formatted: str, file: str) -> Diagnostic | None:
    """LOY121 unless ``formatted`` parses to ``module``, holds the same comments and is its own format."""
    trivia = Trivia()
    again, _ = parse(formatted, file, trivia)
    if again != module:
        return _unfaithful(file, "the formatted text does not parse back to the same programme")
    lost = Counter(c.text for c in comments) - Counter(c.text for c in trivia.comments)
    gained = Counter(c.text for c in trivia.comments) - Counter(c.text for c in comments)
    if lost or gained:
        missing = next((c for c in comments if c.text in lost), None)
        return _unfaithful(file, "the formatted text would not hold the same comments",
                           None if missing is None else _span(file, missing))
    assert again is not None
    second, _ = _layout(again, trivia, formatted, file)
    if second != formatted:
        return _unfaithful(file, "formatting the formatted text changes it again")
    return None


def _checked_yaml(module: n.Module, file: str) -> Formatted:
    out = to_yaml(module)
    if parse_yaml(out, file)[0] != module:
        return None, [_unfaithful(file, "the YAML twin does not read back as the same programme")]
    return out, []


def _checked_loya(module: n.Module, file: str) -> Formatted:
    out = format_module(module)
    if parse(out, file)[0] != module:
        return None, [_unfaithful(file, "the .loya text does not parse back to the same programme")]
    return out, []


def _unfaithful(file: str, why: str, span: Span | None = None) -> Diagnostic:
    return error("LOY121", f"not formatted: {why}", span or Span(file, 1, 1, 1, 1),
                 "this is a bug in the formatter; the file was left as it is (please report it with the file)")


# ---------------------------------------------------------------------------------------------- YAML comments


def _read_yaml(text: str, file: str) -> tuple[n.Module | None, list[Diagnostic], list[Pos]]:
    """The module of a YAML text, and where its comments are: the YAML ones, and the .loya comments
    inside the expressions and actions it embeds (the writer prints those from the AST, without them)."""
    trivia = Trivia()
    with collecting_trivia(trivia):
        module, diags = parse_yaml(text, file)
    if module is None:
        return None, diags, []
    return module, diags, sorted([*yaml_comments(text), *(c.pos for c in trivia.comments)])


def yaml_comments(text: str) -> list[Pos]:
    """Where the comments of a YAML text are: each ``#`` outside every token the YAML scanner reads,
    and after a block scalar's ``|``/``>`` header. Call it on text that parses."""
    covered: list[tuple[int, int]] = []
    headers: list[tuple[int, int]] = []
    for tok in yaml.scan(text, Loader=yaml.SafeLoader):
        start, end = tok.start_mark.index, tok.end_mark.index
        if isinstance(tok, yaml.ScalarToken) and tok.style in ("|", ">"):
            header_end = text.find("\n", start)
            headers.append((start, len(text) if header_end < 0 else header_end))
        covered.append((start, end))
    starts = [start for start, _ in covered]  # tokens come in order and do not overlap
    out: list[Pos] = []
    for match in re.finditer("#", text):
        at = match.start()
        k = bisect.bisect_right(starts, at) - 1
        in_token = k >= 0 and at < covered[k][1]
        if not in_token or any(s < at < e for s, e in headers):
            line = text.count("\n", 0, at) + 1
            out.append((line, at - (text.rfind("\n", 0, at) + 1) + 1))
    return out


def _yaml_comments_lost(comments: list[Pos], file: str, why: str) -> Diagnostic:
    line, col = comments[0]
    return error("LOY122", f"this YAML file has {_count(len(comments))} (the first is here); {why}, so they "
                           "would be lost", Span(file, line, col, line, col + 1),
                 "remove the comments or keep them in a .loya file, where `loya fmt` keeps them "
                 "(`loya convert` takes --drop-comments to drop them on purpose)")


def _count(comments: int) -> str:
    return "1 comment" if comments == 1 else f"{comments} comments"


def _span(file: str, comment: Comment) -> Span:
    return Span(file, comment.line, comment.col, comment.line, comment.col + len(comment.text))
