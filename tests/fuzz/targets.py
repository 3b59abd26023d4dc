"""The fuzz targets and their one oracle: given any input, loyadsl returns normally or raises a
``LoyaError`` with a registered code other than LOY999; the compiler never raises and never reports
LOY999. A few targets add a cheap consistency check where the contract states one (a programme
that parses formats to text that parses to the same tree; a bundle the compiler writes loads; an
outcome is JSON a till can write as UTF-8).

``run(target, case)`` raises ``Finding`` when the oracle fails; ``Finding.key`` deduplicates findings
by kind, exception type, code and the innermost frame of the project's code.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import traceback
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from . import corpus

Case = dict[str, Any]
ROOT = corpus.ROOT
HERE = Path(__file__).resolve().parent


class Finding(Exception):
    """The oracle failed: ``kind`` is crash (an uncaught exception), code (an unregistered code or
    LOY999) or contract (a consistency check); ``where`` is the project's innermost frame."""

    def __init__(self, target: str, kind: str, summary: str, where: str, detail: str = "") -> None:
        super().__init__(f"{target}: {kind}: {summary} at {where}")
        self.target, self.kind, self.summary, self.where, self.detail = target, kind, summary, where, detail

    @property
    def key(self) -> str:
        what = "" if self.kind == "stall" else self.summary.split(":")[0]  # a stall's summary is its time
        return f"{self.target} | {self.kind} | {what} | {self.where}"


def project_frame(tb: Any) -> str:
    """``file:line`` of the innermost frame in the project's own code (not the fuzz suite's)."""
    where = "?"
    for frame in traceback.extract_tb(tb):
        path = Path(frame.filename).resolve()
        if path.is_relative_to(ROOT) and not path.is_relative_to(HERE) and ".venv" not in path.parts:
            where = f"{path.relative_to(ROOT).as_posix()}:{frame.lineno}"
    return where


def _guard(target: str, call: Callable[[], Any]) -> Any:
    """Run ``call``: a coded ``LoyaError`` is a fine answer (None), anything else a ``Finding``."""
    from loyadsl.runtime.codes import CODES
    from loyadsl.runtime.errors import LoyaError

    try:
        return call()
    except Finding:
        raise
    except LoyaError as exc:
        if exc.code not in CODES or exc.code == "LOY999":
            raise Finding(target, "code", f"{exc.code}: {exc}", project_frame(exc.__traceback__)) from exc
        return None
    except Exception as exc:  # the oracle: nothing else may escape
        detail = "".join(traceback.format_exception(exc)[-12:])
        raise Finding(target, "crash", f"{type(exc).__name__}: {str(exc)[:200]}",
                      project_frame(exc.__traceback__), detail) from exc
    except RecursionError as exc:  # pragma: no cover - RecursionError is an Exception; kept for clarity
        raise Finding(target, "crash", "RecursionError", project_frame(exc.__traceback__)) from exc


def _contract(target: str, ok: bool, summary: str, where: str) -> None:
    if not ok:
        raise Finding(target, "contract", summary, where)


# ---------------------------------------------------------------------------------------- compiler


def check(case: Case) -> None:
    """``api.check_text`` (and ``compile_text`` when it checks): never raises, never LOY999; a bundle
    the compiler writes is one the runtime loads."""
    from loyadsl import api
    from loyadsl.runtime import load_bundle
    from loyadsl.runtime.codes import CODES

    result = _guard("check", lambda: api.check_text(case["text"], case["file"]))
    bad = [d for d in result.diagnostics if d.code not in CODES or d.code == "LOY999"]
    _contract("check", not bad, f"diagnostic {bad[0].code}: {bad[0].message[:120]}" if bad else "", "loyadsl/api.py")
    if result.ok:
        data, _ = _guard("check", lambda: api.compile_text(case["text"], case["file"]))
        if data is not None:
            _guard("check", lambda: load_bundle(data))


def fmt(case: Case) -> None:
    """The formatter: a programme that parses prints (`loya fmt`) to text that parses to the same tree,
    and a YAML twin converts back and forth to the same tree."""
    from loyadsl.syntax.parser import parse
    from loyadsl.syntax.printer import format_module
    from loyadsl.syntax.yaml_twin import parse_yaml, to_yaml

    text, file = case["text"], case["file"]
    module, diags = _guard("fmt", lambda: parse_yaml(text, file) if file.endswith(".yaml") else parse(text, file))
    if module is None or any(d.severity == "error" for d in diags):
        return
    printed = _guard("fmt", lambda: format_module(module))
    again, diags = _guard("fmt", lambda: parse(printed, "formatted.loya"))
    errors = [f"{d.code} {d.message[:80]}" for d in diags if d.severity == "error"]
    _contract("fmt", not errors, f"formatted text does not parse: {errors[:1]}", "loyadsl/syntax/printer.py")
    _contract("fmt", again == module, "formatted text parses to another tree", "loyadsl/syntax/printer.py")
    twin = _guard("fmt", lambda: to_yaml(module))
    back, diags = _guard("fmt", lambda: parse_yaml(twin, "twin.yaml"))
    errors = [f"{d.code} {d.message[:80]}" for d in diags if d.severity == "error"]
    _contract("fmt", not errors, f"YAML twin does not parse: {errors[:1]}", "loyadsl/syntax/yaml_twin.py")
    _contract("fmt", back == module, "YAML twin parses to another tree", "loyadsl/syntax/yaml_twin.py")


# ----------------------------------------------------------------------------------------- runtime


def _outcome_json(target: str, outcome: Any) -> dict[str, Any]:
    """What a till writes: the outcome as UTF-8 JSON (a lone surrogate in a name or code cannot be)."""
    data = _guard(target, outcome.to_dict)
    try:
        return json.loads(json.dumps(data, ensure_ascii=False).encode("utf-8"))
    except (UnicodeEncodeError, ValueError) as exc:
        raise Finding(target, "contract", f"the outcome is not UTF-8 JSON: {type(exc).__name__}",
                      "runtime/model.py (Outcome.to_dict)") from exc


def _state_json(state: Any) -> None:
    """What a host stores: the customer state as UTF-8 JSON."""
    data = _guard("customer", state.to_dict)
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, ValueError) as exc:
        raise Finding("customer", "contract", f"the customer state is not UTF-8 JSON: {type(exc).__name__}",
                      "runtime/state.py (CustomerState.to_dict)") from exc


def bundle(case: Case) -> None:
    """``load_bundle`` of a mutated bundle; if accepted, ``Engine`` and ``evaluate`` on receipts."""
    from loyadsl.runtime import Engine, load_bundle

    loaded = _guard("bundle", lambda: load_bundle(case["bundle"]))
    if loaded is None:
        return
    engine = _guard("bundle", lambda: Engine(loaded))
    if engine is None:
        return
    for receipt in case["receipts"]:
        outcome = _guard("bundle", lambda r=receipt: engine.evaluate(r))
        if outcome is not None:
            _outcome_json("bundle", outcome)


@cache
def engine_for(programme: str) -> Any:
    from loyadsl.runtime import Engine, load_bundle

    return Engine(load_bundle(corpus.bundle_bytes(programme)))


def receipt(case: Case) -> None:
    """``Receipt.from_dict``, then ``Engine.evaluate`` (with and without explain) of the receipt."""
    from loyadsl.runtime import Receipt

    engine = engine_for(case["programme"])
    parsed = _guard("receipt", lambda: Receipt.from_dict(case["receipt"]))
    if parsed is None:
        return
    for explain in (False, True):
        outcome = _guard("receipt", lambda e=explain: engine.evaluate(parsed, explain=e))
        if outcome is not None:
            _outcome_json("receipt", outcome)


def customer(case: Case) -> None:
    """A customer's state read, a receipt evaluated against it, the outcome applied, the receipt
    returned (in part or whole) and the refund applied; then the clock advanced."""
    from loyadsl.runtime.model import Receipt
    from loyadsl.runtime.state import CustomerState, apply

    engine = engine_for(case["programme"])
    decls = engine.bundle.state
    state = _guard("customer", lambda: CustomerState.from_dict(case["customer"], decls))
    if state is None:
        return
    parsed = _guard("customer", lambda: Receipt.from_dict(case["receipt"]))
    if parsed is None:
        return
    outcome = _guard("customer", lambda: engine.evaluate(parsed, state))
    if outcome is None:
        return
    _outcome_json("customer", outcome)
    after = _guard("customer", lambda: apply(state, outcome.changes or (), decls))
    if after is None:
        return
    _state_json(after)
    try:
        later = parsed.datetime + dt.timedelta(seconds=case.get("later", 0))
    except OverflowError:  # past year 9999: the return comes at the receipt's own time
        later = parsed.datetime
    returned = None if case.get("return_all") else case.get("returned")
    if case.get("returned") is not None or case.get("return_all"):
        stored = _outcome_json("customer", outcome)
        refund = _guard("customer", lambda: engine.refund(stored, returned, after, later))
        if refund is not None:
            _guard("customer", lambda: apply(after, refund.changes, decls))
            _guard("customer", lambda: json.dumps(refund.to_dict(), ensure_ascii=False).encode("utf-8"))
    _guard("customer", lambda: engine.advance(after, later))


def jsonio(case: Case) -> None:
    """``runtime.jsonio.load`` of raw text or bytes, under the receipt limits."""
    from loyadsl.runtime import jsonio as io
    from loyadsl.runtime.limits import MAX_RECEIPT_BYTES

    _guard("jsonio", lambda: io.load(case["data"], code="LOY501", what="receipt", max_bytes=MAX_RECEIPT_BYTES,
                                     floats=case["floats"]))


TARGETS: dict[str, Callable[[Case], None]] = {
    "check": check, "fmt": fmt, "bundle": bundle, "receipt": receipt, "customer": customer, "jsonio": jsonio,
}


def run(target: str, case: Case) -> None:
    TARGETS[target](case)


def refused(target: str, case: Case) -> bool:
    """Whether the target's reader refuses the input with a coded error (for a stall's regression:
    the fix for an input too big to handle quickly is a limit at the edge, runtime/limits.py)."""
    from loyadsl import api
    from loyadsl.runtime import LoyaError, Receipt, load_bundle
    from loyadsl.runtime import jsonio as io
    from loyadsl.runtime.state import CustomerState

    readers: dict[str, Callable[[], Any]] = {
        "check": lambda: api.check_text(case["text"], case["file"]),
        "fmt": lambda: api.check_text(case["text"], case["file"]),
        "bundle": lambda: load_bundle(case["bundle"]),
        "receipt": lambda: Receipt.from_dict(case["receipt"]),
        "customer": lambda: (CustomerState.from_dict(case["customer"]), Receipt.from_dict(case["receipt"])),
        "jsonio": lambda: io.load(case["data"], code="LOY501", what="receipt", max_bytes=1 << 30),
    }
    try:
        result = readers[target]()
    except LoyaError:
        return True
    return target in ("check", "fmt") and not result.ok


def warm_up() -> None:
    """Read the corpus and build the engines the targets use, so no case pays for them (a case that
    did would look like a stall)."""
    from loyadsl import api
    from loyadsl.syntax.yaml_twin import parse_yaml

    corpus.sources(), corpus.yaml_sources(), corpus.bundle_bases(), corpus.receipts()
    from .strategies import RECEIPT_PROGRAMMES

    for programme in {*RECEIPT_PROGRAMMES, *(journey.programme for journey in corpus.journeys())}:
        engine_for(programme)
    for source in corpus.sources()[:3]:
        api.check_text(source.text, "warm.loya")
    parse_yaml(corpus.yaml_sources()[0].text, "warm.yaml")


# ------------------------------------------------------------------------------ cases as JSON files


def encode(value: Any) -> Any:
    """A case as plain JSON (bytes as ``{"$bytes": base64}``); lone surrogates survive as escapes."""
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return value


def decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$bytes"}:
            return base64.b64decode(value["$bytes"])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True, indent=1)
