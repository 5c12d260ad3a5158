"""Counting decisions for the ``metrics`` option: what every backend shares.

A request pays for metrics only where a decision is final (see
``extension._decided`` and ``report_only._report``), and only when the app has
``metrics`` on: its policy then carries a :class:`PolicyMetrics`, which adds one
to a plain ``int`` in this process's :data:`COUNTS`, under a lock, keyed by a
label tuple built at start-up. The backends read those counts off the request
path: Prometheus through a collector at scrape time (or, in prometheus_client's
multiprocess mode, a thread that copies them into its files every second),
OpenTelemetry through observable instruments at collection time. Neither
library is imported unless chosen (``metrics_prometheus.py``,
``metrics_opentelemetry.py``).

Label values come only from the configuration (policy names, run-time origin
sources) and from the fixed reason codes of :mod:`.reasons`, never from a
request: a flood of distinct origins, hosts or methods adds no series.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import os
import threading
import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .errors import Problem
from .reasons import REASONS

if TYPE_CHECKING:
    from .origins import OriginSource
    from .reasons import Refusal

#: The values of the ``metrics`` option, other than ``False``.
BACKENDS = ("prometheus", "opentelemetry")
#: Per backend: the module whose presence says the library is installed, and the pip
#: extra that installs it.
_LIBRARIES = {
    "prometheus": ("prometheus_client", "flask-crossorigin[prometheus]"),
    "opentelemetry": ("opentelemetry.metrics", "flask-crossorigin[opentelemetry]"),
}
#: The ``kind`` label: what the browser asked for, as the extension judged it.
KINDS = ("actual", "preflight", "write")

RequestKey = tuple[str, str, str, str]  # kind, decision, policy, reason
MismatchKey = tuple[str, str, str]  # kind, policy, reason


def check_metrics(value: Any, where: str, problems: list[Problem]) -> str | None:
    """``metrics``: ``False``/``None`` (off) or a backend whose library is installed.

    Only looks the library up (``importlib.util.find_spec``), never imports it.
    """
    if value is False or value is None:
        return None
    if not isinstance(value, str) or value not in BACKENDS:
        hint = ""
        if isinstance(value, str) and value.strip().lower() in BACKENDS:
            hint = f"; write {value.strip().lower()!r} (lowercase)"
        elif value is True or (isinstance(value, str)
                               and value.strip().lower() in ("true", "1", "yes", "on")):
            hint = "; name the library: 'prometheus' or 'opentelemetry'"
        problems.append(Problem(where, "metrics", value,
                                f"must be False, 'prometheus' or 'opentelemetry'{hint}"))
        return None
    module, extra = _LIBRARIES[value]
    if not _installed(module):
        problems.append(Problem(
            where, "metrics", value,
            f"needs {module.partition('.')[0]}, which is not installed; "
            f"pip install '{extra}'"))
        return None
    return value


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package that is missing or broken
        return False


class Counts:
    """The decisions counted in this process, by label values.

    Each series is an ``itertools.count``: a request adds one with ``next()``, a
    single C call that no other thread can interleave with (no lock to take),
    and its ``repr`` (``count(12)``) gives the value at collection time. Shared
    by every app of the process (two apps with metrics on count into the same
    series). A forked child (a gunicorn worker) starts from zero: what the
    parent counted is the parent's to report.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()  # taken at start-up and collection, never by a request
        self.requests: dict[RequestKey, itertools.count[int]] = {}
        self.report_only: dict[MismatchKey, itertools.count[int]] = {}
        self._base: dict[tuple[str, ...], int] = {}  # the values inherited at fork
        #: Run-time origin sources of the apps with metrics on.
        self.sources: weakref.WeakSet[OriginSource] = weakref.WeakSet()

    def cell(self, table: dict[Any, itertools.count[int]], key: Any) -> itertools.count[int]:
        """The counter of one series (created at start-up, shared by every app)."""
        with self._lock:
            found = table.get(key)
            if found is None:
                found = table[key] = itertools.count()
            return found

    def snapshot(self) -> tuple[dict[RequestKey, int], dict[MismatchKey, int]]:
        """The series counted so far (those still at zero left out)."""
        with self._lock:
            return self._values(self.requests), self._values(self.report_only)

    def _values(self, table: dict[Any, itertools.count[int]]) -> dict[Any, int]:
        found = {}
        for key, cell in list(table.items()):
            value = _value(cell) - self._base.get(key, 0)
            if value > 0:
                found[key] = value
        return found

    def clear(self) -> None:
        """Start every series from zero again (a forked child; tests)."""
        self._lock = threading.Lock()  # another thread of the parent may have held it
        self._base = {key: _value(cell) for table in (self.requests, self.report_only)
                      for key, cell in table.items()}


def _value(cell: itertools.count[int]) -> int:
    # repr(count) is "count(N)": N is the next value, so the number of next() calls.
    return int(repr(cell)[6:-1])


COUNTS = Counts()


class PolicyMetrics:
    """The counters of one policy's decisions: ``policy.metrics`` when the app has
    ``metrics`` on. Every series it can count into exists from start-up."""

    __slots__ = ("name", "_counts", "_granted", "_refused", "_mismatches",
                 "granted_preflight")

    def __init__(self, name: str, counts: Counts | None = None) -> None:
        self.name = name
        self._counts = counts = counts if counts is not None else COUNTS
        self._granted = {kind: counts.cell(counts.requests, (kind, "granted", name, ""))
                         for kind in KINDS}
        self._refused = {
            kind: {code: counts.cell(counts.requests, (kind, "refused", name, code))
                   for code in REASONS} for kind in KINDS}
        self._mismatches = {
            kind: {code: counts.cell(counts.report_only, (kind, name, code))
                   for code in REASONS} for kind in KINDS}
        #: The cell of granted preflights, counted inline by the extension's own preflight
        #: answer (``next(cell)``: the one grant that needs no other check).
        self.granted_preflight = self._granted["preflight"]

    def decided(self, kind: str, refusal: Refusal | None) -> None:
        """Count one final decision of this policy (``kind``: one of :data:`KINDS`)."""
        if refusal is None:
            next(self._granted[kind])
            return
        cell = self._refused[kind].get(refusal.code)
        if cell is None:  # a code added to REASONS after start-up (never, in practice)
            cell = self._refused[kind][refusal.code] = self._counts.cell(
                self._counts.requests, (kind, "refused", self.name, refusal.code))
        next(cell)

    def mismatch(self, kind: str, code: str) -> None:
        """Count one report-only mismatch under this (enforced) policy."""
        cell = self._mismatches[kind].get(code)
        if cell is None:
            cell = self._mismatches[kind][code] = self._counts.cell(
                self._counts.report_only, (kind, self.name, code))
        next(cell)


class MetricsBackend:
    """An app's ``metrics`` setting once started: what it hands its policies."""

    def __init__(self, name: str) -> None:
        #: ``"prometheus"`` or ``"opentelemetry"``.
        self.name = name
        module = importlib.import_module(f".metrics_{name}", __package__)
        #: How the backend reports, for ``flask cors status`` (its mode, for Prometheus).
        self.mode: str = module.install(COUNTS)

    def for_policy(self, name: str) -> PolicyMetrics:
        return PolicyMetrics(name)

    def watch(self, sources: Iterable[OriginSource]) -> None:
        """Report these run-time origin sources too (their state, size and loads)."""
        for source in sources:
            COUNTS.sources.add(source)


def source_figures(source: OriginSource) -> tuple[str, str, int, int, int]:
    """A run-time origin source's label and figures, read at collection time: its name
    (as ``flask cors origins`` shows it), state, origins served, loads ok and failed."""
    described = source.describe()
    name = str(described.get("source") or type(source).__name__)
    state = str(getattr(source, "state", described.get("state", "")))
    served = int(getattr(source, "loaded_count", described.get("origins", 0)) or 0)
    return (name, state, served, int(getattr(source, "loads_ok", 0)),
            int(getattr(source, "loads_failed", 0)))


#: The states a source's state gauge reports (a source in another state adds its own).
SOURCE_STATES = ("fresh", "stale", "closed")


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=COUNTS.clear)


__all__ = ["BACKENDS", "COUNTS", "KINDS", "MetricsBackend", "PolicyMetrics", "check_metrics"]
