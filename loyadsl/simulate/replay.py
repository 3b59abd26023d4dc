"""Replaying one partition of history (docs/simulate.md, "Replay semantics").

A partition is a list of receipts sorted by (household, time, receipt id). A *household* is a group
of customers whose states meet: the members of a shared account, a referrer and the customers they
referred (``households`` maps each such customer to the household's key; anyone else is a household
of one). A household's receipts run in time order, each against its customer's own state: before a
receipt the engine's ``advance`` is part of the evaluation (its changes lead the outcome's), after it
the outcome's changes are applied. The members of a shared account hold the same ``shared`` object,
so what one member's receipt does to it, the others see; a referral ``transfer`` is received by the
referrer's state at once. When the household's last receipt is done, every member's clock runs to
the end of the history so expiries and tier reviews up to that day are counted. Everything the
report needs goes into a ``Tally``.

States are this replay's own working copies, changed in place (``apply_in_place``): nothing else
holds them. A receipt's changes are *booked* on every state they concern (its customer's, and for a
referral the referrer's) all or nothing, and only then counted: a receipt the runtime refuses (any
``LoyaError``) is quarantined and counts for nothing (docs/simulate.md, "Accounting").
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import islice
from typing import Any, NamedTuple

from loyadsl.runtime import Engine
from loyadsl.runtime.errors import LoyaError
from loyadsl.runtime.model import Outcome, Receipt, Rows, utc_datetime, utc_seconds
from loyadsl.runtime.state import (
    CustomerState,
    LotChange,
    SharedAccount,
    TierChange,
    apply_in_place,
    find_lot,
    invert,
    working_copy,
)
from loyadsl.runtime.state.changes import TYPED_KINDS, Changes, apply_records, items
from loyadsl.runtime.state.records import live_from
from loyadsl.simulate import flags, limits, settle
from loyadsl.simulate.anonymous_returns import AnonymousReturns
from loyadsl.simulate.errors import Problem, Skipped
from loyadsl.simulate.group_order import has_ties
from loyadsl.simulate.limits import Timeline
from loyadsl.simulate.partition import receipt_json, unpack
from loyadsl.simulate.report import SPLIT_FIELDS, Tally, line_attributes, week_start
from loyadsl.simulate.triggers import ChainReplay

_new: Any = tuple.__new__
_SUMS_EVERY = 4096  # receipts whose figures ``_count`` and ``_split`` keep before adding them (bounded memory)


class _Member:
    """One customer of the household being replayed."""

    __slots__ = ("outcomes", "purchases", "seen", "state")

    def __init__(self, state: CustomerState) -> None:
        self.state = state
        self.seen: set[str] = set()  # campaigns this customer took part in
        self.outcomes: dict[str, Outcome] = {}  # receipts a return will refer to
        self.purchases = 0


class PartitionReplay:
    """Replays the receipts of one partition into a tally; bad receipts are collected, not raised."""

    def __init__(self, engine: Engine, states: Mapping[str, dict[str, Any]], start: dt.datetime, end: dt.datetime,
                 returned_ids: set[str] | None = None,
                 observe: Callable[[Receipt, Outcome], None] | None = None,
                 households: Mapping[str, str] | None = None,
                 limits_seen: Mapping[str, Timeline] | None = None, refused: Iterable[str] = ()) -> None:
        self.engine = engine
        self._lazy = copy.copy(engine)  # evaluates with the ledger's typed changes kept (``Engine.lazy_changes``)
        self._lazy.lazy_changes = True
        # its own ledger, whose per-line detail (``Ledger.detail``) is made only for an outcome that is kept
        # (a return refers to its receipt) or seen (``observe``, trigger chains)
        self._ledger = self._lazy.ledger = copy.copy(engine.ledger)
        self.refused = set(refused)  # receipts quarantined (when read, or here): a return of one is skipped
        self.observe = observe  # called with every evaluated receipt and its outcome (``loya diff``)
        self.states = states
        self.households = households or {}
        self.local = engine.local_date  # the local date ordinal of a time (the zone's offset kept per day)
        self.start_day = self.local(utc_seconds(start))  # tiers held before the history count from here
        self.end = end  # the end of history: where each customer's clock stops
        self.end_day = self.local(utc_seconds(end))
        self.customers_seen: set[str] = set()
        self.returned_ids = returned_ids  # receipts some return refers to (None: keep every outcome)
        self.tally = Tally()
        self.tally.arms.begin(engine)  # experiments' starts: their customers' pre-period (simulate/pre_period.py)
        self.tally.order.begin(engine)  # equal-priority groups reversed, if any (simulate/group_order.py)
        self._ties = has_ties(engine.bundle)
        self.bad: list[dict[str, Any]] = []
        b = engine.bundle
        self.group_of = {c.name: b.groups[c.group].name for c in b.campaigns}
        self.budgets = {c.name: c.state.budget for c in b.campaigns if c.state.budget is not None}
        self.attrs = line_attributes(b)
        for name in self.attrs:
            self.tally.attrs[name] = 0
        self.binding = limits.kinds(limits_seen or {})  # the limits the last pass saw bind (simulate/limits.py)
        self.limited = bool(limits_seen)
        s = b.settings
        self._point_value, self._points_scale = s.point_value, 10**s.points_minor
        self.zone = engine.zone
        self._members_of: dict[str, list[str]] = {}  # household key -> its customers with a state here
        for customer in sorted(states):
            key = self.households.get(customer)
            if key is not None:
                self._members_of.setdefault(key, []).append(customer)
        self._household: str | None = None
        self._members: dict[str, _Member] = {}
        self._shared: dict[str, SharedAccount] = {}  # shared account id -> the one object members hold
        self.anonymous = AnonymousReturns(engine)  # anonymous receipts a return may refer to
        self._lot_campaign: dict[str, str] = {}  # lot id -> the campaign that made it (household-wide)
        self.chains = ChainReplay(engine, self.tally.triggers) if b.triggers else None  # docs/triggers.md
        self._months: dict[int | None, str] = {}  # an expiry time -> its local month (``_burn``)
        # (store, channel, tier, segments) -> the split rows a receipt of theirs counts in (``_split``)
        self._splits: dict[tuple[str, str, str | None, tuple[str, ...] | None], list[list[int]]] = {}
        # the receipts' figures not yet added to the tally (``_add_sums``), one flat list of integers each (no
        # object kept per receipt, so the collector's work does not grow): by week start, (total, payable,
        # discount, points, units, lines, card) a receipt; by split key, (total, payable, discount, points)
        self._week_sums: dict[int, list[int]] = {}
        self._split_sums: dict[tuple[str, str, str | None, tuple[str, ...] | None], list[int]] = {}
        self._unsummed = 0
        people = b.settings.people
        # the changes ``limits.uses`` counts (budget, stock, redemption) come only from such campaigns
        self._limited_kinds = any(c.state.budget is not None or c.state.reward is not None or c.state.redemptions
                                  for c in b.campaigns)
        self._partners = people is not None and bool(people.partners)  # settlement to count (settle.count)
        self._detail = returned_ids is None or observe is not None or self.chains is not None  # for every receipt

    # ------------------------------------------------------------------------------ driving
    def run(self, records: Iterable[tuple[str, bytes]]) -> Tally:
        """Replay the records, each a source and its spill payload (``partition.pack``); one the
        runtime refuses (any ``LoyaError``) is quarantined with its code, and nothing of it counts
        (``receipt`` counts a receipt only once all its changes are booked)."""
        for source, payload in records:
            parsed, packed = unpack(payload)
            try:
                if parsed is not None:
                    self.purchase(parsed)
                else:
                    self.receipt(receipt_json(packed))
            except LoyaError as exc:
                data = receipt_json(packed)
                self.bad.append({"source": source, "code": exc.code, "reason": str(exc), "record": data})
                if data.get("return_of") is None:
                    self.refused.add(str(data.get("receipt_id")))
        self._finish_household()
        self._add_sums()
        return self.tally

    def idle(self, customers: Iterable[str]) -> None:
        """Customers with a state but no receipt in the history: their clocks still run to the end
        (expiries, reviews) and their balances count in the liability."""
        for customer in customers:
            if customer in self.customers_seen:
                continue  # a member of a household finished with it
            self._enter(self.households.get(customer, customer))
            self._member(customer)
            self._finish_household()
        self._add_sums()

    def receipt(self, data: dict[str, Any]) -> None:
        """Replay receipt JSON: a return, or a purchase validated here."""
        customer = data.get("customer_id")
        self._enter(None if customer is None else self.households.get(customer, customer))
        member = None if customer is None else self._member(customer)
        if data.get("return_of") is not None:
            self._return(data, member)
        else:
            self._purchase(Receipt.from_dict(data), member)

    def purchase(self, receipt: Receipt) -> None:
        """Replay a purchase validated when it was read."""
        customer = receipt.customer_id
        self._enter(None if customer is None else self.households.get(customer, customer))
        self._purchase(receipt, None if customer is None else self._member(customer))

    def _purchase(self, receipt: Receipt, member: _Member | None) -> None:
        if self.chains is not None and member is not None:
            self.chains.catch_up(member.state, receipt.utc, self._booker(member))
        state = member.state if member is not None else None
        left = limits.at(self.binding, (receipt.utc, receipt.receipt_id)) if self.limited else limits.UNLIMITED
        returned = self.returned_ids
        self._ledger.detail = self._detail or returned is None or receipt.receipt_id in returned  # kept: see below
        outcome = self._lazy.evaluate(receipt, state, now=None, budgets=left.budgets, stock=left.stock,
                                      redemptions=left.redemptions)
        if self._ties:  # (equal-priority groups: the outcome in the other order too)
            self.tally.order.check(receipt, state, outcome, budgets=left.budgets, stock=left.stock,
                                   redemptions=left.redemptions)
        day = self.local(receipt.utc)
        tier, segments = (state.tier, state.segments) if state is not None else (None, None)  # before the receipt
        booked = self._book(member, outcome.changes, receipt.utc) if member is not None else []
        # booked: from here on nothing can be refused, and the receipt counts
        self._count(receipt, outcome, day, member)
        if outcome.flags:
            flags.count(self.tally.flags, outcome)
        if self._partners:
            settle.count(self.tally.partners, self.engine.bundle.settings.people, receipt, outcome)
        self._split(receipt, outcome, tier, segments)
        if self.observe is not None:
            self.observe(receipt, outcome)
        self._count_changes(booked, day)
        if self._limited_kinds:  # (a programme without budgets, stock or usage limits makes no such change)
            self._use(receipt.utc, receipt.receipt_id, [c for c in items(outcome.changes or ()) if type(c) is dict])
        if self.chains is not None and member is not None:
            self.chains.after(member.state, receipt, outcome, self._booker(member))
        if member is not None:
            member.purchases += 1
            if self.returned_ids is None or receipt.receipt_id in self.returned_ids:
                member.outcomes[receipt.receipt_id] = outcome
        else:
            self.anonymous.keep(outcome, self.returned_ids)

    def _use(self, utc: int, receipt_id: str, changes: Iterable[Mapping[str, Any]] | None) -> None:
        """The stock and usage limits the receipt's (or return's) changes took or gave back."""
        for limit, n in limits.uses(changes or ()):
            self.tally.uses.setdefault(limit, []).append((utc, receipt_id, n))

    # ------------------------------------------------------------------------------ households
    def _enter(self, key: str | None) -> None:
        """Make ``key`` the household being replayed (None: anonymous receipts), finishing the last."""
        if key != self._household:
            self._finish_household()
            self._household = key

    def _member(self, customer: str) -> _Member:
        """The household's member, started from their initial state on first sight."""
        member = self._members.get(customer)
        if member is not None:
            return member
        raw = self.states.get(customer)
        state = working_copy(CustomerState.from_dict(raw if raw is not None else {"id": customer}))
        t = self.tally.totals
        shared = state.shared
        if shared is not None:
            held = self._shared.get(shared.id)
            if held is None:  # the first member seen brings the shared account (and its balance)
                self._shared[shared.id] = shared
                t["liability_start"] += _balance(shared.accounts)
            else:
                state = state.model_copy(update={"shared": held})
        member = self._members[customer] = _Member(state)
        self.customers_seen.add(customer)
        t["customers"] += 1
        t["liability_start"] += _balance(state.accounts)
        for holder in (state.accounts, shared.accounts if shared is not None else {}):
            for account in holder.values():
                for lot in account.lots:
                    if lot.campaign:
                        self._lot_campaign[lot.id] = lot.campaign
        if state.tier:
            self.tally.tier_move(self.start_day, None, state.tier)
        return member

    def _finish_household(self) -> None:
        """Run every member's clock to the end of history and count what they hold."""
        key = self._household
        if key is not None:
            for customer in self._members_of.get(key, ()):
                self._member(customer)  # members without a receipt still live through the time
        t = self.tally.totals
        end_utc = utc_seconds(self.end)
        for customer in sorted(self._members):
            member = self._members[customer]
            state = member.state
            if member.purchases:
                t["active_customers"] += 1
                before = state.receipts - member.purchases
                if before == 0:
                    t["first_purchase"] += 1
                if before <= 1 < state.receipts:
                    t["repeat_purchase"] += 1
            for name in member.seen:
                self.tally.campaign(name)[1] += 1  # participants
            if self.chains is not None:
                self.chains.catch_up(state, end_utc, self._booker(member))
            changes, _events = self.engine.advance(state, self.end)
            self._apply(member, changes, self.end_day, end_utc)
        for customer in sorted(self._members):
            t["liability"] += _balance(self._members[customer].state.accounts)
            self._burn(self._members[customer].state.accounts)
        for shared in self._shared.values():
            t["liability"] += _balance(shared.accounts)
            self._burn(shared.accounts)
        if self.chains is not None:
            self.chains.finish()
        self._household = None
        self._members = {}
        self._shared = {}
        self._lot_campaign = {}

    def _burn(self, accounts: Mapping[str, Any]) -> None:
        """The points held at the end, by the local month they expire in (the liability's burn forecast)."""
        burn = self.tally.burn
        months = self._months
        for account in accounts.values():
            for lot in islice(account.lots, live_from(account), None):  # the lots before hold no points
                if lot.left > 0:
                    month = months.get(lot.expires)
                    if month is None:  # lots made in a period expire together: one month per expiry
                        month = months[lot.expires] = "never" if lot.expires is None else \
                            dt.date.fromordinal(self.local(lot.expires - 1)).isoformat()[:7]
                    burn[month] = burn.get(month, 0) + lot.left

    # ------------------------------------------------------------------------------ counting
    def _split(self, receipt: Receipt, outcome: Outcome, tier: str | None, segments: Sequence[str] | None) -> None:
        """The receipt's figures under its store, channel, the customer's tier and each segment (the
        rows of one such combination made at its first receipt, ``_split_rows``), added by ``_add_sums``."""
        key = (receipt.store, receipt.channel, tier, None if segments is None else tuple(segments))
        pending = self._split_sums.get(key)
        if pending is None:
            if key not in self._splits:
                self._splits[key] = self._split_rows(receipt.store, receipt.channel, tier, segments)
            pending = self._split_sums[key] = []
        pending.extend((receipt.total, outcome.payable, outcome.discount_total, outcome.points_total))

    def _add_sums(self) -> None:
        """Add the receipts' figures kept by ``_count`` and ``_split`` to the tally: each week's and each
        split's summed at once (integers: the same totals as adding them one receipt at a time; the rows
        were made at their first receipt, so the report's order is the same)."""
        t, weeks, splits = self.tally.totals, self.tally.weeks, self._splits
        for start, figures in self._week_sums.items():
            total, payable, discount, points, units, lines, cards = (sum(figures[i::7]) for i in range(7))
            n = len(figures) // 7
            week = weeks[start]
            week[0] += n
            week[1] += payable
            week[2] += discount
            week[3] += points
            t["turnover"] += total
            t["revenue"] += payable
            t["receipts"] += n
            t["units"] += units
            t["lines"] += lines
            t["receipts_with_card"] += cards
            t["discount"] += discount
            t["points_accrued"] += points
        for key, figures in self._split_sums.items():
            total, payable, discount, points = figures if len(figures) == 4 else (sum(figures[i::4]) for i in range(4))
            n = len(figures) // 4
            for row in splits[key]:
                row[0] += n
                row[1] += total
                row[2] += payable
                row[3] += discount
                row[4] += points
        self._week_sums = {}
        self._split_sums = {}
        self._unsummed = 0

    def _split_rows(self, store: str, channel: str, tier: str | None, segments: Sequence[str] | None
                    ) -> list[list[int]]:
        """The split rows a receipt of this store, channel, tier and segments counts in, made when first
        needed (in the order ``_split`` counts them)."""
        keys = [("store", store), ("channel", channel)]
        if segments is None:  # no card
            keys += [("tier", "(anonymous)"), ("segment", "(anonymous)")]
        else:
            keys.append(("tier", tier or "(none)"))
            keys += [("segment", segment) for segment in segments or ("(none)",)]
        rows = self.tally.splits
        out = []
        for key in keys:
            row = rows.get(key)
            if row is None:
                row = rows[key] = [0] * len(SPLIT_FIELDS)
            out.append(row)
        return out

    def _requests(self, outcome: Outcome) -> None:
        """What the receipt asked for (redemption, coupons, certificates) and what it got."""
        tally, payment = self.tally, outcome.payment or {}
        if payment.get("requested") is not None:
            limited = payment.get("limited_by")
            tally.request("redemption", "limited" if limited else "in_full", limited)
        for entry in outcome.coupons or ():
            tally.request("coupon", entry["status"], entry.get("reason"))
        for entry in payment.get("certificates") or ():
            tally.request("certificate", entry["status"], entry.get("reason"))

    def _rewards(self, receipt: Receipt, outcome: Outcome) -> None:
        """Each catalogue reward the receipt chose: given, or refused with its reason (docs/rewards.md)."""
        refused = {r.campaign: r.reason for r in outcome.rejected}
        for name in receipt.rewards:
            given = name in outcome.applied
            self.tally.request("reward", "given" if given else "refused", None if given else refused.get(name))

    def _count(self, receipt: Receipt, outcome: Outcome, day: int, member: _Member | None) -> None:
        tally = self.tally
        if tally.first is None or day < tally.first:  # (``Tally.see_day``)
            tally.first = day
        if tally.last is None or day > tally.last:
            tally.last = day
        t = tally.totals
        start = day - (day - 1) % 7  # (``week_start``)
        pending = self._week_sums.get(start)
        if pending is None:
            tally.week(day)  # the week's row made at its first receipt, as the report orders them
            pending = self._week_sums[start] = []
        # the receipt's totals and its week's figures, added by ``_add_sums`` (every _SUMS_EVERY receipts)
        pending.extend((receipt.total, outcome.payable, outcome.discount_total, outcome.points_total, receipt.units,
                        len(receipt.lines), receipt.customer_id is not None))
        self._unsummed += 1
        if self._unsummed >= _SUMS_EVERY:
            self._add_sums()
        if self.attrs:
            have = tally.attrs
            for line in receipt.lines:
                if line.attrs:
                    for name in self.attrs:
                        if name in line.attrs:
                            have[name] += 1
        payment = outcome.payment
        certificates = payment.get("certificates") if payment else None
        if outcome.coupons or certificates or (payment and payment.get("requested") is not None):
            self._requests(outcome)  # (nothing asked for: nothing to count)
        if receipt.rewards:
            self._rewards(receipt, outcome)
        if payment:
            if payment.get("points"):  # taken to pay, borrowing on credit included; returns show in liability
                t["points_redeemed"] += payment["points"]
                tally.week(day)[4] += payment["points"]
            t["redeemed_money"] += payment.get("points_money", 0)
            if certificates:
                t["certificates_used"] += sum(c.get("amount", 0) for c in certificates)
        campaigns = tally.campaigns
        touched: dict[str, list[Any]] = {}  # campaign -> the lines it touched (any of its effects)
        budgets = self.budgets
        given: dict[str, list[int]] | None = None  # budget-limited campaign -> [discount, points]
        for effect in outcome.effects.rows if isinstance(outcome.effects, Rows) else outcome.effects:
            name, _group, kind, _requested, applied, total, _capped = effect
            row = campaigns.get(name) or tally.campaign(name)
            row[4 if kind == "discount" else 5] += total
            mask = touched.get(name)
            if mask is None:
                touched[name] = applied  # read only; a second effect of the campaign makes a new list
            else:
                touched[name] = [a or b for a, b in zip(mask, applied, strict=True)]
            if name in budgets:
                given = given or {}
                given.setdefault(name, [0, 0])[kind != "discount"] += total
        if given:
            self._spend_budgets(receipt, day, given)
        payable = outcome.payable
        if touched:
            lines = receipt.lines
            for name, mask in touched.items():
                row = campaigns[name]
                row[0] += 1
                row[10] += payable  # the revenue of the receipts it touched
                if all(mask):  # every line: the receipt's own sums
                    row[2] += receipt.total
                    row[3] += receipt.units
                else:
                    for line, value in zip(lines, mask, strict=True):
                        if value:
                            row[2] += line.amount
                            row[3] += line.qty
            if member is not None:
                member.seen.update(touched)
        for name in outcome.applied:  # a campaign that gave no money or points (a stamp, a coupon issued)
            if name not in touched:
                row = tally.campaign(name)
                row[0] += 1
                row[10] += payable
                if member is not None:
                    member.seen.add(name)
        for rejection in outcome.rejected:
            if rejection.reason == "lost_to_stacking":
                self._collisions(outcome)
                break
        if outcome.arms:
            tally.arms.count(receipt, outcome)

    def _spend_budgets(self, receipt: Receipt, day: int, given: dict[str, list[int]]) -> None:
        """What the receipt took of each budget, measured as the engine measures it (docs/state.md:
        a money budget counts points at their value, a points budget counts discount in points)."""
        value, scale = self._point_value, self._points_scale
        for name, (money, points) in given.items():
            if self.budgets[name].kind == "money":
                spent = money + -(-points * value // scale)
            else:
                spent = points + -(-money * scale // value)
            if spent:
                days = self.tally.budgets.setdefault(name, {})
                days[day] = days.get(day, 0) + spent

    def _collisions(self, outcome: Outcome) -> None:
        lost = [r.campaign for r in outcome.rejected if r.reason == "lost_to_stacking"]
        if not lost:
            return
        by_group: dict[str, tuple[list[str], list[str]]] = {}
        for name in outcome.applied:
            by_group.setdefault(self.group_of[name], ([], []))[0].append(name)
        for name in lost:
            by_group.setdefault(self.group_of[name], ([], []))[1].append(name)
        for group, (won, beaten) in by_group.items():
            if not beaten:
                continue
            met = tuple(sorted(won + beaten))
            row = self.tally.collisions.setdefault((group, met), {})
            for name in won or ["(none)"]:
                row[name] = row.get(name, 0) + 1

    def _booker(self, member: _Member) -> Callable[[list[dict[str, Any]], int], None]:
        """Books a trigger chain's changes for ``member`` at a moment (``simulate/triggers.py``)."""
        return lambda changes, utc: self._apply(member, changes, self.local(utc), utc)

    def _apply(self, member: _Member, changes: Any, day: int, utc: int) -> None:
        """Book changes (all or nothing), then count them."""
        self._count_changes(self._book(member, changes, utc), day)

    def _book(self, member: _Member, changes: Any, utc: int) -> list[_Booked]:
        """Apply a receipt's changes to every state they concern, all or nothing: the member's, then,
        for a referral ``transfer``, the referrer's (``Engine.receive``). When a later step is refused,
        the earlier ones are undone (``invert``) before the error goes on. Nothing is counted here:
        a receipt counts only once all its changes are booked."""
        if type(changes) is Changes and TYPED_KINDS.issuperset(map(type, made := changes.items)) and made:
            # the usual receipt: the ledger's typed records only (no transfer, no expiry), one state
            apply_records(member.state, made, self.engine.bundle.state)  # all or nothing, as ``apply_in_place``
            return [_new(_Booked, (member, made, None, None))]
        booked: list[_Booked] = []
        try:
            self._book_into(member, changes, utc, booked)
        except LoyaError:
            for step in reversed(booked):
                if step.undo is not None:
                    apply_in_place(step.member.state, step.undo)
            raise
        return booked

    def _book_into(self, member: _Member, changes: Any, utc: int, booked: list[_Booked]) -> None:
        if not changes:
            return
        state = member.state
        made = items(changes)  # the ledger's typed records as they are (state.changes.Changes), JSON ones
        transfers: list[dict[str, Any]] = []
        expiries: list[int | None] | None = None  # None: no change takes an expired lot
        for i, change in enumerate(made):
            if type(change) is dict:  # (the ledger's typed records are neither)
                op = change["op"]
                if op == "transfer":
                    transfers.append(change)
                elif op == "take" and change.get("reason") == "expire":
                    if expiries is None:
                        expiries = [None] * len(made)
                    expiries[i] = self._lot_expiry_day(state, change)  # the lot's day, read before the take
        undo = invert(state, changes) if transfers or booked else None  # only a later step can fail after this
        apply_in_place(state, changes, self.engine.bundle.state)  # the limits a till checks, checked here too
        booked.append(_new(_Booked, (member, made, expiries, undo)))  # (``_Booked(...)``, without its __new__)
        for transfer in transfers:
            receiver = self._member(str(transfer["customer"]))
            self._book_into(receiver, self.engine.receive(transfer, receiver.state, utc_datetime(utc)), utc, booked)

    def _count_changes(self, booked: list[_Booked], day: int) -> None:
        """Count what the report needs from booked changes."""
        if not booked:
            return  # no change: no week of the series is touched
        week = self.tally.weeks.get(week_start(day)) or self.tally.week(day)
        lot_campaign = self._lot_campaign
        for _member, changes, expiries, _undo in booked:
            if expiries is None:  # (no change takes an expired lot: the usual receipt's, one test per record)
                for change in changes:
                    kind = type(change)
                    if kind is LotChange:
                        if change.points > 0 and change.campaign:  # the usual accrual
                            week[6] += change.points
                            lot_campaign[change.lot] = change.campaign
                        else:
                            self._count_record(change, lot_campaign, week, day)
                    elif kind is TierChange:
                        self._count_record(change, lot_campaign, week, day)
                    elif kind is dict:
                        self._count_json(change, None, week, day)
                continue
            for i, change in enumerate(changes):
                kind = type(change)
                if kind is not dict:  # a typed record of the ledger (state.changes.TYPED)
                    if kind is LotChange and change.points > 0 and change.campaign:  # the usual accrual
                        week[6] += change.points
                        lot_campaign[change.lot] = change.campaign
                    elif kind is LotChange or kind is TierChange:  # the others count nothing
                        self._count_record(change, lot_campaign, week, day)
                    continue
                self._count_json(change, None if expiries is None else expiries[i], week, day)

    def _count_json(self, change: dict[str, Any], expiry: int | None, week: list[int], day: int) -> None:
        """``_count_changes`` of a change as JSON (the clock's, a return's, and the kinds the ledger does
        not make as records); ``expiry``: the local day before the expiry of the lot a ``take`` took from."""
        t = self.tally.totals
        lot_campaign = self._lot_campaign
        op = change["op"]
        if op == "lot":
            points = change["points"]
            week[6] += points
            if points < 0:  # an accrual withdrawn by a return
                t["points_returned"] -= points
                campaign = lot_campaign.get(change["lot"])
                if campaign is not None:
                    self.tally.campaign(campaign)[7] -= points
            elif change.get("campaign"):
                lot_campaign[change["lot"]] = change["campaign"]
            elif change.get("reason") == "referral":
                t["points_referral"] += points
        elif op == "take":
            points = change["points"]
            reason = change.get("reason")
            # an expiry is dated by the lot's expiry, not by when the clock noticed it
            when = self.tally.week(min(day, expiry)) if expiry is not None else week
            when[6] -= points
            if reason == "expire":
                t["points_expired"] += points
                when[5] += points
                campaign = lot_campaign.get(change["lot"])
                if campaign is not None:
                    self.tally.campaign(campaign)[6] += points
            elif reason == "return":
                t["points_returned"] += points
                campaign = lot_campaign.get(change["lot"])
                if campaign is not None:
                    self.tally.campaign(campaign)[7] += points
        elif op == "debt":
            week[6] -= change["points"]
        elif op == "coupon_issue":
            t["coupons_issued"] += 1
            if change.get("campaign"):
                self.tally.campaign(change["campaign"])[8] += 1
        elif op == "coupon_expire":
            t["coupons_expired"] += 1
        elif op == "coupon_use":
            t["coupons_redeemed"] += 1
            if change.get("campaign"):
                self.tally.campaign(change["campaign"])[9] += 1
        elif op == "certificate_issue":
            t["certificates_sold"] += change.get("value", change.get("certificate", {}).get("value", 0))
        elif op == "tier":
            self.tally.tier_move(day, change.get("from"), change.get("to"))

    def _count_record(self, change: Any, lot_campaign: dict[str, str], week: list[int], day: int) -> None:
        """``_count_changes`` of a typed change the ledger made: a lot it accrued (points > 0), a tier
        upgrade; the others count nothing."""
        if type(change) is LotChange:
            points = change.points
            week[6] += points
            if points < 0:  # an accrual withdrawn (the ledger's are positive; a return's removals are JSON)
                self.tally.totals["points_returned"] -= points
                campaign = lot_campaign.get(change.lot)
                if campaign is not None:
                    self.tally.campaign(campaign)[7] -= points
            elif change.campaign:
                lot_campaign[change.lot] = change.campaign
            elif change.reason == "referral":
                self.tally.totals["points_referral"] += points
        elif type(change) is TierChange:
            self.tally.tier_move(day, change.old, change.new)

    def _return(self, data: dict[str, Any], member: _Member | None) -> None:
        of = str(data["return_of"])
        original = member.outcomes.get(of) if member is not None else None
        if original is None and member is None and (anonymous := self.anonymous.give_back(data)) is not None:
            self._use(utc_seconds(dt.datetime.fromisoformat(data["datetime"])), str(data["receipt_id"]),
                      anonymous.changes)
            self.tally.totals["returns"] += 1
            self.tally.totals["refunded"] += anonymous.money
            return
        if original is None:
            if of in self.refused:
                raise Skipped(f"return of receipt {of!r}, which is quarantined")
            raise Problem(f"return of unknown receipt {data['return_of']!r}"
                          + (" (a return is made by the customer of the original receipt)" if member is None else ""))
        assert member is not None
        returned = {int(line["line_no"]): line["qty"] for line in data.get("lines", [])}
        now = dt.datetime.fromisoformat(data["datetime"])
        refund = self.engine.refund(original, returned or None, member.state, now, str(data["receipt_id"]))
        utc = utc_seconds(now)
        booked = self._book(member, refund.changes, utc)
        self._use(utc, str(data["receipt_id"]), refund.changes)
        t = self.tally.totals
        t["returns"] += 1
        t["refunded"] += refund.money
        self._count_changes(booked, self.local(utc))

    def _lot_expiry_day(self, state: CustomerState, change: Mapping[str, Any]) -> int | None:
        """The local day before the expiry of the lot ``change`` takes from (None: not found)."""
        holder = state.shared.accounts if change.get("shared") and state.shared is not None else state.accounts
        account = holder.get(change["account"])
        found = find_lot(account, change["lot"]) if account is not None else -1
        expires = account.lots[found].expires if account is not None and found >= 0 else None
        return None if expires is None else self.local(expires - 1)


class _Booked(NamedTuple):
    """Changes applied to one member's state: what to count, the expiry days of the lots they take
    from (read before), and how to undo them (when a later step of the receipt may be refused)."""

    member: _Member
    changes: Any
    expiries: list[int | None] | None  # None: none
    undo: list[dict[str, Any]] | None


def _balance(accounts: Mapping[str, Any]) -> int:
    return sum(account.balance for account in accounts.values())
