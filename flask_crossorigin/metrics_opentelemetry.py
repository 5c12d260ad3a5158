"""``metrics="opentelemetry"``: the counts of :mod:`.metrics` as observable instruments
of the global ``MeterProvider``. Imported only when an app chooses it.

The SDK's synchronous ``Counter.add`` costs several microseconds a call; here a
request adds one to an int (:class:`~.metrics.PolicyMetrics`) and the SDK reads
the totals through callbacks when its reader collects, as cumulative sums.
Instruments are created once per process, whatever the number of apps; made
before the app sets its ``MeterProvider``, they follow it when it does (the
API's proxy meter).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from opentelemetry.metrics import CallbackOptions, Observation, get_meter

from .metrics import SOURCE_STATES, Counts, source_figures

REQUESTS = "flask_crossorigin.requests"
REPORT_ONLY = "flask_crossorigin.report_only"
ORIGINS = "flask_crossorigin.origins"
ORIGINS_STATE = "flask_crossorigin.origins.state"
ORIGIN_LOADS = "flask_crossorigin.origin_loads"

_install_lock = threading.Lock()
_installed = False


def install(counts: Counts) -> str:
    """Create the instruments (once per process); returns the mode shown by the CLI."""
    global _installed
    with _install_lock:
        if not _installed:
            _create_instruments(counts)
            _installed = True
    return "observable instruments of the global MeterProvider"


def _create_instruments(counts: Counts) -> None:
    from . import __version__

    meter = get_meter("flask_crossorigin", __version__)

    def requests(options: CallbackOptions) -> Iterable[Observation]:
        found, _ = counts.snapshot()
        return [Observation(value, {"kind": kind, "decision": decision, "policy": policy,
                                    "reason": reason})
                for (kind, decision, policy, reason), value in found.items()]

    def report_only(options: CallbackOptions) -> Iterable[Observation]:
        _, found = counts.snapshot()
        return [Observation(value, {"kind": kind, "policy": policy, "reason": reason})
                for (kind, policy, reason), value in found.items()]

    def figures() -> list[tuple[str, str, int, int, int]]:
        return [source_figures(source) for source in list(counts.sources)]

    def served(options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(count, {"source": name}) for name, _, count, _, _ in figures()]

    def states(options: CallbackOptions) -> Iterable[Observation]:
        found: list[Observation] = []
        for name, state, _, _, _ in figures():
            shown = SOURCE_STATES if state in SOURCE_STATES else (*SOURCE_STATES, state)
            found.extend(Observation(1 if each == state else 0, {"source": name, "state": each})
                         for each in shown)
        return found

    def loads(options: CallbackOptions) -> Iterable[Observation]:
        found: list[Observation] = []
        for name, _, _, ok, failed in figures():
            found.append(Observation(ok, {"source": name, "result": "ok"}))
            found.append(Observation(failed, {"source": name, "result": "failed"}))
        return found

    meter.create_observable_counter(
        REQUESTS, [requests], unit="{request}",
        description="CORS requests decided, by kind, decision, policy and refusal reason.")
    meter.create_observable_counter(
        REPORT_ONLY, [report_only], unit="{mismatch}",
        description="Report-only mismatches, by kind, enforced policy and reason.")
    meter.create_observable_gauge(
        ORIGINS, [served], unit="{origin}",
        description="Origins a run-time origin source serves (its last good load).")
    meter.create_observable_gauge(
        ORIGINS_STATE, [states],
        description="1 for the state a run-time origin source is in (fresh, stale, closed).")
    meter.create_observable_counter(
        ORIGIN_LOADS, [loads], unit="{load}",
        description="Loads of a run-time origin source, by result (ok, failed).")


__all__ = ["install"]
