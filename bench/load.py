"""The POS load of a generated bundle (``genprog.py``, 1,000 campaigns by default), by phase: reading
the JSON (with its value walk: floats, ranges, depth), the structure (the payload's msgspec model and
the references after it, ``runtime/bundle_model.py``), the bytecode's verification, the whole
``load_bundle``, and ``Engine(load_bundle(...))``: without a code cache, with an empty one (the compile
plus writing its entries) and with a warm one (``runtime/codecache.py``: nothing compiled). Wall and CPU
time, best and median of N; on a shared machine read the CPU figures.

    python bench/load.py [--campaigns 1000] [--repeat 9] [--bundle FILE]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from genprog import programme  # noqa: E402

from loyadsl.api import compile_text  # noqa: E402
from loyadsl.runtime import DirectoryCache, Engine, bundle, load_bundle  # noqa: E402
from loyadsl.runtime.verify import verify  # noqa: E402


def measure(repeat: int, work: Callable[[], Any]) -> tuple[float, float, float, float]:
    """(wall best, wall median, CPU best, CPU median) in ms."""
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        work()
        cpu.append((time.process_time() - start_cpu) * 1e3)
        wall.append((time.perf_counter() - start) * 1e3)
    return min(wall), statistics.median(wall), min(cpu), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--campaigns", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--bundle", type=Path, help="a compiled bundle instead of a generated programme")
    args = parser.parse_args()
    if args.bundle is not None:
        data: bytes | None = args.bundle.read_bytes()
    else:
        data, result = compile_text(programme(args.campaigns), "generated.loya")
        assert data is not None, result.diagnostics[:3]
    assert data is not None
    body = data[data.index(b"\n", 6) + 1:]
    payload = bundle._payload(body)
    version = payload["manifest"]["format_version"]
    loaded = load_bundle(data)
    cache = Path(tempfile.mkdtemp(prefix="loya-bench-cache-")) / "code"
    phases: list[tuple[str, Callable[[], Any]]] = [
        ("JSON and its value walk", lambda: bundle._payload(body)),
        ("structure: model and references", lambda: bundle._bundle(payload, version)),
        ("bytecode verification", lambda: verify(loaded)),
        ("load_bundle", lambda: load_bundle(data)),
        ("Engine(load_bundle(...))", lambda: Engine(load_bundle(data))),
        ("the same, with an empty code cache", lambda: Engine(load_bundle(data), code_cache=_empty_cache(cache))),
        ("the same, with a warm code cache", lambda: Engine(load_bundle(data), code_cache=DirectoryCache(cache))),
    ]
    print(f"{len(loaded.campaigns):,} campaigns, bundle {len(data) / 1024:.0f} KiB, best/median of {args.repeat}\n")
    print("| phase | wall best | wall median | CPU best | CPU median |")
    print("|---|---|---|---|---|")
    for name, work in phases:
        figures = measure(args.repeat, work)
        print(f"| {name} | " + " | ".join(f"{x:.1f} ms" for x in figures) + " |")
    shutil.rmtree(cache.parent)


def _empty_cache(path: Path) -> DirectoryCache:
    shutil.rmtree(path, ignore_errors=True)
    return DirectoryCache(path)


if __name__ == "__main__":
    main()
