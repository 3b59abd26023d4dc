"""The ledger: what a receipt does to a customer's state, and what a return undoes (docs/state.md,
sections 4-7).

The engine prices a receipt as before; a ``Session`` adds what state changes about it: it gates
campaigns (coupon, usage limit, budget), keeps their counter spends covered, settles the payment
(points, then certificates) and turns the result into **changes**, plain JSON objects that
``state.apply`` alone writes. Nothing here mutates a state. A return (``refund``) is a list of
changes that undo the original ones line by line, in proportion to what comes back, with cumulative
rounding so that returning a line in parts undoes exactly what returning it at once does.

Every division names its rounding; every split of a whole over lines uses ``money.allocate``
(largest remainder, ties to the smaller line_no), so a change's ``lines`` always sum to it exactly.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from .bundle import Bundle
from .declarations import Account, CampaignState, CertificateSeries, CouponSeries, Expiry
from .errors import LoyaError, RefundError, StateError
from .limits import MAX_TEXT_CHARS
from .model import CustomerView, Line, Outcome, _show, _thousandths
from .money import allocate, ceil_div
from .state import (
    AccountState,
    Coupon,
    CustomerState,
    Member,
    expiry_time,
    iso,
    local_midnight,
    period_key,
    qualification_period,
)

MILLION = 1_000_000

Change = dict[str, Any]
Matcher = Callable[[Sequence[Line], Any], Sequence[Line]]
LocalFn = Callable[[int], tuple[int, int, int]]  # utc seconds -> (local date ordinal, weekday, second of day)
Request = tuple[str, str, int]  # rewards.Request: (add | spend | issue, name, count)


def _hash_code(*parts: str, length: int = 8) -> str:
    """A deterministic code part: the first characters of the base32 (A-Z, 2-7: no 0/O or 1/I to
    confuse) of sha256 over ``parts``."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return base64.b32encode(digest).decode()[:length]


# ------------------------------------------------------------------------------------------ splits


def split(total: int, weights: Sequence[int], line_nos: Sequence[int]) -> list[int]:
    """``total`` (any sign) over ``weights`` exactly, ties to the smaller line_no; equal weights when
    every weight is zero, so a whole is never lost."""
    if not weights:
        return []
    if sum(weights) <= 0:
        weights = [1] * len(weights)
    sign = -1 if total < 0 else 1
    parts = allocate(abs(total), weights, "largest_remainder", line_nos)
    return [sign * p for p in parts]


def pairs(line_nos: Sequence[int], parts: Sequence[int]) -> list[list[int]]:
    """``[[line_no, part], ...]`` leaving out zero parts (the ``lines`` of a change)."""
    return [[n, p] for n, p in zip(line_nos, parts, strict=True) if p]


def fill(rows: Sequence[int], columns: Sequence[int]) -> list[list[int]]:
    """A matrix with the given row sums and column sums (equal totals, non-negative), filled in order
    (the north-west corner rule): how each lot's take splits over the lines its points paid for."""
    out = [[0] * len(columns) for _ in rows]
    left = list(columns)
    j = 0
    for i, need in enumerate(rows):
        while need > 0 and j < len(left):
            take = min(need, left[j])
            out[i][j] += take
            need -= take
            left[j] -= take
            if left[j] == 0:
                j += 1
    return out


# ------------------------------------------------------------------------------------------ state reads


class _Lot(NamedTuple):
    account: str
    shared: bool
    id: str
    left: int
    active_from: int
    expires: int | None


def _accounts(state: CustomerState, shared: bool) -> dict[str, AccountState]:
    if shared:
        return dict(state.shared.accounts) if state.shared is not None else {}
    return dict(state.accounts)


def _member(state: CustomerState | None) -> Member | None:
    """The customer's rights in their shared account, or None."""
    if state is None or state.shared is None:
        return None
    return state.shared.members.get(state.id)


def _lots(account_state: AccountState, account: str, shared: bool) -> list[_Lot]:
    return [_Lot(account, shared, lot.id, lot.left, lot.active_from, lot.expires) for lot in account_state.lots]


def spend_order(lots: list[_Lot], order: str) -> list[_Lot]:
    """Lots in the account's redemption order; ties by lot id, so the order is total."""
    if order == "oldest_first":
        return sorted(lots, key=lambda lot: (lot.active_from, lot.id))
    if order == "newest_first":
        return sorted(lots, key=lambda lot: (-lot.active_from, lot.id))
    return sorted(lots, key=lambda lot: (lot.expires is None, lot.expires or 0, lot.active_from, lot.id))


def _active(lot: _Lot, now: int) -> bool:
    return lot.left > 0 and lot.active_from <= now and (lot.expires is None or lot.expires > now)


def _walk(sources: list[tuple[str, Any]], need: int | None,
          shared_room: int | None) -> list[tuple[str, Any, int]]:
    """What to take from each source, in order, for ``need`` points (None: all there is); the shared
    account's sources together give at most ``shared_room`` (a member's redeem_limit)."""
    taken: list[tuple[str, Any, int]] = []
    for kind, item in sources:
        if need is not None and need <= 0:
            break
        amount, shared = (item.left, item.shared) if kind == "lot" else (item[2], item[1])
        if shared and shared_room is not None:
            amount = min(amount, shared_room)
        take = amount if need is None else min(amount, need)
        if take <= 0:
            continue
        if shared and shared_room is not None:
            shared_room -= take
        taken.append((kind, item, take))
        if need is not None:
            need -= take
    return taken


# ------------------------------------------------------------------------------------------ the ledger


class Ledger:
    """What a bundle's state declarations make of receipts and returns; built once per engine."""

    def __init__(self, bundle: Bundle, matchers: Sequence[Matcher], local: LocalFn) -> None:
        self.bundle = bundle
        self.decls = decls = bundle.state
        s = bundle.settings
        self.zone = ZoneInfo(s.timezone)
        self.local = local
        self.matchers = matchers
        self.point_value = s.point_value
        self.points_scale = 10**s.points_minor
        self.accounts = {a.name: a for a in decls.accounts}
        self.credit = any(a.credit for a in decls.accounts)  # debts exist only on credit accounts
        self.default_account = decls.default_account or (decls.accounts[0].name if decls.accounts else None)
        self.counters = {c.name: c for c in decls.counters}
        self.series = {c.name: c for c in decls.coupons}
        self.shared_codes = {c.text: c for c in decls.coupons if c.code == "shared"}
        self.used_series = {c.state.coupon for c in bundle.campaigns if c.state.coupon is not None}
        self.certificate_skus: dict[str, CertificateSeries] = {}
        for series in decls.certificates:
            for sku in sorted(series.skus):
                self.certificate_skus.setdefault(sku, series)
        self.campaigns: dict[str, CampaignState] = {c.name: c.state for c in bundle.campaigns}
        self.gated = frozenset(c.index for c in bundle.campaigns
                               if c.state.coupon is not None or c.state.usage_limit is not None
                               or c.state.budget is not None)

    # -------------------------------------------------------------------------------- conversions
    def money_of(self, points: int) -> int:
        """What points pay: ⌊points × value / 10^points_minor⌋ (floor: no fraction of money is made)."""
        return points * self.point_value // self.points_scale

    def points_for(self, money: int) -> int:
        """Points that pay ``money``: ⌈money × 10^points_minor / value⌉ (ceil: no fraction of a point is
        lost)."""
        return ceil_div(money * self.points_scale, self.point_value)

    def local_midnight(self, day: int) -> int:
        """UTC seconds of local midnight at the start of a local date (ordinal)."""
        return local_midnight(day, self.zone)

    def expiry(self, expiry: Expiry, utc: int) -> int | None:
        """When something made at ``utc`` expires (None: never)."""
        return expiry_time(expiry, utc, self.zone)

    def account_for(self, campaign: str | None) -> str | None:
        if campaign is None:
            return self.default_account
        state = self.campaigns.get(campaign)
        return (state.account if state is not None else None) or self.default_account

    def open(self, receipt_id: str, state: CustomerState | None, view: CustomerView, utc: int, lines: Sequence[Line],
             coupons: Sequence[str], budgets: Mapping[str, int] | None, expired: Sequence[str] = ()) -> Session:
        """A receipt's session on a state already advanced to ``utc`` (None: anonymous) and its view;
        ``expired``: coupon codes that advancing to ``utc`` just took away."""
        return Session(self, receipt_id, state, view, utc, lines, coupons, budgets, expired)


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


class Session:
    """One receipt's state work. The engine calls ``gate`` and ``reserve`` per campaign, ``pay`` once
    the discounts are final, and ``finish`` for the changes."""

    def __init__(self, ledger: Ledger, receipt_id: str, state: CustomerState | None, view: CustomerView, utc: int,
                 lines: Sequence[Line], coupons: Sequence[str], budgets: Mapping[str, int] | None,
                 expired: Sequence[str] = ()) -> None:
        self.ledger = ledger
        self.receipt_id = receipt_id
        self.state = state
        self.view = view
        self.utc = utc
        self.day = ledger.local(utc)[0]
        self.lines = lines
        self.line_nos = [line.line_no for line in lines]
        self.budgets = budgets
        self.budget_left: dict[str, int] = {}
        self.reserved: dict[str, int] = {}
        self.coupon_report: list[dict[str, Any]] = []
        self.valid_coupons: dict[str, tuple[str, CouponSeries]] = {}  # series -> (code, series)
        self.notes: dict[str, str] = {}  # campaign -> why it was gated (for explain)
        self._lot_times: dict[str, tuple[str, str | None]] = {}
        self._periods: dict[str, str] = {}
        self._check_coupons(coupons, frozenset(expired))

    # -------------------------------------------------------------------------------- coupons (step 2)
    def _check_coupons(self, presented: Sequence[str], expired: frozenset[str]) -> None:
        """Step 2: each presented code is valid (then ``unused`` until a campaign uses it) or rejected."""
        if not presented:
            return
        ledger = self.ledger
        state = self.state
        owned = {c.code: c for c in state.coupons} if state is not None else {}
        uses = dict(state.coupon_uses) if state is not None else {}
        seen: set[str] = set()
        for code in presented:
            entry: dict[str, Any] = {"code": code, "series": None, "status": "rejected", "reason": None}
            self.coupon_report.append(entry)
            if code in seen:
                entry["reason"] = "duplicate"
                continue
            seen.add(code)
            coupon = owned.get(code)
            series = ledger.series.get(coupon.series) if coupon is not None else ledger.shared_codes.get(code)
            if series is None:
                entry["reason"] = "expired" if code in expired else "unknown"
                continue
            entry["series"] = series.name
            reason = self._coupon_problem(coupon, series, uses.get(series.name, 0))
            if reason is None and series.name not in ledger.used_series:
                reason = "not_applicable"
            if reason is not None:
                entry["reason"] = reason
            elif series.name in self.valid_coupons:
                entry["status"], entry["reason"] = "unused", "another coupon of the series is used"
            else:
                entry["status"] = "unused"
                self.valid_coupons[series.name] = (code, series)

    def _coupon_problem(self, coupon: Coupon | None, series: CouponSeries, used: int) -> str | None:
        now = self.utc
        if coupon is not None:
            start, end = coupon.valid_from, coupon.valid_to
            if now < start:
                return "not_yet_valid"
            if end is not None and now >= end:
                return "expired"
            if coupon.uses_left <= 0:
                return "used"
        else:  # a shared code: the series' window, its uses per customer
            if series.valid is not None:
                if self.day < series.valid[0]:
                    return "not_yet_valid"
                if self.day > series.valid[1]:
                    return "expired"
            if used >= series.uses:
                return "used"
        if series.per_customer is not None and used >= series.per_customer:
            return "per_customer_limit"
        return None

    # -------------------------------------------------------------------------------- gates (step 3)
    def gate(self, campaign: str, cs: CampaignState) -> str | None:
        """Why a campaign may not run before its window is even looked at: coupon, usage, budget."""
        if cs.coupon is not None and cs.coupon not in self.valid_coupons:
            self.notes[campaign] = f"no valid coupon of the series {cs.coupon} was presented"
            return "no_coupon"
        limit = cs.usage_limit
        if limit is not None and self.state is not None:
            key = self.period(limit.per)
            used = self.state.usage.get(campaign, {}).get(key, 0)
            if used >= limit.count:
                self.notes[campaign] = f"used {used} of {limit.count} per {limit.per} ({key})"
                return "limit_reached"
        budget = cs.budget
        if budget is not None and self.budgets is not None:
            left = self.budget_left.setdefault(campaign, self.budgets.get(campaign, budget.amount))
            if left <= 0:
                self.notes[campaign] = f"the {budget.kind} budget of {budget.amount} is spent"
                return "budget_exhausted"
        return None

    def discount_room(self, campaign: str, cs: CampaignState) -> int | None:
        """The most discount the campaign's budget still allows (None: no limit)."""
        budget = cs.budget
        if budget is None or self.budgets is None:
            return None
        left = self.budget_left.get(campaign, self.budgets.get(campaign, budget.amount))
        return left if budget.kind == "money" else self.ledger.money_of(left)

    def points_room(self, campaign: str, cs: CampaignState, discount: int) -> int | None:
        """The most points the campaign's budget still allows after its discount (None: no limit)."""
        budget = cs.budget
        if budget is None or self.budgets is None:
            return None
        left = self.budget_left.get(campaign, self.budgets.get(campaign, budget.amount))
        ledger = self.ledger
        if budget.kind == "money":
            return max(0, (left - discount) * ledger.points_scale // ledger.point_value)
        return max(0, left - ceil_div(discount * ledger.points_scale, ledger.point_value))

    def reserve(self, requests: Sequence[Request]) -> bool:
        """Whether the campaign's spends are covered by the counters' values before the receipt, less
        what earlier campaigns of the receipt spend; if so they are reserved."""
        want: dict[str, int] = {}
        for op, name, n in requests:
            if op == "spend":
                want[name] = want.get(name, 0) + n
        if not want:
            return True
        values = self.view.counters
        for name, n in want.items():
            if values.get(name, 0) - self.reserved.get(name, 0) < n:
                return False
        for name, n in want.items():
            self.reserved[name] = self.reserved.get(name, 0) + n
        return True

    def release(self, requests: Sequence[Request]) -> None:
        """Give back a losing candidate's reservation."""
        for op, name, n in requests:
            if op == "spend":
                self.reserved[name] -= n

    # -------------------------------------------------------------------------------- payment (step 4)
    def pay(self, left: Sequence[int], redeem: int | str | None,
            certificates: Sequence[tuple[str, int | None]]) -> Payment:
        ledger = self.ledger
        n = len(left)
        skus = ledger.certificate_skus
        sold = [line.sku in skus for line in self.lines] if skus else [False] * n
        by_points = [0] * n
        points = 0
        limited_by = None
        takes: list[Change] = []
        if redeem is not None and self.state is not None and ledger.decls.redemption is not None:
            points, by_points, limited_by, takes = self._redeem(left, redeem, sold)
        remaining = [0 if s else a - p for a, p, s in zip(left, by_points, sold, strict=True)]
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
        return Payment(redeem, points, by_points, limited_by, report, by_certificates, takes, spends)

    def _redeem(self, left: Sequence[int], redeem: int | str,
                sold: list[bool]) -> tuple[int, list[int], str | None, list[Change]]:
        ledger = self.ledger
        rules = ledger.decls.redemption
        state = self.state
        assert rules is not None and state is not None
        now = self.utc
        member = _member(state)
        shared_ok = member is not None and member.redeem
        shared_room = member.redeem_limit if member is not None and member.redeem else None
        sources: list[tuple[str, Any]] = []  # (kind, item): ("lot", _Lot) | ("credit", (account, shared, room))
        credit: list[tuple[str, bool, int]] = []
        names = rules.accounts or tuple(ledger.accounts)
        for name in names:
            decl = ledger.accounts[name]
            for shared in (False, True):
                if shared and not shared_ok:
                    continue
                acc = _accounts(state, shared).get(name)
                room = decl.credit - (acc.debt if acc is not None else 0)
                if acc is not None:
                    for lot in spend_order([lot for lot in _lots(acc, name, shared) if _active(lot, now)], decl.spend):
                        sources.append(("lot", lot))
                if decl.credit and room > 0:
                    credit.append((name, shared, room))
        # every lot first (in account order), then borrowing: a debt is the last resort
        sources += [("credit", c) for c in credit]
        available = sum(t for _, _, t in _walk(sources, None, shared_room))
        n = len(left)
        excluded = set()
        if rules.exclude is not None:
            excluded = {line.index for line in ledger.matchers[rules.exclude](self.lines, self.view)}
        eligible = [0 if (i in excluded or sold[i]) else left[i] for i in range(n)]
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
        by_points = split(money, eligible, self.line_nos)
        per_line = split(points, by_points, self.line_nos)
        taken = _walk(sources, points, shared_room)
        matrix = fill([t for _, _, t in taken], per_line)
        changes: list[Change] = []
        for (kind, item, take), row in zip(taken, matrix, strict=True):
            lines = pairs(self.line_nos, row)
            if kind == "lot":
                changes.append({"op": "take", "account": item.account, "lot": item.id, "points": take,
                                "reason": "redeem", "lines": lines, "shared": item.shared,
                                "receipt": self.receipt_id})
            else:
                changes.append({"op": "debt", "account": item[0], "points": take, "reason": "redeem",
                                "lines": lines, "shared": item[1], "receipt": self.receipt_id})
        return points, by_points, limited_by, changes

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

    # -------------------------------------------------------------------------------- changes (steps 5-6)
    def finish(self, left: Sequence[int], payment: Payment, accrued: Sequence[tuple[str, Sequence[int]]],
               applied: Sequence[tuple[str, Sequence[Request]]], given: Mapping[str, tuple[int, int]],
               ) -> tuple[dict[str, Any], tuple[dict[str, Any], ...], list[Change], list[dict[str, Any]]]:
        """The payment record, the coupon report, the changes and the events of the receipt.

        ``accrued``: (campaign, points per line) of each applied campaign with points; ``applied``:
        (campaign, state requests) of each applied campaign in order; ``given``: campaign ->
        (discount, points) it gave (for budgets)."""
        ledger = self.ledger
        state = self.state
        rid = self.receipt_id
        line_nos = self.line_nos
        changes: list[Change] = []
        events: list[dict[str, Any]] = []
        known = state is not None
        to_pay = [a - p - c for a, p, c in zip(left, payment.by_points, payment.by_certificates, strict=True)]
        if known:  # first: a second application of this outcome stops here (LOY510)
            changes.append({"op": "applied", "id": rid, "at": iso(self.utc), "receipt": rid})
        # payment
        changes += payment.takes
        changes += payment.spends
        debts = self._debts(payment.takes)
        # accruals -> lots
        if known:
            for campaign, points in accrued:
                account = ledger.account_for(campaign)
                if account is not None and any(points):
                    changes += self._lot(account, campaign, list(points), debts, events)
        # counters and chips
        used_series: dict[str, str] = {}
        issues: list[tuple[str, str]] = []
        adds: dict[str, list[int]] = {}
        spends: dict[str, int] = {}
        for campaign, requests in applied:
            cs = ledger.campaigns.get(campaign)
            if cs is not None and cs.coupon is not None and cs.coupon in self.valid_coupons:
                used_series.setdefault(cs.coupon, campaign)
            for op, name, count in requests:
                if op == "add":
                    adds.setdefault(name, [0] * len(left))
                    for i, part in enumerate(split(count, list(left), line_nos)):
                        adds[name][i] += part
                elif op == "spend":
                    spends[name] = spends.get(name, 0) + count
                else:
                    issues.append((campaign, name))
        if known:
            changes += self._counters(left, adds, spends)
        # coupons: uses, then issues
        for entry in self.coupon_report:
            series = entry["series"]
            if entry["status"] == "unused" and series in used_series and self.valid_coupons[series][0] == entry["code"]:
                entry["status"], entry["reason"] = "redeemed", None
                if known:
                    changes.append({"op": "coupon_use", "code": entry["code"], "series": series,
                                    "campaign": used_series[series], "receipt": rid})
        if known:
            for seq, (campaign, series) in enumerate(issues):
                coupon = self._issue(campaign, ledger.series[series], seq)
                changes.append(coupon)
                events.append({"event": "coupon_issued", "code": coupon["code"], "series": series,
                               "campaign": campaign})
        # certificates sold (a host may register them even for an anonymous buyer)
        for line, pay in zip(self.lines, left, strict=True) if ledger.certificate_skus else ():
            series = ledger.certificate_skus.get(line.sku)
            if series is not None and pay > 0:
                cert = self._sell(series, line, pay)
                changes.append(cert)
                events.append({"event": "certificate_sold", "code": cert["code"], "series": series.name,
                               "value": pay})
        if known:
            changes += self._qualify(left, events)
            for campaign, _ in applied:
                cs = ledger.campaigns.get(campaign)
                if cs is not None and cs.usage_limit is not None:
                    changes.append({"op": "usage", "campaign": campaign,
                                    "period": self.period(cs.usage_limit.per), "delta": 1, "receipt": rid})
        for campaign, _ in applied:
            cs = ledger.campaigns.get(campaign)
            if cs is not None and cs.budget is not None:
                money, gained = given.get(campaign, (0, 0))
                if cs.budget.kind == "money":
                    delta = money + ceil_div(gained * ledger.point_value, ledger.points_scale)
                else:
                    delta = gained + ceil_div(money * ledger.points_scale, ledger.point_value)
                if delta:
                    changes.append({"op": "budget", "campaign": campaign, "kind": cs.budget.kind, "delta": delta,
                                    "receipt": rid})
        if known:
            changes += self._referral(left, debts, events)
            changes.append({"op": "receipt", "receipt": rid, "delta": 1})
        record = {
            "customer": state.id if state is not None else None,
            "requested": payment.requested,
            "points": payment.points,
            "points_money": sum(payment.by_points),
            "limited_by": payment.limited_by,
            "certificates": payment.certificates,
            "certificates_money": sum(payment.by_certificates),
            "to_pay": sum(to_pay),
            "lines": [{"line_no": line.line_no, "qty": line.qty, "payable": pay, "points_money": p,
                       "certificates": c, "to_pay": t}
                      for line, pay, p, c, t in zip(self.lines, left, payment.by_points, payment.by_certificates,
                                                    to_pay, strict=True)],
        }
        return record, tuple(self.coupon_report), changes, events

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
             events: list[dict[str, Any]], lines: bool = True, lot_id: str | None = None) -> list[Change]:
        """An accrual: first the account's debt is repaid by its ``repay`` share (floor), the rest is a lot."""
        ledger = self.ledger
        decl: Account = ledger.accounts[account]
        shared = self._target()
        total = sum(vec)
        out: list[Change] = []
        debt = debts.get((account, shared), 0)
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
            change = {"op": "lot", "account": account, "lot": lot_id or f"{self.receipt_id}:{account}:{campaign}",
                      "points": points, "active_from": active_from, "expires": expires, "receipt": self.receipt_id,
                      "campaign": campaign, "shared": shared}
            if lines:
                change["lines"] = pairs(line_nos, vec)
            out.append(change)
        return out

    def _times(self, decl: Account) -> tuple[str, str | None]:
        """A lot's active_from and expires in the account, as text (the same for every lot of the
        receipt in the account: made once)."""
        found = self._lot_times.get(decl.name)
        if found is None:
            expires = self.ledger.expiry(decl.expiry, self.utc)
            found = self._lot_times[decl.name] = (iso(self.utc + decl.activation),
                                                  None if expires is None else iso(expires))
        return found

    def _counters(self, left: Sequence[int], adds: dict[str, list[int]], spends: dict[str, int]) -> list[Change]:
        ledger = self.ledger
        out: list[Change] = []
        line_nos = self.line_nos
        for decl in ledger.decls.counters:
            vec = adds.get(decl.name)
            in_window = decl.valid is None or decl.valid[0] <= self.day <= decl.valid[1]
            if decl.earn is not None and in_window:
                selected = ledger.matchers[decl.earn.predicate](self.lines, self.view)
                weights = [0] * len(left)
                for line in selected:
                    weights[line.index] = left[line.index]
                earned = sum(weights) // decl.earn.per * decl.earn.count  # floor: whole steps only
                if earned:
                    parts = split(earned, weights, line_nos)
                    vec = parts if vec is None else [a + b for a, b in zip(vec, parts, strict=True)]
            added = sum(vec) if vec is not None else 0
            if vec is not None and added and in_window:
                out.append({"op": "counter", "name": decl.name, "delta": added, "period": self.period(decl.reset),
                            "lines": pairs(line_nos, vec), "reason": "add", "receipt": self.receipt_id})
            spent = spends.get(decl.name, 0)
            if spent:
                parts = split(-spent, list(left), line_nos)
                out.append({"op": "counter", "name": decl.name, "delta": -spent, "period": self.period(decl.reset),
                            "lines": pairs(line_nos, parts), "reason": "spend", "receipt": self.receipt_id})
        return out

    def period(self, kind: str) -> str:
        """The key of the receipt's period of a kind (day, week, ..., never), made once per receipt."""
        key = self._periods.get(kind)
        if key is None:
            key = self._periods[kind] = period_key(self.day, kind)
        return key

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

    def _sell(self, series: CertificateSeries, line: Line, value: int) -> Change:
        expires = self.ledger.expiry(series.expiry, self.utc)
        code = f"{series.name.upper()}-{_hash_code(self.receipt_id, str(line.line_no), length=10)}"
        return {"op": "certificate_issue", "code": code, "series": series.name, "value": value, "balance": value,
                "expires": None if expires is None else iso(expires), "multi_use": series.multi_use,
                "lines": [[line.line_no, value]], "receipt": self.receipt_id}

    def _qualify(self, left: Sequence[int], events: list[dict[str, Any]]) -> list[Change]:
        tiers = self.ledger.decls.tiers
        state = self.state
        if tiers is None or state is None:
            return []
        rolling = tiers.period.kind == "rolling"
        key = qualification_period(self.ledger.decls, self.day)
        change: Change = {"op": "qualify", "period": key, "receipt": self.receipt_id}
        if tiers.measure == "spend":
            skus = self.ledger.certificate_skus
            weights = [0 if line.sku in skus else pay for line, pay in zip(self.lines, left, strict=True)] \
                if skus else list(left)
            change["delta"] = delta = sum(weights)
            change["lines"] = pairs(self.line_nos, weights)
        else:
            change["delta"] = delta = 1
        if rolling:
            change["day"] = self.day
        if not delta:
            return []
        out = [change]
        q = state.qualification
        if q is None or q.period != key:
            value = 0
        elif rolling:
            first = self.day - (tiers.period.days or 0)
            value = sum(v for d, v in q.days if first < d <= self.day)
        else:
            value = q.value
        value += delta
        names = [level.name for level in tiers.levels]
        reached = max((i for i, level in enumerate(tiers.levels) if level.threshold <= value), default=-1)
        current = names.index(state.tier) if state.tier in names else -1  # none yet: the entry level is news
        if reached > current:
            out.append({"op": "tier", "from": state.tier, "to": names[reached], "reason": "upgrade",
                        "receipt": self.receipt_id})
            events.append({"event": "tier_changed", "from": state.tier, "to": names[reached], "reason": "upgrade"})
        return out

    def _referral(self, left: Sequence[int], debts: dict[tuple[str, bool], int],
                  events: list[dict[str, Any]]) -> list[Change]:
        rules = self.ledger.decls.referral
        state = self.state
        ref = state.referral if state is not None else None
        if rules is None or state is None or ref is None or not ref.referred_by or ref.rewarded or state.receipts:
            return []
        if sum(left) < rules.qualify:
            return []
        out: list[Change] = []
        rid = self.receipt_id
        if rules.referrer and rules.referrer_account is not None:
            out.append({"op": "transfer", "customer": ref.referred_by, "account": rules.referrer_account,
                        "points": rules.referrer, "reason": "referral", "lot": f"{rid}:{rules.referrer_account}:referrer",
                        "receipt": rid})
        if rules.newcomer and rules.newcomer_account is not None:
            vec = split(rules.newcomer, list(left), self.line_nos)
            for change in self._lot(rules.newcomer_account, None, vec, debts, events, lines=False,
                                    lot_id=f"{rid}:{rules.newcomer_account}:referral"):
                out.append({**change, "reason": "referral"} if change["op"] == "lot" else change)
        out.append({"op": "referral", "rewarded": True, "receipt": rid})
        events.append({"event": "referral", "referrer": ref.referred_by, "points": rules.referrer})
        return out


def receive(ledger: Ledger, state: CustomerState, transfer: Mapping[str, Any], utc: int) -> list[Change]:
    """The referrer's side of a ``transfer`` (a referral reward made by another customer's receipt):
    an accrual into the named account at ``utc``, like a campaign's (the shared account for a member
    with ``accrue``, debt repaid first, the account's activation and expiry), without lines."""
    if transfer.get("op") != "transfer":
        raise StateError(f"not a transfer: op {transfer.get('op')!r}", "op")
    if transfer.get("customer") != state.id:
        raise StateError(f"the transfer is for customer {transfer.get('customer')!r}, not {state.id!r}", "customer")
    account, points, lot_id = transfer.get("account"), transfer.get("points"), transfer.get("lot")
    decl = ledger.accounts.get(account) if isinstance(account, str) else None
    if decl is None:
        raise StateError(f"unknown account {account!r}", "account")
    if type(points) is not int or points <= 0:
        raise StateError(f"a transfer gives a positive whole number of points, got {points!r}", "points")
    if not isinstance(lot_id, str) or not lot_id:
        raise StateError("a transfer names the lot it makes", "lot")
    member = _member(state)
    shared = member is not None and bool(member.accrue)
    held = _accounts(state, shared).get(decl.name)
    debt = held.debt if held is not None else 0
    repaid = min(debt, points * decl.repay // MILLION) if debt > 0 else 0
    receipt = transfer.get("receipt")
    if lot_id in state.applied:
        raise StateError(f"the transfer {lot_id} was received by customer {state.id} already", "lot", "LOY510")
    out: list[Change] = [{"op": "applied", "id": lot_id, "at": iso(utc), "receipt": receipt}]
    if repaid:
        out.append({"op": "debt", "account": decl.name, "points": -repaid, "reason": "repay", "shared": shared,
                    "receipt": receipt})
    if points > repaid:
        expires = ledger.expiry(decl.expiry, utc)
        out.append({"op": "lot", "account": decl.name, "lot": lot_id, "points": points - repaid,
                    "active_from": iso(utc + decl.activation), "expires": None if expires is None else iso(expires),
                    "receipt": receipt, "campaign": None, "shared": shared, "reason": str(transfer.get("reason"))})
    return out


# ------------------------------------------------------------------------------------------ returns (section 7)


def _still_counted(state: CustomerState, change: Change) -> bool:
    """Whether a receipt's tier measure is still in the customer's record: its period is the current
    one (and, in a rolling window, its day has not left the window). A closed period was reviewed
    already; like a counter after its reset, a return leaves it as it was."""
    q = state.qualification
    if q is None or q.period != change["period"]:
        return False
    return "day" not in change or any(day == change["day"] for day, _ in q.days)


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

    def of(self, change: Change) -> dict[int, int]:
        """The returned share of a line-attributed change, per line (zero parts left out)."""
        out = {}
        for ln, p in change.get("lines") or ():
            part = self(int(ln), int(p))
            if part:
                out[int(ln)] = part
        return out


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

    def undo(self, change: Change, full: bool, cards: Mapping[str, Mapping[int, int]]) -> None:
        """The returned share of one change of the receipt (line by line), or the whole of it with the
        full return (coupon uses, usage, budget, the purchase count, an issued coupon)."""
        share, rid, op = self.share, self.rid, change["op"]
        if op == "lot" and change.get("lines"):
            if parts := share.of(change):
                self.accrual(change, sum(parts.values()),
                             sum(share.before(int(ln), int(p)) for ln, p in change["lines"]), parts)
        elif op == "take" and change.get("reason") == "redeem" and change.get("lines"):
            if points := sum(share.of(change).values()):
                self.redemption(change, points)
        elif op == "debt" and change.get("lines"):
            if parts := share.of(change):
                self.debt(change, sum(parts.values()), {ln: abs(p) for ln, p in parts.items()})
        elif op == "certificate" and change.get("lines"):
            self.certificate(change, cards.get(change["code"], {}))
        elif op == "certificate_issue" and change.get("lines"):
            ((ln, value),) = change["lines"]
            if part := share(ln, value):
                kept = self.sold(change, part, share.done.get(ln, 0) + share.now[ln] == share.sold[ln]["qty"])
                self.lines[ln]["money"] -= kept
                self.lines[ln]["withheld"] += kept
        elif op == "counter" and change.get("lines"):
            if delta := sum(share.of(change).values()):
                self.counter(change, delta)
        elif op == "qualify":
            delta = sum(share.of(change).values()) if change.get("lines") else (change["delta"] if full else 0)
            if delta and _still_counted(self.state, change):
                back: Change = {"op": "qualify", "period": change["period"], "delta": -delta, "receipt": rid}
                if "day" in change:
                    back["day"] = change["day"]
                self.changes.append(back)
        elif full and op == "coupon_use":
            self.changes.append({"op": "coupon_unuse", "code": change["code"], "series": change["series"],
                                 "campaign": change.get("campaign"), "receipt": rid})
        elif full and op in ("usage", "budget"):
            self.changes.append({**change, "delta": -change["delta"]})
        elif full and op == "coupon_issue":
            self.revoke(change)
        elif full and op == "receipt":
            self.changes.append({"op": "receipt", "receipt": rid, "delta": -change["delta"]})

    def take(self, account: str, shared: bool, lot: _Lot, points: int, reason: str) -> None:
        self.lots[(shared, account)][lot.id] = lot._replace(left=lot.left - points)
        self.changes.append({"op": "take", "account": account, "lot": lot.id, "points": points, "reason": reason,
                             "shared": shared, "receipt": self.rid})

    def accrual(self, change: Change, points: int, earlier: int, weights: dict[int, int]) -> None:
        """Take back accrued points from their lot; what was spent of it already is a shortfall
        (``reclaim``). A lot that nothing but this receipt's returns touched is removed with its last
        points (a ``lot`` change of minus its points, after giving back what earlier returns took), so a
        receipt returned in parts leaves the state a return at once leaves."""
        account, shared = change["account"], bool(change.get("shared"))
        lots = self.lots.get((shared, account), {})
        lot = lots.get(change["lot"])
        whole = change["points"]
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
            self.reclaim(account, shared, points - got, change["lot"], weights)

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

    def redemption(self, change: Change, points: int) -> None:
        """Give redeemed points back to the lot they came from (expired: they expire at once)."""
        account, shared = change["account"], bool(change.get("shared"))
        lot = self.lots.get((shared, account), {}).get(change["lot"])
        if lot is None:
            self.events.append({"event": "points_expired", "account": account, "points": points, "lot": change["lot"],
                                "reason": "returned to a lot that is gone"})
            return
        self.take(account, shared, lot, -points, "redeem")
        if lot.expires is not None and lot.expires <= self.utc:
            self.take(account, shared, self.lots[(shared, account)][lot.id], points, "expire")
            self.events.append({"event": "points_expired", "account": account, "points": points, "lot": lot.id})

    def debt(self, change: Change, points: int, weights: dict[int, int]) -> None:
        """Undo ``points`` of a debt change: a borrowing (> 0) comes off the debt, a repayment (< 0) goes
        back on it. Borrowing and repayment sit on different lines, so a partial return may cancel more
        debt than is left: the rest is the customer's, a lot of this return; and a repayment undone
        later takes such a lot back first (removing it when untouched), so the parts add up to a
        return at once. A repayment goes back on the debt only within the credit limit (the room may
        have been borrowed again since): the rest is a shortfall (``reclaim``)."""
        account, shared = change["account"], bool(change.get("shared"))
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

    def certificate(self, change: Change, used: Mapping[int, int]) -> None:
        """A certificate payment undone: per line the returned share of what the card paid (``used``,
        money) goes back on the card, with the returned share of what a single-use card forfeited. A card
        that is gone or expired cannot take it: that part of the line is paid in money instead."""
        code = change["code"]
        if not used:
            raise RefundError(f"certificate {code} spent on the receipt has no used entry in the payment record",
                              "payment.certificates")
        back = forfeit = 0
        moved: dict[int, int] = {}
        for ln, part in change["lines"]:
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

    def sold(self, change: Change, value: int, last: bool) -> int:
        """A sold certificate: its returned share comes off the balance, the whole card is voided with the
        line's last unit; what was spent already is withheld from the money. Returns the withheld part."""
        code = change["code"]
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

    def revoke(self, change: Change) -> None:
        """A coupon the receipt issued goes with a full return, unless it was used."""
        coupon = next((c for c in self.state.coupons if c.code == change["code"]), None)
        if coupon is not None and coupon.uses_left == change.get("uses_left") and coupon.series == change["series"]:
            self.changes.append({"op": "coupon_expire", "code": coupon.code, "series": coupon.series,
                                 "reason": "return", "receipt": self.rid})

    def counter(self, change: Change, delta: int) -> None:
        """Undo ``delta`` of a counter change, unless the counter was reset since (another period)."""
        name = change["name"]
        decl = self.ledger.counters.get(name)
        today = self.ledger.local(self.utc)[0]
        if decl is None or change.get("period") != period_key(today, decl.reset) \
                or (decl.valid is not None and today > decl.valid[1]):
            return  # reset (or burnt) since: nothing of it is left to undo
        value, period = self.counters.get(name, (0, change["period"]))
        back = min(delta, value) if delta > 0 else delta  # never below zero
        if back:
            self.counters[name] = (value - back, period)
            self.changes.append({"op": "counter", "name": name, "delta": -back, "period": period,
                                 "reason": "return", "receipt": self.rid})




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
    assert o.payment is not None and state is not None
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


def _own_changes(o: Outcome, state: CustomerState | None) -> Sequence[Change]:
    """The receipt's own changes (after its time events), once the outcome is known to be this
    customer's, with a payment record."""
    rid = o.receipt_id
    pay = o.payment
    if o.changes is None or pay is None:
        raise RefundError(f"the outcome of receipt {rid} has no payment record: it was evaluated without customer "
                          "state, so a return cannot be computed from it", "payment")
    if state is None:
        raise RefundError(f"a return of receipt {rid} needs the customer's state", "customer")
    owner = pay.get("customer")
    if owner != state.id:
        raise RefundError(f"receipt {rid} was evaluated for customer {owner!r}, not {state.id!r}", "customer")
    start = pay.get("advance", 0)
    if type(start) is not int or not 0 <= start <= len(o.changes):
        raise RefundError("expected the number of leading time-event changes", "payment.advance")
    for i, change in enumerate(o.changes[start:], start):
        if change.get("receipt", rid) != rid:
            raise RefundError(f"a change of receipt {change.get('receipt')!r} in the outcome of receipt {rid}",
                              f"changes[{i}].receipt")
    return o.changes[start:]
