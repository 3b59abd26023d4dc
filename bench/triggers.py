"""Trigger chains' cost in a replay: receipts/s of `loya simulate` (one worker) over the Complete
Journey year with and without the example programme's trigger chains (issue 15: the target is at
least 80% of the rate without), and the bound on chain state per customer.

    python bench/triggers.py --cj /tmp/cj/completejourney_receipts.jsonl --repeat 2

The programme is examples/completejourney/programme.loya; "with" appends bench/cj_triggers.loya (the
supermarket example's chains: welcome, win-back, birthday, points burning). Each run is a separate
process; the best of --repeat runs is shown (the machine is shared)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CJ = ROOT / "examples" / "completejourney"


def _bundle(with_triggers: bool) -> bytes:
    sys.path.insert(0, str(ROOT))
    from loyadsl.api import compile_text

    text = (CJ / "programme.loya").read_text(encoding="utf-8")
    if with_triggers:
        text += "\n" + (HERE / "cj_triggers.loya").read_text(encoding="utf-8")
    data, result = compile_text(text, "programme.loya", CJ / "programme.loya")
    assert data is not None, [str(d) for d in result.diagnostics]
    return data


def _run_one(history: Path, with_triggers: bool) -> None:
    from loyadsl.simulate.mapping import load_mapping
    from loyadsl.simulate.run import Simulation

    bundle = _bundle(with_triggers)
    start = time.perf_counter()
    report = Simulation(bundle, [history], workers=1, mapping=load_mapping(file=CJ / "mapping.yaml")).run()
    seconds = time.perf_counter() - start
    rows = report.get("triggers") or []
    print(json.dumps({"seconds": seconds, "receipts": report["input"]["read"],
                      "entered": sum(r["entered"] for r in rows),
                      "messages": sum(sum(r["messages"].values()) for r in rows)}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cj", type=Path, help="a Complete Journey receipts file (JSONL; required)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--child", nargs=2, metavar=("HISTORY", "WITH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _run_one(Path(args.child[0]), args.child[1] == "1")
        return
    if args.cj is None:
        ap.error("--cj is required")
    sys.path.insert(0, str(ROOT))
    from loyadsl.runtime.triggers.spec import MAX_CAP, MAX_TRIGGERS

    best: dict[bool, dict[str, float]] = {}
    for _ in range(args.repeat):
        for with_triggers in (False, True):
            out = subprocess.run([sys.executable, __file__, "--child", str(args.cj), "1" if with_triggers else "0"],
                                 check=True, capture_output=True, text=True).stdout
            run = json.loads(out.strip().splitlines()[-1])
            if with_triggers not in best or run["seconds"] < best[with_triggers]["seconds"]:
                best[with_triggers] = run
    rates = {w: r["receipts"] / r["seconds"] for w, r in best.items()}
    print(f"{args.cj.name}: {best[False]['receipts']:,.0f} receipts, 1 worker, best of {args.repeat}")
    print(f"without triggers: {rates[False]:,.0f} receipts/s")
    print(f"with triggers:    {rates[True]:,.0f} receipts/s ({best[True]['entered']:,.0f} chain entries, "
          f"{best[True]['messages']:,.0f} messages scheduled)")
    print(f"ratio: {rates[True] / rates[False]:.1%} (target: at least 80%)")
    print(f"chain state per customer: at most {MAX_TRIGGERS} records (one per declared trigger), each holding "
          f"at most {MAX_CAP} send times")


if __name__ == "__main__":
    main()
