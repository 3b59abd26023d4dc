"""Run a test file: compile its programme once, then each case from its own customer state, step by
step (receipts evaluated and their changes applied, or the clock advanced), comparing what each step
gives with what it expects. Problems are diagnostics on the test file's lines:

* LOY750: the test file cannot be read or does not have the documented shape (a receipt without a time too);
* LOY751: the programme under test does not compile (the compiler's diagnostics are its notes);
* LOY752: a step did not give what it expects (one diagnostic per difference);
* LOY753: a step cannot run (a customer record or receipt the runtime refuses).

LOY750 and LOY751 stop the file; LOY753 stops its case.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from loyadsl.api import compile_file, compile_text
from loyadsl.diagnostics import Diagnostic, Span, error, has_errors
from loyadsl.mechtest.build import generated_path, programme_text
from loyadsl.mechtest.match import compare
from loyadsl.mechtest.model import Expect, Step, TestCase, TestFile
from loyadsl.mechtest.timesteps import after_receipt, time_step
from loyadsl.mechtest.yamlmap import Located, Path_, YamlError, load
from loyadsl.runtime import Engine, LoyaError, Outcome, load_bundle
from loyadsl.runtime.limits import MAX_SOURCE_CHARS
from loyadsl.runtime.state import CustomerState, apply
from loyadsl.runtime.triggers.tick import Ticker

Json = dict[str, Any]


@dataclass(frozen=True)
class CaseResult:
    name: str
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def failed(self) -> bool:
        return has_errors(self.diagnostics)


@dataclass
class FileResult:
    """One test file: the diagnostics that stopped it (``errors``), else each case's result."""

    display: str  # the file as reports name it
    source: str = ""
    errors: list[Diagnostic] = field(default_factory=list)
    cases: list[CaseResult] = field(default_factory=list)


class _Place:
    """Spans on the test file's lines, from the paths of its values."""

    def __init__(self, display: str, text: str, located: Located) -> None:
        self.display, self.lines, self.located = display, text.splitlines(), located

    def span(self, path: Path_) -> Span:
        """Where ``path`` is written: its key and value when they fit on a line, else to the line's end."""
        line, col, end_line, end_col = self.located.place(path)
        whole = self.line(line, col)
        return whole if end_line != line or end_col <= col else Span(self.display, line, col, line, end_col)

    def line(self, number: int, col: int = 0) -> Span:
        """Line ``number`` from ``col`` (0: its first non-blank character) to its end."""
        text = self.lines[number - 1] if 0 < number <= len(self.lines) else ""
        start = col or len(text) - len(text.lstrip()) + 1
        return Span(self.display, max(number, 1), start, max(number, 1), max(len(text) + 1, start + 1))


def run_file(path: Path, display: str) -> FileResult:
    result = FileResult(display)
    limit = 4 * MAX_SOURCE_CHARS  # bytes: as for a programme's source
    try:
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)  # never more, whatever the file holds
        if len(raw) > limit:
            raise ValueError(f"larger than {limit} bytes")
        result.source = raw.decode("utf-8")
    except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        result.errors.append(error("LOY750", f"cannot read the test file: {_reason(exc)}", Span(display, 1, 1, 1, 2)))
        return result
    try:
        located = load(result.source)
    except YamlError as exc:
        place = _Place(display, result.source, Located(None))
        result.errors.append(error("LOY750", exc.message, place.line(exc.line)))
        return result
    place = _Place(display, result.source, located)
    test = _validate(located, place, result.errors)
    if test is None:
        return result
    engine = _engine(test, path, place, result.errors)
    if engine is None:
        return result
    result.cases = [_run_case(engine, test, i, case, place) for i, case in enumerate(test.cases)]
    return result


def _reason(exc: Exception) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)


def _validate(located: Located, place: _Place, errors: list[Diagnostic]) -> TestFile | None:
    if not isinstance(located.data, dict):
        errors.append(error("LOY750", "a test file is a mapping with `cases` (docs/testing.md)", place.line(1)))
        return None
    try:
        test = TestFile.model_validate(located.data)
    except ValidationError as exc:
        for loc, message in _problems(exc, located):
            where = ".".join(str(p) for p in loc) or "the file"
            errors.append(error("LOY750", f"{where}: {message}", place.span(loc), "see docs/testing.md"))
        return None
    for i, case in enumerate(test.cases):
        for j, step in enumerate(case.steps):
            if step.lines is not None and (step.datetime or case.now or test.now) is None:
                errors.append(error("LOY750", f"cases.{i}.steps.{j}: a receipt needs a time", place.span(
                    ("cases", i, "steps", j)), "give `datetime`, or `now` in the case or the file"))
    return None if errors else test


def _problems(exc: ValidationError, located: Located) -> list[tuple[Path_, str]]:
    """pydantic's errors, one per place: the members of a union that a value fails (``qty.int``,
    ``qty.float``) become one message at the value (``qty: Input should be a valid integer, or ...``)."""
    merged: dict[Path_, list[str]] = {}
    for problem in exc.errors():
        loc: Path_ = tuple(problem["loc"])
        if problem["type"] != "missing":
            while loc and loc not in located.places:  # union members are not keys of the file
                loc = loc[:-1]
        merged.setdefault(loc, []).append(problem["msg"].removeprefix("Value error, "))
    return [(loc, ", or ".join([first, *(m.removeprefix("Input should be ") for m in rest)]))
            for loc, (first, *rest) in merged.items()]


def _engine(test: TestFile, path: Path, place: _Place, errors: list[Diagnostic]) -> Engine | None:
    """The compiled programme under test, or None with LOY750/LOY751 in ``errors``."""
    written = ""
    if test.file is not None:
        target = path.parent / test.file
        if not target.is_file():
            errors.append(error("LOY750", f"programme `{test.file}` not found next to the test file",
                                place.span(("file",))))
            return None
        data, checked = compile_file(target)
        at: Path_ = ("file",)
    else:
        written = programme_text(test)
        data, checked = compile_text(written, generated_path(path).name, generated_path(path))
        at = ("template",)
    if data is None:
        notes = tuple(_note(d, written) for d in checked.diagnostics if d.is_error)
        errors.append(Diagnostic("LOY751", f"the programme under test does not compile: {_first(checked.diagnostics)}",
                                 place.span(at), f"run `loya check` on {test.file or 'a programme using the template'}",
                                 notes=notes))
        return None
    return Engine(load_bundle(data))


def _note(d: Diagnostic, written: str) -> str:
    """A compiler diagnostic as a note; in the programme written around a template, with its line."""
    if d.span is None:
        return f"{d.code} {d.message}"
    if not written or d.span.file.startswith("std:") or not d.span.file.endswith(".generated.loya"):
        return f"{d.span}: {d.code} {d.message}"
    lines = written.splitlines()
    text = lines[d.span.line - 1].strip() if 0 < d.span.line <= len(lines) else ""
    return f"{d.code} {d.message}, in the programme written for the test: `{text}`"


def _first(diagnostics: list[Diagnostic]) -> str:
    first = next((d for d in diagnostics if d.is_error), None)
    return f"{first.code} {first.message}" if first else "no bundle"


def _run_case(engine: Engine, test: TestFile, index: int, case: TestCase, place: _Place) -> CaseResult:
    at: Path_ = ("cases", index)
    decls = engine.bundle.state
    own = "customer" in case.model_fields_set
    raw = case.customer if own else test.customer
    try:
        state = None if raw is None else CustomerState.from_dict(raw, decls)
    except LoyaError as exc:
        where = place.span((*at, "customer") if own else ("customer",))
        return CaseResult(case.name, (_cannot(f"the customer: {exc.code} {exc.message}", where),))
    found: list[Diagnostic] = []
    ticker = Ticker(engine)
    clock = case.now or test.now  # the time of a receipt without one; moved by each step
    for number, step in enumerate(case.steps):
        here: Path_ = (*at, "steps", number)
        try:
            actual, state, clock = _step(ticker, step, number, state, clock)
        except LoyaError as exc:
            return CaseResult(case.name, (*found, _cannot(f"step {number + 1}: {exc.code} {exc.message}",
                                                          place.span(here))))
        expected = {key: getattr(step.expect, key) for key in Expect.model_fields if key in step.expect.model_fields_set}
        for m in compare(expected, actual):
            found.append(error("LOY752", f"case `{case.name}`, step {number + 1}: {m.describe()}",
                               place.span((*here, "expect", *m.path))))
    return CaseResult(case.name, tuple(found))


def _cannot(message: str, span: Span) -> Diagnostic:
    return error("LOY753", f"cannot run: {message}", span)


def _step(ticker: Ticker, step: Step, number: int, state: CustomerState | None,
          clock: dt.datetime | None) -> tuple[Json, CustomerState | None, dt.datetime | None]:
    engine = ticker.engine
    decls = engine.bundle.state
    if step.lines is None:  # a move of the clock or a host event (docs/testing.md, "Events and time")
        return time_step(ticker, step, state, clock)
    when = step.datetime or clock
    assert when is not None  # _validate made sure
    receipt = _receipt(step, number, state, when)
    outcome = engine.evaluate(receipt, state, budgets=step.budgets, stock=step.stock)
    chains: Json = {"messages": [dict(m) for m in outcome.messages or ()]}  # anonymous: the till's only
    if state is not None:
        state = apply(state, list(outcome.changes or ()), decls)
        chains, state = after_receipt(ticker, state, receipt, outcome)
    return {**project(outcome), **chains, "state": None if state is None else state.to_dict()}, state, when


def _receipt(step: Step, number: int, state: CustomerState | None, when: dt.datetime) -> Json:
    lines = []
    for i, line in enumerate(step.lines or ()):
        amount = line.amount
        if amount is None:
            amount = int((Decimal(line.unit_price) * Decimal(str(line.qty))).quantize(Decimal(1), ROUND_HALF_UP))
        item = {"line_no": i + 1, **line.model_dump(exclude_none=True), "amount": amount}
        lines.append(item)
    receipt: Json = {"receipt_id": f"R{number + 1}", "customer_id": None if state is None else state.id,
                     "datetime": when.isoformat(), "store_id": step.store_id, "lines": lines}
    for key in ("channel", "coupons", "rewards", "tax"):
        if getattr(step, key) is not None:
            receipt[key] = getattr(step, key)
    if step.redeem is not None:  # points to pay with, or "max": receipt JSON's {"points": ...} (docs/state.md)
        receipt["redeem"] = {"points": step.redeem}
    return receipt


def project(o: Outcome) -> Json:
    """The fields of an outcome a test may expect (docs/testing.md)."""
    return {
        "applied": list(o.applied),
        "rejected": {r.campaign: r.reason for r in o.rejected},
        "discount": [line.discount for line in o.lines],
        "points": [line.points for line in o.lines],
        "payable": [line.payable for line in o.lines],
        "discount_total": o.discount_total,
        "points_total": o.points_total,
        "payable_total": o.payable,
        "coupons": [dict(c) for c in o.coupons or ()],
        "issued": [c["series"] for c in o.changes or () if c.get("op") == "coupon_issue"],
        "events": [dict(e) for e in o.events or ()],
        "tax": o.tax,
    }

