"""Changes to coupons and certificates: ``coupon_use`` / ``coupon_unuse``, ``coupon_issue``,
``coupon_expire``, ``certificate`` (balance), ``certificate_issue``, ``certificate_void``. Both lists
are kept sorted by code, so finding and inserting is a binary search."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from typing import Any

from .applier import _Applier, _Failed, _int, _str, _time
from .checks import _code
from .records import Certificate, Coupon, _make


def _index_of(items: list[Any], code: str) -> int:
    """Where ``code`` is in ``items`` (coupons or certificates, sorted by code: the canonical form),
    or -1; a binary search, so a receipt issuing thousands of them stays fast."""
    i = bisect_left(items, code, key=_code)
    return i if i < len(items) and items[i].code == code else -1


def _coupon_index(root: dict[str, Any], code: str) -> int:
    return _index_of(root["coupons"], code)


def _with_item(items: list[Any], item: Any) -> list[Any]:
    """``items`` (sorted by code) with ``item`` inserted in order."""
    at = bisect_left(items, item.code, key=_code)
    return [*items[:at], item, *items[at:]]


def _coupon_use(a: _Applier, root: dict[str, Any], c: Mapping[str, Any], delta: int = 1) -> None:
    code, series = _str(c, "code"), _str(c, "series")
    found = _coupon_index(root, code)
    decl = a.index.coupons.get(series) if a.index is not None else None
    if found >= 0:
        coupon = root["coupons"][found]
        if coupon.series != series:
            raise _Failed(f"coupon {code!r} is of series {coupon.series!r}, not {series!r}")
        uses_left = coupon.uses_left - delta
        if uses_left < 0:
            raise _Failed(f"coupon {code!r} is used up")
        if decl is not None and uses_left > decl.uses:
            raise _Failed(f"coupon {code!r} would have {uses_left} uses left; the series allows {decl.uses}")
        coupons = list(root["coupons"])
        coupons[found] = _make(Coupon, {**coupon.__dict__, "uses_left": uses_left})
        a.put(root, "coupons", coupons)
    elif delta > 0 and not (decl is not None and decl.code == "shared" and decl.text == code):
        raise _Failed(f"the customer holds no coupon {code!r}" + (
            "" if a.decls is not None else " (a shared code needs the declarations: apply(..., decls=...))"))
    uses = a.own(root, "coupon_uses")
    a.count(uses, series, delta, f"the uses of series {series!r}")
    if decl is not None and decl.per_customer is not None and delta > 0 and uses[series] > decl.per_customer:
        raise _Failed(f"series {series!r} allows {decl.per_customer} uses per customer")


def _coupon_unuse(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    _coupon_use(a, root, c, -1)


def _coupon_issue(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    data = c.get("coupon", c)
    if not isinstance(data, Mapping):
        raise _Failed("coupon must be an object")
    code = _str(data, "code")
    if code == "":
        raise _Failed("a coupon code is not empty")
    if _coupon_index(root, code) >= 0:
        raise _Failed(f"the customer holds coupon {code!r} already")
    uses_left = _int(data, "uses_left") if "uses_left" in data else 1
    if uses_left < 0:
        raise _Failed("uses_left must be >= 0")
    issued = _time(data, "issued")
    coupon = _make(Coupon, {"code": code, "series": _str(data, "series"), "issued": issued,
                            "valid_from": _time(data, "valid_from") if "valid_from" in data else issued,
                            "valid_to": _time(data, "valid_to", optional=True), "uses_left": uses_left})
    a.put(root, "coupons", _with_item(root["coupons"], coupon))


def _coupon_expire(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    code = _str(c, "code")
    found = _coupon_index(root, code)
    if found < 0:
        raise _Failed(f"the customer holds no coupon {code!r}")
    a.put(root, "coupons", root["coupons"][:found] + root["coupons"][found + 1:])


def _certificate_index(root: dict[str, Any], code: str) -> int:
    return _index_of(root["certificates"], code)


def _certificate(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    code, delta = _str(c, "code"), _int(c, "delta")
    found = _certificate_index(root, code)
    if found < 0:
        raise _Failed(f"the customer holds no certificate {code!r}")
    cert = root["certificates"][found]
    balance = cert.balance + delta
    if not 0 <= balance <= cert.value:
        raise _Failed(f"certificate {code!r} has {cert.balance} of {cert.value}; {delta:+d} does not fit")
    certificates = list(root["certificates"])
    certificates[found] = _make(Certificate, {**cert.__dict__, "balance": balance})
    a.put(root, "certificates", certificates)


def _certificate_issue(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    data = c.get("certificate", c)
    if not isinstance(data, Mapping):
        raise _Failed("certificate must be an object")
    code = _str(data, "code")
    if code == "" or _certificate_index(root, code) >= 0:
        raise _Failed(f"certificate code {code!r} is empty or held already")
    value = _int(data, "value")
    balance = _int(data, "balance") if "balance" in data else value
    multi_use = data.get("multi_use", True)
    if not 0 <= balance <= value or type(multi_use) is not bool:
        raise _Failed("a certificate needs 0 <= balance <= value and a boolean multi_use")
    cert = _make(Certificate, {"code": code, "series": _str(data, "series"), "value": value, "balance": balance,
                               "expires": _time(data, "expires", optional=True), "multi_use": multi_use})
    a.put(root, "certificates", _with_item(root["certificates"], cert))


def _certificate_void(a: _Applier, root: dict[str, Any], c: Mapping[str, Any]) -> None:
    code = _str(c, "code")
    found = _certificate_index(root, code)
    if found < 0:
        raise _Failed(f"the customer holds no certificate {code!r}")
    a.put(root, "certificates", root["certificates"][:found] + root["certificates"][found + 1:])

