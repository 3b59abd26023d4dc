"""Hostile bundles and receipts: what a till that loads bundles it did not compile may meet, at the
limits of runtime/limits.py. Prints, for each adversarial bundle, its load time (per MB) and its worst
evaluation time over adversarial-but-valid receipts, next to its static cost bound, so the time per
cost unit (and so the time docs/bundle.md states for MAX_STATIC_COST) can be checked. Asserts nothing
about time (tests do not time things).

    python bench/hostile.py            # every shape
    python bench/hostile.py --quick    # smaller bundles, 1,000-line receipts

The bundles are assembled with the runtime tests' assembler (tests/runtime/rt_asm.py) and sized to
sit just under MAX_STATIC_COST, so the verifier accepts them: the worst a valid bundle can do.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "runtime"))

from rt_asm import TRUE, bundle_bytes, campaign, cat_in, group, line, receipt, sku_in  # noqa: E402
from run import best_of as best  # noqa: E402  (bench/run.py: the one timing helper)

from loyadsl.runtime import Engine, load_bundle  # noqa: E402
from loyadsl.runtime.limits import (  # noqa: E402
    MAX_CAMPAIGNS,
    MAX_CATEGORY_LEVELS,
    MAX_RECEIPT_LINES,
    MAX_STATIC_COST,
    MAX_TEXT_CHARS,
    MAX_VALUE,
)
from loyadsl.runtime.model import Receipt  # noqa: E402

Code = list[tuple[Any, ...]]


# ------------------------------------------------------------------------------------ bundles


def chain(terms: int, word: str = "AND") -> bytes:
    """One campaign whose condition is a flat chain of ``terms`` comparisons: the longest code."""
    cond: Code = [("RECEIPT", "total"), ("CONST", 0), ("GE",)]
    for i in range(terms):
        cond += [(word,), ("RECEIPT", "total"), ("CONST", i), ("GE",), ("END",)]
    return bundle_bytes([campaign("chain", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)], condition=cond)])


def nested(depth: int) -> bytes:
    """AND inside AND inside ...: the deepest code (the JIT must spill it into temporaries)."""
    cond: Code = [("RECEIPT", "total"), ("CONST", 0), ("GE",)]
    for i in range(depth):
        cond += [("AND",), ("RECEIPT", "total"), ("CONST", i), ("GE",)]
    cond += [("END",)] * depth
    return bundle_bytes([campaign("nested", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)], condition=cond)])


def arithmetic(count: int) -> bytes:
    """The biggest numbers the verifier allows: products of receipt totals near MAX_INTERMEDIATE,
    computed ``count`` times in a condition."""
    big: Code = [("RECEIPT", "total"), ("RECEIPT", "total"), ("MUL",), ("CONST", 5), ("MULDIV", [7, "floor"])]
    cond: Code = [("CONST", True)]
    for _ in range(count):
        cond += [("AND",), *big, ("CONST", 0), ("NE",), ("END",)]
    return bundle_bytes([campaign("arith", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)], condition=cond)])


def per_line_cost(data: bytes) -> tuple[int, int]:
    b = load_bundle(data)
    return b.cost_fixed, b.cost_per_line


def many(make: Callable[[int], dict[str, Any]], cap: int = MAX_CAMPAIGNS) -> bytes:
    """As many campaigns ``make(i)`` as the static cost allows (at most ``cap``)."""
    costs = [per_line_cost(bundle_bytes([make(i)], [group("g", stacking="best_for_customer")])) for i in range(4)]
    n = min(cap, MAX_STATIC_COST // max(fixed + per_line * MAX_RECEIPT_LINES for fixed, per_line in costs))
    return bundle_bytes([make(i) for i in range(n)], [group("g", stacking="best_for_customer")])


def line_discounts(i: int) -> dict[str, Any]:
    return campaign(f"lines{i}", [("CONST", 1000 + i), ("DISCOUNT_LINES", cat_in(f"c{i % 7}", "c"))])


def unit_mechanics(i: int) -> dict[str, Any]:
    actions: list[Code] = [
        [("CONST", 1), ("CONST", 2), ("FREE_UNITS", cat_in("c"))],
        [("CONST", 10**6), ("FREE_CHEAPEST", cat_in("c"))],
        [("CONST", 5000), ("COMBO", {"parts": [(cat_in("c"), 1), (sku_in(*(f"S{k}" for k in range(0, 50))), 2)],
                                     "reward": "amount_per_set"})],
        [("CONST", 7), ("DISCOUNT_PER_UNIT", cat_in("c"))],
    ]
    return campaign(f"units{i}", actions[i % len(actions)])


def points(i: int) -> dict[str, Any]:
    return campaign(f"points{i}", [("CONST", 10**6 + i), ("ACCRUE_TOTAL", TRUE), ("CONST", 10**9), ("ACCRUE_FIXED",
                                                                                                     cat_in("c"))])


def cheap(i: int) -> dict[str, Any]:
    """A campaign rejected by its condition: the most campaigns a bundle can hold."""
    return campaign(f"cheap{i}", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)],
                    condition=[("RECEIPT", "total"), ("CONST", MAX_VALUE), ("GT",)])


# ------------------------------------------------------------------------------------ receipts


def receipts(lines: int) -> dict[str, Receipt]:
    """Valid receipts at the limits: max lines, long strings, deep categories, big quantities."""
    long = "x" * (MAX_TEXT_CHARS - 8)
    level = "d" * (MAX_TEXT_CHARS // MAX_CATEGORY_LEVELS - 1)  # the most levels, each as long as allowed
    deep = "/".join(["c"] + [level] * (MAX_CATEGORY_LEVELS - 1))
    out = {
        "plain": [line(f"S{k}", 1000 + k % 97, 1 + k % 5, category="c") for k in range(lines)],
        "long strings": [line(f"S{k}{long}", 1000 + k, 3, category=f"c/{long}{k}", brand=long) for k in range(lines)],
        "deep categories": [line(f"S{k}", 999, 2, category=deep[:-6] + f"{k:06d}") for k in range(lines)],
        "many units": [line(f"S{k % 50}", 10 + k, 100_000 + k, category="c") for k in range(lines)],
    }
    return {name: Receipt.from_dict(receipt(*items)) for name, items in out.items()}


# ------------------------------------------------------------------------------------ measuring


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    scale = 8 if args.quick else 1
    lines = 1000 if args.quick else MAX_RECEIPT_LINES
    shapes: list[tuple[str, Callable[[], bytes]]] = [
        ("flat AND chain", lambda: chain(64_000 // scale)),
        ("flat OR chain", lambda: chain(64_000 // scale, "OR")),
        ("nested AND", lambda: nested(16_000 // scale)),
        ("big arithmetic", lambda: arithmetic(8_000 // scale)),
        ("most campaigns (rejected)", lambda: many(cheap)),
        ("line discounts", lambda: many(line_discounts)),
        ("unit mechanics", lambda: many(unit_mechanics)),
        ("points", lambda: many(points)),
    ]
    tests = receipts(lines)
    print(f"python {sys.version.split()[0]}; receipts of {lines:,} lines: {', '.join(tests)}")
    worst_mb = worst_receipt = worst_unit = 0.0
    for name, make in shapes:
        data = make()
        mb = len(data) / 1e6
        load = best(2, lambda: Engine(load_bundle(data)))  # noqa: B023 - called before the loop moves on
        engine = Engine(load_bundle(data))
        b = engine.bundle
        evaluate = engine.evaluate
        evaluate(tests["plain"])  # warm the engine's caches (categories, time zone offsets)
        runs = 1 if b.cost_per_line * lines > 10**7 else 3  # the slow shapes once, the fast ones best of 3
        worst = max((best(runs, lambda r=r, run=evaluate: run(r)), label) for label, r in tests.items())  # type: ignore[misc]
        units = b.cost_fixed + b.cost_per_line * lines
        per_unit = worst[0] / units * 1e9
        worst_mb = max(worst_mb, load / mb)
        worst_receipt = max(worst_receipt, worst[0])
        worst_unit = max(worst_unit, per_unit)
        print(f"{name:26} {len(b.campaigns):5} campaigns {mb:6.2f} MB  load {load:6.2f} s ({load / mb:4.2f} s/MB)  "
              f"worst receipt {worst[0] * 1e3:8.2f} ms ({worst[1]})  bound {units:>11,} units  {per_unit:5.1f} ns/unit")
    print(f"worst load: {worst_mb:.2f} s per MB (target < 1 s)")
    print(f"worst receipt: {worst_receipt * 1e3:.1f} ms for {lines:,} lines")
    print(f"worst time per cost unit: {worst_unit:.1f} ns, so MAX_STATIC_COST ({MAX_STATIC_COST:,}) "
          f"is at most {MAX_STATIC_COST * worst_unit / 1e9:.1f} s per receipt")


if __name__ == "__main__":
    main()
