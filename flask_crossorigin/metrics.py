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
    """The decisions counted in this process, by label values: plain ints, one lock.

    Shared by every app of the process (two apps with metrics on count into the
    same series). A forked child (a gunicorn worker) starts from zero: what the
    parent counted is the parent's to report.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: dict[RequestKey, int] = {}
        self.report_only: dict[MismatchKey, int] = {}
        #: Run-time origin sources of the apps with metrics on.
        self.sources: weakref.WeakSet[OriginSource] = weakref.WeakSet()

    def snapshot(self) -> tuple[dict[RequestKey, int], dict[MismatchKey, int]]:
        with self.lock:
            return dict(self.requests), dict(self.report_only)

    def clear(self) -> None:
        """Forget every count (a forked child; tests)."""
        self.lock = threading.Lock()  # another thread of the parent may have held it
        self.requests.clear()
        self.report_only.clear()


COUNTS = Counts()


class PolicyMetrics:
    """The counters of one policy's decisions: ``policy.metrics`` when the app has
    ``metrics`` on. Every label tuple is built here, at start-up."""

    __slots__ = ("name", "_counts", "_granted", "_refused", "_mismatches")

    def __init__(self, name: str, counts: Counts = COUNTS) -> None:
        self.name = name
        self._counts = counts
        self._granted = {kind: (kind, "granted", name, "") for kind in KINDS}
        self._refused = {kind: {code: (kind, "refused", name, code) for code in REASONS}
                         for kind in KINDS}
        self._mismatches = {kind: {code: (kind, name, code) for code in REASONS}
                            for kind in KINDS}

    def decided(self, kind: str, refusal: Refusal | None) -> None:
        """Count one final decision of this policy (``kind``: one of :data:`KINDS`)."""
        if refusal is None:
            key = self._granted[kind]
        else:
            key = self._refused[kind].get(refusal.code) or (
                kind, "refused", self.name, refusal.code)
        counts = self._counts
        with counts.lock:
            table = counts.requests
            table[key] = table.get(key, 0) + 1

    def mismatch(self, kind: str, code: str) -> None:
        """Count one report-only mismatch under this (enforced) policy."""
        key = self._mismatches[kind].get(code) or (kind, self.name, code)
        counts = self._counts
        with counts.lock:
            table = counts.report_only
            table[key] = table.get(key, 0) + 1


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
