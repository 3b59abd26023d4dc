"""Benchmarks of the spine: compile time, evaluation throughput and latency, and the six mechanics
against hand-written Python. Prints figures; asserts nothing about time (tests do not time things).

    python bench/run.py                 # everything, 100,000 receipts for the six mechanics
    python bench/run.py --receipts 20000 --only six
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from genprog import programme  # noqa: E402
from handwritten import SixMechanics  # noqa: E402

from loyadsl.api import check_text, compile_file, compile_text  # noqa: E402
from loyadsl.runtime import Engine, load_bundle  # noqa: E402

GENERATOR = ROOT.parent / "shared" / "bench" / "gen_receipts.py"
OUT = HERE / "out"


def receipts_for(n: int, seed: int = 20251) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    folder = OUT / f"receipts_{n}_{seed}"
    if not (folder / "receipts.jsonl").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(GENERATOR), "-n", str(n), "--seed", str(seed), "--out", str(folder)],
                       check=True, stdout=subprocess.DEVNULL)
    with (folder / "receipts.jsonl").open(encoding="utf-8") as fh:
        receipts = [json.loads(line) for line in fh]
    params = json.loads((folder / "params.json").read_text(encoding="utf-8"))
    return receipts, params


def best_of(runs: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def consume(evaluate: Callable[[dict[str, Any]], object], receipts: list[dict[str, Any]]) -> None:
    for r in receipts:
        evaluate(r)


def six_mechanics_engine(params: dict[str, Any]) -> Engine:
    work = OUT / "six"
    work.mkdir(parents=True, exist_ok=True)
    shutil.copy(HERE / "six_mechanics.loya", work / "six_mechanics.loya")
    (work / "c_skus.csv").write_text("sku\n" + "\n".join(params["c_skus"]) + "\n", encoding="utf-8")
    (work / "e_stores.csv").write_text("store\n" + "\n".join(params["e_stores"]) + "\n", encoding="utf-8")
    data, result = compile_file(work / "six_mechanics.loya")
    if data is None:
        raise SystemExit("six_mechanics.loya does not compile:\n" + "\n".join(map(str, result.diagnostics)))
    return Engine(load_bundle(data))


def six_from_outcome(outcome: Any, n_lines: int) -> dict[str, Any]:
    """The six results from an outcome: each campaign's requested amounts (they are independent)."""
    result: dict[str, Any] = {"a": 0, "b": 0, "c": 0, "d": 0, "d_alloc": [0] * n_lines, "e": 0, "f": 0}
    for effect in outcome.effects:
        result[effect.campaign] = sum(effect.requested)
        if effect.campaign == "d":
            result["d_alloc"] = list(effect.requested)
    return result


def bench_six(n: int) -> None:
    receipts, params = receipts_for(n)
    engine = six_mechanics_engine(params)
    hand = SixMechanics(params)
    mismatches = 0
    for r in receipts:
        ours = six_from_outcome(engine.evaluate(r), len(r["lines"]))
        theirs = hand.evaluate(r)
        if ours != theirs:
            mismatches += 1
            if mismatches <= 3:
                print(f"  MISMATCH {r['receipt_id']}: loya {ours} hand {theirs}")
    print(f"six mechanics over {n:,} receipts: {n - mismatches:,} agree, {mismatches} differ")
    if mismatches:
        raise SystemExit("results differ: timing does not count")
    # A till evaluates a receipt and lets the outcome go, so both sides discard their results; the
    # receipts themselves are static input, frozen out of the garbage collector's generations.
    gc.freeze()
    t_loya = best_of(3, lambda: consume(engine.evaluate, receipts))
    t_hand = best_of(3, lambda: consume(hand.evaluate, receipts))
    gc.unfreeze()
    print(f"  hand-written Python: {t_hand:.2f} s  ({n / t_hand:,.0f} receipts/s, {t_hand / n * 1e6:.1f} µs/receipt)")
    print(f"  compiled .loya:      {t_loya:.2f} s  ({n / t_loya:,.0f} receipts/s, {t_loya / n * 1e6:.1f} µs/receipt)")
    print(f"  ratio loya / hand-written: {t_loya / t_hand:.2f}x (target <= 2x)")


def bench_compile(n: int = 1000) -> None:
    text = programme(n)
    t_check = best_of(3, lambda: check_text(text, "generated.loya"))
    t_compile = best_of(3, lambda: compile_text(text, "generated.loya"))
    data, result = compile_text(text, "generated.loya")
    assert data is not None, result.diagnostics[:3]
    t_load = best_of(3, lambda: Engine(load_bundle(data)))
    print(f"check of a {n:,}-campaign programme ({len(text) / 1024:.0f} KiB): {t_check:.2f} s")
    print(f"check + compile to a bundle: {t_compile:.2f} s (target < 3 s); bundle {len(data) / 1024:.0f} KiB")
    print(f"POS load (digest, structure, verify, JIT): {t_load:.2f} s")


def latency(engine: Engine, receipts: list[dict[str, Any]], customers: dict[str, dict[str, Any]],
            label: str, rounds: int) -> None:
    samples: list[int] = []
    evaluate = engine.evaluate
    clock = time.perf_counter_ns
    for _ in range(rounds):
        for r in receipts:
            customer = customers.get(r.get("customer_id") or "")
            start = clock()
            evaluate(r, customer)
            samples.append(clock() - start)
    samples.sort()
    total_s = sum(samples) / 1e9
    p50 = samples[len(samples) // 2] / 1000
    p99 = samples[int(len(samples) * 0.99)] / 1000
    print(f"{label}: {len(samples):,} evaluations, {len(samples) / total_s:,.0f} receipts/s, "
          f"p50 {p50:.0f} µs, p99 {p99:.0f} µs, mean {statistics.fmean(samples) / 1000:.0f} µs")


def twenty_line_receipts(receipts: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """Receipts of exactly 20 lines, made by pooling the generator's lines in order."""
    pool = [line for r in receipts for line in r["lines"]]
    out = []
    for i in range(count):
        base = receipts[i % len(receipts)]
        lines = [dict(pool[(i * 20 + k) % len(pool)], line_no=k + 1) for k in range(20)]
        out.append({**base, "receipt_id": f"T{i:06d}", "lines": lines})
    return out


def bench_eval() -> None:
    example = ROOT / "examples" / "supermarket"
    data, result = compile_file(example / "programme.loya")
    assert data is not None, result.diagnostics[:3]
    engine = Engine(load_bundle(data))
    records = [json.loads(line) for line in (example / "receipts.jsonl").open(encoding="utf-8")]
    receipts = [r for r in records if "return_of" not in r]  # returns are refunds (Engine.refund), not sales
    customers = {c["id"]: c for c in map(json.loads, (example / "customers.jsonl").open(encoding="utf-8"))}
    latency(engine, receipts, customers, f"example bundle ({len(engine.bundle.campaigns)} campaigns, "
            f"{statistics.fmean(len(r['lines']) for r in receipts):.1f} lines avg)", rounds=20)

    data, result = compile_text(programme(200, seed=7), "generated200.loya")
    assert data is not None, result.diagnostics[:3]
    engine = Engine(load_bundle(data))
    base, _ = receipts_for(2000)
    receipts = twenty_line_receipts(base, 2000)
    customers = {r["customer_id"]: {"id": r["customer_id"], "tier": "gold" if i % 3 == 0 else "silver"}
                 for i, r in enumerate(receipts) if r.get("customer_id")}
    latency(engine, receipts, customers, "generated 200-campaign bundle, 20-line receipts", rounds=3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--receipts", type=int, default=100_000, help="receipts for the six mechanics")
    parser.add_argument("--only", choices=["six", "compile", "eval"], help="run one benchmark")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}")
    if args.only in (None, "compile"):
        bench_compile()
    if args.only in (None, "eval"):
        bench_eval()
    if args.only in (None, "six"):
        bench_six(args.receipts)


if __name__ == "__main__":
    main()
