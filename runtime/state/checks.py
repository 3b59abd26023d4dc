"""What reading a customer record checks beyond the field types: sizes (``MAX_TEXT_CHARS``,
``MAX_VALUE``; LOY507), consistency (balances, unique codes and ids; LOY502) and the canonical form,
and, with the programme, credit limits."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..declarations import StateDecls
from ..errors import CustomerError
from ..limits import MAX_TEXT_CHARS, MAX_VALUE
from ..model import _show, _surrogate

if TYPE_CHECKING:
    from .records import AccountState, Certificate, Coupon, CustomerState


LIMIT = "LOY507"  # a customer record exceeds a limit of runtime/limits.py

def _check_sizes(data: dict[str, Any]) -> None:
    """Every string (keys too) at most MAX_TEXT_CHARS characters of real text (no lone surrogate) and
    every integer within ±MAX_VALUE, in one pass without recursion; the place is built only for an
    error (each node keeps a link to its parent, so the pass is linear however deep the record)."""
    stack: list[tuple[Any, Any]] = [(data, None)]
    pop, push = stack.pop, stack.append
    while stack:
        value, at = pop()
        kind = type(value)
        if kind is dict:
            for key, item in value.items():
                if type(key) is str:
                    _check_text(key, at, "a key")
                push((item, (at, key)))
        elif kind is list:
            for index, item in enumerate(value):
                push((item, (at, index)))
        elif kind is str:
            _check_text(value, at, "a string")
        elif kind is int and not -MAX_VALUE <= value <= MAX_VALUE:
            raise CustomerError(f"{_show(value)} is more than {MAX_VALUE} in size", _path(at) or None, LIMIT)


# every ASCII digit made b"0", every other byte b" ": a run of digits is then a run of b"0" (sizes_within)
_DIGITS_ONLY = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_WIDE = b"0" * len(str(MAX_VALUE))  # an integer this wide may be beyond MAX_VALUE; a narrower one is not


def sizes_within(text: str) -> bool:
    """True when ``_check_sizes`` of the value the JSON ``text`` decodes to cannot fail, seen from the
    text alone (a few passes in C instead of one in Python over every node): no backslash, so no string
    holds an escape (a lone surrogate is one) and none is longer than the stretch between two quotes;
    no such stretch longer than ``MAX_TEXT_CHARS``; no lone surrogate in the text; no run of ASCII
    digits as wide as ``MAX_VALUE``, so every integer is within it. False: check node by node
    (test_state_sizes_text proves the shortcut never passes what ``_check_sizes`` refuses)."""
    if "\\" in text or max(map(len, text.split('"'))) > MAX_TEXT_CHARS:
        return False
    if not text.isascii() and _surrogate(text):
        return False
    return _WIDE not in text.encode().translate(_DIGITS_ONLY)


def _check_text(text: str, at: Any, what: str) -> None:
    if len(text) > MAX_TEXT_CHARS:
        raise CustomerError(f"{what} of {len(text):,} characters (at most {MAX_TEXT_CHARS:,})", _path(at) or None,
                            LIMIT)
    if not text.isascii() and _surrogate(text):
        raise CustomerError(f"{what} with a lone surrogate (\\ud800-\\udfff), which is not text", _path(at) or None)


def _path(at: Any) -> str:
    """The JSON path of a node from its (parent, key) links: ``accounts.bonus.lots[2].id``."""
    parts: list[int | str] = []
    while at is not None:
        at, key = at
        parts.append(key)
    return _where(reversed(parts))



def _message(error: Mapping[str, Any]) -> str:
    msg = str(error["msg"])
    return msg[len("Value error, "):] if msg.startswith("Value error, ") else msg


def _where(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part != "[key]":
            out += f".{part}"
    return out.lstrip(".")


# ------------------------------------------------------------------------------------ consistency


def _check_and_normalise(s: CustomerState) -> None:
    """Refuse an inconsistent record (``CustomerError`` with the path) and put it in canonical form."""
    d = s.__dict__
    d["segments"] = sorted(set(s.segments))
    d["children_birthdays"] = sorted(s.children_birthdays)
    d["accounts"] = _check_accounts(s.accounts, "accounts")
    d["counters"] = {name: c for name, c in s.counters.items() if c.value}
    d["coupon_uses"] = {name: n for name, n in s.coupon_uses.items() if n}
    d["usage"] = _drop_zeros(s.usage)
    for receipt, lines in s.returns.items():
        for key in lines:
            if not (key.isascii() and key.isdigit() and key[0] != "0"):
                raise CustomerError(f"a line number is a positive integer, got {key!r}", f"returns.{receipt}")
    d["returns"] = _drop_zeros(s.returns)
    d["applied"] = _by_time(s.applied)
    _unique((c.code for c in s.coupons), "coupons", "code", "coupon code")
    d["coupons"] = sorted(s.coupons, key=_code)
    _unique((c.code for c in s.certificates), "certificates", "code", "certificate code")
    for i, cert in enumerate(s.certificates):
        if cert.balance > cert.value:
            raise CustomerError(f"{cert.balance} is more than the certificate's value {cert.value}",
                                f"certificates[{i}].balance")
    d["certificates"] = sorted(s.certificates, key=_code)
    q = s.qualification
    if q is not None and q.days:
        days = sorted(q.days)
        for i in range(1, len(days)):
            if days[i][0] == days[i - 1][0]:
                raise CustomerError(f"day {days[i][0]} appears twice", "qualification.days")
        total = sum(v for _, v in days)
        if total != q.value:
            raise CustomerError(f"is {q.value}, but the days add up to {total}", "qualification.value")
        q.__dict__["days"] = [day for day in days if day[1]]
    sh = s.shared
    if sh is not None:
        if s.id not in sh.members:
            raise CustomerError(f"customer {s.id} is not a member of shared account {sh.id}", "shared.members")
        if sh.owner not in sh.members:
            raise CustomerError(f"the owner {sh.owner} is not a member", "shared.owner")
        sh.__dict__["accounts"] = _check_accounts(sh.accounts, "shared.accounts")


def _check_accounts(accounts: dict[str, AccountState], where: str) -> dict[str, AccountState]:
    for name, acc in accounts.items():
        at = f"{where}.{name}"
        _unique((lot.id for lot in acc.lots), f"{at}.lots", "id", "lot id")
        left = 0
        for i, lot in enumerate(acc.lots):
            if lot.left > lot.points:
                raise CustomerError(f"{lot.left} left is more than the lot's {lot.points} points",
                                    f"{at}.lots[{i}].left")
            left += lot.left
        if acc.balance != left - acc.debt:
            raise CustomerError(f"is {acc.balance}, but the lots have {left} left and the debt is {acc.debt} "
                                f"(balance = left - debt = {left - acc.debt})", f"{at}.balance")
    return {name: acc for name, acc in accounts.items() if acc.lots or acc.debt}


def check_limits(state: CustomerState, decls: StateDecls) -> None:
    """Checks that need the programme: a debt only on a credit account, within its limit."""
    credit = {a.name: a.credit for a in decls.accounts}
    places = [("accounts", state.accounts)]
    if state.shared is not None:
        places.append(("shared.accounts", state.shared.accounts))
    for where, accounts in places:
        for name, acc in accounts.items():
            limit = credit.get(name)
            if limit is not None and acc.debt > limit:
                raise CustomerError(f"{acc.debt} is more than the account's credit limit {limit}",
                                    f"{where}.{name}.debt")


def _unique(values: Iterable[str], where: str, field: str, what: str) -> None:
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            raise CustomerError(f"{what} {value!r} appears twice", f"{where}[{i}].{field}")
        seen.add(value)


def _drop_zeros(nested: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    out = {}
    for key, inner in nested.items():
        kept = {k: v for k, v in inner.items() if v}
        if kept:
            out[key] = kept
    return out


def _by_time(applied: Mapping[str, int]) -> dict[str, int]:
    """Applied ids in canonical order: oldest first, ties by id."""
    return dict(sorted(applied.items(), key=_when_then_id))


def _when_then_id(item: tuple[str, int]) -> tuple[int, str]:
    return item[1], item[0]


def _code(item: Coupon | Certificate) -> str:
    return item.code

