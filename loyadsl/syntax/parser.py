"""The .loya front end: text in, AST with spans and diagnostics out. It never raises.

The grammar (``grammar/loya.lark``) is LALR(1) for lark's contextual lexer, built once per process.
Syntax errors become LOY100 (unexpected character), LOY101 (unexpected token) or LOY102 (unexpected
end of input), with the expected tokens in words. After an error the parser resynchronises at the
next line that starts with a top-level keyword (``campaign``, ``group``, ``skus``...), so one run
reports several errors. Problems inside well-formed syntax (bad dates, escapes, reserved words used
as names, clauses given twice where the AST has room for one) are reported after the parse.

A module is returned only when there is no error: the checker never sees a half-parsed programme.
Comments are not in the AST; ``parse(text, file, trivia)`` collects them, with the positions of the
tokens and of the settings of blocks, for the formatter (loyadsl/syntax/trivia.py).

The ``parse_expression``/``parse_actions``/``parse_clause``/``parse_setting`` helpers parse the strings
the YAML twin embeds; ``line``/``col`` say where the string starts in the YAML file, so spans and
diagnostics point into that file.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import functools
import hashlib
import os
import re
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from lark import Lark, Token, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lark import PostLex

from loyadsl import resource_dir
from loyadsl.diagnostics import Diagnostic, Span, did_you_mean, error
from loyadsl.runtime.limits import (
    MAX_CAMPAIGNS,
    MAX_DATE,
    MAX_DEPTH,
    MAX_ERRORS,
    MAX_INT_DIGITS,
    MAX_SOURCE_CHARS,
    MAX_TREE_DEPTH,
    MAX_VALUE,
    MIN_DATE,
)
from loyadsl.syntax import nodes as n
from loyadsl.syntax import slips
from loyadsl.syntax.strategy_rules import StrategyRules
from loyadsl.syntax.trigger_rules import TRIGGER_STARTS, TriggerRules
from loyadsl.syntax.trivia import Comment, Trivia

# The blocks of the state declarations (docs/state.md) and the start symbol that parses one of their settings.
SETTING_STARTS = {
    "account": "account_item_input",
    "redemption": "redemption_item_input",
    "tiers": "ladder_qualify_input",
    "counter": "counter_item_input",
    "chips": "chips_item_input",
    "coupons": "coupon_item_input",
    "certificates": "certificate_item_input",
    "referral": "referral_item_input",
    "experiment": "experiment_item_input",
    "profile": "profile_field_input",
    "lifecycle": "lifecycle_item_input",
    "score": "score_bin_input",
}
STARTS = ("module", "expr_input", "actions_input", "clause_input", "group_item_input", "template_use_input",
          *SETTING_STARTS.values(), "assert_body_input", *TRIGGER_STARTS)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CURRENCY_SYMBOLS = {"₽": "RUB", "$": "USD", "€": "EUR", "₴": "UAH", "₸": "KZT"}
SUGAR_FIELDS = ("category", "sku", "brand", "kind")
# Keywords are contextual, so `points` or `group` may name a group. These words may not name anything:
# where a list, a template parameter or a combo part is used, they would read as operators (LOY104).
RESERVED_WORDS = frozenset({"and", "or", "not", "in", "true", "false"})
NAME_PATTERN = re.compile(r"[^\W\d]\w*\Z")  # the grammar's NAME: a Unicode letter or `_`, then word characters
# The keywords inside a ladder level's benefits and inside a combo's parts; any other word there is a name.
_BLOCK_WORDS = {"LEVEL": RESERVED_WORDS | {"lines", "where"}, "COMBO": RESERVED_WORDS | {"lines", "where", "of"}}
# ... and inside a strategy and its offers (docs/offers.md), whose settings are names followed by a value
_BLOCK_WORDS |= {"STRATEGY": RESERVED_WORDS | {"offer"}, "OFFER": RESERVED_WORDS}
_UNITS = {"unit": "units", "day": "days", "hour": "hours", "minute": "minutes", "pts": "points"}
_TOP_LEVEL = re.compile(r"(programme|import|skus|stores|categories|brands|channels|strings|group|template|campaign"
                        r"|account|redemption|tiers|counter|chips|coupons|certificates|referral|experiment|assert"
                        r"|profile|lifecycle|score|segment|trigger"
                        r"|strategy)\b(?!\.)")
_AMOUNT_AND_UNIT = re.compile(r"([0-9]+(?:\.[0-9]+)?)[ \t]*(.+)", re.S)

# Readable names of the terminals that are not plain keywords or punctuation.
_TERMINAL_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": "a string",
    "MONEY": "money (`100.00 RUB`)",
    "PERCENT": "a percentage (`10%`)",
    "POINTS_AMOUNT": "points (`100 points`)",
    "QUANTITY": "a quantity (`1.5 kg`, `3 units`)",
    "DURATION": "a duration (`14 days`)",
    "DATE": "a date (`2025-01-31`)",
    "TIME": "a time of day (`10:00`)",
    "MULT": "a multiplier (`x5`)",
    "TIER_GE": "`>=` starting a tier",
    "TIER_GT": "`>` starting a tier",
    "$END": "the end of the input",
    "<END-OF-FILE>": "the end of the input",
}


# ---------------------------------------------------------------------------------------------- grammar


class _TierBranches(PostLex):
    """Tells a tier branch's ``>=`` from a comparison, keeps benefit names names, and stops runaway
    bracket nesting.

    Inside ``tiers ... { }`` (directly, not inside a nested combo), a ``>=``/``>`` that starts a line
    or follows ``{``/``}`` becomes TIER_GE/TIER_GT, unless it follows ``level NAME`` (a level of a
    tier ladder, whose block also follows the word ``tiers``). ``>=``/``>`` are accepted in every
    lexer state so that this postlexer sees them even where only a tier branch may come next.

    Inside a ladder level's ``{ cashback 5%  discount 2% }`` and a ``combo { a: ...  b: ... }``, a
    name (a benefit, a part) follows the previous one's expression; after an expression the (merged)
    LALR state also takes every word that may follow an expression elsewhere (``discount``, ``to``,
    ``group``...), so the lexer would read such a name as a keyword. There, every keyword except the
    words an expression (or a combo part's ``of lines``) holds is a name.
    """

    always_accept = ("GE", "GT")

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        braces: list[str] = []  # one per open `{`: "TIERS" (a tiers action or ladder), "LEVEL", "COMBO" or ""
        brackets = 0
        opens = ""  # the kind of the next `{`
        prev: Token | None = None
        before: Token | None = None
        trivia = _TRIVIA.get()
        for tok in stream:
            kind = tok.type
            if braces and braces[-1] in _BLOCK_WORDS and kind != "NAME" \
                    and tok.value not in _BLOCK_WORDS[braces[-1]] and NAME_PATTERN.match(tok.value):
                tok = Token.new_borrow_pos("NAME", tok.value, tok)
                kind = "NAME"
            if kind in ("TIERS", "LEVEL", "COMBO", "STRATEGY", "OFFER"):
                opens = kind
            elif kind == "LBRACE":
                braces.append(opens)
                opens = ""
            elif kind == "RBRACE":
                if braces:
                    braces.pop()
            elif kind in ("LPAR", "LSQB"):
                brackets += 1
                if brackets > MAX_DEPTH:
                    raise _TooDeep(tok)
            elif kind in ("RPAR", "RSQB"):
                brackets = max(0, brackets - 1)
            elif kind in ("GE", "GT") and braces and braces[-1] == "TIERS" and _starts_line(tok, prev) \
                    and not (before is not None and before.type == "LEVEL"):
                tok = Token.new_borrow_pos("TIER_" + kind, tok.value, tok)
            before, prev = prev, tok
            if trivia is not None:
                trivia.tokens.append(((tok.line or 1, tok.column or 1), (tok.end_line or 1, tok.end_column or 1),
                                      tok.type))
            yield tok


def _starts_line(tok: Token, prev: Token | None) -> bool:
    """Whether a token begins a line, or follows a brace (after which no comparison can come)."""
    return prev is None or prev.type in ("LBRACE", "RBRACE") or tok.line != prev.end_line


class _TooDeep(Exception):
    def __init__(self, token: Token) -> None:
        super().__init__("nesting too deep")
        self.token = token


@functools.cache
def _lark() -> Lark:
    grammar = (resource_dir("grammar") / "loya.lark").read_text(encoding="utf-8")
    return Lark(
        grammar,
        cache=_cache_file(grammar),
        parser="lalr",
        lexer="contextual",
        strict=True,
        propagate_positions=True,
        maybe_placeholders=True,
        start=list(STARTS),
        postlex=_TierBranches(),
        lexer_callbacks={"COMMENT": _on_comment},
    )


# ---------------------------------------------------------------------------------------------- trivia
# The formatter needs what the AST leaves out (loyadsl/syntax/trivia.py). While `parse(..., trivia=)` runs,
# the lexer hands each comment (an ignored terminal) to `_on_comment` and the postlexer records every token.

_TRIVIA: ContextVar[Trivia | None] = ContextVar("loya_trivia", default=None)
# The rules whose children are the settings of a block, each on its own line in canonical form.
_BLOCKS = frozenset({"header", "group_decl", "ladder_decl", "account_decl", "redemption_decl", "counter_decl",
                     "chips_decl", "coupons_decl", "certificates_decl", "referral_decl", "experiment_decl",
                     "assert_decl", "profile_decl", "lifecycle_decl", "score_decl", "segment_decl"})
_FIRST_WORD = re.compile(r"\w+")


def _on_comment(tok: Token) -> Token:
    trivia = _TRIVIA.get()
    if trivia is not None:
        trivia.comments.append(Comment(tok.line or 1, tok.column or 1, str(tok.value).rstrip()))
    return tok


@contextlib.contextmanager
def collecting_trivia(trivia: Trivia | None) -> Iterator[None]:
    """Within this block every parse (the fragments the YAML twin embeds too) adds its comments to ``trivia``."""
    reset = _TRIVIA.set(trivia)
    try:
        yield
    finally:
        _TRIVIA.reset(reset)


def _block_items(tree: Tree, text: str, trivia: Trivia) -> None:
    """Where each setting of each block is, keyed by the block's start and the setting's first word."""
    lines = text.split("\n")
    for block in tree.iter_subtrees():
        if block.data not in _BLOCKS or block.meta.empty:
            continue
        owner = (block.meta.line, block.meta.column)
        for item in block.children:
            if not isinstance(item, Tree) or item.meta.empty:
                continue
            word = _FIRST_WORD.match(lines[item.meta.line - 1], item.meta.column - 1)
            if word is not None:
                trivia.items.setdefault((owner, word.group()), ((item.meta.line, item.meta.column),
                                                                (item.meta.end_line, item.meta.end_column)))


def _cache_file(grammar: str) -> str | bool:
    """Lark's analysed grammar is pickled, so it is cached only in the user's own cache directory.

    Loading it takes a few milliseconds instead of half a second; lark checks the grammar's hash
    inside the file and rebuilds on any mismatch or damage."""
    try:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "loyadsl"
        base.mkdir(parents=True, exist_ok=True)
    except (OSError, RuntimeError):
        return False
    digest = hashlib.sha256(grammar.encode("utf-8")).hexdigest()[:16]
    return str(base / f"loya-grammar-{digest}.lark-cache")


def _describe_terminal(name: str) -> str:
    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name]
    try:
        pattern = _lark().get_terminal(name).pattern
    except KeyError:
        return name.lower()
    return f"`{pattern.value}`" if pattern.type == "str" else name.lower()


def _expected_hint(names: set[str] | frozenset[str] | None) -> str | None:
    """``expected one of: `}`, `then`, a name``: punctuation first, then keywords, then the rest."""
    if not names:
        return None
    words = sorted({_describe_terminal(name) for name in names},
                   key=lambda w: (not w.startswith("`"), w[1:2].isalpha(), w))
    if len(words) == 1:
        return f"expected {words[0]}"
    if len(words) > 20:
        words = [*words[:20], "..."]
    return "expected one of: " + ", ".join(words)


def _keywords(names: set[str] | frozenset[str] | None) -> list[str]:
    """The keywords among terminal names (``ACTIVATION`` is the keyword `activation`)."""
    out = []
    for name in names or ():
        try:
            pattern = _lark().get_terminal(name).pattern
        except KeyError:
            continue
        if pattern.type == "str" and NAME_PATTERN.match(pattern.value):
            out.append(pattern.value)
    return out


def _acceptable(state: Any) -> set[str]:
    """The terminals a parser state can really take next, as lark's ``InteractiveParser.accepts``.

    The LALR table alone over-approximates: merged states carry every context's lookaheads."""
    conf = copy.copy(state.parse_conf)
    conf.callbacks = {}
    out = set()
    for name in conf.parse_table.states[state.position]:
        if not name.isupper():
            continue
        trial = state.copy(deepcopy_values=False)
        trial.parse_conf = conf
        try:
            trial.feed_token(Token(name, ""), is_end=name == "$END")
        except UnexpectedInput:
            continue
        out.add(name)
    return out


# ---------------------------------------------------------------------------------------------- positions


@dataclass(frozen=True)
class _Origin:
    """Where the parsed text sits in its file: ``prefix`` characters were prepended on its first line."""

    file: str
    line: int = 1
    col: int = 1
    prefix: int = 0

    def at(self, line: int, col: int) -> tuple[int, int]:
        shift = self.prefix if line == 1 else 0
        return self.line + line - 1, max(self.col, self.col + col - 1 - shift)

    def span(self, line: int, col: int, end_line: int, end_col: int) -> Span:
        if self.line == 1 and self.col == 1 and not self.prefix:  # a whole file (``at`` gives the same)
            return Span(self.file, line, col if col > 1 else 1, end_line, end_col if end_col > 1 else 1)
        start, end = self.at(line, col), self.at(end_line, end_col)
        return Span(self.file, start[0], start[1], end[0], end[1])

    def token_span(self, tok: Token) -> Span:
        return self.span(tok.line or 1, tok.column or 1, tok.end_line or 1, tok.end_column or 1)


def _end_of(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1


def _syntax_diagnostic(exc: Exception, text: str, origin: _Origin) -> Diagnostic:
    """A lark exception (or the depth guard) as a diagnostic with the expected tokens in words."""
    if isinstance(exc, _TooDeep):
        return error("LOY105", f"brackets nest deeper than {MAX_DEPTH} levels", origin.token_span(exc.token),
                     "split the expression, or name a part of it with a list or a template parameter")
    if isinstance(exc, UnexpectedCharacters):
        line, col = origin.at(exc.line, exc.column)
        char = text[exc.pos_in_stream] if exc.pos_in_stream is not None and exc.pos_in_stream < len(text) else ""
        span = Span(origin.file, line, col, line, col + 1)
        if char == '"':
            return error("LOY100", "unterminated string", span, 'close the string with `"` on the same line')
        shown = char if char.isprintable() and not char.isspace() else f"U+{ord(char):04X}" if char else "?"
        allowed = _acceptable(exc.state) if exc.state is not None else exc.allowed
        return error("LOY100", f"unexpected character `{shown}`", span, _expected_hint(allowed))
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        tok = exc.token
        accepts = exc.accepts or exc.expected
        what = f"`{tok.value}`"
        if tok.type in ("TIER_GE", "TIER_GT"):
            what = f"`{tok.value}` at the start of a line inside `tiers`, where it starts a new tier"
        hint = _expected_hint(accepts)
        close = did_you_mean(str(tok.value), _keywords(accepts)) if tok.type == "NAME" else None
        if close is not None:  # a misspelt setting or clause: `activaton 14 days`
            hint = close if hint is None else f"{close} ({hint})"
        hint = slips.token_slip(text, tok.start_pos, str(tok.value)) or hint  # `stack-all`, `2x`, `contains`
        return error("LOY101", f"unexpected {what}", origin.token_span(tok), hint)
    line, col = origin.at(*_end_of(text))
    expected: set[str] | None = None
    if isinstance(exc, UnexpectedToken):
        expected = exc.accepts or exc.expected
    elif isinstance(exc, UnexpectedEOF):
        expected = set(exc.expected)
    return error("LOY102", "unexpected end of input", Span(origin.file, line, col, line, col),
                 _expected_hint(expected))


# ---------------------------------------------------------------------------------------------- public API


def parse(text: str, file: str = "<input>", trivia: Trivia | None = None) -> tuple[n.Module | None, list[Diagnostic]]:
    """Parse a .loya file. The module is None when there is any error.

    With ``trivia``, also collect the comments and positions the formatter needs (positions count
    from after a leading byte-order mark, which is dropped)."""
    if len(text) > MAX_SOURCE_CHARS:
        return None, [_too_big(len(text), file)]
    text = text.removeprefix("\ufeff")
    with collecting_trivia(trivia):
        tree, diags = _parse_with_resync(text, file)
    if tree is None:
        return None, diags
    if trivia is not None:
        _block_items(tree, text, trivia)
    module, diags = _build(tree, _Origin(file))
    if isinstance(module, n.Module) and not diags:
        campaigns = sum(isinstance(d, n.CampaignDecl) for d in module.decls)
        if campaigns > MAX_CAMPAIGNS:
            diags.append(error("LOY105", f"{campaigns} campaigns in one file; at most {MAX_CAMPAIGNS} are allowed",
                               module.span))
    if diags:
        return None, capped(diags)
    assert isinstance(module, n.Module)
    return module, []


def parse_expression(text: str, file: str = "<input>", line: int = 1, col: int = 1) -> tuple[n.Expr | None, list[Diagnostic]]:
    """Parse one expression; ``line``/``col`` are where ``text`` starts in ``file``."""
    return _fragment("expr_input", text, _Origin(file, line, col), n.Expr)


def parse_actions(text: str, file: str = "<input>", line: int = 1, col: int = 1) -> tuple[tuple[n.Action, ...] | None, list[Diagnostic]]:
    """Parse one or more actions, as written after ``then``."""
    return _fragment("actions_input", text, _Origin(file, line, col), tuple)


def parse_action(text: str, file: str = "<input>", line: int = 1, col: int = 1) -> tuple[n.Action | None, list[Diagnostic]]:
    """Parse exactly one action."""
    actions, diags = parse_actions(text, file, line, col)
    if actions is None:
        return None, diags
    if len(actions) != 1:
        span = Span(file, line, col, line, col + 1)
        return None, [error("LOY101", f"expected one action, found {len(actions)}", span)]
    return actions[0], diags


def parse_clause(keyword: str, value: str, file: str = "<input>", line: int = 1,
                 col: int = 1) -> tuple[n.Clause | None, list[Diagnostic]]:
    """Parse the clause ``keyword value``; ``line``/``col`` are where ``value`` starts in ``file``."""
    prefix = keyword + " "
    return _fragment("clause_input", prefix + value, _Origin(file, line, col, len(prefix)), n.Clause)


def parse_group_setting(keyword: str, value: str, file: str = "<input>", line: int = 1,
                        col: int = 1) -> tuple[tuple[str, Any] | None, list[Diagnostic]]:
    """Parse a group setting (``priority 100``, ``stacking stack_up_to 2``, ``basis original``).

    The result is ``(field, value)`` with field ``priority``, ``stacking`` (value ``(mode, limit)``)
    or ``basis``."""
    prefix = keyword + " "
    return _fragment("group_item_input", prefix + value, _Origin(file, line, col, len(prefix)), tuple)


def parse_setting(block: str, keyword: str, value: str, file: str = "<input>", line: int = 1,
                  col: int = 1) -> tuple[tuple[str, dict[str, Any]] | None, list[Diagnostic]]:
    """Parse one setting of a state declaration's block: ``parse_setting("account", "expiry", "365 days")``.

    ``block`` is a key of SETTING_STARTS (``tiers`` takes only ``qualify``). The result is
    ``(keyword, fields)``: the declaration's fields that the setting gives, e.g.
    ``("expiry", {"expiry": ExpiryRule("after", DurationLit(365, "days"))})``."""
    prefix = keyword + (" " if value else "")
    return _fragment(SETTING_STARTS[block], prefix + value, _Origin(file, line, col, len(prefix)), tuple)


def parse_assert_body(text: str, file: str = "<input>", line: int = 1,
                      col: int = 1) -> tuple[tuple[str, n.Expr] | None, list[Diagnostic]]:
    """Parse what an ``assert`` block holds, ``discount <= 40%``: (subject, limit)."""
    return _fragment("assert_body_input", text, _Origin(file, line, col), tuple)


def parse_template_use(text: str, file: str = "<input>", line: int = 1,
                       col: int = 1) -> tuple[n.TemplateUse | None, list[Diagnostic]]:
    """Parse ``NAME(arg = value, ...)``, as written after ``uses``."""
    return _fragment("template_use_input", text, _Origin(file, line, col), n.TemplateUse)


def parse_trigger_part(start: str, keyword: str, value: str, file: str = "<input>", line: int = 1,
                       col: int = 1) -> tuple[Any, list[Diagnostic]]:
    """Parse ``keyword value`` as one part of a trigger (``start``, one of ``TRIGGER_STARTS``); ``line``/``col``
    are where ``value`` starts in ``file`` (the YAML twin, docs/triggers.md)."""
    prefix = keyword + " " if keyword else ""
    return _fragment(start, prefix + value, _Origin(file, line, col, len(prefix)), object)


# ---------------------------------------------------------------------------------------------- driver

_T = TypeVar("_T")


def _too_big(size: int, file: str) -> Diagnostic:
    return error("LOY105", f"the source has {size} characters; at most {MAX_SOURCE_CHARS} are allowed",
                 Span(file, 1, 1, 1, 1))


def capped(diags: list[Diagnostic]) -> list[Diagnostic]:
    """At most MAX_ERRORS diagnostics, then one LOY105 saying how many more there were."""
    if len(diags) <= MAX_ERRORS:
        return diags
    return [*diags[:MAX_ERRORS], error("LOY105", f"{len(diags) - MAX_ERRORS} more errors not shown "
                                                 f"(at most {MAX_ERRORS} are reported)")]


def _parse_with_resync(text: str, file: str) -> tuple[Tree | None, list[Diagnostic]]:
    """Parse the module; after an error, restart at the next top-level keyword line to find more (the
    lines are found after the first error: a text without one needs none)."""
    line_starts: list[int] = []
    restart_lines: list[int] = []
    diags: list[Diagnostic] = []
    first = 1
    while True:
        chunk = text[line_starts[first - 1]:] if first > 1 else text
        origin = _Origin(file, first)
        try:
            tree = _lark().parse(chunk, start="module")
        except (UnexpectedInput, _TooDeep) as exc:
            diag = _syntax_diagnostic(exc, chunk, origin)
            diags.append(diag)
            if len(diags) == MAX_ERRORS:
                diags.append(error("LOY105", f"stopped after {MAX_ERRORS} errors", diag.span))
                return None, diags
            assert diag.span is not None
            if not line_starts:
                line_starts = [0, *(m.end() for m in re.finditer("\n", text))]
                restart_lines = [i + 1 for i, start in enumerate(line_starts) if _TOP_LEVEL.match(text, start)]
            at_line, at_col = diag.span.line, diag.span.col
            later = [r for r in restart_lines if r > first and (r > at_line or (r == at_line and at_col == 1))]
            if not later:
                return None, diags
            first = later[0]
            continue
        return (tree, diags) if not diags else (None, diags)


def _fragment(start: str, text: str, origin: _Origin, expected: type[_T]) -> tuple[_T | None, list[Diagnostic]]:
    if len(text) > MAX_SOURCE_CHARS:
        return None, [_too_big(len(text), origin.file)]
    trivia = _TRIVIA.get()
    known = len(trivia.comments) if trivia is not None else 0
    try:
        tree = _lark().parse(text, start=start)
    except (UnexpectedInput, _TooDeep) as exc:
        return None, [_syntax_diagnostic(exc, text, origin)]
    if trivia is not None:  # a fragment's comments, where they are in its file
        trivia.comments[known:] = [Comment(*origin.at(c.line, c.col), c.text) for c in trivia.comments[known:]]
    result, diags = _build(tree, origin)
    if diags or not isinstance(result, expected):
        return None, diags
    return result, []


def _build(tree: Tree, origin: _Origin) -> tuple[object, list[Diagnostic]]:
    """Check the nesting depth (without recursion), then turn the tree into AST nodes."""
    too_deep = _too_deep(tree, origin)
    if too_deep is not None:
        return None, [too_deep]
    builder = _Builder(origin)
    result = builder.build(tree)
    return result, sorted(builder.diags, key=lambda d: (d.span.line, d.span.col) if d.span else (0, 0))


_EXPR_RULES = frozenset({"or_test", "and_test", "not_", "compare", "member", "not_member", "sugar", "add", "sub",
                         "mul", "neg", "aggregate", "a_tiers", "a_combo", "call"})


def _too_deep(tree: Tree, origin: _Origin) -> Diagnostic | None:
    stack: list[tuple[Tree, int, int]] = [(tree, 0, 0)]
    pop, push = stack.pop, stack.append
    while stack:
        node, depth, total = pop()
        if node.data in _EXPR_RULES:
            depth += 1
        total += 1
        if depth > MAX_DEPTH or total > MAX_TREE_DEPTH:
            meta = node.meta
            span = origin.span(meta.line, meta.column, meta.end_line, meta.end_column) if not meta.empty else None
            what = f"the expression nests deeper than {MAX_DEPTH} levels" if depth > MAX_DEPTH else \
                f"the programme nests deeper than {MAX_TREE_DEPTH} levels"
            return error("LOY105", what, span, "split it, or name a part of it with a list or a template parameter")
        for child in node.children:  # (a loop: a generator per node costs half the walk)
            if type(child) is Tree:
                push((child, depth, total))
    return None


# ---------------------------------------------------------------------------------------------- tree → AST


@functools.cache
def _rule_functions(cls: type) -> dict[str, Callable[[Any, Any, list[Any]], Any]]:
    """The rule methods of a ``@v_args(meta=True)`` transformer class, each as its plain function
    ``f(self, meta, children)``. A method that ``v_args`` would call another way is refused here, once,
    rather than called wrongly (the wrapper is asked how it calls, with a probe)."""
    table: dict[str, Callable[[Any, Any, list[Any]], Any]] = {}
    for name in dir(cls):
        method = getattr(cls, name)
        wrapper = getattr(method, "visit_wrapper", None)
        if name.startswith("_") or wrapper is None:
            continue
        if wrapper(lambda *given: given, name, ["children"], "meta") != ("meta", ["children"]):
            raise TypeError(f"{cls.__name__}.{name} is not a rule of (meta, children)")
        table[name] = method.base_func
    return table


@v_args(meta=True)
class _Builder(TriggerRules, StrategyRules):
    """Lark tree → AST. Rule methods get ``(meta, children)``; problems go to ``self.diags``."""

    def __init__(self, origin: _Origin) -> None:
        super().__init__(visit_tokens=False)
        self.origin = origin
        self.diags: list[Diagnostic] = []

    def build(self, tree: Tree) -> Any:
        """The tree as AST, bottom up, as lark's ``transform`` gives it, at about three fifths of its cost
        (109 against 179 ms for 1,000 campaigns; lark's makes a bound wrapper for every node): each rule's
        function is looked up once
        (``_rule_functions``), and a rule without one stays a tree. ``_too_deep`` has bounded the depth."""
        rules = _rule_functions(type(self))

        def visit(node: Tree) -> Any:
            children = [visit(child) if type(child) is Tree else child for child in node.children]
            rule = rules.get(node.data)
            return Tree(node.data, children, node.meta) if rule is None else rule(self, node.meta, children)

        return visit(tree)

    # -------------------------------------------------------------------------- helpers

    def _span(self, meta: Any) -> Span | None:
        if getattr(meta, "empty", True):
            return None
        return self.origin.span(meta.line, meta.column, meta.end_line, meta.end_column)

    def _tspan(self, tok: Token) -> Span:
        return self.origin.token_span(tok)

    def _error(self, code: str, message: str, span: Span | None, hint: str | None = None) -> None:
        self.diags.append(error(code, message, span, hint))

    def _name(self, tok: Token, what: str) -> str:
        """A declared name: a keyword may not be one (LOY104)."""
        name = str(tok)
        if name in RESERVED_WORDS:
            article = "an" if what[0] in "aeiou" else "a"
            self._error("LOY104", f"`{name}` is a reserved word and cannot name {article} {what}", self._tspan(tok),
                        f"rename it, e.g. `{name}_`")
        return name

    def _string(self, tok: Token) -> str:
        return _unescape(tok, self)

    def _int(self, tok: Token, what: str, negative: bool = False, bounded: bool = True) -> int:
        """A whole number within MAX_VALUE (LOY220); ``bounded=False`` leaves the range to the checker
        (minor digits, whose range it states)."""
        if not (tok.value.isascii() and tok.value.isdigit()):
            self._error("LOY103", f"{what} must be a whole number, not `{tok.value}`", self._tspan(tok))
            return 0
        value = int(self._digits(tok.value, self._tspan(tok)))
        if bounded and value > MAX_VALUE:
            self._error("LOY220", f"{what} of {value:,} is beyond the limit of {MAX_VALUE:,}", self._tspan(tok))
            return 0
        return -value if negative else value

    def _digits(self, amount: str, span: Span | None) -> str:
        """A literal's digits, or "0" after LOY112 when there are more than MAX_INT_DIGITS of them
        (checked before any int() or Decimal(), which would take time or refuse past 4,300 digits)."""
        problem = too_many_digits(amount)
        if problem is None:
            return amount
        self._error("LOY112", problem, span, f"no value a programme holds exceeds {MAX_VALUE:,} (in minor units)")
        return "0"

    def _once(self, seen: dict[str, Span | None], key: str, span: Span | None, where: str) -> None:
        if key in seen:
            self._error("LOY213", f"`{key}` appears twice in {where}", span, f"the first is at {seen[key]}")
        seen.setdefault(key, span)

    # -------------------------------------------------------------------------- module and header

    def module(self, meta: Any, items: list[Any]) -> n.Module:
        header: n.Header | None = None
        imports: list[n.Import] = []
        decls: list[n.Decl] = []
        for item in items:
            if isinstance(item, n.Header):
                if header is not None:
                    self._error("LOY213", "a file has at most one `programme` header", item.span,
                                f"the first is at {header.span}")
                header = item
            elif isinstance(item, n.Import):
                imports.append(item)
            else:
                decls.append(item)
        return n.Module(header, tuple(imports), tuple(decls), span=self._span(meta) or self.origin.span(1, 1, 1, 1))

    def header(self, meta: Any, children: list[Any]) -> n.Header:
        name_tok, version_tok, *settings = children
        name = self._string(name_tok) if name_tok.type == "STRING" else str(name_tok)
        version = None
        if version_tok is not None:
            version = self._string(version_tok) if version_tok.type == "STRING" else str(version_tok)
        fields: dict[str, Any] = {}
        rounding: list[n.Rounding] = []
        fraud: list[n.FraudSetting] = []
        people: list[n.StaffRule | n.PartnerRule] = []
        seen: dict[str, Span | None] = {}
        for key, value, span in settings:
            if key == "rounding":
                rounding.append(value)
                continue
            if key == "fraud":
                fraud.append(value)
                continue
            if key == "people":
                people.append(value)
                continue
            self._once(seen, key, span, "the programme header")
            fields.update(value)
        return n.Header(name, version, rounding=tuple(rounding), **fields, fraud=tuple(fraud), people=tuple(people),
                        span=self._span(meta))

    def currency(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        code, minor = children
        return "currency", {"currency": str(code), "minor": None if minor is None else self._int(minor, "minor", bounded=False)}, \
            self._span(meta)

    def points(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        minor, value = children
        return "points", {
            "points_minor": None if minor is None else self._int(minor, "points minor", bounded=False),
            "point_value": None if value is None else self._money(value),
        }, self._span(meta)

    def timezone(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        return "timezone", {"timezone": self._string(children[0])}, self._span(meta)

    def rounding(self, meta: Any, children: list[Any]) -> tuple[str, n.Rounding, Span | None]:
        target, mode = children  # names, as the YAML twin reads them (a reserved word is LOY104 in both)
        rounding = n.Rounding(self._name(target, "rounding target"), self._name(mode, "rounding mode"),
                              span=self._span(meta))
        return "rounding", rounding, self._span(meta)

    def allocation(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        return "allocation", {"allocation": self._name(children[0], "allocation mode")}, self._span(meta)

    def tax_setting(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        prices, rate, basis = children
        setting = n.TaxSetting(str(prices), None if rate is None else self._percent(rate),
                               None if basis is None else str(basis), span=self._span(meta))
        return "tax", {"tax": setting}, self._span(meta)

    def totals_setting(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        setting = n.TotalsSetting(tuple(str(kind) for kind in children), span=self._span(meta))
        return "totals", {"totals": setting}, self._span(meta)

    def fraud_max_points(self, meta: Any, children: list[Any]) -> tuple[str, n.FraudSetting, Span | None]:
        value, per = children
        if isinstance(value, n.NumberLit):  # `max points 5000 per day`: the unit is implied
            value = n.PointsLit(value.text, span=value.span)
        return "fraud", n.FraudSetting("points", value, per, span=self._span(meta)), self._span(meta)

    def fraud_max_receipts(self, meta: Any, children: list[Any]) -> tuple[str, n.FraudSetting, Span | None]:
        value, per = children
        return "fraud", n.FraudSetting("receipts", value, per, span=self._span(meta)), self._span(meta)

    def fraud_velocity(self, meta: Any, children: list[Any]) -> tuple[str, n.FraudSetting, Span | None]:
        value, window = children
        return "fraud", n.FraudSetting("velocity", value, window=window, span=self._span(meta)), self._span(meta)

    def staff_rule(self, meta: Any, children: list[Any]) -> tuple[str, n.StaffRule, Span | None]:
        by, value = children
        return "people", n.StaffRule(str(by), self._string(value), span=self._span(meta)), self._span(meta)

    def partner_rule(self, meta: Any, children: list[Any]) -> tuple[str, n.PartnerRule, Span | None]:
        name, rate, price = children
        return "people", n.PartnerRule(str(name), rate, price, span=self._span(meta)), self._span(meta)

    def import_decl(self, meta: Any, children: list[Any]) -> n.Import:
        return n.Import(self._string(children[0]), span=self._span(meta))

    # -------------------------------------------------------------------------- lists and groups

    def list_kind(self, meta: Any, children: list[Any]) -> str:
        return str(children[0])

    def list_items(self, meta: Any, children: list[Any]) -> n.ListDecl:
        kind, name, items = children
        values = tuple(item.value for item in items.items if isinstance(item, n.StringLit))
        return n.ListDecl(self._name(name, "list"), kind, items=values, span=self._span(meta))

    def list_csv(self, meta: Any, children: list[Any]) -> n.ListDecl:
        kind, name, path, column = children
        source = n.CsvSource(self._string(path), self._string(column),
                             span=self.origin.span(path.line, path.column, column.end_line, column.end_column))
        return n.ListDecl(self._name(name, "list"), kind, source=source, span=self._span(meta))

    def group_decl(self, meta: Any, children: list[Any]) -> n.GroupDecl:
        name, title, *items = children
        fields: dict[str, Any] = {}
        seen: dict[str, Span | None] = {}
        for key, value, span in items:
            self._once(seen, key, span, f"group `{name}`")
            if key == "stacking":
                fields["stacking"], fields["stacking_limit"] = value
            else:
                fields[key] = value
        return n.GroupDecl(self._name(name, "group"), title=None if title is None else self._string(title),
                           **fields, span=self._span(meta))

    def g_priority(self, meta: Any, children: list[Any]) -> tuple[str, int, Span | None]:
        return "priority", self._int(children[0], "a priority"), self._span(meta)

    def g_priority_neg(self, meta: Any, children: list[Any]) -> tuple[str, int, Span | None]:
        return "priority", self._int(children[0], "a priority", negative=True), self._span(meta)

    def g_stacking(self, meta: Any, children: list[Any]) -> tuple[str, tuple[str, int | None], Span | None]:
        mode, limit = children
        return "stacking", (str(mode), None if limit is None else self._int(limit, "a stacking limit")), \
            self._span(meta)

    def g_basis(self, meta: Any, children: list[Any]) -> tuple[str, str, Span | None]:
        return "basis", str(children[0]), self._span(meta)

    def g_arm(self, meta: Any, children: list[Any]) -> tuple[str, n.ArmRef, Span | None]:
        return "arm", children[0], self._span(meta)

    def g_order(self, meta: Any, children: list[Any]) -> tuple[str, str, Span | None]:
        return "order", str(children[0]), self._span(meta)

    def group_item_input(self, meta: Any, children: list[Any]) -> tuple[str, Any]:
        key, value, _ = children[0]
        return key, value

    # -------------------------------------------------------------------------- templates and campaigns

    def template_decl(self, meta: Any, children: list[Any]) -> n.TemplateDecl:
        name, *rest = children
        params: tuple[n.Param, ...] = ()
        if rest and isinstance(rest[0], tuple):
            params = rest.pop(0)
        title, *clauses = rest
        return n.TemplateDecl(self._name(name, "template"), params, tuple(clauses),
                              None if title is None else self._string(title), span=self._span(meta))

    def params(self, meta: Any, children: list[Any]) -> tuple[n.Param, ...]:
        return tuple(children)

    def param(self, meta: Any, children: list[Any]) -> n.Param:
        name, type_name = children
        return n.Param(self._name(name, "template parameter"), str(type_name), span=self._span(meta))

    def campaign_decl(self, meta: Any, children: list[Any]) -> n.CampaignDecl:
        name, title, uses, *clauses = children
        return n.CampaignDecl(self._name(name, "campaign"), None if title is None else self._string(title),
                              tuple(clauses), uses, span=self._span(meta))

    def template_use(self, meta: Any, children: list[Any]) -> n.TemplateUse:
        name, *args = children
        return n.TemplateUse(str(name), tuple(args), span=self._span(meta))

    def template_use_input(self, meta: Any, children: list[Any]) -> n.TemplateUse:
        return children[0]

    def arg(self, meta: Any, children: list[Any]) -> n.Arg:
        name, value = children
        return n.Arg(str(name), value, span=self._span(meta))

    # -------------------------------------------------------------------------- state declarations
    # A setting is (keyword, the declaration fields it gives, span); a keyword given twice is LOY213.

    def _settings(self, items: list[Any], where: str) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        seen: dict[str, Span | None] = {}
        for key, values, span in items:
            self._once(seen, key, span, where)
            fields.update(values)
        return fields

    def _title(self, tok: Token | None) -> str | None:
        return None if tok is None else self._string(tok)

    def account_decl(self, meta: Any, children: list[Any]) -> n.AccountDecl:
        name, title, *items = children
        return n.AccountDecl(self._name(name, "account"), self._title(title),
                             **self._settings(items, f"account `{name}`"), span=self._span(meta))

    def s_activation(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        return "activation", {"activation": children[0]}, self._span(meta)

    def s_expiry(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        return "expiry", {"expiry": children[0]}, self._span(meta)

    def s_spend(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        return "spend", {"spend_order": children[0]}, self._span(meta)

    def s_credit(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        return "credit", {"credit": children[0]}, self._span(meta)

    def s_repay(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        return "repay", {"repay": children[0]}, self._span(meta)

    def s_shortfall(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        return "shortfall", {"shortfall": children[0]}, self._span(meta)

    def s_notify(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        return "notify", {"notify": children[0]}, self._span(meta)

    def s_default(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        return "default", {"default": True}, self._span(meta)

    def e_never(self, meta: Any, children: list[Any]) -> n.ExpiryRule:
        return n.ExpiryRule("never", span=self._span(meta))

    def e_end_of(self, meta: Any, children: list[Any]) -> n.ExpiryRule:
        return n.ExpiryRule("end_of", period=children[0], span=self._span(meta))

    def e_end_of_next(self, meta: Any, children: list[Any]) -> n.ExpiryRule:
        return n.ExpiryRule("end_of", period=children[0], next=True, span=self._span(meta))

    def e_after(self, meta: Any, children: list[Any]) -> n.ExpiryRule:
        return n.ExpiryRule("after", duration=children[0], span=self._span(meta))

    def spend_order(self, meta: Any, children: list[Any]) -> str:
        return str(children[0])

    def shortfall_policy(self, meta: Any, children: list[Any]) -> str:
        return str(children[0])

    def calendar_period(self, meta: Any, children: list[Any]) -> str:
        return str(children[0])

    def redemption_decl(self, meta: Any, children: list[Any]) -> n.RedemptionDecl:
        return n.RedemptionDecl("redemption", **self._settings(children, "`redemption`"), span=self._span(meta))

    def rd_accounts(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        return "accounts", {"accounts": tuple(str(tok) for tok in children)}, self._span(meta)

    def rd_max_share(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        return "max share", {"max_share": children[0]}, self._span(meta)

    def rd_min_payment(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        return "min payment", {"min_payment": children[0]}, self._span(meta)

    def rd_exclude(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        return "exclude", {"exclude": children[0]}, self._span(meta)

    def rd_accrue_on_redeemed(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        return "accrue on redeemed", {"accrue_on_redeemed": True}, self._span(meta)

    def rd_steps(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        return "steps", {"steps": children[0]}, self._span(meta)  # docs/units.md

    def rd_accrue_on_paid(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        return "accrue", {"accrue": "paid"}, self._span(meta)

    def rd_accrue_never(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        return "accrue", {"accrue": "never"}, self._span(meta)

    def ladder_decl(self, meta: Any, children: list[Any]) -> n.TierLadderDecl:
        name, title, (_, qualify, _), *levels = children
        return n.TierLadderDecl(self._name(name, "tier ladder"), self._title(title), qualify["measure"],
                                qualify["period"], tuple(levels), span=self._span(meta))

    def ladder_qualify(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        measure, period = children
        return "qualify", {"measure": measure, "period": period}, self._span(meta)

    def measure(self, meta: Any, children: list[Any]) -> str:
        return str(children[0])

    def p_calendar(self, meta: Any, children: list[Any]) -> n.Period:
        return n.Period(children[0], span=self._span(meta))

    def p_rolling(self, meta: Any, children: list[Any]) -> n.Period:
        return n.Period("rolling", children[0], span=self._span(meta))

    def ladder_level(self, meta: Any, children: list[Any]) -> n.TierLevel:
        name, _, threshold, *benefits = children
        return n.TierLevel(self._name(name, "tier level"), threshold, tuple(benefits), span=self._span(meta))

    def benefit(self, meta: Any, children: list[Any]) -> n.Arg:
        name, value = children
        return n.Arg(self._name(name, "benefit"), value, span=self._span(meta))

    def counter_decl(self, meta: Any, children: list[Any]) -> n.CounterDecl:
        name, title, *items = children
        return n.CounterDecl(self._name(name, "counter"), "counter", self._title(title),
                             **self._settings(items, f"counter `{name}`"), span=self._span(meta))

    def chips_decl(self, meta: Any, children: list[Any]) -> n.CounterDecl:
        name, title, *items = children
        return n.CounterDecl(self._name(name, "chips series"), "chips", self._title(title),
                             **self._settings(items, f"chips `{name}`"), span=self._span(meta))

    def k_reset(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        return "reset", {"reset": children[0]}, self._span(meta)

    def reset_period(self, meta: Any, children: list[Any]) -> str:
        return str(children[0])

    def k_earn(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        earn, per, selection = children
        return "earn", {"earn": earn, "earn_per": per, "earn_selection": selection}, self._span(meta)

    def k_valid(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        start, end = (None if tok is None else self._date(tok) for tok in children)
        return "valid", {"valid_start": start, "valid_end": end}, self._span(meta)

    def coupons_decl(self, meta: Any, children: list[Any]) -> n.CouponSeriesDecl:
        name, title, *items = children
        return n.CouponSeriesDecl(self._name(name, "coupon series"), self._title(title),
                                  **self._settings(items, f"coupons `{name}`"), span=self._span(meta))

    def cp_code(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        kind, text = children
        return "code", {"code_kind": kind, "code": self._string(text)}, self._span(meta)

    def code_kind(self, meta: Any, children: list[Any]) -> str:
        return str(children[0])

    def cp_valid_for(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        return "valid", {"valid_for": children[0]}, self._span(meta)

    def cp_valid(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        return self.k_valid(meta, children)

    def cp_uses(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        return "uses", {"uses": children[0]}, self._span(meta)

    def cp_per_customer(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        return "per customer", {"per_customer": children[0]}, self._span(meta)

    def certificates_decl(self, meta: Any, children: list[Any]) -> n.CertificateDecl:
        name, title, *items = children
        return n.CertificateDecl(self._name(name, "certificate series"), self._title(title),
                                 **self._settings(items, f"certificates `{name}`"), span=self._span(meta))

    def ct_sold(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        return "sold skus", {"skus": children[0]}, self._span(meta)

    def ct_expiry(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        return "expiry", {"expiry": children[0]}, self._span(meta)

    def ct_multi(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        return "use", {"multi_use": True}, self._span(meta)

    def ct_single(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        return "use", {"multi_use": False}, self._span(meta)

    def ct_per_unit(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        return "per unit", {"per_unit": True}, self._span(meta)

    def referral_decl(self, meta: Any, children: list[Any]) -> n.ReferralDecl:
        return n.ReferralDecl("referral", **self._settings(children, "`referral`"), span=self._span(meta))

    def rf_qualify(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        return "qualify", {"qualify": children[0]}, self._span(meta)

    def rf_referrer(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        value, account = children
        return "referrer", {"referrer": value, "referrer_account": None if account is None else str(account)}, \
            self._span(meta)

    def rf_newcomer(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span | None]:
        value, account = children
        return "newcomer", {"newcomer": value, "newcomer_account": None if account is None else str(account)}, \
            self._span(meta)

    def _setting_input(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any]]:
        key, values, _ = children[0]
        return key, values

    account_item_input = redemption_item_input = ladder_qualify_input = counter_item_input = _setting_input
    chips_item_input = coupon_item_input = certificate_item_input = referral_item_input = _setting_input

    # -------------------------------------------------------------------------- experiments

    def experiment_decl(self, meta: Any, children: list[Any]) -> n.ExperimentDecl:
        name, title, *items = children
        fields: dict[str, Any] = {}
        arms: list[n.ExperimentArm] = []
        seen: dict[str, Span | None] = {}
        for key, value, span in items:
            if key == "arm":
                arms.append(value)
                continue
            self._once(seen, key, span, f"experiment `{name}`")
            if key == "holdout":
                arms.append(value)
            else:
                fields[key] = value
        return n.ExperimentDecl(self._name(name, "experiment"), self._title(title), arms=tuple(arms), **fields,
                                span=self._span(meta))

    def x_salt(self, meta: Any, children: list[Any]) -> tuple[str, str, Span | None]:
        return "salt", self._string(children[0]), self._span(meta)

    def x_arm(self, meta: Any, children: list[Any]) -> tuple[str, n.ExperimentArm, Span | None]:
        name, weight = children
        return "arm", n.ExperimentArm(self._name(name, "arm"), self._percent(weight), span=self._span(meta)), \
            self._span(meta)

    def x_holdout(self, meta: Any, children: list[Any]) -> tuple[str, n.ExperimentArm, Span | None]:
        arm = n.ExperimentArm("holdout", self._percent(children[0]), holdout=True, span=self._span(meta))
        return "holdout", arm, self._span(meta)

    def x_anonymous(self, meta: Any, children: list[Any]) -> tuple[str, str, Span | None]:
        return "anonymous", str(children[0]), self._span(meta)

    def experiment_item_input(self, meta: Any, children: list[Any]) -> tuple[str, Any]:
        key, value, _ = children[0]
        return key, value

    def arm_ref(self, meta: Any, children: list[Any]) -> n.ArmRef:
        experiment, arm = children
        return n.ArmRef(str(experiment), str(arm), span=self._span(meta))

    # -------------------------------------------------------------------------- assertions

    def assert_decl(self, meta: Any, children: list[Any]) -> n.AssertDecl:
        name, title, (subject, limit) = children
        return n.AssertDecl(self._name(name, "assert"), self._title(title), subject, limit, span=self._span(meta))

    def assert_body(self, meta: Any, children: list[Any]) -> tuple[str, n.Expr]:
        subject, _, limit = children
        return str(subject), limit

    def assert_multiplier(self, meta: Any, children: list[Any]) -> tuple[str, n.Expr]:
        subject, _, factor = children
        return str(subject), n.NumberLit(self._digits(factor.value[1:], self._tspan(factor)), span=self._tspan(factor))

    def assert_body_input(self, meta: Any, children: list[Any]) -> tuple[str, n.Expr]:
        return children[0]

    # -------------------------------------------------------------------------- clauses

    def c_group(self, meta: Any, children: list[Any]) -> n.GroupClause:
        return n.GroupClause(str(children[0]), span=self._span(meta))

    def c_priority(self, meta: Any, children: list[Any]) -> n.PriorityClause:
        return n.PriorityClause(self._int(children[0], "a priority"), span=self._span(meta))

    def c_priority_neg(self, meta: Any, children: list[Any]) -> n.PriorityClause:
        return n.PriorityClause(self._int(children[0], "a priority", negative=True), span=self._span(meta))

    def c_valid(self, meta: Any, children: list[Any]) -> n.ValidClause:
        start, end = (None if tok is None else self._date(tok) for tok in children)
        return n.ValidClause(start, end, span=self._span(meta))

    def c_weekday_range(self, meta: Any, children: list[Any]) -> n.WeekdaysClause:
        first, last = (self._weekday(tok) for tok in children)
        days: tuple[str, ...] = ()
        if first in WEEKDAYS and last in WEEKDAYS:
            i, j = WEEKDAYS.index(first), WEEKDAYS.index(last)
            days = tuple(WEEKDAYS[(i + k) % 7] for k in range((j - i) % 7 + 1))
        return n.WeekdaysClause(days, span=self._span(meta))

    def c_weekday(self, meta: Any, children: list[Any]) -> n.WeekdaysClause:
        return n.WeekdaysClause((self._weekday(children[0]),), span=self._span(meta))

    def c_weekday_list(self, meta: Any, children: list[Any]) -> n.WeekdaysClause:
        days = []
        for item in children[0].items:
            days.append(item.value)
            if item.value not in WEEKDAYS:
                self._bad_weekday(item.value, item.span)
        return n.WeekdaysClause(tuple(days), span=self._span(meta))

    def c_hours(self, meta: Any, children: list[Any]) -> n.HoursClause:
        start, end = (self._time(tok) for tok in children)
        return n.HoursClause(start, end, span=self._span(meta))

    def set_kind(self, meta: Any, children: list[Any]) -> str:
        return str(children[0])

    def name_ref(self, meta: Any, children: list[Any]) -> n.Ref:
        return n.Ref((str(children[0]),), span=self._span(meta))

    def c_set(self, meta: Any, children: list[Any]) -> n.SetFilterClause:
        kind, values = children
        return n.SetFilterClause(kind, values, span=self._span(meta))

    def c_set_not(self, meta: Any, children: list[Any]) -> n.SetFilterClause:
        kind, values = children
        return n.SetFilterClause(kind, values, negated=True, span=self._span(meta))

    def c_audience(self, meta: Any, children: list[Any]) -> n.AudienceClause:
        return n.AudienceClause(children[0], span=self._span(meta))

    def c_when(self, meta: Any, children: list[Any]) -> n.WhenClause:
        return n.WhenClause(children[0], span=self._span(meta))

    def c_then(self, meta: Any, children: list[Any]) -> n.ThenClause:
        return n.ThenClause(tuple(children), span=self._span(meta))

    def per(self, meta: Any, children: list[Any]) -> str:
        return str(children[0])

    def c_limit(self, meta: Any, children: list[Any]) -> n.LimitClause:
        value, per = children
        return n.LimitClause("applications", value, per, span=self._span(meta))

    def c_max_discount(self, meta: Any, children: list[Any]) -> n.LimitClause:
        value, per = children
        return n.LimitClause("discount", value, per, span=self._span(meta))

    def c_max_points(self, meta: Any, children: list[Any]) -> n.LimitClause:
        value, per = children
        if isinstance(value, n.NumberLit):  # `max points 100 per receipt`: the unit is implied
            value = n.PointsLit(value.text, span=value.span)
        return n.LimitClause("points", value, per, span=self._span(meta))

    def c_coupon(self, meta: Any, children: list[Any]) -> n.CouponClause:
        return n.CouponClause(str(children[0]), span=self._span(meta))

    def c_budget(self, meta: Any, children: list[Any]) -> n.BudgetClause:
        return n.BudgetClause(children[0], span=self._span(meta))

    def c_arm(self, meta: Any, children: list[Any]) -> n.ArmClause:
        return n.ArmClause(children[0], span=self._span(meta))

    def exclusive_scope(self, meta: Any, children: list[Any]) -> str:
        return str(children[0])

    def c_exclusive(self, meta: Any, children: list[Any]) -> n.ExclusiveClause:
        return n.ExclusiveClause(children[0], span=self._span(meta))

    def c_redistribute(self, meta: Any, children: list[Any]) -> n.RedistributeClause:
        return n.RedistributeClause(span=self._span(meta))

    def c_reward(self, meta: Any, children: list[Any]) -> n.RewardClause:
        points, account, stock = children
        return n.RewardClause(points, None if account is None else str(account), stock, span=self._span(meta))

    def c_redemptions(self, meta: Any, children: list[Any]) -> n.RedemptionsClause:
        value, *per = children
        return n.RedemptionsClause(value, tuple(str(p) for p in per), span=self._span(meta))

    def clause_input(self, meta: Any, children: list[Any]) -> n.Clause:
        return children[0]

    # -------------------------------------------------------------------------- actions

    def a_discount(self, meta: Any, children: list[Any]) -> n.Discount:
        value, target = children
        return n.Discount(value, target, span=self._span(meta))

    def a_discount_per_unit(self, meta: Any, children: list[Any]) -> n.Discount:
        value, target = children
        return n.Discount(value, target, per_unit=True, span=self._span(meta))

    def a_price(self, meta: Any, children: list[Any]) -> n.PriceOverride:
        price, selection = children
        return n.PriceOverride(price, selection, span=self._span(meta))

    def a_free(self, meta: Any, children: list[Any]) -> n.FreeUnits:
        free, every, selection = children
        return n.FreeUnits(free, every, selection, span=self._span(meta))

    def a_free_cheapest(self, meta: Any, children: list[Any]) -> n.FreeCheapest:
        count, selection = children
        return n.FreeCheapest(count, selection, span=self._span(meta))

    def a_combo(self, meta: Any, children: list[Any]) -> n.Combo:
        *parts, (reward, value, part) = children
        return n.Combo(tuple(parts), reward, value, part, span=self._span(meta))

    def combo_part(self, meta: Any, children: list[Any]) -> n.ComboPart:
        name, need, selection = children
        return n.ComboPart(self._name(name, "combo part"), need, selection, span=self._span(meta))

    def r_percent_on_part(self, meta: Any, children: list[Any]) -> tuple[str, n.Expr, str | None]:
        value, part = children
        return "percent_on_part", value, str(part)

    def r_amount_per_set(self, meta: Any, children: list[Any]) -> tuple[str, n.Expr, str | None]:
        return "amount_per_set", children[0], None

    def r_set_price(self, meta: Any, children: list[Any]) -> tuple[str, n.Expr, str | None]:
        return "set_price", children[0], None

    # unit-level discounts (docs/units.md)
    def a_unit_discount(self, meta: Any, children: list[Any]) -> n.UnitDiscount:
        value, (pick, nth), every, selection, rounding = children
        return n.UnitDiscount(value, pick, every, selection, nth, rounding, span=self._span(meta))

    def a_unit_discount_once(self, meta: Any, children: list[Any]) -> n.UnitDiscount:
        value, (pick, nth), selection, rounding = children
        return n.UnitDiscount(value, pick, None, selection, nth, rounding, span=self._span(meta))

    def a_unit_price(self, meta: Any, children: list[Any]) -> n.UnitDiscount:
        value, (pick, nth), every, selection = children
        return n.UnitDiscount(value, pick, every, selection, nth, price=True, span=self._span(meta))

    def a_unit_price_once(self, meta: Any, children: list[Any]) -> n.UnitDiscount:
        value, (pick, nth), selection = children
        return n.UnitDiscount(value, pick, None, selection, nth, price=True, span=self._span(meta))

    def pick_nth(self, meta: Any, children: list[Any]) -> tuple[str, n.Expr | None]:
        return "nth", children[0]

    def pick_cheapest(self, meta: Any, children: list[Any]) -> tuple[str, n.Expr | None]:
        return "cheapest", None

    def pick_most_expensive(self, meta: Any, children: list[Any]) -> tuple[str, n.Expr | None]:
        return "most_expensive", None

    def round_per_unit(self, meta: Any, children: list[Any]) -> str:
        return "unit"

    def round_per_line(self, meta: Any, children: list[Any]) -> str:
        return "line"

    def a_tiers(self, meta: Any, children: list[Any]) -> n.Tiers:
        subject, *branches = children
        return n.Tiers(subject, tuple(branches), span=self._span(meta))

    def tier_branch(self, meta: Any, children: list[Any]) -> n.TierBranch:
        op, threshold, *actions = children
        return n.TierBranch(op.value, threshold, tuple(actions), span=self._span(meta))

    def a_accrue(self, meta: Any, children: list[Any]) -> n.Accrue:
        value, target, account = children
        return n.Accrue(value, target or n.Target(None, span=self._span(meta)),
                        account=None if account is None else str(account), span=self._span(meta))

    def a_multiply(self, meta: Any, children: list[Any]) -> n.Accrue:
        factor, base, target, account = children
        value = n.NumberLit(self._digits(factor.value[1:], self._tspan(factor)), span=self._tspan(factor))
        return n.Accrue(value, target or n.Target(None, span=self._span(meta)), str(base),
                        None if account is None else str(account), span=self._span(meta))

    def a_add(self, meta: Any, children: list[Any]) -> n.CounterAdd:
        value, counter = children
        return n.CounterAdd(value, str(counter), span=self._span(meta))

    def a_spend(self, meta: Any, children: list[Any]) -> n.CounterSpend:
        value, counter = children
        return n.CounterSpend(value, str(counter), span=self._span(meta))

    def a_issue(self, meta: Any, children: list[Any]) -> n.IssueCoupon:
        return n.IssueCoupon(str(children[0]), span=self._span(meta))

    def a_gift(self, meta: Any, children: list[Any]) -> n.Gift:
        (skus, choice), price = children
        return n.Gift(skus, choice, price, span=self._span(meta))

    def gift_one(self, meta: Any, children: list[Any]) -> tuple[n.Expr, bool]:
        return n.StringLit(self._string(children[0]), span=self._span(meta)), False

    def gift_choice(self, meta: Any, children: list[Any]) -> tuple[n.Expr, bool]:
        return children[0], True

    def on_receipt(self, meta: Any, children: list[Any]) -> n.Target:
        return n.Target(None, span=self._span(meta))

    def on_lines(self, meta: Any, children: list[Any]) -> n.Target:
        return n.Target(children[0], span=self._span(meta))

    def on_delivery(self, meta: Any, children: list[Any]) -> n.Target:
        """``on delivery``: sugar for ``on lines where kind "delivery"`` (docs/commerce.md)."""
        span = self._span(meta)
        kind = n.Membership(n.Ref(("kind",), span=span), n.SetLit((n.StringLit("delivery", span=span),), span=span),
                            span=span)
        return n.Target(n.Selection(kind, span=span), span=span)

    def selection(self, meta: Any, children: list[Any]) -> n.Selection:
        return n.Selection(children[0], span=self._span(meta))

    def actions_input(self, meta: Any, children: list[Any]) -> tuple[n.Action, ...]:
        return tuple(children)

    # -------------------------------------------------------------------------- expressions

    def expr_input(self, meta: Any, children: list[Any]) -> n.Expr:
        return children[0]

    def or_test(self, meta: Any, children: list[Any]) -> n.BoolOp:
        return n.BoolOp("or", tuple(children), span=self._span(meta))

    def and_test(self, meta: Any, children: list[Any]) -> n.BoolOp:
        return n.BoolOp("and", tuple(children), span=self._span(meta))

    def not_(self, meta: Any, children: list[Any]) -> n.Not:
        return n.Not(children[0], span=self._span(meta))

    def compare(self, meta: Any, children: list[Any]) -> n.Compare:
        left, op, right = children
        return n.Compare(op.value, left, right, span=self._span(meta))

    def member(self, meta: Any, children: list[Any]) -> n.Membership:
        item, collection = children
        return n.Membership(item, collection, span=self._span(meta))

    def not_member(self, meta: Any, children: list[Any]) -> n.Membership:
        item, collection = children
        return n.Membership(item, collection, negated=True, span=self._span(meta))

    def sugar(self, meta: Any, children: list[Any]) -> n.Membership:
        ref, tok = children
        if ref.path not in [(f,) for f in SUGAR_FIELDS]:
            name = ".".join(ref.path)
            self._error("LOY101", f"unexpected string after `{name}`", self._tspan(tok),
                        f'only {", ".join(f"`{f}`" for f in SUGAR_FIELDS)} take a bare string; '
                        f'write `{name} in [{tok.value}]` or `{name} == {tok.value}`')
        item = n.StringLit(self._string(tok), span=self._tspan(tok))
        return n.Membership(ref, n.SetLit((item,), span=item.span), span=self._span(meta))

    def add(self, meta: Any, children: list[Any]) -> n.BinOp:
        return n.BinOp("+", children[0], children[1], span=self._span(meta))

    def sub(self, meta: Any, children: list[Any]) -> n.BinOp:
        return n.BinOp("-", children[0], children[1], span=self._span(meta))

    def mul(self, meta: Any, children: list[Any]) -> n.BinOp:
        return n.BinOp("*", children[0], children[1], span=self._span(meta))

    def neg(self, meta: Any, children: list[Any]) -> n.Unary:
        return n.Unary("-", children[0], span=self._span(meta))

    def number(self, meta: Any, children: list[Any]) -> n.NumberLit:
        return n.NumberLit(self._digits(children[0].value, self._span(meta)), span=self._span(meta))

    def money(self, meta: Any, children: list[Any]) -> n.MoneyLit:
        return self._money(children[0])

    def percent(self, meta: Any, children: list[Any]) -> n.PercentLit:
        amount, _ = _split_unit(children[0].value)
        return n.PercentLit(self._digits(amount, self._span(meta)), span=self._span(meta))

    def points_amount(self, meta: Any, children: list[Any]) -> n.PointsLit:
        amount, _ = _split_unit(children[0].value)
        return n.PointsLit(self._digits(amount, self._span(meta)), span=self._span(meta))

    def quantity(self, meta: Any, children: list[Any]) -> n.QuantityLit:
        amount, unit = _split_unit(children[0].value)
        return n.QuantityLit(self._digits(amount, self._span(meta)), _UNITS.get(unit, unit), span=self._span(meta))

    def duration(self, meta: Any, children: list[Any]) -> n.DurationLit:
        tok = children[0]
        amount, unit = _split_unit(tok.value)
        amount = self._digits(amount, self._tspan(tok))
        if not amount.isdigit():
            self._error("LOY103", f"a duration is a whole number of {_UNITS.get(unit, unit)}, not `{amount}`",
                        self._tspan(tok))
            amount = "0"
        return n.DurationLit(int(amount), _UNITS.get(unit, unit), span=self._span(meta))

    def string(self, meta: Any, children: list[Any]) -> n.StringLit:
        return n.StringLit(self._string(children[0]), span=self._span(meta))

    def true(self, meta: Any, children: list[Any]) -> n.BoolLit:
        return n.BoolLit(True, span=self._span(meta))

    def false(self, meta: Any, children: list[Any]) -> n.BoolLit:
        return n.BoolLit(False, span=self._span(meta))

    def aggregate(self, meta: Any, children: list[Any]) -> n.Aggregate:
        func, selection = children
        return n.Aggregate(str(func), selection, span=self._span(meta))

    def ref(self, meta: Any, children: list[Any]) -> n.Ref:
        return n.Ref(tuple(str(tok) for tok in children), span=self._span(meta))

    def set_lit(self, meta: Any, children: list[Any]) -> n.SetLit:
        """Items are strings; a bare word or number (``[pos, online]``) is the string it spells."""
        items = []
        for tok in children:
            value = self._string(tok) if tok.type == "STRING" else tok.value
            items.append(n.StringLit(value, span=self._tspan(tok)))
        return n.SetLit(tuple(items), span=self._span(meta))

    # -------------------------------------------------------------------------- literal checks

    def _percent(self, tok: Token) -> n.PercentLit:
        amount, _ = _split_unit(tok.value)
        return n.PercentLit(self._digits(amount, self._tspan(tok)), span=self._tspan(tok))

    def _money(self, tok: Token) -> n.MoneyLit:
        amount, currency = _split_unit(tok.value)
        return n.MoneyLit(self._digits(amount, self._tspan(tok)), CURRENCY_SYMBOLS.get(currency, currency),
                          span=self._tspan(tok))

    def _date(self, tok: Token) -> dt.date | None:
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", tok.value):
                raise ValueError("dates are written YYYY-MM-DD")
            date = dt.date.fromisoformat(tok.value)
        except ValueError as exc:
            self._error("LOY103", f"`{tok.value}` is not a valid date", self._tspan(tok),
                        str(exc) if "YYYY" in str(exc) else "write a real date as YYYY-MM-DD, e.g. 2025-01-31")
            return None
        if not MIN_DATE <= date <= MAX_DATE:
            self._error("LOY113", f"`{tok.value}` is outside the dates a programme may name", self._tspan(tok),
                        f"dates lie from {MIN_DATE} to {MAX_DATE}; leave an end open (`valid 2025-01-01 ..`) "
                        "for no end")
            return None
        return date

    def _time(self, tok: Token) -> dt.time:
        parts = tok.value.split(":")
        ok = all(len(p) == 2 for p in parts[1:]) and 1 <= len(parts[0]) <= 2
        hour, minute, second = (int(p) if ok else 0 for p in [*parts, "0"][:3])
        if not ok or hour > 23 or minute > 59 or second > 59:
            hint = "midnight is 00:00" if tok.value.startswith("24") else "write HH:MM, from 00:00 to 23:59"
            self._error("LOY103", f"`{tok.value}` is not a valid time of day", self._tspan(tok), hint)
            return dt.time(0, 0)
        return dt.time(hour, minute, second)

    def _weekday(self, tok: Token) -> str:
        if tok.value not in WEEKDAYS:
            self._bad_weekday(tok.value, self._tspan(tok))
        return str(tok.value)

    def _bad_weekday(self, day: str, span: Span | None) -> None:
        self._error("LOY103", f"`{day}` is not a weekday", span,
                    slips.day_word(day) or did_you_mean(day.lower(), WEEKDAYS) or f"use {' '.join(WEEKDAYS)}")


    # -------------------------------------------------------------------------- profile and segments (docs/segments.md)

    def call(self, meta: Any, children: list[Any]) -> n.Call:
        func, *args = children
        return n.Call(str(func), tuple(a for a in args if a is not None), span=self._span(meta))

    def method_call(self, meta: Any, children: list[Any]) -> n.Call:
        """``customer.next_purchase("coffee")``: a call whose name is dotted (docs/offers.md)."""
        owner, func, *args = children
        return n.Call(f"{owner}.{func}", tuple(a for a in args if a is not None), span=self._span(meta))

    def profile_decl(self, meta: Any, children: list[Any]) -> n.ProfileDecl:
        return n.ProfileDecl("profile", tuple(children), span=self._span(meta))

    def profile_field(self, meta: Any, children: list[Any]) -> n.ProfileField:
        name, (kind, options) = children
        return n.ProfileField(self._name(name, "profile field"), kind, options, span=self._span(meta))

    def pt_date(self, meta: Any, children: list[Any]) -> tuple[str, tuple[str, ...]]:
        return "date", ()

    def pt_dates(self, meta: Any, children: list[Any]) -> tuple[str, tuple[str, ...]]:
        return "dates", ()

    def pt_string(self, meta: Any, children: list[Any]) -> tuple[str, tuple[str, ...]]:
        return "string", ()

    def pt_bool(self, meta: Any, children: list[Any]) -> tuple[str, tuple[str, ...]]:
        return "bool", ()

    def pt_count(self, meta: Any, children: list[Any]) -> tuple[str, tuple[str, ...]]:
        return "count", ()

    def pt_one_of(self, meta: Any, children: list[Any]) -> tuple[str, tuple[str, ...]]:
        options: n.SetLit = children[0]
        return "one_of", tuple(i.value for i in options.items if isinstance(i, n.StringLit))

    def lifecycle_decl(self, meta: Any, children: list[Any]) -> n.LifecycleDecl:
        return n.LifecycleDecl("lifecycle", tuple(children), span=self._span(meta))

    def lifecycle_item(self, meta: Any, children: list[Any]) -> n.LifecycleStage:
        stage, days = children
        return n.LifecycleStage(str(stage), days, span=self._span(meta))

    def lifecycle_stage(self, meta: Any, children: list[Any]) -> str:
        return str(children[0])

    def score_decl(self, meta: Any, children: list[Any]) -> n.ScoreDecl:
        name, title, of, *bins = children
        return n.ScoreDecl(self._name(name, "score"), self._title(title), of, tuple(bins), span=self._span(meta))

    def score_bin(self, meta: Any, children: list[Any]) -> n.ScoreBin:
        score, low, high = children
        value = int(score.value) if score.value.isdigit() and len(score.value) < 4 else -1
        if value < 0:
            self._error("LOY103", f"a score is a whole number from 0 to 999, not `{score.value}`", self._tspan(score))
        return n.ScoreBin(max(value, 0), low, high, span=self._span(meta))

    def score_of(self, meta: Any, children: list[Any]) -> n.Expr:
        return children[0]

    segment_when = score_of

    def segment_decl(self, meta: Any, children: list[Any]) -> n.SegmentDecl:
        name, title, when = children
        return n.SegmentDecl(self._name(name, "segment"), self._title(title), when, span=self._span(meta))

    def _one_input(self, meta: Any, children: list[Any]) -> Any:
        return children[0]

    profile_field_input = lifecycle_item_input = score_bin_input = _one_input


def _split_unit(text: str) -> tuple[str, str]:
    match = _AMOUNT_AND_UNIT.fullmatch(text)
    assert match is not None, text
    return match.group(1), match.group(2)


_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}
_UNICODE_ESCAPE = re.compile(r"u\{([0-9A-Fa-f]{1,6})\}")


def too_many_digits(amount: str) -> str | None:
    """Why a number's digits are refused (more than MAX_INT_DIGITS of them), or None (LOY112)."""
    digits = sum(ch.isdigit() for ch in amount)
    if digits <= MAX_INT_DIGITS:
        return None
    return f"a number with {digits} digits; at most {MAX_INT_DIGITS} are allowed"


def _is_scalar(code: int) -> bool:
    """A Unicode scalar value: a code point that UTF-8 can encode (not a surrogate, not past U+10FFFF)."""
    return code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF


def _unescape(tok: Token, builder: _Builder) -> str:
    """The value of a STRING token; a bad escape is LOY103 at the escape itself."""
    body = tok.value[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1] if i + 1 < len(body) else ""
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
            continue
        match = _UNICODE_ESCAPE.match(body, i + 1)  # from i + 1 without slicing: linear in the string
        if match and _is_scalar(int(match.group(1), 16)):
            out.append(chr(int(match.group(1), 16)))
            i = match.end()
            continue
        length = (match.end() - i) if match else 1 + len(nxt)
        col = (tok.column or 1) + 1 + i
        span = builder.origin.span(tok.line or 1, col, tok.line or 1, col + length)
        hint = "not a Unicode character (surrogates D800-DFFF and values past 10FFFF are not)" if match else \
            'the escapes are \\" \\\\ \\n \\t and \\u{XXXX} (XXXX a Unicode character up to 10FFFF)'
        builder.diags.append(error("LOY103", f"bad escape `{body[i:i + length]}` in a string", span, hint))
        i += length
    return "".join(out)


# ---------------------------------------------------------------------------------------------- profile and segments
# The YAML twin's fragments of the declarations of docs/segments.md.


def parse_segment_item(block: str, text: str, file: str = "<input>", line: int = 1, col: int = 1,
                       prefix: str = "") -> tuple[n.Node | None, list[Diagnostic]]:
    """One item of a ``profile`` (``birth_date date``), ``lifecycle`` (``new 30 days``) or ``score``
    (``bin 5: 0 .. 30``) block; ``prefix`` is written before ``text`` (the YAML key), outside its place."""
    return _fragment(SETTING_STARTS[block], prefix + text, _Origin(file, line, col, len(prefix)), n.Node)
