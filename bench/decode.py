"""The cost of a validated receipt: ``Receipt.from_dict`` (a dict in) and ``Receipt.from_json`` (JSON
bytes in) on the six-mechanics receipts of ``../shared/bench/gen_receipts.py``, for this tree and,
with ``--against``, another checkout of the project (e.g. main) measured in the same run, the two
alternated. Prints µs per receipt (least CPU time of the repeats) and, with ``--callgrind``,
instructions per receipt counted by valgrind, which hold whatever else the machine runs.

    python bench/decode.py                                   # this tree, 20,000 receipts
    python bench/decode.py --against /work/main --callgrind  # before / after, one table
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
MODES = ("from_dict", "from_json")
PARTS = ("types_dict", "types_json")  # the plain receipt's types alone (msgspec, in C): the rest is Python


def generator() -> Path:
    """The shared receipt generator, beside this checkout or beside the folder that holds it."""
    for folder in ROOT.parents:
        path = folder / "shared" / "bench" / "gen_receipts.py"
        if path.is_file():
            return path
    raise SystemExit("../shared/bench/gen_receipts.py not found: pass --file")


def receipts_file(n: int, seed: int = 20251) -> Path:
    """``receipts.jsonl`` of ``n`` generated receipts (as bench/run.py makes them), made once."""
    folder = OUT / f"receipts_{n}_{seed}"
    if not (folder / "receipts.jsonl").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(generator()), "-n", str(n), "--seed", str(seed), "--out", str(folder)],
                       check=True, stdout=subprocess.DEVNULL)
    return folder / "receipts.jsonl"


# ------------------------------------------------------------------ the measuring child (one tree)


def child(root: str, path: str, mode: str, count: int, repeat: int) -> None:
    """Decode the first ``count`` receipts of ``path`` with ``root``'s ``Receipt`` and print the least
    CPU time of ``repeat`` runs as JSON (under callgrind, ``repeat`` 0 measures the set-up alone)."""
    sys.path.insert(0, root)
    from loyadsl.runtime import Receipt

    with open(path, encoding="utf-8") as fh:
        receipts: list[Any] = [json.loads(line) for _, line in zip(range(count), fh, strict=False)]
    decode: Callable[[Any], Any] = Receipt.from_dict
    if mode in ("from_json", "types_json"):
        receipts = [json.dumps(r).encode("utf-8") for r in receipts]
        decode = Receipt.from_json
    if mode in PARTS:  # bench only: the decoder's first step, which users reach through from_dict/from_json
        from loyadsl.runtime import model

        plain = model._ReceiptPlain
        decode = model._decode_plain if mode == "types_json" else lambda data: model._convert(data, plain)
    gc.collect()
    gc.freeze()  # static input, out of the collector's generations (as bench/run.py)
    best = 0.0 if repeat == 0 else float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for item in receipts:
            decode(item)
        best = min(best, time.process_time() - start)
    print(json.dumps({"seconds": best, "count": len(receipts)}))


def run_child(root: str, path: Path, mode: str, count: int, repeat: int, prefix: list[str] | None = None) -> Any:
    command = [*(prefix or []), sys.executable, __file__, "--child", root, "--file", str(path), "--mode", mode,
               "--count", str(count), "--repeat", str(repeat)]
    env = {**os.environ, "PYTHONPATH": root, "PYTHONPYCACHEPREFIX": str(OUT / "pycache")}  # compiled once, not
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # at each start (slow under valgrind), and not into ``root``
    done = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def instructions(root: str, path: Path, mode: str, count: int) -> float:
    """Instructions per receipt: callgrind's count of a run decoding ``count`` receipts twice less that
    of a run that reads them and decodes none (the same set-up)."""
    totals = []
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in (0, 2):
            out = Path(tmp) / f"callgrind.{repeat}"
            prefix = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
            run_child(root, path, mode, count, repeat, prefix)
            text = out.read_text(encoding="utf-8", errors="replace")
            found = re.search(r"^(?:summary|totals): (\d+)", text, re.MULTILINE)
            if found is None:
                raise SystemExit(f"no total in {out}")
            totals.append(int(found.group(1)))
    return (totals[1] - totals[0]) / (2 * count)


# ----------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--receipts", type=int, default=20_000, help="generated receipts to decode")
    parser.add_argument("--file", type=Path, help="a receipts.jsonl to use instead of generated ones")
    parser.add_argument("--against", metavar="ROOT", help="another checkout to measure in the same run (e.g. main)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure, the least CPU time counts")
    parser.add_argument("--rounds", type=int, default=3, help="processes per tree, alternated with the other's")
    parser.add_argument("--callgrind", type=int, nargs="?", const=2000, default=0, metavar="N",
                        help="also count instructions per receipt over N receipts (default 2,000)")
    parser.add_argument("--parts", action="store_true",
                        help="also time the plain receipt's types alone (msgspec): the rest is the Python checks")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=MODES + PARTS, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, str(args.file), args.mode, args.count, args.repeat)
        return
    path = args.file or receipts_file(args.receipts)
    count = sum(1 for _ in path.open(encoding="utf-8")) if args.file else args.receipts
    roots = {"this tree": str(ROOT)}
    if args.against:
        roots = {args.against: str(Path(args.against).resolve()), **roots}
    modes = MODES + PARTS if args.parts else MODES
    figures: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):  # alternated, so a change of load falls on both trees alike
        for name, root in roots.items():
            for mode in modes:
                result = run_child(root, path, mode, count, args.repeat)
                figures.setdefault((name, mode), []).append(result["seconds"] * 1e6 / result["count"])
    counted = {(name, mode): instructions(root, path, mode, args.callgrind)
               for name, root in roots.items() for mode in MODES} if args.callgrind else {}
    what = f"receipts of {args.file}" if args.file else "six-mechanics receipts"
    print(f"{count:,} {what}, {args.rounds} processes per tree of {args.repeat} runs each "
          f"(least CPU time; load {os.getloadavg()[0]:.1f})\n")
    header = "| tree | " + " | ".join(f"{m} µs (runs)" for m in modes)
    header += " | " + " | ".join(f"{m} instructions" for m in MODES) if counted else ""
    print(header + " |")
    print("|---" * (1 + len(modes) + (len(MODES) if counted else 0)) + "|")
    for name in roots:
        cells = [f"{min(figures[name, m]):.2f} ({', '.join(f'{v:.2f}' for v in figures[name, m])})" for m in modes]
        cells += [f"{counted[name, m]:,.0f}" for m in MODES] if counted else []
        print(f"| {name} | " + " | ".join(cells) + " |")
    if args.against:
        base, ours = list(roots)
        change = [f"{m} {min(figures[ours, m]) / min(figures[base, m]) - 1:+.0%} time" for m in MODES]
        change += [f"{m} {counted[ours, m] / counted[base, m] - 1:+.0%} instructions" for m in MODES] if counted else []
        print("\nthis tree against " + base + ": " + ", ".join(change))


if __name__ == "__main__":
    main()
