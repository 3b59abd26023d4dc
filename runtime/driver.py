"""One generated function that runs every group of a bundle on the stateless path without a trace.

The engine's general loop (``Engine._group``) asks, for every campaign of every receipt, what a
compiler knows once: whether the campaign is gated by a SKU, whether it has a discount or points
cap, whether its group stacks everything, on which basis the group computes. This module writes
that knowledge out as straight-line Python, once per engine: per campaign a few statements, with
no branch for a cap it does not have, and for a ``stack_all`` group the winners taken as they come
(nothing is ranked, so a candidate list would only be built to be walked). A group with many
SKU-gated campaigns that does not fit in what is left of ``INLINE`` keeps the general loop, whose index
skips the campaigns a receipt cannot touch.

The campaigns' own code is inline too (the first ``INLINE`` of them): the generated module's statements
for each campaign (``jit.Body``: the text its function ``c<i>`` runs) with each gate a branch that
appends the campaign's prebuilt rejection; a needed-SKU gate is one set lookup in the receipt's
touched campaigns (with at most ``FEW`` such gates, a test of the campaign's SKUs against the receipt's);
the lines of a predicate that is a plain filter (``Program.filters``) are computed here, into the
receipt's cache (``r.matches``), where the rewards and later campaigns find them: those read before any
gate of their campaign in one loop over the lines (``_Plan.scan``; the receipt's SKUs for few SKU gates
by a C-level ``map``), the others on
first use. What the loop computes is planned before any text is written (``_Plan.choose``, ``_Plan.scan``),
so a campaign's actions read its lists from the driver's locals (``jit.Filled``) and, for an accrual on the
original basis, the running sum of their amounts the loop keeps; six or more filters on the category
alone cost one memo lookup a line (``Signature``). The actions are the generator's text with the rewards written out (``jit.Body.fast``: accruals, line and spread discounts as
integer arithmetic on the driver's locals ``vec``, ``acc``, ``pts``, ``spread``; the other rewards called).
The bytecode stays the verified contract: this is the same generated code, arranged in one function.
In a group that takes its first candidates (``LAZY``), a campaign's allocations over lines and its
cap wait until it wins (``spread``, ``Pricer.settle``): the losers are never priced.

The outcome is the general loop's, field for field (tests/fuzz/test_fuzz_driver.py checks it on
random programmes, with every campaign inline, none, or some; tests/fuzz/test_fuzz_fast_rewards.py each
written-out reward kind). Safety, as in runtime/jit.py: the source
holds only names made up here or by the code generator, integer positions and the fixed rejection
reasons; every value (campaigns, rejections, caps, constants) lives in the namespace (a copy of the
generated module's), which has no builtins but a few functions (``sum``, ``len``, ``map``, ``all``, ``tuple``) and
``KeyError``, which the scan catches (``ScanMemos``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from operator import attrgetter, itemgetter, le, sub
from typing import Any, Protocol

from .codecache import CodeCache, compiled
from .jit import Filled
from .opcodes import Op

_CATEGORY = re.compile(r"\bl\.category\b")  # in ``scan``'s loop, read once a line (``_lc``)
# a category memo's lookup in the driver (``_mirrored``), its word boundary checked by ``_memo_reads``: a leading
# ``\b`` makes ``re`` try the pattern at every position of the source, 4-5 times slower on a large driver
_MEMO = re.compile(r"(C\d+|SCAN_SIGNATURE)\[")
_FIRST = re.compile(r"(?:for _k in |if \(?(?:not )?\(?)(C\d+|SCAN_SIGNATURE)\[")  # a scan line's first read: a memo
_MEMO_GET = re.compile(r"_xw = W\.get\((\d+)\)")  # ``jit._FastAction.weight``'s memo of a group's basis sums
_MEMO_SET = re.compile(r"if _xw is None: _xw = W\[(\d+)\] = (.+)")
MIRRORED = 65536  # the most categories a scan's mirror of a memo holds (``ScanMemos``)
SIGNATURE = 6  # with at least this many filters on the category alone, the scan asks one memo a line (``Signature``)


class Campaign(Protocol):
    """What the driver reads of the engine's prepared campaign."""

    name: str
    source: Any  # the bundle's campaign (its ``footprint.needs_skus``)
    group: str  # its group's name
    index: int
    run: Callable[[Any, Any], str | None]
    sku_gated: bool
    discounts: bool  # its actions may ask for a discount (``r.vec``)
    accrues: bool  # its actions may accrue points (``r.acc``)
    applications: int | None
    max_discount: int | None
    max_points: int | None
    rejections: dict[str, Any]


class Group(Protocol):
    name: str
    original: bool
    stacking: str
    by_index: bool
    campaigns: list[Any]


Driver = Callable[[Any, Any, Any], None]  # (r, cu, tally)

LAZY = ("first_by_priority", "stack_up_to")  # the stackings whose losers are never priced
INLINE = 256  # campaigns whose code the driver holds inline; those after it are called (``camp.run``)
FEW = 4  # with at most this many SKU-gated campaigns a gate tests its own SKUs, else the receipt's SKU index
INDENT = 60  # a campaign whose inlined statements would nest deeper than this is called instead


class Program(Protocol):
    """What the driver reads of the compiled bundle (runtime/jit.py)."""

    @property
    def namespace(self) -> dict[str, Any]: ...
    @property
    def filters(self) -> tuple[str | None, ...]: ...
    @property
    def bodies(self) -> tuple[Any, ...]: ...  # jit.Body per campaign
    @property
    def receipt_fields(self) -> frozenset[str]: ...
    def fast_actions(self, i: int, filled: Mapping[int, Filled]) -> tuple[str, ...]: ...


def build(groups: Sequence[Group], general: Callable[..., None], pricer: Any,
          apply: Callable[..., tuple[Any, ...]], stack: Callable[..., list[Any]],
          live: bool = False, exclusive: Callable[..., bool] | None = None,
          program: Program | None = None, code_cache: CodeCache | None = None) -> tuple[Driver, str]:
    """The driver for ``groups`` (in evaluation order) and its source. ``general(group, r, cu, t,
    None, None)`` runs a group the general way; ``apply`` and ``stack`` are the engine's. ``live``:
    a predicate reads what is left of lines, so each group starts by noting it (``r.now``, docs/order.md).
    ``exclusive(r, cu, t, None, None)`` runs the exclusive campaigns first, and says whether one took the
    whole receipt (runtime/order.py); None: the programme has none. ``program``: the compiled bundle,
    whose campaign bodies the driver inlines (the first ``INLINE`` campaigns) and whose predicates'
    filters it runs itself, once a receipt, into ``r.matches`` (None: every campaign is called). ``code_cache``
    keeps the compiled driver (runtime/codecache.py)."""
    ns: dict[str, Any] = dict(program.namespace) if program is not None else {"__builtins__": {}}
    ns.update({"sum": sum, "len": len, "map": map, "all": all, "tuple": tuple, "LE": le, "SUB": sub,
               "KIND_DISCOUNT": "discount", "PTOTAL": pricer.points_total, "CAP": pricer.cap,
               "SETTLE": pricer.settle, "GIVES": itemgetter(3), "_SKU": attrgetter("sku"), "KeyError": KeyError, "APPLY": apply,
               "STACK": stack, "GENERAL": general})
    plan = _Plan(ns, program, live)
    plan.few = sum(camp.sku_gated or camp.source.footprint.needs_skus is not None
                   for group in groups for camp in group.campaigns) <= FEW
    indexed = plan.choose(groups)  # per group: run the general way
    scan = plan.scan()  # known before any campaign is written: what they read of it is written to read it
    body = ["def drive(r, cu, t):",
            "    lines, n, ordered = r.lines, r.nlines, r.ordered",
            "    amounts, left, floors = t.amounts, t.left, t.floors",
            "    rejected, applied, effects, pending = t.rejected, t.applied, t.effects, t.pending"]
    if exclusive is not None:
        ns["EXCLUSIVE"] = exclusive
        body += ["    if EXCLUSIVE(r, cu, t, None, None): return", "    floors = t.floors"]
    head = len(body)
    groups_out: list[str] = []
    for g, (group, called) in enumerate(zip(groups, indexed, strict=True)):
        ns[f"G{g}"] = group
        if called:
            groups_out.append(f"    GENERAL(G{g}, r, cu, t, None, None)")
            continue
        groups_out += _group(g, group, plan)
    if plan.matches:
        body.append("    M = r.matches")
    if plan.touched:  # the SKU index read once a receipt: a gate is one set lookup
        body.append("    touched = r.touched if r.touched is not None else r.touch()")
    if scan:  # one pass over the lines for the SKUs and the filters every receipt reads
        body += _indent(scan, "    ")
    if plan.skus > 1:  # few gates: each one test of its SKUs against the receipt's (one gate reads them itself)
        body.append("    skus = [*map(_SKU, lines)]")
    body += groups_out
    if len(body) == head:
        body.append("    return")
    source = _mirrored("\n".join(body) + "\n", ns, plan.learns)
    exec(compiled(source, "<loyadsl driver>", code_cache), ns)  # our own source: see the docstring
    return ns["drive"], source


class _Plan:
    """What the driver's source needs, known before it is written (``choose``, then ``scan``): the
    namespace, which campaigns are inline (``inlined``), the predicates the scan computes (``filled``), and
    whether the function reads ``r.matches`` and the receipt's touched campaigns."""

    def __init__(self, ns: dict[str, Any], program: Program | None, live: bool) -> None:
        self.ns, self.program, self.live = ns, program, live
        self.inline = INLINE if program is not None else 0
        self.matches = self.touched = False
        self.learns = False  # the scan learns the receipt's categories for the memos' mirrors (``_mirrored``)
        self.skus = 0  # the few SKU gates (``few``): one tests ``map(_SKU, lines)`` itself, more the list ``skus``
        self.few = False  # few SKU gates (``FEW``): each tests the receipt's SKUs, no index is read
        # whether the bundle's bytecode reads ``receipt.payable`` (``r.payable``, the group's start), else unset
        self.payable = program is None or "payable" in program.receipt_fields
        self.inlined: dict[int, Any] = {}  # campaign index -> its body (``jit.Body``), for those held inline
        self.eager: dict[int, None] = {}  # the predicates an inline campaign reads before any of its gates
        self.summed: dict[int, None] = {}  # those an inline campaign of a group on the original basis accrues on
        self.filled: dict[int, Filled] = {}  # those computed by ``scan``: predicate -> its locals

    def choose(self, groups: Sequence[Group]) -> list[bool]:
        """Which campaigns of ``groups`` (in evaluation order) are inline, and what the scan is asked for:
        the predicates they read before any gate, the SKUs for few SKU gates. Per group, whether it runs
        the general way instead: a group of many SKU-gated campaigns that does not fit in what is left of
        ``INLINE`` (its index skips what a receipt cannot touch)."""
        general = []
        for group in groups:
            general.append(group.by_index and not self.holds(group))
            for camp in () if general[-1] else group.campaigns:
                found = self.body(camp)
                if found is None:
                    continue
                self.inlined[camp.index] = found
                first = found.gates[0].reads if found.gates else found.reads
                self.eager.update(dict.fromkeys(first))
                if group.original:
                    self.summed.update(dict.fromkeys(_accrued(camp)))
                if self.few and any(gate.reason == "no_eligible_items" for gate in found.gates):
                    self.skus += 1
        return general

    def scan(self) -> list[str]:
        """One loop over the lines computing the lines of every plain filter an inline campaign reads
        before its gates (``eager``), into ``r.matches`` and the locals
        ``filled`` names, with the sum of their amounts where one is accrued on the original basis: one pass
        instead of a comprehension each. Filters are pure, so computing one up front changes nothing but
        when. Empty when there would be a single list to make and nothing to sum (a comprehension makes one
        faster)."""
        assert self.program is not None or not self.eager
        names: dict[str, str] = {}  # condition -> its list (two predicates of one condition share it)
        for i in self.eager:
            condition = self.program.filters[i] if self.program is not None else None
            if condition is not None and condition != "True":
                names.setdefault(condition, f"_f{len(names)}")
        sums = {names[c]: f"_s{k}" for k, c in enumerate(names) if any(
            self.program is not None and self.program.filters[i] == c for i in self.summed)}
        if len(names) < 2 and not sums:
            return []
        for i in self.eager:
            condition = self.program.filters[i] if self.program is not None else None
            if condition in names:
                name = names[condition]
                self.filled[i] = Filled(name, sums.get(name) if i in self.summed else None)
        self.matches = self.matches or bool(names)
        loop = ["for l in lines:"]
        signed = self.signature({c: name for c, name in names.items() if name not in sums})
        rest = {c: name for c, name in names.items() if name not in signed}
        hoist = sum(_CATEGORY.search(condition) is not None for condition in rest) + bool(signed) > 1
        if hoist:
            loop.append("    _lc = l.category")
        if signed:
            loop.append(f"    for _k in SCAN_SIGNATURE[{'_lc' if hoist else 'l.category'}]: _fl[_k].append(l)")
        for c, name in rest.items():
            test = _CATEGORY.sub("_lc", c) if hoist else c
            loop.append(f"    if {test}: {name}.append(l)" + (f"; {sums[name]} += l.amount" if name in sums else ""))
        made = list(rest.values())
        computed = [*(f"{name} = []" for name in made), *(f"{total} = 0" for total in sums.values()),
                    *((f"_fl = [{', '.join('[]' for _ in signed)}]",) if signed else ()), *loop]
        first = _FIRST.match(loop[2 if hoist else 1].strip())
        if first is not None and hasattr(type(self.ns.get(first.group(1))), "__missing__"):
            # every line's category is looked up in a memo first (its mirror, ``_mirrored``): one it lacks
            # raises KeyError; the receipt's categories are then learnt, and the scan runs again from its start
            self.learns = True
            computed = ["try:", *_indent(computed, "    "), "except KeyError:", "    SCAN_LEARN(lines)",
                        *_indent(computed, "    ")]
        return [*computed, *((f"{', '.join(signed)}, = _fl",) if signed else ()),
                *(f"M[{i}] = {filled.lines}" for i, filled in self.filled.items())]

    def signature(self, names: dict[str, str]) -> list[str]:
        """The lists of ``names`` (condition -> list) whose condition reads the line's category alone, when
        there are at least ``SIGNATURE`` of them: the scan then asks, per line, the category's
        ``Signature`` (the positions of those that hold) instead of testing each; else none."""
        tests = {}
        for condition, name in names.items():
            test = _on_category(_CATEGORY.sub("_lc", condition), self.ns)
            if test is not None:
                tests[name] = test
        if len(tests) < SIGNATURE:
            return []
        self.ns["SCAN_SIGNATURE"] = Signature(tuple(tests.values()))
        return list(tests)

    def holds(self, group: Group) -> bool:
        """Whether every campaign of the group can be inline (a SKU gate is then a set lookup)."""
        return self.program is not None and len(group.campaigns) <= self.inline

    def body(self, camp: Campaign) -> Any:
        """The campaign's body to inline, or None: called."""
        if self.inline <= 0 or self.program is None:
            return None
        found = self.program.bodies[camp.index]
        if found.depth > INDENT:
            return None
        self.inline -= 1
        return found

    def fast(self, camp: Campaign, reads: Sequence[int], original: bool) -> tuple[str, ...]:
        """The inline campaign's actions, reading what the scan computed of the predicates ``reads``: the sums
        of their amounts only in a group on the original basis (the amounts are its basis)."""
        assert self.program is not None
        filled = {i: self.filled[i] if original else Filled(self.filled[i].lines) for i in reads if i in self.filled}
        return self.program.fast_actions(camp.index, filled)

    def fill(self, reads: Sequence[int]) -> list[str]:
        """Statements computing, once a receipt, the lines of the predicates ``reads`` that the driver
        can filter itself and the scan did not (the others stay with ``r.match``)."""
        assert self.program is not None
        out = []
        for i in reads:
            condition = self.program.filters[i]
            if condition is None or i in self.filled:
                continue
            self.matches = True
            out.append(_fill(i, condition))
        return out


class ScanMemos:
    """Plain ``dict`` mirrors of category memos (``jit.CategoryMemo``, ``Signature``: ``dict`` subclasses
    that compute a missing category) for the driver, which looks them up once a line per filter;
    ``learn`` copies the memos' answers for a receipt's categories into every mirror, so after it each
    of them holds each of those categories. Bounded as the memos are: a mirror past ``MIRRORED`` entries
    starts afresh."""

    __slots__ = ("memos", "mirrors")

    def __init__(self, memos: tuple[dict[str, Any], ...]) -> None:
        self.memos = memos
        self.mirrors: tuple[dict[str, Any], ...] = tuple({} for _ in memos)

    def learn(self, lines: Sequence[Any]) -> None:
        categories = {line.category for line in lines}
        for memo, mirror in zip(self.memos, self.mirrors, strict=True):
            if len(mirror) + len(categories) > MIRRORED:
                mirror.clear()
            for category in categories:
                mirror[category] = memo[category]


class Signature(dict[str, tuple[int, ...]]):
    """Per category, the positions of the ``tests`` (functions of the category alone) that hold, remembered:
    categories are a small vocabulary, so the scan's filters on the category cost one lookup a line."""

    __slots__ = ("tests",)

    def __init__(self, tests: tuple[Callable[[str], Any], ...]) -> None:
        super().__init__()
        self.tests = tests

    def __missing__(self, category: str) -> tuple[int, ...]:
        found = tuple([k for k, test in enumerate(self.tests) if test(category)])
        if len(self) < 65536:
            self[category] = found
        return found


def _mirrored(source: str, ns: dict[str, Any], learnt: bool = False) -> str:
    """The driver's ``source`` reading plain dicts (``ScanMemos``) where it reads the category memos (the
    scan's and the filters' ``C<k>[...]``, ``SCAN_SIGNATURE[...]``): a lookup in a ``dict`` subclass goes
    through its type's generic slot (CPython calls ``__getitem__`` as a method, ~300 instructions), one in
    a ``dict`` is the interpreter's specialised subscript. The mirrors hold the same categories (``learn``
    fills them together), so the function first looks each of the receipt's categories up in one of them;
    one it does not hold raises ``KeyError``, and the receipt's categories are asked of the memos
    (``ScanMemos.learn``) before anything reads a mirror. ``learnt``: the scan, the first to read them, looks
    every line's category up first and learns what it lacks itself (``_Plan.scan``), so no look-up comes
    before it. Unchanged when it reads no memo."""
    reads = list(_memo_reads(source))
    names = sorted({name for m in reads if hasattr(type(ns.get(name := m.group(1))), "__missing__")})
    if not names:
        return source
    memos = ScanMemos(tuple(ns[name] for name in names))
    for name, mirror in zip(names, memos.mirrors, strict=True):
        ns[f"{name}_P"] = mirror
    ns["SCAN_LEARN"] = memos.learn
    pieces, done = [], 0
    for m in reads:
        if m.group(1) in names:
            pieces += [source[done:m.start()], m.group(1), "_P["]
            done = m.end()
    text = "".join([*pieces, source[done:]])
    if learnt:
        return text
    define, name_lines, rest = text.split("\n", 2)  # ``def drive``, the line naming ``lines``, the rest
    return "\n".join([define, name_lines, "    try:", f"        for l in lines: {names[0]}_P[l.category]",
                      "    except KeyError:", "        SCAN_LEARN(lines)", rest])


def _memo_reads(source: str) -> Iterator[re.Match[str]]:
    """``_MEMO``'s matches that begin a name (a word boundary): not preceded by a letter, a digit or ``_``."""
    for m in _MEMO.finditer(source):
        before = source[m.start() - 1:m.start()]
        if not (before.isalnum() or before == "_"):
            yield m


def _on_category(text: str, ns: dict[str, Any]) -> Callable[[str], Any] | None:
    """``text`` (a filter's condition, the category read as ``_lc``) as a function of the category, when it
    reads nothing else: its names are the namespace's (constants, their memos, helpers), no attribute, no
    line, no customer. None otherwise."""
    try:
        code = compile(f"lambda _lc: ({text})", "<loyadsl scan>", "eval")
    except SyntaxError:  # pragma: no cover - the generator's own text
        return None
    inner = next(c for c in code.co_consts if hasattr(c, "co_names"))
    if inner.co_freevars or not all(name in ns for name in inner.co_names):
        return None
    found: Callable[[str], Any] = eval(code, ns)  # our own source, names of the namespace only (see the docstring)
    return found


def _accrued(camp: Campaign) -> list[int]:
    """The predicates the campaign's actions accrue points on (``Op.ACCRUE_TOTAL``, ``Op.ACCRUE_FIXED``)."""
    return [int(instr[1]) for instr in camp.source.actions if instr[0] in (Op.ACCRUE_TOTAL, Op.ACCRUE_FIXED)]


def _fill(i: int, condition: str) -> str:
    """``_Plan.fill``'s statement for predicate i of filter ``condition``."""
    lines = "lines" if condition == "True" else f"[l for l in lines if {condition}]"
    return f"if M.get({i}) is None: M[{i}] = {lines}"  # (``jit.select``: one ``get``, not ``in``, on a dict subclass)


def _group(g: int, group: Group, plan: _Plan) -> list[str]:
    out = [f"    # group {g}: {group.stacking}, basis {'original' if group.original else 'discounted'}",
           "    r.basis = basis = amounts" if group.original else "    r.basis = basis = left[:]"]
    if plan.payable:
        out.append("    r.payable = sum(left)")
    if plan.live:
        out.append("    r.now = left[:]")
    ranked = group.stacking != "stack_all"
    lazy = group.stacking in LAZY
    if ranked:
        out.append("    cands = []")
    campaigns = [line for p, camp in enumerate(group.campaigns)
                 for line in _campaign(f"{g}_{p}", camp, group.original, ranked, lazy, plan)]
    out += _weights(campaigns)
    if ranked:
        out += [f"    if len(cands) > 1: cands = STACK(G{g}, cands, left, floors, rejected, None)",
                "    for camp, discount, accruals, points, pv, _ in cands:",
                "        applied.append(camp.name)",
                "        if discount is not None:",
                *(["            discount = SETTLE(*discount, camp.max_discount, lines, ordered)"] if lazy else []),
                *_indent(_take("camp", "discount", "camp.name", "camp.group", "sum(discount)"), "            "),
                f"        if accruals: pending.append((camp, accruals, pv, {group.original}, "
                f"{'points' if group.original else '(points, basis)'}))"]
    return out


def _weights(campaigns: list[str]) -> list[str]:
    """A group's campaign statements with the memo ``W`` of the basis per predicate (``jit._FastAction.weight``)
    kept only for the predicates two or more of them read, made empty at the group's start; one read alone
    sums at once."""
    reads = [int(found.group(1)) for line in campaigns if (found := _MEMO_GET.fullmatch(line.strip()))]
    shared = {i for i in reads if reads.count(i) > 1}
    if not reads:
        return campaigns
    out = ["    W = {}"] if shared else []
    for line in campaigns:
        body = line.lstrip()
        found = _MEMO_GET.fullmatch(body) or _MEMO_SET.fullmatch(body)
        if found is None or int(found.group(1)) in shared:
            out.append(line)
        elif body.startswith("if "):  # the sum, at once
            out.append(f"{line[:len(line) - len(body)]}_xw = {found.group(2)}")
    return out


def _campaign(key: str, camp: Campaign, original: bool, ranked: bool, lazy: bool, plan: _Plan) -> list[str]:
    """One campaign's statements: its code inline (or a call of its function), then what it gives. What
    its actions can ask for is known from its bytecode (``discounts``, ``accrues``), so a points campaign
    has no discount lines and the reverse. Points are decided as a total; the points per line are
    allocated when the outcome is read (runtime/engine.py, ``_Eval.points_vectors``), from the pending accruals;
    on the original basis that total is final, and the pending entry keeps it; on the discounted one it
    keeps it with the group's basis, final if the lines' payable is that basis at the end."""
    ns = plan.ns
    ns.update({f"CAMP{key}": camp, f"RUN{key}": camp.run, f"REJ{key}": camp.rejections,
               f"NOEFFECT{key}": camp.rejections["no_effect"], f"NAME{key}": camp.name,
               f"APPS{key}": camp.applications, f"MAXD{key}": camp.max_discount, f"MAXP{key}": camp.max_points,
               f"GNAME{key}": camp.group})
    lazy = lazy and camp.discounts
    inline = plan.inlined.get(camp.index)
    gives = _gives(key, camp, original, ranked, lazy, inline is not None)
    if inline is not None:  # its rewards written out (``jit.Body.fast``), on the driver's locals
        start = "; ".join([*((f"vec = None; spread = {'[]' if lazy else 'None'}",)  # what its rewards use
                             if camp.discounts or inline.calls else ()),
                           *(("acc = None; pts = 0",) if camp.accrues else ()),
                           *((f"r.budget = APPS{key}",) if inline.calls else ())]) or "pass"
        return _indent(_inline(key, camp, inline, start, gives, plan, original), "    ")
    start = f"r.vec = r.acc = None; r.budget = APPS{key}"
    run = [f"r.spread = []; reason = RUN{key}(r, cu); spread = r.spread; r.spread = None"] if lazy else \
        [f"reason = RUN{key}(r, cu)"]
    out = [start, *run, f"if reason is not None: rejected.append(REJ{key}[reason])", "else:", *_indent(gives, "    ")]
    if not camp.sku_gated:
        return _indent(out, "    ")
    ns[f"NOITEMS{key}"] = camp.rejections["no_eligible_items"]
    ns[f"IDX{key}"] = camp.index
    return [f"    if not r.wants(IDX{key}): rejected.append(NOITEMS{key})", "    else:", *_indent(out, "        ")]


def _inline(key: str, camp: Campaign, inline: Any, start: str, gives: list[str], plan: _Plan,
            original: bool) -> list[str]:
    """The campaign's gates as nested ``if``/``else``, each failing one appending its prebuilt
    rejection, and in the innermost ``else`` its set-up (``start``), actions (``jit.Body.fast``: its rewards
    written out; in a group that takes its first candidates, their allocations deferred to ``spread``) and
    what they give."""
    out: list[str] = []
    pad = ""
    for gate in inline.gates:
        fail = gate.fail
        if gate.reason == "no_eligible_items" and plan.few:
            plan.ns[f"NEEDS{key}"] = frozenset(camp.source.footprint.needs_skus)
            fail = f"NEEDS{key}.isdisjoint({'skus' if plan.skus > 1 else 'map(_SKU, lines)'})"
        elif gate.reason == "no_eligible_items":
            plan.touched = True
            fail = f"{camp.index} not in touched"
        plan.ns[f"REJ{key}_{gate.reason}"] = camp.rejections[gate.reason]
        reject = f"{fail}: rejected.append(REJ{key}_{gate.reason})"
        before = [*plan.fill(gate.reads), *gate.stmts]
        if out and not before:  # nothing to compute first: the previous gate's ``else`` becomes ``elif``
            out[-1] = f"{pad[4:]}elif {reject}"
            out.append(f"{pad[4:]}else:")
            continue
        out += _indent([*before, f"if {reject}", "else:"], pad)
        pad += "    "
    plan.matches = True  # its rewards find their lines themselves (``jit._FastAction.select``)
    out += _indent([start, *plan.fast(camp, inline.reads, original), *gives], pad)
    return out


def _gives(key: str, camp: Campaign, original: bool, ranked: bool, lazy: bool, fast: bool) -> list[str]:
    """What the campaign gives once its code has run and not rejected it: a candidate of its group, or
    (stacking everything) applied at once; nothing: ``no_effect``. ``lazy``: its group takes the first
    candidates, so the allocations over lines (``r.spread``) and the cap wait until it wins (``SETTLE``);
    what they give is known without them."""
    out: list[str] = []
    gives = []
    if lazy:
        out += [f"discount = {'vec' if fast else 'r.vec'}",
                "requested = (sum(discount) if discount is not None else 0) + (sum(map(GIVES, spread)) if spread else 0)"]
        if camp.max_discount is not None:
            out.append(f"if requested > MAXD{key}: requested = MAXD{key}")
        gives.append("requested")
    elif camp.discounts:
        out += [f"discount = {'vec' if fast else 'r.vec'}", "requested = sum(discount) if discount is not None else 0"]
        if camp.max_discount is not None:
            out.append(f"if requested and requested > MAXD{key}: discount = CAP(discount, MAXD{key}, lines, ordered); "
                       f"requested = MAXD{key}")
        gives.append("requested")
    if camp.accrues:
        out += ["accruals = acc", "points = pts"] if fast else \
            ["accruals = r.acc", "points = PTOTAL(accruals, basis) if accruals else 0"]
        if camp.max_points is not None:
            out.append(f"if points > MAXP{key}: points = MAXP{key}")
        gives.append("points")
    if not gives:
        return [*out, f"rejected.append(NOEFFECT{key})"]
    out += [f"if not {' and not '.join(gives)}: rejected.append(NOEFFECT{key})", "else:"]
    discount = "(discount, spread) if requested else None" if lazy else \
        "discount if requested else None" if camp.discounts else "None"
    if ranked:
        accruals, points = ("accruals or []", "points") if camp.accrues else ("[]", "0")
        out.append(f"    cands.append((CAMP{key}, {discount}, {accruals}, {points}, None, None))")
    else:
        out.append(f"    applied.append(NAME{key})")
        if camp.discounts:
            out += ["    if requested:", *_indent(_take(f"CAMP{key}", "discount", f"NAME{key}", f"GNAME{key}", "requested"),
                                                  "        ")]
        if camp.accrues:
            out.append(f"    if accruals: pending.append((CAMP{key}, accruals, None, {original}, "
                       f"{'points' if original else '(points, basis)'}))")
    return out


def _take(camp: str, discount: str, name: str, group: str, total: str) -> list[str]:
    """Statements taking an applied campaign's discount off the lines: ``Engine._apply`` when every line
    can take its part (nothing capped) written out, else called. ``total``: the discount's sum."""
    return [f"if floors is None and all(map(LE, {discount}, left)):",
            f"    left[:] = map(SUB, left, {discount}); {discount} = tuple({discount})",
            f"    effects.append(({name}, {group}, KIND_DISCOUNT, {discount}, {discount}, {total}, 0))",
            f"else: effects.append(APPLY({camp}, {discount}, left, floors, None))"]


def _indent(out: list[str], pad: str) -> list[str]:
    return [pad + line for line in out]
