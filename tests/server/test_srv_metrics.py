"""Metrics of several workers: each publishes its counters to the shared folder, a scrape adds them."""

from __future__ import annotations

from pathlib import Path

from loyadsl.server.metrics import Metrics


def count(text: str, series: str) -> int:
    line = next(x for x in text.splitlines() if x.startswith(series + " "))
    return int(line.rsplit(" ", 1)[1])


def test_a_scrape_adds_the_other_workers_published_counters(tmp_path: Path) -> None:
    one, two = Metrics(tmp_path, pid=101), Metrics(tmp_path, pid=102)
    for _ in range(3):
        one.observe("calculate", 200, 0.004, None)
    two.observe("calculate", 200, 0.3, None)
    two.observe("confirm", 409, 0.01, "LOY812")
    two.publish()
    text = one.render(held_points=7)
    assert count(text, 'loya_requests_total{endpoint="calculate",status="200"}') == 4
    assert count(text, 'loya_requests_total{endpoint="confirm",status="409"}') == 1
    assert count(text, 'loya_errors_total{code="LOY812"}') == 1
    assert count(text, 'loya_request_seconds_bucket{endpoint="calculate",le="0.005"}') == 3
    assert count(text, 'loya_request_seconds_bucket{endpoint="calculate",le="+Inf"}') == 4
    assert "loya_held_points 7" in text
    # the answering worker's own counts are live; its own file is not added twice
    one.publish()
    assert count(one.render(0), 'loya_requests_total{endpoint="calculate",status="200"}') == 4


def test_a_single_process_and_a_broken_file(tmp_path: Path) -> None:
    alone = Metrics()
    alone.observe("health", 200, 0.001, None)
    assert count(alone.render(0), 'loya_requests_total{endpoint="health",status="200"}') == 1
    shared = Metrics(tmp_path, pid=7)
    (tmp_path / "8.json").write_text("{not json", encoding="utf-8")  # a file being replaced
    shared.observe("health", 200, 0.001, None)
    assert count(shared.render(0), 'loya_requests_total{endpoint="health",status="200"}') == 1
