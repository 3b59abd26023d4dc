"""What time passing does to a state (expiry, counter resets, coupon and certificate expiry, tier
reviews), as changes and events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from ..declarations import StateDecls
from .history import prune
from .periods import level_for, local_date, period_key, period_start
from .records import _NEVER, AccountState, CustomerState, live_from, lot_hints, set_bounds
from .tiers import _record
from .view import _Index, _index

# ---------------------------------------------------------------------------------------- advance


def advance(state: CustomerState, decls: StateDecls, now_utc: int, zone: ZoneInfo | Callable[[int], int]
            ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What time passing up to ``now_utc`` does, as (changes, events); ``zone`` is the programme's
    zone or a ``utc -> local date ordinal`` function. Idempotent: after applying the changes, the
    same call gives no changes (notices, being events, come again; hosts dedupe them by account and
    date).

    * lots past ``expires`` with points left: ``take`` reason ``expire`` (+ ``points_expired`` per
      account); lots expiring within the account's ``notify``: ``points_expiring`` per account and
      last local date they can be spent;
    * counters holding a count of an ended period, chips after their promotion: back to 0 (a
      ``counter`` change of minus the value *in the period it was counted in*, reason ``reset`` or
      ``burn``; a counter at 0 is absent and starts afresh in any period);
    * coupons past ``valid_to``: ``coupon_expire``; certificates past ``expires`` with a balance:
      ``certificate`` of minus the balance, reason ``expire``;
    * tiers, calendar period: when the record's period has ended, a review: the qualification moves
      to the current period (``previous`` = the value of the period just ended, 0 if the record is
      older) and the tier becomes the highest level reached by that value (``tier`` reason
      ``review`` + ``tier_changed``); rolling window: days that left the window are dropped and the
      tier comes down to the level the rest reaches. A customer without a qualification record
      has nothing to review.
    """
    local = local_date(zone) if isinstance(zone, ZoneInfo) else zone
    today = local(now_utc)
    index = _index(decls)
    changes: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    places: list[tuple[bool, dict[str, AccountState]]] = [(False, state.accounts)]
    if state.shared is not None:
        places.append((True, state.shared.accounts))
    for shared, accounts in places:
        for name in sorted(accounts) if len(accounts) > 1 else accounts:
            decl = index.accounts.get(name)
            notify = decl.notify if decl is not None else 0
            account = accounts[name]
            due = lot_hints(account)["_due"]
            if due is None or now_utc >= due - notify:  # (``_lots_due``'s own first test, asked here first)
                _lots_due(name, account, shared, notify, now_utc, local, changes, events)
    if state.counters:
        _counters_due(state, index, today, changes)
    for coupon in state.coupons:
        if coupon.valid_to is not None and coupon.valid_to <= now_utc:
            changes.append({"op": "coupon_expire", "code": coupon.code, "series": coupon.series})
    for cert in state.certificates:
        if cert.balance and cert.expires is not None and cert.expires <= now_utc:
            changes.append({"op": "certificate", "code": cert.code, "delta": -cert.balance, "reason": "expire"})
    tiers, q = decls.tiers, state.qualification
    if tiers is not None and tiers.levels and q is not None and (
            tiers.period.kind == "rolling" or q.period != period_key(today, tiers.period.kind)):
        _review(state, decls, index, today, changes, events)  # (a calendar period's record of today's: nothing)
    seg = decls.segments
    if seg is not None and state.history is not None and seg.horizon:  # docs/segments.md: buckets leave the horizon
        pruned = prune(state.history, today - seg.horizon + 1)
        if pruned is not None:
            changes.append(pruned)
    return changes, events


def _lots_due(name: str, account: AccountState, shared: bool, notify: int, now_utc: int,
              local: Callable[[int], int], changes: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    """An account's lots past their expiry (taken), and those expiring within ``notify`` (notices, per
    last local day they can be spent)."""
    due = lot_hints(account)["_due"]
    if due is not None and now_utc < due - notify:
        return  # no lot with points left expires by now, nor within notify (the hint's bound)
    expired = 0
    soon: dict[int, int] = {}
    first, ripe = _NEVER, 0
    seen, last_day = None, 0  # the last expiry whose local day was asked (the lots of a period share theirs)
    for lot in islice(account.lots, live_from(account), None):  # the lots before have no points left
        left = lot.left
        if not left:
            continue
        if lot.active_from > ripe:
            ripe = lot.active_from
        expires = lot.expires
        if expires is None:
            continue
        if expires < first:
            first = expires
        if expires <= now_utc:
            changes.append({"op": "take", "account": name, "lot": lot.id, "points": left,
                            "reason": "expire", "shared": shared})
            expired += left
        elif notify and expires - now_utc <= notify:
            if expires != seen:
                seen, last_day = expires, local(expires - 1)
            soon[last_day] = soon.get(last_day, 0) + left
    set_bounds(account, first, ripe)
    if expired:
        events.append({"event": "points_expired", "account": name, "points": expired, "shared": shared})
    for day in sorted(soon):
        events.append({"event": "points_expiring", "account": name, "points": soon[day],
                       "date": dt.date.fromordinal(day).isoformat(), "shared": shared})


def _counters_due(state: CustomerState, index: _Index, today: int, changes: list[dict[str, Any]]) -> None:
    """Counters holding a count of an ended period (reset), chips after their promotion (burn)."""
    keys: dict[str, str] = {}
    held = state.counters
    for name in sorted(held) if len(held) > 1 else held:
        counter = held[name]
        cdecl = index.counters.get(name)
        if cdecl is None:
            continue  # not the programme's (any more): left alone, never read
        if cdecl.valid is not None and today > cdecl.valid[1]:
            reason = "burn"
        else:
            key = keys.get(cdecl.reset)
            if key is None:
                key = keys[cdecl.reset] = period_key(today, cdecl.reset)
            if counter.period == key:
                continue
            reason = "reset"
        changes.append({"op": "counter", "name": name, "delta": -counter.value, "period": counter.period,
                        "reason": reason})


def _review(state: CustomerState, decls: StateDecls, index: _Index, today: int, changes: list[dict[str, Any]],
            events: list[dict[str, Any]]) -> None:
    tiers = decls.tiers
    q = state.qualification
    assert tiers is not None and q is not None and index.entry is not None
    kind = tiers.period.kind
    current = index.position.get(state.tier) if state.tier is not None else 0
    if kind == "rolling":
        if q.period != "rolling":  # the programme moved to a rolling window: start one
            changes.append({"op": "qualify", "period": "rolling", "delta": 0, "previous": 0, "from": _record(q)})
            value = 0
        else:
            first = today - (tiers.period.days or 0) + 1
            value = q.value
            for day, amount in q.days:
                if day < first:
                    changes.append({"op": "qualify", "period": "rolling", "delta": -amount, "day": day,
                                    "reason": "window"})
                    value -= amount
        level = level_for(decls, value)
        assert level is not None
        if current is not None and index.position[level.name] >= current:
            return
    else:
        key = period_key(today, kind)
        if q.period == key:
            return
        before = period_key(period_start(today, kind) - 1, kind)
        finished = q.value if q.period == before else 0
        changes.append({"op": "qualify", "period": key, "delta": 0, "previous": finished, "from": _record(q),
                        "reason": "review"})
        level = level_for(decls, finished)
        assert level is not None
        if state.tier == level.name or (state.tier is None and level is index.entry):
            return
    changes.append({"op": "tier", "from": state.tier, "to": level.name, "reason": "review"})
    events.append({"event": "tier_changed", "from": state.tier, "to": level.name, "reason": "review"})


