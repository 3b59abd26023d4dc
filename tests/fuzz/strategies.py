"""Hypothesis strategies for the fuzz suite: inputs that a user, a till or an attacker can hand to
loyadsl, each drawn either from the grammar/format (so it reaches the deep checks) or by mutating a
real input from ``corpus.py`` (so it stays close to what the code was written for).

Every strategy yields a *case*: a plain dict that ``targets.run`` knows how to feed to its target and
that ``targets.encode`` can store as JSON (bytes become ``{"$bytes": base64}``).

* ``sources()``   ``{"text", "file"}``: a .loya or YAML programme (grammar-aware or mutated).
* ``bundles()``   ``{"bundle", "receipts", "note"}``: a real bundle whose payload was mutated at a
  JSON path and re-packed with a correct digest, or whose bytes were mutated.
* ``receipts()``  ``{"programme", "receipt"}``: receipt JSON with edge values per field.
* ``customers()`` ``{"programme", "customer", "receipt", "returned"}``: a customer record, one of
  their receipts and what comes back, all with edge values.
* ``json_texts()`` ``{"data", "floats"}``: raw JSON text for ``runtime.jsonio.load``.

Literal values come from the edge tables below: zero, negatives, the limits and one past them,
integers of 40 and more digits, dates at and past the supported years, long strings, unusual
Unicode and escapes of surrogates.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from hypothesis import strategies as st

from . import corpus

Json = Any
Case = dict[str, Any]

# ------------------------------------------------------------------------------------ edge values

LIMIT = 10**15  # runtime.limits.MAX_VALUE, written here so the table below stays readable
EDGE_INTS: list[int] = [
    0, 1, -1, 2, 7, 1000, -1000, 999_999, 1_000_000, 1_000_001, 2**31, 2**31 - 1, -(2**31), 2**53 + 1,
    2**63 - 1, 2**63, -(2**63), LIMIT, LIMIT + 1, -LIMIT - 1, 2**127, 10**39, 10**40, -(10**40), 10**41,
    10**300, 693_594, 3_652_059, 3_652_060, 86_400, 86_401, 10**9, 10**9 + 1,
]
EDGE_STRINGS: list[str] = [
    "", " ", "a", "A1", "SKU00001", "dairy", "dairy/milk", "/", "//", "a/", "pos", "x" * 1001, "я" * 300,
    "Ромашка", "\u0000", "\ud800", "a\udfffb", "\U0001f600", "\u202e", "\u200b", "e\u0301", "\n", "\\", '"',
    "max", "null", "true", "-1", "1e400", "NaN", "2025-01-01T00:00:00+03:00", "../../etc/passwd",
    "Europe/Moscow", "std:n_plus_one",
]
EDGE_DATETIMES: list[str] = [
    "2025-06-04T12:00:00+03:00", "2025-06-04T12:00:00", "2025-06-04T12:00:00Z", "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00-23:59", "9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59+00:00",
    "1899-12-31T23:59:59+00:00", "2200-01-01T00:00:00+00:00", "2025-02-29T00:00:00+00:00",
    "2024-02-29T23:59:59.999999+03:00", "2025-06-04T12:00:00+23:59:59", "2025-06-04", "", "now",
    "2025-03-30T02:30:00+01:00", "2025-10-26T02:30:00+02:00",
]

# number texts as they may appear in a .loya source (no sign: `-` is an operator)
NUMBER_TEXTS: list[str] = [
    "0", "1", "2", "3", "10", "100", "007", "0.0", "0.5", "1.5", "99.99", "0.001", "0.0001", "1.23456789",
    "1000000000000000", "1000000000000001", "9" * 19, "9" * 40, "9" * 41, "1" * 400, "1" * 5000, "18446744073709551616",
]
DATE_TEXTS: list[str] = [
    "2025-01-01", "2025-12-31", "2024-02-29", "2023-02-29", "0000-00-00", "0001-01-01", "1899-12-31",
    "1900-01-01", "2199-12-31", "2200-01-01", "9999-12-31", "99999-01-01", "2025-13-01", "2025-01-32",
    "2025-1-1", "1" * 45 + "-01-01",
]
TIME_TEXTS: list[str] = [
    "00:00", "10:00", "16:00", "23:59", "23:59:59", "24:00", "24:00:01", "99:99", "0:0", "25:61:61",
    "1" * 45 + ":00",
]
STRING_LITERALS: list[str] = [
    '""', '"a"', '"A"', '"dairy"', '"Ромашка"', '"x\\ny"', '"\\t\\"\\\\"', '"\\u{41}"', '"\\u{D800}"',
    '"\\u{DFFF}"', '"\\u{110000}"', '"\\u{0}"', '"\\u{}"', '"\\u{FFFFFFFFFFFFFFFFFFFF}"', '"\\q"',
    '"\U0001f600"', '"\u202e"', '"e\u0301"', '"' + "x" * 5000 + '"', '"std:n_plus_one"', '"../../etc/passwd"',
    '"Europe/Moscow"', '"UTC"', '"Etc/GMT+14"', '"Mars/Olympus"', '"/etc/localtime"', '"."', '"\\u{1F600}"',
]
NAME_TEXTS: list[str] = [
    "a", "b", "g", "c", "x1", "_", "молочка", "ñ", "é", "ℌ", "a" * 300, "points", "receipt", "lines", "credit",
    "spend", "and", "not", "true", "in", "customer", "sku", "qty", "price", "amount", "unit", "units",
]
MONEY_UNITS = ["RUB", "USD", "EUR", "₽", "$", "€", "UAH", "KZT"]
TIMEZONES = ["Europe/Moscow", "UTC", "Etc/GMT+14", "Etc/GMT-14", "America/St_Johns", "Asia/Kathmandu", "",
             "Mars/Olympus", "../../etc/passwd", "/etc/localtime", "Europe/Moscow\\n", "\\u{0}"]
CATEGORIES = ['"dairy"', '"dairy/milk"', '"food"', '"coffee"', '"gift_cards"', '"/"', '""']


def _pick(values: list[Any]) -> st.SearchStrategy[Any]:
    return st.sampled_from(values)


# ----------------------------------------------------------------------- sources: grammar-aware
# A programme is assembled from the grammar (grammar/loya.lark) and docs/language.md: a header,
# lists, a group, state declarations and campaigns whose clauses and actions name what is declared
# (and sometimes what is not). Most programmes type-check, so they reach the compiler and the bundle
# writer; the literal values come from the edge tables, so they probe every range check.

NAMES = _pick(NAME_TEXTS)
NUMBER = _pick(NUMBER_TEXTS)


@st.composite
def _unit_literal(draw: st.DrawFn, units: list[str]) -> str:
    return f"{draw(NUMBER)}{draw(_pick(['', ' ', '  ']))}{draw(_pick(units))}"


MONEY = _unit_literal(MONEY_UNITS)
PERCENT = _unit_literal(["%"])
POINTS = _unit_literal(["points", "pts"])
QUANTITY = _unit_literal(["kg", "unit", "units"])
DURATION = _unit_literal(["days", "day", "hours", "hour", "minutes", "minute"])
MULT = st.builds(lambda n: f"x{n}", NUMBER)
SET_LITERAL = st.lists(_pick(['"A"', '"B"', '"SKU00001"', "pos", "online", '"dairy"', "1", '""', '"\\u{D800}"']),
                       max_size=4).map(lambda items: "[" + ", ".join(items) + "]")

REFS = [
    "receipt.total", "receipt.payable", "receipt.lines", "receipt.units", "receipt.store", "receipt.channel",
    "customer.known", "customer.id", "customer.tier", "customer.segments", "customer.attr.city",
    "customer.receipts", "counter.coffee", "chips.stickers", "balance.bonus", "tier.cashback", "some",
    "sku", "category", "brand", "qty", "price", "amount", "attr.colour", "unknown.thing", "n",
]
ATOMS = st.one_of(NUMBER, MONEY, PERCENT, POINTS, QUANTITY, DURATION, _pick(STRING_LITERALS[:12]),
                  _pick(["true", "false"]), _pick(REFS), SET_LITERAL)


def _expressions(atoms: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Expressions by the grammar's precedence ladder, a few levels deep, now and then very deep."""

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        binary = st.tuples(inner, _pick(["+", "-", "*", "==", "!=", "<", "<=", ">", ">=", "in", "not in", "and",
                                         "or"]), inner).map(" ".join)
        return st.one_of(
            binary,
            inner.map(lambda e: f"not {e}"),
            inner.map(lambda e: f"-{e}"),
            inner.map(lambda e: f"({e})"),
            st.tuples(_pick(["sum", "count", "qty", "units", "max", "nope"]), inner)
            .map(lambda t: f"{t[0]}(lines where {t[1]})"),
            st.tuples(_pick(["category", "sku", "brand"]), _pick(CATEGORIES)).map(" ".join),
        )

    deep = st.tuples(_pick(["(", "-", "not ", "[", "(-"]), _pick([63, 64, 65, 300, 2000])).map(
        lambda t: t[0] * t[1] + "1" + {"(": ")", "(-": ")", "[": "]"}.get(t[0], "") * t[1])
    long_sum = _pick([64, 65, 1000]).map(lambda k: " + ".join(["1.00 RUB"] * k))
    return st.one_of(st.recursive(atoms, extend, max_leaves=8), deep, long_sum)


EXPR = _expressions(ATOMS)
BOOL_EXPR = st.one_of(
    st.tuples(_pick(["receipt.total", "sum(lines)", "receipt.payable"]), _pick([">=", ">", "<"]), MONEY)
    .map(" ".join),
    st.tuples(_pick(["units(lines)", "count(lines)", "receipt.lines", "counter.coffee", "customer.receipts"]),
              _pick([">=", "=="]), NUMBER).map(" ".join),
    st.tuples(_pick(["category", "sku", "brand"]), _pick(CATEGORIES)).map(" ".join),
    _pick(["customer.known", '"vip" in customer.segments', 'customer.tier == "gold"', "true", "false",
           "sku in some", "store not in moscow", 'customer.attr.city == "Москва"']),
    EXPR,
)
SELECTION = st.one_of(st.just("lines"), BOOL_EXPR.map(lambda e: f"lines where {e}"))
TARGET = st.one_of(st.just("on receipt"), SELECTION.map(lambda s: f"on {s}"))


@st.composite
def _count(draw: st.DrawFn) -> str:
    return draw(st.one_of(NUMBER, _pick(["n", "k"]), EXPR.map(lambda e: f"({e})")))


@st.composite
def action(draw: st.DrawFn, depth: int = 0) -> str:
    """One action of a `then` clause (docs/language.md, "Actions")."""
    kind = draw(st.integers(0, 13 if depth < 2 else 11))
    value = draw(st.one_of(PERCENT, MONEY, POINTS, EXPR))
    if kind == 0:
        return f"discount {value} {draw(TARGET)}"
    if kind == 1:
        return f"discount {draw(MONEY)} per unit on {draw(SELECTION)}"
    if kind == 2:
        return f"price {draw(MONEY)} on {draw(SELECTION)}"
    if kind == 3:
        return f"free {draw(_count())} in {draw(_count())} units of {draw(SELECTION)}"
    if kind == 4:
        return f"free cheapest {draw(_count())} {draw(_pick(['unit', 'units']))} of {draw(SELECTION)}"
    if kind == 5:
        return f"accrue {draw(st.one_of(PERCENT, POINTS))} {draw(st.one_of(st.just(''), TARGET))}" + \
            draw(_pick(["", " to bonus", " to credit", " to nowhere"]))
    if kind == 6:
        return f"accrue {draw(MULT)} of {draw(_pick(['c0', 'c1', 'nobody']))} {draw(st.one_of(st.just(''), TARGET))}"
    if kind == 7:
        return f"add {draw(st.one_of(NUMBER, EXPR))} to {draw(_pick(['coffee', 'stickers', 'bonus', 'x']))}"
    if kind == 8:
        return f"spend {draw(st.one_of(NUMBER, EXPR))} from {draw(_pick(['coffee', 'stickers', 'x']))}"
    if kind == 9:
        return f"issue {draw(_pick(['welcome', 'shared', 'x']))}"
    if kind == 10:
        return f"discount {value} on receipt"
    if kind == 11:
        return f"accrue {draw(PERCENT)} on receipt"
    if kind == 12:
        parts = draw(st.lists(st.tuples(_pick(["milk", "sweets", "milk"]), st.one_of(NUMBER, EXPR), SELECTION),
                              max_size=3))
        body = "\n".join(f"        {p}: {k} of {s}" for p, k, s in parts)
        reward = draw(st.one_of(PERCENT.map(lambda p: f"discount {p} on milk"), MONEY.map(lambda m: f"discount {m}"),
                                MONEY.map(lambda m: f"price {m}")))
        return f"combo {{\n{body}\n    }} {reward}"
    branches = draw(st.lists(st.tuples(_pick([">=", ">"]), st.one_of(MONEY, NUMBER, EXPR), action(depth + 1)),
                             min_size=0, max_size=3))
    body = "\n".join(f"        {op} {x}: {a}" for op, x, a in branches)
    return f"tiers {draw(st.one_of(_pick(['receipt.total', 'sum(lines)', 'units(lines)']), EXPR))} {{\n{body}\n    }}"


@st.composite
def clause(draw: st.DrawFn) -> str:
    """One campaign clause (docs/language.md, "Campaigns")."""
    kind = draw(st.integers(0, 17))
    if kind == 0:
        return f"group {draw(_pick(['g', 'g', 'other', 'points']))}"
    if kind == 1:
        return f"priority {draw(st.one_of(NUMBER, NUMBER.map(lambda x: '- ' + x)))}"
    if kind == 2:
        return f"valid {draw(st.one_of(st.just(''), _pick(DATE_TEXTS)))} .. {draw(st.one_of(st.just(''), _pick(DATE_TEXTS)))}"
    if kind == 3:
        days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "moon", "1"]
        return draw(st.one_of(st.tuples(_pick(days), _pick(days)).map(lambda t: f"weekdays {t[0]}..{t[1]}"),
                              _pick(days).map(lambda d: f"weekdays {d}"),
                              st.lists(_pick(days), max_size=4).map(lambda ds: f"weekdays [{', '.join(ds)}]")))
    if kind == 4:
        return f"hours {draw(_pick(TIME_TEXTS))} .. {draw(_pick(TIME_TEXTS))}"
    if kind == 5:
        return f"{draw(_pick(['stores', 'channels']))} {draw(_pick(['', 'not ']))}" \
               f"{draw(st.one_of(SET_LITERAL, _pick(['moscow', 'some', 'nowhere'])))}"
    if kind == 6:
        return f"audience {draw(BOOL_EXPR)}"
    if kind in (7, 8):
        return f"when {draw(BOOL_EXPR)}"
    if kind in (9, 10, 11):
        return "then " + "\n        ".join(draw(st.lists(action(), min_size=1, max_size=3)))
    if kind == 12:
        return f"limit {draw(st.one_of(NUMBER, EXPR))} per " + \
            draw(_pick(["receipt", "day", "week", "month", "quarter", "year", "customer", "decade"]))
    if kind == 13:
        return f"max discount {draw(st.one_of(MONEY, EXPR))} per receipt"
    if kind == 14:
        return f"max points {draw(st.one_of(POINTS, EXPR))} per receipt"
    if kind == 15:
        return f"coupon {draw(_pick(['welcome', 'shared', 'x']))}"
    if kind == 16:
        return f"budget {draw(st.one_of(MONEY, POINTS, EXPR))}"
    return draw(_pick(["", "# a comment", "when", "then", "group", "}", "{"]))


@st.composite
def header(draw: st.DrawFn) -> str:
    settings = [
        f"currency {draw(_pick(['RUB', 'RUB', 'USD', 'XXX', 'rub']))}"
        + draw(st.one_of(st.just(""), NUMBER.map(lambda x: f" minor {x}"))),
        "points" + draw(st.one_of(st.just(""), NUMBER.map(lambda x: f" minor {x}")))
        + draw(st.one_of(st.just(""), MONEY.map(lambda m: f" value {m}"))),
        f'timezone "{draw(_pick(TIMEZONES))}"',
        f"rounding {draw(_pick(['discount', 'points', 'tax']))} {draw(_pick(['floor', 'ceil', 'half_up', 'half_even', 'up']))}",
        f"allocation {draw(_pick(['largest_remainder', 'largest_line', 'random']))}",
    ]
    kept = draw(st.lists(st.sampled_from(settings), min_size=0, max_size=7)) if draw(st.booleans()) else settings
    name = draw(st.one_of(_pick(STRING_LITERALS), NAMES))
    version = draw(st.one_of(st.just(""), _pick(STRING_LITERALS).map(lambda v: f" version {v}"),
                             NUMBER.map(lambda v: f" version {v}")))
    return f"programme {name}{version} {{\n    " + "\n    ".join(kept) + "\n}"


@st.composite
def state_declaration(draw: st.DrawFn) -> str:
    """One customer-state declaration (docs/language.md, "Customer state")."""
    kind = draw(st.integers(0, 7))
    duration = st.one_of(DURATION, EXPR)
    expiry = st.one_of(_pick(["never", "end of month", "end of next quarter", "end of year", "end of decade"]),
                       duration)
    if kind == 0:
        items = draw(st.lists(st.one_of(
            duration.map(lambda d: f"activation {d}"), expiry.map(lambda e: f"expiry {e}"),
            _pick(["spend soonest_expiring", "spend oldest_first", "spend newest_first", "spend randomly"]),
            POINTS.map(lambda p: f"credit {p}"), PERCENT.map(lambda p: f"repay {p}"),
            _pick(["shortfall report", "shortfall negative", "shortfall other_lots", "default"]),
            duration.map(lambda d: f"notify {d}")), max_size=5))
        return f"account {draw(_pick(['bonus', 'credit', 'bonus']))} {{ {'  '.join(items)} }}"
    if kind == 1:
        items = draw(st.lists(st.one_of(
            _pick(["accounts bonus", "accounts bonus, credit", "accounts nope", "accrue on redeemed"]),
            st.one_of(PERCENT, EXPR).map(lambda p: f"max share {p}"), MONEY.map(lambda m: f"min payment {m}"),
            SELECTION.map(lambda s: f"exclude {s}")), max_size=4))
        return "redemption {\n    " + "\n    ".join(items) + "\n}"
    if kind == 2:
        qualify = f"qualify {draw(_pick(['spend', 'receipts']))} over " + \
            draw(st.one_of(_pick(["month", "quarter", "year"]), duration.map(lambda d: f"rolling {d}")))
        levels = draw(st.lists(st.tuples(_pick(["base", "gold", "silver", "base"]), st.one_of(MONEY, NUMBER, EXPR),
                                         st.lists(st.tuples(_pick(["cashback", "multiplier", "discount"]), EXPR),
                                                  max_size=2)), max_size=3))
        body = "\n    ".join(f"level {n} >= {t} {{ " + "  ".join(f"{b} {v}" for b, v in bs) + " }"
                             for n, t, bs in levels)
        return f"tiers status {{\n    {qualify}\n    {body}\n}}"
    if kind == 3:
        return f"counter coffee {{ reset {draw(_pick(['never', 'month', 'quarter', 'year', 'hour']))} }}"
    if kind == 4:
        earn = draw(st.tuples(st.one_of(NUMBER, EXPR), st.one_of(MONEY, EXPR), st.one_of(st.just(""), SELECTION)))
        valid = f"valid {draw(_pick(DATE_TEXTS))} .. {draw(_pick(DATE_TEXTS))}"
        of = f" of {earn[2]}" if earn[2] else ""
        return f"chips stickers {{ earn {earn[0]} per {earn[1]}{of}  {valid}  reset never }}"
    if kind == 5:
        items = draw(st.lists(st.one_of(
            _pick(STRING_LITERALS).map(lambda s: f"code unique {s}"), _pick(STRING_LITERALS).map(lambda s: f"code shared {s}"),
            duration.map(lambda d: f"valid {d}"),
            st.tuples(_pick(DATE_TEXTS), _pick(DATE_TEXTS)).map(lambda t: f"valid {t[0]} .. {t[1]}"),
            st.one_of(NUMBER, EXPR).map(lambda x: f"uses {x}"),
            st.one_of(NUMBER, EXPR).map(lambda x: f"per customer {x}")), max_size=4))
        return f"coupons {draw(_pick(['welcome', 'shared']))} {{ {'  '.join(items)} }}"
    if kind == 6:
        items = draw(st.lists(st.one_of(
            st.one_of(SET_LITERAL, _pick(["gift_skus", "nope"])).map(lambda s: f"sold skus {s}"),
            expiry.map(lambda e: f"expiry {e}"), _pick(["multi use", "single use"])), max_size=3))
        return f"certificates gift {{ {'  '.join(items)} }}"
    items = draw(st.lists(st.one_of(
        st.one_of(MONEY, EXPR).map(lambda m: f"qualify {m}"),
        st.tuples(POINTS, _pick(["", " to bonus", " to credit", " to nope"])).map(lambda t: f"referrer {t[0]}{t[1]}"),
        st.tuples(POINTS, _pick(["", " to bonus"])).map(lambda t: f"newcomer {t[0]}{t[1]}")), max_size=3))
    return "referral { " + "  ".join(items) + " }"


@st.composite
def grammar_programmes(draw: st.DrawFn) -> str:
    """A whole programme: header, lists, a group, state declarations, templates and campaigns."""
    parts = [draw(header())] if draw(st.integers(0, 9)) else []
    parts += draw(st.lists(st.tuples(_pick(["skus", "stores", "categories", "brands", "channels", "strings"]),
                                     _pick(["some", "moscow", "gift_skus", "some"]), SET_LITERAL)
                           .map(lambda t: f"{t[0]} {t[1]} = {t[2]}"), max_size=3))
    if draw(st.integers(0, 9)):
        stacking = draw(_pick(["stack_all", "stack_up_to 2", "stack_up_to 0", "first_by_priority",
                               "best_for_customer", "lowest_discount", "stack_up_to " + "9" * 41]))
        items = [f"priority {draw(NUMBER)}", f"stacking {stacking}", f"basis {draw(_pick(['original', 'discounted']))}"]
        if not draw(st.integers(0, 9)):
            items = draw(st.lists(st.sampled_from(items), max_size=4))
        parts.append(f"group g {draw(st.one_of(st.just(''), _pick(STRING_LITERALS)))} {{ " + "  ".join(items) + " }")
    parts += draw(st.lists(state_declaration(), max_size=4))
    if not draw(st.integers(0, 4)):
        params = draw(st.lists(st.tuples(_pick(["items", "n", "k", "p"]), _pick(["skus", "count", "money", "percent",
                                                                                 "bool", "thing"])), max_size=3))
        parts.append(f"template t({', '.join(f'{a}: {b}' for a, b in params)}) {{\n    "
                     + "\n    ".join(draw(st.lists(clause(), max_size=3))) + "\n}")
    for i in range(draw(st.integers(0, 3))):
        uses = draw(st.one_of(st.just(""), st.lists(st.tuples(_pick(["items", "n", "k", "zz"]), EXPR), max_size=2)
                              .map(lambda args: " uses t(" + ", ".join(f"{a} = {v}" for a, v in args) + ")")))
        title = draw(st.one_of(st.just(""), _pick(STRING_LITERALS)))
        clauses = draw(st.lists(clause(), min_size=0, max_size=6))
        if draw(st.integers(0, 4)):
            clauses = ["group g", *clauses, "then " + draw(action())]
        parts.append(f"campaign c{i} {title}{uses} {{\n    " + "\n    ".join(clauses) + "\n}")
    if not draw(st.integers(0, 19)):
        parts.append(draw(_pick(['import "std:n_plus_one"', 'import "std:nope"', 'import "missing.loya"',
                                 'import "../../etc/passwd"', 'import "/"', 'import ""', 'import "std:../x"',
                                 'skus f from "missing.csv" column "sku"', 'skus f from "/etc/hostname" column "x"',
                                 'skus f from "." column "x"'])))
    return "\n\n".join(draw(st.permutations(parts)) if not draw(st.integers(0, 9)) else parts)


# ------------------------------------------------------------------- sources: valid, then one edge
# The programmes above are mostly refused early (one odd literal among twenty is enough), so they
# rarely reach the checker's later stages, the compiler and the bundle writer. These are built from
# well-typed pieces only, so they check; then, most of the time, one or two of their numbers (or a
# string) are replaced by an edge value, which is the one thing the checker has to catch.

VALID_HEADER = st.tuples(
    _pick(["RUB minor 2"]), _pick(["minor 0 value 1.00 RUB", "minor 2 value 0.01 RUB", ""]),
    _pick(["Europe/Moscow", "UTC", "Asia/Kathmandu", "America/St_Johns"]), _pick(["floor", "ceil", "half_up", "half_even"]),
    _pick(["floor", "half_even"]), _pick(["largest_remainder", "largest_line"]),
).map(lambda t: f'programme "P" version "1" {{\n    currency {t[0]}\n    points {t[1]}\n'
                f'    timezone "{t[2]}"\n    rounding discount {t[3]}\n    rounding points {t[4]}\n    allocation {t[5]}\n}}')
VALID_STATE = {
    "account": st.tuples(_pick(["0 days", "14 days", "1 day"]), _pick(["never", "365 days", "end of quarter",
                                                                       "end of next year"]),
                         _pick(["soonest_expiring", "oldest_first", "newest_first"]),
                         _pick(["", "credit 500 points  repay 50%"]), _pick(["report", "negative", "other_lots"]))
    .map(lambda t: f"account bonus {{ activation {t[0]}  expiry {t[1]}  spend {t[2]}  {t[3]}  shortfall {t[4]}"
                   f"  notify 7 days  default }}"),
    "redemption": st.tuples(_pick(["50%", "100%", "0.0001%", "10.5%"]), _pick(["1.00 RUB", "0 RUB"]),
                            _pick(["", 'exclude lines where category "tobacco"']), _pick(["", "accrue on redeemed"]))
    .map(lambda t: f"redemption {{\n    accounts bonus\n    max share {t[0]}\n    min payment {t[1]}\n    {t[2]}\n"
                   f"    {t[3]}\n}}"),
    "tiers": st.tuples(_pick(["spend", "receipts"]), _pick(["month", "quarter", "year", "rolling 365 days"]))
    .map(lambda t: f"tiers status {{\n    qualify {t[0]} over {t[1]}\n"
                   + ("    level base >= 0 RUB { cashback 3% }\n    level gold >= 30000 RUB { cashback 7% }\n}"
                      if t[0] == "spend" else "    level base >= 0 { cashback 3% }\n    level gold >= 10 { cashback 7% }\n}")),
    "counter": _pick(["never", "month", "quarter", "year"]).map(lambda r: f"counter coffee {{ reset {r} }}"),
    "chips": _pick(["", ' of lines where category "food"']).map(
        lambda of: f"chips stickers {{ earn 1 per 500.00 RUB{of}  valid 2025-01-01 .. 2026-12-31  reset never }}"),
    "coupons": st.tuples(_pick(['unique "WEL-"', 'shared "SUMMER25"']), _pick(["30 days", "2025-06-01 .. 2025-08-31"]),
                         _pick(["1", "3"]), _pick(["", "per customer 1"]))
    .map(lambda t: f"coupons welcome {{ code {t[0]}  valid {t[1]}  uses {t[2]}  {t[3]} }}"),
    "certificates": _pick(["multi use", "single use"]).map(
        lambda u: f'certificates gift {{ sold skus ["GC500", "GIFTFLEX"]  expiry 365 days  {u} }}'),
    "referral": st.just("referral { qualify 500.00 RUB  referrer 300 points to bonus  newcomer 200 points }"),
}
VALID_CONDITION = _pick([
    "receipt.total >= 1000.00 RUB", "sum(lines where category \"dairy\") > 100.00 RUB", "units(lines) >= 3",
    "count(lines where sku in some) >= 1", "customer.known", '"vip" in customer.segments', 'customer.tier == "gold"',
    "qty(lines where category \"dairy\") >= 2", "receipt.lines > 1 and not customer.known", "receipt.payable < 5000.00 RUB",
    'receipt.store in moscow or receipt.channel == "online"', "customer.receipts == 0", 'customer.attr.city == "Москва"',
])
VALID_SELECTION = _pick(["lines", 'lines where category "dairy"', "lines where sku in some", 'lines where brand "BR1"',
                         "lines where price >= 10.00 RUB", 'lines where qty >= 2 and sku not in some',
                         'lines where attr.colour == "red"'])
VALID_ACTION = st.one_of(
    st.tuples(_pick(["10%", "2.5%", "100%", "0%"]), VALID_SELECTION).map(lambda t: f"discount {t[0]} on {t[1]}"),
    _pick(["10%", "50.00 RUB", "0.01 RUB"]).map(lambda v: f"discount {v} on receipt"),
    st.tuples(_pick(["5.00 RUB", "0.01 RUB"]), VALID_SELECTION).map(lambda t: f"discount {t[0]} per unit on {t[1]}"),
    st.tuples(_pick(["10.00 RUB", "0 RUB"]), VALID_SELECTION).map(lambda t: f"price {t[0]} on {t[1]}"),
    st.tuples(_pick(["1 in 2", "1 in 3", "2 in 3"]), VALID_SELECTION).map(lambda t: f"free {t[0]} units of {t[1]}"),
    st.tuples(_pick(["1", "2"]), VALID_SELECTION).map(lambda t: f"free cheapest {t[0]} units of {t[1]}"),
    st.just('combo {\n        milk: 1 of lines where sku "A"\n        sweets: 2 of lines where category "sweets"\n'
            '    } discount 50% on sweets'),
    st.just('combo {\n        a: 1 of lines where sku "A"\n        b: 1 of lines where sku "B"\n    } price 99.00 RUB'),
    st.just("tiers receipt.total {\n        >= 2000.00 RUB: discount 10% on receipt\n"
            "        >= 1000.00 RUB: discount 5% on receipt\n    }"),
    st.tuples(_pick(["5%", "100 points", "1 pts"]), _pick(["", " on receipt", ' on lines where category "dairy"']))
    .map(lambda t: f"accrue {t[0]}{t[1]}"),
    # unit-level discounts (docs/units.md)
    st.tuples(_pick(["50%", "33.33%", "0.01 RUB", "10.00 RUB"]), _pick(["unit 2", "unit 1", "cheapest unit",
                                                                      "most_expensive unit"]),
              _pick(["every 2 units of ", "every 3 units of ", ""]), VALID_SELECTION,
              _pick(["", " rounded per unit", " rounded per line"]))
    .map(lambda t: f"discount {t[0]} on {t[1]} of {t[2]}{t[3]}{t[4] if t[0].endswith('%') else ''}"),
    st.tuples(_pick(["1.00 RUB", "0 RUB"]), _pick(["unit 2", "cheapest unit"]), _pick(["every 2 units of ", ""]),
              VALID_SELECTION).map(lambda t: f"price {t[0]} on {t[1]} of {t[2]}{t[3]}"),
)
STATE_ACTIONS = {"account": "accrue 5% on receipt to bonus", "counter": "add units(lines where category \"coffee\") to coffee",
                 "chips": "add 1 to stickers", "coupons": "issue welcome"}
VALID_CLAUSE = _pick([
    "priority 10", "valid 2025-01-01 .. 2025-12-31", "valid 2025-06-01 ..", "weekdays mon..fri", "weekdays [sat, sun]",
    "hours 10:00 .. 16:00", "hours 22:00 .. 02:00", "stores moscow", "stores not [\"S9\"]", "channels [pos]",
    "audience customer.known", "limit 2 per receipt", "limit 1 per day", "limit 3 per customer",
    "max discount 100.00 RUB per receipt", "max points 100 points per receipt", "budget 1000.00 RUB",
])
STACKING = _pick(["stack_all", "stack_up_to 2", "first_by_priority", "best_for_customer", "lowest_discount"])
EDGE_NUMBER = re.compile(r"\d+(?:\.\d+)?")
EDGE_STRING = re.compile(r'"[^"\n]*"')


@st.composite
def valid_programmes(draw: st.DrawFn) -> str:
    """A programme that type-checks (the corpus's vocabulary, every piece well-typed)."""
    parts = [draw(VALID_HEADER), 'skus some = ["A", "B", "SKU00001"]', 'stores moscow = ["S1", "S001"]',
             f"group g {{ priority 100  stacking {draw(STACKING)}  basis {draw(_pick(['original', 'discounted']))} }}"]
    declared = [kind for kind in VALID_STATE if draw(st.booleans())]
    if "redemption" in declared or "referral" in declared:
        declared.append("account")
    parts += [draw(VALID_STATE[kind]) for kind in dict.fromkeys(declared)]
    state_actions = [STATE_ACTIONS[k] for k in declared if k in STATE_ACTIONS]
    for i in range(draw(st.integers(1, 4))):
        clauses = ["group g", *draw(st.lists(VALID_CLAUSE, max_size=3, unique=True))]
        if draw(st.booleans()):
            clauses.append(f"when {draw(VALID_CONDITION)}")
        if "coupons" in declared and not draw(st.integers(0, 3)):
            clauses.append("coupon welcome")
        actions = draw(st.lists(VALID_ACTION, min_size=1, max_size=3))
        if state_actions and draw(st.booleans()):
            actions.append(draw(_pick(state_actions)))
        clauses.append("then " + "\n        ".join(actions))
        parts.append(f'campaign c{i} "Кампания {i}" {{\n    ' + "\n    ".join(clauses) + "\n}")
    return "\n\n".join(parts) + "\n"


@st.composite
def valid_with_an_edge(draw: st.DrawFn) -> str:
    """A valid programme in which, most of the time, one or two numbers or strings became edge values."""
    text = draw(valid_programmes())
    for _ in range(draw(st.integers(0, 2))):
        pattern, values = (EDGE_NUMBER, NUMBER_TEXTS) if draw(st.integers(0, 3)) else (EDGE_STRING, STRING_LITERALS)
        spans = [m.span() for m in pattern.finditer(text)]
        if spans:
            start, end = draw(_pick(spans))
            text = text[:start] + draw(_pick(values)) + text[end:]
    return text


# ---------------------------------------------------------------------------- sources: mutations
# A token-level mutator over real programmes: the text is cut into tokens (strings, literals with
# units, names, punctuation, space), then a few tokens are deleted, duplicated, swapped, or
# replaced by a hostile literal.

TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[0-9][0-9.:\-]*(?:[ \t]*(?:RUB|USD|EUR|₽|%|points|pts|kg|units?|days?|hours?))?'
                   r"|\w+|\s+|#[^\n]*|.", re.UNICODE)
HOSTILE = [*NUMBER_TEXTS, *DATE_TEXTS, *TIME_TEXTS, *STRING_LITERALS, "{", "}", "(", ")", "[", "]", "..", ":",
           ",", "-", "\n", "\u0000", "\ud800", "\t", "#", '"', "\\", ">=", "x0", "x999999999999", "tiers",
           "then", "when", "lines where", "programme", "campaign", "group", "import", "%", "RUB", "1.00 RUB",
           "(" * 200, "not " * 200, "-" * 500, "\ufeff", "\r", "\x0c", "\u2028"]


@st.composite
def mutated(draw: st.DrawFn, text: str, hostile: list[str]) -> str:
    tokens = TOKEN.findall(text) or [""]
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(tokens) - 1))
        op = draw(st.integers(0, 4))
        if op == 0:
            del tokens[i]
        elif op == 1:
            tokens.insert(i, tokens[i])
        elif op == 2:
            j = draw(st.integers(0, len(tokens) - 1))
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif op == 3:
            tokens[i] = draw(_pick(hostile))
        else:
            tokens.insert(i, " " + draw(_pick(hostile)) + " ")
        tokens = tokens or [""]
    return "".join(tokens)


@st.composite
def mutated_programmes(draw: st.DrawFn) -> Case:
    source = draw(_pick(list(corpus.sources())))
    return {"text": draw(mutated(source.text, HOSTILE)), "file": "mutated.loya", "from": source.name}


YAML_HOSTILE = [*HOSTILE, "&a x", "*a", "!!python/object:os.system", "!!binary AAAA", "? ", "- ", ": ", "{", "[",
                "|", ">", "---", "...", "%YAML 1.1", "null", "~", "yes", "0x1F", ".inf", "2025-01-01", "  ", "\t",
                "[" * 100, "{a: " * 50, "<<: *a", "'", "\ud800"]


@st.composite
def mutated_yaml(draw: st.DrawFn) -> Case:
    """The YAML twin of a real programme, mutated by lines (drop, repeat, swap, re-indent) and tokens."""
    source = draw(_pick(list(corpus.yaml_sources())))
    lines = source.text.splitlines() or [""]
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.integers(0, 3))
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[i])
        elif op == 2:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        else:
            lines[i] = draw(_pick(["", " ", "  ", "\t", "    "])) + lines[i].lstrip()
        lines = lines or [""]
    text = "\n".join(lines)
    if draw(st.booleans()):
        text = draw(mutated(text, YAML_HOSTILE))
    return {"text": text, "file": "mutated.yaml", "from": source.name}


@st.composite
def yaml_of_grammar(draw: st.DrawFn) -> Case:
    """A grammar-drawn programme converted to YAML (when it parses), so the YAML reader sees its forms."""
    from loyadsl.syntax.parser import parse
    from loyadsl.syntax.yaml_twin import to_yaml

    text = draw(st.one_of(grammar_programmes(), valid_with_an_edge()))
    try:
        module, _ = parse(text, "drawn.loya")
    except Exception:  # a parser crash: the `check` target reports it when it meets the .loya text
        module = None
    if module is None:
        return {"text": text, "file": "drawn.loya"}
    try:
        return {"text": to_yaml(module), "file": "drawn.yaml"}
    except Exception:  # a converter crash: the `fmt` target reports it when it meets the .loya text
        return {"text": text, "file": "drawn.loya"}


def sources() -> st.SearchStrategy[Case]:
    """A programme to check, compile and format: grammar-drawn, a mutated real one, or a YAML twin."""
    return st.one_of(
        grammar_programmes().map(lambda t: {"text": t, "file": "drawn.loya"}),
        valid_with_an_edge().map(lambda t: {"text": t, "file": "valid.loya"}),
        mutated_programmes(),
        mutated_yaml(),
        yaml_of_grammar(),
    )


# ------------------------------------------------------------------------------- JSON mutations
# Shared by bundles, receipts and customers: pick a path into a JSON document and change what is
# there (a type swap, an edge value, a deletion, a duplicate, deep nesting, an unknown key).


def json_paths(value: Json, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into ``value`` (the root is ``()``), depth first, iteratively."""
    out: list[tuple[Any, ...]] = []
    stack = [(prefix, value)]
    while stack:
        path, item = stack.pop()
        out.append(path)
        if isinstance(item, dict):
            stack.extend(((*path, k), v) for k, v in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(item))))
    return out


def _get(doc: Json, path: tuple[Any, ...]) -> Json:
    for key in path:
        doc = doc[key]
    return doc


def show_path(path: tuple[Any, ...]) -> str:
    return "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in path).lstrip(".") or "(root)"


def _nest(value: Json, levels: int) -> Json:
    for _ in range(levels):
        value = [value]
    return value


CHANCE = {n: st.integers(0, n - 1) for n in (3, 4, 6, 13, 16)}  # `not draw(CHANCE[n])`: one time in n
EDGE_VALUES = st.one_of(
    _pick(EDGE_INTS), _pick(EDGE_STRINGS),
    _pick([None, True, False, [], {}, 0.5, -0.0, 1e308, [0], {"": 0}]).map(copy.deepcopy),  # a fresh copy each
    st.integers(), st.text(max_size=20),
)


@st.composite
def replacement(draw: st.DrawFn, old: Json) -> Json:
    """A new value for ``old``: most often of the same type (an edge integer, a near one, another
    string, a list with an item more or fewer), so the document still has its shape and the change
    reaches the range and meaning checks; otherwise nested deeper, turned into a string, or any value."""
    kind = draw(st.integers(0, 5))
    if kind <= 2 and type(old) is int:
        return draw(st.one_of(_pick(EDGE_INTS), _pick([old + 1, old - 1, -old, old * 2, old * 10**9, ~old])))
    if kind <= 2 and isinstance(old, str):
        return draw(st.one_of(_pick(EDGE_STRINGS), _pick([old + old, old[:-1], old * 200, old.upper(), old + "\ud800",
                                                         old + "/", " " + old])))
    if kind <= 2 and type(old) is bool:
        return not old
    if kind <= 2 and isinstance(old, list) and old:
        return draw(_pick([old + old, old[:-1], old[::-1], [old[0]] * 50, [*old, old[-1]], []]))
    if kind == 3:
        return _nest(old, draw(st.integers(1, 40)))
    if kind == 4:
        return str(old) if not isinstance(old, str) else draw(st.one_of(st.integers(), _pick([0, [], None])))
    return draw(EDGE_VALUES)


@st.composite
def mutate_json(draw: st.DrawFn, doc: Json, focus: tuple[str, ...] = ()) -> tuple[Json, list[str]]:
    """``doc`` with one to three mutations, and a note of each. Paths whose text contains one of
    ``focus`` are chosen half of the time (to aim at the parts a loader checks last)."""
    doc = copy.deepcopy(doc)
    notes = []
    for _ in range(1 if draw(st.booleans()) else draw(st.integers(2, 3))):
        paths = json_paths(doc)
        paths = paths[1:] if len(paths) > 1 and draw(CHANCE[16]) else paths  # the root, seldom
        focused = [p for p in paths if any(f in show_path(p) for f in focus)] if focus else []
        path = draw(_pick(focused if focused and draw(st.booleans()) else paths))
        parent_path, key = (path[:-1], path[-1]) if path else ((), None)
        if key is None:
            doc = draw(replacement(doc))
            notes.append("root replaced")
            continue
        parent = _get(doc, parent_path)
        op = draw(st.integers(0, 5))
        if op == 0 and isinstance(parent, dict):
            del parent[key]
            notes.append(f"{show_path(path)} deleted")
        elif op == 0 and isinstance(parent, list):
            del parent[key]
            notes.append(f"{show_path(path)} removed")
        elif op == 1 and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
            notes.append(f"{show_path(path)} duplicated")
        elif op == 2 and isinstance(parent, dict):
            parent[draw(_pick(["extra", "", "__proto__", key + "_", "\ud800"]))] = draw(EDGE_VALUES)
            notes.append(f"{show_path(parent_path)} got an unknown key")
        else:
            parent[key] = draw(replacement(parent[key]))
            notes.append(f"{show_path(path)} = {json.dumps(parent[key])[:60]}")
    return doc, notes


# ------------------------------------------------------------------------------------- bundles

# Where the loader's deeper checks live: the state section and the bytecode.
BUNDLE_FOCUS = ("predicates", "actions", "condition", "audience", "constants", "state", "footprint", "sku_index",
                "groups", "settings")


def pack(payload: Json) -> bytes:
    """A bundle file for ``payload`` with a correct digest (``runtime.bundle.pack_bundle``), also when
    the mutation put a float or a lone surrogate in it, which the canonical writer would refuse."""
    import hashlib

    from loyadsl.runtime.bundle import FORMAT_VERSION, MAGIC, pack_bundle
    from loyadsl.runtime.errors import LoyaError

    try:
        return pack_bundle(payload)
    except (LoyaError, ValueError, TypeError, UnicodeEncodeError):
        body = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
            "utf-8", "surrogatepass")
        envelope = {"digest": "sha256:" + hashlib.sha256(body).hexdigest(), "format_version": FORMAT_VERSION,
                    "signature": None}
        return MAGIC + json.dumps(envelope).encode() + b"\n" + body


@st.composite
def bytecode_mutation(draw: st.DrawFn, payload: Json) -> tuple[Json, list[str]]:
    """Change one instruction of one code block: another opcode, another operand, one more or fewer."""
    from loyadsl.runtime.opcodes import OPCODES

    payload = copy.deepcopy(payload)
    blocks = [("predicates", i) for i in range(len(payload.get("predicates", [])))]
    for ci, c in enumerate(payload.get("campaigns", [])):
        blocks += [("campaigns", ci, k) for k in ("audience", "condition", "actions") if c.get(k)]
    if not blocks:
        return payload, ["no code to mutate"]
    where = draw(_pick(blocks))
    code = _get(payload, where)
    if not code:
        return payload, ["empty block"]
    i = draw(st.integers(0, len(code) - 1))
    op = draw(st.integers(0, 4))
    operand = st.one_of(_pick(EDGE_INTS), st.integers(-3, 40), _pick(["category", "total", "qty", "", "nope"]),
                        _pick([None, [0, "floor"], [0, "up"], [1, "floor"], [10**40, "floor"], [-1, "ceil"], [[]]]))
    if op == 0:
        code[i] = [draw(_pick(sorted(OPCODES))), *code[i][1:]]
    elif op == 1:
        code[i] = [code[i][0], draw(operand)]
    elif op == 2:
        code.insert(i, [draw(_pick(sorted(OPCODES))), *draw(st.lists(operand, max_size=1))])
    elif op == 3:
        del code[i]
    else:
        code[i] = code[i][:1]
    return payload, [f"{show_path(where)}[{i}] bytecode op {op}: {json.dumps(code[i] if i < len(code) else None)}"]


@st.composite
def raw_mutation(draw: st.DrawFn, data: bytes) -> tuple[bytes, str]:
    """Byte-level damage: a flipped byte, a cut, an insertion, or a changed envelope field."""
    op = draw(st.integers(0, 4))
    i = draw(st.integers(0, len(data) - 1))
    if op == 0:
        return data[:i] + bytes([data[i] ^ (1 << draw(st.integers(0, 7)))]) + data[i + 1:], f"bit flip at {i}"
    if op == 1:
        return data[:i], f"cut at {i}"
    if op == 2:
        blob = draw(_pick([b"\x00", b"\xff", b"\n", b"{", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"[" * 5000, b"9" * 5000]))
        return data[:i] + blob + data[i:], f"insert at {i}"
    head, _, body = data.partition(b"\n")
    _envelope, _, payload = body.partition(b"\n")
    new = draw(_pick([b'{"digest":"sha256:' + b"0" * 64 + b'","format_version":2,"signature":null}',
                      b'{"digest":"sha256:x","format_version":2}', b'{"format_version":99999999999999999999999}',
                      b'{"format_version":2.0}', b"[]", b"null", b'{"format_version":true}',
                      b'{"digest":"sha256:' + b"0" * 64 + b'","format_version":2,"signature":{"alg":"ed25519",'
                      b'"key_id":"00","sig":"zz"}}', b"\xff" * 4, b"{" * 100000]))
    return head + b"\n" + new + b"\n" + payload, "envelope replaced"


@st.composite
def bundles(draw: st.DrawFn) -> Case:
    """A mutated real bundle, and receipts to evaluate if the loader accepts it."""
    base = draw(_pick(list(corpus.bundle_bases())))
    kind = draw(st.integers(0, 11))
    if kind < 7:
        payload, notes = draw(mutate_json(base.payload, BUNDLE_FOCUS))
        data = pack(payload)
    elif kind < 10:
        payload, notes = draw(bytecode_mutation(base.payload))
        data = pack(payload)
    else:
        data, note = draw(raw_mutation(pack(base.payload)))
        notes = [note]
    real = _pick(list(corpus.receipts()))  # valid receipts mostly, so the engine runs the mutated code
    return {"bundle": data, "receipts": draw(st.lists(st.one_of(real, real, receipt_json()), min_size=1, max_size=3)),
            "note": f"{base.name}: " + "; ".join(notes)}


# ------------------------------------------------------------------------------------ receipts
# Valid-ish receipts (docs/bundle.md and docs/state.md, "Receipt additions"): every field is most
# often a sensible value and sometimes an edge value or a wrong type.


class _Usually(st.SearchStrategy[Json]):
    """``good`` most of the time; one draw in ``rate`` an edge value of any type (cheaper than a
    composite or a flatmap, which hypothesis would build and validate anew at every draw)."""

    def __init__(self, good: st.SearchStrategy[Json], rate: int = 8) -> None:
        super().__init__()
        self.good, self.rate = good, rate

    def do_draw(self, data: Any) -> Json:
        return data.draw(self.good if data.draw(_ODDS[self.rate]) else EDGE_VALUES)


_ODDS = {rate: st.integers(0, rate - 1) for rate in (4, 8, 12)}


def _usually(good: st.SearchStrategy[Json], rate: int = 8) -> st.SearchStrategy[Json]:
    return st.integers(0, rate - 1).flatmap(lambda r: good if r else EDGE_VALUES) if rate not in _ODDS \
        else _Usually(good, rate)


QTY = _usually(st.one_of(st.integers(1, 5), _pick([0.5, 1.166, 0.001, 0.0005, 10**9, 1e-7, 2.0])))
PRICE = _usually(st.one_of(st.integers(0, 100_000), _pick(EDGE_INTS)))
AMOUNT = _usually(st.integers(0, 10**6))
SKU = _usually(_pick(["A", "B", "C", "SKU00001", "GIFT1000", "GIFTFLEX", "GC500", "SKU09001"]))
CATEGORY = _usually(_pick(["dairy/milk", "food", "coffee", "gift_cards", "cafe/coffee", "tobacco", "sweets",
                           "household/knives", ""]))
BRAND = _usually(_pick(["BR1", "BR007", "ROMASHKA"]))
MIN_PRICE = _usually(st.integers(0, 100_000))
ATTRS = _usually(st.dictionaries(_pick(["colour", "", "\ud800"]), _pick(["red", "", 1]), max_size=2))
RECEIPT_ID = _usually(_pick(["R1", "R2", "G1"]))
DATETIME = _usually(_pick(EDGE_DATETIMES[:1] * 4 + EDGE_DATETIMES))
STORE = _usually(_pick(["S1", "S001", "S033"]))
CHANNEL = _usually(_pick(["pos", "online"]))
CURRENCY = _usually(_pick(["RUB", "USD"]))
COUPONS = _usually(st.lists(_pick(["WEL-7K2M9QXA", "SUMMER25", "WEL-", "x", ""]), max_size=3))
REDEEM = _usually(st.one_of(
    st.builds(lambda p: {"points": p}, st.one_of(_pick(["max", "MAX"]), st.integers(0, 10**6), _pick(EDGE_INTS))),
    _pick([{"points": 1, "x": 2}, {}, 5]).map(copy.deepcopy)))
CERTIFICATES = _usually(st.lists(st.fixed_dictionaries(
    {"code": _usually(_pick(["GC-MULTI01", "GC-1", "x", ""]))},
    optional={"amount": _usually(st.one_of(st.integers(1, 10**6), _pick(EDGE_INTS)))}), max_size=3))


@st.composite
def receipt_line(draw: st.DrawFn, line_no: int) -> dict[str, Json]:
    qty, price = draw(QTY), draw(PRICE)
    amount = price * qty if type(price) is int and type(qty) is int else draw(AMOUNT)
    line = {"line_no": line_no if draw(CHANCE[13]) else draw(EDGE_VALUES), "sku": draw(SKU),
            "category": draw(CATEGORY), "qty": qty, "unit_price": price, "amount": amount}
    if draw(st.booleans()):
        line["brand"] = draw(BRAND)
    if not draw(CHANCE[6]):
        line["min_price"] = draw(MIN_PRICE)
    if not draw(CHANCE[6]):
        line["attrs"] = draw(ATTRS)
    if not draw(CHANCE[16]):
        line[draw(_pick(["extra", "qty ", "Qty"]))] = draw(EDGE_VALUES)
    return line


@st.composite
def receipt_json(draw: st.DrawFn, customer_id: str | None = None) -> dict[str, Json]:
    """A whole receipt: header fields, lines, coupons, redeem, certificates. A long receipt repeats
    its last drawn line (with new line numbers) up to the limit and one past it."""
    lines = [draw(receipt_line(i + 1)) for i in range(draw(st.integers(0, 4)))]
    if lines and not draw(CHANCE[16]):
        extra = draw(_pick([40, 300, 4999, 5000]))
        lines += [{**lines[-1], "line_no": len(lines) + i + 1} for i in range(extra)]
    receipt: dict[str, Json] = {"receipt_id": draw(RECEIPT_ID), "datetime": draw(DATETIME), "store_id": draw(STORE),
                                "lines": lines}
    if customer_id is not None or draw(st.booleans()):
        receipt["customer_id"] = (customer_id or "C1") if draw(CHANCE[13]) else draw(EDGE_VALUES)
    if not draw(CHANCE[4]):
        receipt["channel"] = draw(CHANNEL)
    if not draw(CHANCE[6]):
        receipt["currency"] = draw(CURRENCY)
    if not draw(CHANCE[3]):
        receipt["coupons"] = draw(COUPONS)
    if not draw(CHANCE[3]):
        receipt["redeem"] = draw(REDEEM)
    if not draw(CHANCE[3]):
        receipt["certificates"] = draw(CERTIFICATES)
    if not draw(CHANCE[13]):
        del receipt[draw(_pick(sorted(receipt)))]
    return receipt


@st.composite
def mutated_receipt(draw: st.DrawFn) -> dict[str, Json]:
    receipt, _ = draw(mutate_json(draw(_pick(list(corpus.receipts())))))
    return receipt


# targets.warm_up builds their engines before the clock starts
RECEIPT_PROGRAMMES = ("examples/supermarket/programme.loya", "tests/golden/combo_percent_on_part/programme.loya",
                      "tests/golden_state/p18_certificate_partial_multi_use/programme.loya")


def receipts() -> st.SearchStrategy[Case]:
    """A receipt for ``Receipt.from_dict`` and ``Engine.evaluate`` under one of a few real programmes."""
    return st.fixed_dictionaries({
        "programme": _pick(list(RECEIPT_PROGRAMMES)),
        "receipt": st.one_of(receipt_json(), mutated_receipt(), _pick(list(corpus.receipts()))),
    })


# ----------------------------------------------------------------------------------- customers
# A customer record (docs/state.md section 3) mutated from the golden state cases and the
# supermarket's customers.jsonl, with one of their receipts and, sometimes, a return of it.

CUSTOMER_FOCUS = ("accounts", "lots", "coupons", "certificates", "counters", "qualification", "shared", "usage",
                  "returns", "referral", "debt", "balance")


RETURNED_QTY = _usually(st.one_of(st.integers(1, 3), _pick([0.5, 0.001, 0.0001, 1.5])))


@st.composite
def customers(draw: st.DrawFn) -> Case:
    journey = draw(_pick(list(corpus.journeys())))
    customer: Json = journey.customer if journey.customer is not None else {"id": "C1"}
    if draw(st.booleans()):
        customer, _ = draw(mutate_json(customer, CUSTOMER_FOCUS))
    original = draw(_pick(list(journey.receipts)))
    cid = customer.get("id") if isinstance(customer, dict) and isinstance(customer.get("id"), str) else "C1"
    receipt = original  # most of the time: the receipt as the journey has it
    if draw(CHANCE[3]) and draw(CHANCE[3]):
        receipt = draw(st.one_of(mutate_json(original).map(lambda t: t[0]), receipt_json(cid)))
    returned: Json = None
    if draw(st.booleans()) and isinstance(receipt, dict) and isinstance(receipt.get("lines"), list):
        numbers = [line.get("line_no") for line in receipt["lines"]
                   if isinstance(line, dict) and isinstance(line.get("line_no"), int | str)]
        returned = draw(st.dictionaries(
            st.one_of(_pick(numbers or [1]), _pick([0, -1, 999, "1", "x"])),
            RETURNED_QTY, max_size=3))
    return {"programme": journey.programme, "customer": customer, "receipt": receipt, "returned": returned,
            "return_all": draw(st.booleans()),
            "later": draw(_pick([0, 1, 86_400 * 40, 86_400 * 400, 86_400 * 365 * 150, -86_400]))}


# -------------------------------------------------------------------------------------- jsonio


@st.composite
def json_texts(draw: st.DrawFn) -> Case:
    """JSON text for ``jsonio.load``: a real document's text, mutated by tokens, or a hostile one."""
    kind = draw(st.integers(0, 2))
    if kind == 0:
        doc = draw(st.one_of(_pick(list(corpus.receipts())), _pick([j.customer for j in corpus.journeys()])))
        text = draw(mutated(json.dumps(doc, ensure_ascii=draw(st.booleans())), JSON_HOSTILE))
    elif kind == 1:
        text = draw(_pick(JSON_HOSTILE))
    else:
        text = json.dumps(draw(st.recursive(EDGE_VALUES, lambda x: st.lists(x, max_size=3)
                                            | st.dictionaries(st.text(max_size=3), x, max_size=3), max_leaves=20)),
                          ensure_ascii=False)
    data: str | bytes = text
    if draw(st.booleans()):
        data = text.encode("utf-8", "surrogatepass")
        if not draw(st.integers(0, 4)):
            data = draw(_pick([b"\xff", b"\xef\xbb\xbf", b"\xed\xa0\x80", b"\xc0\x80"])) + data
    return {"data": data, "floats": draw(st.booleans())}


JSON_HOSTILE = [
    "", " ", "{", "[", "}", "null", "NaN", "-Infinity", "1e400", "-0", "0.1", "1E-400", "[" * 40 + "]" * 40,
    "[" * 100_000, '{"a":' * 50_000, "9" * 41, "-" + "9" * 40, "9" * 5000, '"\\ud800"', '"\\udfff\\ud800"',
    '{"a":1,"a":2}', '"\u0000"', "\ufeff{}", '{"lines": [' + ",".join(["{}"] * 6000) + "]}", "1 2", "[1,]",
    '"\\u00"', "tru", "\t\n\r ", '{"\\ud800": 1}', "1" + "0" * 39, "[" * 32 + "]" * 32, "[" * 33 + "]" * 33,
]


# ------------------------------------------------------------------------------------- by target

FOR_TARGET = {
    "check": sources,
    "fmt": sources,
    "bundle": bundles,
    "receipt": receipts,
    "customer": customers,
    "jsonio": json_texts,
}
"""The strategy of each target of ``targets.TARGETS``."""
