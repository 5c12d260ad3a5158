"""``metrics="prometheus"`` under gunicorn with 4 workers in prometheus_client's
multiprocess mode: the counts of every worker sum exactly in one scrape."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .metrics_app import (
    REPORT_ONLY,
    REPORT_ONLY_LABELS,
    REQUEST_LABELS,
    REQUESTS,
    gunicorn,
    http_sender,
    samples,
    send_mix,
)

ROUNDS = 8
GUNICORN_CONFIG = """
from prometheus_client import multiprocess

def child_exit(server, worker):
    multiprocess.mark_process_dead(worker.pid)
"""


def scrape(port: int) -> str:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/metrics")
    return connection.getresponse().read().decode()


def test_four_workers_sum_exactly(tmp_path: Path) -> None:
    directory = tmp_path / "multiproc"
    directory.mkdir()
    config = tmp_path / "gunicorn.conf.py"
    config.write_text(GUNICORN_CONFIG)
    environ = {"PROMETHEUS_MULTIPROC_DIR": str(directory), "METRICS_APP_BACKEND": "prometheus"}
    with gunicorn("tests.metrics_app:create_app()", environ, workers=4,
                  config=str(config)) as port:
        counted_by: set[str] = set()
        send = http_sender(port, counted_by)
        rounds = 0
        # Concurrent connections spread over the workers, but nothing makes the kernel
        # hand them to more than one (the first worker up may take them all): the mix
        # goes on until at least two workers have counted, and the sums expected follow
        # the rounds sent.
        with ThreadPoolExecutor(8) as pool:
            while rounds < ROUNDS or len(counted_by) < 2:
                assert rounds < 50 * ROUNDS, f"one worker answered everything: {counted_by}"
                list(pool.map(lambda _: send_mix(send), range(ROUNDS)))
                rounds += ROUNDS
        want_requests = {key: float(value * rounds) for key, value in REQUESTS.items()}
        want_report_only = {key: float(value * rounds) for key, value in REPORT_ONLY.items()}
        deadline = time.monotonic() + 30  # each worker copies its counts every second
        while True:
            text = scrape(port)
            got = samples(text, "flask_crossorigin_requests_total", REQUEST_LABELS)
            got_report_only = samples(text, "flask_crossorigin_report_only_total",
                                      REPORT_ONLY_LABELS)
            if (got, got_report_only) == (want_requests, want_report_only):
                break
            assert time.monotonic() < deadline, (got, got_report_only)
            time.sleep(0.25)
        # Still exact a few flushes later: nothing counted twice.
        time.sleep(2.5)
        text = scrape(port)
        assert samples(text, "flask_crossorigin_requests_total", REQUEST_LABELS) == want_requests
    writers = [path for path in directory.glob("counter_*.db") if path.stat().st_size]
    assert len(writers) >= 2, writers  # the sum is over several workers' files
