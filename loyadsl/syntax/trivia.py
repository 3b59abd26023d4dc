"""What the AST leaves out of a .loya file and the formatter needs: comments and where things are.

``parse(text, file, trivia=Trivia())`` fills one: the comments as the lexer met them, the position
of every token, and where each setting of a block (``currency ...`` in the header, ``priority ...``
in a group, ``expiry ...`` in an account) starts and ends, since those settings are fields of
their declaration's node and have no span of their own. Positions are ``(line, column)``, 1-based,
as lark and ``Span`` count them; an end is the column just after the last character.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from loyadsl.diagnostics import Span

Pos = tuple[int, int]


@dataclass(frozen=True)
class Comment:
    """``# text`` at ``line``/``col``; ``text`` starts with ``#`` and has no trailing whitespace."""

    line: int
    col: int
    text: str

    @property
    def pos(self) -> Pos:
        return self.line, self.col


@dataclass
class Trivia:
    comments: list[Comment] = field(default_factory=list)
    tokens: list[tuple[Pos, Pos, str]] = field(default_factory=list)  # (start, end, terminal) in order
    # (where the block's declaration starts, the setting's first word) -> (start, end) of the setting
    items: dict[tuple[Pos, str], tuple[Pos, Pos]] = field(default_factory=dict)

    def open_brace(self, after: Pos | None) -> Pos | None:
        """The end of the first ``{`` at or after ``after``: the last token of a block's head line."""
        if after is None:
            return None
        i = bisect.bisect_left(self.tokens, (after,))
        for _, end, kind in self.tokens[i:]:
            if kind == "LBRACE":
                return end
        return None

    def close_brace(self, span: Span | None) -> Pos | None:
        """The start of the last ``}`` inside ``span``: the first token of a block's closing line."""
        if span is None:
            return None
        i = bisect.bisect_left(self.tokens, ((span.end_line, span.end_col),))
        for start, _, kind in reversed(self.tokens[:i]):
            if start < (span.line, span.col):
                return None
            if kind == "RBRACE":
                return start
        return None

    def item(self, owner: Span | None, word: str) -> tuple[Pos, Pos] | tuple[None, None]:
        """Where the setting that starts with ``word`` is, in the block of the declaration at ``owner``."""
        if owner is None:
            return None, None
        return self.items.get(((owner.line, owner.col), word), (None, None))

