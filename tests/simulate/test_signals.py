"""Signals, workers and temporary files (docs/simulate.md, "Signals, workers and temporary files"):
`loya simulate` run as a process on a generated history that takes several seconds. SIGTERM or SIGINT
once the spill has started stops it promptly with a coded message, no worker survives and the temporary
directory is gone; a worker killed with SIGKILL gives a coded message naming what it was doing; and
workers do not outlive a parent that was killed outright. Each test waits for a state (a spill file,
an exit) under a generous bound, never for a time."""

from __future__ import annotations

import gzip
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from loyadsl.api import compile_file
from loyadsl.simulate.pool import JANITOR_MARK

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from /proc")

EXAMPLE = Path(__file__).parents[2] / "examples" / "supermarket" / "programme.loya"
BOUND = 60.0  # seconds: only for a test that would otherwise hang; each step takes well under one


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The example programme's bundle and 15,000 receipts of 3,000 customers (about 10 MB)."""
    folder = tmp_path_factory.mktemp("signals")
    bundle, result = compile_file(EXAMPLE)
    assert bundle is not None, result.diagnostics
    (folder / "programme.loyab").write_bytes(bundle)
    rng = random.Random(7)
    with (folder / "history.jsonl").open("w", encoding="utf-8") as f:
        for i in range(15_000):
            lines = []
            for k in range(1, 6):
                qty, price = 1 + rng.randrange(3), 1000 + rng.randrange(50_000)
                lines.append({"line_no": k, "sku": f"SKU{rng.randrange(5000):05d}", "category": "grocery/tea",
                              "qty": qty, "unit_price": price, "amount": qty * price})
            when = f"2025-{1 + rng.randrange(12):02d}-{1 + rng.randrange(28):02d}T12:{rng.randrange(60):02d}:00+03:00"
            f.write(json.dumps({"receipt_id": f"S{i:07d}", "customer_id": f"C{rng.randrange(3000):05d}",
                                "datetime": when, "store_id": "S001", "lines": lines}) + "\n")
    (folder / "history.jsonl.gz").write_bytes(gzip.compress((folder / "history.jsonl").read_bytes(), 1))
    return folder / "programme.loyab", folder / "history.jsonl"


def start(tmp_path: Path, inputs: tuple[Path, Path], *options: str, gz: bool = False
          ) -> tuple[subprocess.Popen[bytes], Path]:
    """``loya simulate`` on the history (``gz``: gzip, with --strict, which reads in this process:
    the workers replay only)."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    bundle, history = inputs
    history = history.with_name(history.name + ".gz") if gz else history
    command = [sys.executable, "-c", "from loyadsl.cli import main; main()", "simulate", str(bundle), "-r", str(history),
               "--quarantine", str(tmp_path / "bad.jsonl"), *options, *(["--strict"] if gz else [])]
    process = subprocess.Popen(command, env={**os.environ, "TMPDIR": str(temp)}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    return process, temp


def until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + BOUND
    while not condition():
        assert time.monotonic() < deadline, "the state never came"
        time.sleep(0.02)


def spilling(temp: Path) -> bool:
    for spill in temp.glob("loya-sim-*/*"):
        try:
            if spill.stat().st_size:
                return True
        except OSError:
            pass  # removed meanwhile
    return False


def children(pid: int) -> list[int]:
    """The worker processes of ``pid`` (multiprocessing's resource tracker and the run's janitor aside)."""
    return [int(stat.parent.name) for stat in Path("/proc").glob("[0-9]*/stat")
            if _parent(stat) == pid and b"resource_tracker" not in _cmdline(stat.parent)
            and JANITOR_MARK.encode() not in _cmdline(stat.parent)]


def _cmdline(folder: Path) -> bytes:
    try:
        return (folder / "cmdline").read_bytes()
    except OSError:
        return b""


def _parent(stat: Path) -> int | None:
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def alive(pids: list[int]) -> list[int]:
    """The processes of ``pids`` still running (a zombie has finished)."""
    running = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            running.append(pid)
    return running


def finish(process: subprocess.Popen[bytes]) -> tuple[int, str]:
    _, err = process.communicate(timeout=BOUND)
    return process.returncode, err.decode("utf-8", "replace")


@pytest.mark.parametrize(("signum", "workers"), [(signal.SIGTERM, "2"), (signal.SIGINT, "2"), (signal.SIGTERM, "1")])
def test_a_signal_stops_the_run_and_removes_its_files(tmp_path: Path, inputs: tuple[Path, Path], signum: int,
                                                      workers: str) -> None:
    process, temp = start(tmp_path, inputs, "--workers", workers)
    until(lambda: spilling(temp))
    workers_seen = children(process.pid)
    process.send_signal(signum)
    code, err = finish(process)
    assert code == 128 + signum
    name = signal.Signals(signum).name
    assert f"error[LOY612]: interrupted by {name}: the workers were stopped and the temporary files removed" in err
    assert "Traceback" not in err
    assert alive(workers_seen) == []
    assert list(temp.iterdir()) == []  # no spill, no run folder
    assert list(tmp_path.glob("*bad.jsonl*")) == []  # no half-written quarantine


def test_a_worker_killed_outright_is_reported(tmp_path: Path, inputs: tuple[Path, Path]) -> None:
    process, temp = start(tmp_path, inputs, "--workers", "2", gz=True)
    until(lambda: len(children(process.pid)) >= 2)  # replaying: 16 partitions for 2 workers, none idle
    workers_seen = children(process.pid)
    os.kill(workers_seen[0], signal.SIGKILL)
    code, err = finish(process)
    assert code == 2, err
    assert "error[LOY611]: a worker process died (signal 9) while replaying partition " in err
    assert "; nothing was written" in err and "Traceback" not in err
    assert alive(workers_seen) == []
    assert list(temp.iterdir()) == []


@pytest.mark.parametrize("workers", ["2", "1"])
def test_workers_do_not_outlive_a_parent_killed_outright(tmp_path: Path, inputs: tuple[Path, Path],
                                                         workers: str) -> None:
    """SIGKILL leaves the run no ``finally``: each worker notices its parent is gone within
    PARENT_CHECK_SECONDS, and the janitor removes the spill and the half-written quarantine."""
    process, temp = start(tmp_path, inputs, "--workers", workers)
    until(lambda: spilling(temp) and len(children(process.pid)) >= int(workers) - 1)
    seen = descendants(process.pid)
    process.kill()
    process.communicate(timeout=BOUND)
    until(lambda: not alive(seen))
    until(lambda: list(temp.iterdir()) == [] and list(tmp_path.glob("*bad.jsonl*")) == [])


def test_a_signal_stops_a_dask_local_cluster(tmp_path: Path, inputs: tuple[Path, Path]) -> None:
    pytest.importorskip("distributed")
    process, temp = start(tmp_path, inputs, "--workers", "2", "--backend", "dask")
    until(lambda: len(children(process.pid)) >= 2)  # the cluster's worker processes are up
    seen = descendants(process.pid)
    process.send_signal(signal.SIGTERM)
    code, err = finish(process)
    assert code == 143 and "error[LOY612]: interrupted by SIGTERM" in err and "Traceback" not in err, err
    until(lambda: not alive(seen))
    assert list(temp.iterdir()) == []  # partitions and dask's scratch space


def descendants(pid: int) -> list[int]:
    found = children(pid)
    return found + [d for child in found for d in descendants(child)]


def test_dask_workers_do_not_outlive_a_parent_killed_outright(tmp_path: Path, inputs: tuple[Path, Path]) -> None:
    """SIGKILL leaves the parent no chance to stop its local cluster: the workers notice their parent
    is gone and exit, and the janitor removes the run's folder (the partitions, dask's scratch space)."""
    pytest.importorskip("distributed")
    process, temp = start(tmp_path, inputs, "--workers", "2", "--backend", "dask")
    until(lambda: len(children(process.pid)) >= 2 and any(temp.glob("loya-sim-*/part-*.parquet")))
    seen = descendants(process.pid)
    process.kill()
    process.communicate(timeout=BOUND)
    until(lambda: not alive(seen))
    until(lambda: list(temp.iterdir()) == [])
