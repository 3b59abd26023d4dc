"""What bytecode reads about a customer at a moment (``view``), and the declarations by name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import islice
from typing import Any

from ..declarations import Account as AccountDecl
from ..declarations import Counter, CouponSeries, Level, StateDecls
from ..model import CustomerView
from .periods import period_key
from .records import AccountState, CustomerState, live_from, lot_hints

# ------------------------------------------------------------------------------------------- view


class _Index:
    """The declarations by name, built once per ``StateDecls``."""

    __slots__ = ("accounts", "counters", "coupons", "entry", "levels", "position")

    def __init__(self, decls: StateDecls) -> None:
        self.accounts: dict[str, AccountDecl] = {a.name: a for a in decls.accounts}
        self.counters: dict[str, Counter] = {c.name: c for c in decls.counters}
        self.coupons: dict[str, CouponSeries] = {c.name: c for c in decls.coupons}
        levels = decls.tiers.levels if decls.tiers is not None else ()
        self.levels: dict[str, Level] = {level.name: level for level in levels}
        self.position: dict[str, int] = {level.name: i for i, level in enumerate(levels)}
        self.entry: Level | None = levels[0] if levels else None


_INDEXES: dict[int, tuple[StateDecls, _Index]] = {}
_LAST: tuple[StateDecls | None, Any] = (None, None)  # the last (declarations, index) asked, one tuple (threads)


def _index(decls: StateDecls) -> _Index:
    global _LAST
    last = _LAST
    if last[0] is decls:
        return last[1]  # (a replay asks for one programme's, three times a receipt)
    index = _lookup(decls)
    _LAST = (decls, index)
    return index


def _lookup(decls: StateDecls) -> _Index:
    found = _INDEXES.get(id(decls))
    if found is not None and found[0] is decls:
        return found[1]
    if len(_INDEXES) > 64:
        _INDEXES.clear()
    index = _Index(decls)
    _INDEXES[id(decls)] = (decls, index)
    return index


def _active(account: AccountState, now: int) -> int:
    """Points spendable at ``now``: active lots' left minus the debt."""
    hints = lot_hints(account)
    due, ripe = hints["_due"], hints["_ripe"]
    if due is not None and now < due:  # no lot with points left has expired: the balance less the lots not yet active
        if ripe is not None and ripe <= now:
            return account.balance  # every lot with points left is active (balance = Σ left − debt)
        return account.balance - _pending(account, hints, now)
    total = -account.debt
    for lot in islice(account.lots, live_from(account), None):
        left = lot.left
        if left and lot.active_from <= now:
            expires = lot.expires
            if expires is None or now < expires:
                total += left
    return total


def _pending(account: AccountState, hints: dict[str, Any], now: int) -> int:
    """The points of the lots not yet active at ``now``. The lots before ``_act``'s index are active (at
    its time, so at any later one): only those after are looked at, and the hint moves past those now
    active, so a long-lived customer's receipts look at their last few lots only."""
    lots = account.lots
    act = hints.get("_act")
    i = act[1] if act is not None and act[0] <= now else 0
    n = len(lots)
    while i < n and lots[i].active_from <= now:  # active: the hint moves past them
        i += 1
    hints["_act"] = (now, i)
    pending = 0
    for lot in islice(lots, i, None):
        if lot.active_from > now:
            pending += lot.left
    return pending


def view(state: CustomerState, decls: StateDecls, now_utc: int, local: Callable[[int], int]) -> CustomerView:
    """What bytecode reads about the customer at ``now_utc`` (UTC seconds); ``local(utc)`` gives the
    local date ordinal in the programme's zone (``local_date(zone)``, or the engine's cached one).

    counters: declared counters and chips whose stored period is the current one (chips after their
    promotion read 0); balances: active lots' left minus debt, per account, plus the shared account's
    for a member who may redeem from it; benefits: of the customer's level (the entry level without
    one); tier: the level's name (the entry level's when the customer has none). The rest is
    ``state.view``'s (read here from the state's fields: a state changed since has no cached one).
    """
    index = _index(decls)
    fields = state.__dict__
    counters: dict[str, int] = {}
    held = fields["counters"]
    if held:
        today = local(now_utc)
        keys: dict[str, str] = {}
        for name, c in held.items():
            decl = index.counters.get(name)
            if decl is None or (decl.valid is not None and today > decl.valid[1]):
                continue
            key = keys.get(decl.reset)
            if key is None:
                key = keys[decl.reset] = period_key(today, decl.reset)
            if c.period == key:
                counters[name] = c.value
    balances = {name: _active(acc, now_utc) for name, acc in fields["accounts"].items()}
    shared = fields["shared"]
    if shared is not None and shared.accounts:
        member = shared.members.get(state.id)
        if member is not None and member.redeem:
            for name, acc in shared.accounts.items():
                balances[name] = balances.get(name, 0) + _active(acc, now_utc)
    tier = fields["tier"] or ""
    benefits: Mapping[str, int] = {}
    if index.entry is not None:
        level = index.levels.get(tier) if tier else None
        if level is None:
            level = index.entry
        tier, benefits = level.name, level.benefits
    return CustomerView(True, fields["id"], tier, frozenset(fields["segments"]), dict(fields["attributes"]), counters,
                        balances, benefits, fields["receipts"])
