"""Steps 5 and 6 of docs/state.md section 5: accruals, counters, coupons, certificates sold, tiers, usage,
budgets and referrals, as the receipt's changes: the usual kinds (``applied``, ``lot``, ``counter``,
``qualify``, ``tier``, ``receipt``) as typed records (``state.changes.TYPED``), the others as JSON; the
engine writes the records' JSON for the outcome (``state.changes.Changes``)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from itertools import repeat
from operator import add, attrgetter
from typing import Any

from ..declarations import Account, CertificateSeries, CouponSeries
from ..model import Line
from ..money import ceil_div
from ..state import (
    Applied,
    CounterChange,
    LotChange,
    ReceiptChange,
    TierChange,
    iso,
)
from ..state.applier import _new
from ..state.redemption import CAP
from ..state.tiers import ReceiptQualify
from .base import _Receipt
from .lots import _accounts, _member
from .payment import Payment
from .splits import MILLION, Change, Request, _hash_code, pairs, split

_LINE_KEYS = ("line_no", "qty", "payable", "points_money", "certificates", "to_pay")  # a payment record's line
_QTY = attrgetter("qty")


def payment_lines(lines: Sequence[Line], line_nos: Sequence[int], left: Sequence[int], by_points: Sequence[int],
                  by_certificates: Sequence[int], to_pay: Sequence[int]) -> list[dict[str, Any]]:
    """The payment record's ``lines``: a dict per line (``_LINE_KEYS``), made in C (zip of the keys and
    the line's values, for each line)."""
    return list(map(dict, map(zip, repeat(_LINE_KEYS), zip(
        line_nos, map(_QTY, lines), left, by_points, by_certificates, to_pay, strict=True))))


def selected_weights(selected: Sequence[Line], left: Sequence[int]) -> list[int]:
    """Each line's payable where ``selected`` (a matcher's filter of the receipt's lines) holds it, else 0."""
    if len(selected) == len(left):  # a filter keeps each line once: every line
        return list(left)
    weights = [0] * len(left)
    for line in selected:
        weights[line.index] = left[line.index]
    return weights


def gift_event(campaign: str, skus: str, price: int) -> dict[str, Any]:
    """A ``gift`` request as the outcome's event: the SKUs to choose one of, and the price to add it at."""
    return {"event": "gift", "campaign": campaign, "skus": skus.split("\x1f"), "qty": 1, "price": price}


class _Finisher(_Receipt):
    """The changes and events of a receipt (steps 5-6)."""

    # -------------------------------------------------------------------------------- changes (steps 5-6)
    def finish(self, left: Sequence[int], payment: Payment, accrued: Sequence[tuple[str, Sequence[int]]],
               applied: Sequence[tuple[str, Sequence[Request]]], given: Mapping[str, tuple[int, int]],
               ) -> tuple[dict[str, Any], tuple[dict[str, Any], ...], list[Any], list[dict[str, Any]]]:
        """The payment record, the coupon report, the changes (JSON and typed) and the events of the receipt.

        ``accrued``: (campaign, points per line) of each applied campaign with points; ``applied``:
        (campaign, state requests) of each applied campaign in order; ``given``: campaign ->
        (discount, points) it gave (for budgets)."""
        rid = self.receipt_id
        ledger = self.ledger
        events: list[dict[str, Any]] = []
        known = self.state is not None
        # first: a second application of this outcome stops here (LOY510)
        changes: list[Any] = [_new(Applied, (rid, self.utc, rid))] if known else []
        if self.reward_changes:  # catalogue rewards' points and stock (ledger/catalogue.py)
            changes += self.reward_changes
        if self.reward_events:
            events += self.reward_events
        if payment.takes:
            changes += payment.takes
        if payment.spends:
            changes += payment.spends
        # the steps a programme has nothing for are skipped (``Ledger``'s flags): they would add nothing
        debts = self._debts(payment.takes) if ledger.credit and known else {}
        if known and accrued:
            changes += self._accruals(accrued, debts, events)
        used_series, idle_series, issues, adds, spends = self._requests(left, applied, given)
        if known and ledger.counters:
            changes += self._counters(left, adds, spends)
        if self.coupon_report or issues:
            changes += self._coupons(used_series, idle_series, issues, events)
        if ledger.certificate_skus:
            changes += self._sold(left, events)  # a host may register them even for an anonymous buyer
        if self.gifts:
            events += self.gifts  # lines for the till to add, even for an anonymous buyer (docs/rewards.md)
        if known:
            if ledger.decls.tiers is not None:
                changes += self._qualify(left, events)
            if ledger.usage_limited:
                changes += self._usage(applied, given)
            if ledger.discount_capped:
                changes += self._discount_caps(applied, given)
        if ledger.budgeted:
            changes += self._budgets(applied, given)
        if ledger.redemption_limited:
            changes += self._redemptions(applied, given)
        if known:
            if ledger.decls.referral is not None:
                changes += self._referral(left, debts, events)
            changes.append(_new(ReceiptChange, (rid, 1)))
        return self._record(left, payment), tuple(self.coupon_report), changes, events

    def _accruals(self, accrued: Sequence[tuple[str, Sequence[int]]], debts: dict[tuple[str, bool], int],
                  events: list[dict[str, Any]]) -> list[Any]:
        """Each campaign's points as a lot in its account (debt repaid first)."""
        out: list[Any] = []
        account_for = self.ledger.account_for
        for campaign, points in accrued:
            account = account_for(campaign)
            if account is not None and any(points):
                out += self._lot(account, campaign, list(points), debts, events)
        return out

    def _requests(self, left: Sequence[int], applied: Sequence[tuple[str, Sequence[Request]]],
                  given: Mapping[str, tuple[int, int]]) -> tuple[
                      dict[str, str], set[str], list[tuple[str, str]], dict[str, list[int]], dict[str, int]]:
        """The applied campaigns' requests: the coupon series they used (series -> first campaign that
        gave something), the series whose campaigns were applied but gave nothing (0.00 off, no points, no
        request: the coupon is not used), the coupons they issue, what they add to counters (per line, by
        payable) and spend from them."""
        used_series: dict[str, str] = {}
        idle_series: set[str] = set()
        issues: list[tuple[str, str]] = []
        adds: dict[str, list[int]] = {}
        spends: dict[str, int] = {}
        coupons, campaigns = self.valid_coupons, self.ledger.campaigns
        for campaign, requests in applied:
            cs = campaigns.get(campaign) if coupons else None
            if cs is not None and cs.coupon is not None and cs.coupon in coupons:
                if requests or any(given.get(campaign, (0, 0))):
                    used_series.setdefault(cs.coupon, campaign)
                else:
                    idle_series.add(cs.coupon)
            for op, name, count in requests:
                if op == "add":
                    parts = split(count, list(left), self.line_nos)  # a new list
                    vec = adds.get(name)
                    adds[name] = parts if vec is None else list(map(add, vec, parts))
                elif op == "spend":
                    spends[name] = spends.get(name, 0) + count
                elif op == "issue":
                    issues.append((campaign, name))
                elif op == "gift":  # a line for the till to add (docs/rewards.md); "reward": ledger/catalogue.py
                    self.gifts.append(gift_event(campaign, name, count))
        return used_series, idle_series, issues, adds, spends

    def _coupons(self, used_series: dict[str, str], idle_series: set[str], issues: list[tuple[str, str]],
                 events: list[dict[str, Any]]) -> list[Change]:
        """Coupons presented and used (redeemed in the report; ``no_effect`` and kept when the campaigns
        of its series gave nothing), then the coupons issued."""
        known = self.state is not None
        out: list[Change] = []
        for entry in self.coupon_report:
            series = entry["series"]
            if entry["status"] != "unused" or self.valid_coupons[series][0] != entry["code"]:
                continue
            if series in used_series:
                entry["status"], entry["reason"] = "redeemed", None
                if known:
                    out.append({"op": "coupon_use", "code": entry["code"], "series": series,
                                "campaign": used_series[series], "receipt": self.receipt_id})
            elif series in idle_series:
                entry["reason"] = "no_effect"
        if known:
            for seq, (campaign, series) in enumerate(issues):
                coupon = self._issue(campaign, self.ledger.series[series], seq)
                out.append(coupon)
                events.append({"event": "coupon_issued", "code": coupon["code"], "series": series,
                               "campaign": campaign})
        return out

    def _sold(self, left: Sequence[int], events: list[dict[str, Any]]) -> list[Change]:
        """A certificate per line that sells one (its SKU in a series), worth the line's payable."""
        out: list[Change] = []
        skus = self.ledger.certificate_skus
        for line, pay in zip(self.lines, left, strict=True) if self.sells() else ():
            series = skus.get(line.sku)
            if series is not None and pay > 0 and series.per_unit and line.units > 1:
                out += self._sell_units(series, line, pay, events)
            elif series is not None and pay > 0:
                cert = self._sell(series, line, pay)
                out.append(cert)
                events.append({"event": "certificate_sold", "code": cert["code"], "series": series.name,
                               "value": pay})
        return out

    def _sell_units(self, series: CertificateSeries, line: Line, pay: int, events: list[dict[str, Any]]
                    ) -> list[Change]:
        """``per unit``: a certificate per whole unit of the line, worth its share of the payable (the
        shares sum to it exactly), each with its ``unit`` so a return voids whole cards (docs/rewards.md)."""
        out: list[Change] = []
        for unit, value in enumerate(split(pay, [1] * line.units, list(range(line.units)))):
            cert = self._sell(series, line, value, unit)
            out.append(cert)
            events.append({"event": "certificate_sold", "code": cert["code"], "series": series.name,
                           "value": value})
        return out

    def _usage(self, applied: Sequence[tuple[str, Sequence[Request]]],
               given: Mapping[str, tuple[int, int]]) -> list[Change]:
        """A use of each applied campaign with a usage limit, in the limit's period; a campaign that
        gave nothing (0.00 off, no points, no request) has not used its limit, as its coupon is not used."""
        out: list[Change] = []
        for campaign, requests in applied:
            cs = self.ledger.campaigns.get(campaign)
            if cs is not None and cs.usage_limit is not None and (requests or any(given.get(campaign, (0, 0)))):
                out.append({"op": "usage", "campaign": campaign, "period": self.period(cs.usage_limit.per),
                            "delta": 1, "receipt": self.receipt_id})
        return out

    def _budgets(self, applied: Sequence[tuple[str, Sequence[Request]]],
                 given: Mapping[str, tuple[int, int]]) -> list[Change]:
        """What each applied campaign with a budget gave, in the budget's unit (the other converted, ceil)."""
        ledger = self.ledger
        out: list[Change] = []
        for campaign, _ in applied:
            cs = ledger.campaigns.get(campaign)
            if cs is not None and cs.budget is not None:
                money, gained = given.get(campaign, (0, 0))
                if cs.budget.kind == "money":
                    delta = money + ceil_div(gained * ledger.point_value, ledger.points_scale)
                else:
                    delta = gained + ceil_div(money * ledger.points_scale, ledger.point_value)
                if delta:
                    out.append({"op": "budget", "campaign": campaign, "kind": cs.budget.kind, "delta": delta,
                                "receipt": self.receipt_id})
        return out

    def _redemptions(self, applied: Sequence[tuple[str, Sequence[Request]]],
                     given: Mapping[str, tuple[int, int]]) -> list[Change]:
        """One use of each programme-wide usage limit of each applied campaign that gave something (as
        ``_usage``): the reservation the host commits (runtime/redemptions.py)."""
        out: list[Change] = []
        for campaign, requests in applied:
            cs = self.ledger.campaigns.get(campaign)
            if cs is not None and cs.redemptions and (requests or any(given.get(campaign, (0, 0)))):
                for limit in cs.redemptions:
                    store, day = self.redemption_scope(limit)
                    out.append({"op": "redemption", "campaign": campaign, "store": store, "day": day,
                                "limit": limit.count, "delta": 1, "receipt": self.receipt_id})
        return out

    def _discount_caps(self, applied: Sequence[tuple[str, Sequence[Request]]],
                       given: Mapping[str, tuple[int, int]]) -> list[Change]:
        """What each applied campaign with a cap per customer (``max discount ... per PERIOD``) gave off,
        counted in the customer's ``usage`` (a full return negates it)."""
        out: list[Change] = []
        for campaign, _ in applied:
            cs = self.ledger.campaigns.get(campaign)
            money = given.get(campaign, (0, 0))[0]
            if cs is not None and cs.discount_cap is not None and money:
                out.append({"op": "usage", "campaign": campaign + CAP, "period": self.period(cs.discount_cap[0]),
                            "delta": money, "receipt": self.receipt_id})
        return out

    def _record(self, left: Sequence[int], payment: Payment) -> dict[str, Any]:
        """The outcome's payment record, per line too (with each line's quantity, for returns)."""
        to_pay: Sequence[int]
        lines: list[dict[str, Any]] | None
        if not self.ledger.detail:  # (nothing reads the lines: see ``Ledger.detail``)
            to_pay, lines = (sum(left) - sum(payment.by_points) - sum(payment.by_certificates),), None
        elif payment.points or any(payment.by_points) or any(payment.by_certificates):
            to_pay = [a - p - c for a, p, c in zip(left, payment.by_points, payment.by_certificates, strict=True)]
            lines = payment_lines(self.lines, self.line_nos, left, payment.by_points, payment.by_certificates, to_pay)
        else:  # the usual receipt: nothing paid with points or certificates
            to_pay = left
            lines = [{"line_no": line.line_no, "qty": line.qty, "payable": pay, "points_money": 0, "certificates": 0,
                      "to_pay": pay} for line, pay in zip(self.lines, left, strict=True)]
        return {
            "customer": self.state.id if self.state is not None else None,
            "requested": payment.requested,
            "points": payment.points,
            "points_money": sum(payment.by_points),
            "limited_by": payment.limited_by,
            "certificates": payment.certificates,
            "certificates_money": sum(payment.by_certificates),
            "to_pay": sum(to_pay),
            "lines": lines,
        }

    def _debts(self, takes: Sequence[Change]) -> dict[tuple[str, bool], int]:
        """Each account's debt after the receipt's borrowing: what accruals repay."""
        out: dict[tuple[str, bool], int] = {}
        if self.state is None or not self.ledger.credit:
            return out
        for shared in (False, True):
            for name, acc in _accounts(self.state, shared).items():
                out[(name, shared)] = acc.debt
        for change in takes:
            if change["op"] == "debt":
                key = (change["account"], change["shared"])
                out[key] = out.get(key, 0) + change["points"]
        return out

    def _target(self) -> bool:
        """Whether this customer's accruals go to the shared account (a member with ``accrue``)."""
        member = _member(self.state)
        return member is not None and bool(member.accrue)

    def _lot(self, account: str, campaign: str | None, vec: list[int], debts: dict[tuple[str, bool], int],
             events: list[dict[str, Any]], lines: bool = True, lot_id: str | None = None) -> list[Any]:
        """An accrual: first the account's debt is repaid by its ``repay`` share (floor), the rest is a lot."""
        ledger = self.ledger
        decl: Account = ledger.accounts[account]
        shared = self.state is not None and self.state.shared is not None and self._target()
        total = sum(vec)
        out: list[Any] = []
        debt = debts.get((account, shared), 0) if debts else 0
        repaid = min(debt, total * decl.repay // MILLION) if debt > 0 else 0
        line_nos = self.line_nos
        if repaid:
            parts = split(repaid, vec, line_nos)
            vec = [v - p for v, p in zip(vec, parts, strict=True)]
            debts[(account, shared)] = debt - repaid
            change: Change = {"op": "debt", "account": account, "points": -repaid, "reason": "repay",
                              "shared": shared, "receipt": self.receipt_id}
            if lines:
                change["lines"] = pairs(line_nos, [-p for p in parts])
            out.append(change)
            events.append({"event": "debt_repaid", "account": account, "points": repaid, "shared": shared})
        points = total - repaid
        if points > 0:
            active_from, expires = self._times(decl)
            out.append(_new(LotChange, (account, lot_id or f"{self.receipt_id}:{account}:{campaign}", points,
                                        active_from, expires, self.receipt_id, campaign, shared,
                                        pairs(line_nos, vec) if lines and ledger.detail else None, None, None)))
        return out

    def _times(self, decl: Account) -> tuple[int, int | None]:
        """A lot's active_from and expires in the account (the same for every lot of the receipt in the
        account: made once)."""
        found = self._lot_times.get(decl.name)
        if found is None:
            found = self._lot_times[decl.name] = (self.utc + decl.activation, self.ledger.lot_expiry(decl, self.utc,
                                                                                                     self.day))
        return found

    def _counters(self, left: Sequence[int], adds: dict[str, list[int]], spends: dict[str, int]) -> list[Any]:
        ledger = self.ledger
        out: list[Any] = []
        line_nos = self.line_nos
        detail = ledger.detail
        for decl in ledger.decls.counters:
            vec = adds.get(decl.name)
            in_window = decl.valid is None or decl.valid[0] <= self.day <= decl.valid[1]
            if decl.earn is not None and in_window:
                weights = selected_weights(ledger.matchers[decl.earn.predicate](self.lines, self.view), left)
                earned = sum(weights) // decl.earn.per * decl.earn.count  # floor: whole steps only
                if earned:
                    parts = split(earned, weights, line_nos)
                    vec = parts if vec is None else [a + b for a, b in zip(vec, parts, strict=True)]
            added = sum(vec) if vec is not None else 0
            if vec is not None and added and in_window:
                out.append(_new(CounterChange, (decl.name, added, self.period(decl.reset),
                                                pairs(line_nos, vec) if detail else None, "add", self.receipt_id)))
            spent = spends.get(decl.name, 0)
            if spent:
                taken = pairs(line_nos, split(-spent, list(left), line_nos)) if detail else None
                out.append(_new(CounterChange, (decl.name, -spent, self.period(decl.reset), taken, "spend",
                                                self.receipt_id)))
        return out

    def _issue(self, campaign: str, series: CouponSeries, seq: int) -> Change:
        ledger = self.ledger
        code = series.text if series.code == "shared" else \
            series.text + _hash_code(self.receipt_id, campaign, str(seq))
        start, end = self.utc, None
        if series.valid_for is not None:
            end = self.utc + series.valid_for
        elif series.valid is not None:
            start = max(start, ledger.local_midnight(series.valid[0]))
            end = ledger.local_midnight(series.valid[1] + 1)
        return {"op": "coupon_issue", "code": code, "series": series.name, "issued": iso(self.utc),
                "valid_from": iso(start), "valid_to": None if end is None else iso(end), "uses_left": series.uses,
                "campaign": campaign, "receipt": self.receipt_id}

    def _sell(self, series: CertificateSeries, line: Line, value: int, unit: int | None = None) -> Change:
        expires = self.ledger.expiry(series.expiry, self.utc, self.day)
        where = str(line.line_no) if unit is None else f"{line.line_no}.{unit}"
        code = f"{series.name.upper()}-{_hash_code(self.receipt_id, where, length=10)}"
        change: Change = {"op": "certificate_issue", "code": code, "series": series.name, "value": value,
                          "balance": value, "expires": None if expires is None else iso(expires),
                          "multi_use": series.multi_use, "lines": [[line.line_no, value]], "receipt": self.receipt_id}
        if unit is not None:
            change["unit"] = unit
        return change

    def _qualify(self, left: Sequence[int], events: list[dict[str, Any]]) -> list[Any]:
        tiers = self.ledger.decls.tiers
        state = self.state
        if tiers is None or state is None:
            return []
        rolling = tiers.period.kind == "rolling"
        key = "rolling" if rolling else self.period(tiers.period.kind)  # (``qualification_period``)
        lines = None
        if tiers.measure == "spend":
            skus = self.ledger.certificate_skus
            weights = [0 if line.sku in skus else pay for line, pay in zip(self.lines, left, strict=True)] \
                if self.sells() else list(left)
            delta = sum(weights)
            lines = pairs(self.line_nos, weights) if self.ledger.detail else None
        else:
            delta = 1
        if not delta:
            return []
        out: list[Any] = [_new(ReceiptQualify, (key, delta, 0, False, None, self.day if rolling else None, lines,
                                                None, self.receipt_id))]
        q = state.qualification
        if q is None or q.period != key:
            value = 0
        elif rolling:
            first = self.day - (tiers.period.days or 0)
            value = sum(v for d, v in q.days if first < d <= self.day)
        else:
            value = q.value
        value += delta
        ledger = self.ledger
        names = ledger.tier_names
        reached = bisect_right(ledger.tier_thresholds, value) - 1  # the thresholds ascend (the bundle checks)
        current = ledger.tier_rank.get(state.tier, -1)  # none yet: the entry level is news
        if reached > current:
            out.append(_new(TierChange, (state.tier, names[reached], "upgrade", self.receipt_id)))
            events.append({"event": "tier_changed", "from": state.tier, "to": names[reached], "reason": "upgrade"})
        return out

    def _referral(self, left: Sequence[int], debts: dict[tuple[str, bool], int],
                  events: list[dict[str, Any]]) -> list[Any]:
        rules = self.ledger.decls.referral
        state = self.state
        ref = state.referral if state is not None else None
        if rules is None or state is None or ref is None or not ref.referred_by or ref.rewarded or state.receipts:
            return []
        if sum(left) < rules.qualify:
            return []
        out: list[Any] = []
        rid = self.receipt_id
        if rules.referrer and rules.referrer_account is not None:
            out.append({"op": "transfer", "customer": ref.referred_by, "account": rules.referrer_account,
                        "points": rules.referrer, "reason": "referral", "lot": f"{rid}:{rules.referrer_account}:referrer",
                        "receipt": rid})
        if rules.newcomer and rules.newcomer_account is not None:
            vec = split(rules.newcomer, list(left), self.line_nos)
            for change in self._lot(rules.newcomer_account, None, vec, debts, events, lines=False,
                                    lot_id=f"{rid}:{rules.newcomer_account}:referral"):
                out.append(change._replace(reason="referral") if type(change) is LotChange else change)
        out.append({"op": "referral", "rewarded": True, "receipt": rid})
        events.append({"event": "referral", "referrer": ref.referred_by, "points": rules.referrer})
        return out

