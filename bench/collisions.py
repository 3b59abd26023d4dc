"""Collision analysis of the supermarket example and of generated programmes (bench/genprog.py).

    python bench/collisions.py [--campaigns 60 200 500] [--runs 3] [--no-solver]

A 500-campaign programme has 124,750 pairs; the target is under 10 s for all of them. Each line
prints the best of --runs runs and the answers; nothing is asserted. CPU time is printed next to
wall time: on a shared machine it is the steadier of the two.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from genprog import programme

from loyadsl.analysis.collisions import analyse
from loyadsl.api import compile_file, compile_text
from loyadsl.compile import ir
from loyadsl.runtime import Engine

ROOT = Path(__file__).resolve().parent.parent

def measure(label: str, prog: ir.Programme, engine: Engine, runs: int, solver: bool) -> None:
    best = cpu = float("inf")
    answers: Counter[str] = Counter()
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        answers = Counter(v.answer for v in analyse(prog, engine, solver=solver))
        best = min(best, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    pairs = sum(answers.values())
    print(f"{label}: {len(prog.campaigns)} campaigns, {pairs} pairs: best of {runs} runs {best:.2f} s wall, "
          f"{cpu:.2f} s CPU ({best / max(pairs, 1) * 1e6:.1f} µs a pair); {dict(sorted(answers.items()))}",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--campaigns", type=int, nargs="*", default=[60, 200, 500])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-solver", action="store_true", help="leave out the SMT stage (z3)")
    args = parser.parse_args()
    data, result = compile_file(ROOT / "examples/supermarket/programme.loya")
    assert data is not None and result.programme is not None, result.diagnostics[:3]
    measure("supermarket", result.programme, Engine.from_bytes(data), args.runs, not args.no_solver)
    for n in args.campaigns:
        data, result = compile_text(programme(n))
        assert data is not None and result.programme is not None, result.diagnostics[:3]
        measure(f"generated {n}", result.programme, Engine.from_bytes(data), args.runs, not args.no_solver)


if __name__ == "__main__":
    main()
