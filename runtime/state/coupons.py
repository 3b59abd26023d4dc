"""Changes to coupons and certificates: ``coupon_use`` / ``coupon_unuse``, ``coupon_issue``,
``coupon_expire``, ``certificate`` (balance), ``certificate_issue``, ``certificate_void``. Each is one
record: read from JSON (``from_dict``), applied, inverted and written back (``to_dict``). Both lists
are kept sorted by code, so finding and inserting is a binary search."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from typing import Any, NamedTuple

from ..limits import MAX_VALUE
from .accounts import Lines
from .applier import _Applier, _Failed, _int, _new, _str, _time, over
from .checks import _code
from .jsontypes import iso
from .records import Certificate, Coupon, _make


def _index_of(items: list[Any], code: str) -> int:
    """Where ``code`` is in ``items`` (coupons or certificates, sorted by code: the canonical form),
    or -1; a binary search, so a receipt issuing thousands of them stays fast."""
    i = bisect_left(items, code, key=_code)
    return i if i < len(items) and items[i].code == code else -1


def _with_item(items: list[Any], item: Any) -> list[Any]:
    """``items`` (sorted by code) with ``item`` inserted in order."""
    at = bisect_left(items, item.code, key=_code)
    return [*items[:at], item, *items[at:]]


def _without(items: list[Any], at: int) -> list[Any]:
    return items[:at] + items[at + 1:]


def _opt_iso(utc: int | None) -> str | None:
    return None if utc is None else iso(utc)


def _object(c: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """An issue's fields: the change itself, or (older form) its ``coupon`` / ``certificate`` object."""
    data = c.get(key, c)
    if not isinstance(data, Mapping):
        raise _Failed(f"{key} must be an object")
    return data


def _use(a: _Applier, code: str, series: str, delta: int) -> None:
    """A coupon's use (``delta`` 1) or its undoing (-1): the coupon's uses left and the series' count."""
    root = a.fields
    found = _index_of(root["coupons"], code)
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


class CouponUse(NamedTuple):
    """A coupon (held, or a shared code of the series) used by ``campaign``: one use less."""

    code: str
    series: str
    campaign: str | None = None
    receipt: str | None = None

    @classmethod
    def from_dict(cls, c: Mapping[str, Any]) -> CouponUse:
        return _new(cls, (_str(c, "code"), _str(c, "series"), c.get("campaign"), c.get("receipt")))

    def to_dict(self) -> dict[str, Any]:
        return _use_dict("coupon_use", self)

    def apply(self, a: _Applier) -> None:
        _use(a, self.code, self.series, 1)

    def invert(self, fields: dict[str, Any]) -> CouponUnuse:
        return CouponUnuse(*self)


class CouponUnuse(NamedTuple):
    """A coupon use undone (a full return): one use more."""

    code: str
    series: str
    campaign: str | None = None
    receipt: str | None = None

    @classmethod
    def from_dict(cls, c: Mapping[str, Any]) -> CouponUnuse:
        return _new(cls, (_str(c, "code"), _str(c, "series"), c.get("campaign"), c.get("receipt")))

    def to_dict(self) -> dict[str, Any]:
        return _use_dict("coupon_unuse", self)

    def apply(self, a: _Applier) -> None:
        _use(a, self.code, self.series, -1)

    def invert(self, fields: dict[str, Any]) -> CouponUse:
        return CouponUse(*self)


def _use_dict(op: str, c: CouponUse | CouponUnuse) -> dict[str, Any]:
    out = {"op": op, "code": c.code, "series": c.series, "campaign": c.campaign}
    if c.receipt is not None:
        out["receipt"] = c.receipt
    return out


class CouponIssue(NamedTuple):
    """A coupon given to the customer: code, series, issued, valid_from (default: issued), valid_to
    (exclusive; null: no end), uses_left (default 1)."""

    code: str
    series: str
    issued: int
    valid_from: int
    valid_to: int | None = None
    uses_left: int = 1
    campaign: str | None = None
    receipt: str | None = None

    @classmethod
    def from_dict(cls, c: Mapping[str, Any]) -> CouponIssue:
        data = _object(c, "coupon")
        code = _str(data, "code")
        if code == "":
            raise _Failed("a coupon code is not empty")
        uses_left = _int(data, "uses_left") if "uses_left" in data else 1
        if uses_left < 0:
            raise _Failed("uses_left must be >= 0")
        issued = _time(data, "issued")
        assert issued is not None
        valid_from = _time(data, "valid_from") if "valid_from" in data else issued
        assert valid_from is not None
        return _new(cls, (code, _str(data, "series"), issued, valid_from,
                    _time(data, "valid_to", optional=True), uses_left, c.get("campaign"), c.get("receipt")))

    def to_dict(self) -> dict[str, Any]:
        out = {"op": "coupon_issue", "code": self.code, "series": self.series, "issued": iso(self.issued),
               "valid_from": iso(self.valid_from), "valid_to": _opt_iso(self.valid_to), "uses_left": self.uses_left}
        if self.campaign is not None:
            out["campaign"] = self.campaign
        if self.receipt is not None:
            out["receipt"] = self.receipt
        return out

    def apply(self, a: _Applier) -> None:
        if _index_of(a.fields["coupons"], self.code) >= 0:
            raise _Failed(f"the customer holds coupon {self.code!r} already")
        if self.uses_left > MAX_VALUE:
            raise over(self.uses_left, f"the uses left of coupon {self.code!r}")
        coupon = _make(Coupon, {"code": self.code, "series": self.series, "issued": self.issued,
                                "valid_from": self.valid_from, "valid_to": self.valid_to,
                                "uses_left": self.uses_left})
        a.put(a.fields, "coupons", _with_item(a.fields["coupons"], coupon))

    def invert(self, fields: dict[str, Any]) -> CouponExpire:
        return CouponExpire(self.code, self.series)


class CouponExpire(NamedTuple):
    """A held coupon removed: expired (advance) or withdrawn (the return of the receipt that issued it)."""

    code: str
    series: str | None = None
    reason: str | None = None
    receipt: str | None = None

    @classmethod
    def from_dict(cls, c: Mapping[str, Any]) -> CouponExpire:
        return _new(cls, (_str(c, "code"), c.get("series"), c.get("reason"), c.get("receipt")))

    def to_dict(self) -> dict[str, Any]:
        out = {"op": "coupon_expire", "code": self.code, "series": self.series}
        if self.reason is not None:
            out["reason"] = self.reason
        if self.receipt is not None:
            out["receipt"] = self.receipt
        return out

    def apply(self, a: _Applier) -> None:
        found = _index_of(a.fields["coupons"], self.code)
        if found < 0:
            raise _Failed(f"the customer holds no coupon {self.code!r}")
        a.put(a.fields, "coupons", _without(a.fields["coupons"], found))

    def invert(self, fields: dict[str, Any]) -> CouponIssue:
        c = next(x for x in fields["coupons"] if x.code == self.code)
        return CouponIssue(c.code, c.series, c.issued, c.valid_from, c.valid_to, c.uses_left)


class CertificateChange(NamedTuple):
    """A held certificate's balance changes by ``delta`` (− spent, + returned; reason ``spend``, ``return``,
    ``expire``), staying within 0..value."""

    code: str
    delta: int
    lines: Lines = None
    reason: str | None = None
    receipt: str | None = None

    @classmethod
    def from_dict(cls, c: Mapping[str, Any]) -> CertificateChange:
        return _new(cls, (_str(c, "code"), _int(c, "delta"), c.get("lines"), c.get("reason"),
                    c.get("receipt")))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": "certificate", "code": self.code, "delta": self.delta}
        if self.lines is not None:
            out["lines"] = self.lines
        out["reason"] = self.reason
        if self.receipt is not None:
            out["receipt"] = self.receipt
        return out

    def apply(self, a: _Applier) -> None:
        code, delta = self.code, self.delta
        found = _index_of(a.fields["certificates"], code)
        if found < 0:
            raise _Failed(f"the customer holds no certificate {code!r}")
        cert = a.fields["certificates"][found]
        balance = cert.balance + delta
        if not 0 <= balance <= cert.value:
            raise _Failed(f"certificate {code!r} has {cert.balance} of {cert.value}; {delta:+d} does not fit")
        certificates = list(a.fields["certificates"])
        certificates[found] = _make(Certificate, {**cert.__dict__, "balance": balance})
        a.put(a.fields, "certificates", certificates)

    def invert(self, fields: dict[str, Any]) -> CertificateChange:
        return self._replace(delta=-self.delta)


class CertificateIssue(NamedTuple):
    """A certificate given to the customer (sold on a receipt line): code, series, value, balance (default:
    value), expires (null: never), multi_use (default true)."""

    code: str
    series: str
    value: int
    balance: int
    expires: int | None = None
    multi_use: bool = True
    lines: Lines = None
    receipt: str | None = None
    unit: int | None = None  # which unit of the line it was sold for (`per unit` series; docs/rewards.md)

    @classmethod
    def from_dict(cls, c: Mapping[str, Any]) -> CertificateIssue:
        data = _object(c, "certificate")
        code = _str(data, "code")
        if code == "":
            raise _Failed(f"certificate code {code!r} is empty or held already")
        value = _int(data, "value")
        balance = _int(data, "balance") if "balance" in data else value
        multi_use = data.get("multi_use", True)
        if not 0 <= balance <= value or type(multi_use) is not bool:
            raise _Failed("a certificate needs 0 <= balance <= value and a boolean multi_use")
        return _new(cls, (code, _str(data, "series"), value, balance, _time(data, "expires", optional=True),
                    multi_use, c.get("lines"), c.get("receipt"), c.get("unit")))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": "certificate_issue", "code": self.code, "series": self.series,
                               "value": self.value, "balance": self.balance, "expires": _opt_iso(self.expires),
                               "multi_use": self.multi_use}
        if self.lines is not None:
            out["lines"] = self.lines
        if self.receipt is not None:
            out["receipt"] = self.receipt
        if self.unit is not None:
            out["unit"] = self.unit
        return out

    def apply(self, a: _Applier) -> None:
        if _index_of(a.fields["certificates"], self.code) >= 0:
            raise _Failed(f"certificate code {self.code!r} is empty or held already")
        if self.value > MAX_VALUE:
            raise over(self.value, f"the value of certificate {self.code!r}")
        cert = _make(Certificate, {"code": self.code, "series": self.series, "value": self.value,
                                   "balance": self.balance, "expires": self.expires, "multi_use": self.multi_use})
        a.put(a.fields, "certificates", _with_item(a.fields["certificates"], cert))

    def invert(self, fields: dict[str, Any]) -> CertificateVoid:
        return CertificateVoid(self.code)


class CertificateVoid(NamedTuple):
    """A held certificate removed (the return of the line that sold it)."""

    code: str
    receipt: str | None = None

    @classmethod
    def from_dict(cls, c: Mapping[str, Any]) -> CertificateVoid:
        return _new(cls, (_str(c, "code"), c.get("receipt")))

    def to_dict(self) -> dict[str, Any]:
        out = {"op": "certificate_void", "code": self.code}
        if self.receipt is not None:
            out["receipt"] = self.receipt
        return out

    def apply(self, a: _Applier) -> None:
        found = _index_of(a.fields["certificates"], self.code)
        if found < 0:
            raise _Failed(f"the customer holds no certificate {self.code!r}")
        a.put(a.fields, "certificates", _without(a.fields["certificates"], found))

    def invert(self, fields: dict[str, Any]) -> CertificateIssue:
        c = next(x for x in fields["certificates"] if x.code == self.code)
        return CertificateIssue(c.code, c.series, c.value, c.balance, c.expires, c.multi_use)
