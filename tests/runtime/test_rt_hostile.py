"""Hostile bundles: a real bundle (the supermarket example) mutated field by field, its digest
recomputed so integrity passes, must be refused with a coded error at the right JSON path, or load
and evaluate; never a LOY999, an uncaught exception or a stall. Also the limits the loader and the
verifier enforce: integer range and digits (LOY408), size, depth and campaigns (LOY409), the
magnitude proof (LOY410), the static cost cap (LOY411), unique names, and a linear JIT."""

from __future__ import annotations

import copy
import hashlib
import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rt_asm import TRUE, bundle_bytes, campaign, receipt, set_at
from rt_asm import line as rline

from loyadsl.api import compile_file
from loyadsl.runtime import BundleError, Engine, LoyaError, load_bundle, pack_bundle
from loyadsl.runtime import bundle as bundle_module
from loyadsl.runtime.bundle import MAGIC, canonical_json
from loyadsl.runtime.jit import CHAIN_PARTS, CategoryMemo, category_in
from loyadsl.runtime.limits import MAX_INT_DIGITS, MAX_JSON_DEPTH, MAX_VALUE

verify_module = importlib.import_module("loyadsl.runtime.verify")  # the package exports the function
engine_module = importlib.import_module("loyadsl.runtime.engine")
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "supermarket"
RECEIPTS = [json.loads(text) for text in (EXAMPLE / "receipts.jsonl").read_text(encoding="utf-8").splitlines()[:40]]


@pytest.fixture(scope="module")
def real() -> dict[str, Any]:
    data, result = compile_file(EXAMPLE / "programme.loya")
    assert data is not None, result.diagnostics[:3]
    return json.loads(data.split(b"\n", 2)[2])


def deep(levels: int) -> Any:
    value: Any = 0
    for _ in range(levels):
        value = [value]
    return value


def const_at(p: dict[str, Any], value: Any) -> int:
    return next(i for i, k in enumerate(p["constants"]) if k == value)


# (JSON path, new value, expected code or None when it must load and evaluate, expected where)
MUTATIONS: list[tuple[list[Any], Any, str | None, str | None]] = [
    # integers beyond MAX_VALUE, anywhere: constants, settings, footprints, state, code operands
    (["constants", "@50000"], MAX_VALUE + 1, "LOY408", "constants[@50000]"),
    (["constants", "@50000"], -(MAX_VALUE + 1), "LOY408", "constants[@50000]"),
    (["constants", "@50000"], 10**4299, "LOY408", "constants[@50000]"),
    (["constants", "@50000"], MAX_VALUE, None, None),
    (["settings", "point_value"], 10**4000, "LOY408", "settings.point_value"),
    (["settings", "point_value"], MAX_VALUE + 1, "LOY408", "settings.point_value"),
    (["campaigns", 0, "footprint", "min_total"], -10**20, "LOY408", "campaigns[0].footprint.min_total"),
    (["campaigns", 0, "span", "line"], 10**30, "LOY408", "campaigns[0].span.line"),
    (["campaigns", 0, "priority"], -10**16, "LOY408", "campaigns[0].priority"),
    (["campaigns", 0, "limits", "discount"], 10**16, "LOY408", "campaigns[0].limits.discount"),
    (["campaigns", 0, "actions", 0, 1], 10**16, "LOY408", "campaigns[0].actions[0][1]"),
    (["state", "accounts", 0, "credit"], 10**16, "LOY408", "state.accounts[0].credit"),
    (["state", "tiers", "levels", 1, "threshold"], 10**18, "LOY408", "state.tiers.levels[1].threshold"),
    (["cost", "per_line"], 10**17, "LOY408", "cost.per_line"),
    # durations and dates keep date arithmetic within datetime's range
    (["state", "accounts", 0, "activation"], 2**40, "LOY404", "state.accounts[0].activation"),
    (["state", "accounts", 0, "notify"], 2**40, "LOY404", "state.accounts[0].notify"),
    (["state", "accounts", 0, "expiry"], {"kind": "after", "seconds": 2**40}, "LOY404",
     "state.accounts[0].expiry.seconds"),
    (["state", "coupons", 0, "valid_for"], 2**40, "LOY404", "state.coupons[0].valid_for"),
    (["campaigns", 0, "footprint", "dates"], [1, 3652059], "LOY404", "campaigns[0].footprint.dates[0]"),
    # names that are keys: unique, never empty
    (["campaigns", 1, "name"], "@name0", "LOY404", "campaigns[1].name"),
    (["campaigns", 1, "name"], "", "LOY404", "campaigns[1].name"),
    (["groups", 1, "name"], "@group0", "LOY404", "groups[1].name"),
    (["state", "counters", 1, "name"], "@counter0", "LOY404", "state.counters[1].name"),
    (["state", "coupons", 0, "name"], "", "LOY404", "state.coupons[0].name"),
    # kinds, indexes, nesting, odd text
    (["settings", "minor"], "2", "LOY404", "settings.minor"),
    (["settings", "minor"], 19, "LOY404", "settings.minor"),
    (["settings", "points_minor"], -1, "LOY404", "settings.points_minor"),
    (["settings", "point_value"], 0, "LOY404", "settings.point_value"),
    (["settings", "timezone"], "../../etc/passwd", "LOY404", "settings.timezone"),
    (["campaigns", 0, "group"], 99, "LOY404", "campaigns[0].group"),
    (["campaigns", 0, "group"], True, "LOY404", "campaigns[0].group"),
    (["campaigns", 0, "footprint", "hours"], [0, 10**6], "LOY404", "campaigns[0].footprint.hours[1]"),
    (["campaigns", 0, "footprint", "weekdays"], [0], "LOY404", "campaigns[0].footprint.weekdays[0]"),
    (["campaigns", 0, "title"], deep(MAX_JSON_DEPTH + 5), "LOY409", None),
    (["campaigns", 0, "title"], "Скидка 🎉 \u202e\u0000", None, None),
    (["campaigns", 0, "name"], "名前 with spaces and 'quotes'\n", None, None),
    (["campaigns", 0, "actions", 0, 1], 10**9, "LOY405", None),
    (["campaigns", 0, "actions"], [["RET"]], "LOY405", None),
    (["campaigns", 0, "actions", 0], ["CONST"], "LOY405", None),
    (["campaigns", 0, "condition"], [["RECEIPT", "total"], ["RECEIPT", "total"], ["MUL"], ["RECEIPT", "total"],
                                     ["MUL"], ["CONST", 0], ["GT"], ["RET"]], "LOY410", None),
    (["predicates", 0], [["LINE", "price"], ["LINE", "price"], ["MUL"], ["LINE", "amount"], ["MUL"], ["LINE", "qty"],
                         ["MUL"], ["CONST", 0], ["GT"], ["RET"]], "LOY410", None),
    (["constants"], [], "LOY405", None),
]


def resolve(p: dict[str, Any], path: list[Any], value: Any) -> tuple[list[Any], Any]:
    """``@50000`` in a path is the index of the constant 50000; ``@name0`` etc. a sibling's name."""
    path = [const_at(p, int(k[1:])) if isinstance(k, str) and k.startswith("@") else k for k in path]
    names = {"@name0": p["campaigns"][0]["name"], "@group0": p["groups"][0]["name"],
             "@counter0": p["state"]["counters"][0]["name"]}
    return path, names.get(value, value) if isinstance(value, str) else value


@pytest.mark.parametrize(("path", "value", "expected", "where"), MUTATIONS,
                         ids=[f"{'.'.join(map(str, m[0]))}={str(m[1])[:12]}" for m in MUTATIONS])
def test_a_mutated_real_bundle_is_refused_where_or_evaluates(real: dict[str, Any], path: list[Any], value: Any,
                                                              expected: str | None, where: str | None) -> None:
    p = copy.deepcopy(real)
    path, value = resolve(p, path, value)
    set_at(p, path, value)
    if expected is None:
        engine = Engine(load_bundle(pack_bundle(p)))
        for r in RECEIPTS:
            json.dumps(engine.evaluate(r).to_dict(), ensure_ascii=False)
        return
    with pytest.raises(BundleError) as info:
        load_bundle(pack_bundle(p))
    assert info.value.code == expected, info.value.message
    if where is not None:
        index = const_at(real, 50000)
        assert info.value.where == where.replace("@50000", str(index)), info.value.message


def test_too_many_digits_are_refused_before_converting() -> None:
    body = b'{"constants": [' + b"9" * (MAX_INT_DIGITS + 1) + b"]}"
    env = {"digest": "sha256:" + hashlib.sha256(body).hexdigest(), "format_version": 2,
           "signature": None}
    with pytest.raises(BundleError, match=f"an integer of {MAX_INT_DIGITS + 1} digits") as info:
        load_bundle(MAGIC + canonical_json(env) + b"\n" + body)
    assert (info.value.code, info.value.where) == ("LOY408", "constants[0]")


def test_size_depth_and_campaign_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    data = bundle_bytes([campaign("x", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)])])
    monkeypatch.setattr(bundle_module, "MAX_BUNDLE_BYTES", len(data) - 1)
    with pytest.raises(BundleError, match="bytes long") as info:
        load_bundle(data)
    assert info.value.code == "LOY409"
    monkeypatch.undo()
    monkeypatch.setattr(bundle_module, "MAX_CAMPAIGNS", 1)
    with pytest.raises(BundleError, match="2 campaigns") as info:
        load_bundle(bundle_bytes([campaign(n, [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)]) for n in "ab"]))
    assert (info.value.code, info.value.where) == ("LOY409", "campaigns")
    body = b"[" * 100_000 + b"]" * 100_000
    env = {"digest": "sha256:" + hashlib.sha256(body).hexdigest(), "format_version": 2,
           "signature": None}
    with pytest.raises(BundleError, match="nests deeper") as info:
        load_bundle(MAGIC + canonical_json(env) + b"\n" + body)
    assert info.value.code == "LOY409"


def test_the_static_cost_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Over MAX_STATIC_COST for one line: the bundle is refused at load (LOY411). Under it for one line
    but over it for more: the bundle loads, and the engine takes receipts up to the cap and refuses
    longer ones before any work (LOY520)."""
    data = bundle_bytes([campaign("x", [("CONST", 1), ("DISCOUNT_LINES", TRUE)])])
    b = load_bundle(data)
    assert b.cost_per_line > len(TRUE) + 1  # the action's own work on each line counts
    monkeypatch.setattr(verify_module, "MAX_STATIC_COST", b.cost_fixed + b.cost_per_line - 1)
    with pytest.raises(BundleError, match="units for a receipt of one line") as info:
        load_bundle(data)
    assert info.value.code == "LOY411"
    cap = b.cost_fixed + b.cost_per_line * 3
    monkeypatch.setattr(verify_module, "MAX_STATIC_COST", cap)
    monkeypatch.setattr(engine_module, "MAX_STATIC_COST", cap)
    engine = Engine(load_bundle(data))
    assert engine.evaluate(receipt(*(rline(f"S{k}", 100, 1, category="c") for k in range(3)))).total == 300
    with pytest.raises(LoyaError) as refused:
        engine.evaluate(receipt(*(rline(f"S{k}", 100, 1, category="c") for k in range(4))))
    assert refused.value.code == "LOY520" and "at most 3 lines" in str(refused.value)


@pytest.mark.parametrize(("code", "ok"), [
    ([("RECEIPT", "total"), ("RECEIPT", "total"), ("MUL",), ("CONST", 0), ("GT",)], True),  # 2^124.2
    ([("RECEIPT", "total"), ("RECEIPT", "total"), ("MUL",), ("CONST", 6), ("MULDIV", [1000, "floor"]), ("CONST", 0),
      ("GT",)], True),
    ([("RECEIPT", "total"), ("RECEIPT", "total"), ("MUL",), ("CONST", 70), ("MULDIV", [1000, "floor"]), ("CONST", 0),
      ("GT",)], False),  # the intermediate of MULDIV must fit too
    ([("RECEIPT", "total"), ("RECEIPT", "total"), ("ADD",), ("RECEIPT", "total"), ("MUL",), ("CONST", 0), ("GT",)],
     True),  # 2^125.2
    ([("RECEIPT", "total"), ("RECEIPT", "total"), ("ADD",), ("RECEIPT", "total"), ("MUL",), ("CONST", 4), ("MUL",),
      ("CONST", 0), ("GT",)], False),
    ([("CONST", MAX_VALUE), ("CONST", MAX_VALUE), ("MUL",), ("NEG",), ("CONST", MAX_VALUE), ("MIN",),
      ("CONST", 10**8), ("MUL",), ("CONST", 0), ("GT",)], True),  # 10^38 < 2^127
    ([("CONST", MAX_VALUE), ("CONST", MAX_VALUE), ("MUL",), ("CONST", MAX_VALUE), ("MUL",), ("CONST", 1000),
      ("MUL",), ("CONST", 0), ("GT",)], False),
    # either arm of IF/ELSE may be the value: the larger bound counts
    ([("CONST", True), ("IF",), ("CONST", 1), ("ELSE",), ("RECEIPT", "total"), ("RECEIPT", "total"), ("MUL",),
      ("END",), ("RECEIPT", "total"), ("MUL",), ("CONST", 0), ("GT",)], False),
    ([("CONST", True), ("IF",), ("CONST", 1), ("ELSE",), ("CONST", 2), ("END",), ("RECEIPT", "total"), ("MUL",),
      ("RECEIPT", "total"), ("MUL",), ("CONST", 0), ("GT",)], True),
])
def test_the_verifier_bounds_every_intermediate(code: list[tuple[Any, ...]], ok: bool) -> None:
    data = bundle_bytes([campaign("x", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)], condition=code)])
    if ok:
        Engine(load_bundle(data)).evaluate(receipt(rline("A", MAX_VALUE)))
        return
    with pytest.raises(BundleError, match="may compute an integer of") as info:
        load_bundle(data)
    assert info.value.code == "LOY410" and info.value.where and "condition" in info.value.where


def chain(terms: int, word: str) -> list[tuple[Any, ...]]:
    code: list[tuple[Any, ...]] = [("RECEIPT", "total"), ("CONST", terms), ("EQ",)]
    for i in range(terms):
        code += [(word,), ("RECEIPT", "total"), ("CONST", i), ("EQ" if word == "OR" else "GE",), ("END",)]
    return code


@pytest.mark.parametrize("word", ["AND", "OR"])
def test_long_chains_compile_in_bounded_pieces_and_keep_their_meaning(word: str) -> None:
    terms = 40 * CHAIN_PARTS
    engine = Engine(load_bundle(bundle_bytes([campaign("x", [("CONST", 100), ("DISCOUNT_AMOUNT", TRUE)],
                                                       condition=chain(terms, word))])))
    assert max(text.count(f" {word.lower()} ") for text in engine.program.source.splitlines()) <= 2 * CHAIN_PARTS
    # AND: total >= every i < terms and == terms; OR: total equals one of 0..terms
    hit, miss = (terms, terms - 1) if word == "AND" else (terms // 2, terms + 1)
    assert engine.evaluate(receipt(rline("A", hit))).discount_total == 100
    assert engine.evaluate(receipt(rline("A", miss))).discount_total == 0


def test_deeply_nested_logic_compiles() -> None:
    depth = 5000
    cond: list[tuple[Any, ...]] = [("RECEIPT", "total"), ("CONST", 0), ("GT",)]
    cond += [t for i in range(depth) for t in [("AND",), ("RECEIPT", "total"), ("CONST", i), ("GT",)]]
    cond += [("END",)] * depth
    engine = Engine(load_bundle(bundle_bytes([campaign("x", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)],
                                                       condition=cond)])))
    assert engine.evaluate(receipt(rline("A", depth))).discount_total == 1
    assert engine.evaluate(receipt(rline("A", depth - 1))).discount_total == 0


def loya(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "loyadsl.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def test_the_cli_reports_a_hostile_bundle_instead_of_crashing(real: dict[str, Any], tmp_path: Path) -> None:
    """The bundle whose points did not print: a huge point value and accrual rate."""
    p = copy.deepcopy(real)
    p["settings"]["point_value"] = 10**4200
    p["constants"][const_at(p, 50000)] = 10**4200
    path = tmp_path / "hostile.loyab"
    path.write_bytes(pack_bundle(p))
    receipts = tmp_path / "r.json"
    receipts.write_text(json.dumps(RECEIPTS[0]), encoding="utf-8")
    for args in (("inspect", path), ("eval", path, receipts)):
        result = loya(*args)
        assert result.returncode == 1 and "LOY408" in result.stdout + result.stderr, result.stdout + result.stderr
        assert "LOY999" not in result.stdout + result.stderr


@pytest.mark.parametrize("category", ["dairy", "dairy/milk", "dairyx", "dair", "", "/", "a//b", "a/", "x/dairy",
                                      "dairy/milk/" + "d/" * 500 + "z"])
def test_category_in_matches_the_paths_definition(category: str) -> None:
    members = frozenset({"dairy", "a/", "", "dairy/milk/d"})
    parts = category.split("/")
    by_paths = any("/".join(parts[: i + 1]) in members for i in range(len(parts)))
    assert category_in(members, category) is by_paths
    assert CategoryMemo(members)[category] is by_paths
    assert category_in(members - {""}, category) is any(
        "/".join(parts[: i + 1]) in members - {""} for i in range(len(parts)))
