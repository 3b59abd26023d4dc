"""The YAML twin of the .loya syntax: the structure in YAML, expressions, actions and clause values as
strings in the .loya syntax (the shape of CEL policies). Both give the same AST.

Reading uses ``yaml.compose`` with the safe loader: nodes keep their marks, so spans and errors
inside embedded strings point into the YAML file, and nothing is ever constructed. Every scalar is
taken as the text written, so ``version: 2025.1`` is "2025.1" and ``valid: 2025-01-01 .. 2025-12-31``
is a string. Aliases are refused (LOY106): they are how "billion laughs" documents are built.

The document's shape (sections, keys, kinds of values, required keys) is checked first by its model
(``yaml_shape``, ``schema_programme.YamlProgramme``); the reader reports those errors where it meets
them and skips the declarations they are in, reads the others (reporting the errors inside their
embedded strings), and checks what a model does not: names, numbers, weekdays, anti-fraud limits.

The shape is documented in docs/language.md ("The YAML twin"); ``to_yaml`` writes it so that
``parse_yaml(to_yaml(m)) == m`` for every module the parsers produce.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from loyadsl import schema_programme as sp
from loyadsl.diagnostics import Diagnostic, Span, did_you_mean, error
from loyadsl.runtime.limits import MAX_CAMPAIGNS, MAX_SOURCE_CHARS, MAX_YAML_DEPTH
from loyadsl.syntax import nodes as n
from loyadsl.syntax.parser import (
    NAME_PATTERN,
    RESERVED_WORDS,
    WEEKDAYS,
    capped,
    parse_actions,
    parse_assert_body,
    parse_clause,
    parse_expression,
    parse_group_setting,
    parse_segment_item,
    parse_setting,
    parse_template_use,
    too_many_digits,
)
from loyadsl.syntax.printer import (
    clause_keyword,
    clause_value,
    format_action,
    format_arm_ref,
    format_assert_body,
    format_bin,
    format_expr,
    format_template_use,
    profile_type,
    quote,
    state_settings,
)
from loyadsl.syntax.yaml_shape import Path, shape_errors

# The keys each YAML mapping allows are the fields of the YAML programme's models (loyadsl/schema_programme.py,
# docs/schemas/programme.schema.json): one source for the shape check, the schema and the editor's completion.
LIST_KINDS = sp.LIST_KINDS
CLAUSE_KEYS = sp.CLAUSE_KEYS
SECTIONS = {n.ListDecl: "lists", n.GroupDecl: "groups", n.TemplateDecl: "templates", n.CampaignDecl: "campaigns",
            n.AccountDecl: "accounts", n.RedemptionDecl: "redemption", n.TierLadderDecl: "tiers",
            n.CounterDecl: "counters", n.CouponSeriesDecl: "coupons", n.CertificateDecl: "certificates",
            n.ReferralDecl: "referral", n.ExperimentDecl: "experiments",
            n.AssertDecl: "asserts",
            n.ProfileDecl: "profile", n.LifecycleDecl: "lifecycle", n.ScoreDecl: "scores", n.SegmentDecl: "segments",
            n.TriggerDecl: "triggers",
            n.StrategyDecl: "strategies"}
_KIND_OF_SECTION = {"lists": "list", "groups": "group", "templates": "template", "campaigns": "campaign",
                    "accounts": "account", "redemption": "redemption", "tiers": "tiers", "counters": "counter",
                    "coupons": "coupons", "certificates": "certificates", "referral": "referral",
                    "experiments": "experiment", "asserts": "assert",
                    "profile": "profile", "lifecycle": "lifecycle", "scores": "score", "segments": "segment",
                    "triggers": "trigger",
                    "strategies": "strategy"}
# Sections of declarations a programme has at most one of: a mapping, or a list like the others.
SINGLE_SECTIONS = ("redemption", "tiers", "referral", "profile", "lifecycle")
_FLAGS = ("default", "accrue on redeemed", "per unit")
_FLAG_FIELDS = {"default": "default", "accrue on redeemed": "accrue_on_redeemed", "per unit": "per_unit"}
_NULL = "tag:yaml.org,2002:null"
_SURROGATE = re.compile("[\ud800-\udfff]")


# ---------------------------------------------------------------------------------------------- reading


def parse_yaml(text: str, file: str = "<input>") -> tuple[n.Module | None, list[Diagnostic]]:
    """Parse the YAML twin. The module is None when there is any error."""
    root, refused = compose_yaml(text, file)
    if refused:
        return None, refused
    reader = _Reader(text, file, [] if root is None else shape_errors(root, file))
    module = reader.module(root)
    return (module, []) if not reader.diags else (None, capped(reader.diags))


def compose_yaml(text: str, file: str = "<input>") -> tuple[Node | None, list[Diagnostic]]:
    """The document's node tree, read with the limits every YAML input of the toolchain gets (size,
    nesting, aliases, surrogates), or why it is refused."""
    if len(text) > MAX_SOURCE_CHARS:
        return None, [error("LOY105", f"the source has {len(text)} characters; at most {MAX_SOURCE_CHARS} "
                                      "are allowed", Span(file, 1, 1, 1, 1))]
    try:
        return yaml.compose(text, Loader=_Loader), []
    except _Refused as exc:
        return None, [error(exc.code, exc.message, _mark_span(file, exc.mark))]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [error("LOY106", f"not valid YAML: {problem}", _mark_span(file, mark) if mark else None)]


class _Refused(Exception):
    def __init__(self, code: str, message: str, mark: Any) -> None:
        super().__init__(message)
        self.code, self.message, self.mark = code, message, mark


class _Loader(yaml.SafeLoader):
    """The safe loader's composer, refusing aliases and deep nesting before it recurses, and scalars
    (keys and values) holding a surrogate: a YAML escape such as "\\uD800" is not a character, and no
    diagnostic, manifest or bundle could hold it as UTF-8 (LOY103)."""

    _depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            raise _Refused("LOY106", "aliases are not allowed", self.peek_event().start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _Refused("LOY105", f"the document nests deeper than {MAX_YAML_DEPTH} levels",
                               self.peek_event().start_mark)
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        surrogate = _SURROGATE.search(node.value) if isinstance(node, ScalarNode) else None
        if node is not None and surrogate is not None:
            raise _Refused("LOY103", f"U+{ord(surrogate.group()):04X} is a surrogate, not a character",
                           node.start_mark)
        return node


def _unique(node: Node) -> list[tuple[str, ScalarNode, Node]]:
    """A mapping's entries whose keys are words, each key's first (the shape check reports the others)."""
    out: dict[str, tuple[str, ScalarNode, Node]] = {}
    for key, value in node.value:
        if isinstance(key, ScalarNode):
            out.setdefault(key.value, (key.value, key, value))
    return list(out.values())


def _mark_span(file: str, mark: Any, end: Any = None) -> Span:
    end = end or mark
    return Span(file, mark.line + 1, mark.column + 1, end.line + 1, end.column + 1)


@dataclass
class _Pairs:
    """A mapping's entries with their key nodes, in order."""

    node: Node
    items: list[tuple[str, ScalarNode, Node]]

    def get(self, key: str) -> Node | None:
        return next((value for k, _, value in self.items if k == key), None)

    def __getitem__(self, key: str) -> Node:
        """A key the shape requires."""
        return next(value for k, _, value in self.items if k == key)


class _Reader:
    """Reads a document part by part; a part with shape errors (``yaml_shape``) is reported and skipped,
    so the reader meets only mappings, lists and values of the kinds the model allows."""

    def __init__(self, text: str, file: str, shape: list[tuple[Path, Diagnostic]]) -> None:
        self.file = file
        self.lines = text.split("\n")
        self.diags: list[Diagnostic] = []
        self.shape: dict[Path, list[Diagnostic]] = {}  # by the declaration they are in: the path's first two steps
        for path, diag in shape:
            self.shape.setdefault(path[:2], []).append(diag)

    # -------------------------------------------------------------------------- structure helpers

    def refused(self, path: Path, exact: bool = False) -> bool:
        """Report the shape errors at ``path`` (of at most two steps), and under it unless ``exact``; True if
        there are any (the reader skips that part)."""
        units = [path] if exact or len(path) == 2 else [p for p in self.shape if p[:len(path)] == path]
        found = [diag for unit in units for diag in self.shape.pop(unit, [])]
        self.diags += found
        return bool(found)

    def span(self, node: Node) -> Span:
        return _mark_span(self.file, node.start_mark, node.end_mark)

    def fail(self, node: Node, message: str, hint: str | None = None) -> None:
        self.diags.append(error("LOY106", message, self.span(node), hint))

    def mapping(self, node: Node) -> _Pairs:
        """A mapping's entries (its shape is checked: keys are words, each once, of those allowed)."""
        return _Pairs(node, [(key.value, key, value) for key, value in node.value])

    def pairs(self, node: Node) -> list[tuple[str, ScalarNode, Node]]:
        """A mapping, or a list of one-key mappings where keys repeat (``rounding``, ``params``, ``clauses``)."""
        if isinstance(node, SequenceNode):
            return [(item.value[0][0].value, *item.value[0]) for item in node.value]
        return self.mapping(node).items

    def text(self, node: Node | None) -> str | None:
        """A scalar's text as written; a YAML null is None (the shape check refuses it where a value is required)."""
        if node is None or not isinstance(node, ScalarNode) or (node.tag == _NULL and node.style is None):
            return None
        return str(node.value)

    def name(self, node: Node | None, what: str) -> str | None:
        value = self.text(node)
        if value is None or node is None:
            return None
        if not NAME_PATTERN.match(value):
            self.fail(node, f"`{value}` is not a valid name for {what}",
                      "a name is a letter or `_`, then letters, digits or `_`")
            return None
        if value in RESERVED_WORDS:
            self.diags.append(error("LOY104", f"`{value}` is a reserved word and cannot name {what}",
                                    self.span(node), f"rename it, e.g. `{value}_`"))
        return value

    def integer(self, node: Node | None, what: str) -> int | None:
        value = self.text(node)
        if value is None or node is None:
            return None
        if not (value.isascii() and value.isdigit()):  # `²`.isdigit() is true, and int() refuses it
            self.fail(node, f"{what} must be a whole number, not `{value}`")
            return None
        problem = too_many_digits(value)  # before int(), which refuses 4,300 digits with an uncoded error
        if problem is not None:
            self.diags.append(error("LOY112", problem, self.span(node)))
            return None
        return int(value)

    def where(self, node: Node) -> tuple[int, int]:
        """Line and column where a scalar's text starts, for embedded strings."""
        line, col, style = node.start_mark.line + 1, node.start_mark.column + 1, getattr(node, "style", None)
        if style in ("'", '"'):
            return line, col + 1
        if style in ("|", ">"):
            for index in range(node.start_mark.line + 1, min(len(self.lines), node.end_mark.line + 1)):
                text = self.lines[index]
                if text.strip():
                    return node.start_mark.line + 2, len(text) - len(text.lstrip(" ")) + 1
            return line + 1, 1
        return line, col

    def embedded(self, diags: list[Diagnostic]) -> None:
        self.diags.extend(diags)

    # -------------------------------------------------------------------------- module

    def module(self, root: Node | None) -> n.Module:
        if root is None:
            return n.Module(None, (), (), span=Span(self.file, 1, 1, 1, 1))
        header = None
        imports: list[n.Import] = []
        decls: list[n.Decl] = []
        if self.refused((), exact=True):  # not a mapping
            return n.Module(None, (), (), span=self.span(root))
        for key, _, value in _unique(root):
            if key in ("programme", "imports") or (key in SINGLE_SECTIONS and isinstance(value, MappingNode)):
                if self.refused((key,)):
                    continue
                if key == "programme":
                    header = self.header(value)
                elif key == "imports":
                    imports += [n.Import(str(item.value), span=self.span(item)) for item in value.value]
                else:
                    decls += self.decl(_KIND_OF_SECTION[key], value)
            elif not self.refused((key,), exact=True):  # a list of declarations
                for index, item in enumerate(value.value):
                    if self.refused((key, index)):
                        continue
                    kind, _, body = self.pairs(item)[0] if key == "declarations" else (_KIND_OF_SECTION[key], None, item)
                    decls += self.decl(kind, body)
        self.refused(())  # (keys that are collections)
        campaigns = sum(isinstance(d, n.CampaignDecl) for d in decls)
        if campaigns > MAX_CAMPAIGNS:
            self.diags.append(error("LOY105", f"{campaigns} campaigns in one file; at most {MAX_CAMPAIGNS} are "
                                              "allowed", self.span(root)))
        return n.Module(header, tuple(imports), tuple(decls), span=self.span(root))

    def decl(self, kind: str, body: Node) -> list[n.Decl]:
        make = {"list": self.list_decl, "group": self.group, "template": self.template, "campaign": self.campaign,
                "account": self.account, "redemption": self.redemption, "tiers": self.ladder,
                "counter": self.counter, "coupons": self.coupons, "certificates": self.certificates,
                "referral": self.referral, "experiment": self.experiment,
                "assert": self.assert_,
                "profile": self.profile, "lifecycle": self.lifecycle, "score": self.score, "segment": self.segment,
                "trigger": self.trigger,
                "strategy": self.strategy}
        decl = make[kind](body)
        return [] if decl is None else [decl]

    def header(self, node: Node) -> n.Header | None:
        pairs = self.mapping(node)
        name = self.text(pairs.get("name"))
        currency_node, minor_node = pairs.get("currency"), pairs.get("minor")
        if minor_node is not None and currency_node is None:
            self.fail(minor_node, "`minor` goes with `currency`", "add `currency: RUB`")
        points_minor, point_value = None, None
        points = pairs.get("points")
        if points is not None:
            found = self.mapping(points)
            points_minor = self.integer(found.get("minor"), "the points minor digits")
            point_value = self.money(found.get("value"), "the value of a point")
        rounding = []
        rounding_node, allocation_node = pairs.get("rounding"), pairs.get("allocation")
        if rounding_node is not None:
            for target, key, value in self.pairs(rounding_node):
                mode = self.name(value, "a rounding mode")
                if self.name(key, "a rounding target") is not None and mode is not None:
                    rounding.append(n.Rounding(target, mode, span=Span(self.file, key.start_mark.line + 1,
                                                                       key.start_mark.column + 1,
                                                                       value.end_mark.line + 1,
                                                                       value.end_mark.column + 1)))
        if name is None:
            return None
        return n.Header(
            name,
            version=self.text(pairs.get("version")),
            currency=None if currency_node is None else self.name(currency_node, "a currency"),
            minor=self.integer(minor_node, "`minor`"),
            points_minor=points_minor,
            point_value=point_value,
            timezone=self.text(pairs.get("timezone")),
            rounding=tuple(rounding),
            allocation=None if allocation_node is None else self.name(allocation_node, "an allocation mode"),
            tax=self.tax_setting(pairs.get("tax")),
            totals=self.totals(pairs.get("totals")),
            fraud=self.fraud(pairs.get("fraud")),
            people=self.people(pairs.get("staff"), pairs.get("partners")),
            span=self.span(node),
        )

    def tax_setting(self, node: Node | None) -> n.TaxSetting | None:
        """``tax: {prices: excluded, rate: 20%, basis: gross}`` (docs/commerce.md)."""
        if node is None:
            return None
        found = self.mapping(node)
        prices = self.name(found.get("prices"), "the tax mode")
        rate = None
        rate_node = found.get("rate")
        if isinstance(rate_node, ScalarNode):
            expr, diags = parse_expression(self.text(rate_node) or "", self.file, *self.where(rate_node))
            self.embedded(diags)
            if not isinstance(expr, n.PercentLit):
                self.fail(rate_node, "the tax rate must be a percentage, like `20%`")
                return None
            rate = expr
        basis = None if found.get("basis") is None else self.name(found.get("basis"), "the tax basis")
        return None if prices is None else n.TaxSetting(prices, rate, basis, span=self.span(node))

    def totals(self, node: Node | None) -> n.TotalsSetting | None:
        """``totals: [goods, delivery]``: the line kinds receipt.total counts."""
        if node is None:
            return None
        return n.TotalsSetting(tuple(kind for item in node.value
                                     if (kind := self.name(item, "a line kind")) is not None), span=self.span(node))

    def people(self, staff: Node | None, partners: Node | None) -> tuple[n.StaffRule | n.PartnerRule, ...]:
        """``staff: {segment: employees}`` and ``partners: {fuelco: {rate: 50%, price: 0.80 RUB}}``."""
        out: list[n.StaffRule | n.PartnerRule] = []
        for by, _, value in [] if staff is None else self.pairs(staff):
            text = self.text(value)
            if text is not None:
                out.append(n.StaffRule(by, text, span=self.span(value)))
        for name, _, value in [] if partners is None else self.pairs(partners):
            found = self.mapping(value)
            rate = self.expression(found.get("rate"))
            price = self.expression(found.get("price"))
            if rate is not None and price is not None:
                out.append(n.PartnerRule(name, rate, price, span=self.span(value)))
        return tuple(out)

    def fraud(self, node: Node | None) -> tuple[n.FraudSetting, ...]:
        """``fraud: {max points per day: 20000, max receipts per day: 10, velocity: 3 per 10 minutes}``."""
        out: list[n.FraudSetting] = []
        for key_text, key, value in [] if node is None else self.pairs(node):
            words = key_text.split()
            if key_text == "velocity":
                text = self.text(value)
                if text is None:
                    continue
                count, _, window = text.partition(" per ")
                line, col = self.where(value)
                first, d1 = parse_expression(count, self.file, line, col)
                second, d2 = parse_expression(window, self.file, line, col + len(count) + 5)
                self.embedded(d1 + d2)
                if first is not None and second is not None:
                    out.append(n.FraudSetting("velocity", first, window=second, span=self.span(value)))
            elif len(words) == 4 and words[:1] == ["max"] and words[1] in ("points", "receipts") and words[2] == "per":
                expr = self.expression(value)
                if isinstance(expr, n.NumberLit) and words[1] == "points":
                    expr = n.PointsLit(expr.text, span=expr.span)
                if expr is not None:
                    out.append(n.FraudSetting(words[1], expr, words[3], span=self.span(value)))
            else:
                self.fail(key, f"unknown anti-fraud limit `{key_text}`",
                          "write `max points per PERIOD`, `max receipts per PERIOD` or `velocity`")
        return tuple(out)

    def money(self, node: Node | None, what: str) -> n.MoneyLit | None:
        value = self.text(node)
        if value is None or not isinstance(node, ScalarNode):
            return None
        expr, diags = parse_expression(value, self.file, *self.where(node))
        self.embedded(diags)
        if expr is not None and not isinstance(expr, n.MoneyLit):
            self.fail(node, f"{what} must be money, like `1.00 RUB`")
            return None
        return expr

    # -------------------------------------------------------------------------- declarations

    def list_decl(self, node: Node) -> n.ListDecl | None:
        pairs = self.mapping(node)
        kind = next(k for k, _, _ in pairs.items if k in LIST_KINDS)  # (one, and `items` or `from`: the shape)
        name = self.name(pairs.get(kind), "a list")
        items_node, path_node, column_node = pairs.get("items"), pairs.get("from"), pairs.get("column")
        if name is None:
            return None
        if items_node is not None:
            return n.ListDecl(name, kind, items=tuple(str(item.value) for item in items_node.value),
                              span=self.span(node))
        path, column = self.text(path_node), self.text(column_node)
        if path is None or column is None or path_node is None or column_node is None:
            return None
        source = n.CsvSource(path, column, span=Span(self.file, path_node.start_mark.line + 1,
                                                     path_node.start_mark.column + 1, column_node.end_mark.line + 1,
                                                     column_node.end_mark.column + 1))
        return n.ListDecl(name, kind, source=source, span=self.span(node))

    def group(self, node: Node) -> n.GroupDecl | None:
        pairs = self.mapping(node)
        name = self.name(pairs.get("name"), "a group")
        fields: dict[str, Any] = {}
        for key in ("priority", "stacking", "basis", "arm", "order"):
            value_node = pairs.get(key)
            value = self.text(value_node)
            if value is None or not isinstance(value_node, ScalarNode):
                continue
            setting, diags = parse_group_setting(key, value, self.file, *self.where(value_node))
            self.embedded(diags)
            if setting is not None:
                field, parsed = setting
                if field == "stacking":
                    fields["stacking"], fields["stacking_limit"] = parsed
                else:
                    fields[field] = parsed
        if name is None:
            return None
        return n.GroupDecl(name, title=self.text(pairs.get("title")), **fields, span=self.span(node))

    def template(self, node: Node) -> n.TemplateDecl | None:
        pairs = self.mapping(node)
        name = self.name(pairs.get("name"), "a template")
        params = []
        params_node = pairs.get("params")
        if params_node is not None and not (isinstance(params_node, ScalarNode) and params_node.tag == _NULL):
            for param_name, key, value in self.pairs(params_node):
                type_name = self.name(value, "a parameter type")
                if self.name(key, "a template parameter") is not None and type_name is not None:
                    params.append(n.Param(param_name, type_name, span=Span(
                        self.file, key.start_mark.line + 1, key.start_mark.column + 1, value.end_mark.line + 1,
                        value.end_mark.column + 1)))
        clauses = self.clauses(pairs)
        if name is None:
            return None
        return n.TemplateDecl(name, tuple(params), clauses, self.text(pairs.get("title")),
                              span=self.span(node))

    def campaign(self, node: Node) -> n.CampaignDecl | None:
        pairs = self.mapping(node)
        name = self.name(pairs.get("name"), "a campaign")
        uses = None
        uses_node = pairs.get("uses")
        uses_text = self.text(uses_node)
        if uses_text is not None and isinstance(uses_node, ScalarNode):
            uses, diags = parse_template_use(uses_text, self.file, *self.where(uses_node))
            self.embedded(diags)
        clauses = self.clauses(pairs)
        if name is None:
            return None
        return n.CampaignDecl(name, self.text(pairs.get("title")), clauses, uses, span=self.span(node))

    def trigger(self, node: Node) -> n.TriggerDecl | None:
        from loyadsl.syntax.trigger_yaml import trigger_from_yaml  # (it builds on this module's reader)
        return trigger_from_yaml(self, node)

    def strategy(self, node: Node) -> n.StrategyDecl | None:
        from loyadsl.syntax.strategy_yaml import strategy_from_yaml  # docs/offers.md
        return strategy_from_yaml(self, node)

    def experiment(self, node: Node) -> n.ExperimentDecl | None:
        """``{name, title, salt, arms: {treatment: 45%, holdout: 10%, ...}, anonymous}``: the arms in
        declared order; the key ``holdout`` is the holdout."""
        pairs = self.mapping(node)
        name = self.name(pairs.get("name"), "an experiment")
        fields: dict[str, Any] = {}
        for word in ("salt", "anonymous"):
            value_node = pairs.get(word)
            given = self.text(value_node)
            if given is not None and isinstance(value_node, ScalarNode):
                text = quote(given) if word == "salt" else given
                setting, diags = parse_setting("experiment", word, text, self.file, *self.where(value_node))
                self.embedded(diags)
                if setting is not None:
                    fields[word] = setting[1]
        arms: list[n.ExperimentArm] = []
        arms_node = pairs.get("arms")
        for arm_name, key, value in self.pairs(arms_node) if arms_node is not None else []:
            weight = self.text(value)
            if weight is None or not isinstance(value, ScalarNode) or self.name(key, "an arm") is None:
                continue
            text = f"{weight}" if arm_name == "holdout" else f"{arm_name} {weight}"
            setting, diags = parse_setting("experiment", "holdout" if arm_name == "holdout" else "arm", text,
                                           self.file, *self.where(value))
            self.embedded(diags)
            arm: Any = None if setting is None else setting[1]  # an ExperimentArm (parse_setting's fields are a dict)
            if isinstance(arm, n.ExperimentArm):
                arms.append(replace(arm, span=Span(self.file, key.start_mark.line + 1, key.start_mark.column + 1,
                                                   value.end_mark.line + 1, value.end_mark.column + 1)))
        if name is None:
            return None
        return n.ExperimentDecl(name, self.text(pairs.get("title")), arms=tuple(arms), **fields,
                                span=self.span(node))

    def assert_(self, node: Node) -> n.AssertDecl | None:
        """``{name, title, that: "discount <= 40%"}`` (docs/collisions.md, "Assertions")."""
        pairs = self.mapping(node)
        name = self.name(pairs.get("name"), "an assertion")
        that_node = pairs.get("that")
        that = self.text(that_node)
        if name is None or that is None or not isinstance(that_node, ScalarNode):
            return None
        body, diags = parse_assert_body(that, self.file, *self.where(that_node))
        self.embedded(diags)
        if body is None:
            return None
        return n.AssertDecl(name, self.text(pairs.get("title")), body[0], body[1], span=self.span(node))

    # -------------------------------------------------------------------------- state declarations

    def settings(self, block: str, pairs: _Pairs, skip: tuple[str, ...] = ("name", "title")) -> dict[str, Any]:
        """The declaration fields given by a state declaration's setting keys, parsed as in .loya."""
        fields: dict[str, Any] = {}
        for key, _, value in pairs.items:
            if key in skip:
                continue
            if key in _FLAGS:  # `true` or `false`, and `use` is `multi` or `single` (the shape)
                fields[_FLAG_FIELDS[key]] = self.text(value) == "true"
            elif key == "use":
                fields["multi_use"] = self.text(value) == "multi"
            elif key == "accounts" and isinstance(value, SequenceNode):
                fields["accounts"] = tuple(self.reference(item, "an account") for item in value.value)
            elif key == "sold skus" and isinstance(value, SequenceNode):
                items = []
                for item in value.value:
                    text = self.text(item)
                    if text is not None:
                        items.append(n.StringLit(text, span=self.span(item)))
                fields["skus"] = n.SetLit(tuple(items), span=self.span(value))
            else:
                text = self.text(value)
                if text is None or not isinstance(value, ScalarNode):
                    continue
                setting, diags = parse_setting(block, key, text, self.file, *self.where(value))
                self.embedded(diags)
                if setting is not None:
                    fields.update(setting[1])
        return fields

    def reference(self, node: Node, what: str) -> str:
        """A name that refers to a declaration (as after `accounts` in .loya: no reserved-word check)."""
        value = self.text(node)
        if value is not None and not NAME_PATTERN.match(value):
            self.fail(node, f"`{value}` is not a valid name for {what}",
                      "a name is a letter or `_`, then letters, digits or `_`")
        return value or ""

    def state_decl(self, node: Node, block: str, what: str) -> tuple[str, str | None, dict[str, Any]] | None:
        """A named state declaration's name, title and settings; None after an error in its name."""
        pairs = self.mapping(node)
        name = self.name(pairs.get("name"), what)
        title = self.text(pairs.get("title"))
        fields = self.settings(block, pairs)
        return None if name is None else (name, title, fields)

    def account(self, node: Node) -> n.AccountDecl | None:
        found = self.state_decl(node, "account", "an account")
        if found is None:
            return None
        name, title, fields = found
        return n.AccountDecl(name, title, **fields, span=self.span(node))

    def redemption(self, node: Node) -> n.RedemptionDecl | None:
        pairs = self.mapping(node)
        return n.RedemptionDecl("redemption", **self.settings("redemption", pairs), span=self.span(node))

    def referral(self, node: Node) -> n.ReferralDecl | None:
        pairs = self.mapping(node)
        return n.ReferralDecl("referral", **self.settings("referral", pairs), span=self.span(node))

    def coupons(self, node: Node) -> n.CouponSeriesDecl | None:
        found = self.state_decl(node, "coupons", "a coupon series")
        if found is None:
            return None
        name, title, fields = found
        return n.CouponSeriesDecl(name, title, **fields, span=self.span(node))

    def certificates(self, node: Node) -> n.CertificateDecl | None:
        found = self.state_decl(node, "certificates", "a certificate series")
        if found is None:
            return None
        name, title, fields = found
        return n.CertificateDecl(name, title, **fields, span=self.span(node))

    def counter(self, node: Node) -> n.CounterDecl | None:
        """``{counter: coffee, reset: quarter}`` or ``{chips: stickers, earn: ..., valid: ...}``."""
        pairs = self.mapping(node)
        kind = "counter" if pairs.get("counter") is not None else "chips"  # (one of them: the shape)
        name = self.name(pairs.get(kind), f"a {kind}" if kind == "counter" else "chips")
        fields = self.settings(kind, pairs, skip=("counter", "chips", "title"))
        if name is None:
            return None
        return n.CounterDecl(name, kind, self.text(pairs.get("title")), **fields, span=self.span(node))

    def ladder(self, node: Node) -> n.TierLadderDecl | None:
        """``{name: status, qualify: spend over quarter, levels: [{level: base, threshold: 0 RUB, ...}]}``."""
        pairs = self.mapping(node)
        name = self.name(pairs.get("name"), "a tier ladder")
        qualify_node = pairs.get("qualify")
        qualify = self.text(qualify_node)
        fields: dict[str, Any] = {}
        if qualify is not None and isinstance(qualify_node, ScalarNode):
            setting, diags = parse_setting("tiers", "qualify", qualify, self.file, *self.where(qualify_node))
            self.embedded(diags)
            fields = setting[1] if setting is not None else {}
        levels_node = pairs.get("levels")
        levels = [] if levels_node is None else [self.level(item) for item in levels_node.value]
        if name is None or "measure" not in fields:
            return None
        return n.TierLadderDecl(name, self.text(pairs.get("title")), fields["measure"], fields["period"],
                                tuple(level for level in levels if level is not None), span=self.span(node))

    def level(self, node: Node) -> n.TierLevel | None:
        pairs = self.mapping(node)
        name = self.name(pairs.get("level"), "a tier level")
        threshold = self.expression(pairs.get("threshold"))
        benefits = []
        benefits_node = pairs.get("benefits")
        if benefits_node is not None and not (isinstance(benefits_node, ScalarNode) and benefits_node.tag == _NULL):
            for benefit, key, value in self.pairs(benefits_node):
                expr = self.expression(value)
                if self.name(key, "a benefit") is not None and expr is not None:
                    benefits.append(n.Arg(benefit, expr, span=Span(self.file, key.start_mark.line + 1,
                                                                   key.start_mark.column + 1, value.end_mark.line + 1,
                                                                   value.end_mark.column + 1)))
        if name is None or threshold is None:
            return None
        return n.TierLevel(name, threshold, tuple(benefits), span=self.span(node))

    # -------------------------------------------------------------------------- profile and segments (docs/segments.md)

    def _item(self, block: str, key: str, value: Node, kind: type[n.Node]) -> Any:
        text = self.text(value)
        if text is None or not isinstance(value, ScalarNode):
            return None
        item, diags = parse_segment_item(block, text, self.file, *self.where(value), prefix=f"{key} ")
        self.embedded(diags)
        return item if isinstance(item, kind) else None

    def profile(self, node: Node) -> n.ProfileDecl | None:
        """``{birth_date: date, gender: 'one_of ["f", "m"]'}``."""
        pairs = self.mapping(node)
        fields = [self._item("profile", key, value, n.ProfileField) for key, _, value in pairs.items]
        return n.ProfileDecl("profile", tuple(f for f in fields if f is not None), span=self.span(node))

    def lifecycle(self, node: Node) -> n.LifecycleDecl | None:
        """``{new: 30 days, active: 90 days, sleeping: 365 days}``."""
        pairs = self.mapping(node)
        stages = [self._item("lifecycle", key, value, n.LifecycleStage) for key, _, value in pairs.items]
        return n.LifecycleDecl("lifecycle", tuple(s for s in stages if s is not None), span=self.span(node))

    def score(self, node: Node) -> n.ScoreDecl | None:
        """``{name: r, title: R, of: recency(), bins: ["5: 0 .. 30", "1: 366 .."]}``."""
        pairs = self.mapping(node)
        name = self.name(pairs.get("name"), "a score")
        of = self.expression(pairs.get("of"))
        bins_node = pairs.get("bins")
        bins = [self._item("score", "bin", item, n.ScoreBin) for item in
                (bins_node.value if bins_node is not None else [])]
        if name is None or of is None:
            return None
        return n.ScoreDecl(name, self.text(pairs.get("title")), of, tuple(b for b in bins if b is not None),
                           span=self.span(node))

    def segment(self, node: Node) -> n.SegmentDecl | None:
        """``{name: sleeping, title: Sleeping, when: lifecycle.sleeping}``."""
        pairs = self.mapping(node)
        name = self.name(pairs.get("name"), "a segment")
        when = self.expression(pairs.get("when"))
        if name is None or when is None:
            return None
        return n.SegmentDecl(name, self.text(pairs.get("title")), when, span=self.span(node))

    def expression(self, node: Node | None) -> n.Expr | None:
        text = self.text(node)
        if text is None or not isinstance(node, ScalarNode):
            return None
        expr, diags = parse_expression(text, self.file, *self.where(node))
        self.embedded(diags)
        return expr

    # -------------------------------------------------------------------------- clauses

    def clauses(self, pairs: _Pairs) -> tuple[n.Clause, ...]:
        """Clause keys in order, or a `clauses` list of one-key mappings (when clause kinds repeat)."""
        listed = pairs.get("clauses")  # (the shape: clause keys, or `clauses`, not both)
        entries = [(k, v) for k, _, v in (self.pairs(listed) if listed is not None else pairs.items) if k in CLAUSE_KEYS]
        return tuple(clause for keyword, value in entries for clause in self.clause(keyword, value))

    def clause(self, keyword: str, node: Node) -> list[n.Clause]:
        if keyword == "then":
            items = node.value if isinstance(node, SequenceNode) else [node]
            return [c for c in (self.then(item) for item in items) if c is not None]
        if isinstance(node, SequenceNode) and keyword in ("stores", "channels", "weekdays"):
            return self.listed_clause(keyword, node)
        value = self.text(node)
        if value is None or not isinstance(node, ScalarNode):
            return []
        clause, diags = parse_clause(keyword, value, self.file, *self.where(node))
        self.embedded(diags)
        return [] if clause is None else [clause]

    def then(self, node: Node) -> n.ThenClause | None:
        """One `then` clause: an action string, or a list of them."""
        strings = node.value if isinstance(node, SequenceNode) else [node]
        actions: list[n.Action] = []
        for item in strings:
            text = self.text(item)
            if text is None or not isinstance(item, ScalarNode):
                continue
            parsed, diags = parse_actions(text, self.file, *self.where(item))
            self.embedded(diags)
            actions += parsed or ()
        return n.ThenClause(tuple(actions), span=self.span(node))

    def listed_clause(self, keyword: str, node: SequenceNode) -> list[n.Clause]:
        """``stores: [S001, S002]`` or ``weekdays: [mon, wed]`` written as a YAML list."""
        items = []
        for item in node.value:
            value = self.text(item)
            if value is not None:
                items.append(n.StringLit(value, span=self.span(item)))
                if keyword == "weekdays" and value not in WEEKDAYS:
                    self.diags.append(error("LOY103", f"`{value}` is not a weekday", self.span(item),
                                            did_you_mean(value, WEEKDAYS) or f"use {' '.join(WEEKDAYS)}"))
        if keyword == "weekdays":
            return [n.WeekdaysClause(tuple(i.value for i in items), span=self.span(node))]
        return [n.SetFilterClause(keyword, n.SetLit(tuple(items), span=self.span(node)), span=self.span(node))]


# ---------------------------------------------------------------------------------------------- writing


def to_yaml(module: n.Module) -> str:
    """The YAML twin of a module; strings that YAML would read as something else are quoted."""
    doc: dict[str, Any] = {}
    if module.header is not None:
        doc["programme"] = _header_yaml(module.header)
    if module.imports:
        doc["imports"] = _FlowList(i.path for i in module.imports)
    kinds = [SECTIONS[type(d)] for d in module.decls]
    runs = [k for i, k in enumerate(kinds) if i == 0 or kinds[i - 1] != k]
    if len(runs) == len(set(runs)):  # each kind together: one section per kind, in the module's order
        for decl in module.decls:
            doc.setdefault(SECTIONS[type(decl)], []).append(_decl_yaml(decl))
        for section in SINGLE_SECTIONS:
            if len(doc.get(section, ())) == 1:
                doc[section] = doc[section][0]
    else:  # kinds interleave: keep the order with one list of one-key entries
        doc["declarations"] = [{_KIND_OF_SECTION[SECTIONS[type(d)]]: _decl_yaml(d)} for d in module.decls]
    if not doc:
        return "{}\n"
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False,
                     width=1_000_000)


class _Flow(dict):
    """A mapping written on one line: ``{name: base, priority: 100}``."""


class _FlowList(list):
    """A list written on one line: ``[A, B]``."""


class _Block(str):
    """A multi-line string written as a literal block (``|``)."""

    __slots__ = ()


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # lists inside mappings are indented


_Dumper.add_representer(_Flow, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data.items(),
                                                                   flow_style=True))
_Dumper.add_representer(_FlowList, lambda d, data: d.represent_sequence("tag:yaml.org,2002:seq", data,
                                                                        flow_style=True))
def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    """YAML breaks lines at NEL, LS and PS too; PyYAML writes them raw in single quotes, where a reader
    folds them, so strings holding them are double-quoted (which escapes them as \\N, \\L, \\P)."""
    style = '"' if any(ch in data for ch in "\x85\u2028\u2029") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_Block, lambda d, data: d.represent_scalar("tag:yaml.org,2002:str", str(data), style="|"))


def _header_yaml(h: n.Header) -> dict[str, Any]:
    """The programme's header in the twin's key order; a setting not written is left out."""
    points = _given(_Flow(minor=h.points_minor, value=_expr_text(h.point_value)))
    tax = None if h.tax is None else _given(_Flow(prices=h.tax.prices, rate=_expr_text(h.tax.rate), basis=h.tax.basis))
    staff = [(p.by, p.value) for p in h.people if isinstance(p, n.StaffRule)]
    partners = [(p.name, _Flow(rate=format_expr(p.rate), price=format_expr(p.price)))
                for p in h.people if isinstance(p, n.PartnerRule)]
    return _given({
        "name": h.name, "version": h.version, "currency": h.currency, "minor": h.minor, "points": points or None,
        "timezone": h.timezone, "rounding": _pairs_yaml([(r.target, r.mode) for r in h.rounding]) if h.rounding else None,
        "allocation": h.allocation, "tax": tax, "totals": None if h.totals is None else _FlowList(h.totals.kinds),
        "fraud": _pairs_yaml([_fraud_yaml(f) for f in h.fraud]) if h.fraud else None,
        "staff": _pairs_yaml(staff) if staff else None, "partners": _pairs_yaml(partners) if partners else None,
    })


def _given(mapping: dict[str, Any]) -> Any:
    """``mapping`` (a ``_Flow`` stays one) without its None values."""
    return type(mapping)((key, value) for key, value in mapping.items() if value is not None)


def _expr_text(value: n.Expr | None) -> str | None:
    return None if value is None else format_expr(value)

def _fraud_yaml(f: n.FraudSetting) -> tuple[str, Any]:
    if f.kind == "velocity":
        assert f.window is not None
        return "velocity", f"{format_expr(f.value)} per {format_expr(f.window)}"
    value = f.value.amount if isinstance(f.value, n.PointsLit) else format_expr(f.value)
    return f"max {f.kind} per {f.per}", _scalar(value)


def _pairs_yaml(pairs: list[tuple[str, Any]]) -> Any:
    """A one-line mapping, or a list of one-key mappings when a key repeats."""
    keys = [k for k, _ in pairs]
    if len(set(keys)) == len(keys):
        return _Flow(pairs)
    return [_Flow([pair]) for pair in pairs]


def _decl_yaml(decl: n.Decl) -> Any:
    """A declaration's YAML value: this module's ``_yaml_{type name}`` makes it (dispatch by node name)."""
    make = globals().get("_yaml_" + type(decl).__name__)
    if make is None:
        raise TypeError(f"not a declaration: {decl!r}")
    return make(decl)


def _yaml_ListDecl(decl: n.ListDecl) -> Any:
    listed = _Flow({decl.kind: decl.name})
    if decl.source is not None:
        listed["from"], listed["column"] = decl.source.path, decl.source.column
    else:
        listed["items"] = _FlowList(decl.items or ())
    return listed


def _yaml_GroupDecl(decl: n.GroupDecl) -> Any:
    limit = "" if decl.stacking_limit is None else f" {decl.stacking_limit}"
    return _given(_Flow(name=decl.name, title=decl.title, priority=decl.priority,
                        stacking=None if decl.stacking is None else decl.stacking + limit, basis=decl.basis,
                        arm=None if decl.arm is None else format_arm_ref(decl.arm), order=decl.order))


def _yaml_AssertDecl(decl: n.AssertDecl) -> Any:
    asserted = {"name": decl.name} | ({} if decl.title is None else {"title": decl.title})
    return asserted | {"that": format_assert_body(decl)}


def _yaml_TriggerDecl(decl: n.TriggerDecl) -> Any:
    from loyadsl.syntax.trigger_yaml import trigger_to_yaml
    return trigger_to_yaml(decl)


def _yaml_StrategyDecl(decl: n.StrategyDecl) -> Any:
    from loyadsl.syntax.strategy_yaml import strategy_to_yaml
    return strategy_to_yaml(decl)


def _yaml_TemplateDecl(decl: n.TemplateDecl) -> Any:
    out: dict[str, Any] = {"name": decl.name} | ({} if decl.title is None else {"title": decl.title})
    if decl.params:
        out["params"] = _pairs_yaml([(p.name, p.type_name) for p in decl.params])
    return out | _clauses_yaml(decl.clauses)


def _yaml_CampaignDecl(decl: n.CampaignDecl) -> Any:
    out: dict[str, Any] = {"name": decl.name} | ({} if decl.title is None else {"title": decl.title})
    if decl.uses is not None:
        out["uses"] = format_template_use(decl.uses)
    return out | _clauses_yaml(decl.clauses)

def _yaml_ExperimentDecl(decl: n.ExperimentDecl) -> dict[str, Any]:
    out: dict[str, Any] = {"name": decl.name}
    if decl.title is not None:
        out["title"] = decl.title
    if decl.salt is not None:
        out["salt"] = decl.salt
    out["arms"] = _pairs_yaml([(arm.name, f"{arm.weight.value}%") for arm in decl.arms])  # a list if names repeat
    if decl.anonymous is not None:
        out["anonymous"] = decl.anonymous
    return out


def _state_yaml(decl: n.Decl) -> dict[str, Any]:
    """A state declaration: `name`, `title`, then its settings as keys, values in the .loya syntax."""
    out: dict[str, Any] = _Flow() if isinstance(decl, n.CounterDecl) else {}
    if isinstance(decl, n.CounterDecl):
        out[decl.kind] = decl.name
    elif not isinstance(decl, n.RedemptionDecl | n.ReferralDecl):
        out["name"] = decl.name
    title = getattr(decl, "title", None)
    if title is not None:
        out["title"] = title
    for key, text in state_settings(decl):
        if key in _FLAGS:
            out[key] = True
        elif key in ("multi use", "single use"):
            out["use"] = key.split()[0]
        elif key == "accounts" and isinstance(decl, n.RedemptionDecl):
            out[key] = _FlowList(decl.accounts)
        elif key == "sold skus" and isinstance(decl, n.CertificateDecl) and _plain_set(decl.skus):
            assert isinstance(decl.skus, n.SetLit)
            out[key] = _FlowList(item.value for item in decl.skus.items if isinstance(item, n.StringLit))
        else:
            out[key] = _scalar(text)
    if isinstance(decl, n.TierLadderDecl):
        out["levels"] = [_level_yaml(level) for level in decl.levels]
    return out


_yaml_TierLadderDecl = _yaml_RedemptionDecl = _yaml_ReferralDecl = _yaml_AccountDecl = _state_yaml
_yaml_CounterDecl = _yaml_CouponSeriesDecl = _yaml_CertificateDecl = _state_yaml


def _level_yaml(level: n.TierLevel) -> dict[str, Any]:
    out = _Flow({"level": level.name, "threshold": _scalar(format_expr(level.threshold))})
    if level.benefits:
        out["benefits"] = _pairs_yaml([(b.name, _scalar(format_expr(b.value))) for b in level.benefits])
    return out


def _plain_set(e: n.Expr | None) -> bool:
    return isinstance(e, n.SetLit) and all(isinstance(item, n.StringLit) for item in e.items)


def _scalar(text: str) -> str | int:
    """A whole number as a YAML number (`uses: 1`), so that it is not written quoted; anything else as is."""
    return int(text) if text.isascii() and text.isdigit() and str(int(text)) == text else text


def _clauses_yaml(clauses: tuple[n.Clause, ...]) -> dict[str, Any]:
    """Clause keys in order, consecutive `then` clauses sharing one key; a `clauses` list otherwise."""
    runs: list[tuple[str, list[n.Clause]]] = []
    for clause in clauses:
        key = clause_keyword(clause)
        if runs and key == "then" and runs[-1][0] == "then":
            runs[-1][1].append(clause)
        else:
            runs.append((key, [clause]))
    if len({key for key, _ in runs}) == len(runs):
        return {key: _clause_value_yaml(key, group) for key, group in runs}
    return {"clauses": [{key: _clause_value_yaml(key, group)} for key, group in runs]}


def _clause_value_yaml(key: str, clauses: list[n.Clause]) -> Any:
    if key == "then":
        return [_then_item(c) for c in clauses if isinstance(c, n.ThenClause)]
    clause = clauses[0]
    if isinstance(clause, n.PriorityClause):
        return clause.priority
    return clause_value(clause)


def _then_item(clause: n.ThenClause) -> Any:
    """One `then` clause: its action as a string, or a list of strings when it has several."""
    texts = [_action_text(a) for a in clause.actions]
    return texts[0] if len(texts) == 1 else texts


def _action_text(action: n.Action) -> str:
    text = format_action(action)
    return _Block(text) if "\n" in text else text


# ---------------------------------------------------------------------------------------------- profile and segments


def _yaml_ProfileDecl(decl: n.ProfileDecl) -> Any:
    return {f.name: profile_type(f) for f in decl.fields}


def _yaml_LifecycleDecl(decl: n.LifecycleDecl) -> Any:
    return _Flow((s.stage, format_expr(s.days)) for s in decl.stages)


def _yaml_ScoreDecl(decl: n.ScoreDecl) -> Any:
    assert decl.of is not None
    out: dict[str, Any] = {"name": decl.name} | ({} if decl.title is None else {"title": decl.title})
    return out | {"of": format_expr(decl.of), "bins": [format_bin(b) for b in decl.bins]}


def _yaml_SegmentDecl(decl: n.SegmentDecl) -> Any:
    assert decl.when is not None
    out: dict[str, Any] = {"name": decl.name} | ({} if decl.title is None else {"title": decl.title})
    return out | {"when": format_expr(decl.when)}
