"""Where a dicts-in six-mechanics receipt's bytecodes go: ``Engine.evaluate`` of the receipt's dict (decoding
and evaluation), opcodes counted per function by tracing (``sys.settrace`` with ``f_trace_opcodes``), per
receipt; with ``--lines NAME`` also per line of the functions called NAME. A count, not a time: it does not
move with the machine's load, so it can be compared between two trees (run each with its own PYTHONPATH).

    PYTHONPATH=$PWD python bench/till_bytecodes.py                 # per function
    PYTHONPATH=$PWD python bench/till_bytecodes.py --lines _plain   # and _plain's lines

What a bytecode costs differs a lot (callgrind): a specialised read of a struct's field is ~15-20
instructions, a call or an allocation hundreds, so read the counts with bench/till.py --callgrind's.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path
from types import FrameType
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import receipts_for, six_mechanics_engine  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--receipts", type=int, default=1000, help="receipts counted (after 200 to warm up)")
    parser.add_argument("--lines", metavar="NAME", help="also count per line of the functions called NAME")
    args = parser.parse_args()
    receipts, params = receipts_for(2000)
    engine = six_mechanics_engine(params)
    evaluate = engine.evaluate
    for data in receipts[:200]:  # the category memos and the zone's offsets filled, as in a long run
        evaluate(data)
    counted = receipts[200:200 + args.receipts]
    by_function: collections.Counter[str] = collections.Counter()
    by_line: collections.Counter[tuple[str, int]] = collections.Counter()

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        frame.f_trace_lines = False
        code = frame.f_code
        name, per_line = code.co_name, code.co_name == args.lines

        def local(frame: FrameType, event: str, arg: Any) -> Any:
            if event == "opcode":
                by_function[name] += 1
                if per_line:
                    by_line[(code.co_filename, frame.f_lineno)] += 1
            return local

        return local

    sys.settrace(tracer)
    for data in counted:
        evaluate(data)
    sys.settrace(None)
    n = len(counted)
    lines = sum(len(data["lines"]) for data in counted) / n
    print(f"{sum(by_function.values()) / n:,.1f} bytecodes a receipt ({n} receipts, {lines:.1f} lines a receipt)")
    for name, count in by_function.most_common():
        print(f"{count / n:10.1f}  {name}")
    for (filename, line), count in sorted(by_line.items()):
        print(f"{count / n:10.1f}  {Path(filename).name}:{line}")


if __name__ == "__main__":
    main()
