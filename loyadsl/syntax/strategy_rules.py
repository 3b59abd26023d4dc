"""The parser's rules for offer strategies (docs/offers.md, "Strategies in the language"), a mixin of
``parser._Builder``: lark tree -> ``StrategyDecl``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lark import Token, Transformer, v_args

from loyadsl.diagnostics import Span
from loyadsl.syntax import nodes as n

_Value = tuple[n.Expr | None, tuple[tuple[str, str], ...] | None]


@v_args(meta=True)
class StrategyRules(Transformer):
    """Rule methods get ``(meta, children)``, as ``_Builder``'s do."""

    _span: Callable[[Any], Span | None]
    _name: Callable[[Token, str], str]
    _title: Callable[[Token | None], str | None]
    _string: Callable[[Token], str]
    _once: Callable[[dict[str, Span | None], str, Span | None, str], None]

    def strategy_decl(self, meta: Any, children: list[Any]) -> n.StrategyDecl:
        name, title, *items = children
        settings = tuple(i for i in items if isinstance(i, n.StrategySetting))
        offers = tuple(i for i in items if isinstance(i, n.OfferTemplate))
        _unique(self._once, settings, f"strategy `{name}`")  # the YAML twin has room for each key once
        return n.StrategyDecl(self._name(name, "strategy"), self._title(title), settings, offers,
                              span=self._span(meta))

    def st_setting(self, meta: Any, children: list[Any]) -> n.StrategySetting:
        key, (value, pairs) = children
        return n.StrategySetting(str(key), value, pairs, span=self._span(meta))

    offer_setting = st_setting

    def st_offer(self, meta: Any, children: list[Any]) -> n.OfferTemplate:
        name, *settings = children
        _unique(self._once, settings, f"offer `{name}`")
        return n.OfferTemplate(self._name(name, "offer"), tuple(settings), span=self._span(meta))

    def sv_expr(self, meta: Any, children: list[Any]) -> _Value:
        return children[0], None

    def sv_map(self, meta: Any, children: list[Any]) -> _Value:
        return None, tuple(pair for pair in children if pair is not None)

    def st_pair(self, meta: Any, children: list[Any]) -> tuple[str, str]:
        key, series = children
        return (self._string(key) if key.type == "STRING" else str(key)), str(series)


def _unique(once: Callable[[dict[str, Span | None], str, Span | None, str], None],
            settings: Any, where: str) -> None:
    """LOY213 for a setting given twice."""
    seen: dict[str, Span | None] = {}
    for s in settings:
        once(seen, s.key, s.span, where)
