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
from .checks import _by_time
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


def _time_or_none(text: str | None) -> int | None:
    return None if text is None else _TIMES.get(text) or _time(text)


# Each model's fields are put in the order of its declaration, as validation puts them: the order its
# ``model_dump`` (so ``to_dict``, and the JSON answers made of it) follows.

def _accounts(accounts: dict[str, Any]) -> dict[str, Any]:
    made = {}
    for name, a in accounts.items():
        lots = []
        for lot in a["lots"]:
            expires = lot["expires"]
            lots.append(_make(Lot, {"id": lot["id"], "points": lot["points"], "left": lot["left"],
                                    "active_from": _TIMES.get(lot["active_from"]) or _time(lot["active_from"]),
                                    "expires": None if expires is None else _TIMES.get(expires) or _time(expires),
                                    "receipt": lot["receipt"], "campaign": lot["campaign"]}))
        made[name] = _make(AccountState, {"balance": a["balance"], "debt": a["debt"], "lots": lots})
    return made


def _coupon(c: dict[str, Any]) -> Coupon:
    return _make(Coupon, {"code": c["code"], "series": c["series"], "issued": _time(c["issued"]),
                          "valid_from": _time(c["valid_from"]), "valid_to": _time_or_none(c["valid_to"]),
                          "uses_left": c["uses_left"]})


def _certificate(c: dict[str, Any]) -> Certificate:
    return _make(Certificate, {"code": c["code"], "series": c["series"], "value": c["value"],
                               "balance": c["balance"], "expires": _time_or_none(c["expires"]),
                               "multi_use": c["multi_use"]})


def _qualification(q: dict[str, Any]) -> Qualification:
    return _make(Qualification, {"period": q["period"], "value": q["value"], "previous": q["previous"],
                                 "days": [(day, value) for day, value in q["days"]]})


def _shared(d: dict[str, Any]) -> SharedAccount:
    members = {name: _make(Member, {"accrue": m["accrue"], "redeem": m["redeem"], "redeem_limit": m["redeem_limit"]})
               for name, m in d["members"].items()}
    return _make(SharedAccount, {"id": d["id"], "owner": d["owner"], "members": members,
                                 "accounts": _accounts(d["accounts"])})


def _history(d: dict[str, Any]) -> History:
    return _make(History, {"days": d["days"], "tracks": d["tracks"], "spend": d["spend"],
                           "receipts": d["receipts"], "coupons": d["coupons"], "first": d["first"], "last": d["last"]})


def _chains(chains: dict[str, Any]) -> dict[str, Any]:
    return {name: _make(ChainState, {"key": c["key"], "entered": _time(c["entered"]), "step": c["step"],
                                     "due": _time_or_none(c["due"]), "bought": c["bought"],
                                     "sent": [_time(t) for t in c["sent"]]})
            for name, c in chains.items()}


def _scores(d: dict[str, Any]) -> ModelScores:
    return _make(ModelScores, {"model": d["model"], "version": d["version"], "as_of": _date(d["as_of"]),
                               "refreshed": _time(d["refreshed"]), "fitted": d["fitted"], "values": d["values"]})


def _applied(applied: dict[str, str]) -> dict[str, int]:
    """Applied ids in canonical order (by time, then id: ``checks._by_time``), which the stored text, its keys
    sorted, does not keep."""
    return _by_time({key: _TIMES.get(when) or _time(when) for key, when in applied.items()})


def trusted_state(d: dict[str, Any]) -> CustomerState:
    """The state whose ``to_dict`` (decoded from its JSON text) is ``d``, made without any check: only for
    a record known to be such (see the module's text); ``from_dict`` for every other. The JSON values of
    ``d`` (its lists of strings, dicts of counts, ...) become the state's: a record freshly decoded from
    its text, not shared with anything else."""
    registered, birthday, children = d["registered"], d["birthday"], d["children_birthdays"]
    accounts, counters, coupons, certificates = d["accounts"], d["counters"], d["coupons"], d["certificates"]
    qualification, referral, shared, applied = d["qualification"], d["referral"], d["shared"], d["applied"]
    history, chains, scores = d.get("history"), d.get("chains"), d.get("scores")  # absent when empty (to_dict)
    return _make(CustomerState, {
        "id": d["id"],
        "registered": None if registered is None else _date(registered),
        "birthday": None if birthday is None else _date(birthday),
        "children_birthdays": [_date(day) for day in children] if children else children,
        "gender": d["gender"],
        "city": d["city"],
        "registration_channel": d["registration_channel"],
        "consents": d["consents"],
        "attributes": d["attributes"],
        "segments": d["segments"],
        "tier": d["tier"],
        "receipts": d["receipts"],
        "accounts": _accounts(accounts) if accounts else accounts,
        "counters": {name: _make(CounterState, {"value": c["value"], "period": c["period"]})
                     for name, c in counters.items()} if counters else counters,
        "coupons": [_coupon(c) for c in coupons] if coupons else coupons,
        "coupon_uses": d["coupon_uses"],
        "certificates": [_certificate(c) for c in certificates] if certificates else certificates,
        "qualification": None if qualification is None else _qualification(qualification),
        "usage": d["usage"],
        "referral": None if referral is None else _make(ReferralState, {"referred_by": referral["referred_by"],
                                                                        "rewarded": referral["rewarded"]}),
        "shared": None if shared is None else _shared(shared),
        "returns": d["returns"],
        "applied": _applied(applied) if applied else applied,
        "history": None if history is None else _history(history),
        "chains": _chains(chains) if chains else {},
        "scores": None if scores is None else _scores(scores),
    })
