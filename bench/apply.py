"""Cost of applying one receipt's changes to a customer state, in µs per apply: the idempotency
memory (``applied``, up to MAX_APPLIED_IDS ids) is full, as it is for any regular customer.

    python bench/apply.py            # this checkout
    python bench/apply.py --root DIR # another checkout (to compare before and after a change)

Prints the best of several runs (machines are shared: the minimum is the least disturbed figure).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any


def best_of(runs: int, fn: Any) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    ap.add_argument("-n", type=int, default=2_000, help="applies per run")
    args = ap.parse_args()
    sys.path.insert(0, str(args.root))
    from loyadsl.runtime.limits import MAX_APPLIED_IDS
    from loyadsl.runtime.state import CustomerState, apply, apply_in_place, iso, working_copy

    start = 20_000 * 86400 * 36
    applied = {f"R{i}": iso(start + i * 3600) for i in range(MAX_APPLIED_IDS)}
    state = CustomerState.from_dict({"id": "C1", "applied": applied, "receipts": MAX_APPLIED_IDS})

    def receipt(i: int) -> list[dict[str, Any]]:
        at = iso(start + (MAX_APPLIED_IDS + i) * 3600)
        return [{"op": "applied", "id": f"N{i}", "at": at, "receipt": f"N{i}"},
                {"op": "receipt", "receipt": f"N{i}", "delta": 1}]

    batches = [receipt(i) for i in range(args.n)]

    def in_place() -> None:
        w = working_copy(state)
        for changes in batches:
            apply_in_place(w, changes)

    def pure() -> None:
        s = state
        for changes in batches[:500]:
            s = apply(s, changes)

    for name, fn, n in (("apply_in_place", in_place, args.n), ("apply (pure)", pure, 500)):
        print(f"{name}: {best_of(9, fn) / n * 1e6:.1f} µs per apply (applied + receipt, {MAX_APPLIED_IDS} ids remembered)")
    pairs = example_outcomes(args.root)

    def outcomes() -> None:
        for before, changes in pairs:
            apply(before, changes)

    print(f"apply (pure), the example programme's receipts: {best_of(9, outcomes) / len(pairs) * 1e6:.1f} µs per "
          f"apply ({sum(len(c) for _, c in pairs) / len(pairs):.1f} changes on average)")
    times = []
    for _ in range(9):  # a replay as the simulator does it: each customer's own copy, written in place
        copies = {before.id: working_copy(CustomerState(id=before.id)) for before, _ in pairs}
        began = time.perf_counter()
        for before, changes in pairs:
            apply_in_place(copies[before.id], changes)
        times.append(time.perf_counter() - began)
    print(f"apply_in_place, the example programme's receipts replayed: {min(times) / len(pairs) * 1e6:.1f} µs per "
          "apply")


def example_outcomes(root: Path) -> list[tuple[Any, Any]]:
    """(state before, changes) of each receipt of examples/supermarket, its customers' states in time order."""
    import json

    from loyadsl.api import compile_file
    from loyadsl.runtime import Engine, Receipt, load_bundle
    from loyadsl.runtime.state import CustomerState, apply

    folder = root / "examples" / "supermarket"
    data, _ = compile_file(folder / "programme.loya")
    assert data is not None
    engine = Engine(load_bundle(data))
    rows = [json.loads(line) for line in (folder / "receipts.jsonl").read_text().splitlines() if line.strip()]
    receipts = sorted((Receipt.from_dict(r) for r in rows if "return_of" not in r and r.get("customer_id")),
                      key=lambda r: (r.utc, r.receipt_id))
    states: dict[str, Any] = {}
    pairs = []
    for receipt in receipts:
        assert receipt.customer_id is not None
        state = states.get(receipt.customer_id) or CustomerState(id=receipt.customer_id)
        outcome = engine.evaluate(receipt, state)
        pairs.append((state, outcome.changes))
        states[receipt.customer_id] = apply(state, outcome.changes or ())
    return pairs


if __name__ == "__main__":
    main()
