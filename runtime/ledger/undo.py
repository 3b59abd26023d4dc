"""The undoing of one receipt's changes by a return, part by part (docs/state.md section 7)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import RefundError
from ..money import ceil_div
from ..state import CustomerState, iso, period_key
from ..state import changes as kinds
from ..state.history import HistoryChange
from .core import Ledger
from .lots import _accounts, _active, _Lot, _lots, spend_order
from .splits import Change, split

POINTS = "@points."  # the anti-fraud points counts (runtime/fraud.py)

if TYPE_CHECKING:
    from .refund import _Share


# ------------------------------------------------------------------------------------------ returns (section 7)


def _still_counted(customer: CustomerState, change: kinds.QualifyChange) -> bool:
    """Whether a receipt's tier measure is still in the customer's record: its period is the current
    one (and, in a rolling window, its day has not left the window). A closed period was reviewed
    already; like a counter after its reset, a return leaves it as it was."""
    q = customer.qualification
    if q is None or q.period != change.period:
        return False
    return change.day is None or any(day == change.day for day, _ in q.days)


class _Undo:
    """The running state of one refund: lots, debts, counters and certificates as the refund's own
    earlier changes leave them, so two changes touching one lot never take it twice; and the refund's
    lines, whose money the undoing moves between parts (a certificate gone: its part is paid in money;
    a spent sold certificate or spent points: withheld)."""

    def __init__(self, ledger: Ledger, state: CustomerState, utc: int, rid: str, share: _Share) -> None:
        self.ledger = ledger
        self.state = state
        self.utc = utc
        self.rid = rid
        self.share = share
        self.lots: dict[tuple[bool, str], dict[str, _Lot]] = {}
        self.debts: dict[tuple[str, bool], int] = {}
        self.points_of: dict[str, int] = {}  # lot id -> its points
        for shared in (False, True):
            for name, acc in _accounts(state, shared).items():
                self.lots[(shared, name)] = {lot.id: lot for lot in _lots(acc, name, shared)}
                self.points_of.update((lot.id, lot.points) for lot in acc.lots)
                self.debts[(name, shared)] = acc.debt
        self.counters = {name: (c.value, c.period) for name, c in state.counters.items()}
        self.certificates = {c.code: c.balance for c in state.certificates}
        self.expires = {c.code: c.expires for c in state.certificates}
        self.lines: dict[int, dict[str, Any]] = {}
        self.changes: list[Change] = []
        self.events: list[dict[str, Any]] = []
        self.shortfall: list[dict[str, Any]] = []
        self.pending: list[tuple[dict[str, Any], dict[int, int]]] = []  # points to withhold: (entry, weights)
        self.usage_lines: Mapping[str, list[tuple[int, int]]] = {}  # amounts in ``usage``, per line (refund.py)

    def open_lines(self, cards: Mapping[str, Mapping[int, int]]) -> None:
        """The refund's lines: each payment part of a returned line by the one rule (``_Share``); the
        undoing then moves money between them (a card gone: paid in money; a spent sold card or spent
        points: withheld)."""
        share = self.share
        for ln, entry in share.sold.items():
            if share.now.get(ln):
                cash, points = share(ln, entry["to_pay"]), share(ln, entry["points_money"])
                by_cards = sum(share(ln, card.get(ln, 0)) for card in cards.values())
                self.lines[ln] = {"line_no": ln, "qty": share.now[ln], "payable": cash + points + by_cards,
                                  "discount": share(ln, entry["discount"]), "points_money": points,
                                  "certificates": by_cards, "withheld": 0, "money": cash}

    def undo(self, change: kinds.Change, full: bool, cards: Mapping[str, Mapping[int, int]]) -> None:
        """The returned share of one change of the receipt (line by line), or the whole of it with the
        full return (coupon uses, usage, budget, the purchase count, an issued coupon): by its kind, in
        ``RETURNS``; a kind not there has nothing a return undoes (tier, referral, transfer, ...)."""
        how = RETURNS.get(type(change))
        if how is not None:
            how(self, change, full, cards)

    def _back_lot(self, c: kinds.LotChange, full: bool, cards: Cards) -> None:
        if c.lines and (parts := self.share.of(c.lines)):
            self.accrual(c, sum(parts.values()), sum(self.share.before(int(ln), int(p)) for ln, p in c.lines), parts)

    def _back_take(self, c: kinds.TakeChange, full: bool, cards: Cards) -> None:
        if c.reason in ("redeem", "reward") and c.lines and (points := sum(self.share.of(c.lines).values())):
            self.redemption(c, points)

    def _back_debt(self, c: kinds.DebtChange, full: bool, cards: Cards) -> None:
        if c.lines and (parts := self.share.of(c.lines)):
            self.debt(c, sum(parts.values()), {ln: abs(p) for ln, p in parts.items()})

    def _back_certificate(self, c: kinds.CertificateChange, full: bool, cards: Cards) -> None:
        if c.lines:
            self.certificate(c, cards.get(c.code, {}))

    def _back_certificate_issue(self, c: kinds.CertificateIssue, full: bool, cards: Cards) -> None:
        if not c.lines:
            return
        share = self.share
        ((ln, value),) = c.lines
        if c.unit is not None:  # one card per unit (`per unit`): whole cards, in unit order (docs/rewards.md)
            before = share.done.get(ln, 0)
            if before // 1000 <= c.unit < (before + share.now.get(ln, 0)) // 1000:
                kept = self.sold(c, value, True)
                self.lines[ln]["money"] -= kept
                self.lines[ln]["withheld"] += kept
            return
        if part := share(ln, value):
            kept = self.sold(c, part, share.done.get(ln, 0) + share.now[ln] == share.sold[ln]["qty"])
            self.lines[ln]["money"] -= kept
            self.lines[ln]["withheld"] += kept

    def _back_counter(self, c: kinds.CounterChange, full: bool, cards: Cards) -> None:
        if c.lines and (delta := sum(self.share.of(c.lines).values())):
            self.counter(c, delta)

    def _back_qualify(self, c: kinds.QualifyChange, full: bool, cards: Cards) -> None:
        delta = sum(self.share.of(c.lines).values()) if c.lines else (c.delta if full else 0)
        if delta and _still_counted(self.state, c):
            back: Change = {"op": "qualify", "period": c.period, "delta": -delta, "receipt": self.rid}
            if c.day is not None:
                back["day"] = c.day
            self.changes.append(back)

    def _back_coupon_use(self, c: kinds.CouponUse, full: bool, cards: Cards) -> None:
        if full:
            self.changes.append({"op": "coupon_unuse", "code": c.code, "series": c.series, "campaign": c.campaign,
                                 "receipt": self.rid})

    def _back_negate(self, c: kinds.UsageChange | kinds.Budget | kinds.StockChange | kinds.RedemptionChange,
                     full: bool, cards: Cards) -> None:
        if full:
            self.changes.append(c._replace(delta=-c.delta).to_dict())

    def _back_usage(self, c: kinds.UsageChange, full: bool, cards: Cards) -> None:
        """A use count goes with the full return; an amount counted in ``usage`` (the anti-fraud points
        of a period, a campaign's discount under its ``max discount`` cap) goes back line by line by the
        one rule, so partial returns and the last one add up to it exactly."""
        parts = self.usage_lines.get(POINTS if c.campaign.startswith(POINTS) else c.campaign)
        if parts is None or sum(p for _, p in parts) != c.delta:
            self._back_negate(c, full, cards)
            return
        back = sum(self.share(ln, p) for ln, p in parts)
        if back:
            self.changes.append(c._replace(delta=-back).to_dict())

    def _back_coupon_issue(self, c: kinds.CouponIssue, full: bool, cards: Cards) -> None:
        if full:
            self.revoke(c)

    def _back_receipt(self, c: kinds.ReceiptChange, full: bool, cards: Cards) -> None:
        if full:
            self.changes.append({"op": "receipt", "receipt": self.rid, "delta": -c.delta})

    def _back_history(self, c: HistoryChange, full: bool, cards: Cards) -> None:
        """docs/segments.md: the returned share of the purchase's spend, line by line (and per tracked
        selection, by its lines); the purchase itself and its coupons with the full return. The day's
        bucket only while it is inside the horizon (like a tier measure after its review)."""
        parts = self.share.of(c.lines) if c.lines else {}
        spend = sum(parts.values())
        if not spend and not full:
            return
        history = self.state.history
        day = c.day if history is not None and any(row[0] == c.day for row in history.days) else None
        back: Change = {"op": "history", "day": day, "receipts": -c.receipts if full else 0, "spend": -spend,
                        "coupons": -c.coupons if full else 0, "receipt": self.rid}
        tracks = {key: {"receipts": -t["receipts"] if full else 0,
                        "spend": -sum(parts.get(ln, 0) for ln in t.get("lines", ()))}
                  for key, t in (c.tracks or {}).items()}
        if tracks:
            back["tracks"] = tracks
        self.changes.append(back)

    def take(self, account: str, shared: bool, lot: _Lot, points: int, reason: str) -> None:
        self.lots[(shared, account)][lot.id] = lot._replace(left=lot.left - points)
        self.changes.append({"op": "take", "account": account, "lot": lot.id, "points": points, "reason": reason,
                             "shared": shared, "receipt": self.rid})

    def accrual(self, change: kinds.LotChange, points: int, earlier: int, weights: dict[int, int]) -> None:
        """Take back accrued points from their lot; what was spent of it already is a shortfall
        (``reclaim``). A lot that nothing but this receipt's returns touched is removed with its last
        points (a ``lot`` change of minus its points, after giving back what earlier returns took), so a
        receipt returned in parts leaves the state a return at once leaves."""
        account, shared = change.account, change.shared
        lots = self.lots.get((shared, account), {})
        lot = lots.get(change.lot)
        whole = change.points
        if (lot is not None and earlier + points == whole and lot.left == points
                and self.points_of.get(lot.id) == whole):
            if earlier:
                self.take(account, shared, lot, -earlier, "return")
            del lots[lot.id]
            self.changes.append({"op": "lot", "account": account, "lot": lot.id, "points": -whole,
                                 "reason": "return", "shared": shared, "receipt": self.rid})
            return
        got = min(points, lot.left) if lot is not None else 0
        if got > 0 and lot is not None:
            self.take(account, shared, lot, got, "return")
        if points > got:
            self.reclaim(account, shared, points - got, change.lot, weights)

    def reclaim(self, account: str, shared: bool, short: int, lot_id: str | None, weights: dict[int, int]) -> None:
        """Points a return must take back that are no longer where they came from (spent, or a repaid
        debt whose room was borrowed again), by the account's ``shortfall`` policy: ``other_lots`` takes
        them from the account's other active lots in spend order, ``negative`` makes them a debt within
        the credit limit; what is still missing is withheld from the money refunded (``settle``), under
        ``report`` only reported. So a return always books: no change it makes goes past a lot's points or
        a credit limit."""
        decl = self.ledger.accounts.get(account)
        policy = decl.shortfall if decl is not None else "report"
        if decl is not None and policy == "other_lots":
            others = [x for x in self.lots.get((shared, account), {}).values()
                      if x.id != lot_id and _active(x, self.utc)]
            for other in spend_order(others, decl.spend):
                part = min(short, other.left)
                self.take(account, shared, other, part, "return")
                short -= part
                if not short:
                    return
        if decl is not None and policy == "negative":
            borrow = min(short, self._room(account, shared))
            if borrow:
                self._debt(account, shared, borrow)
                short -= borrow
        if short:
            entry = {"kind": "points", "account": account, "lot": lot_id, "points": short, "shared": shared}
            if policy == "report":
                self.shortfall.append(entry)
            else:
                self.pending.append((entry, weights))

    def settle(self) -> None:
        """Withhold the points still missing from the money refunded, at ⌈points × value⌉ (ceil: the
        retailer gets at least the points' worth), at most the money the refund pays; what the money
        cannot cover is reported (the customer keeps those points)."""
        ledger = self.ledger
        for entry, weights in self.pending:
            short = entry["points"]
            room = sum(line["money"] for line in self.lines.values())
            points = short if ceil_div(short * ledger.point_value, ledger.points_scale) <= room \
                else room * ledger.points_scale // ledger.point_value
            if points:
                money = ceil_div(points * ledger.point_value, ledger.points_scale)
                self._withhold(money, weights)
                self.shortfall.append({**entry, "kind": "withheld", "points": points, "money": money})
            if short > points:
                self.shortfall.append({**entry, "points": short - points})

    def _withhold(self, money: int, weights: dict[int, int]) -> None:
        """Take ``money`` from the lines' money: over the lines the points came from, by their points,
        then from any line in order (a line never goes below zero)."""
        order = [ln for ln in sorted(weights) if ln in self.lines]
        parts = split(money, [weights[ln] for ln in order], order)
        rest = 0
        for ln, part in zip(order, parts, strict=True):
            rest += part - self._keep(ln, part)
        for ln in self.lines:
            if not rest:
                break
            rest -= self._keep(ln, rest)
        assert rest == 0, "settle withholds at most the money refunded"

    def _keep(self, ln: int, money: int) -> int:
        line = self.lines[ln]
        got = min(money, line["money"])
        line["money"] -= got
        line["withheld"] += got
        return got

    def _room(self, account: str, shared: bool) -> int:
        decl = self.ledger.accounts.get(account)
        credit = decl.credit if decl is not None else 0
        return max(0, credit - self.debts.get((account, shared), 0))

    def redemption(self, change: kinds.TakeChange, points: int) -> None:
        """Give redeemed points back to the lot they came from (expired: they expire at once)."""
        account, shared = change.account, change.shared
        lot = self.lots.get((shared, account), {}).get(change.lot)
        if lot is None:
            self.events.append({"event": "points_expired", "account": account, "points": points, "lot": change.lot,
                                "reason": "returned to a lot that is gone"})
            return
        self.take(account, shared, lot, -points, change.reason or "redeem")
        if lot.expires is not None and lot.expires <= self.utc:
            self.take(account, shared, self.lots[(shared, account)][lot.id], points, "expire")
            self.events.append({"event": "points_expired", "account": account, "points": points, "lot": lot.id})

    def debt(self, change: kinds.DebtChange, points: int, weights: dict[int, int]) -> None:
        """Undo ``points`` of a debt change: a borrowing (> 0) comes off the debt, a repayment (< 0) goes
        back on it. Borrowing and repayment sit on different lines, so a partial return may cancel more
        debt than is left: the rest is the customer's, a lot of this return; and a repayment undone
        later takes such a lot back first (removing it when untouched), so the parts add up to a
        return at once. A repayment goes back on the debt only within the credit limit (the room may
        have been borrowed again since): the rest is a shortfall (``reclaim``)."""
        account, shared = change.account, change.shared
        key = (account, shared)
        debt = self.debts.get(key, 0)
        lots = self.lots.setdefault((shared, account), {})
        mine = [lot for lot in lots.values() if lot.id.startswith(f"{self.rid}:{account}:returned:") and lot.left]
        if points > 0:
            paid = min(points, debt)
            if paid:
                self._debt(account, shared, -paid)
            if points > paid:
                self._excess(account, shared, points - paid, len(mine))
            return
        owed = -points
        for lot in sorted(mine, key=lambda x: x.id, reverse=True):
            got = min(owed, lot.left)
            if got == lot.left and lot.left == self.points_of.get(lot.id):
                del lots[lot.id]
                self.changes.append({"op": "lot", "account": account, "lot": lot.id, "points": -got,
                                     "reason": "return", "shared": shared, "receipt": self.rid})
            else:
                self.take(account, shared, lot, got, "return")
            owed -= got
            if not owed:
                return
        back = min(owed, self._room(account, shared))
        if back:
            self._debt(account, shared, back)
        if owed > back:
            self.reclaim(account, shared, owed - back, None, weights)

    def _debt(self, account: str, shared: bool, points: int) -> None:
        self.debts[(account, shared)] = self.debts.get((account, shared), 0) + points
        self.changes.append({"op": "debt", "account": account, "points": points, "reason": "return",
                             "shared": shared, "receipt": self.rid})

    def _excess(self, account: str, shared: bool, points: int, seq: int) -> None:
        decl = self.ledger.accounts.get(account)
        lot_id = f"{self.rid}:{account}:returned:{seq}"
        while lot_id in self.points_of:
            seq += 1
            lot_id = f"{self.rid}:{account}:returned:{seq}"
        expires = self.ledger.expiry(decl.expiry, self.utc) if decl is not None else None
        self.lots.setdefault((shared, account), {})[lot_id] = _Lot(account, shared, lot_id, points, self.utc, expires)
        self.points_of[lot_id] = points
        self.changes.append({"op": "lot", "account": account, "lot": lot_id, "points": points,
                             "active_from": iso(self.utc), "expires": None if expires is None else iso(expires),
                             "receipt": self.rid, "campaign": None, "shared": shared})

    def certificate(self, change: kinds.CertificateChange, used: Mapping[int, int]) -> None:
        """A certificate payment undone: per line the returned share of what the card paid (``used``,
        money) goes back on the card, with the returned share of what a single-use card forfeited. A card
        that is gone or expired cannot take it: that part of the line is paid in money instead."""
        code = change.code
        if not used:
            raise RefundError(f"certificate {code} spent on the receipt has no used entry in the payment record",
                              "payment.certificates")
        back = forfeit = 0
        moved: dict[int, int] = {}
        for ln, part in change.lines or ():
            ln = int(ln)
            paid = used.get(ln, 0)
            if -int(part) < paid:
                raise RefundError(f"certificate {code} paid {paid} on line {ln}, more than it spent there",
                                  "payment.certificates")
            share = self.share(ln, paid)
            back += share
            forfeit += self.share(ln, -int(part) - paid)
            if share:
                moved[ln] = share
        expires = self.expires.get(code)
        if code in self.certificates and (expires is None or expires > self.utc):
            if back + forfeit:
                self.certificates[code] += back + forfeit
                self.changes.append({"op": "certificate", "code": code, "delta": back + forfeit, "reason": "return",
                                     "receipt": self.rid})
            return
        for ln, share in moved.items():
            line = self.lines[ln]
            line["certificates"] -= share
            line["money"] += share
        if back:
            kind = "certificate_gone" if code not in self.certificates else "certificate_expired"
            self.shortfall.append({"kind": kind, "code": code, "amount": back})

    def sold(self, change: kinds.CertificateIssue, value: int, last: bool) -> int:
        """A sold certificate: its returned share comes off the balance, the whole card is voided with the
        line's last unit; what was spent already is withheld from the money. Returns the withheld part."""
        code = change.code
        balance = self.certificates.get(code, 0)
        got = min(value, balance)
        if got:
            self.certificates[code] = balance - got
            self.changes.append({"op": "certificate", "code": code, "delta": -got, "reason": "return",
                                 "receipt": self.rid})
        if last and code in self.certificates:
            self.changes.append({"op": "certificate_void", "code": code, "receipt": self.rid})
        if value > got:
            self.shortfall.append({"kind": "certificate_spent", "code": code, "amount": value - got})
        return value - got

    def revoke(self, change: kinds.CouponIssue) -> None:
        """A coupon the receipt issued goes with a full return, unless it was used."""
        coupon = next((c for c in self.state.coupons if c.code == change.code), None)
        if coupon is not None and coupon.uses_left == change.uses_left and coupon.series == change.series:
            self.changes.append({"op": "coupon_expire", "code": coupon.code, "series": coupon.series,
                                 "reason": "return", "receipt": self.rid})

    def counter(self, change: kinds.CounterChange, delta: int) -> None:
        """Undo ``delta`` of a counter change, unless the counter was reset since (another period)."""
        name = change.name
        decl = self.ledger.counters.get(name)
        today = self.ledger.local(self.utc)[0]
        if decl is None or change.period != period_key(today, decl.reset) \
                or (decl.valid is not None and today > decl.valid[1]):
            return  # reset (or burnt) since: nothing of it is left to undo
        value, period = self.counters.get(name, (0, change.period))
        back = min(delta, value) if delta > 0 else delta  # never below zero
        if back:
            self.counters[name] = (value - back, period)
            self.changes.append({"op": "counter", "name": name, "delta": -back, "period": period,
                                 "reason": "return", "receipt": self.rid})






Cards = Mapping[str, Mapping[int, int]]  # what each certificate paid per line
Return = Callable[[_Undo, Any, bool, Cards], None]

# What a return undoes, by change kind (a record class of ``kinds.CHANGES``); kinds not here it leaves.
RETURNS: dict[type[kinds.Change], Return] = {
    kinds.LotChange: _Undo._back_lot, kinds.TakeChange: _Undo._back_take, kinds.DebtChange: _Undo._back_debt,
    kinds.CertificateChange: _Undo._back_certificate, kinds.CertificateIssue: _Undo._back_certificate_issue,
    kinds.CounterChange: _Undo._back_counter, kinds.QualifyChange: _Undo._back_qualify, kinds.CouponUse: _Undo._back_coupon_use,
    kinds.UsageChange: _Undo._back_usage, kinds.Budget: _Undo._back_negate, kinds.CouponIssue: _Undo._back_coupon_issue,
    kinds.ReceiptChange: _Undo._back_receipt,
    kinds.StockChange: _Undo._back_negate,  # a catalogue reward's unit, given back with the full return
    HistoryChange: _Undo._back_history,
    kinds.RedemptionChange: _Undo._back_negate,
}
