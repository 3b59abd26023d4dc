"""Benchmarks of the spine: the six mechanics against hand-written Python (dicts, validated receipts
and raw JSON bytes in), latency by programme size, compile and load times, and the replay (through
bench/simulate.py). Prints each figure as it is measured, then one table of them all (the table of
bench/README.md). Asserts nothing about time (tests do not time things).

    python bench/run.py                 # everything, 100,000 receipts for the six mechanics
    python bench/run.py --receipts 20000 --only six
    python bench/run.py --simulate "-n 200000 --customers 20000"   # arguments for bench/simulate.py
    python bench/run.py --only six --callgrind      # the six mechanics in instructions (valgrind)

``--callgrind [N]``: the six mechanics' figures also as instructions per receipt, counted by
``valgrind --tool=callgrind`` (a run of N receipts less a run of none, the same set-up): the same on
a loaded or a slower machine, where the times and their ratio move with the neighbours. With
``--only compile``, the compile of 1,000 campaigns in instructions too (a process that compiles the
programme twice less one that compiles it once, so imports and the grammar's load are not counted).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import callgrind  # noqa: E402
from genprog import programme, targeted  # noqa: E402
from handwritten import SixMechanics  # noqa: E402

from loyadsl.api import check_text, compile_file, compile_text  # noqa: E402
from loyadsl.runtime import DirectoryCache, Engine, Receipt, load_bundle  # noqa: E402

# ../shared/bench beside the checkout; from a worktree (/work/wt/NAME) the project's /work/shared
GENERATOR = next((p for p in (ROOT.parent / "shared" / "bench" / "gen_receipts.py",
                              ROOT.parent.parent / "shared" / "bench" / "gen_receipts.py") if p.is_file()),
                 ROOT.parent / "shared" / "bench" / "gen_receipts.py")
OUT = HERE / "out"
TABLE: list[tuple[str, str, str]] = []  # (what, figure, target): the summary printed at the end


def row(what: str, figure: str, target: str = "") -> None:
    TABLE.append((what, figure, target))


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
    """The least CPU time of ``runs`` runs: on an idle machine the wall time, on a shared one without
    the time the scheduler gave other processes (all figures of one run are measured alike)."""
    times = []
    for _ in range(runs):
        gc.collect()
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
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
    texts = [json.dumps(r).encode() for r in receipts]
    parsed = [Receipt.from_dict(r) for r in receipts]
    gc.freeze()
    t_loya = best_of(3, lambda: consume(engine.evaluate, receipts))
    t_hand = best_of(3, lambda: consume(hand.evaluate, receipts))
    t_parsed = best_of(3, lambda: consume(engine.evaluate, parsed))
    t_decode = best_of(3, lambda: consume(Receipt.from_dict, receipts))
    t_bytes = best_of(3, lambda: consume(lambda b: engine.evaluate(Receipt.from_json(b)), texts))
    t_hand_bytes = best_of(3, lambda: consume(lambda b: hand.evaluate(json.loads(b)), texts))
    t_loads = best_of(3, lambda: consume(json.loads, texts))
    gc.unfreeze()
    us = 1e6 / n
    print(f"  hand-written Python: {t_hand:.2f} s  ({n / t_hand:,.0f} receipts/s, {t_hand * us:.1f} µs/receipt)")
    print(f"  compiled .loya:      {t_loya:.2f} s  ({n / t_loya:,.0f} receipts/s, {t_loya * us:.1f} µs/receipt)")
    print(f"  ratio loya / hand-written: {t_loya / t_hand:.2f}x (target <= 2x)")
    print(f"  of which Receipt.from_dict {t_decode * us:.1f} µs; validated Receipt objects in: {t_parsed * us:.1f} µs")
    print(f"  JSON bytes in: loya {t_bytes * us:.1f} µs, json.loads + hand-written {t_hand_bytes * us:.1f} µs "
          f"({t_bytes / t_hand_bytes:.2f}x; json.loads alone {t_loads * us:.1f} µs)")
    row("six mechanics, dicts in: hand-written", f"{t_hand * us:.1f} µs/receipt")
    row("six mechanics, dicts in: loyadsl", f"{t_loya * us:.1f} µs/receipt, {t_loya / t_hand:.2f}x", "<= 2x (goal 1x)")
    row("  of which decoding (Receipt.from_dict)", f"{t_decode * us:.1f} µs/receipt")
    row("six mechanics, validated Receipt in", f"{t_parsed * us:.1f} µs/receipt, {t_parsed / t_hand:.2f}x")
    row("six mechanics, JSON bytes in", f"{t_bytes * us:.1f} µs/receipt, {t_bytes / t_hand_bytes:.2f}x "
        f"json.loads + hand-written ({t_hand_bytes * us:.1f})", "<= 1.5x")


SIX_WAYS = ("hand-written, dicts in", "loyadsl, dicts in", "loyadsl, validated Receipt in",
            "Receipt.from_dict", "loyadsl, JSON bytes in", "json.loads + hand-written")


WARM = 200  # receipts each callgrind child runs before those it counts: the interpreter specialises its instructions


def six_way(way: str, count: int, pool: int) -> None:
    """A child under callgrind: set up the six mechanics on ``pool`` generated receipts, warm up, then run
    ``way`` on ``count`` of them (0: the set-up alone, which the parent subtracts)."""
    receipts, params = receipts_for(pool)
    engine = six_mechanics_engine(params)
    hand = SixMechanics(params)
    texts = [json.dumps(r).encode() for r in receipts]
    parsed = [Receipt.from_dict(r) for r in receipts]
    work: dict[str, tuple[Callable[[Any], Any], list[Any]]] = {
        SIX_WAYS[0]: (hand.evaluate, receipts), SIX_WAYS[1]: (engine.evaluate, receipts),
        SIX_WAYS[2]: (engine.evaluate, parsed), SIX_WAYS[3]: (Receipt.from_dict, receipts),
        SIX_WAYS[4]: (lambda b: engine.evaluate(Receipt.from_json(b)), texts),
        SIX_WAYS[5]: (lambda b: hand.evaluate(json.loads(b)), texts)}
    fn, data = work[way]
    consume(fn, data[:WARM])
    gc.freeze()
    consume(fn, data[WARM:WARM + count])


def six_instructions(count: int) -> None:
    """Instructions per six-mechanics receipt for each of ``SIX_WAYS`` (see the module's docstring)."""
    pool = WARM + count
    receipts_for(pool)  # generated once, before the children
    env = callgrind.environment()
    child = [sys.executable, __file__, "--six-way"]
    subprocess.run([*child, SIX_WAYS[0], "0", str(pool)], check=True, capture_output=True, env=env)  # .pyc written
    per: dict[str, float] = {}
    for way in SIX_WAYS:
        totals = [callgrind.instructions([*child, way, str(n), str(pool)], OUT / f"callgrind.six.{n}", env)
                  for n in (0, count)]
        per[way] = (totals[1] - totals[0]) / count
        print(f"  {way}: {per[way]:,.0f} instructions/receipt")
    hand, ours = per[SIX_WAYS[0]], per[SIX_WAYS[1]]
    print(f"  ratio loya / hand-written, dicts in: {ours / hand:.2f}x in instructions (target <= 2x)")
    row("six mechanics, dicts in: hand-written (callgrind)", f"{hand:,.0f} instructions/receipt")
    row("six mechanics, dicts in: loyadsl (callgrind)", f"{ours:,.0f} instructions/receipt, {ours / hand:.2f}x",
        "<= 2x (goal 1x)")
    row("  of which decoding (Receipt.from_dict, callgrind)", f"{per[SIX_WAYS[3]]:,.0f} instructions/receipt")
    row("six mechanics, validated Receipt in (callgrind)", f"{per[SIX_WAYS[2]]:,.0f} instructions/receipt, "
        f"{per[SIX_WAYS[2]] / hand:.2f}x")
    row("six mechanics, JSON bytes in (callgrind)", f"{per[SIX_WAYS[4]]:,.0f} instructions/receipt, "
        f"{per[SIX_WAYS[4]] / per[SIX_WAYS[5]]:.2f}x json.loads + hand-written ({per[SIX_WAYS[5]]:,.0f})", "<= 1.5x")


def bench_compile(n: int = 1000) -> None:
    text = programme(n)
    t_check = best_of(3, lambda: check_text(text, "generated.loya"))
    t_compile = best_of(3, lambda: compile_text(text, "generated.loya"))
    data, result = compile_text(text, "generated.loya")
    assert data is not None, result.diagnostics[:3]
    t_load = best_of(3, lambda: Engine(load_bundle(data)))
    with tempfile.TemporaryDirectory() as cache:  # a till's restart: the compiled code kept (runtime/codecache.py)
        Engine(load_bundle(data), code_cache=DirectoryCache(cache))
        t_warm = best_of(3, lambda: Engine(load_bundle(data), code_cache=DirectoryCache(cache)))
    print(f"check of a {n:,}-campaign programme ({len(text) / 1024:.0f} KiB): {t_check:.2f} s")
    print(f"check + compile to a bundle: {t_compile:.2f} s (target < 1 s); bundle {len(data) / 1024:.0f} KiB")
    print(f"POS load (digest, structure, verify, JIT): {t_load:.2f} s; with a warm code cache {t_warm:.2f} s")
    row(f"compile {n:,} campaigns (check + bundle)", f"{t_compile * 1e3:.0f} ms", "< 1 s")
    row(f"POS load of that bundle ({len(data) / 1024:.0f} KiB)", f"{t_load * 1e3:.0f} ms", "< 200 ms")
    row("the same, compiled code kept (`code_cache`, a warm restart)", f"{t_warm * 1e3:.0f} ms", "< 200 ms")


def compiles(count: int, n: int = 1000) -> None:
    """A child under callgrind: compile the ``n``-campaign programme ``count`` times (the same bundle)."""
    text = programme(n)
    first, _ = compile_text(text, "generated.loya")
    for _ in range(count - 1):
        again, _ = compile_text(text, "generated.loya")
        assert again == first, "a compile gave another bundle"


def compile_instructions(n: int = 1000) -> None:
    """Instructions of one compile of the ``n``-campaign programme: two compiles less one."""
    env = callgrind.environment()
    OUT.mkdir(parents=True, exist_ok=True)  # where callgrind writes its counts
    child = [sys.executable, __file__, "--compiles"]
    subprocess.run([*child, "1"], check=True, capture_output=True, env=env)  # .pyc and the grammar's cache written
    one, two = (callgrind.instructions([*child, str(k)], OUT / f"callgrind.compile.{k}", env) for k in (1, 2))
    print(f"compile of {n:,} campaigns: {two - one:,} instructions")
    row(f"compile {n:,} campaigns (callgrind)", f"{(two - one) / 1e6:,.1f} M instructions")


def latency(engine: Engine, receipts: list[dict[str, Any]], customers: dict[str, dict[str, Any]],
            label: str, rounds: int) -> tuple[float, float, float, float]:
    """p50 and p99 in µs of wall time, then of the thread's CPU time: on a shared machine the wall
    percentiles include the time the scheduler gave other processes, the CPU ones do not."""
    samples: list[int] = []
    cpu: list[int] = []
    evaluate = engine.evaluate
    clock, thread = time.perf_counter_ns, time.thread_time_ns
    for _ in range(rounds):
        for r in receipts:
            customer = customers.get(r.get("customer_id") or "")
            start, start_cpu = clock(), thread()
            evaluate(r, customer)
            cpu.append(thread() - start_cpu)
            samples.append(clock() - start)
    samples.sort()
    cpu.sort()
    total_s = sum(samples) / 1e9
    p50, p99 = (samples[int(len(samples) * q)] / 1000 for q in (0.5, 0.99))
    c50, c99 = (cpu[int(len(cpu) * q)] / 1000 for q in (0.5, 0.99))
    print(f"{label}: {len(samples):,} evaluations, {len(samples) / total_s:,.0f} receipts/s, "
          f"p50 {p50:.0f} µs, p99 {p99:.0f} µs, mean {statistics.fmean(samples) / 1000:.0f} µs; "
          f"CPU time p50 {c50:.0f} µs, p99 {c99:.0f} µs")
    return p50, p99, c50, c99


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
    p50, p99, _, _ = latency(engine, receipts, customers, f"example bundle ({len(engine.bundle.campaigns)} campaigns, "
                       f"{statistics.fmean(len(r['lines']) for r in receipts):.1f} lines avg)", rounds=20)
    row(f"example programme ({len(engine.bundle.campaigns)} campaigns), its receipts", f"p50 {p50:.0f} µs, p99 {p99:.0f} µs")


def bench_sizes(sizes: tuple[int, ...] = (10, 100, 200, 1000, 5000)) -> None:
    """Latency on 20-line receipts by programme size: bench/genprog.py's mix of every mechanic (a
    quarter of the campaigns apply to any receipt), and product promotions on a few SKUs each."""
    base, _ = receipts_for(2000)
    receipts = twenty_line_receipts(base, 1000)
    customers = {r["customer_id"]: {"id": r["customer_id"], "tier": "gold" if i % 3 == 0 else "silver"}
                 for i, r in enumerate(receipts) if r.get("customer_id")}
    for kind, make in (("mixed", programme), ("SKU promotions", targeted)):
        for n in sizes:
            data, result = compile_split(make(n, seed=7), f"generated{n}")
            label = f"{n:,} campaigns ({kind}), 20-line receipts"
            if data is None:
                print(f"{label}: not compiled: {result.diagnostics[0]}")
                row(label, f"not compiled ({result.diagnostics[0].code})")
                continue
            engine = Engine(load_bundle(data))
            applied = statistics.fmean(len(engine.evaluate(r, customers.get(r.get("customer_id") or "")).applied)
                                       for r in receipts[:100])
            p50, p99, c50, c99 = latency(engine, receipts, customers, f"{label}, {applied:.0f} apply on average",
                                         rounds=max(1, 3000 // max(n, 1000)))
            row(f"{label}, {applied:.0f} apply", f"p50 {p50:.0f} µs, p99 {p99:.0f} µs (CPU {c50:.0f} / {c99:.0f})",
                "p99 < 500 µs (goal 250)" if n == 200 and kind == "mixed" else "")


def compile_split(text: str, name: str, per_file: int = 1000) -> tuple[bytes | None, Any]:
    """Compile a generated programme as a retailer would keep a big one: the header and groups in one
    file, importing files of at most ``per_file`` campaigns (one file is at most MAX_SOURCE_CHARS)."""
    head, *campaigns = re.split(r"(?m)^(?=campaign )", text)
    folder = OUT / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    parts = [campaigns[i:i + per_file] for i in range(0, len(campaigns), per_file)]
    for k, part in enumerate(parts):
        (folder / f"part{k}.loya").write_text("".join(part), encoding="utf-8")
    imports = "".join(f'import "part{k}.loya"\n' for k in range(len(parts)))
    (folder / "main.loya").write_text(imports + head, encoding="utf-8")
    return compile_file(folder / "main.loya")


def bench_simulate(arguments: str) -> None:
    """bench/simulate.py in a child process; its table rows (lines starting with ``| ``) join ours."""
    done = subprocess.run([sys.executable, str(HERE / "simulate.py"), *arguments.split()], capture_output=True,
                          text=True, check=False)
    print(done.stdout, end="")
    if done.returncode:
        print(done.stderr[-2000:])
        row("simulate", f"failed (exit {done.returncode})")
        return
    for line in done.stdout.splitlines():
        if line.startswith("| "):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            row(*[*cells, "", ""][:3])


def print_table() -> None:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row("peak memory of this benchmark process", f"{peak:,.0f} MB")
    print()
    print(f"| what | figure | target |  (python {sys.version.split()[0]}, {platform.machine()}, "
          f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d')})")
    print("|---|---|---|")
    for what, figure, target in TABLE:
        print(f"| {what} | {figure} | {target} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--receipts", type=int, default=100_000, help="receipts for the six mechanics")
    parser.add_argument("--only", choices=["six", "compile", "eval", "sizes", "simulate"], help="run one benchmark")
    parser.add_argument("--simulate", default="", metavar="ARGS", help="arguments for bench/simulate.py")
    parser.add_argument("--callgrind", type=int, nargs="?", const=2000, default=0, metavar="N",
                        help="the six mechanics also in instructions per receipt (valgrind), over N receipts")
    parser.add_argument("--six-way", nargs=3, metavar=("WAY", "N", "POOL"), help=argparse.SUPPRESS)  # a callgrind child
    parser.add_argument("--compiles", type=int, help=argparse.SUPPRESS)  # a callgrind child: compile N times
    args = parser.parse_args()
    if args.six_way:
        six_way(args.six_way[0], int(args.six_way[1]), int(args.six_way[2]))
        return
    if args.compiles is not None:
        compiles(args.compiles)
        return
    print(f"python {sys.version.split()[0]}")
    if args.only in (None, "six"):
        bench_six(args.receipts)
        if args.callgrind:
            six_instructions(args.callgrind)
    if args.only in (None, "eval"):
        bench_eval()
    if args.only in (None, "sizes"):
        bench_sizes()
    if args.only in (None, "compile"):
        bench_compile()
        if args.callgrind and args.only == "compile":
            compile_instructions()
    if args.only in (None, "simulate"):
        bench_simulate(args.simulate)
    print_table()


if __name__ == "__main__":
    main()
