"""Returns (docs/state.md section 7): ``refund`` and its ``Refund``, the one rounding rule (``_Share``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from ..errors import LoyaError, RefundError, StateError
from ..limits import MAX_TEXT_CHARS
from ..model import Outcome, Rows, _show, _thousandths
from ..state import Change as StateChange
from ..state import (
    CustomerState,
    LotChange,
    iso,
    read_change,
)
from ..state.redemption import CAP
from .core import Ledger
from .splits import Change, _hash_code
from .undo import POINTS, _Undo


class Refund(NamedTuple):
    """What a return gives back (docs/state.md, section 7). Per payment part of each line (money,
    points, each certificate) the returned share by one cumulative rule, so ``payable`` = ``money`` +
    ``points_money`` + ``certificates_money`` + ``withheld`` exactly, per line and in total.
    ``money``: paid out in money; ``points_money``: the money points had paid, given back as points;
    ``certificates_money``: put back on the certificates; ``withheld``: kept back from the money (a sold
    certificate's spent part, points the customer spent already); ``discount``: the returned share of
    the discount; ``lines``: the same per line (``qty`` returned, in thousandths); ``changes``: for
    ``state.apply`` (the first remembers the return's ``return_id``); ``shortfall``: what could not be
    taken back where it came from, and how it was settled; ``full``: whether the receipt is now returned
    completely."""

    receipt_id: str
    money: int
    points_money: int
    certificates_money: int
    discount: int
    lines: tuple[dict[str, Any], ...]
    changes: tuple[Change, ...]
    events: tuple[dict[str, Any], ...]
    shortfall: tuple[dict[str, Any], ...]
    full: bool
    withheld: int = 0
    return_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"receipt_id": self.receipt_id, "return_id": self.return_id, "money": self.money,
                "points_money": self.points_money, "certificates_money": self.certificates_money,
                "withheld": self.withheld, "discount": self.discount, "full": self.full,
                "lines": list(self.lines), "changes": list(self.changes), "events": list(self.events),
                "shortfall": list(self.shortfall)}


_LINE_KEYS = ("line_no", "qty", "payable", "points_money", "certificates", "to_pay")


def _units(thousandths: int) -> str:
    whole, frac = divmod(thousandths, 1000)
    return f"{whole}.{frac:03d}".rstrip("0").rstrip(".") if frac else str(whole)


def _sold_lines(o: Outcome) -> dict[int, dict[str, int]]:
    """The payment record's lines, checked against the outcome's."""
    pay = o.payment
    assert pay is not None
    raw = pay.get("lines")
    if type(raw) is not list or len(raw) != len(o.lines):
        raise RefundError("expected one entry per receipt line", "payment.lines")
    out: dict[int, dict[str, int]] = {}
    for i, (entry, line) in enumerate(zip(raw, o.lines, strict=True)):
        where = f"payment.lines[{i}]"
        if type(entry) is not dict or any(type(entry.get(k)) is not int for k in _LINE_KEYS):
            raise RefundError(f"expected integers {', '.join(_LINE_KEYS)}", where)
        if entry["line_no"] != line.line_no or entry["payable"] != line.payable or entry["qty"] <= 0 \
                or entry["payable"] != entry["points_money"] + entry["certificates"] + entry["to_pay"]:
            raise RefundError("does not agree with the outcome's line (line_no, payable, or its parts)", where)
        out[line.line_no] = dict(entry, discount=line.discount)
    return out


def _quantities(rid: str, sold: dict[int, dict[str, int]], done: dict[int, int],
                returned: Mapping[Any, Any] | None) -> dict[int, int]:
    """line_no -> thousandths returned now, every problem a RefundError naming the line."""
    if returned is None:
        now = {ln: e["qty"] - done.get(ln, 0) for ln, e in sold.items() if e["qty"] > done.get(ln, 0)}
        if not now:
            raise RefundError(f"receipt {rid} is already returned in full", "returned")
        return now
    if not returned:
        raise RefundError("nothing to return (an empty mapping; None returns every line)", "returned")
    now = {}
    for key, qty in returned.items():
        ln = int(key) if type(key) is str and key.isdigit() else key
        where = f"returned.{key}"
        if type(ln) is not int or ln not in sold:
            raise RefundError(f"receipt {rid} has no line {key!r} (its lines: {', '.join(map(str, sold))})", where)
        try:
            q = _thousandths(qty, where)
        except LoyaError as exc:  # the receipt's rule for quantities, as a refund error
            raise RefundError(exc.message.removeprefix(f"{where}: "), where) from None
        total, before = sold[ln]["qty"], done.get(ln, 0)
        if before + q > total:
            raise RefundError(f"returns {_units(q)} of line {ln}, but only {_units(total - before)} of the "
                              f"{_units(total)} sold are left to return", where)
        now[ln] = now.get(ln, 0) + q
    return now


class _Share:
    """The one rounding rule of a return. After returning q of a line's Q units, a of which were returned
    before, a part p of the line (the money paid in cash, by points, by one certificate; the points of one
    change on the line) is undone by ⌊p × (a + q) / Q⌋ − ⌊p × a / Q⌋: floor both times, so the returns of
    a line add up to the whole part exactly and no return gives back more of a part than it held."""

    def __init__(self, sold: dict[int, dict[str, int]], done: dict[int, int], now: dict[int, int]) -> None:
        self.sold = sold
        self.done = done
        self.now = now

    def __call__(self, ln: int, part: int) -> int:
        q = self.now.get(ln, 0)
        if not q or ln not in self.sold:
            return 0
        total, before = self.sold[ln]["qty"], self.done.get(ln, 0)
        return part * (before + q) // total - part * before // total

    def before(self, ln: int, part: int) -> int:
        """What earlier returns undid of a line's part."""
        if ln not in self.sold:
            return 0
        return part * self.done.get(ln, 0) // self.sold[ln]["qty"]

    def of(self, lines: Sequence[Sequence[int]] | None) -> dict[int, int]:
        """The returned share of a line-attributed change (its ``lines``), per line (zero parts left out)."""
        out = {}
        for ln, p in lines or ():
            part = self(int(ln), int(p))
            if part:
                out[int(ln)] = part
        return out


def _card_lines(pay: Mapping[str, Any], sold: dict[int, dict[str, int]]) -> dict[str, dict[int, int]]:
    """What each certificate paid per line (the payment record's ``certificates[i].lines``), checked to
    add up to each line's ``certificates``."""
    cards: dict[str, dict[int, int]] = {}
    raw = pay.get("certificates") or []
    if type(raw) is not list:
        raise RefundError("expected an array", "payment.certificates")
    for i, entry in enumerate(raw):
        if type(entry) is not dict or entry.get("status") != "used":
            continue
        lines = entry.get("lines")
        if type(entry.get("code")) is not str or type(lines) is not list or not all(
                type(p) is list and len(p) == 2 and type(p[0]) is int and type(p[1]) is int and p[0] in sold
                for p in lines):
            raise RefundError("a used certificate has a code and lines [[line_no, amount], ...] of the receipt",
                              f"payment.certificates[{i}]")
        per_line = cards.setdefault(entry["code"], {})
        for ln, amount in lines:
            per_line[ln] = per_line.get(ln, 0) + amount
    for ln, entry in sold.items():
        if sum(card.get(ln, 0) for card in cards.values()) != entry["certificates"]:
            raise RefundError(f"the certificates' lines do not add up to line {ln}'s certificates",
                              "payment.certificates")
    return cards


def _return_id(rid: str, sold: dict[int, dict[str, int]], done: dict[int, int], now: dict[int, int]) -> str:
    """A return's id when the host gives none: the receipt id and a hash of the quantities returned so
    far, this return included (they grow with every return, so each return of a receipt has its own)."""
    after = [f"{ln}={done.get(ln, 0) + now.get(ln, 0)}" for ln in sold if done.get(ln, 0) + now.get(ln, 0)]
    return f"{rid}:return:{_hash_code(rid, *after)}"


def refund(ledger: Ledger, original: Outcome | Mapping[str, Any], returned: Mapping[Any, Any] | None,
           state: CustomerState | None, utc: int, return_id: str | None = None) -> Refund:
    """Section 7: the return of ``returned`` (line_no -> quantity as in receipt JSON; None: all that is
    left) of the receipt ``original`` describes, for a customer state advanced to ``utc``; ``return_id``
    names the return (None: made from the receipt id and the quantities)."""
    o = original if isinstance(original, Outcome) else Outcome.from_dict(dict(original))
    rid = o.receipt_id
    mine = _own_changes(o, state)
    assert o.payment is not None
    if state is None:  # an anonymous receipt: only programme-wide changes (budgets, stock, usage limits) to give back
        state = anonymous_record(rid)
    sold = _sold_lines(o)
    cards = _card_lines(o.payment, sold)
    done = {int(k): v for k, v in (state.returns.get(rid) or {}).items()}
    now = _quantities(rid, sold, done, returned)
    full = all(done.get(ln, 0) + now.get(ln, 0) == e["qty"] for ln, e in sold.items())
    key = _return_id(rid, sold, done, now) if return_id is None else return_id
    if type(key) is not str or not 0 < len(key) <= MAX_TEXT_CHARS:
        raise RefundError(f"a return id is a string of 1 to {MAX_TEXT_CHARS} characters, got {_show(key)}",
                          "return_id")
    if key in state.applied:
        raise RefundError(f"return {key} of receipt {rid} was applied to customer {state.id} already (at "
                          f"{iso(state.applied[key])}); returning it again would pay it out twice", "return_id",
                          "LOY510")
    u = _Undo(ledger, state, utc, rid, _Share(sold, done, now))
    u.usage_lines = _usage_lines(o, mine)
    u.changes.append({"op": "applied", "id": key, "at": iso(utc), "receipt": rid})
    u.open_lines(cards)
    for change in reversed(mine):  # the inverse of a sequence of changes runs backwards
        u.undo(change, full, cards)
    u.settle()
    lines = tuple(u.lines.values())
    u.changes.append({"op": "returned", "receipt": rid, "lines": [[ln, q] for ln, q in now.items()]})
    return Refund(rid, sum(x["money"] for x in lines), sum(x["points_money"] for x in lines),
                  sum(x["certificates"] for x in lines), sum(x["discount"] for x in lines), lines,
                  tuple(u.changes), tuple(u.events), tuple(u.shortfall), full,
                  sum(x["withheld"] for x in lines), key)


def _usage_lines(o: Outcome, mine: list[StateChange]) -> dict[str, list[tuple[int, int]]]:
    """The amounts the receipt counted in ``usage``, per line, for partial returns: the points of its
    lots under the anti-fraud counts (``@points.``, runtime/fraud.py), and each discount campaign's
    discount under its ``max discount`` cap (``CAMPAIGN@discount``)."""
    points: dict[int, int] = {}
    for change in mine:
        if isinstance(change, LotChange) and change.points > 0:
            for ln, part in change.lines or ():
                points[ln] = points.get(ln, 0) + part
    out = {POINTS: list(points.items())}
    line_nos = [line.line_no for line in o.lines]
    for effect in o.effects.rows if isinstance(o.effects, Rows) else o.effects:
        name, _group, kind, _requested, applied = effect[:5]
        if kind == "discount":
            out[name + CAP] = list(zip(line_nos, applied, strict=True))
    return out


def anonymous_record(receipt_id: str) -> CustomerState:
    """The return record of an anonymous receipt (one without a customer): an empty state named after
    the receipt. A host keeps it to return the receipt in parts: apply each return's changes to it (they
    remember the lines returned so far and the return ids) and pass it as the next return's state. A
    full return of an anonymous receipt gives back the programme-wide state it took: budgets, catalogue
    stock, usage limits."""
    return CustomerState(id=f"anonymous:{receipt_id}")


def _own_changes(o: Outcome, state: CustomerState | None) -> list[StateChange]:
    """The receipt's own changes (after its time events), once the outcome is known to be this
    customer's, with a payment record."""
    rid = o.receipt_id
    pay = o.payment
    if o.changes is None or pay is None:
        raise RefundError(f"the outcome of receipt {rid} has no payment record: it was evaluated without customer "
                          "state, so a return cannot be computed from it", "payment")
    owner = pay.get("customer")
    if owner is None and state is not None and state.id != anonymous_record(rid).id:
        raise RefundError(f"receipt {rid} is anonymous: pass no customer state, or its return record "
                          "(``anonymous_record``, with the earlier returns applied)", "customer")
    if owner is None:
        return _changes_of(o, rid)
    if state is None:
        raise RefundError(f"a return of receipt {rid} needs the customer's state", "customer")
    if owner != state.id:
        raise RefundError(f"receipt {rid} was evaluated for customer {owner!r}, not {state.id!r}", "customer")
    return _changes_of(o, rid)


def _changes_of(o: Outcome, rid: str) -> list[StateChange]:
    assert o.changes is not None and o.payment is not None
    start = o.payment.get("advance", 0)
    if type(start) is not int or not 0 <= start <= len(o.changes):
        raise RefundError("expected the number of leading time-event changes", "payment.advance")
    out = []
    for i, change in enumerate(o.changes[start:], start):
        if change.get("receipt", rid) != rid:
            raise RefundError(f"a change of receipt {change.get('receipt')!r} in the outcome of receipt {rid}",
                              f"changes[{i}].receipt")
        try:
            out.append(read_change(change, f"changes[{i}]"))
        except StateError as exc:
            raise RefundError(exc.message.removeprefix(f"{exc.where}: "), exc.where) from None
    return out
