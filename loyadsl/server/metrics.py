"""Prometheus metrics in the text exposition format (version 0.0.4), kept in the process.

Request counts and latencies per endpoint and status, errors per code, and the points held by open
calculations (read from the database when scraped). With ``--workers N`` each process counts its own
requests: a scrape sees one of them; run one worker per scraped port, or sum in Prometheus.
"""

from __future__ import annotations

import threading
from collections import defaultdict

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, int], int] = defaultdict(int)
        self.errors: dict[str, int] = defaultdict(int)
        self.buckets: dict[str, list[int]] = {}
        self.sums: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)

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

    def render(self, held_points: int) -> str:
        out = ["# HELP loya_requests_total Requests answered, by endpoint and HTTP status.",
               "# TYPE loya_requests_total counter"]
        with self._lock:
            for (endpoint, status), n in sorted(self.requests.items()):
                out.append(f'loya_requests_total{{endpoint="{endpoint}",status="{status}"}} {n}')
            out += ["# HELP loya_errors_total Errors answered, by LOY code.", "# TYPE loya_errors_total counter"]
            for code, n in sorted(self.errors.items()):
                out.append(f'loya_errors_total{{code="{code}"}} {n}')
            out += ["# HELP loya_request_seconds Time to answer a request.", "# TYPE loya_request_seconds histogram"]
            for endpoint, counts in sorted(self.buckets.items()):
                for bound, n in zip(BUCKETS, counts, strict=True):
                    out.append(f'loya_request_seconds_bucket{{endpoint="{endpoint}",le="{bound}"}} {n}')
                out.append(f'loya_request_seconds_bucket{{endpoint="{endpoint}",le="+Inf"}} {self.counts[endpoint]}')
                out.append(f'loya_request_seconds_sum{{endpoint="{endpoint}"}} {self.sums[endpoint]:.6f}')
                out.append(f'loya_request_seconds_count{{endpoint="{endpoint}"}} {self.counts[endpoint]}')
        out += ["# HELP loya_held_points Points held by open calculations (all customers).",
                "# TYPE loya_held_points gauge", f"loya_held_points {held_points}"]
        return "\n".join(out) + "\n"
