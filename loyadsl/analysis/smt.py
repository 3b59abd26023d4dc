"""Campaign conditions as SMT formulas (z3) over one symbolic receipt and customer.

Two encodings of the same campaigns (docs/collisions.md, "The solver"):

* **abstract**, for proofs: every aggregate (``sum/count/qty/units(lines where P)``) and
  ``receipt.payable`` is a free integer bound only by relations that hold on every receipt
  (``0 <= sum(P) <= receipt.total``, ``count(P) = 0`` iff ``qty(P) = 0``, ...). Anything the encoder
  cannot express (a customer attribute, a counter, a product of two unknowns) becomes a fresh free
  variable. Every real receipt and customer then gives values to all variables that satisfy the
  formula, so *unsat* is a proof that no receipt and customer satisfy it.
* **concrete**, for witnesses: a receipt of at most ``LINES`` symbolic lines (SKU, category and
  brand drawn from the constants the campaigns name, or another value; whole quantities; prices),
  whose model is turned into a receipt that the runtime then evaluates: the solver proposes, the
  runtime decides.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

from loyadsl.analysis.smt_state import StateVars
from loyadsl.compile import ir
from loyadsl.compile.footprint import _all_rewards, _children
from loyadsl.runtime import LoyaError
from loyadsl.runtime.declarations import StateDecls
from loyadsl.runtime.limits import MAX_DATE, MAX_VALUE, MIN_DATE
from loyadsl.runtime.opcodes import Op

MISSING = "LOY712"  # z3-solver (the `analysis` extra) is not installed
LINES = 4  # symbolic lines of a concrete receipt
MAX_UNITS = 6  # whole units a symbolic line may hold
RLIMIT = 3_000_000  # z3 resource units per check: deterministic, unlike a timeout
WITNESS_PRICES = (100, 10**8)  # minor units: a percentage of a price should not round to nothing
WITNESS_DATES = (dt.date(1990, 1, 1), dt.date(2190, 12, 30))
OTHER = "\x00other"  # the universe's stand-in for "a value no campaign names"


def z3() -> ModuleType:
    """z3, imported on first use; a coded error when the extra is missing."""
    try:
        return importlib.import_module("z3")
    except ImportError:
        raise LoyaError(MISSING, "the collision solver needs z3-solver: pip install 'loyadsl[analysis]' "
                                 "(or pass --no-solver to search for witnesses only)", "z3") from None


@dataclass(frozen=True)
class Proof:
    """Unsat: the labels of the parts that cannot hold together (an unsat core)."""

    parts: tuple[str, ...]


@dataclass(frozen=True)
class Model:
    """Sat in the concrete encoding: a receipt and customer to try in the runtime."""

    receipt: dict[str, Any]
    customer: dict[str, Any] | None


def proof(campaigns: list[ir.ICampaign], zone: ZoneInfo, negate: ir.ICampaign | None = None,
          decls: StateDecls | None = None) -> Proof | None:
    """A proof that no receipt and customer satisfy all ``campaigns`` (and not ``negate``), or None
    (satisfiable in the abstract encoding, or the solver gave up). ``decls``: the programme's state
    declarations, which tie tier benefits to levels (smt_state.py)."""
    z = z3()
    try:
        return _proof(InContext(z), campaigns, zone, negate, decls)
    except z.Z3Exception:  # an encoding z3 refuses decides nothing: the pair stays open
        return None


def _proof(z: Any, campaigns: list[ir.ICampaign], zone: ZoneInfo, negate: ir.ICampaign | None,
           decls: StateDecls | None = None) -> Proof | None:
    abstract = Encoding(z, [*campaigns, *([negate] if negate else [])], zone, lines=0, decls=decls)
    solver = _solver(z)
    for c in campaigns:
        for label, formula in abstract.campaign(c):
            solver.assert_and_track(formula, z.Bool(f"{c.name}: {label}"))
    if negate is not None:
        solver.assert_and_track(z.Not(z.And([f for _, f in abstract.campaign(negate)])),
                                z.Bool(f"not {negate.name}"))
    solver.add(*abstract.facts)
    if solver.check() != z.unsat:
        return None
    return Proof(tuple(sorted(str(label) for label in solver.unsat_core())))


def witness(campaigns: list[ir.ICampaign], zone: ZoneInfo, decls: StateDecls | None = None,
            min_price: int = WITNESS_PRICES[0]) -> Model | None:
    """A receipt and customer on which all ``campaigns`` may fire, for the runtime to confirm, or None;
    with ``decls`` the customer holds the state the campaigns read (counters, balances, coupons);
    ``min_price``: the least unit price of a line (a retry asks for larger amounts, where a reward
    whose threshold is in its action, or a rounded share, has an effect)."""
    z = z3()
    try:
        return _witness(InContext(z), campaigns, zone, decls, min_price)
    except z.Z3Exception:
        return None


def _witness(z: Any, campaigns: list[ir.ICampaign], zone: ZoneInfo, decls: StateDecls | None = None,
             min_price: int = WITNESS_PRICES[0]) -> Model | None:
    concrete = Encoding(z, campaigns, zone, lines=LINES, decls=decls, min_price=min_price)
    solver = _solver(z)
    for c in campaigns:
        solver.add(*[f for _, f in concrete.campaign(c)])
    solver.add(*concrete.facts)
    return concrete.witness(solver.model()) if solver.check() == z.sat else None


class InContext:
    """The z3 module with its constructors bound to a context of their own: each check gets a fresh
    one, so that an answer does not depend on what the process solved before (z3's choices follow
    the order in which terms were created)."""

    def __init__(self, module: ModuleType) -> None:
        self.module, self.ctx = module, module.Context()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.module, name)

    def Int(self, name: str) -> Any:  # (z3's names, so the encoder reads as z3 code)
        return self.module.Int(name, self.ctx)

    def Ints(self, names: str) -> Any:
        return self.module.Ints(names, self.ctx)

    def Bool(self, name: str) -> Any:
        return self.module.Bool(name, self.ctx)

    def IntVal(self, value: int) -> Any:
        return self.module.IntVal(value, self.ctx)

    def BoolVal(self, value: bool) -> Any:
        return self.module.BoolVal(value, self.ctx)

    def Solver(self) -> Any:
        return self.module.Solver(ctx=self.ctx)

    def And(self, *args: Any) -> Any:
        items = _items(args)
        return self.module.And(items) if items else self.BoolVal(True)

    def Or(self, *args: Any) -> Any:
        items = _items(args)
        return self.module.Or(items) if items else self.BoolVal(False)


def _items(args: tuple[Any, ...]) -> list[Any]:
    return list(args[0]) if len(args) == 1 and isinstance(args[0], list) else list(args)


def _solver(z: Any) -> Any:
    solver = z.Solver()
    solver.set("rlimit", RLIMIT)
    solver.set("unsat_core", True)
    return solver


class Universe:
    """The values of one string domain the campaigns name, plus one that none names."""

    def __init__(self, values: Iterable[str]) -> None:
        self.values = [*sorted(set(values)), OTHER]
        self.index = {v: i for i, v in enumerate(self.values)}

    def member(self, var: Any, values: Iterable[str], test: Callable[[str], bool] | None = None) -> list[Any]:
        wanted = set(values)
        return [var == i for i, v in enumerate(self.values) if v != OTHER and (test(v) if test else v in wanted)]


def _category_in(members: frozenset[str], category: str) -> bool:
    parts = category.split("/")
    return any("/".join(parts[:k]) in members for k in range(1, len(parts) + 1))


@dataclass
class Line:
    present: Any
    sku: Any
    category: Any
    brand: Any
    units: Any
    price: Any
    amount: Any


class Encoding:
    """The variables of one symbolic receipt and customer, and the campaigns' formulas over them."""

    def __init__(self, z: Any, campaigns: list[ir.ICampaign], zone: ZoneInfo, lines: int,
                 decls: StateDecls | None = None, min_price: int = WITNESS_PRICES[0]) -> None:
        self.z, self.zone, self.min_price = z, zone, min_price
        strings = _strings(campaigns)
        if decls is not None and decls.tiers is not None:
            strings.setdefault("tier", set()).update(level.name for level in decls.tiers.levels)
        self.u = {domain: Universe(strings.get(domain, ())) for domain in
                  ("sku", "category", "brand", "store", "channel", "tier", "segments")}
        self.u["tier"] = Universe([*strings.get("tier", ()), ""])
        self.day, self.second, self.store, self.channel = z.Ints("day second store channel")
        self.known, self.tier, self.receipts = z.Bool("known"), z.Int("tier"), z.Int("receipts")
        self.segments = {s: z.Bool(f"segment {s}") for s in self.u["segments"].values if s != OTHER}
        self.attrs = {d[5:]: z.Int(d) for d in sorted(strings) if d.startswith("attr.")}  # customer.attr.NAME
        for name in self.attrs:
            self.u[f"attr.{name}"] = Universe([*strings[f"attr.{name}"], ""])  # "" when absent, as the runtime reads
        self.fresh = 0
        first, last = (MIN_DATE, MAX_DATE) if not lines else WITNESS_DATES  # a witness: plain modern time zones
        self.facts: list[Any] = [
            self.day >= first.toordinal(), self.day <= last.toordinal(),
            self.second >= 0, self.second < 86_400, self.receipts >= 0,
            *(self._within(v, d) for v, d in ((self.store, "store"), (self.channel, "channel"), (self.tier, "tier"))),
            z.Implies(z.Not(self.known), z.And(self.tier == self.u["tier"].index[""], self.receipts == 0,
                                               *(z.Not(s) for s in self.segments.values()))),
            *(self._within(v, f"attr.{n}") for n, v in self.attrs.items()),
            *(z.Implies(z.Not(self.known), v == self.u[f"attr.{n}"].index[""]) for n, v in self.attrs.items()),
        ]
        self.aggregates: dict[tuple[Op, ir.IExpr], Any] = {}
        self.state = StateVars(z, self.known, self.tier, self.u["tier"].index, decls, bool(lines), self.facts)
        self.lines = [self._line(i) for i in range(lines)]
        if lines:
            self.facts.append(self.lines[0].present)
            self.total = z.Sum([z.If(ln.present, ln.amount, 0) for ln in self.lines])
            self.nlines = z.Sum([z.If(ln.present, 1, 0) for ln in self.lines])
            self.units = z.Sum([z.If(ln.present, 1000 * ln.units, 0) for ln in self.lines])
        else:
            self.total, self.nlines, self.units = z.Ints("receipt.total receipt.lines receipt.units")
            self.facts += [self.total >= 0, self.total <= MAX_VALUE, self.nlines >= 0, self.units >= self.nlines]
        self.payable = z.Int("receipt.payable")
        self.facts += [self.payable >= 0, self.payable <= self.total]

    def _within(self, var: Any, domain: str) -> Any:
        return self.z.And(var >= 0, var < len(self.u[domain].values))

    def _line(self, i: int) -> Line:
        z = self.z
        ln = Line(z.Bool(f"l{i}.present"), z.Int(f"l{i}.sku"), z.Int(f"l{i}.category"), z.Int(f"l{i}.brand"),
                  z.Int(f"l{i}.units"), z.Int(f"l{i}.price"), z.Int(f"l{i}.amount"))
        self.facts += [self._within(ln.sku, "sku"), self._within(ln.category, "category"),
                       self._within(ln.brand, "brand"), ln.units >= 1, ln.units <= MAX_UNITS,
                       ln.price >= self.min_price, ln.price <= WITNESS_PRICES[1],
                       ln.amount == z.Sum([z.If(ln.units == k, k * ln.price, 0) for k in range(1, MAX_UNITS + 1)])]
        return ln

    # ------------------------------------------------------------------------------------ campaigns

    def campaign(self, c: ir.ICampaign) -> list[tuple[str, Any]]:
        """(label, formula) for each part of what the campaign needs to fire: window, filters, audience,
        when, and a line its rewards need."""
        z = self.z
        out: list[tuple[str, Any]] = []
        if c.dates:
            out.append(("dates", z.And(self.day >= c.dates[0], self.day <= c.dates[1])))
        if c.weekdays:
            weekday = (self.day - 1) % 7 + 1  # ordinal 1 (0001-01-01) is a Monday: ISO weekdays
            out.append(("weekdays", z.Or([weekday == d for d in c.weekdays])))
        if c.hours:
            start, end = c.hours
            inside = z.And(self.second >= start, self.second < end) if start < end else \
                z.Or(self.second >= start, self.second < end)
            out.append(("hours", inside))
        for label, f, var in (("stores", c.stores, self.store), ("channels", c.channels, self.channel)):
            if f is not None:
                member = z.Or(self.u[label[:-1]].member(var, f.values))
                out.append((label, z.Not(member) if f.negated else member))
        if c.audience is not None:
            out.append(("audience", self.boolean(c.audience, None)))
        if c.condition is not None:
            out.append(("when", self.boolean(c.condition, None)))
        out.append(("rewards", self.rewards(c)))
        return out + self.state.needs(c, lambda e: self.integer(e, None))

    def rewards(self, c: ir.ICampaign) -> Any:
        """Some line that one of its rewards needs is on the receipt (every part, for a combo): a
        campaign without one has no effect, so it neither applies nor loses to stacking."""
        z = self.z
        needs = []
        for reward in _all_rewards(c.actions):
            preds = [p for p, _ in reward.parts] if isinstance(reward, ir.ComboReward) else [reward.predicate]
            needs.append(z.And([self.integer(ir.Agg(p.type, Op.COUNT, p), None) >= 1 for p in preds]))
        return z.Or(needs) if needs else z.BoolVal(True)

    # ------------------------------------------------------------------------------------ expressions

    def _free(self, boolean: bool) -> Any:
        """A fresh unconstrained variable for what the encoding cannot express (sound for proofs)."""
        self.fresh += 1
        return self.z.Bool(f"free{self.fresh}") if boolean else self.z.Int(f"free{self.fresh}")

    def boolean(self, e: ir.IExpr, line: Line | None) -> Any:
        z = self.z
        if isinstance(e, ir.Const) and isinstance(e.value, bool):
            return z.BoolVal(e.value)
        if isinstance(e, ir.Logic):
            parts = [self.boolean(x, line) for x in e.operands]
            return z.And(parts) if e.op == Op.AND else z.Or(parts)
        if isinstance(e, ir.NotE):
            return z.Not(self.boolean(e.operand, line))
        if isinstance(e, ir.Load) and e.source == "customer" and e.field == "known":
            return self.known
        if isinstance(e, ir.Cmp):
            return self._compare(e, line)
        if isinstance(e, ir.In):
            return self._member(e, line)
        return self._free(True)

    def _compare(self, e: ir.Cmp, line: Line | None) -> Any:
        text = self._text(e.left, line), self._text(e.right, line)
        if text[0] is not None and isinstance(e.right, ir.Const) and isinstance(e.right.value, str) \
                and e.op in (Op.EQ, Op.NE):
            var, domain = text[0]
            same = self.z.Or(self.u[domain].member(var, [e.right.value]))
            return same if e.op == Op.EQ else self.z.Not(same)
        if e.left.type.name in ("string", "set", "bool") or e.right.type.name in ("string", "set", "bool"):
            return self._free(True)
        left, right = self.integer(e.left, line), self.integer(e.right, line)
        return {Op.EQ: left == right, Op.NE: left != right, Op.LT: left < right, Op.LE: left <= right,
                Op.GT: left > right, Op.GE: left >= right}.get(e.op, self._free(True))

    def _member(self, e: ir.In, line: Line | None) -> Any:
        z = self.z
        coll = e.collection
        if isinstance(coll, ir.Const) and isinstance(coll.value, frozenset):
            values = coll.value
            if isinstance(e.item, ir.Load) and e.item.source == "customer" and e.item.field == "segments":
                return z.Or([self.segments[s] for s in sorted(values) if s in self.segments])  # any in common
            found = self._text(e.item, line)
            if found is not None:
                var, domain = found
                test = (lambda v: _category_in(values, v)) if e.op == Op.CATEGORY_IN else None
                return z.Or(self.u[domain].member(var, values, test))
        if isinstance(e.item, ir.Const) and isinstance(e.item.value, str) and isinstance(coll, ir.Load) \
                and coll.source == "customer" and coll.field == "segments":
            return self.segments.get(e.item.value, z.BoolVal(False))
        return self._free(True)

    def _text(self, e: ir.IExpr, line: Line | None) -> tuple[Any, str] | None:
        """The variable and domain of a string field: a line's SKU/category/brand, the receipt's store
        or channel, the customer's tier."""
        if not isinstance(e, ir.Load):
            return self._attr(e)
        if e.source == "line" and line is not None and e.field in ("sku", "category", "brand"):
            return getattr(line, e.field), e.field
        if e.source == "receipt" and e.field in ("store", "channel"):
            return (self.store if e.field == "store" else self.channel), e.field
        if e.source == "customer" and e.field == "tier":
            return self.tier, "tier"
        return None

    def _attr(self, e: ir.IExpr) -> tuple[Any, str] | None:
        if isinstance(e, ir.LoadAttr) and e.source == "customer" and e.name in self.attrs:
            return self.attrs[e.name], f"attr.{e.name}"
        return None

    def integer(self, e: ir.IExpr, line: Line | None) -> Any:
        z = self.z
        if isinstance(e, ir.Const) and type(e.value) is int:
            return z.IntVal(e.value)
        if isinstance(e, ir.Load):
            return self._load(e, line)
        if isinstance(e, ir.Neg):
            return -self.integer(e.operand, line)
        if isinstance(e, ir.Arith):
            return self._arith(e, line)
        if isinstance(e, ir.MulDiv) and isinstance(e.right, ir.Const) and type(e.right.value) is int:
            exact = self.integer(e.left, line) * e.right.value
            rounded = self._free(False)  # within one of the exact quotient, whatever the rounding mode
            self.facts += [rounded * e.denominator <= exact + e.denominator,
                           rounded * e.denominator >= exact - e.denominator]
            return rounded
        if isinstance(e, ir.Agg) and line is None:
            return self._aggregate(e)
        if isinstance(e, ir.StateLoad):
            return self.state.read(e)
        return self._free(False)

    def _arith(self, e: ir.Arith, line: Line | None) -> Any:
        z = self.z
        left, right = self.integer(e.left, line), self.integer(e.right, line)
        if e.op == Op.ADD:
            return left + right
        if e.op == Op.SUB:
            return left - right
        if e.op == Op.MIN:
            return z.If(left <= right, left, right)
        if e.op == Op.MAX:
            return z.If(left >= right, left, right)
        if e.op == Op.MUL and (isinstance(e.left, ir.Const) or isinstance(e.right, ir.Const)):
            return left * right
        return self._free(False)

    def _load(self, e: ir.Load, line: Line | None) -> Any:
        if e.source == "line" and line is not None:
            fields = {"qty": 1000 * line.units, "units": line.units, "price": line.price, "amount": line.amount}
            if e.field in fields:
                return fields[e.field]
        if e.source == "receipt":
            fields = {"total": self.total, "payable": self.payable, "lines": self.nlines, "units": self.units}
            if e.field in fields:
                return fields[e.field]
        if e.source == "customer" and e.field == "receipts":
            return self.receipts
        return self._free(False)

    def _aggregate(self, e: ir.Agg) -> Any:
        """sum/count/qty/units over the lines a predicate selects."""
        z = self.z
        if self.lines:
            value = {Op.SUM: lambda ln: ln.amount, Op.COUNT: lambda ln: 1, Op.QTY: lambda ln: 1000 * ln.units,
                     Op.UNITS: lambda ln: ln.units}.get(e.func)
            if value is None:
                return self._free(False)
            return z.Sum([z.If(z.And(ln.present, self.boolean(e.predicate, ln)), value(ln), 0) for ln in self.lines])
        key = (e.func, e.predicate)
        if key not in self.aggregates:
            self.aggregates[key] = self._abstract(e.predicate)[e.func] if e.func in (
                Op.SUM, Op.COUNT, Op.QTY, Op.UNITS) else self._free(False)
        return self.aggregates[key]

    def _abstract(self, predicate: ir.IExpr) -> dict[Op, Any]:
        """Free sum/count/qty/units of one line selection, bound by what holds on every receipt."""
        z = self.z
        n = len(self.aggregates)
        agg = {Op.SUM: z.Int(f"sum{n}"), Op.COUNT: z.Int(f"count{n}"), Op.QTY: z.Int(f"qty{n}"),
               Op.UNITS: z.Int(f"units{n}")}
        s, c, q, u = agg[Op.SUM], agg[Op.COUNT], agg[Op.QTY], agg[Op.UNITS]
        self.facts += [s >= 0, s <= self.total, c >= 0, c <= self.nlines, q >= c, q <= self.units,
                       u >= 0, 1000 * u <= q, z.Implies(c == 0, z.And(s == 0, q == 0))]
        if isinstance(predicate, ir.Const) and predicate.value is True:
            self.facts += [s == self.total, c == self.nlines, q == self.units]
        for f, v in agg.items():
            self.aggregates[f, predicate] = v
        return agg

    # ------------------------------------------------------------------------------------ witness

    def witness(self, m: Any) -> Model:
        """The model as a receipt (present lines) and a customer (None when not known)."""
        def pick(var: Any, domain: str, other: str) -> str:
            value = self.u[domain].values[m.eval(var, model_completion=True).as_long()]
            return other if value == OTHER else value

        def number(var: Any) -> int:
            return int(m.eval(var, model_completion=True).as_long())

        day = dt.date.fromordinal(number(self.day))
        second = number(self.second)
        when = dt.datetime.combine(day, dt.time(second // 3600, second % 3600 // 60, second % 60), self.zone)
        lines: list[dict[str, Any]] = []
        for i, ln in enumerate(self.lines):
            if not self.z.is_true(m.eval(ln.present, model_completion=True)):
                continue
            units, price = number(ln.units), number(ln.price)
            lines.append({"line_no": len(lines) + 1, "sku": pick(ln.sku, "sku", f"SKU-W{i}"),
                          "category": pick(ln.category, "category", "w/other"),
                          "brand": pick(ln.brand, "brand", ""), "qty": units, "unit_price": price,
                          "amount": units * price})
        customer = None
        if self.z.is_true(m.eval(self.known, model_completion=True)):
            customer = {"id": "C-WITNESS", "tier": pick(self.tier, "tier", "w-other"),
                        "segments": sorted(s for s, v in self.segments.items()
                                           if self.z.is_true(m.eval(v, model_completion=True))),
                        "receipts": number(self.receipts), **self.state.customer(m, when),
                        "attributes": {n: pick(v, f"attr.{n}", "w-other") for n, v in self.attrs.items()
                                       if pick(v, f"attr.{n}", "w-other") != ""}}
        presented = [c["code"] for c in customer["coupons"]] if customer is not None else []
        receipt = {**({"coupons": presented} if presented else {}), "receipt_id": "W-SMT", "customer_id": customer and customer["id"], "datetime": when.isoformat(),
                   "store_id": pick(self.store, "store", "S-W"), "channel": pick(self.channel, "channel", "pos-w"),
                   "lines": lines}
        return Model(receipt, customer)


def _strings(campaigns: list[ir.ICampaign]) -> dict[str, set[str]]:
    """The string constants each domain is compared with, over the campaigns' filters and expressions."""
    out: dict[str, set[str]] = {}
    for c in campaigns:
        for domain, f in (("store", c.stores), ("channel", c.channels)):
            if f is not None:
                out.setdefault(domain, set()).update(f.values)
        exprs = [x for x in (c.audience, c.condition) if x is not None]
        for reward in _all_rewards(c.actions):
            exprs += [p for p, _ in reward.parts] if isinstance(reward, ir.ComboReward) else [reward.predicate]
        for e in exprs:
            _collect(e, out)
    return out


def _collect(e: ir.IExpr, out: dict[str, set[str]]) -> None:
    pair = (e.item, e.collection) if isinstance(e, ir.In) else (e.left, e.right) if isinstance(e, ir.Cmp) else None
    if pair is not None:
        for a, b in (pair, pair[::-1]):
            if isinstance(a, ir.Load | ir.LoadAttr) and isinstance(b, ir.Const):
                values = b.value if isinstance(b.value, frozenset) else {b.value} if isinstance(b.value, str) else set()
                key = a.field if isinstance(a, ir.Load) else f"attr.{a.name}" if a.source == "customer" else None
                if key is not None:
                    out.setdefault(key, set()).update(values)
    for child in _children(e):
        _collect(child, out)
