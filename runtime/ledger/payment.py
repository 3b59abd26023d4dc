"""Step 4 of docs/state.md section 5: the payment, by points (redemption) and then certificates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import repeat
from typing import Any, NamedTuple

from ..state import AccountState
from .base import _Receipt
from .lots import _active, _Lot, _member, _walk, held, spend_order
from .splits import MILLION, Change, fill, pairs, split

_new: Any = tuple.__new__  # a record from all its fields, without the named tuple's Python-level __new__


class Payment(NamedTuple):
    """How the payable is paid: by points (per line), by certificates (per certificate, per line)."""

    requested: int | str | None
    points: int  # taken, borrowing included
    by_points: list[int]  # money per line
    limited_by: str | None
    certificates: list[dict[str, Any]]  # per presented certificate: code, requested, amount, status, reason
    by_certificates: list[int]  # money per line
    takes: list[Change]  # take / debt changes of the redemption
    spends: list[Change]  # certificate changes




def redeemable(left: Sequence[int], excluded: set[int], sold: list[bool]) -> list[int]:
    """What points may pay of each line: its payable (0 for a negative one), 0 for a line excluded from
    redemption or selling a certificate."""
    n = len(left)
    if excluded or True in sold:
        return [0 if (i in excluded or sold[i]) else max(left[i], 0) for i in range(n)]
    return list(map(max, left, repeat(0, n)))  # (the usual receipt: every line, in C)


class _Payer(_Receipt):
    """The payment of a receipt (step 4)."""

    # -------------------------------------------------------------------------------- payment (step 4)
    def pay(self, left: Sequence[int], redeem: int | str | None,
            certificates: Sequence[tuple[str, int | None]]) -> Payment:
        ledger = self.ledger
        n = len(left)
        if redeem is None and not certificates:  # the usual receipt: paid in money alone
            return _new(Payment, (None, 0, [0] * n, None, [], [0] * n, [], []))
        skus = ledger.certificate_skus
        sold = [line.sku in skus for line in self.lines] if self.sells() else [False] * n
        by_points = [0] * n
        points = 0
        limited_by = None
        takes: list[Change] = []
        if redeem is not None and self.state is not None and ledger.decls.redemption is not None:
            points, by_points, limited_by, takes = self._redeem(left, redeem, sold)
        remaining = [0 if s else max(a - p, 0) for a, p, s in zip(left, by_points, sold, strict=True)] \
            if certificates else []  # >= 0; what certificates may pay
        by_certificates = [0] * n
        report: list[dict[str, Any]] = []
        spends: list[Change] = []
        for code, amount in certificates:
            entry, spend, used = self._certificate(code, amount, remaining)
            report.append(entry)
            if spend is not None:
                spends.append(spend)
                for i in range(n):
                    by_certificates[i] += used[i]
                    remaining[i] -= used[i]
        return _new(Payment, (redeem, points, by_points, limited_by, report, by_certificates, takes, spends))

    def _redeem(self, left: Sequence[int], redeem: int | str,
                sold: list[bool]) -> tuple[int, list[int], str | None, list[Change]]:
        ledger = self.ledger
        rules = ledger.decls.redemption
        assert rules is not None and self.state is not None
        member = _member(self.state)
        shared_room = member.redeem_limit if member is not None and member.redeem else None
        sources = self._sources(member is not None and member.redeem)
        available = held(sources) if shared_room is None else sum(t for _, _, t in _walk(sources, None, shared_room))
        if self.held:  # what other open sessions hold is not there to spend (before the per-receipt limits)
            available = max(0, available - self.held)
        n = len(left)
        excluded = set()
        if rules.exclude is not None:
            excluded = {line.index for line in ledger.matchers[rules.exclude](self.lines, self.view)}
        eligible = redeemable(left, excluded, sold)
        base = sum(eligible)
        payable = sum(left)
        wanted = available if redeem == "max" else min(int(redeem), available)
        limited_by = "balance" if redeem == "max" or int(redeem) > available else None  # unless a cap binds below
        limits = [("max_share", base * rules.max_share // MILLION), ("min_payment", payable - rules.min_payment)]
        money = ledger.money_of(wanted)
        for why, cap in limits:
            if money > max(cap, 0):
                money, limited_by = max(cap, 0), why
        if money <= 0:
            return 0, [0] * n, limited_by, []
        points = ledger.points_for(money)
        if rules.steps > 1 and points % rules.steps:  # whole steps only (docs/units.md): down to the last one
            points -= points % rules.steps
            money, limited_by = ledger.money_of(points), "steps"  # less than before: within every limit
            if money <= 0:
                return 0, [0] * n, limited_by, []
        by_points = split(money, eligible, self.line_nos)
        taken = _walk(sources, points, shared_room)
        return points, by_points, limited_by, self._takes(taken, split(points, by_points, self.line_nos))

    def _sources(self, shared_ok: bool) -> list[tuple[str, Any]]:
        """Where redeemed points come from, in order: (kind, item), ``("lot", _Lot)`` for every active lot
        of the redemption accounts in their spend order (the member's shared account after the own
        one), then ``("credit", (account, shared, room))``: borrowing is the last resort."""
        ledger = self.ledger
        rules = ledger.decls.redemption
        state = self.state
        assert rules is not None and state is not None
        utc = self.utc
        owners: list[tuple[bool, Mapping[str, AccountState]]] = [(False, state.accounts)]
        if shared_ok:  # (the state's mappings read, not copied: ``_accounts``)
            owners.append((True, state.shared.accounts if state.shared is not None else {}))
        sources: list[tuple[str, Any]] = []
        credit: list[tuple[str, bool, int]] = []
        for name in rules.accounts or tuple(ledger.accounts):
            decl = ledger.accounts[name]
            for shared, accounts in owners:
                acc = accounts.get(name)
                room = decl.credit - (acc.debt if acc is not None else 0)
                if acc is not None:
                    # its active lots (``_lots`` filtered by ``_active``), made as records without their Python
                    # ``__new__``
                    active = [_new(_Lot, (name, shared, lot.id, lot.left, lot.active_from, lot.expires))
                              for lot in acc.lots
                              if lot.left > 0 and lot.active_from <= utc and (lot.expires is None or lot.expires > utc)]
                    if self.reward_taken:  # what this receipt's catalogue rewards took comes first
                        active = [x for lot in active if _active(x := lot._replace(
                            left=lot.left - self.reward_taken.get((shared, name, lot.id), 0)), utc)]
                    if len(active) > 1:
                        active = spend_order(active, decl.spend)
                    sources += [("lot", lot) for lot in active]
                if decl.credit and room > 0:
                    credit.append((name, shared, room))
        return sources + [("credit", c) for c in credit]

    def _takes(self, taken: list[tuple[str, Any, int]], per_line: list[int]) -> list[Change]:
        """The take (from a lot) and debt (borrowing) changes of a redemption, each lot's take split over
        the lines its points paid for, in order."""
        changes: list[Change] = []
        matrix = fill([t for _, _, t in taken], per_line)
        for (kind, item, take), row in zip(taken, matrix, strict=True):
            lines = pairs(self.line_nos, row)
            if kind == "lot":
                changes.append({"op": "take", "account": item.account, "lot": item.id, "points": take,
                                "reason": "redeem", "lines": lines, "shared": item.shared,
                                "receipt": self.receipt_id})
            else:
                changes.append({"op": "debt", "account": item[0], "points": take, "reason": "redeem",
                                "lines": lines, "shared": item[1], "receipt": self.receipt_id})
        return changes

    def _certificate(self, code: str, amount: int | None,
                     remaining: list[int]) -> tuple[dict[str, Any], Change | None, list[int]]:
        entry: dict[str, Any] = {"code": code, "requested": amount, "amount": 0, "status": "rejected", "reason": None}
        state = self.state
        cert = next((c for c in state.certificates if c.code == code), None) if state is not None else None
        due = sum(remaining)
        expires = cert.expires if cert is not None else None
        if cert is None:
            entry["reason"] = "unknown"
        elif expires is not None and expires <= self.utc:
            entry["reason"] = "expired"
        elif cert.balance <= 0:
            entry["reason"] = "used_up"
        elif amount is not None and amount > cert.balance:
            entry["reason"] = "insufficient_balance"
        elif due <= 0:
            entry["status"], entry["reason"] = "unused", "nothing_to_pay"
        if entry["reason"] is not None or cert is None:
            return entry, None, []
        use = min(cert.balance if amount is None else amount, due)
        used = split(use, remaining, self.line_nos)
        spent = use if cert.multi_use else cert.balance  # single use: what is left is forfeited
        entry["amount"], entry["status"], entry["lines"] = use, "used", pairs(self.line_nos, used)
        if spent > use:
            entry["forfeited"] = spent - use
        lines = pairs(self.line_nos, split(-spent, used, self.line_nos))
        change = {"op": "certificate", "code": code, "delta": -spent, "lines": lines, "reason": "spend",
                  "receipt": self.receipt_id}
        return entry, change, used

