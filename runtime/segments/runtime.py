"""Segments at the till (docs/segments.md): the customer's view with metrics, profile texts and the
segments they are in at the receipt's time; the receipt's ``history`` change; and the
``segment_entered`` / ``segment_left`` events that compare membership before and after the receipt.

Built by the engine only for a bundle with ``state.segments``: other programmes never reach this code."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..bundle_types import Bundle
from ..declarations import StateDecls
from ..errors import BundleError
from ..jit import _Gen
from ..model import CustomerView, Line
from ..state import CustomerState, apply
from .decls import SegmentDecls
from .metrics import metrics, profile_texts

Member = Callable[[CustomerView], bool]


class SegmentRuntime:
    def __init__(self, bundle: Bundle, namespace: dict[str, Any], matchers: Sequence[Callable[..., Sequence[Line]]],
                 local: Callable[[int], int]) -> None:
        decls = bundle.state.segments
        assert decls is not None
        self.decls: SegmentDecls = decls
        self.state_decls: StateDecls = bundle.state
        self.local = local
        self.matchers = matchers
        self.members: tuple[tuple[str, Member], ...] = tuple(
            (seg.name, _compile(bundle, seg.code, dict(namespace), i)) for i, seg in enumerate(decls.segments))

    # ------------------------------------------------------------------------------------ view

    def view(self, state: CustomerState, cu: CustomerView, utc: int) -> CustomerView:
        """``cu`` with the metrics, the profile texts and the declared segments the customer is in now
        (added to the segments the state carries from outside)."""
        today = self.local(utc)
        out = CustomerView(cu.known, cu.id, cu.tier, cu.segments, cu.attrs, cu.counters, cu.balances, cu.benefits,
                           cu.receipts, metrics(state, self.decls, today), profile_texts(state, self.decls.profile))
        inside = frozenset(name for name, member in self.members if member(out))
        if inside:
            out.segments = cu.segments | inside
        return out

    def membership(self, cu: CustomerView) -> frozenset[str]:
        return frozenset(name for name, _ in self.members if name in cu.segments)

    # ------------------------------------------------------------------------------------ the receipt

    def history_change(self, receipt_id: str, day: int, lines: Sequence[Line], left: Sequence[int],
                       cu: CustomerView, coupons_used: int) -> dict[str, Any] | None:
        """The receipt's ``history`` change: one purchase of what is paid (``left`` per line), the coupons
        it used, and per tracked selection its lines' spend. None when the programme keeps no history."""
        if not self.decls.history:
            return None
        parts = [[line.line_no, amount] for line, amount in zip(lines, left, strict=True) if amount]
        change: dict[str, Any] = {"op": "history", "day": day, "receipts": 1, "spend": sum(left),
                                  "coupons": coupons_used}
        tracks: dict[str, Any] = {}
        position = {id(line): i for i, line in enumerate(lines)}
        for track in self.decls.tracks:
            chosen = self.matchers[track.predicate](lines, cu)
            if chosen:
                idx = [position[id(line)] for line in chosen]
                tracks[track.key] = {"receipts": 1, "spend": sum(left[i] for i in idx),
                                     "lines": [lines[i].line_no for i in idx]}
        if tracks:
            change["tracks"] = tracks
        change["lines"] = parts
        change["receipt"] = receipt_id
        return change

    def events(self, state: CustomerState, before: CustomerView, changes: Sequence[dict[str, Any]],
               utc: int) -> list[dict[str, Any]]:
        """``segment_entered`` / ``segment_left`` (``{"event", "segment", "customer"}``): the declared
        segments the customer is in after the receipt (its purchase history and purchase count; a
        segment reads nothing else the receipt changes), compared with before, at one time."""
        if not self.members:
            return []
        after_state = apply(state, [c for c in changes if c["op"] in _SEGMENT_INPUTS], self.state_decls)
        base = CustomerView(before.known, before.id, before.tier, after_state.view.segments, before.attrs,
                            before.counters, before.balances, before.benefits, after_state.receipts)
        after = self.view(after_state, base, utc)
        was, now = self.membership(before), self.membership(after)
        out = [{"event": "segment_left", "segment": name, "customer": state.id}
               for name, _ in self.members if name in was and name not in now]
        out += [{"event": "segment_entered", "segment": name, "customer": state.id}
                for name, _ in self.members if name in now and name not in was]
        return out


_SEGMENT_INPUTS = frozenset({"history", "receipt"})  # the changes of a receipt a segment can read


def _compile(bundle: Bundle, code: Any, namespace: dict[str, Any], index: int) -> Member:
    """A segment's verified AUDIENCE block as a function of the customer view."""
    stmts, result = _Gen(bundle, code, namespace, "_s").run()
    if result is None:  # pragma: no cover - the verifier's job
        raise BundleError("LOY405", f"segment {index} pushes no result")
    source = "def s(cu):\n" + "".join(f"    {line}\n" for line in [*stmts, f"return {result.text}"])
    exec(compile(source, f"<segment {index}>", "exec"), namespace)
    member: Member = namespace["s"]
    return member
