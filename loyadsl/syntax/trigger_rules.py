"""The parser's rules for trigger declarations (docs/triggers.md), a mixin of ``parser._Builder``: lark
tree -> ``TriggerDecl``. Kept apart so the trigger syntax reads in one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from lark import Token, Transformer, v_args

from loyadsl.diagnostics import Span
from loyadsl.syntax import nodes as n

_Rule = tuple[str, Any, Span | None]
# The start symbols of a trigger's parts (the YAML twin parses each key's text with one).
TRIGGER_STARTS = ("trigger_on_input", "trigger_item_input", "trigger_action_input", "step_head_input")


@v_args(meta=True)
class TriggerRules(Transformer):
    """Rule methods get ``(meta, children)``, as ``_Builder``'s do."""

    _span: Callable[[Any], Span | None]
    _tspan: Callable[[Token], Span]
    _name: Callable[[Token, str], str]
    _title: Callable[[Token | None], str | None]
    _string: Callable[[Token], str]
    _int: Callable[..., int]
    _time: Callable[[Token], Any]
    _error: Callable[..., None]
    duration: Callable[[Any, list[Any]], n.DurationLit]

    def trigger_decl(self, meta: Any, children: list[Any]) -> n.TriggerDecl:
        name, title, on, *items = children
        settings = tuple(value for key, value, _ in items if key == "setting")
        steps = tuple(value for key, value, _ in items if key == "step")
        seen: dict[str, Span | None] = {}
        for setting in settings:
            if setting.word in seen and setting.word != "exit_on":  # exits: the checker refuses one twice
                self._error("LOY213", f"`{setting.word}` appears twice in trigger `{name}`", setting.span,
                            "keep one")
            seen[setting.word] = setting.span
        return n.TriggerDecl(self._name(name, "trigger"), self._title(title), on, settings, steps, span=self._span(meta))

    def _dur(self, meta: Any, tok: Token) -> n.DurationLit:
        return replace(self.duration(meta, [tok]), span=self._tspan(tok))

    # --- events

    def _on(self, meta: Any, kind: str, **fields: Any) -> n.TriggerOn:
        return n.TriggerOn(kind, **fields, span=self._span(meta))

    def on_first_purchase(self, meta: Any, children: list[Any]) -> n.TriggerOn:
        return self._on(meta, "purchase", first=True)

    def on_purchase(self, meta: Any, children: list[Any]) -> n.TriggerOn:
        fields: dict[str, Any] = {}
        for key, value, span in children:
            if key in fields:
                self._error("LOY213", f"`{key}` appears twice in `on purchase`", span, "keep one")
            fields[key] = value
        return self._on(meta, "purchase", **fields)

    def pf_number(self, meta: Any, children: list[Any]) -> _Rule:
        return "number", self._int(children[0], "a purchase number"), self._span(meta)

    def pf_items(self, meta: Any, children: list[Any]) -> _Rule:
        return "items", self._int(children[0], "an item count"), self._span(meta)

    def pf_skus(self, meta: Any, children: list[Any]) -> _Rule:
        return "skus", children[0], self._span(meta)

    def on_birthday(self, meta: Any, children: list[Any]) -> n.TriggerOn:
        shift = children[0]
        return self._on(meta, "birthday", shift=shift and shift[1], before=bool(shift and shift[0]))

    def on_child_birthday(self, meta: Any, children: list[Any]) -> n.TriggerOn:
        shift = children[0]
        return self._on(meta, "birthday", child=True, shift=shift and shift[1], before=bool(shift and shift[0]))

    def shift_before(self, meta: Any, children: list[Any]) -> tuple[bool, n.DurationLit]:
        return True, self._dur(meta, children[0])

    def shift_after(self, meta: Any, children: list[Any]) -> tuple[bool, n.DurationLit]:
        return False, self._dur(meta, children[0])

    def on_registration(self, meta: Any, children: list[Any]) -> n.TriggerOn:
        return self._on(meta, "registration")

    def on_segment_entered(self, meta: Any, children: list[Any]) -> n.TriggerOn:
        return self._on(meta, "segment_entered", name=str(children[0]))

    def on_segment_left(self, meta: Any, children: list[Any]) -> n.TriggerOn:
        return self._on(meta, "segment_left", name=str(children[0]))

    def on_tier_changed(self, meta: Any, children: list[Any]) -> n.TriggerOn:
        return self._on(meta, "tier_changed", name=None if children[0] is None else str(children[0]))

    def on_accrual(self, meta: Any, children: list[Any]) -> n.TriggerOn:
        return self._on(meta, "accrual")

    def on_redemption(self, meta: Any, children: list[Any]) -> n.TriggerOn:
        return self._on(meta, "redemption")

    def on_points_expiring(self, meta: Any, children: list[Any]) -> n.TriggerOn:
        return self._on(meta, "points_expiring")

    def on_profile_filled(self, meta: Any, children: list[Any]) -> n.TriggerOn:
        return self._on(meta, "profile_filled", name=str(children[0]))

    def on_inactive(self, meta: Any, children: list[Any]) -> n.TriggerOn:
        return self._on(meta, "inactive", idle=self._dur(meta, children[0]))

    # --- settings and steps

    def tr_exit(self, meta: Any, children: list[Any]) -> _Rule:
        return "setting", n.TriggerSetting("exit", span=self._span(meta)), self._span(meta)

    def tr_window(self, meta: Any, children: list[Any]) -> _Rule:
        return "setting", n.TriggerSetting("window", duration=self._dur(meta, children[0]),
                                           span=self._span(meta)), self._span(meta)

    def tr_cap(self, meta: Any, children: list[Any]) -> _Rule:
        count, tok = children
        return "setting", n.TriggerSetting("cap", count=self._int(count, "a message count"),
                                           duration=self._dur(meta, tok), span=self._span(meta)), self._span(meta)

    def tr_quiet(self, meta: Any, children: list[Any]) -> _Rule:
        start, end = children
        return "setting", n.TriggerSetting("quiet", start=self._time(start), end=self._time(end),
                                           span=self._span(meta)), self._span(meta)

    # exits beyond a purchase (docs/triggers.md, "Exits"): word `exit_on`, any number of them

    def _exit(self, meta: Any, kind: str, name: Any = None) -> _Rule:
        on = n.TriggerOn(kind, name=None if name is None else str(name), span=self._span(meta))
        return "setting", n.TriggerSetting("exit_on", exit=on, span=self._span(meta)), self._span(meta)

    def tr_exit_coupon(self, meta: Any, children: list[Any]) -> _Rule:
        return self._exit(meta, "coupon_redeemed")

    def tr_exit_segment_entered(self, meta: Any, children: list[Any]) -> _Rule:
        return self._exit(meta, "segment_entered", children[0])

    def tr_exit_segment_left(self, meta: Any, children: list[Any]) -> _Rule:
        return self._exit(meta, "segment_left", children[0])

    def tr_exit_tier_changed(self, meta: Any, children: list[Any]) -> _Rule:
        return self._exit(meta, "tier_changed", children[0])

    def tr_exit_redemption(self, meta: Any, children: list[Any]) -> _Rule:
        return self._exit(meta, "redemption")

    def tr_step(self, meta: Any, children: list[Any]) -> _Rule:
        after, condition, *actions = children
        step = n.TriggerStep(None if after is None else self._dur(meta, after), condition, tuple(actions),
                             span=self._span(meta))
        return "step", step, self._span(meta)

    def if_no_purchase(self, meta: Any, children: list[Any]) -> str:
        return "no_purchase"

    def if_purchase(self, meta: Any, children: list[Any]) -> str:
        return "purchase"

    # --- actions

    def ta_accrue(self, meta: Any, children: list[Any]) -> n.TriggerAction:
        amount, account = children
        return n.TriggerAction("accrue", amount, None if account is None else str(account), span=self._span(meta))

    def ta_issue(self, meta: Any, children: list[Any]) -> n.TriggerAction:
        return n.TriggerAction("issue", target=str(children[0]), span=self._span(meta))

    def ta_add(self, meta: Any, children: list[Any]) -> n.TriggerAction:
        amount, counter = children
        return n.TriggerAction("add", amount, str(counter), span=self._span(meta))

    def ta_send(self, meta: Any, children: list[Any]) -> n.TriggerAction:
        return n.TriggerAction("send", sends=tuple(children), span=self._span(meta))

    def message_send(self, meta: Any, children: list[Any]) -> n.MessageSend:
        channel, text = children
        return n.MessageSend(str(channel), self._string(text), span=self._span(meta))

    # --- the parts the YAML twin parses one by one

    def trigger_on_input(self, meta: Any, children: list[Any]) -> n.TriggerOn:
        return children[0]

    def trigger_item_input(self, meta: Any, children: list[Any]) -> Any:
        return children[0][1]

    def trigger_action_input(self, meta: Any, children: list[Any]) -> n.TriggerAction:
        return children[0]

    def step_head_input(self, meta: Any, children: list[Any]) -> tuple[n.DurationLit | None, str | None]:
        after, condition = children
        return (None if after is None else self._dur(meta, after)), condition

    def c_message(self, meta: Any, children: list[Any]) -> n.MessageClause:
        channel, text = children
        return n.MessageClause(str(channel), self._string(text), span=self._span(meta))
