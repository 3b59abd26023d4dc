"""Parsing a `.loya` file again after an edit, reusing the declarations that did not change.

The language server checks the whole programme after every keystroke, and on a file of a few
thousand lines lark's parse is most of that time. A file is a sequence of top-level declarations,
each starting at column 1 of a line with a declaration keyword (``parser._TOP_LEVEL``, the same
lines the parser resynchronises at after an error). ``IncrementalParser`` cuts the text at those
lines, parses each piece on its own, and remembers the pieces by their text: after an edit, only the
edited declaration is parsed again, and a declaration that only moved up or down gets its spans
shifted.

Why a piece parses to exactly what the whole file would give: a cut inside a block or a list leaves
an unclosed ``{``, ``[`` or ``(`` at the end of the piece (strings and comments end at the line's
end), so that piece does not parse; and the module rule is a plain sequence of declarations. When a
piece does not parse, or the pieces together break a whole-file rule (two headers, too many
campaigns), the whole text is parsed the ordinary way, which also gives the usual diagnostics.
``tests/syntax/test_incremental_parse.py`` compares both ways, spans included.
"""

from __future__ import annotations

from typing import Any

from lark.exceptions import UnexpectedInput

from loyadsl.diagnostics import Diagnostic, Span
from loyadsl.runtime.limits import MAX_CAMPAIGNS, MAX_SOURCE_CHARS
from loyadsl.syntax import nodes as n
from loyadsl.syntax.parser import (
    _TOP_LEVEL,
    _TRIVIA,
    _build,
    _lark,
    _Origin,
    _TooDeep,
    parse,
)

Piece = tuple[int, str]  # the 1-based line it starts at, its text
_Parsed = tuple[int, n.Module]  # the line it was parsed at, what it gave


def pieces(text: str) -> list[Piece]:
    """``text`` cut before every line that starts with a top-level keyword."""
    lines = text.split("\n")
    cuts = [0] + [i for i, line in enumerate(lines) if i and _TOP_LEVEL.match(line)]
    bounds = zip(cuts, [*cuts[1:], len(lines)], strict=True)
    return [(start + 1, "\n".join(lines[start:end]) + ("\n" if end < len(lines) else "")) for start, end in bounds]


class IncrementalParser:
    """``parse`` with a memory of the last version of each file: call it as ``parse_any`` is called."""

    def __init__(self) -> None:
        self._known: dict[str, dict[str, _Parsed]] = {}  # file -> piece text -> parsed; only the last version

    def __call__(self, text: str, file: str) -> tuple[n.Module | None, list[Diagnostic]]:
        if len(text) > MAX_SOURCE_CHARS or text.startswith("\ufeff") or _TRIVIA.get() is not None:
            return parse(text, file)
        known = self._known.get(file, {})
        fresh: dict[str, _Parsed] = {}
        modules: list[n.Module] = []
        for line, piece in pieces(text):
            module = _reuse(known.get(piece) or fresh.get(piece), line) or _parse_piece(piece, file, line)
            if module is None:
                self._known.pop(file, None)
                return parse(text, file)
            fresh[piece] = (line, module)
            modules.append(module)
        self._known[file] = fresh
        module = _joined(modules, file)
        return (module, []) if module is not None else parse(text, file)

    def forget(self, file: str) -> None:
        """Drop what is remembered of ``file`` (the editor closed it)."""
        self._known.pop(file, None)


def _reuse(parsed: _Parsed | None, line: int) -> n.Module | None:
    if parsed is None:
        return None
    at, module = parsed
    return module if at == line else shifted(module, line - at)


def _parse_piece(piece: str, file: str, line: int) -> n.Module | None:
    try:
        tree = _lark().parse(piece, start="module")
    except (UnexpectedInput, _TooDeep):
        return None
    module, diags = _build(tree, _Origin(file, line))
    return module if isinstance(module, n.Module) and not diags else None


def _joined(modules: list[n.Module], file: str) -> n.Module | None:
    """One module from the pieces' modules, or None when a whole-file rule needs the ordinary parse."""
    headers = [m.header for m in modules if m.header is not None]
    decls = tuple(d for m in modules for d in m.decls)
    if len(headers) > 1 or sum(isinstance(d, n.CampaignDecl) for d in decls) > MAX_CAMPAIGNS:
        return None
    spans = [m.span for m in modules if m.span is not None and (m.header or m.imports or m.decls)]
    span = Span(file, spans[0].line, spans[0].col, spans[-1].end_line, spans[-1].end_col) if spans \
        else Span(file, 1, 1, 1, 1)
    imports = tuple(i for m in modules for i in m.imports)
    return n.Module(headers[0] if headers else None, imports, decls, span=span)


# ---------------------------------------------------------------------------------------------- moving spans


def shifted(value: Any, lines: int) -> Any:
    """``value`` (a node, a tuple of them, a span...) with every span moved down by ``lines``."""
    kind = type(value)
    if kind in _LEAVES:
        return value
    if kind is Span:
        return Span(value.file, value.line + lines, value.col, value.end_line + lines, value.end_col)
    if kind is tuple or kind is list:
        return kind(shifted(v, lines) for v in value)
    if kind is dict:
        return {k: shifted(v, lines) for k, v in value.items()}
    if isinstance(value, n.Node):  # frozen dataclasses: build the copy's attributes directly
        moved = object.__new__(kind)
        moved.__dict__.update({k: shifted(v, lines) for k, v in value.__dict__.items()})
        return moved
    return value


_LEAVES = frozenset({str, int, bool, type(None), float})
