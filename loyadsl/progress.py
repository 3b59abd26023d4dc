"""Progress of long commands in logs: plain lines every few seconds when stderr is not a terminal.

On a terminal ``loya simulate``, ``diff`` and ``collisions`` draw a rich bar that redraws itself;
in a CI log that bar is either invisible or thousands of lines. There a ``PlainProgress`` prints a
line at most every ``LOYA_PROGRESS_EVERY`` seconds (default 10; 0 turns it off) with the phase,
the count, the rate and, when the total is known, the share done and the time left::

    loya: replay: 1,200,000 receipts, 15,020/s, 80 s; 60% of ~2,000,000, ETA 53 s

A run shorter than the interval prints nothing, so quick commands keep their output as it was.
A phase's total is given by its caller, or taken from the previous phase (the receipts read are
those replayed, quarantined ones aside: hence "~").
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TextIO

DEFAULT_EVERY = 10.0


def interval_from_env(default: float = DEFAULT_EVERY) -> float:
    """``LOYA_PROGRESS_EVERY`` in seconds (0: no progress lines); a value that is not a number is ignored."""
    text = os.environ.get("LOYA_PROGRESS_EVERY", "")
    try:
        value = float(text)
    except ValueError:
        return default
    return value if value >= 0 else default


class PlainProgress:
    """A progress callback ``(phase, done, total=None)`` that writes a line at most every ``every`` seconds."""

    def __init__(self, stream: TextIO, every: float, unit: str = "receipts",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream, self.every, self.unit, self.clock = stream, every, unit, clock
        self.phase: str | None = None
        self.started = self.last = clock()
        self.previous_count = 0  # the count the previous phase ended with: the next one's likely total
        self._count = 0

    def __call__(self, phase: str, done: int, total: int | None = None) -> None:
        now = self.clock()
        if phase != self.phase:
            if self.phase is not None:  # the first phase started when the command did
                self.previous_count, self.started = self._count, now
            self.phase = phase
        self._count = done
        if self.every <= 0 or now - self.last < self.every:
            return
        self.last = now
        self.stream.write(self.line(phase, done, total if total is not None else self._guess(), now) + "\n")
        self.stream.flush()

    def _guess(self) -> int | None:
        return self.previous_count or None

    def line(self, phase: str, done: int, total: int | None, now: float) -> str:
        elapsed = now - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        text = f"loya: {phase}: {done:,} {self.unit}, {rate:,.0f}/s, {elapsed:,.0f} s"
        if total and done <= total:
            left = (total - done) / rate if rate > 0 else None
            text += f"; {100 * done // total}% of ~{total:,}"
            if left is not None:
                text += f", ETA {left:,.0f} s"
        return text
