"""The YAML twin of an offer strategy (docs/offers.md, "Strategies in the language"): the strategy YAML
form that `loya offers issue` has always read, so a `strategies:` entry of a programme's YAML twin is a
strategy file's content. An offer's rules go under `when`; values keep their units as text.

```yaml
strategies:
  - strategy: winback
    currency: USD
    holdout: 10%
    offers:
      - {name: come_back, coupon: personal_5, amount: 5.00 USD, valid: 30 days, when: {p_alive_below: 0.5}}
```"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from loyadsl.syntax import nodes as n
from loyadsl.syntax.parser import RESERVED_WORDS, parse_expression
from loyadsl.syntax.printer import OFFER_HEAD, OFFER_TAIL, format_expr, offer_settings

if TYPE_CHECKING:
    from loyadsl.syntax.yaml_twin import _Reader

TEXTS = ("title", "salt", "message", "cashier", "code_prefix")  # written as text, not expressions
NAMES = ("currency", "target", "coupon")  # a bare name
NAME = re.compile(r"[^\W\d]\w*")  # the grammar's NAME (grammar/loya.lark); a reserved word or anything else is an expression there too
OFFER_KEYS = ("name", *OFFER_HEAD, *OFFER_TAIL)


def _yaml_value(s: n.StrategySetting) -> Any:
    if s.pairs is not None:
        return dict(s.pairs)
    v = s.value
    if isinstance(v, n.StringLit):  # a text setting as it is; elsewhere a string as the expression reads it
        return v.value if s.key in TEXTS else format_expr(v)
    if isinstance(v, n.Ref) and len(v.path) == 1:
        return v.path[0]
    if isinstance(v, n.NumberLit):  # a YAML number when it reads back as written ("500.00" stays text)
        if v.text.isdigit() and str(int(v.text)) == v.text:  # ("007" stays text)
            return int(v.text)
        return float(v.text) if repr(float(v.text)) == v.text else v.text
    if isinstance(v, n.SetLit) and all(isinstance(i, n.StringLit) for i in v.items):
        return [i.value for i in v.items if isinstance(i, n.StringLit)]
    return "" if v is None else format_expr(v)


def strategy_to_yaml(decl: n.StrategyDecl) -> dict[str, Any]:
    out: dict[str, Any] = {"strategy": decl.name}
    if decl.title is not None:
        out["title"] = decl.title
    out |= {s.key: _yaml_value(s) for s in decl.settings}
    offers = []
    for o in decl.offers:
        ordered = offer_settings(o)
        head = {s.key: _yaml_value(s) for s in ordered if s.key in OFFER_HEAD}
        when = {s.key: _yaml_value(s) for s in ordered if s.key not in OFFER_KEYS}
        tail = {s.key: _yaml_value(s) for s in ordered if s.key in OFFER_TAIL}
        offers.append({"name": o.name} | head | ({"when": when} if when else {}) | tail)
    return out | {"offers": offers}


def strategy_from_yaml(r: _Reader, node: Any) -> n.StrategyDecl | None:
    pairs = r.mapping(node)
    name = r.name(pairs.get("strategy"), "a strategy")
    settings = [s for key, _, value in pairs.items if key not in ("strategy", "title", "offers")
                for s in [_setting(r, key, value)] if s is not None]
    offers = []
    listed = pairs.get("offers")
    for item in listed.value if listed is not None else []:
        offer = _offer(r, item)
        if offer is not None:
            offers.append(offer)
    if name is None:
        return None
    return n.StrategyDecl(name, r.text(pairs.get("title")), tuple(settings), tuple(offers),
                          span=r.span(node))


def _offer(r: _Reader, node: Any) -> n.OfferTemplate | None:
    pairs = r.mapping(node)  # rules go under `when`
    name = r.name(pairs.get("name"), "an offer")
    settings = []
    for key, _, value in pairs.items:
        if key == "when":
            settings += [_setting(r, k, v) for k, _, v in r.mapping(value).items]  # rules (words, not settings)
        elif key != "name":
            settings.append(_setting(r, key, value))
    if name is None:
        return None
    return n.OfferTemplate(name, tuple(s for s in settings if s is not None), span=r.span(node))


def _setting(r: _Reader, key: str, node: Any) -> n.StrategySetting | None:
    span = r.span(node)  # (the key is a word: the shape)
    if isinstance(node, MappingNode):  # coupon: {COFFEE: coffee_10}
        items = tuple((k, r.text(v) or "") for k, _, v in r.mapping(node).items)
        return n.StrategySetting(key, None, items, span=span)
    if isinstance(node, SequenceNode):
        listed = tuple(n.StringLit(r.text(i) or "", span=r.span(i)) for i in node.value)
        return n.StrategySetting(key, n.SetLit(listed, span=span), span=span)
    text = r.text(node)
    if text is None or not isinstance(node, ScalarNode):
        return None
    if key in TEXTS:
        return n.StrategySetting(key, n.StringLit(text, span=span), span=span)
    if key in NAMES and NAME.fullmatch(text) and text not in RESERVED_WORDS:
        return n.StrategySetting(key, n.Ref((text,), span=span), span=span)
    expr, diags = parse_expression(text, r.file, *r.where(node))
    r.embedded(diags)
    return None if expr is None else n.StrategySetting(key, expr, span=span)
