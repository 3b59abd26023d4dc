"""Collision analysis of a generated programme (bench/genprog.py): prints the time of each stage.

    python bench/collisions.py [--campaigns 500] [--runs 3]

A 500-campaign programme has 124,750 pairs; the target is under 10 s for all of them. Printed
figures are the best of --runs runs (the machine is shared); nothing is asserted.
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
from loyadsl.api import compile_text
from loyadsl.runtime import Engine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--campaigns", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    data, result = compile_text(programme(args.campaigns))
    assert data is not None and result.programme is not None, result.diagnostics[:3]
    engine = Engine.from_bytes(data)
    best = float("inf")
    answers: Counter[str] = Counter()
    for _ in range(args.runs):
        start = time.perf_counter()
        answers = Counter(v.answer for v in analyse(result.programme, engine))
        best = min(best, time.perf_counter() - start)
    pairs = sum(answers.values())
    print(f"{args.campaigns} campaigns, {pairs} pairs: best of {args.runs} runs {best:.2f} s "
          f"({best / max(pairs, 1) * 1e6:.1f} µs a pair); {dict(sorted(answers.items()))}")


if __name__ == "__main__":
    main()
