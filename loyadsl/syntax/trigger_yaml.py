"""The YAML twin of a trigger declaration (docs/triggers.md, "YAML"): each part is a key whose text is
written as in .loya and parsed with the same grammar, so both front ends give one AST.

```yaml
triggers:
  - name: welcome
    title: Welcome chain
    event: first purchase
    exit: on purchase
    quiet: 22:00 .. 09:00
    steps:
      - do: [accrue 100 points to bonus]
      - after: 3 days
        if: no purchase
        do: [issue welcome10, 'send push "Your coupon {{ coupon }}" else sms "Coupon {{ coupon }}"']
```"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from yaml.nodes import ScalarNode

from loyadsl.syntax import nodes as n
from loyadsl.syntax.parser import parse_trigger_part
from loyadsl.syntax.printer import (
    format_on,
    format_step_head,
    format_trigger_action,
    format_trigger_setting,
)

if TYPE_CHECKING:
    from loyadsl.syntax.yaml_twin import _Reader

SETTING_KEYS = ("exit", "window", "cap", "quiet")  # the keys a trigger allows: schema_programme.Trigger


def trigger_to_yaml(decl: n.TriggerDecl) -> dict[str, Any]:
    out: dict[str, Any] = {"name": decl.name}
    if decl.title is not None:
        out["title"] = decl.title
    out["event"] = format_on(decl.on).removeprefix("on ")
    for s in decl.settings:
        if s.word == "exit_on":  # docs/triggers.md, "Exits": a list
            out.setdefault("exits", []).append(format_trigger_setting(s).removeprefix("exit "))
            continue
        out[s.word] = format_trigger_setting(s).removeprefix(s.word + " ")
    steps = []
    for step in decl.steps:
        item: dict[str, Any] = {}
        head = format_step_head(step)
        if step.after is not None:
            item["after"] = head.split(" after ", 1)[1].split(" if ", 1)[0]
        if step.condition is not None:
            item["if"] = head.split(" if ", 1)[1]
        item["do"] = [format_trigger_action(a) for a in step.actions]
        steps.append(item)
    out["steps"] = steps
    return out


def trigger_from_yaml(r: _Reader, node: Any) -> n.TriggerDecl | None:
    pairs = r.mapping(node)
    name = r.name(pairs.get("name"), "a trigger")
    on = _part(r, pairs.get("event"), "trigger_on_input", "on")
    settings = [s for word in SETTING_KEYS if pairs.get(word) is not None
                for s in [_part(r, pairs.get(word), "trigger_item_input", word)] if s is not None]
    exits = pairs.get("exits")
    for exit_node in exits.value if exits is not None else []:
        part = _part(r, exit_node, "trigger_item_input", "exit")
        if isinstance(part, n.TriggerSetting) and part.word == "exit_on":
            settings.append(part)
        elif part is not None:
            r.fail(exit_node, "an exit is `on coupon redeemed`, `on segment entered|left NAME`, `on tier changed "
                              "[to LEVEL]` or `on redemption`", "`exit: on purchase` has its own key")
    steps = [_step(r, item) for item in pairs["steps"].value]  # (a list: the shape)
    if name is None or not isinstance(on, n.TriggerOn):
        return None
    return n.TriggerDecl(name, r.text(pairs.get("title")), on, tuple(settings), tuple(steps),
                         span=r.span(node))


def _part(r: _Reader, node: Any, start: str, keyword: str) -> Any:
    text = r.text(node)
    if text is None or not isinstance(node, ScalarNode):
        return None
    part, diags = parse_trigger_part(start, keyword, text, r.file, *r.where(node))
    r.embedded(diags)
    return part


def _step(r: _Reader, item: Any) -> n.TriggerStep:
    pairs = r.mapping(item)
    after_head = _part(r, pairs.get("after"), "step_head_input", "after") if pairs.get("after") else None
    if_head = _part(r, pairs.get("if"), "step_head_input", "if") if pairs.get("if") else None
    actions = []
    for action_node in pairs["do"].value:
        action = _part(r, action_node, "trigger_action_input", "")
        if isinstance(action, n.TriggerAction):
            actions.append(action)
    after = after_head[0] if after_head else None
    condition = if_head[1] if if_head else None
    return n.TriggerStep(after, condition, tuple(actions), span=r.span(item))
