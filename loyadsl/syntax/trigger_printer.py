"""Canonical text of a trigger declaration (docs/triggers.md): ``on``, then the settings (exit, window,
cap, quiet), then the steps, each action on its own line. ``printer.decl_lines`` calls ``trigger_lines``."""

from __future__ import annotations

from loyadsl.syntax import nodes as n
from loyadsl.syntax.printer import Line, _atom, _block, _time, _title, _whole, format_expr, quote
from loyadsl.syntax.trivia import Trivia


def trigger_lines(decl: n.TriggerDecl, src: Trivia) -> list[Line]:
    lines = [Line(1, format_on(decl.on), *_whole(decl.on))]
    lines += [Line(1, format_trigger_setting(s), *_whole(s)) for s in decl.settings]
    for step in decl.steps:
        inner = [Line(2, format_trigger_action(a), *_whole(a)) for a in step.actions]
        lines += _block(src, step, format_step_head(step), inner, depth=1)
    return _block(src, decl, f"trigger {decl.name}{_title(decl.title)}", lines)


def format_on(on: n.TriggerOn) -> str:
    if on.kind == "purchase":
        if on.first:
            return "on first purchase"
        parts = ["on purchase"]
        if on.number is not None:
            parts.append(f"number {on.number}")
        if on.items is not None:
            parts.append(f"items {on.items}")
        if on.skus is not None:
            parts.append(f"skus {format_expr(on.skus)}")
        return " ".join(parts)
    if on.kind == "birthday":
        text = "on child birthday" if on.child else "on birthday"
        if on.shift is not None:
            text += f" {'before' if on.before else 'after'} {_atom(on.shift)}"
        return text
    if on.kind in ("segment_entered", "segment_left"):
        return f"on segment {on.kind.split('_')[1]} {on.name}"
    if on.kind == "tier_changed":
        return "on tier changed" + ("" if on.name is None else f" to {on.name}")
    if on.kind == "profile_filled":
        return f"on profile filled {on.name}"
    if on.kind == "inactive" and on.idle is not None:
        return f"on no purchase for {_atom(on.idle)}"
    return {"points_expiring": "on points expiring"}.get(on.kind, f"on {on.kind}")


def format_trigger_setting(s: n.TriggerSetting) -> str:
    if s.word == "exit":
        return "exit on purchase"
    if s.word == "window" and s.duration is not None:
        return f"window {_atom(s.duration)}"
    if s.word == "cap" and s.duration is not None:
        return f"cap {s.count} per {_atom(s.duration)}"
    if s.word == "quiet" and s.start is not None and s.end is not None:
        return f"quiet {_time(s.start)} .. {_time(s.end)}"
    raise TypeError(f"not a trigger setting: {s!r}")


def format_step_head(step: n.TriggerStep) -> str:
    head = "step"
    if step.after is not None:
        head += f" after {_atom(step.after)}"
    if step.condition is not None:
        head += " if no purchase" if step.condition == "no_purchase" else " if purchase"
    return head


def format_trigger_action(a: n.TriggerAction) -> str:
    if a.kind == "accrue" and a.amount is not None:
        return f"accrue {format_expr(a.amount)}" + ("" if a.target is None else f" to {a.target}")
    if a.kind == "issue":
        return f"issue {a.target}"
    if a.kind == "add" and a.amount is not None:
        return f"add {format_expr(a.amount)} to {a.target}"
    return "send " + " else ".join(f"{s.channel} {quote(s.text)}" for s in a.sends)
