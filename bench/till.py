"""The till path alone: ``Engine.evaluate`` of validated receipts (no decoding), for this tree and,
with ``--against``, another checkout (e.g. main) measured in the same run, the two alternated.

* ``six``: the six mechanics (bench/six_mechanics.loya) on the generated receipts, CPU µs per receipt
  (least of the repeats), and with ``--callgrind`` instructions per receipt;
* ``mixed``: bench/genprog.py's mixed programme of ``--campaigns`` campaigns on 20-line receipts (as
  bench/run.py's ``bench_sizes``), CPU p50 / p99 / mean per receipt;
* ``--check``: whether both trees give the same outcomes, byte for byte (the digest of every outcome's
  JSON with its lines and effects read), on both workloads.

    python bench/till.py --against /tmp/m0              # before / after, one table
    python bench/till.py --against /tmp/m0 --check      # and the outcomes compared
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
MODES = ("six", "mixed")


def generated(n: int, seed: int = 20251) -> Path:
    """The folder of ``n`` generated receipts and their params (as bench/run.py makes them)."""
    sys.path.insert(0, str(HERE))
    from run import receipts_for

    receipts_for(n, seed)
    return OUT / f"receipts_{n}_{seed}"


# ------------------------------------------------------------------ the measuring child (one tree)


def _six(root: str, folder: Path, count: int) -> tuple[Any, list[Any]]:
    from loyadsl.api import compile_file
    from loyadsl.runtime import Engine, Receipt, load_bundle

    params = json.loads((folder / "params.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "six_mechanics.loya").write_text((Path(root) / "bench" / "six_mechanics.loya").read_text("utf-8"),
                                                 encoding="utf-8")
        (work / "c_skus.csv").write_text("sku\n" + "\n".join(params["c_skus"]) + "\n", encoding="utf-8")
        (work / "e_stores.csv").write_text("store\n" + "\n".join(params["e_stores"]) + "\n", encoding="utf-8")
        data, result = compile_file(work / "six_mechanics.loya")
    assert data is not None, result.diagnostics[:3]
    with (folder / "receipts.jsonl").open(encoding="utf-8") as fh:
        receipts = [Receipt.from_dict(json.loads(line)) for _, line in zip(range(count), fh, strict=False)]
    return Engine(load_bundle(data)), receipts


def _mixed(root: str, folder: Path, campaigns: int) -> tuple[Any, list[Any], list[Any]]:
    sys.path.insert(0, str(Path(root) / "bench"))
    from genprog import programme

    from loyadsl.api import compile_text
    from loyadsl.runtime import Engine, Receipt, load_bundle

    with (folder / "receipts.jsonl").open(encoding="utf-8") as fh:
        base = [json.loads(line) for line in fh]
    pool = [line for r in base for line in r["lines"]]  # bench/run.py's ``twenty_line_receipts``
    receipts = []
    for i in range(1000):
        lines = [dict(pool[(i * 20 + k) % len(pool)], line_no=k + 1) for k in range(20)]
        receipts.append({**base[i % len(base)], "receipt_id": f"T{i:06d}", "lines": lines})
    customers = [{"id": r["customer_id"], "tier": "gold" if i % 3 == 0 else "silver"} if r.get("customer_id")
                 else None for i, r in enumerate(receipts)]
    data, result = compile_text(programme(campaigns, seed=7), "generated.loya")
    assert data is not None, result.diagnostics[:3]
    return Engine(load_bundle(data)), [Receipt.from_dict(r) for r in receipts], customers


def _digest(outcomes: list[Any]) -> str:
    text = json.dumps([o.to_dict() for o in outcomes], ensure_ascii=False, sort_keys=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def child(root: str, folder: Path, mode: str, count: int, repeat: int, campaigns: int, check: bool) -> None:
    """One measurement of ``root``'s engine, printed as JSON (``repeat`` 0: the set-up alone)."""
    sys.path.insert(0, root)
    if mode == "six":
        engine, receipts = _six(root, folder, count)
        customers = [None] * len(receipts)
    else:
        engine, receipts, customers = _mixed(root, folder, campaigns)
    evaluate = engine.evaluate
    pairs = list(zip(receipts, customers, strict=True))
    found: dict[str, Any] = {"count": len(receipts)}
    if check:
        found["digest"] = _digest([evaluate(r, c) for r, c in pairs])
    gc.collect()
    gc.freeze()  # static input, out of the collector's generations (as bench/run.py)
    if mode == "six":
        best = 0.0 if repeat == 0 else float("inf")
        for _ in range(repeat):
            start = time.process_time()
            for r, c in pairs:
                evaluate(r, c)
            best = min(best, time.process_time() - start)
        found["seconds"] = best
    else:
        thread = time.thread_time_ns
        samples = []
        for _ in range(repeat):
            for r, c in pairs:
                start = thread()
                evaluate(r, c)
                samples.append(thread() - start)
        samples.sort()
        found["p50"], found["p99"] = (samples[int(len(samples) * q)] / 1000 if samples else 0 for q in (0.5, 0.99))
        found["mean"] = sum(samples) / len(samples) / 1000 if samples else 0
    print(json.dumps(found))


def run_child(root: str, folder: Path, mode: str, args: argparse.Namespace, repeat: int,
              prefix: list[str] | None = None, check: bool = False) -> Any:
    command = [*(prefix or []), sys.executable, __file__, "--child", root, "--folder", str(folder), "--mode", mode,
               "--receipts", str(args.receipts), "--repeat", str(repeat), "--campaigns", str(args.campaigns),
               *(["--check"] if check else [])]
    env = {**os.environ, "PYTHONPATH": root, "PYTHONPYCACHEPREFIX": str(OUT / "pycache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    done = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def instructions(root: str, folder: Path, args: argparse.Namespace) -> float:
    """Instructions per six-mechanics receipt: callgrind's count of a run evaluating ``--callgrind``
    receipts twice less that of a run that evaluates none (the same set-up)."""
    totals = []
    small = argparse.Namespace(**{**vars(args), "receipts": args.callgrind})
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in (0, 2):
            out = Path(tmp) / f"callgrind.{repeat}"
            run_child(root, folder, "six", small, repeat, ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"])
            text = out.read_text(encoding="utf-8", errors="replace")
            total = re.search(r"^(?:summary|totals): (\d+)", text, re.MULTILINE)
            if total is None:
                raise SystemExit(f"no total in {out}")
            totals.append(int(total.group(1)))
    return (totals[1] - totals[0]) / (2 * args.callgrind)


# ----------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--receipts", type=int, default=30_000, help="six-mechanics receipts")
    parser.add_argument("--campaigns", type=int, default=200, help="campaigns of the mixed programme")
    parser.add_argument("--against", metavar="ROOT", help="another checkout to measure in the same run (e.g. main)")
    parser.add_argument("--repeat", type=int, default=5, help="six: runs per figure (least CPU); mixed: rounds")
    parser.add_argument("--rounds", type=int, default=3, help="processes per tree, alternated with the other's")
    parser.add_argument("--only", choices=MODES, help="one workload")
    parser.add_argument("--check", action="store_true", help="compare the outcomes' JSON between the trees")
    parser.add_argument("--callgrind", type=int, nargs="?", const=2000, default=0, metavar="N",
                        help="also count six-mechanics instructions per receipt over N receipts")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.folder, args.mode, args.receipts, args.repeat, args.campaigns, args.check)
        return
    folders = {"six": generated(args.receipts), "mixed": generated(2000)}
    roots = {"this tree": str(ROOT)}
    if args.against:
        roots = {args.against: str(Path(args.against).resolve()), **roots}
    modes = (args.only,) if args.only else MODES
    if args.check:
        for mode in modes:
            digests = {name: run_child(root, folders[mode], mode, args, 0, check=True)["digest"]
                       for name, root in roots.items()}
            print(f"{mode}: outcomes {'identical' if len(set(digests.values())) == 1 else 'DIFFER'} ({digests})")
    figures: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for _ in range(args.rounds):  # alternated, so a change of load falls on both trees alike
        for name, root in roots.items():
            for mode in modes:
                figures.setdefault((name, mode), []).append(run_child(root, folders[mode], mode, args, args.repeat))
    counted = {name: instructions(root, folders["six"], args) for name, root in roots.items()} \
        if args.callgrind and "six" in modes else {}
    print(f"{args.rounds} processes per tree, alternated (load {os.getloadavg()[0]:.1f})\n")
    print("| tree | six mechanics, validated, CPU µs (runs) | "
          f"{args.campaigns} mixed × 20 lines, CPU p50 / p99 / mean µs (runs) | six instructions |")
    print("|---|---|---|---|")
    for name in roots:
        six = [f["seconds"] * 1e6 / f["count"] for f in figures.get((name, "six"), [])]
        mixed = figures.get((name, "mixed"), [])
        cells = [f"{min(six):.2f} ({', '.join(f'{v:.2f}' for v in six)})" if six else "",
                 "; ".join(f"{f['p50']:.0f} / {f['p99']:.0f} / {f['mean']:.0f}" for f in mixed),
                 f"{counted[name]:,.0f}" if name in counted else ""]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
