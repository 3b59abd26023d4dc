"""A customer state read back from the JSON its own ``to_dict`` wrote, without validating it again.

``CustomerState.from_dict`` checks everything a record from outside may get wrong (types, sizes,
consistency, canonical order, credit limits). A host that keeps the records it wrote itself, and knows
a record is one of them (the server seals each state it stores: docs/server.md, "Storage"), may read
it with ``trusted_state`` instead: the same value (``to_dict`` equal, the same types; test_srv_trusted),
made field by field from the decoded JSON with no check at all. Anything else goes through
``from_dict``. ``TRUST_FORMAT`` names this reading: a host includes it in what its seals are made
with, and it is raised whenever the record's form or what ``from_dict`` checks changes, so that
records sealed before are validated again."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .chain_record import ChainState
from .history_record import History
from .jsontypes import _time_in
from .model_scores_record import ModelScores
from .records import (
    AccountState,
    Certificate,
    CounterState,
    Coupon,
    CustomerState,
    Lot,
    Member,
    Qualification,
    ReferralState,
    SharedAccount,
    _make,
)

TRUST_FORMAT = 1

_date = dt.date.fromisoformat
_TIMES: dict[str, int] = {}  # a time's text -> its UTC seconds: a state's times repeat (a receipt's, a lot's expiry)
_TIMES_KEPT = 8192


def _time(text: str) -> int:
    """``jsontypes._time_in`` of a time's text, remembered (the same text always reads the same)."""
    utc = _TIMES.get(text)
    if utc is None:
        if len(_TIMES) >= _TIMES_KEPT:
            _TIMES.clear()
        utc = _TIMES[text] = _time_in(text)
    return utc


def _time_or_none(value: str | None) -> int | None:
    return None if value is None else _time(value)


def _date_or_none(value: str | None) -> dt.date | None:
    return None if value is None else _date(value)


def _lot(d: dict[str, Any]) -> Lot:
    expires = d["expires"]
    return _make(Lot, {"id": d["id"], "points": d["points"], "left": d["left"], "active_from": _time(d["active_from"]),
                       "expires": None if expires is None else _time(expires), "receipt": d["receipt"],
                       "campaign": d["campaign"]})


def _accounts(accounts: dict[str, Any]) -> dict[str, AccountState]:
    return {name: _make(AccountState, {"balance": a["balance"], "debt": a["debt"], "lots": [_lot(lot) for lot in a["lots"]]})
            for name, a in accounts.items()}


def _coupon(d: dict[str, Any]) -> Coupon:
    return _make(Coupon, {"code": d["code"], "series": d["series"], "issued": _time(d["issued"]),
                          "valid_from": _time(d["valid_from"]), "valid_to": _time_or_none(d["valid_to"]),
                          "uses_left": d["uses_left"]})


def _certificate(d: dict[str, Any]) -> Certificate:
    return _make(Certificate, {"code": d["code"], "series": d["series"], "value": d["value"], "balance": d["balance"],
                               "expires": _time_or_none(d["expires"]), "multi_use": d["multi_use"]})


def _qualification(d: dict[str, Any] | None) -> Qualification | None:
    if d is None:
        return None
    return _make(Qualification, {"period": d["period"], "value": d["value"], "previous": d["previous"],
                                 "days": [(day, value) for day, value in d["days"]]})


def _shared(d: dict[str, Any] | None) -> SharedAccount | None:
    if d is None:
        return None
    members = {name: _make(Member, dict(m)) for name, m in d["members"].items()}
    return _make(SharedAccount, {"id": d["id"], "owner": d["owner"], "members": members,
                                 "accounts": _accounts(d["accounts"])})


def _history(d: dict[str, Any] | None) -> History | None:
    if d is None:
        return None
    return _make(History, {"days": [list(b) for b in d["days"]],
                           "tracks": {k: [list(b) for b in v] for k, v in d["tracks"].items()},
                           "spend": d["spend"], "receipts": d["receipts"], "coupons": d["coupons"],
                           "first": d["first"], "last": d["last"]})


def _chain(d: dict[str, Any]) -> ChainState:
    return _make(ChainState, {"key": d["key"], "entered": _time(d["entered"]), "step": d["step"],
                              "due": _time_or_none(d["due"]), "bought": d["bought"],
                              "sent": [_time(t) for t in d["sent"]]})


def _scores(d: dict[str, Any] | None) -> ModelScores | None:
    if d is None:
        return None
    return _make(ModelScores, {"model": d["model"], "version": d["version"], "as_of": _date(d["as_of"]),
                               "refreshed": _time(d["refreshed"]), "fitted": list(d["fitted"]),
                               "values": dict(d["values"])})


def trusted_state(d: dict[str, Any]) -> CustomerState:
    """The state whose ``to_dict`` (decoded from its JSON text) is ``d``, made without any check: only for
    a record known to be such (see the module's text); ``from_dict`` for every other."""
    return _make(CustomerState, {
        "id": d["id"],
        "registered": _date_or_none(d["registered"]),
        "birthday": _date_or_none(d["birthday"]),
        "children_birthdays": [_date(day) for day in d["children_birthdays"]],
        "gender": d["gender"],
        "city": d["city"],
        "registration_channel": d["registration_channel"],
        "consents": d["consents"],
        "attributes": d["attributes"],
        "segments": d["segments"],
        "tier": d["tier"],
        "receipts": d["receipts"],
        "accounts": _accounts(d["accounts"]),
        "counters": {name: _make(CounterState, {"value": c["value"], "period": c["period"]})
                     for name, c in d["counters"].items()},
        "coupons": [_coupon(c) for c in d["coupons"]],
        "coupon_uses": d["coupon_uses"],
        "certificates": [_certificate(c) for c in d["certificates"]],
        "qualification": _qualification(d["qualification"]),
        "usage": d["usage"],
        "referral": None if d["referral"] is None else _make(ReferralState, dict(d["referral"])),
        "shared": _shared(d["shared"]),
        "returns": d["returns"],
        "applied": {key: _time(when) for key, when in d["applied"].items()},
        "history": _history(d.get("history")),
        "chains": {name: _chain(c) for name, c in d.get("chains", {}).items()},
        "scores": _scores(d.get("scores")),
    })
