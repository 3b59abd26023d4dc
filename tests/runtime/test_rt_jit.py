"""The code generator (runtime/jit.py) and the runtime's dependency boundary."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rt_asm import TRUE, bundle_bytes, campaign, cat_in, line, receipt, sku_in

from loyadsl.runtime import Engine
from loyadsl.runtime import engine as engine_module

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = "__import__('os').system('touch /tmp/loyadsl-pwned') or '\\n'"


def test_constants_never_become_source_text() -> None:
    e = Engine.from_bytes(bundle_bytes([
        campaign("x", [("CONST", 1), ("DISCOUNT_AMOUNT", [("LINE", "sku"), ("CONST", HOSTILE), ("EQ",)])],
                 condition=[("CONST", {HOSTILE, "')"}), ("CUSTOMER", "segments"), ("SUBSET_ANY",), ("NOT",)],
                 audience=[("CUSTOMER_ATTR", HOSTILE), ("CONST", ""), ("EQ",)]),
    ]))
    assert HOSTILE not in e.program.source and "__import__" not in e.program.source and "os" not in e.program.source
    o = e.evaluate(receipt(line(HOSTILE, 100), line("B", 50)))
    assert o.effects[0].requested == (1, 0)
    assert not Path("/tmp/loyadsl-pwned").exists()


def test_generated_code_is_straight_python() -> None:
    e = Engine.from_bytes(bundle_bytes([
        campaign("x", [("CONST", 10), ("DISCOUNT_AMOUNT", [*cat_in("dairy"), ("NOT",)])]),
        campaign("y", [("CONST", 10), ("DISCOUNT_AMOUNT", TRUE)], hours=[3600, 7200]),
    ]))
    src = e.program.source
    assert "def m0(ls, cu):\n    return [l for l in ls if (not C" in src  # a list comprehension, memoised category
    assert "def m1(ls, cu):\n    return ls" in src  # constantly true: the lines themselves
    assert "if not F1_h0 <= r.time < F1_h1: return 'outside_hours'" in src


def test_each_predicate_runs_once_per_receipt(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    class Counting(engine_module._Matches):  # the driver fills the per-receipt cache itself, the general loop
        def __setitem__(self, i: int, found: Any) -> None:  # through the matchers: both store each result once
            calls.append(i)
            super().__setitem__(i, found)

    monkeypatch.setattr(engine_module, "_Matches", Counting)  # (an engine's cache type is made when it is built)
    shared = sku_in("A", "B")
    e = Engine.from_bytes(bundle_bytes([
        campaign("one", [("CONST", 10), ("DISCOUNT_AMOUNT", shared)], condition=[("COUNT", shared), ("CONST", 1),
                                                                                ("GE",)]),
        campaign("two", [("CONST", 1), ("CONST", 2), ("FREE_UNITS", shared)]),
        campaign("three", [("CONST", 100000), ("ACCRUE_TOTAL", shared)]),
    ]))
    for explain in (False, True):
        calls.clear()
        e.evaluate(receipt(line("A", 100, 2), line("C", 10)), explain=explain)
        assert calls == [0]


def test_the_runtime_imports_no_compiler_and_no_heavy_dependency() -> None:
    code = "import sys, json, loyadsl.runtime as r; r.Engine; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    modules = set(json.loads(out))
    for heavy in ("lark", "jinja2", "typer", "rich", "cryptography", "yaml"):
        assert not any(m == heavy or m.startswith(heavy + ".") for m in modules), heavy
    ours = {m for m in modules if m == "loyadsl" or m.startswith("loyadsl.")}
    assert ours - {"loyadsl"} and all(m == "loyadsl" or m.startswith("loyadsl.runtime") for m in ours), ours
    assert "runtime" not in modules  # never a bare top-level import name


def test_values_through_if_else_and_guarded_actions() -> None:
    lines_ge_2 = [("RECEIPT", "lines"), ("CONST", 2), ("GE",)]
    e = Engine.from_bytes(bundle_bytes([
        # (100 if lines >= 2 else 5) > 50
        campaign("ternary", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)],
                 condition=[*lines_ge_2, ("IF",), ("CONST", 100), ("ELSE",), ("CONST", 5), ("END",), ("CONST", 50),
                            ("GT",)]),
        # two values from each arm, then added: (10 + 20 if lines >= 2 else 1 + 2) applied as an amount
        campaign("pair", [*lines_ge_2, ("IF",), ("CONST", 10), ("CONST", 20), ("ELSE",), ("CONST", 1), ("CONST", 2),
                          ("END",), ("ADD",), ("DISCOUNT_AMOUNT", TRUE)]),
        # an action inside an AND: runs only when the customer is known
        campaign("guarded", [("CUSTOMER", "known"), ("AND",), ("CONST", 7), ("DISCOUNT_AMOUNT", TRUE),
                             ("CONST", True), ("END",), ("IF",), ("END",)]),
        # an IF inside a pure OR chain (hoisted) and a predicate with statements
        campaign("hoisted", [("CONST", 3), ("DISCOUNT_AMOUNT", [("LINE", "qty"), ("CONST", 2000), ("GE",), ("IF",),
                                                               ("CONST", True), ("ELSE",), ("LINE", "sku"),
                                                               ("CONST", "B"), ("EQ",), ("END",)])],
                 condition=[("CONST", False), ("OR",), *lines_ge_2, ("IF",), ("CONST", 1), ("ELSE",), ("CONST", 0),
                            ("END",), ("CONST", 1), ("EQ",), ("END",)]),
    ]))
    two = receipt(line("A", 100, 2), line("B", 100, 1), customer="C1")
    o = e.evaluate(two)
    amounts = {x.campaign: x.requested for x in o.effects}
    assert amounts == {"ternary": (1, 0), "pair": (20, 10), "guarded": (5, 2), "hoisted": (2, 1)}
    one = e.evaluate(receipt(line("A", 100, 1)))
    assert {x.campaign: x.requested for x in one.effects} == {"pair": (3,)}
    assert {r.campaign: r.reason for r in one.rejected} == {"ternary": "condition_false", "guarded": "no_effect",
                                                            "hoisted": "condition_false"}


def test_an_unverified_bundle_is_verified_before_it_runs() -> None:
    from dataclasses import replace

    import pytest

    from loyadsl.runtime import BundleError, load_bundle

    good = load_bundle(bundle_bytes([campaign("x", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)])]))
    bad = replace(good, bytecode_verified=False, predicates=((("LINE", "sku"), ("RET",)),))
    with pytest.raises(BundleError) as info:
        Engine(bad)
    assert info.value.code == "LOY405"
