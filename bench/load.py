"""The POS load of a generated bundle (``genprog.py``, 1,000 campaigns by default), by phase: reading
the JSON (with its value walk: floats, ranges, depth), the structure (the payload's msgspec model and
the references after it, ``runtime/bundle_model.py``), the bytecode's verification, the whole
``load_bundle``, and ``Engine(load_bundle(...))``: without a code cache, with an empty one (the compile
plus writing its entries) and with a warm one (``runtime/codecache.py``: nothing compiled). Wall and CPU
time, best and median of N; on a shared machine read the CPU figures.

``--callgrind``: also the instructions of one POS load in a fresh process, as a till starts
(``valgrind --tool=callgrind``: a process that imports the runtime and loads the bundle, less one that
only imports it and reads the file), without a code cache and with a warm one: the same on any machine
and whatever else runs, so target 4 can be read where times cannot.

    python bench/load.py [--campaigns 1000] [--repeat 9] [--bundle FILE] [--callgrind]
"""

from __future__ import annotations

import argparse
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
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import callgrind  # noqa: E402

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
    parser.add_argument("--callgrind", action="store_true", help="also count one fresh load's instructions")
    args = parser.parse_args()
    if args.bundle is not None:
        data: bytes | None = args.bundle.read_bytes()
    else:
        from genprog import programme

        from loyadsl.api import compile_text
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
    if args.callgrind:
        fresh_instructions(data, cache.parent)
    shutil.rmtree(cache.parent)


def fresh_load(path: str, cache: str, loads: int) -> None:
    """A callgrind child: the runtime imported and the bundle file read, then ``loads`` loads (0 or 1), with
    the code cache in ``cache`` ("": none)."""
    data = Path(path).read_bytes()
    for _ in range(loads):
        Engine(load_bundle(data), code_cache=DirectoryCache(cache) if cache else None)


def fresh_instructions(data: bytes, folder: Path) -> None:
    """Instructions of one load in a fresh process, without a code cache and with a warm one."""
    path, cache = folder / "bundle.loyab", folder / "fresh"
    path.write_bytes(data)
    env = callgrind.environment()
    child = [sys.executable, __file__, "--fresh-load", str(path)]
    subprocess.run([*child, str(cache), "1"], check=True, env=env)  # .pyc and the cache's entries written
    print("\n| one POS load in a fresh process (callgrind) | instructions |\n|---|---|")
    for label, where in (("no code cache", ""), ("a warm code cache", str(cache))):
        totals = [callgrind.instructions([*child, where, str(loads)], folder / f"callgrind.{loads}", env)
                  for loads in (0, 1)]
        print(f"| {label} | {totals[1] - totals[0]:,} |")


def _empty_cache(path: Path) -> DirectoryCache:
    shutil.rmtree(path, ignore_errors=True)
    return DirectoryCache(path)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--fresh-load"]:
        fresh_load(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main()
