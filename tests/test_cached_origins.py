"""CachedOrigins: origins loaded at run time, compiled like static ones, failing closed.

These tests run in one process; tests/test_origins_redis.py adds a real
redis-server, and tests/test_origins_workers.py gunicorn's workers.
"""

from __future__ import annotations

import gc
import logging
import os
import re
import subprocess
import sys
import threading
import time
import tracemalloc
from typing import Any, Callable

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from flask_crossorigin import CORS, CachedOrigins, ConfigurationError, cross_origin, request_refused
from flask_crossorigin.cached_origins import entry_problems
from flask_crossorigin.errors import collected_warnings
from flask_crossorigin.origins import compile_origins
from flask_crossorigin.policy import compile_policy

from .conftest import preflight

A, B, C = "https://a.example", "https://b.example", "https://c.example"



@pytest.fixture
def cached(made: list[CachedOrigins]) -> Callable[..., CachedOrigins]:
    def make(load: Callable[[], Any], **options: Any) -> CachedOrigins:
        origins = CachedOrigins(load, **options)
        made.append(origins)
        return origins
    return make


def app_with(origins: Any, **options: Any) -> Flask:
    app = Flask(__name__)

    @app.route("/api/data", methods=["GET", "PUT"])
    def data() -> str:
        return "ok"

    CORS(app, origins=origins, **options)
    return app


def grant(app: Flask, origin: str) -> str | None:
    response = app.test_client().get("/api/data", headers={"Origin": origin})
    assert response.status_code == 200
    return response.headers.get("Access-Control-Allow-Origin")


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> float:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)
    return time.monotonic() - start


# -- compiled like static configuration ----------------------------------------------------

# Entries that start-up refuses (ConfigurationError) or warns about: each is skipped.
BAD_ENTRIES = [
    "app.example",  # no scheme
    "https://app.example/",  # trailing slash
    "https://app.example/path",
    "https://user@app.example",
    "https://app.example:443",  # default port
    "https://*.github.io",  # a public suffix
    "https://*.co.uk",
    "http://localhost:*",  # a '*' that repeats ':'
    r"https://.*.example.com",  # unescaped '.': a warning at start-up
    "https://ex ample.com",
    "HTTPS://APP.EXAMPLE/",
    "https://bücher.example",
    "http://127.000.000.001",
    "*",  # never from a loader
    "null",  # never from a loader (issue 22): any page can send it
    "",
    b"https://bytes.example",
    42,
    None,
    ("https://tuple.example",),
    re.compile(rb"https://bytes\.example"),
]
GOOD_ENTRIES = [A, "https://*.tenants.example", re.compile(r"https://[a-z]+\.regex\.example"),
                r"https://[0-9]+\.numbers\.example", "http://localhost:3000"]


@pytest.mark.parametrize("bad", BAD_ENTRIES, ids=repr)
def test_a_bad_loaded_entry_is_skipped_and_the_others_serve(
        bad: Any, cached: Callable[..., CachedOrigins], caplog: pytest.LogCaptureFixture) -> None:
    origins = cached(lambda: [bad, *GOOD_ENTRIES])
    app = app_with(origins, supports_credentials=True)
    assert origins.skipped_count == 1 and origins.loaded_count == len(GOOD_ENTRIES)
    for origin in (A, "https://x.tenants.example", "https://abc.regex.example",
                   "https://12.numbers.example", "http://localhost:3000"):
        assert grant(app, origin) == origin
    assert grant(app, "https://evil.example") is None
    skipped = [r for r in caplog.records if "skipped the loaded entry" in r.getMessage()]
    assert len(skipped) == 1 and skipped[0].levelno == logging.WARNING
    shown = repr(bad) if not isinstance(bad, re.Pattern) else "re.compile"
    assert shown[:30] in skipped[0].getMessage()
    origins.refresh()
    origins.refresh()  # logged once, not once per load
    assert len([r for r in caplog.records if "skipped the loaded entry" in r.getMessage()]) == 1


@pytest.mark.parametrize("entry", [*BAD_ENTRIES[:13], *GOOD_ENTRIES], ids=repr)
def test_skipped_exactly_when_start_up_would_refuse_or_warn(
        entry: Any, cached: Callable[..., CachedOrigins]) -> None:
    # The same compiler decides: static problems, warnings or ineffective entries.
    with collected_warnings() as notes:
        matcher, problems = compile_origins([entry])
    static_bad = bool(problems or notes or (matcher is not None and matcher.ineffective))
    origins = cached(lambda: [entry])
    app_with(origins)
    assert origins.skipped_count == int(static_bad)


def test_a_malformed_load_result_is_a_failed_load(cached: Callable[..., CachedOrigins],
                                                  caplog: pytest.LogCaptureFixture) -> None:
    origins = cached(lambda: "https://a.example")  # a str, not a list
    app = app_with(origins)
    assert origins.state == "closed" and "returned a str" in (origins.last_error or "")
    assert grant(app, A) is None


def test_cached_origins_must_be_the_whole_value(cached: Callable[..., CachedOrigins]) -> None:
    origins = cached(lambda: [A])
    with pytest.raises(ConfigurationError, match="must be the whole origins value"):
        app_with([B, origins])


@pytest.mark.parametrize("options, fragment", [
    ({"ttl": 0}, "ttl=0"), ({"ttl": -1}, "ttl=-1"), ({"ttl": float("inf")}, "ttl=inf"),
    ({"ttl": "60"}, "ttl='60'"), ({"ttl": 60, "max_stale": 30}, "shorter than ttl"),
    ({"load_timeout": 0}, "load_timeout=0"), ({"ttl": True}, "ttl=True"),
])
def test_bad_settings_are_configuration_errors(options: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(fragment)):
        CachedOrigins(lambda: [], **options)


def test_load_must_be_callable() -> None:
    with pytest.raises(ConfigurationError, match="load=.*must be a callable"):
        CachedOrigins(["https://a.example"])  # type: ignore[arg-type]


# -- where it is accepted ------------------------------------------------------------------

def test_accepted_in_resources_decorator_and_report_only(
        cached: Callable[..., CachedOrigins]) -> None:
    rows = [A]
    origins = cached(lambda: list(rows))
    app = Flask(__name__)

    @app.route("/api/data")
    def data() -> str:
        return "ok"

    @app.route("/view")
    @cross_origin(origins=origins)
    def view() -> str:
        return "ok"

    trial = cached(lambda: [B])
    CORS(app, resources={"/api/*": {"origins": origins, "report_only": {"origins": trial}}})
    client = app.test_client()
    for path in ("/api/data", "/view"):
        assert client.get(path, headers={"Origin": A}).headers.get(
            "Access-Control-Allow-Origin") == A
        assert client.get(path, headers={"Origin": B}).headers.get(
            "Access-Control-Allow-Origin") is None
    assert trial.loaded_count == 1  # the report-only source was loaded too
    rows.append(C)
    origins.refresh()
    for path in ("/api/data", "/view"):
        assert client.get(path, headers={"Origin": C}).headers.get(
            "Access-Control-Allow-Origin") == C
        answer = client.options(path, headers=preflight(C))
        assert answer.status_code == 204 and answer.headers["Access-Control-Allow-Origin"] == C


def test_decorator_alone_loads_on_first_use(cached: Callable[..., CachedOrigins]) -> None:
    origins = cached(lambda: [A])
    app = Flask(__name__)

    @app.route("/view")
    @cross_origin(origins=origins, supports_credentials=True)
    def view() -> str:
        return "ok"

    response = app.test_client().get("/view", headers={"Origin": A})
    assert response.headers.get("Access-Control-Allow-Origin") == A
    assert response.headers.get("Access-Control-Allow-Credentials") == "true"


def test_loads_run_in_the_app_context(cached: Callable[..., CachedOrigins]) -> None:
    from flask import current_app

    origins = cached(lambda: current_app.config["TRUSTED"])
    app = Flask(__name__)
    app.config["TRUSTED"] = [A]

    @app.route("/api/data")
    def data() -> str:
        return "ok"

    CORS(app, origins=origins)
    assert grant(app, A) == A
    app.config["TRUSTED"] = [B]
    assert origins.refresh()
    assert grant(app, B) == B and grant(app, A) is None


# -- the request path ------------------------------------------------------------------------

def test_the_first_load_happens_at_init(cached: Callable[..., CachedOrigins]) -> None:
    calls = []
    origins = cached(lambda: calls.append(1) or [A])
    assert calls == []
    app_with(origins)
    assert calls == [1] and origins.state == "fresh"


def test_a_flood_of_unknown_origins_causes_no_loads_and_no_memory_growth(
        cached: Callable[..., CachedOrigins]) -> None:
    calls = []
    origins = cached(lambda: calls.append(1) or [f"https://t{i}.example" for i in range(1000)])
    app = app_with(origins)
    client = app.test_client()

    def flood(count: int, start: int) -> None:
        for i in range(start, start + count):
            response = client.get("/api/data", headers={"Origin": f"https://x{i}.evil.example"})
            assert "Access-Control-Allow-Origin" not in response.headers
            client.options("/api/data", headers=preflight(f"https://y{i}.evil.example"))

    flood(300, 0)  # warm-up: caches of Flask, Werkzeug and the extension fill
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    flood(1500, 1000)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    ours = [stat for stat in after.compare_to(before, "filename")
            if "flask_crossorigin" in str(stat.traceback)]
    assert calls == [1]  # negative answers come from the compiled set, never from load
    assert sum(stat.size_diff for stat in ours) < 20_000, ours[:5]


def test_requests_never_wait_for_a_reload(cached: Callable[..., CachedOrigins]) -> None:
    release = threading.Event()
    rows = [A]

    def load() -> list[str]:
        if len(rows) > 1:
            release.wait(10)  # a slow database
        return list(rows)

    origins = cached(load, ttl=0.1, max_stale=60)
    app = app_with(origins)
    rows.append(B)
    time.sleep(0.2)  # the reload is now blocked inside load
    start = time.monotonic()
    for _ in range(50):
        assert grant(app, A) == A  # served from the last good set
    assert time.monotonic() - start < 2
    release.set()
    wait_until(lambda: grant(app, B) == B)


def test_concurrent_requests_never_trigger_more_than_one_reload(
        cached: Callable[..., CachedOrigins]) -> None:
    running, most, loads = [0], [0], [0]
    lock = threading.Lock()

    def load() -> list[str]:
        with lock:
            running[0] += 1
            loads[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return [A]

    origins = cached(load, ttl=0.1, max_stale=60)
    app = app_with(origins)
    stop = time.monotonic() + 1.0

    def hammer() -> None:
        client = app.test_client()
        while time.monotonic() < stop:
            assert client.get("/api/data", headers={"Origin": A}).headers[
                "Access-Control-Allow-Origin"] == A

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1
    # Reloads went on (a busy machine may starve the thread a little), never more than
    # one per ttl (plus the first), whatever the traffic.
    assert 2 <= loads[0] <= 1.0 / 0.1 + 2


# -- failures ----------------------------------------------------------------------------

def refusals(app: Flask) -> list[str]:
    codes: list[str] = []

    def record(sender: Any, code: str, reason: str, **_: Any) -> None:
        codes.append(code)
        codes.append(reason)

    request_refused.connect(record, app, weak=False)
    return codes


def test_a_failing_load_serves_the_last_good_set_until_max_stale_then_closes(
        cached: Callable[..., CachedOrigins], caplog: pytest.LogCaptureFixture) -> None:
    broken = [False]

    def load() -> list[str]:
        if broken[0]:
            raise ConnectionError("database is down")
        return [A]

    origins = cached(load, ttl=0.1, max_stale=1.0)
    app = app_with(origins)
    seen = refusals(app)
    loaded = time.monotonic()
    broken[0] = True
    wait_until(lambda: origins.last_error is not None)
    assert origins.state == "stale"
    while time.monotonic() - loaded < 0.8:
        assert grant(app, A) == A  # stale but within max_stale: still served
        time.sleep(0.02)
    wait_until(lambda: origins.state == "closed", timeout=2)
    assert time.monotonic() - loaded >= 0.95
    assert grant(app, A) is None
    answer = app.test_client().options("/api/data", headers=preflight(A))
    assert answer.status_code == 403
    assert "origins-closed" in seen and any("are closed" in text and "database is down" in text
                                            for text in seen)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR
              and "could not be reloaded" in r.getMessage()]
    assert len(errors) == 1  # once per outage, although every retry failed
    broken[0] = False
    wait_until(lambda: origins.state == "fresh", timeout=5)
    assert grant(app, A) == A


def test_a_first_load_that_fails_starts_closed_and_keeps_retrying(
        cached: Callable[..., CachedOrigins]) -> None:
    attempts = [0]

    def load() -> list[str]:
        attempts[0] += 1
        if attempts[0] < 3:
            raise RuntimeError("not yet")
        return [A]

    origins = cached(load, ttl=5, max_stale=50)
    app = app_with(origins, supports_credentials=True)
    assert origins.state == "closed" and grant(app, A) is None
    wait_until(lambda: grant(app, A) == A, timeout=5)
    assert attempts[0] == 3


def test_a_hanging_load_never_blocks_a_request(cached: Callable[..., CachedOrigins]) -> None:
    hang = threading.Event()
    release = threading.Event()

    def load() -> list[str]:
        if hang.is_set():
            release.wait(30)
        return [A]

    origins = cached(load, ttl=0.1, max_stale=0.6, load_timeout=1.0)
    app = app_with(origins)
    hang.set()
    start = time.monotonic()
    while time.monotonic() - start < 0.4:
        begin = time.monotonic()
        assert grant(app, A) == A
        # Far less than load_timeout: the request did not wait for the load.
        assert time.monotonic() - begin < 0.5
    wait_until(lambda: "did not return" in (origins.last_error or "")
               or "has not returned" in (origins.last_error or ""))
    wait_until(lambda: origins.state == "closed", timeout=5)
    assert grant(app, A) is None
    hang.clear()
    release.set()
    wait_until(lambda: origins.state == "fresh", timeout=5)
    assert grant(app, A) == A


def test_a_load_that_raises_never_fails_a_request(cached: Callable[..., CachedOrigins]) -> None:
    def load() -> list[str]:
        raise ZeroDivisionError("oops")

    app = app_with(cached(load, ttl=0.05, max_stale=0.1))
    client = app.test_client()
    for _ in range(30):
        assert client.get("/api/data", headers={"Origin": A}).status_code == 200
        assert client.options("/api/data", headers=preflight(A)).status_code == 403
        time.sleep(0.01)


# -- refresh and invalidate ----------------------------------------------------------------

def test_refresh_and_invalidate_reload_now(cached: Callable[..., CachedOrigins]) -> None:
    rows = [A]
    origins = cached(lambda: list(rows), ttl=3600, max_stale=7200)
    app = app_with(origins)
    rows[:] = [B]
    assert grant(app, B) is None  # cached for an hour
    assert origins.refresh() is True
    assert grant(app, B) == B and grant(app, A) is None
    rows[:] = [C]
    assert origins.invalidate() is True
    assert grant(app, C) == C and grant(app, B) is None


def test_refresh_reports_a_failed_load(cached: Callable[..., CachedOrigins]) -> None:
    rows: list[Any] = [A]
    origins = cached(lambda: rows if rows else 1 / 0, ttl=3600, max_stale=7200)
    app = app_with(origins)
    rows.clear()
    assert origins.refresh() is False
    assert grant(app, A) == A and origins.state == "stale"


def test_describe_says_where_the_origins_come_from(cached: Callable[..., CachedOrigins]) -> None:
    def tenant_origins() -> list[str]:
        return [A, "bad"]

    origins = cached(tenant_origins, ttl=30, max_stale=300)
    app_with(origins)
    described = origins.describe()
    assert described["source"] == "CachedOrigins(tenant_origins)"
    assert described["state"] == "fresh" and described["origins"] == 1
    assert described["skipped"] == 1 and described["loaded_at"] <= time.time()


# -- processes -----------------------------------------------------------------------------

@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX fork")
def test_a_forked_child_reloads_with_threads_of_its_own(
        cached: Callable[..., CachedOrigins]) -> None:
    rows = [A]
    origins = cached(lambda: list(rows), ttl=0.1, max_stale=60)
    app = app_with(origins)
    parent_thread = origins._thread
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its own reloading thread, which sees its own changes
        ok = False
        try:
            rows.append(B)
            child_thread = origins._thread
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and grant(app, B) != B:
                time.sleep(0.01)
            ok = (child_thread is not None and child_thread is not parent_thread
                  and child_thread.is_alive() and grant(app, B) == B)
        finally:
            os.write(write, b"1" if ok else b"0")
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.waitpid(pid, 0)
    assert answer == b"1"
    assert grant(app, B) is None  # the parent's set did not change


def forked(child: Callable[[], bool]) -> bool:
    """Run ``child`` in a forked process; what it returned (``False`` if it raised)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        ok = False
        try:
            ok = child()
        finally:
            os.write(write, b"1" if ok else b"0")
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.close(read)
    os.waitpid(pid, 0)
    return answer == b"1"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX fork")
def test_a_fork_waits_for_a_load_that_holds_a_lock_of_its_library(
        cached: Callable[..., CachedOrigins]) -> None:
    # A database driver's lock, taken inside load(): forked while another thread holds
    # it, a child would hold a copy that nobody ever releases.
    driver = threading.Lock()
    inside, calls = threading.Event(), [0]

    def load() -> list[str]:
        with driver:
            calls[0] += 1
            if calls[0] > 1:
                inside.set()
                time.sleep(0.3)
        return [A]

    origins = cached(load, ttl=3600, max_stale=7200, load_timeout=10)
    app_with(origins)
    origins.request_reload("test")
    assert inside.wait(5)
    assert forked(lambda: driver.acquire(timeout=2))  # the fork waited for the load
    assert grant(app_with(origins), A) == A


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX fork")
def test_a_fork_waits_no_longer_than_fork_wait_and_the_child_says_so(
        cached: Callable[..., CachedOrigins], monkeypatch: pytest.MonkeyPatch) -> None:
    from flask_crossorigin import cached_origins

    monkeypatch.setattr(cached_origins, "FORK_WAIT", 0.2)
    hang, inside, calls = threading.Event(), threading.Event(), [0]

    def load() -> list[str]:
        calls[0] += 1
        if calls[0] > 1:
            inside.set()
            hang.wait(30)
        return [A]

    origins = cached(load, ttl=3600, max_stale=7200, load_timeout=60)
    app_with(origins)
    origins.request_reload("test")
    assert inside.wait(5)
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("flask_crossorigin").addHandler(handler)
    try:
        # The fork went ahead (the test would hang otherwise), and the child was told.
        assert forked(lambda: any("forked while 1 load() call" in record.getMessage()
                                  for record in records))
        assert not any("forked while" in record.getMessage() for record in records)
        # The gate is open again in the parent: its next load is not held back.
        hang.set()
        assert origins.refresh() is True
    finally:
        hang.set()
        logging.getLogger("flask_crossorigin").removeHandler(handler)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX fork")
def test_a_load_that_forks_is_not_held_back_by_its_own_fork(
        cached: Callable[..., CachedOrigins], monkeypatch: pytest.MonkeyPatch) -> None:
    from flask_crossorigin import cached_origins

    monkeypatch.setattr(cached_origins, "FORK_WAIT", 2.0)
    calls, children = [0], []

    def load() -> list[str]:
        calls[0] += 1
        if calls[0] > 1:  # a load that runs a child process by forking (multiprocessing)
            children.append((forked(lambda: True), cached_origins._fork_gate.late))
        return [A]

    origins = cached(load, ttl=3600, max_stale=7200, load_timeout=60)
    app_with(origins)
    assert origins.refresh() is True
    # The fork did not wait for the load that made it (it would have given up after
    # FORK_WAIT with that load still running: late == 1).
    assert children == [(True, 0)]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX fork")
def test_workers_forked_while_sqlite_loads_all_the_time_can_load(
        cached: Callable[..., CachedOrigins], tmp_path: Any) -> None:
    # gunicorn --preload over a SQLite table: the master's reloading thread is inside
    # SQLite a good part of the time. Without the fork gate, about one fork in five
    # gave a child whose every load hung on SQLite's lock (and closed at max_stale).
    import sqlite3

    table = str(tmp_path / "tenants.sqlite3")
    with sqlite3.connect(table) as connection:
        connection.execute("CREATE TABLE tenants (origin TEXT PRIMARY KEY)")
        connection.execute("INSERT INTO tenants VALUES (?)", (A,))

    def load() -> list[str]:
        with sqlite3.connect(table, timeout=5) as connection:
            return [row[0] for _ in range(20)
                    for row in connection.execute("SELECT origin FROM tenants")]

    origins = cached(load, ttl=0.001, max_stale=60, load_timeout=2)
    app = app_with(origins)
    results = [forked(lambda: origins.refresh() and grant(app, A) == A) for _ in range(20)]
    assert all(results), f"{results.count(False)} of 20 children could not load"


def test_the_core_path_never_imports_redis() -> None:
    script = """
import sys
from flask import Flask
import flask_crossorigin
from flask_crossorigin import CORS, CachedOrigins, cross_origin
app = Flask("x")
origins = CachedOrigins(lambda: ["https://a.example"])
@app.route("/")
@cross_origin(origins=origins)
def index():
    return "ok"
CORS(app, origins=origins)
response = app.test_client().get("/", headers={"Origin": "https://a.example"})
assert response.headers["Access-Control-Allow-Origin"] == "https://a.example"
import flask_crossorigin.cli
print("redis" in sys.modules, "flask_crossorigin.redis_origins" in sys.modules)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=60, env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert result.stdout.split() == ["False", "False"], result.stderr


def test_policies_built_while_the_set_is_swapped_follow_the_last_set(
        cached: Callable[..., CachedOrigins]) -> None:
    # A @cross_origin policy may be compiled on a first request while the reloading
    # thread swaps sets: it must never keep the answers of a set that was replaced.
    flip = [0]

    def load() -> list[str]:
        flip[0] += 1
        return [A] if flip[0] % 2 else [B]

    origins = cached(load, ttl=3600, max_stale=7200)
    app_with(origins)
    apps: list[Flask] = []
    stop = threading.Event()

    def reload_all_the_time() -> None:
        while not stop.is_set():
            origins.refresh()

    thread = threading.Thread(target=reload_all_the_time)
    thread.start()
    try:
        for _ in range(100):
            apps.append(app_with(origins))
    finally:
        stop.set()
        thread.join()
    final = origins.live.current.exact
    for app in apps:
        (policy,) = [p for _, p in app.extensions["crossorigin"].table.entries]
        assert set(policy._exact_grants) == set(final)


def test_the_reloading_thread_survives_its_own_errors(
        cached: Callable[..., CachedOrigins], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    rows = [A]
    origins = cached(lambda: list(rows), ttl=0.05, max_stale=60)
    app = app_with(origins)
    calls = [0]
    original = origins._close_if_too_stale

    def broken() -> None:
        calls[0] += 1
        if calls[0] <= 2:
            raise RuntimeError("a bug")
        original()

    monkeypatch.setattr(origins, "_close_if_too_stale", broken)
    wait_until(lambda: calls[0] > 2)
    rows.append(B)
    wait_until(lambda: grant(app, B) == B)  # still reloading after the errors
    assert [r for r in caplog.records if "reloading thread" in r.getMessage()]


def test_reloads_replace_the_set_and_do_not_grow_memory(
        cached: Callable[..., CachedOrigins]) -> None:
    rows = [f"https://t{i}.example" for i in range(2000)]
    origins = cached(lambda: list(rows), ttl=3600, max_stale=7200)
    apps = [app_with(origins), app_with(origins)]  # two policies following the same set
    tracemalloc.start()
    origins.refresh()  # the set in place when measuring starts is traced too
    gc.collect()
    before = tracemalloc.take_snapshot()
    for _ in range(20):
        assert origins.refresh()
    gc.collect()
    after = tracemalloc.take_snapshot()
    assert grant(apps[0], "https://t7.example") == "https://t7.example"
    tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert grown < 50_000, grown  # one set is ~400 kB: twenty kept would be ~8 MB


@pytest.mark.parametrize("how", ["CORS(app)", "init_app", "CORS_ORIGINS", "blueprint"])
def test_accepted_wherever_origins_are(how: str, cached: Callable[..., CachedOrigins]) -> None:
    from flask import Blueprint

    rows = [A]
    origins = cached(lambda: list(rows))
    app = Flask(__name__)
    blueprint = Blueprint("bp", __name__)

    @blueprint.route("/api/data")
    def data() -> str:
        return "ok"

    if how == "CORS(app)":
        CORS(app, origins=origins)
    elif how == "init_app":
        CORS().init_app(app, origins=origins)
    elif how == "CORS_ORIGINS":
        app.config["CORS_ORIGINS"] = origins
        CORS(app)
    else:
        CORS(blueprint, origins=origins)
    app.register_blueprint(blueprint)
    assert grant(app, A) == A and grant(app, B) is None
    rows.append(B)
    origins.refresh()
    assert grant(app, B) == B


# -- a loaded set decides as the same set listed statically (property) ----------------

POOL = [*GOOD_ENTRIES, "https://B.example", "https://*.b.example:8443", *BAD_ENTRIES[:13]]
PROBES = [A, B, "https://b.example", "https://x.b.example:8443", "https://x.tenants.example",
          "https://abc.regex.example", "https://1.numbers.example", "null", "http://localhost:3000",
          "https://app.example", "https://evil.example", "https://x.github.io", "HTTPS://A.EXAMPLE",
          "https://a.example.evil.net", "http://127.0.0.1", "https://foo.co.uk", ""]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(POOL), max_size=8), st.booleans())
def test_a_loaded_list_decides_as_its_good_entries_listed(
        loaded: list[Any], credentials: bool) -> None:
    origins = CachedOrigins(lambda: list(loaded), ttl=3600, max_stale=7200)
    assert origins.refresh()
    options = {"supports_credentials": credentials, "allow_headers": ["X-Token"]}
    dynamic = compile_policy("p", [("CORS()", {**options, "origins": origins})])
    good = [entry for entry in loaded if not entry_problems(entry)]
    static = compile_policy("p", [("CORS()", {**options, "origins": good})])
    for probe in PROBES:
        ours, theirs = dynamic.actual(probe), static.actual(probe)
        assert ours.headers == theirs.headers, probe
        assert (ours.refusal is None) == (theirs.refusal is None), probe
        pre, pre_static = dynamic.preflight(probe, "PUT", "x-token"), static.preflight(
            probe, "PUT", "x-token")
        assert pre.headers == pre_static.headers, probe
    assert origins.skipped_count == len(loaded) - len(good)


def test_max_stale_closes_on_time_while_a_slow_load_is_under_way(
        cached: Callable[..., CachedOrigins]) -> None:
    slow = threading.Event()
    release = threading.Event()

    def load() -> list[str]:
        if slow.is_set():
            release.wait(30)  # far longer than max_stale, shorter than load_timeout
        return [A]

    origins = cached(load, ttl=0.1, max_stale=0.5, load_timeout=20)
    app = app_with(origins)
    slow.set()
    loaded = time.monotonic()
    wait_until(lambda: origins.state == "closed", timeout=3)
    assert time.monotonic() - loaded < 2.0  # not after load_timeout (20 s)
    assert grant(app, A) is None
    slow.clear()
    release.set()  # the slow load returns: its set serves again
    wait_until(lambda: grant(app, A) == A, timeout=5)


def test_before_its_first_load_a_source_is_loading_not_closed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue 23: 'closed' reads like an outage; before the first load has finished the
    state is 'loading', in describe(), repr (so in the log) and the CLI's tables."""
    started, release = threading.Event(), threading.Event()

    def slow() -> list[str]:
        started.set()
        release.wait(10)
        return ["https://a.example"]

    origins = CachedOrigins(slow, ttl=30, max_stale=300)
    try:
        assert origins.state == "loading" and origins.describe()["state"] == "loading"
        with caplog.at_level(logging.DEBUG, logger="flask_crossorigin"):
            loader = threading.Thread(target=origins.refresh)
            loader.start()
            assert started.wait(10)
            assert "loading>" in repr(origins)
            release.set()
            loader.join(10)
        assert "loading the origins of <CachedOrigins slow loading> (refresh())" in caplog.text
        assert origins.state == "fresh"
    finally:
        release.set()
        origins.close()

    def down() -> list[str]:
        raise ConnectionError("down")

    failed = CachedOrigins(down, ttl=30, max_stale=300)
    try:
        assert not failed.refresh()
        assert failed.state == "closed"  # a failed first load is an outage: said so
    finally:
        failed.close()
