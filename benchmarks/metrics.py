"""What the ``metrics`` option adds to a request, per backend and mode.

``python -m benchmarks`` prints these rows after its main table;
``python -m benchmarks.metrics [--smoke]`` prints them alone. Each mode runs in a
process of its own (prometheus_client picks its multiprocess storage when it is
imported, from ``PROMETHEUS_MULTIPROC_DIR``). For each request, the same app is
built with ``metrics`` on, and the extension's two hooks are timed with its
policies' counters on and off (``policy.metrics`` set to ``None``, what a request
finds in an app without metrics: the same app, so no difference of memory layout
between two apps is timed), back to back in a shuffled order, round after round,
the fastest of five samples of each per round: the median difference is what
counting costs, without the noise of the rest of the request. With
metrics off a decision costs one attribute check, which no pairing can separate
from noise; ``benchmarks.baseline --ref main`` compares whole requests with a
build without the option.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from typing import Any

#: mode -> (the metrics option, whether prometheus_client runs in multiprocess mode).
MODES: dict[str, tuple[str, bool]] = {
    "prometheus": ("prometheus", False),
    "prometheus_multiprocess": ("prometheus", True),
    "opentelemetry": ("opentelemetry", False),
}
#: Per mode, the bound docs/performance.rst states (µs per request).
BOUNDS = {"prometheus": 1.0, "prometheus_multiprocess": 1.5, "opentelemetry": 1.0}
REQUESTS = ("simple_allowed", "simple_refused", "preflight", "write_refused",
            "report_only_mismatch")
FULL = {"rounds": 60, "sample_ms": 2.0}
SMOKE = {"rounds": 3, "sample_ms": 0.5}
#: Samples of each app per round; the fastest counts.
REPEATS = 5


def _cases(backend: str) -> dict[str, tuple[Any, Any, dict[str, Any]]]:
    """name -> (app with metrics off, the same with them on, the request's environ)."""
    from . import contestants, scenarios

    loaded, _ = contestants.load((contestants.CROSSORIGIN,))
    c = loaded[0]
    plain = scenarios.options_for(c)
    report_only = {**plain, "report_only": {"origins": [scenarios.ALLOWED_ORIGIN]}}
    csrf = {**plain, "csrf_protection": True}
    table = {
        "simple_allowed": (plain, scenarios.simple_request(scenarios.ALLOWED_ORIGIN)),
        "simple_refused": (plain, scenarios.simple_request(scenarios.REFUSED_ORIGIN)),
        "preflight": (plain, scenarios.preflight_request()),
        "write_refused": (csrf, scenarios.write_request(scenarios.REFUSED_ORIGIN)),
        "report_only_mismatch": (
            report_only, scenarios.simple_request(scenarios.OTHER_ALLOWED_ORIGIN)),
    }
    return {name: (scenarios.build_app(c, options),
                   scenarios.build_app(c, {**options, "metrics": backend}),
                   request.environ())
            for name, (options, request) in table.items()}


def measure_here(mode: str, rounds: int, sample_ms: float, seed: int = 4) -> dict[str, Any]:
    """In this process (set up for ``mode``): per request, the paired differences (µs)."""
    from .measure import time_hooks

    backend, _ = MODES[mode]
    if backend == "opentelemetry":
        from opentelemetry import metrics
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader

        metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))
    found: dict[str, Any] = {}
    rng = random.Random(seed)
    for name, (off, on, environ) in _cases(backend).items():
        number = 1
        while time_hooks(off, environ, number) * number < sample_ms * 1000:
            number *= 2
        counters = _counters_of(on, environ)
        diffs = []
        for _ in range(rounds):
            # The fastest of a few samples of each, interleaved: a sample another process
            # interrupted (this machine is shared) does not count.
            best = {True: float("inf"), False: float("inf")}
            for _ in range(REPEATS):
                pair = [True, False]
                rng.shuffle(pair)
                for counting in pair:
                    _switch(counters, counting)
                    best[counting] = min(best[counting], time_hooks(on, environ, number))
            _switch(counters, True)
            diffs.append(best[True] - best[False])
        found[name] = diffs
    return found


def _counters_of(app: Any, environ: dict[str, Any]) -> list[tuple[Any, Any]]:
    """The policies of ``app`` (built with metrics on) and their counters, once the
    request has compiled them. Off, a request reads ``policy.metrics`` and finds
    ``None``, exactly as in an app without metrics: so one app serves both sides of a
    pair, and no difference of memory layout between two apps is timed as the cost."""
    import gc

    from flask_crossorigin.policy import Policy

    from .measure import time_hooks

    time_hooks(app, environ, 1)  # compiles the policies the request uses
    return [(policy, policy.metrics) for policy in gc.get_objects()
            if isinstance(policy, Policy) and policy.metrics is not None]


def _switch(counters: list[tuple[Any, Any]], on: bool) -> None:
    for policy, metrics in counters:
        policy.metrics = metrics if on else None


def measure_mode(mode: str, rounds: int, sample_ms: float) -> dict[str, Any]:
    """:func:`measure_here` in a fresh process set up for ``mode``."""
    environ = {key: value for key, value in os.environ.items()
               if key.upper() != "PROMETHEUS_MULTIPROC_DIR"}
    with tempfile.TemporaryDirectory(prefix="flask-crossorigin-bench-") as directory:
        if MODES[mode][1]:
            environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        output = subprocess.run(
            [sys.executable, "-m", "benchmarks.metrics", "--child", mode,
             "--rounds", str(rounds), "--sample-ms", str(sample_ms)],
            env=environ, capture_output=True, text=True, check=True).stdout
    return dict(json.loads(output))


def run(smoke: bool = False, rounds: int | None = None) -> dict[str, Any]:
    """Every mode: per request, the median extra µs and its quartiles."""
    settings = SMOKE if smoke else FULL
    rounds = rounds or int(settings["rounds"])
    doc: dict[str, Any] = {}
    for mode in MODES:
        diffs = measure_mode(mode, rounds, float(settings["sample_ms"]))
        doc[mode] = {name: _quartiles(values) for name, values in diffs.items()}
    return doc


def _quartiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if len(ordered) < 2:
        return {"median_us": ordered[0], "q1_us": ordered[0], "q3_us": ordered[0]}
    q1, _, q3 = statistics.quantiles(ordered, n=4)
    return {"median_us": statistics.median(ordered), "q1_us": q1, "q3_us": q3}


def format_text(doc: dict[str, Any]) -> str:
    lines = ["metrics: extra µs per request in the extension's hooks, on vs off "
             "(median [q1, q3] of paired rounds; noisy on a busy machine)"]
    width = max(len(name) for name in REQUESTS)
    lines.append(f"  {'request':<{width}}  " + "  ".join(f"{mode:>26}" for mode in doc))
    for name in REQUESTS:
        cells = []
        for mode in doc:
            q = doc[mode][name]
            cells.append(f"{q['median_us']:>+6.2f} [{q['q1_us']:+.2f}, {q['q3_us']:+.2f}]"
                         .rjust(26))
        lines.append(f"  {name:<{width}}  " + "  ".join(cells))
    lines.append("  bound (µs): " + ", ".join(f"{mode} {BOUNDS[mode]:g}" for mode in doc))
    return "\n".join(lines)


def format_rst(doc: dict[str, Any]) -> str:
    header = ["Request", *(f"``{mode}``" for mode in doc)]
    rows = [header]
    for name in REQUESTS:
        rows.append([name, *(f"{doc[mode][name]['median_us']:+.2f} "
                             f"[{doc[mode][name]['q1_us']:+.2f}, "
                             f"{doc[mode][name]['q3_us']:+.2f}]" for mode in doc)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    rule = "  ".join("=" * w for w in widths)
    out = [rule, "  ".join(cell.ljust(w) for cell, w in zip(rows[0], widths)).rstrip(), rule]
    out += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
            for row in rows[1:]]
    out.append(rule)
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.metrics", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="a few seconds; no figures to keep")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--sample-ms", type=float, default=FULL["sample_ms"])
    parser.add_argument("--child", choices=tuple(MODES), help=argparse.SUPPRESS)
    parser.add_argument("--rst", action="store_true", help="print the table as reST")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure_here(args.child, args.rounds, args.sample_ms)))
        return 0
    doc = run(args.smoke, args.rounds)
    print(format_rst(doc) if args.rst else format_text(doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
