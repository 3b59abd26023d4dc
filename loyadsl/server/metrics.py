"""Prometheus metrics in the text exposition format (version 0.0.4), summed over the server's workers.

Request counts and latencies per endpoint and status, errors per code, and the points held by open
calculations (read from the database when scraped). Each process counts in memory. With
``--workers N``, ``loya serve`` gives the workers a shared folder: each publishes its counters there
(a JSON file per process, replaced atomically, at most once a second and when it stops), and the
worker that answers a scrape adds the others' latest files to its own live counters, as
prometheus_client's multiprocess mode does. A worker that died keeps its file, so the sums never go
down; the folder goes when the server stops. A scrape may miss the last second of another worker.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
PUBLISH_EVERY = 1.0  # seconds between a worker's files


class Metrics:
    def __init__(self, shared: Path | None = None, pid: int | None = None) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, int], int] = defaultdict(int)
        self.errors: dict[str, int] = defaultdict(int)
        self.buckets: dict[str, list[int]] = {}
        self.sums: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)
        self.shared, self.pid = shared, os.getpid() if pid is None else pid
        self._dirty = threading.Event()
        if shared is not None:
            threading.Thread(target=self._publisher, name="loya-metrics", daemon=True).start()
            atexit.register(self.publish)  # a worker that stops leaves its last counts

    def observe(self, endpoint: str, status: int, seconds: float, code: str | None) -> None:
        with self._lock:
            self.requests[endpoint, status] += 1
            if code is not None:
                self.errors[code] += 1
            counts = self.buckets.setdefault(endpoint, [0] * len(BUCKETS))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    counts[i] += 1
            self.sums[endpoint] += seconds
            self.counts[endpoint] += 1
        if not self._dirty.is_set():
            self._dirty.set()

    # ------------------------------------------------------------------------------------ sharing

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"requests": [[e, s, n] for (e, s), n in self.requests.items()], "errors": dict(self.errors),
                    "buckets": {e: list(c) for e, c in self.buckets.items()}, "sums": dict(self.sums),
                    "counts": dict(self.counts)}

    def publish(self) -> None:
        """Write this process's counters to the shared folder (a new file, then renamed over the old)."""
        if self.shared is None:
            return
        self._dirty.clear()
        target = self.shared / f"{self.pid}.json"
        scratch = self.shared / f".{self.pid}.tmp"
        try:
            scratch.write_text(json.dumps(self.snapshot()), encoding="utf-8")
            os.replace(scratch, target)
        except OSError:
            self._dirty.set()  # the folder is gone or full: try again next time

    def _publisher(self) -> None:
        while True:
            self._dirty.wait()
            self.publish()
            time.sleep(PUBLISH_EVERY)

    def _others(self) -> list[dict[str, Any]]:
        if self.shared is None:
            return []
        out = []
        for path in sorted(self.shared.glob("*.json")):
            if path.stem == str(self.pid):
                continue
            try:
                out.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue  # a worker's file being replaced, or unreadable: its next one counts
        return out

    def _total(self) -> Metrics:
        """This process's live counters plus the other workers' latest."""
        total = Metrics()
        for part in [self.snapshot(), *self._others()]:
            for endpoint, status, n in part["requests"]:
                total.requests[endpoint, int(status)] += n
            for code, n in part["errors"].items():
                total.errors[code] += n
            for endpoint, counts in part["buckets"].items():
                mine = total.buckets.setdefault(endpoint, [0] * len(BUCKETS))
                total.buckets[endpoint] = [a + b for a, b in zip(mine, counts, strict=True)]
            for endpoint, seconds in part["sums"].items():
                total.sums[endpoint] += seconds
            for endpoint, n in part["counts"].items():
                total.counts[endpoint] += n
        return total

    # ------------------------------------------------------------------------------------ text

    def render(self, held_points: int) -> str:
        t = self._total()
        out = ["# HELP loya_requests_total Requests answered, by endpoint and HTTP status.",
               "# TYPE loya_requests_total counter"]
        for (endpoint, status), n in sorted(t.requests.items()):
            out.append(f'loya_requests_total{{endpoint="{endpoint}",status="{status}"}} {n}')
        out += ["# HELP loya_errors_total Errors answered, by LOY code.", "# TYPE loya_errors_total counter"]
        for code, n in sorted(t.errors.items()):
            out.append(f'loya_errors_total{{code="{code}"}} {n}')
        out += ["# HELP loya_request_seconds Time to answer a request.", "# TYPE loya_request_seconds histogram"]
        for endpoint, counts in sorted(t.buckets.items()):
            for bound, n in zip(BUCKETS, counts, strict=True):
                out.append(f'loya_request_seconds_bucket{{endpoint="{endpoint}",le="{bound}"}} {n}')
            out.append(f'loya_request_seconds_bucket{{endpoint="{endpoint}",le="+Inf"}} {t.counts[endpoint]}')
            out.append(f'loya_request_seconds_sum{{endpoint="{endpoint}"}} {t.sums[endpoint]:.6f}')
            out.append(f'loya_request_seconds_count{{endpoint="{endpoint}"}} {t.counts[endpoint]}')
        out += ["# HELP loya_held_points Points held by open calculations (all customers).",
                "# TYPE loya_held_points gauge", f"loya_held_points {held_points}"]
        return "\n".join(out) + "\n"
