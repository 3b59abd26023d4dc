"""The long fuzz run: every target of tests/fuzz/targets.py fed by the strategies of
tests/fuzz/strategies.py, for as many cases or seconds as asked, printing per target the cases tried,
cases per second, the slowest case and the distinct failures, and writing each distinct failure's
smallest input to a folder (in the format of tests/fuzz/regressions/*.json, ready to keep there).

    python bench/fuzz.py [--target T ...] [--cases N] [--seconds S] [--seed K] [--out DIR]

``--seconds`` is the budget of the whole run, shared evenly by the targets; the run stops by itself.
A failure is an uncaught non-LoyaError exception, an unregistered code or LOY999, a broken contract
(targets.py), or a case that takes more than 1 s of CPU ("stall", with the frame it was in at 1 s;
a case is stopped at 10 s; a stall counts when the case stalls again when run once more). Times are CPU times of this process, so a busy machine does not make
stalls; the rates are per second of wall-clock time. Hypothesis drives the search: a new failure is shrunk at once (for at most 30 s),
then the search goes on with the next seed, counting only failures it has not seen.
"""

from __future__ import annotations

import argparse
import gc
import json
import signal
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The fuzz suite is the package tests/fuzz; this script's own folder must not shadow it as `fuzz`.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT / "tests"))

from fuzz import strategies, targets  # type: ignore[import-not-found]  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis.errors import Flaky  # noqa: E402

STALL_SECONDS = 1.0
KILL_SECONDS = 10.0
SHRINK_SECONDS = 30.0

STRATEGIES: dict[str, Any] = strategies.FOR_TARGET


class _Stop(BaseException):
    """Out of time or cases: ends hypothesis's run at once (it does not catch BaseException)."""


class _Killed(BaseException):
    """A case ran past KILL_SECONDS."""


class _Found(Exception):
    """Raised to hypothesis for a new failure, so that it shrinks it; one subclass per failure key,
    so hypothesis keeps distinct failures apart while shrinking."""


_FOUND_CLASSES: dict[str, type[_Found]] = {}


def _found(key: str) -> _Found:
    cls = _FOUND_CLASSES.setdefault(key, type(f"Found{len(_FOUND_CLASSES)}", (_Found,), {}))
    return cls(key)


@dataclass
class Failure:
    finding: targets.Finding
    case: dict[str, Any]
    size: int
    seconds: float
    count: int = 1


@dataclass
class Stats:
    target: str
    cases: int = 0
    seconds: float = 0.0
    slowest: float = 0.0
    failures: dict[str, Failure] = field(default_factory=dict)


class _Clock:
    """Per-case alarms on the CPU time the process uses (so a busy machine does not make stalls):
    at STALL_SECONDS note where the case is, at KILL_SECONDS stop it."""

    def __init__(self) -> None:
        self.stalled_at: str | None = None
        signal.signal(signal.SIGPROF, self._ring)

    def start(self) -> None:
        self.stalled_at = None
        signal.setitimer(signal.ITIMER_PROF, STALL_SECONDS)

    def stop(self) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0)

    def _ring(self, _signum: int, frame: FrameType | None) -> None:
        if self.stalled_at is None:
            self.stalled_at = _where(frame)
            signal.setitimer(signal.ITIMER_PROF, KILL_SECONDS - STALL_SECONDS)
            return
        raise _Killed()


def _where(frame: FrameType | None) -> str:
    where = "?"
    for entry in traceback.extract_stack(frame):
        if entry.filename.startswith("<"):
            continue
        path = Path(entry.filename).resolve()
        if path.is_relative_to(ROOT) and not path.is_relative_to(targets.HERE) and ".venv" not in path.parts \
                and path != Path(__file__).resolve():
            where = f"{path.relative_to(ROOT).as_posix()}:{entry.lineno}"
    return where


def fuzz(target: str, cases: int, seconds: float, first_seed: int, clock: _Clock, out: Path) -> Stats:
    """Rounds of hypothesis search on ``target``, one seed each, until the cases or the time run out;
    the failures are written after every round (so a run cut short keeps what it found)."""
    stats = Stats(target)
    strategy = STRATEGIES[target]()
    start = time.monotonic()
    deadline = start + seconds
    round_no = 0
    while stats.cases < cases and time.monotonic() < deadline:
        done = _round(target, strategy, stats, cases, deadline, first_seed + round_no, clock)
        write(stats, out)
        if done:
            break
        round_no += 1
    stats.seconds = time.monotonic() - start
    return stats


def _round(target: str, strategy: Any, stats: Stats, cases: int, deadline: float, round_seed: int,
           clock: _Clock) -> bool:
    """One hypothesis run: search until a failure not seen before, shrink it (at most SHRINK_SECONDS),
    return. True when the whole budget is spent."""
    known = set(stats.failures)
    shrinking_since: list[float] = []

    @settings(max_examples=max(1, cases - stats.cases), database=None, deadline=None, derandomize=False,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate, Phase.shrink],
              report_multiple_bugs=False, print_blob=False)
    @seed(round_seed)
    @given(strategy)
    def body(case: dict[str, Any]) -> None:
        now = time.monotonic()
        if now > deadline or stats.cases >= cases or (shrinking_since and now - shrinking_since[0] > SHRINK_SECONDS):
            raise _Stop()
        finding = _one(target, case, stats, clock)
        if finding is not None and finding.key not in known and finding.kind != "stall":  # stalls are not repeatable
            shrinking_since[:1] = shrinking_since[:1] or [now]
            raise _found(finding.key)

    try:
        body()
    except _Stop:
        pass
    except (_Found, Flaky):  # a failure hypothesis found and shrank (or could not repeat): recorded by _one
        pass
    return time.monotonic() > deadline or stats.cases >= cases


def _one(target: str, case: dict[str, Any], stats: Stats, clock: _Clock) -> targets.Finding | None:
    """Run one case, timed; record a failure (keeping the smallest input per key)."""
    finding, elapsed = _timed(target, case, clock)
    stats.cases += 1
    stats.slowest = max(stats.slowest, elapsed)
    if finding is None and clock.stalled_at is not None:
        gc.collect()  # a stall counts only if it repeats (not a garbage collection of the run's heap)
        again, elapsed_again = _timed(target, case, clock)
        if again is None and clock.stalled_at is not None:
            finding = targets.Finding(target, "stall", f"case took {elapsed:.1f} s, {elapsed_again:.1f} s again",
                                      clock.stalled_at)
    if finding is None:
        return None
    encoded = targets.encode(case)
    size = len(json.dumps(encoded, ensure_ascii=True))
    seen = stats.failures.get(finding.key)
    if seen is None:
        stats.failures[finding.key] = Failure(finding, encoded, size, elapsed)
    else:
        seen.count += 1
        if size < seen.size:
            seen.case, seen.size, seen.seconds, seen.finding = encoded, size, elapsed, finding
    return finding


def _timed(target: str, case: dict[str, Any], clock: _Clock) -> tuple[targets.Finding | None, float]:
    """Run one case under the clock: (the finding or None, CPU seconds)."""
    finding: targets.Finding | None = None
    t0 = time.process_time()
    clock.start()
    try:
        targets.run(target, case)
    except targets.Finding as exc:
        finding = exc
    except _Killed:
        pass
    except Exception as exc:  # outside the oracle's guard: a bug of the fuzz suite itself, shown as one
        finding = targets.Finding(target, "harness", f"{type(exc).__name__}: {exc}", targets.project_frame(
            exc.__traceback__), "".join(traceback.format_exception(exc)[-8:]))
    finally:
        clock.stop()
    return finding, time.process_time() - t0


def write(stats: Stats, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for i, failure in enumerate(sorted(stats.failures.values(), key=lambda f: f.finding.key)):
        f = failure.finding
        record = {"target": f.target, "kind": f.kind, "summary": f.summary, "where": f.where, "key": f.key,
                  "seen": failure.count, "seconds": round(failure.seconds, 3), "detail": f.detail,
                  "case": failure.case}
        (out / f"{stats.target}-{i:02d}.json").write_text(targets.dumps(record) + "\n", encoding="utf-8")


def report(stats: Stats) -> None:
    rate = stats.cases / stats.seconds if stats.seconds else 0.0
    print(f"{stats.target:9} {stats.cases:>9,} cases  {rate:8.1f} cases/s  slowest {stats.slowest:6.3f} s  "
          f"{len(stats.failures)} distinct failures", flush=True)
    for failure in sorted(stats.failures.values(), key=lambda f: f.finding.key):
        f = failure.finding
        print(f"    [{failure.count:>6}x] {f.kind}: {f.summary[:110]}  at {f.where}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", action="append", choices=sorted(STRATEGIES), help="repeatable; default all")
    parser.add_argument("--cases", type=int, default=1_000_000, help="per target")
    parser.add_argument("--seconds", type=float, default=600.0, help="for the whole run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("/tmp/loya-fuzz"))
    args = parser.parse_args()
    chosen = args.target or list(STRATEGIES)
    targets.warm_up()
    clock = _Clock()
    total = 0
    failures = 0
    for i, target in enumerate(chosen):
        stats = fuzz(target, args.cases, args.seconds / len(chosen), args.seed + 1000 * i, clock, args.out / target)
        report(stats)
        total += stats.cases
        failures += len(stats.failures)
    print(f"total     {total:>9,} cases  {failures} distinct failures (inputs in {args.out})", flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
