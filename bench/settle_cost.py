"""The stateful evaluation's cost per receipt (issues 11 and 13): ``Engine.evaluate`` of a receipt WITH a
customer state, as the server and the replay call it, and nothing else.

    python bench/settle_cost.py capture                 # once: /tmp/settle_server.pkl, /tmp/settle_cj.pkl
    python bench/settle_cost.py run server -n 600       # evaluate the first 600 captured calls
    python bench/settle_cost.py run cj -n 3000 --check  # ... and print the outcomes' SHA-256
    python bench/settle_cost.py run cj -n 1000 --bytecodes 25   # bytecodes by function (sys.settrace)

``capture`` records the calls' arguments as they are made (the receipt, the customer's state at that
moment, budgets, stock, usage, and for the replay its ledger's ``detail``): (a) ``server``: bench/serve.py's
8-line receipts paying 50 points through the processor (SQLite) for the supermarket example, its
customers from bench/serve.py's ``_customer``; (b) ``cj``: the first 3,000 receipts of a Complete Journey
file (``--cj``, default /tmp/cj30k.jsonl) replayed by ``loya simulate`` (1 worker), through the replay's
engine (typed changes kept, ``lazy_changes``). ``run`` evaluates the first ``-n`` captured calls again on a
fresh engine. Under ``valgrind --tool=callgrind`` (PYTHONHASHSEED=0), two runs of different ``-n`` give
instructions per receipt, whatever else the machine runs. A capture made by one tree can be run by
another (``--check``: the same outcomes, byte for byte).
"""

from __future__ import annotations

import argparse
import collections
import copy
import gc
import hashlib
import json
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CAPTURES = {"server": Path("/tmp/settle_server.pkl"), "cj": Path("/tmp/settle_cj.pkl")}


def _recorder(calls: list[tuple[Any, ...]]) -> Any:
    from loyadsl.runtime.engine import Engine
    real = Engine.evaluate

    def evaluate(self: Any, receipt: Any, customer: Any = None, *args: Any, **kw: Any) -> Any:
        if customer is not None:
            calls.append((pickle.dumps(receipt), pickle.dumps(customer), args, kw, getattr(self.ledger, "detail", True)))
        return real(self, receipt, customer, *args, **kw)
    Engine.evaluate = evaluate  # type: ignore[method-assign]
    return real


def capture_server(requests: int) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from serve import CUSTOMERS, _customer, _receipt  # type: ignore[import-not-found]

    from loyadsl.api import compile_file
    from loyadsl.server.connect import open_store
    from loyadsl.server.processing import Processor
    from loyadsl.server.store import Key
    data, _ = compile_file(ROOT / "examples" / "supermarket" / "programme.loya")
    assert data is not None
    work = Path(tempfile.mkdtemp(prefix="settle-"))
    store = open_store(f"sqlite:///{work / 'cpu.db'}")
    store.upgrade()
    processor = Processor(store)
    processor.install_bundle(data)
    processor.import_customers([_customer(n) for n in range(CUSTOMERS)])
    processor.authenticate(processor.add_key("till", "S001"))
    calls: list[tuple[Any, ...]] = []
    _recorder(calls)
    key = Key("till", "S001")
    for n in range(requests):
        processor.calculate(json.loads(_receipt(n, "cap")), key)
    CAPTURES["server"].write_bytes(pickle.dumps({"bundle": data, "lazy": False, "calls": calls}))
    print(f"server: {len(calls)} calls captured")


def capture_cj(history: Path, receipts: int) -> None:
    from loyadsl.api import compile_file
    from loyadsl.simulate import run as run_module
    from loyadsl.simulate.mapping import load_mapping
    cj = ROOT / "examples" / "completejourney"
    bundle, _ = compile_file(cj / "programme.loya")
    assert bundle is not None
    head = Path(tempfile.mkdtemp(prefix="settle-")) / "head.jsonl"
    with history.open() as src, head.open("w") as dst:
        for _, line in zip(range(receipts), src, strict=False):
            dst.write(line)
    calls: list[tuple[Any, ...]] = []
    _recorder(calls)
    run_module.Simulation(bundle, [head], workers=1, mapping=load_mapping(file=cj / "mapping.yaml"),
                          work=run_module.replay_job).run()
    CAPTURES["cj"].write_bytes(pickle.dumps({"bundle": bundle, "lazy": True, "calls": calls}))
    print(f"cj: {len(calls)} calls captured")



def run(which: str, count: int, check: bool, bytecodes: int) -> None:
    from loyadsl.runtime.engine import Engine
    saved = pickle.loads(CAPTURES[which].read_bytes())
    bundle = saved["bundle"]
    engine = Engine.from_bytes(bundle) if isinstance(bundle, bytes) else Engine(bundle)
    if saved["lazy"]:  # as simulate/replay.py's PartitionReplay
        engine = copy.copy(engine)
        engine.lazy_changes = True
        engine.ledger = copy.copy(engine.ledger)
    pool = max(count, 500)  # the same set-up for any -n up to 500: the first 500 calls read
    calls = [(pickle.loads(r), pickle.loads(s), a, kw, d) for r, s, a, kw, d in saved["calls"][:pool]]
    if len(calls) < count:
        raise SystemExit(f"only {len(calls)} calls captured")
    calls = calls[:count]
    ledger = engine.ledger
    gc.collect()
    gc.freeze()  # as the server's workers and the replay do: the collector does not scan the set-up's heap
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    if bytecodes:
        def tracer(frame: Any, event: str, arg: Any) -> Any:
            frame.f_trace_opcodes = True
            if event == "opcode":
                code = frame.f_code
                counts[(code.co_filename.rsplit("/", 2)[-1], code.co_qualname)] += 1
            return tracer
        sys.settrace(tracer)
    outcomes = []  # kept only for --check: a run keeps none, as the server and the replay keep none
    keep = outcomes.append if check else None
    for receipt, state, args, kw, detail in calls:
        if saved["lazy"]:
            ledger.detail = detail
        outcome = engine.evaluate(receipt, state, *args, **kw)
        if keep is not None:
            keep(outcome)
    sys.settrace(None)
    if check:
        text = json.dumps([o.to_dict() for o in outcomes], ensure_ascii=False, sort_keys=False)
        print(f"{which}: {count} outcomes, sha256 {hashlib.sha256(text.encode()).hexdigest()}")
    if bytecodes:
        total = sum(counts.values())
        print(f"{which}: {total / count:,.0f} bytecodes a receipt")
        for (file, name), k in counts.most_common(bytecodes):
            print(f"{k / count:9,.1f}  {file}:{name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    cap = sub.add_parser("capture")
    cap.add_argument("--cj", type=Path, default=Path("/tmp/cj30k.jsonl"))
    cap.add_argument("--receipts", type=int, default=3000)
    cap.add_argument("--requests", type=int, default=3000)
    go = sub.add_parser("run")
    go.add_argument("which", choices=sorted(CAPTURES))
    go.add_argument("-n", type=int, default=1000)
    go.add_argument("--check", action="store_true")
    go.add_argument("--bytecodes", type=int, default=0, help="the N functions running the most bytecodes")
    args = parser.parse_args()
    if args.cmd == "capture":
        capture_server(args.requests)
        capture_cj(args.cj, args.receipts)
    else:
        run(args.which, args.n, args.check, args.bytecodes)


if __name__ == "__main__":
    main()
