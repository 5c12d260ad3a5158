"""``metrics="prometheus"``: the counts of :mod:`.metrics` in prometheus_client's
default registry. Imported only when an app chooses it.

In one process, a collector registered once in ``prometheus_client.REGISTRY``
reads the counts when the registry is scraped (``make_wsgi_app``,
prometheus-flask-exporter, ``generate_latest``): a request adds one to an int,
nothing more. In multiprocess mode (``PROMETHEUS_MULTIPROC_DIR`` set, as under
gunicorn) a scrape reads the files every worker writes and never asks the
workers, so a thread of each worker copies its new counts into prometheus_client's
own counters (its files) every :data:`FLUSH_INTERVAL` seconds, and once more
when the process exits; ``MultiProcessCollector`` sums them across workers.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterator
from typing import Any

from prometheus_client import REGISTRY, Counter, Gauge
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from .metrics import SOURCE_STATES, Counts, MismatchKey, RequestKey, source_figures
from .reasons import logger

REQUESTS = "flask_crossorigin_requests"
REPORT_ONLY = "flask_crossorigin_report_only"
ORIGINS = "flask_crossorigin_origins"
ORIGINS_STATE = "flask_crossorigin_origins_state"
ORIGIN_LOADS = "flask_crossorigin_origin_loads"
REQUEST_LABELS = ("kind", "decision", "policy", "reason")
REPORT_ONLY_LABELS = ("kind", "policy", "reason")
_HELP = {
    REQUESTS: "CORS requests decided, by kind, decision, policy and refusal reason.",
    REPORT_ONLY: "Report-only mismatches, by kind, enforced policy and reason.",
    ORIGINS: "Origins a run-time origin source serves (its last good load).",
    ORIGINS_STATE: "1 for the state a run-time origin source is in (fresh, stale, closed).",
    ORIGIN_LOADS: "Loads of a run-time origin source, by result (ok, failed).",
}
#: Seconds between two copies of a worker's counts into the multiprocess files.
FLUSH_INTERVAL = 1.0

_install_lock = threading.Lock()
_installed: str | None = None


def multiprocess_dir() -> str | None:
    """prometheus_client's multiprocess directory, when it is in that mode."""
    # (prometheus_client also reads the older, lowercase name.)
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get(
        "prometheus_multiproc_dir")  # noqa: SIM112


def install(counts: Counts) -> str:
    """Report ``counts`` in the default registry, once per process whatever the number
    of apps; returns the mode (``"one process"`` or ``"multiprocess"``)."""
    global _installed
    with _install_lock:
        if _installed is None:
            if multiprocess_dir():
                _Flusher(counts).start()
                _installed = "multiprocess"
            else:
                REGISTRY.register(DecisionCollector(counts))
                _installed = "one process"
    return _installed


class DecisionCollector(Collector):
    """Reads the counts at scrape time (one process)."""

    def __init__(self, counts: Counts) -> None:
        self.counts = counts

    def describe(self) -> list[Any]:
        return [CounterMetricFamily(REQUESTS, _HELP[REQUESTS], labels=REQUEST_LABELS),
                CounterMetricFamily(REPORT_ONLY, _HELP[REPORT_ONLY], labels=REPORT_ONLY_LABELS),
                GaugeMetricFamily(ORIGINS, _HELP[ORIGINS], labels=("source",)),
                GaugeMetricFamily(ORIGINS_STATE, _HELP[ORIGINS_STATE],
                                  labels=("source", "state")),
                CounterMetricFamily(ORIGIN_LOADS, _HELP[ORIGIN_LOADS],
                                    labels=("source", "result"))]

    def collect(self) -> Iterator[Any]:
        requests, report_only = self.counts.snapshot()
        family = CounterMetricFamily(REQUESTS, _HELP[REQUESTS], labels=REQUEST_LABELS)
        for request_key, value in sorted(requests.items()):
            family.add_metric(request_key, value)
        yield family
        family = CounterMetricFamily(REPORT_ONLY, _HELP[REPORT_ONLY], labels=REPORT_ONLY_LABELS)
        for mismatch_key, value in sorted(report_only.items()):
            family.add_metric(mismatch_key, value)
        yield family
        served = GaugeMetricFamily(ORIGINS, _HELP[ORIGINS], labels=("source",))
        states = GaugeMetricFamily(ORIGINS_STATE, _HELP[ORIGINS_STATE],
                                   labels=("source", "state"))
        loads = CounterMetricFamily(ORIGIN_LOADS, _HELP[ORIGIN_LOADS],
                                    labels=("source", "result"))
        for name, state, count, ok, failed in _sources(self.counts):
            served.add_metric((name,), count)
            for each in _states(state):
                states.add_metric((name, each), 1.0 if each == state else 0.0)
            loads.add_metric((name, "ok"), ok)
            loads.add_metric((name, "failed"), failed)
        yield served
        yield states
        yield loads


def _sources(counts: Counts) -> list[tuple[str, str, int, int, int]]:
    return sorted(source_figures(source) for source in list(counts.sources))


def _states(state: str) -> tuple[str, ...]:
    return SOURCE_STATES if state in SOURCE_STATES else (*SOURCE_STATES, state)


class _Flusher:
    """Multiprocess mode: copies this process's new counts into prometheus_client's
    counters (its per-process files) every :data:`FLUSH_INTERVAL` seconds, off the
    request path; a forked worker starts its own thread."""

    def __init__(self, counts: Counts) -> None:
        self.counts = counts
        self.requests = Counter(REQUESTS, _HELP[REQUESTS], REQUEST_LABELS)
        self.report_only = Counter(REPORT_ONLY, _HELP[REPORT_ONLY], REPORT_ONLY_LABELS)
        # Live workers only (mark_process_dead removes a dead worker's): the largest value.
        self.served = Gauge(ORIGINS, _HELP[ORIGINS], ("source",), multiprocess_mode="livemax")
        self.states = Gauge(ORIGINS_STATE, _HELP[ORIGINS_STATE], ("source", "state"),
                            multiprocess_mode="livemax")
        self.loads = Counter(ORIGIN_LOADS, _HELP[ORIGIN_LOADS], ("source", "result"))
        self._reset()
        atexit.register(self.flush)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._after_fork)

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._flushed_requests: dict[RequestKey, int] = {}
        self._flushed_report_only: dict[MismatchKey, int] = {}
        # Loads before this process existed are its parent's to report.
        self._flushed_loads: dict[tuple[str, str], int] = {}
        for name, _, _, ok, failed in _sources(self.counts):
            self._flushed_loads[name, "ok"] = ok
            self._flushed_loads[name, "failed"] = failed
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="flask-crossorigin metrics",
                                        daemon=True)
        self._thread.start()

    def _after_fork(self) -> None:
        self._reset()
        self.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(FLUSH_INTERVAL)
            try:
                self.flush()
            except Exception:  # never let the thread die: the next second tries again
                logger.error("copying the CORS metrics to the multiprocess files failed",
                             exc_info=True)

    def flush(self) -> None:
        """Copy what was counted since the last flush into the multiprocess files."""
        with self._lock:
            requests, report_only = self.counts.snapshot()
            _add(self.requests, requests, self._flushed_requests)
            _add(self.report_only, report_only, self._flushed_report_only)
            loads: dict[tuple[str, str], int] = {}
            for name, state, count, ok, failed in _sources(self.counts):
                self.served.labels(name).set(count)
                for each in _states(state):
                    self.states.labels(name, each).set(1.0 if each == state else 0.0)
                loads[name, "ok"] = ok
                loads[name, "failed"] = failed
            _add(self.loads, loads, self._flushed_loads)


def _add(counter: Counter, now: dict[Any, int], flushed: dict[Any, int]) -> None:
    for key, value in now.items():
        delta = value - flushed.get(key, 0)
        if delta > 0:
            counter.labels(*key).inc(delta)
        flushed[key] = value


__all__ = ["DecisionCollector", "install", "multiprocess_dir"]
