"""Offer strategies written in .loya (docs/offers.md, "Strategies in the language"): a ``StrategyDecl``
is checked setting by setting, with units and coded diagnostics at each setting's place, and becomes
the same ``Strategy`` the YAML form gives (``strategy.py``), so both forms issue the same offers.

The settings are the YAML form's keys; an offer's rules (``due_within 7 days``, ``p_alive_below 0.5``)
sit in the offer itself rather than under ``when``."""

from __future__ import annotations

import difflib
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from loyadsl.diagnostics import Diagnostic, Span, did_you_mean, error
from loyadsl.syntax import nodes as n
from loyadsl.syntax.printer import format_expr

from .errors import BAD_STRATEGY, OVER_BUDGET, UNFITTED_SCORE, OffersError
from .strategy import Strategy

# key -> the kind of value it takes
TOP: dict[str, str] = {"currency": "name", "minor": "count", "max_per_customer": "count", "budget": "money",
                       "holdout": "percent", "salt": "text"}
OFFER: dict[str, str] = {"coupon": "coupon", "discount": "percent", "amount": "money", "valid": "duration",
                         "target": "name", "categories": "list", "top": "count", "message": "text",
                         "cashier": "text", "code_prefix": "text"}
RULES: dict[str, str] = {"due_within": "duration", "not_bought_within": "duration", "affinity_top": "count",
                         "p_alive_below": "probability", "p_alive_at_least": "probability",
                         "clv_quantile_at_least": "probability", "total_quantile_at_least": "probability",
                         "tier_threshold": "money", "tier_gap_at_most": "money", "birthday_within": "duration",
                         "min_purchases": "count"}
KINDS = {"name": "a name such as USD", "count": "a whole number", "money": "an amount such as 5.00 USD",
         "percent": "a percentage such as 10%", "duration": "a duration such as 14 days",
         "probability": "a share such as 0.5 or 50%", "text": 'a text in quotes', "list": 'a list such as ["COFFEE"]',
         "coupon": "a coupon series name, or { CATEGORY: series, ... }"}
_SCORE_WORDS = ("_below", "_at_least", "_within", "_top", "_quantile")


class _Failed(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic


def _value(s: n.StrategySetting, kind: str) -> Any:
    """The setting's value in the YAML form's terms (``10%``, ``14 days``, ``5.00 USD``), or LOY633."""
    v = s.value
    ok: Any = None
    if kind == "coupon" and s.pairs is not None:
        ok = dict(s.pairs)
    elif kind in ("name", "coupon") and isinstance(v, n.Ref) and len(v.path) == 1:
        ok = v.path[0]
    elif kind == "count" and isinstance(v, n.NumberLit) and v.text.isdigit():
        ok = int(v.text)
    elif kind == "money" and isinstance(v, n.MoneyLit):
        ok = f"{v.amount} {v.currency}"
    elif kind in ("percent", "probability") and isinstance(v, n.PercentLit):
        ok = f"{v.value}%" if kind == "percent" else Decimal(v.value) / 100
    elif kind == "probability" and isinstance(v, n.NumberLit):
        ok = Decimal(v.text)
    elif kind == "duration" and isinstance(v, n.DurationLit) and v.unit in ("day", "days"):
        ok = f"{v.amount} days"
    elif kind == "text" and isinstance(v, n.StringLit):
        ok = v.value
    elif kind == "list" and isinstance(v, n.SetLit) and all(isinstance(i, n.StringLit) for i in v.items):
        ok = [i.value for i in v.items if isinstance(i, n.StringLit)]
    if ok is None:
        got = "a map" if s.pairs is not None else f"`{format_expr(v)}`" if v is not None else "nothing"
        raise _Failed(error(BAD_STRATEGY, f"`{s.key}` takes {KINDS[kind]}, got {got}", s.span,
                            "durations are in days" if kind == "duration" and isinstance(v, n.DurationLit) else None))
    return ok


def _unknown(s: n.StrategySetting, known: list[str], where: str) -> _Failed:
    close = difflib.get_close_matches(s.key, [*known, *RULES], n=1)
    if s.key.endswith(_SCORE_WORDS) or (close and close[0] in RULES):
        return _Failed(error(UNFITTED_SCORE, f"`{s.key}` reads no score a model fits", s.span,
                             did_you_mean(s.key, list(RULES)) or f"the rules are {', '.join(RULES)}"))
    return _Failed(error(BAD_STRATEGY, f"`{s.key}` is no setting of {where}", s.span,
                         did_you_mean(s.key, known) or f"the settings are {', '.join(known)}"))


def _settings(settings: tuple[n.StrategySetting, ...], table: dict[str, str], where: str,
              rules: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    seen: set[str] = set()
    for s in settings:
        if s.key in seen:
            raise _Failed(error(BAD_STRATEGY, f"`{s.key}` is given twice in {where}", s.span))
        seen.add(s.key)
        if s.key in table:
            out[s.key] = _value(s, table[s.key])
        elif rules is not None and s.key in RULES:
            rules[s.key] = _value(s, RULES[s.key])
        else:
            raise _unknown(s, [*table, *(RULES if rules is not None else ())], where)
    return out


def strategy_data(decl: n.StrategyDecl) -> dict[str, Any]:
    """The strategy as the YAML form's data (``_Failed`` at the first setting that is wrong)."""
    data: dict[str, Any] = {"strategy": decl.name, **({"title": decl.title} if decl.title is not None else {})}
    data |= _settings(decl.settings, TOP, f"strategy `{decl.name}`")
    offers = []
    for o in decl.offers:
        when: dict[str, Any] = {}
        offer = {"name": o.name, **_settings(o.settings, OFFER, f"offer `{o.name}`", when)}
        offers.append(offer | ({"when": when} if when else {}))
    return data | {"offers": offers}


def _place(decl: n.StrategyDecl, loc: tuple[Any, ...]) -> Span | None:
    """The setting (or offer, or strategy) a pydantic error's location names."""
    if len(loc) >= 2 and loc[0] == "offers" and isinstance(loc[1], int) and loc[1] < len(decl.offers):
        offer = decl.offers[loc[1]]
        keys = [k for k in loc[2:] if isinstance(k, str) and k != "when"]
        found = next((s for s in offer.settings if keys and s.key == keys[0]), None)
        return (found or offer).span
    found = next((s for s in decl.settings if loc and s.key == loc[0]), None)
    return (found or decl).span


def _quoted(decl: n.StrategyDecl, message: str) -> Span | None:
    """The setting whose value the message quotes (`5.00 EUR`), for errors of the whole strategy."""
    for s in [*decl.settings, *(x for o in decl.offers for x in o.settings)]:
        if s.value is not None and f"`{format_expr(s.value)}`" in message:
            return s.span
    return None


def check_strategy(decl: n.StrategyDecl) -> tuple[Strategy | None, list[Diagnostic]]:
    """The strategy, or the diagnostics that say where and why it cannot be one."""
    try:
        data = strategy_data(decl)
    except _Failed as failed:
        return None, [failed.diagnostic]
    try:
        strategy = Strategy.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        loc = tuple(first["loc"])
        return None, [error(BAD_STRATEGY, message, (None if loc else _quoted(decl, message)) or _place(decl, loc))]
    return strategy, _budget(decl, strategy)


def _budget(decl: n.StrategyDecl, s: Strategy) -> list[Diagnostic]:
    """A budget every offer exceeds, known without a model when every offer is an amount off: LOY636."""
    if s.budget is None or any(o.amount is None for o in s.offers):
        return []
    cheapest = min(s.money(o.amount or "") for o in s.offers)
    if cheapest <= s.money(s.budget):
        return []
    at = next((x for x in decl.settings if x.key == "budget"), decl)
    return [error(OVER_BUDGET, f"every offer costs more than the budget: the cheapest gives "
                               f"{min(o.amount or '' for o in s.offers)}, the budget is {s.budget}", at.span,
                  "raise the budget or lower the amounts")]


def load_loya_strategy(path: Path, name: str | None = None) -> tuple[Strategy, n.StrategyDecl]:
    """The strategy declared in a .loya file (the one named ``name`` when it holds several): LOY633 with
    the file, line and column of what is wrong."""
    from loyadsl.syntax.parser import parse
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise OffersError(BAD_STRATEGY, f"cannot read the strategy: {exc}", str(path)) from None
    module, diags = parse(text, path.name)
    if module is None or any(d.is_error for d in diags):
        first = next(d for d in diags if d.is_error)
        raise OffersError(first.code, first.message, _where(path, first.span))
    found = [d for d in module.decls if isinstance(d, n.StrategyDecl) and name in (None, d.name)]
    if len(found) != 1:
        names = [d.name for d in module.decls if isinstance(d, n.StrategyDecl)]
        raise OffersError(BAD_STRATEGY, f"{len(found)} strategies{f' named {name!r}' if name else ''} in the file "
                          f"(it declares {names or 'none'}); give one with --name", str(path))
    strategy, problems = check_strategy(found[0])
    if strategy is None or problems:
        raise OffersError(problems[0].code, problems[0].message, _where(path, problems[0].span))
    return strategy, found[0]


def _where(path: Path, span: Span | None) -> str:
    return str(path) if span is None else f"{path}:{span.line}:{span.col}"


def load_any(path: Path, name: str | None = None) -> Strategy:
    """A strategy from a .loya file (the one named ``name`` when it holds several) or from its YAML form
    (any other file name)."""
    if path.suffix != ".loya":
        from .strategy import load_strategy
        return load_strategy(path)
    return load_loya_strategy(path, name)[0]


def placed(exc: OffersError, path: Path, name: str | None = None) -> OffersError:
    """A failure of a .loya strategy against a model (LOY634, LOY635, LOY636) at the offer or the budget it
    is about: ``offers[1] (name): ...`` -> the offer's line and column."""
    if path.suffix != ".loya":
        return exc
    try:
        _, decl = load_loya_strategy(path, name)
    except OffersError:
        return exc
    match = re.match(r"offers\[(\d+)\]", exc.message)
    span: Span | None = None
    if match and int(match[1]) < len(decl.offers):
        span = decl.offers[int(match[1])].span
    elif exc.code == OVER_BUDGET:
        span = next((s.span for s in decl.settings if s.key == "budget"), decl.span)
    return exc if span is None else OffersError(exc.code, exc.message, _where(path, span))


def check_strategy_file(path: Path, text: str) -> tuple[list[Diagnostic], list[str]] | None:
    """`loya check` of a file that holds strategies only, without a programme header (the stdlib's):
    each strategy checked as `loya offers issue` checks it, without a model (the coupon series are the
    programme's, checked when the strategy sits in it). The diagnostics and the strategies' names; None
    for any other file, which is checked as a programme."""
    if path.suffix.lower() in (".yaml", ".yml"):
        return _check_yaml_strategy(path, text)
    from loyadsl.syntax.parser import parse
    module, diags = parse(text, path.name)
    if module is None or any(d.is_error for d in diags) or module.header is not None or not module.decls:
        return None
    if not all(isinstance(d, n.StrategyDecl) for d in module.decls):
        return None
    found = list(diags)
    names: list[str] = []
    for decl in module.decls:
        assert isinstance(decl, n.StrategyDecl)
        if decl.name in names:
            found.append(error("LOY205", f"`{decl.name}` is declared twice", decl.span))
        names.append(decl.name)
        found += check_strategy(decl)[1]
    return found, names


def _check_yaml_strategy(path: Path, text: str) -> tuple[list[Diagnostic], list[str]] | None:
    """The YAML form of a strategy (a mapping with `strategy` and no `programme`)."""
    import yaml

    from loyadsl.syntax.yaml_twin import compose_yaml

    from .strategy import parse_strategy
    root, refused = compose_yaml(text, path.name)  # a hostile file is refused (as a programme) with its code
    if not isinstance(root, yaml.MappingNode) or refused:
        return None
    keys = {k.value for k, _ in root.value if isinstance(k, yaml.ScalarNode)}
    if "strategy" not in keys or "programme" in keys:
        return None
    try:
        data = yaml.SafeLoader(text).construct_document(root)
    except (yaml.YAMLError, ValueError):  # e.g. a number past Python's digit limit: the programme reader says so
        return None
    if not isinstance(data, dict):
        return None
    try:
        strategy = parse_strategy(data, path.name)
    except OffersError as exc:
        return [error(exc.code, exc.message, Span(path.name, 1, 1, 1, 1))], [str(data["strategy"])]
    return [], [strategy.strategy]
