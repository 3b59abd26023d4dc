"""Steps 2 and 3 of docs/state.md section 5: presented coupons, and the gates of campaigns (coupon, usage
limit, budget) and their counter spends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..declarations import CampaignState, CouponSeries
from ..money import ceil_div
from ..state import (
    Coupon,
)
from ..state.redemption import CAP, redemption_key
from .catalogue import _Catalogue
from .splits import Request


class _Gates(_Catalogue):
    """Coupons presented (step 2) and the gates of each campaign (step 3)."""

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
        if cs.reward is not None:  # a catalogue reward (ledger/catalogue.py)
            refused = self.reward_gate(campaign, cs.reward)
            if refused is not None:
                return refused
        if cs.discount_cap is not None and self.cap_left(campaign, cs) == 0:
            self.notes[campaign] = f"the customer's {cs.discount_cap[1]} of discount per {cs.discount_cap[0]} is used"
            return "limit_reached"
        if cs.redemptions and self.redemptions is not None:
            return self._redemption_gate(campaign, cs)
        return None

    def _redemption_gate(self, campaign: str, cs: CampaignState) -> str | None:
        """``limit_reached`` when one of the campaign's programme-wide usage limits has no use left."""
        used = self.redemptions or {}
        for limit in cs.redemptions:
            store, day = self.redemption_scope(limit)
            count = used.get(redemption_key(campaign, store, day), 0)
            if count >= limit.count:
                self.notes[campaign] = f"its {limit.count} redemptions {limit.scope} are used"
                return "limit_reached"
        return None

    def discount_room(self, campaign: str, cs: CampaignState) -> int | None:
        """The most discount the campaign's budget, and its cap per customer, still allow (None: no limit)."""
        cap = self.cap_left(campaign, cs)
        budget = cs.budget
        if budget is None or self.budgets is None:
            return cap
        left = self.budget_left.get(campaign, self.budgets.get(campaign, budget.amount))
        room = left if budget.kind == "money" else self.ledger.money_of(left)
        return room if cap is None else min(room, cap)

    def cap_left(self, campaign: str, cs: CampaignState) -> int | None:
        """What is left of the customer's ``max discount ... per PERIOD`` (None: no cap, or anonymous)."""
        if cs.discount_cap is None or self.state is None:
            return None
        per, money = cs.discount_cap
        return max(0, money - self.state.usage.get(campaign + CAP, {}).get(self.period(per), 0))

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
        self.shortage = "insufficient_balance"
        if requests[-1][0] == "reward":  # a catalogue reward's price, asked for last (engine._group)
            account = self.ledger.rewards[requests[-1][1]].account
            if not self.reserve_reward(account, requests[-1][2]):
                self.shortage = "insufficient_points"
                return False
            if not self._counters_cover(want):
                self.reserve_reward(account, requests[-1][2], release=True)
                return False
            self._hold(want)
            return True
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
            elif op == "reward":
                self.reserve_reward(self.ledger.rewards[name].account, n, release=True)

    def _counters_cover(self, want: dict[str, int]) -> bool:
        values = self.view.counters
        return all(values.get(name, 0) - self.reserved.get(name, 0) >= n for name, n in want.items())

    def _hold(self, want: dict[str, int]) -> None:
        for name, n in want.items():
            self.reserved[name] = self.reserved.get(name, 0) + n

