"""The customer state between receipts (docs/state.md, section 3) and the one function that changes it.

``CustomerState`` (``records``) is the JSON record a host keeps per customer, validated once
(``from_dict``; ``reader`` reads customer files) and then immutable; ``apply`` (``changes``) is the
only code that writes state: it folds the changes of section 6 into a *new* state (the input is
shared, never mutated), all or nothing. ``view`` is what bytecode reads at a moment, ``advance``
what time passing does (expiry, resets, tier reviews), as changes again.

Units: money and points integers (minor units); times are integers internally, whole seconds since
0001-01-01 00:00 UTC (``runtime.model.utc_seconds``), and ISO 8601 strings with an offset in JSON;
local dates are proleptic ordinals (``date.toordinal``) in the programme's time zone.

Canonical form (so ``from_dict(to_dict(s)) == s`` and applying changes then their inverses gives the
*same* state back): segments and children's birthdays sorted, coupons and certificates sorted by
code, qualification days by date, applied ids by time (then id); a counter, usage count, coupon use
count or returned quantity of 0 is absent, and an account with no lots and no debt is absent. Lots
keep their order (creation).

The modules, by concern: ``jsontypes`` (times and dates in JSON), ``records`` (the pydantic models),
``checks`` (sizes and consistency of a record read), ``reader`` (customer JSON text and files),
``periods`` (period keys, expiry times, tier levels), ``view`` (what bytecode reads), ``advance``
(time passing), ``changes`` (apply and invert, over the change kinds of ``accounts``, ``coupons``,
``counters`` and ``applied``), ``shared`` (shared accounts' members).
"""

from __future__ import annotations

from .accounts import DebtChange, LotChange, TakeChange
from .advance import advance
from .applied import Applied, Unapplied
from .changes import (
    CHANGES,
    Budget,
    Change,
    Transfer,
    apply,
    apply_in_place,
    invert,
    parse,
    read_change,
    working_copy,
)
from .checks import check_limits
from .counters import CounterChange, ReceiptChange, ReferralChange, ReturnedChange, UsageChange
from .coupons import (
    CertificateChange,
    CertificateIssue,
    CertificateVoid,
    CouponExpire,
    CouponIssue,
    CouponUnuse,
    CouponUse,
)
from .jsontypes import Count, Date, Day, Positive, Time, iso, parse_time
from .periods import (
    counter_period,
    expiry_time,
    level_for,
    local_date,
    local_midnight,
    period_end,
    period_key,
    period_start,
    qualification_period,
)
from .reader import json_schema, read_customer, read_customers
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
    find_lot,
)
from .shared import add_member, create_shared, remove_member, set_rights
from .stock import StockChange, StockLevels
from .tiers import QualifyChange, TierChange
from .view import view

Customer = CustomerState  # the customer is the state

__all__ = [
    "CHANGES",
    "AccountState",
    "Applied",
    "Budget",
    "Certificate",
    "CertificateChange",
    "CertificateIssue",
    "CertificateVoid",
    "Change",
    "Count",
    "CounterChange",
    "CounterState",
    "Coupon",
    "CouponExpire",
    "CouponIssue",
    "CouponUnuse",
    "CouponUse",
    "Customer",
    "CustomerState",
    "Date",
    "Day",
    "DebtChange",
    "Lot",
    "LotChange",
    "Member",
    "Positive",
    "Qualification",
    "QualifyChange",
    "ReceiptChange",
    "ReferralChange",
    "ReferralState",
    "ReturnedChange",
    "SharedAccount",
    "StockChange",
    "StockLevels",
    "TakeChange",
    "TierChange",
    "Time",
    "Transfer",
    "Unapplied",
    "UsageChange",
    "add_member",
    "advance",
    "apply",
    "apply_in_place",
    "check_limits",
    "counter_period",
    "create_shared",
    "expiry_time",
    "find_lot",
    "invert",
    "iso",
    "json_schema",
    "level_for",
    "local_date",
    "local_midnight",
    "parse",
    "parse_time",
    "period_end",
    "period_key",
    "period_start",
    "qualification_period",
    "read_change",
    "read_customer",
    "read_customers",
    "remove_member",
    "set_rights",
    "view",
    "working_copy",
]
