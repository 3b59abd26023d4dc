"""Worker processes and signals for a simulation run (docs/simulate.md, "Signals, workers and
temporary files").

* ``WorkerPool``: a local process pool whose workers never outlive the run. Each worker ignores
  SIGINT (the terminal sends it to the whole process group; the parent decides), takes SIGTERM's
  default action, and exits by itself when its parent is gone (it checks every
  ``PARENT_CHECK_SECONDS``). When the parent leaves the pool by an exception (an interruption, a
  failure), the workers are terminated and joined before the exception goes on, so nothing writes
  into the run's temporary directory once it is being removed. A worker that dies (SIGKILL, the
  out-of-memory killer) becomes ``WorkerDied``, naming the job it was running.
* ``Janitor``: a small process that removes the run's temporary directory and its half-written
  quarantine if the run is killed outright (SIGKILL, the out-of-memory killer), which leaves it no
  ``finally`` to run. It waits for the end of a pipe from the run: the run closes it when it ends,
  and the system closes it when the run dies. (The workers go too: a pool's by its parent watch, a
  dask local cluster's by dask's own, ``distributed.process.AsyncProcess._immediate_exit_when_closed``.)
* ``stop_on_signals``: SIGTERM and SIGINT raise ``Interrupted`` in the main thread, so every
  ``finally`` of the run (the pool, the temporary directory, the quarantine) runs; further signals
  are ignored while it unwinds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, TypeVar

from loyadsl.simulate.errors import Interrupted, WorkerDied

J = TypeVar("J")
R = TypeVar("R")

PARENT_CHECK_SECONDS = 0.5  # how soon an orphaned worker notices and exits
STOP_SECONDS = 5.0  # how long a terminated worker may take to exit before it is killed
_TRACK = ".worker-"  # a worker's note of the job it runs, in the run's folder: ``.worker-PID``


class WorkerPool:
    """``workers`` processes running jobs for one run; use as a context manager."""

    def __init__(self, workers: int, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.executor = ProcessPoolExecutor(max_workers=workers, initializer=_start_worker,
                                            initargs=(os.getpid(),))

    def map(self, work: Callable[[J], R], jobs: Sequence[J], what: Callable[[int], str]) -> Iterator[R]:
        """``work(job)`` for every job, results in job order. ``what(i)`` says what job ``i`` does,
        for the message when its worker dies ("replaying partition 3")."""
        futures = [self.executor.submit(_tracked, work, str(self.folder), index, job)
                   for index, job in enumerate(jobs)]
        processes = dict(getattr(self.executor, "_processes", None) or {})  # pid -> Process, for a death's cause
        for index, future in enumerate(futures):
            try:
                result = future.result()
            except BrokenProcessPool:
                raise self._died(processes, what, index) from None
            except MemoryError:
                raise WorkerDied(what(index), "out of memory") from None
            yield result

    def _died(self, processes: dict[int, Any], what: Callable[[int], str], waiting: int) -> WorkerDied:
        """Which worker died, how, and what it was doing (else the job waited for)."""
        for process in processes.values():
            process.join(STOP_SECONDS)
        dead = [p for p in processes.values() if p.exitcode not in (None, 0, -signal.SIGTERM)] or \
               [p for p in processes.values() if p.exitcode not in (None, 0)]
        if not dead:
            return WorkerDied(what(waiting), "cause unknown")
        process = dead[0]
        code = process.exitcode
        how = f"signal {-code}" if code < 0 else f"exit code {code}"
        try:
            index = int((self.folder / f"{_TRACK}{process.pid}").read_text(encoding="ascii"))
        except (OSError, ValueError):
            index = waiting
        return WorkerDied(what(index), how)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if kind is None:
            self.executor.shutdown(wait=True)
        else:
            self.stop()

    def stop(self) -> None:
        """Cancel what has not started, terminate the workers and wait until they are gone."""
        processes = list((getattr(self.executor, "_processes", None) or {}).values())
        self.executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(STOP_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()


JANITOR_SWEEPS = 30  # after a run that died, sweeps 0.1 s apart: workers exiting may write a last file
JANITOR_MARK = "loya-janitor"  # in the janitor's command line, to tell it from the workers
_JANITOR = """import os, shutil, signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
paths = [p for p in sys.stdin.buffer.read().split(b"\\0") if p]
def sweep():
    found = False
    for path in paths:
        if os.path.isdir(path):
            found = True
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.lexists(path):
            found = True
            try:
                os.unlink(path)
            except OSError:
                pass
    return found
if sweep():  # the run died: its workers may still be writing as they exit
    for _ in range(JANITOR_SWEEPS):
        time.sleep(0.1)
        sweep()
""".replace("JANITOR_SWEEPS", str(JANITOR_SWEEPS))


class Janitor:
    """Removes the paths it is given (``add``: folders and files) once the run ends, however it ends;
    use as a context manager around everything that may leave them. The run removes them itself when
    it can, so on a normal end the janitor finds nothing to do. It ignores SIGINT and SIGTERM (sent to
    the whole process group, they are the run's to handle) and always ends with the run."""

    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-I", "-S", "-c", _JANITOR, JANITOR_MARK],
                                        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)

    def add(self, path: str | Path) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(os.fsencode(path) + b"\0")
        self.process.stdin.flush()

    def __enter__(self) -> Janitor:
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait()


def _start_worker(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)  # the parent is gone: nobody will read what this worker makes

    threading.Thread(target=watch, name="loya-parent-watch", daemon=True).start()


def _tracked(work: Callable[[J], R], folder: str, index: int, job: J) -> R:
    note = Path(folder, f"{_TRACK}{os.getpid()}")
    note.write_text(str(index), encoding="ascii")
    return work(job)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGTERM and SIGINT raise ``Interrupted`` here (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = (signal.SIGTERM, signal.SIGINT)
    before = {s: signal.getsignal(s) for s in caught}

    def interrupt(signum: int, frame: FrameType | None) -> None:
        for s in caught:  # once: the run unwinds (workers, temporary files) without being cut short again
            signal.signal(s, signal.SIG_IGN)
        raise Interrupted(signum)

    for s in caught:
        signal.signal(s, interrupt)
    try:
        yield
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)
