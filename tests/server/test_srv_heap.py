"""A worker's heap (app.settle_heap): the bundle in force loaded, then everything the worker holds
frozen out of the garbage collector's reach and full passes made rare. In a fresh interpreter each
(the freeze is the whole process's)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import gc, json, sys
from loyadsl.server.app import FULL_PASS_EVERY, settle_heap
from loyadsl.server.connect import open_store
from loyadsl.server.processing import Processor
store = open_store(sys.argv[1])
store.upgrade()
if len(sys.argv) > 2:
    Processor(store).install_bundle(open(sys.argv[2], "rb").read())
processor = Processor(store)
settle_heap(processor)
gc.collect()
print(json.dumps({"engines": len(processor._engines), "frozen": gc.get_freeze_count(),
                  "tracked": len(gc.get_objects()), "full_every": gc.get_threshold()[2], "wanted": FULL_PASS_EVERY}))
"""


def _settled(*args: str) -> dict[str, int]:
    done = subprocess.run([sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def test_a_worker_loads_its_bundle_then_freezes_what_it_holds(tmp_path: Path, bundle: bytes) -> None:
    (tmp_path / "b.loyab").write_bytes(bundle)
    settled = _settled(f"sqlite:///{tmp_path / 'w.db'}", str(tmp_path / "b.loyab"))
    assert settled["engines"] == 1  # the bundle read before the freeze: the first request does not make it
    assert settled["frozen"] > 20 * settled["tracked"], settled  # the collector scans next to nothing of it
    assert settled["full_every"] == settled["wanted"] > 10


def test_a_worker_without_a_bundle_yet_starts(tmp_path: Path) -> None:
    settled = _settled(f"sqlite:///{tmp_path / 'empty.db'}")
    assert settled["engines"] == 0 and settled["frozen"] > 0
