"""Timing, start-up cost and memory.

Requests go straight to ``app.wsgi_app(environ, start_response)`` (no test
client): each call gets a fresh copy of a prebuilt environ, the body iterable is
consumed and closed, as a WSGI server would. Each timed sample is the mean of
``number`` back-to-back calls with the garbage collector paused (as ``timeit``
does); the order of the (scenario, contestant) pairs is shuffled every round so
that drift on a shared machine falls on every contestant alike; the
contestants of one scenario are timed back to back.
"""

from __future__ import annotations

import dataclasses
import gc
import random
import re
import statistics
import time
import tracemalloc
from dataclasses import dataclass
from typing import Any, Callable

from flask import Flask
from werkzeug.exceptions import HTTPException

from .contestants import CROSSORIGIN, Contestant
from .scenarios import (
    ALLOWED_ORIGIN,
    CSRF_VARIANT,
    ROUTE,
    ROUTE_METHODS,
    Scenario,
    check,
    items,
    options_for,
    simple_request,
)


def _start_response(
    status: str, headers: list[tuple[str, str]], exc_info: Any = None
) -> Callable[[bytes], None]:
    return _ignore_write


def _ignore_write(data: bytes) -> None:
    pass


def call(app: Flask, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], int]:
    """One request, keeping what the app answered (for the checks)."""
    answer: dict[str, Any] = {}

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        answer["status"], answer["headers"] = status, list(headers)
        return _ignore_write

    body = app.wsgi_app(environ.copy(), start_response)
    try:
        size = sum(len(chunk) for chunk in body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return answer["status"], answer["headers"], size


@dataclass
class Case:
    scenario: Scenario
    contestant: Contestant
    app: Flask
    environ: dict[str, Any]
    status: str = ""
    problem: str | None = None
    response_header_bytes: int = 0


def prepare(scenarios: list[Scenario], contestants: list[Contestant]) -> list[Case]:
    """Build every app, send each request once and check the answer."""
    cases = []
    for scenario in scenarios:
        environ = scenario.request.environ()
        for c in contestants:
            case = Case(scenario, c, scenario.build(c), environ)
            try:
                status, headers, _ = call(case.app, environ)
            except Exception as exc:  # reported, and the case is not timed
                case.problem = f"raised {type(exc).__name__}: {exc}"
            else:
                case.status = status
                case.problem = check(scenario, c, status, headers)
                case.response_header_bytes = sum(len(n) + len(v) + 4 for n, v in headers)
            cases.append(case)
        if scenario.variant is not None:
            cases.extend(_variant_cases(scenario, contestants, environ))
    return cases


def _variant_cases(
    scenario: Scenario, contestants: list[Contestant], environ: dict[str, Any]
) -> list[Case]:
    """flask_crossorigin with the scenario's extra option, as one more contestant."""
    cases = []
    for c in contestants:
        if c.key != CROSSORIGIN:
            continue
        variant = dataclasses.replace(c, key=CSRF_VARIANT,
                                      label=f"{c.label} csrf_protection=True")
        assert scenario.variant is not None
        case = Case(scenario, variant, scenario.variant(c), environ)
        status, headers, _ = call(case.app, environ)
        case.status = status
        case.problem = check(scenario, variant, status, headers)
        cases.append(case)
    return cases


def time_batch(app: Flask, environ: dict[str, Any], number: int) -> float:
    """Mean µs per request over ``number`` back-to-back calls."""
    wsgi_app = app.wsgi_app
    copy = environ.copy
    start_response = _start_response
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        t0 = time.perf_counter_ns()
        for _ in range(number):
            body = wsgi_app(copy(), start_response)
            for _chunk in body:
                pass
            body.close()
        elapsed = time.perf_counter_ns() - t0
    finally:
        if gc_was_enabled:
            gc.enable()
    return elapsed / number / 1000.0


def calibrate(case: Case, sample_ms: float) -> int:
    """How many calls make one sample of about ``sample_ms`` for this case."""
    per_call_us = min(time_batch(case.app, case.environ, 5) for _ in range(3))
    return max(1, min(10_000, round(sample_ms * 1000 / per_call_us)))


def run_rounds(
    cases: list[Case],
    rounds: int,
    number: int | None,
    warmup: int,
    sample_ms: float = 5.0,
    seed: int = 4,
    progress: Callable[[int], None] | None = None,
) -> tuple[dict[tuple[str, str], list[float]], dict[tuple[str, str], int]]:
    """Interleaved timing; returns the samples (µs per request) and the calls per sample.

    Every round visits the scenarios in a shuffled order and, within a
    scenario, times its contestants back to back in a shuffled order, so the
    samples that are compared (same scenario, same round) are seconds apart at
    most and drift on a shared machine falls on every contestant alike. With
    ``number`` None, each case makes samples of about ``sample_ms``.
    """
    timed = [case for case in cases if case.problem is None]
    for case in timed:
        time_batch(case.app, case.environ, warmup)
    numbers = {
        (c.scenario.name, c.contestant.key): number if number else calibrate(c, sample_ms)
        for c in timed
    }
    by_scenario: dict[str, list[Case]] = {}
    for case in timed:
        by_scenario.setdefault(case.scenario.name, []).append(case)
    groups = list(by_scenario.values())
    samples: dict[tuple[str, str], list[float]] = {key: [] for key in numbers}
    rng = random.Random(seed)
    for r in range(rounds):
        rng.shuffle(groups)
        for group in groups:
            rng.shuffle(group)
            for case in group:
                key = (case.scenario.name, case.contestant.key)
                samples[key].append(time_batch(case.app, case.environ, numbers[key]))
        gc.collect()
        if progress is not None:
            progress(r + 1)
    return samples, numbers


def _nothing() -> None:
    return None


def _same(response: Any) -> Any:
    return response


def time_hooks(app: Flask, environ: dict[str, Any], number: int) -> float:
    """Mean µs of the extension's two request hooks (first ``before_request`` and its
    ``after_request``) on one request, inside its request context, over ``number`` calls.

    The part of a request where an option of the extension can cost anything; the
    response's header list is cut back to its own lines after each call.
    """
    # The extension's own: first among before_request functions, first in the
    # after_request list (which Flask runs last). A bare app has none.
    before = app.before_request_funcs.get(None, [_nothing])[0]
    after = app.after_request_funcs.get(None, [_same])[0]
    with app.request_context(environ.copy()):
        response = app.response_class("{}", mimetype="application/json")
        lines = response.headers._list  # type: ignore[attr-defined]
        own = len(lines)
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            t0 = time.perf_counter_ns()
            for _ in range(number):
                try:  # noqa: SIM105 (cheaper than contextlib.suppress in the timed loop)
                    before()
                except HTTPException:
                    pass  # a refused write: Flask's error handling answers it, then after()
                after(response)
                del lines[own:]
            elapsed = time.perf_counter_ns() - t0
        finally:
            if gc_was_enabled:
                gc.enable()
    return elapsed / number / 1000.0


def hook_cost_pairs(
    plain: Case, variant: Case, rounds: int, sample_ms: float = 2.0, seed: int = 4,
    repeats: int = 1, timer: Callable[[Flask, dict[str, Any], int], float] | None = None,
) -> list[float]:
    """Per round, the hooks of ``variant`` minus those of ``plain`` (µs), timed back to
    back in a shuffled order: the extra cost of the variant's option, without the noise
    of the rest of the request. With ``repeats``, each round takes the fastest of that
    many samples of each, interleaved (a sample another process interrupted does not
    count). ``timer=time_batch`` times whole requests instead of the hooks."""
    time_it = timer or time_hooks
    number = 1
    while time_it(plain.app, plain.environ, number) * number < sample_ms * 1000:
        number *= 2
    rng = random.Random(seed)
    diffs = []
    for _ in range(rounds):
        best = [float("inf"), float("inf")]
        for _ in range(repeats):
            pair = [(variant, 0), (plain, 1)]
            rng.shuffle(pair)
            for case, index in pair:
                best[index] = min(best[index], time_it(case.app, case.environ, number))
        diffs.append(best[0] - best[1])
    return diffs


def request_peak_memory(case: Case) -> int:
    """Peak bytes allocated while answering one request (tracemalloc)."""
    call(case.app, case.environ)  # warm caches first
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        call(case.app, case.environ)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak - base


# --- start-up cost and memory per policy ------------------------------------------------


def _startup_policies(c: Contestant) -> dict[str, tuple[dict[str, Any], Any]]:
    """name -> (options, request for the first call)."""
    many_origins = [f"https://app{i}.example.com" for i in range(1000)]
    return {
        "policy": (options_for(c), simple_request(ALLOWED_ORIGIN)),
        "resources_1": (
            options_for(c, resources={c.resource_prefix("/api/v0"): {}}),
            simple_request(ALLOWED_ORIGIN, "/api/v0/items"),
        ),
        "resources_1000": (
            options_for(c, resources={c.resource_prefix(f"/api/v{i}"): {} for i in range(1000)}),
            simple_request(ALLOWED_ORIGIN, "/api/v999/items"),
        ),
        "origins_1": (options_for(c, origins=many_origins[:1]), simple_request(many_origins[0])),
        "origins_1000": (options_for(c, origins=many_origins), simple_request(many_origins[-1])),
        # Many resources sharing one long origin list: what is compiled per resource?
        "resources_100_origins_1000": (
            options_for(
                c,
                origins=many_origins,
                resources={c.resource_prefix(f"/api/v{i}"): {} for i in range(100)},
            ),
            simple_request(many_origins[-1], "/api/v99/items"),
        ),
    }


def _fresh_app(c: Contestant) -> Flask:
    app = Flask(f"startup_{c.key}")
    app.add_url_rule(ROUTE, "items", items, methods=ROUTE_METHODS)
    return app


def startup_cost(
    contestants: list[Contestant], reps: int
) -> dict[str, dict[str, dict[str, float]]]:
    """Median ms to install each policy, and to answer the first request after it.

    ``re.purge()`` runs before each repetition so that pattern compilation is
    paid every time, as it is at a real start-up.
    """
    results: dict[str, dict[str, dict[str, float]]] = {}
    for c in contestants:
        if c.is_bare:
            continue
        per_policy: dict[str, dict[str, float]] = {}
        for name, (options, request) in _startup_policies(c).items():
            environ = request.environ()
            install_ms, first_ms = [], []
            for _ in range(reps):
                app = _fresh_app(c)
                re.purge()
                gc.collect()
                t0 = time.perf_counter_ns()
                c.install(app, options)
                t1 = time.perf_counter_ns()
                call(app, environ)
                t2 = time.perf_counter_ns()
                install_ms.append((t1 - t0) / 1e6)
                first_ms.append((t2 - t1) / 1e6)
            per_policy[name] = {
                "install_ms": statistics.median(install_ms),
                "first_request_ms": statistics.median(first_ms),
            }
        results[c.key] = per_policy
    return results


def bare_first_request_ms(c: Contestant, reps: int) -> float:
    environ = simple_request(ALLOWED_ORIGIN).environ()
    times = []
    for _ in range(reps):
        app = _fresh_app(c)
        gc.collect()
        t0 = time.perf_counter_ns()
        call(app, environ)
        times.append((time.perf_counter_ns() - t0) / 1e6)
    return statistics.median(times)


def policy_memory(contestants: list[Contestant]) -> dict[str, dict[str, int | float]]:
    """Bytes retained by installing each policy (after one first request), per tracemalloc.

    The app and the options are built before tracing starts, and a bare app
    answering the same first request is subtracted, so what remains is what the
    extension keeps.
    """
    bare_cost = _retained_after(None, None, simple_request(ALLOWED_ORIGIN))
    results: dict[str, dict[str, int | float]] = {}
    for c in contestants:
        if c.is_bare:
            continue
        sizes: dict[str, int | float] = {}
        for i, (name, (options, request)) in enumerate(_startup_policies(c).items()):
            sizes[name] = _retained_after(c, options, request, warm_up=i == 0) - bare_cost
        sizes["per_resource"] = (sizes["resources_1000"] - sizes["resources_1"]) / 999
        sizes["per_origin"] = (sizes["origins_1000"] - sizes["origins_1"]) / 999
        results[c.key] = sizes
    return results


def _retained_after(
    c: Contestant | None, options: dict[str, Any] | None, request: Any, warm_up: bool = True
) -> int:
    environ = request.environ()
    # The warm-up run fills module-level caches (imports, werkzeug's rule
    # compiler) outside the measurement; once per contestant is enough.
    for traced in (False, True) if warm_up else (True,):
        app = Flask("memory")
        app.add_url_rule(ROUTE, "items", items, methods=ROUTE_METHODS)
        re.purge()
        gc.collect()
        if traced:
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
        if c is not None:
            c.install(app, options or {})
        call(app, environ)
        re.purge()  # count what the extension keeps, not what re's cache keeps
        gc.collect()
        if traced:
            after = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
        del app
    return after - before
