"""The machinery ``apply`` runs changes with: copy-on-write or in place with an undo log, all or
nothing; the readers of a change's fields (``_str``, ``_int``, ``_time``); and the refusals of a value or
a text past the limits the customer reader checks (``over``, ``too_long``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..declarations import StateDecls
from ..limits import MAX_TEXT_CHARS, MAX_VALUE
from ..model import _show
from .jsontypes import _FIRST_TIME as _FIRST
from .jsontypes import _LAST_TIME as _LAST
from .jsontypes import _MISSING, _in_range, _time_in
from .records import _APPEND, AccountState, CustomerState, _clone, _copy, _make, find_lot, forget_hints
from .view import _index

_new: Any = tuple.__new__  # a record from all its fields, without the named tuple's Python-level __new__
_REORDER: Any = object()  # undo marker: sort a dict's entries once its other entries are restored


class _Failed(Exception):
    """Why one change does not fit; ``changes._run`` names the change. ``code``: the error's code when
    it is more precise than LOY503 (LOY510 applied already, LOY511 and LOY512 past a limit)."""

    def __init__(self, message: str, code: str = "LOY503") -> None:
        super().__init__(message)
        self.code = code


def over(value: int, what: str) -> _Failed:
    """The refusal (LOY511) of a value past ``MAX_VALUE``: every integer a state holds stays within what
    the customer reader accepts, so a state ``apply`` wrote always loads back (docs/state.md, "Bounds").
    Callers compare with ``MAX_VALUE`` themselves, and build ``what`` only when it is over."""
    return _Failed(f"{what} would be {value:,}, over MAX_VALUE ({MAX_VALUE:,}): a state holds at most that, "
                   "so the change is refused", "LOY511")


class _Applier:
    """Applies changes, all or nothing. Copy-on-write (``apply``): the root is a fresh copy and any
    object on the path to a write is copied once (``own``), so the input state is never touched. In
    place (``apply_in_place``): writes go to the state itself and are logged, and a failure undoes
    them. Objects are frozen pydantic models: writes go to their ``__dict__`` (only ever on objects
    this applier owns)."""

    __slots__ = ("decls", "fields", "fresh", "index", "root", "undo")

    def __init__(self, state: CustomerState, decls: StateDecls | None, in_place: bool) -> None:
        self.decls = decls
        self.index = _index(decls) if decls is not None else None
        self.undo: list[tuple[Any, Any, Any]] | None = [] if in_place else None
        self.fresh: set[int] | None = None if in_place else set()
        self.root: CustomerState = state if in_place else _clone(state)
        self.fields: dict[str, Any] = self.root.__dict__  # the root's fields, where changes write

    # --- ownership and logged writes

    def own(self, holder: Any, key: Any) -> Any:
        """``holder[key]``, copied first unless this applier made it (in place: as is)."""
        value = holder[key]
        fresh = self.fresh
        if fresh is None or id(value) in fresh:
            return value
        value = _copy(value)
        fresh.add(id(value))
        holder[key] = value  # the holder is owned already
        return value

    def put(self, holder: Any, key: Any, value: Any) -> None:
        """``holder[key] = value`` (``_MISSING``: delete), logged when in place."""
        if self.undo is not None:
            self.undo.append((holder, key, holder.get(key, _MISSING)))
        if value is _MISSING:
            holder.pop(key, None)
        else:
            holder[key] = value

    def append(self, items: list[Any], value: Any) -> None:
        if self.undo is not None:
            self.undo.append((items, _APPEND, None))
        items.append(value)

    def reorder_on_rollback(self, holder: dict[Any, Any], key: Callable[[tuple[Any, Any]], Any]) -> None:
        """A rollback restores ``holder``'s entries, then puts them back in order by ``key`` (an entry
        deleted and restored comes back last; the applied-ids memory keeps its oldest first)."""
        if self.undo is not None:
            self.undo.append((holder, _REORDER, key))

    def rollback(self) -> None:
        assert self.undo is not None
        for holder, key, old in reversed(self.undo):
            if key is _APPEND:
                holder.pop()
            elif key is _REORDER:
                items = sorted(holder.items(), key=old)
                holder.clear()
                holder.update(items)
            elif old is _MISSING:
                holder.pop(key, None)
            else:
                holder[key] = old
        self.undo.clear()
        shared = self.fields["shared"]
        for accounts in (self.fields["accounts"], shared.accounts if shared is not None else {}):
            for acc in accounts.values():
                forget_hints(acc)  # lots given their points back behind the hints' backs

    # --- parts

    def accounts(self, root: dict[str, Any], shared: bool) -> tuple[dict[str, AccountState], str]:
        if shared:
            if root["shared"] is None:
                raise _Failed("the customer has no shared account")
            shared = self.own(root, "shared")
            return self.own(shared.__dict__, "accounts"), "shared account "
        return self.own(root, "accounts"), "account "

    def account(self, root: dict[str, Any], name: str, shared: bool, create: bool = False
                ) -> tuple[dict[str, AccountState], str, AccountState]:
        accounts, what = self.accounts(root, shared)
        if name not in accounts:
            if not create:
                raise _Failed(f"{what}{name!r} has no lots and no debt")
            self.put(accounts, name, _make(AccountState, {"balance": 0, "debt": 0, "lots": []}))
            if self.fresh is not None:
                self.fresh.add(id(accounts[name]))
                self.fresh.add(id(accounts[name].lots))
        return accounts, name, self.own(accounts, name)

    def drop_if_empty(self, accounts: dict[str, AccountState], name: str) -> None:
        acc = accounts[name]
        if not acc.lots and not acc.debt:
            self.put(accounts, name, _MISSING)

    def count(self, holder: dict[str, int], key: str, delta: int, what: str) -> None:
        value = holder.get(key, 0) + delta
        if value < 0:
            raise _Failed(f"{what} would be {value}")
        if value > MAX_VALUE:
            raise over(value, what)
        self.put(holder, key, value if value else _MISSING)

    def nested_count(self, root: dict[str, Any], field: str, outer: str, inner: str, delta: int, what: str) -> None:
        table = self.own(root, field)
        if outer not in table:
            if delta < 0:
                raise _Failed(f"{what} would be {delta}")
            self.put(table, outer, {})
            if self.fresh is not None:
                self.fresh.add(id(table[outer]))
        counts = self.own(table, outer)
        self.count(counts, inner, delta, what)
        if not counts:
            self.put(table, outer, _MISSING)


def _str(change: Mapping[str, Any], key: str) -> str:
    value = change.get(key)
    if type(value) is not str:
        raise _Failed(f"{key} must be a string, got {_show(value if key in change else _MISSING)}")
    if len(value) > MAX_TEXT_CHARS:
        raise too_long(key, value)
    return value


def too_long(key: str, value: str) -> _Failed:
    """The refusal (LOY512) of a text the customer reader would refuse (``MAX_TEXT_CHARS``), e.g. a lot id
    made of a 1,000-character receipt id and the account: a state ``apply`` wrote always loads back."""
    return _Failed(f"{key} is {len(value):,} characters, over MAX_TEXT_CHARS ({MAX_TEXT_CHARS:,}): a state holds "
                   "at most that, so the change is refused", "LOY512")


def _int(change: Mapping[str, Any], key: str) -> int:
    value = change.get(key)
    if type(value) is not int:
        raise _Failed(f"{key} must be an integer, got {_show(value if key in change else _MISSING)}")
    return value


def _time(change: Mapping[str, Any], key: str, optional: bool = False) -> int | None:
    value = change.get(key)
    if value is None and optional:
        return None
    try:
        return _in_range(value) if type(value) is int else _time_in(value)
    except ValueError as exc:
        raise _Failed(f"{key}: {exc}") from None


def _text(key: str, value: str | None) -> None:
    """What ``_str`` and ``_opt_str`` check of a text a record made in Python holds (its type is right
    by construction): its length, refused as they refuse it (LOY512)."""
    if value is not None and len(value) > MAX_TEXT_CHARS:
        raise too_long(key, value)


def _when(key: str, utc: int | None) -> None:
    """What ``_time`` checks of a time a record made in Python holds (UTC seconds): its range."""
    if utc is not None and not _FIRST <= utc <= _LAST:
        try:
            _in_range(utc)
        except ValueError as exc:
            raise _Failed(f"{key}: {exc}") from None


def _opt_str(change: Mapping[str, Any], key: str) -> str | None:
    value = change.get(key)
    if value is not None and type(value) is not str:
        raise _Failed(f"{key} must be a string or null, got {_show(value)}")
    if value is not None and len(value) > MAX_TEXT_CHARS:
        raise too_long(key, value)
    return value


_find_lot = find_lot

