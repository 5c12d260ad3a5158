"""Origins loaded at run time, across gunicorn's workers, a real redis-server, and faults.

gunicorn serves ``tests/origins_app.py`` with 4 workers (with ``--preload``, the
app is loaded once and forked, the hard case for threads and connections; and
without), while
client threads send requests from several origins, each on a new connection so
that every worker answers. Every answer names its worker (``X-Worker``). Then:

* an origin added with ``RedisOrigins.add`` (and to a SQLite table followed by
  ``CachedOrigins.invalidate``) is granted by every worker within 1 s; removed,
  it is refused by every worker within 1 s, and no request sent after that window
  is granted (counted);
* redis-server stopped while traffic flows: no 500, the last good set serves until
  ``max_stale``, then every cross-origin request is refused; restarted, every worker
  (the same processes) converges again;
* a loader that raises or hangs never blocks or fails a request.

The same app under uWSGI (``pyuwsgi``: prefork, ``--master``, 4 workers, no
``--lazy-apps``), whose workers are forked in C without Python's fork hooks: a
change reaches every worker within 1 s, and ``max_stale`` closes every worker on
time while redis-server is down.

Convergence times (median and max) are printed; docs/performance.rst quotes them.
``CROSSORIGIN_CONVERGENCE_CHANGES=20`` repeats the changes more (3 by default).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from flask_crossorigin import CachedOrigins, RedisOrigins

from .origins_app import FLAKY_ORIGIN, MAX_STALE, TABLE_CHANNEL, TTL, table_origins
from .servers import gunicorn as serve

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 4
CLIENTS = 6
CHANGES = int(os.environ.get("CROSSORIGIN_CONVERGENCE_CHANGES", "3"))
WINDOW = 1.0  # seconds: the consistency guarantee under test
NEW = "https://new-tenant.example"
UNKNOWN = "https://unknown.example"


@dataclass
class Sample:
    sent: float
    received: float
    path: str
    origin: str
    status: int | None
    worker: str | None
    granted: bool


class Traffic:
    """Client threads sending requests in a loop, each on a new connection."""

    def __init__(self, port: int, targets: list[tuple[str, str]]) -> None:
        self.port = port
        self.targets = targets
        self.samples: list[Sample] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                         for i in range(CLIENTS)]

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _run(self, index: int) -> None:
        turn = index
        while not self._stop.is_set():
            targets = self.targets
            path, origin = targets[turn % len(targets)]
            turn += 1
            sent = time.monotonic()
            status = worker = None
            granted = False
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                connection.request("GET", path, headers={"Origin": origin,
                                                         "Connection": "close"})
                response = connection.getresponse()
                response.read()
                status, worker = response.status, response.headers.get("X-Worker")
                granted = response.headers.get("Access-Control-Allow-Origin") == origin
                connection.close()
            except OSError:
                pass
            sample = Sample(sent, time.monotonic(), path, origin, status, worker, granted)
            with self._lock:
                self.samples.append(sample)

    def since(self, start: float, path: str, origin: str) -> list[Sample]:
        with self._lock:
            return [s for s in self.samples
                    if s.sent >= start and s.path == path and s.origin == origin]

    def converge(self, start: float, path: str, origin: str, granted: bool,
                 timeout: float = 5.0) -> float:
        """Seconds from ``start`` until every worker answers ``granted`` for ``origin``:
        the last wrong answer to a request sent after ``start``, once every worker has
        answered rightly after it."""
        deadline = time.monotonic() + timeout
        while True:
            samples = self.since(start, path, origin)
            wrong = [s.received for s in samples if s.granted != granted]
            settled = max(wrong, default=start)
            right = {s.worker for s in samples if s.granted == granted and s.sent > settled}
            if len(right) >= WORKERS:
                return settled - start
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{origin} on {path}: workers {sorted(right)} answer granted={granted} "
                    f"{timeout} s after the change; {len(wrong)} wrong answers")
            time.sleep(0.05)


def app_files(tmp_path: Path, redis_url: str) -> tuple[Path, Path, dict[str, str]]:
    """What ``tests/origins_app.py`` reads: an empty tenant table, the flaky loader's mode
    file (``ok``), and the environment that names them."""
    table = tmp_path / "tenants.sqlite3"
    with sqlite3.connect(table) as connection:
        connection.execute("CREATE TABLE tenants (origin TEXT PRIMARY KEY)")
    flaky_mode = tmp_path / "flaky"
    flaky_mode.write_text("ok")
    environ = {"CROSSORIGIN_REDIS_URL": redis_url, "CROSSORIGIN_TABLE": str(table),
               "CROSSORIGIN_FLAKY": str(flaky_mode)}
    return table, flaky_mode, environ


def gunicorn(environ: dict[str, str], preload: bool) -> AbstractContextManager[int]:
    return serve("tests.origins_app:create_app()", environ, WORKERS,
                 extra=["--preload"] if preload else [])


@contextmanager
def uwsgi(environ: dict[str, str], log: Path) -> Iterator[int]:
    """uWSGI's default prefork: the app is loaded in the master, workers forked in C."""
    import signal

    from .redis_server import free_port

    port = free_port()
    command = [
        sys.executable, "-c", "import sys, pyuwsgi; sys.exit(pyuwsgi.run())",
        "--master", "--processes", str(WORKERS), "--http-socket", f"127.0.0.1:{port}",
        "--module", "tests.origins_uwsgi", "--chdir", str(ROOT), "--need-app",
        "--die-on-term", "--disable-logging", "--listen", "128",
        "--worker-reload-mercy", "3", "--reload-mercy", "3",
    ]
    with open(log, "w") as output:
        # A session of its own: the master and its workers are stopped together.
        process = subprocess.Popen(command, cwd=ROOT, start_new_session=True,
                                   env={**os.environ, **environ, "PYTHONPATH": str(ROOT)},
                                   stdout=output, stderr=subprocess.STDOUT)
    try:
        for _ in range(600):
            if process.poll() is not None:
                raise RuntimeError(f"uWSGI exited: {log.read_text()}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/health")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # workers uWSGI did not reap
        process.wait()


def test_uwsgi_workers_forked_without_fork_hooks_follow_removals_and_close_on_time(
        redis_server: Any, tmp_path: Path) -> None:
    """Each uWSGI worker notices on its first request that it is not the process that
    started the reloading thread, and starts its own: a removed origin stops being
    granted in every worker within 1 s, and max_stale closes every worker on time."""
    import pyuwsgi  # noqa: F401  (a test dependency; fails loudly when missing)

    table, _, environ = app_files(tmp_path, redis_server.url)
    store = RedisOrigins(redis_server.url, ttl=TTL, max_stale=MAX_STALE)
    store.add(NEW)
    with sqlite3.connect(table) as connection:  # loaded by the master, before it forks
        connection.execute("INSERT INTO tenants VALUES (?)", (NEW,))
    tenants = CachedOrigins(lambda: table_origins(str(table)), invalidate_via=redis_server.url,
                            channel=TABLE_CHANNEL)
    removes: list[float] = []
    try:
        with uwsgi(environ, tmp_path / "uwsgi.log") as port, \
                Traffic(port, [("/redis/data", NEW)]) as traffic:
            traffic.converge(time.monotonic(), "/redis/data", NEW, True, timeout=30)
            workers = {s.worker for s in traffic.samples if s.status == 200}
            assert len(workers) == WORKERS
            for _ in range(CHANGES):
                start = time.monotonic()
                store.remove(NEW)
                removes.append(traffic.converge(start, "/redis/data", NEW, False))
                time.sleep(WINDOW)
                after = traffic.since(start + WINDOW, "/redis/data", NEW)
                assert after and not any(s.granted for s in after)
                start = time.monotonic()
                store.add(NEW)
                traffic.converge(start, "/redis/data", NEW, True)

            # The whole-list set over a table: only a reloading thread of each worker's
            # own (started by its first request) can follow it.
            traffic.targets = [("/table/data", NEW)]
            traffic.converge(time.monotonic(), "/table/data", NEW, True, timeout=30)
            for _ in range(CHANGES):
                start = time.monotonic()
                with sqlite3.connect(table) as connection:
                    connection.execute("DELETE FROM tenants")
                tenants.invalidate()
                removes.append(traffic.converge(start, "/table/data", NEW, False))
                start = time.monotonic()
                with sqlite3.connect(table) as connection:
                    connection.execute("INSERT INTO tenants VALUES (?)", (NEW,))
                tenants.invalidate()
                traffic.converge(start, "/table/data", NEW, True)
            traffic.targets = [("/redis/data", NEW)]

            redis_server.stop()  # no worker can reload: max_stale must close every one
            stopped = time.monotonic()
            time.sleep(MAX_STALE + 1.5)
            closed = [s for s in traffic.since(stopped + MAX_STALE + 0.5, "/redis/data", NEW)]
            assert {s.worker for s in closed} == workers
            assert not any(s.granted for s in closed), "a worker not closed after max_stale"
            redis_server.start()
            samples = list(traffic.samples)
            assert not [s for s in samples if s.status != 200]
    finally:
        store.close()
        tenants.close()
    assert max(removes) <= WINDOW, removes
    print("\nuWSGI prefork: " + report("refuse after remove", removes))


def report(name: str, times: list[float]) -> str:
    return (f"{name}: median {statistics.median(times) * 1000:.0f} ms, "
            f"max {max(times) * 1000:.0f} ms over {len(times)} changes")


@pytest.mark.parametrize("preload", [True, False], ids=["preload", "app-per-worker"])
def test_every_worker_converges_within_a_second_and_fails_closed(
        redis_server: Any, tmp_path: Path, preload: bool) -> None:
    """``preload``: the app (its first load, threads, Redis connection) is made in
    gunicorn's master and forked; otherwise each worker imports the app itself."""
    table, flaky_mode, environ = app_files(tmp_path, redis_server.url)
    # What the admin side of the app uses: the same set and the same channel.
    store = RedisOrigins(redis_server.url, ttl=TTL, max_stale=MAX_STALE)
    tenants = CachedOrigins(lambda: table_origins(str(table)), invalidate_via=redis_server.url,
                            channel=TABLE_CHANNEL)
    adds: list[float] = []
    removes: list[float] = []
    late_granted = late_total = 0
    try:
        with gunicorn(environ, preload) as port, Traffic(port, [("/redis/data", NEW)]) as traffic:
            # Every worker is up (and refuses the origin nobody added yet).
            traffic.converge(time.monotonic(), "/redis/data", NEW, False, timeout=30)
            workers = {s.worker for s in traffic.samples if s.status == 200}
            assert len(workers) == WORKERS

            traffic.targets = [("/redis/data", NEW), ("/redis/data", UNKNOWN)]
            for _ in range(CHANGES):
                start = time.monotonic()
                store.add(NEW)
                adds.append(traffic.converge(start, "/redis/data", NEW, True))
                start = time.monotonic()
                store.remove(NEW)
                removes.append(traffic.converge(start, "/redis/data", NEW, False))
                time.sleep(WINDOW)
                after = [s for s in traffic.since(start + WINDOW, "/redis/data", NEW)]
                late_total += len(after)
                late_granted += sum(s.granted for s in after)

            traffic.targets = [("/table/data", NEW)]
            for _ in range(CHANGES):
                start = time.monotonic()
                with sqlite3.connect(table) as connection:
                    connection.execute("INSERT INTO tenants VALUES (?)", (NEW,))
                tenants.invalidate()
                adds.append(traffic.converge(start, "/table/data", NEW, True))
                start = time.monotonic()
                with sqlite3.connect(table) as connection:
                    connection.execute("DELETE FROM tenants")
                tenants.invalidate()
                removes.append(traffic.converge(start, "/table/data", NEW, False))
                time.sleep(WINDOW)
                after = traffic.since(start + WINDOW, "/table/data", NEW)
                late_total += len(after)
                late_granted += sum(s.granted for s in after)

            # Redis goes away while traffic flows.
            store.add(NEW)
            traffic.targets = [("/redis/data", NEW)]
            traffic.converge(time.monotonic(), "/redis/data", NEW, True)
            redis_server.stop()
            stopped = time.monotonic()
            time.sleep(MAX_STALE + 1.5)
            down = traffic.since(stopped, "/redis/data", NEW)
            served = [s for s in down if s.sent < stopped + MAX_STALE - TTL - 0.3]
            closed = [s for s in down if s.sent > stopped + MAX_STALE + 0.5]
            assert served and all(s.granted for s in served), "last good set not served"
            assert closed and not any(s.granted for s in closed), "not closed after max_stale"
            redis_server.start()  # empty: nothing was saved
            start = time.monotonic()
            store.add(NEW)
            recovered = traffic.converge(start, "/redis/data", NEW, True, timeout=10)

            # Loaders that raise, then hang: requests neither fail nor wait.
            traffic.targets = [("/flaky/data", FLAKY_ORIGIN)]
            traffic.converge(time.monotonic(), "/flaky/data", FLAKY_ORIGIN, True)
            flaky_start = time.monotonic()
            flaky_mode.write_text("raise")
            time.sleep(1.0)
            flaky_mode.write_text("hang")
            time.sleep(1.5)
            flaky = traffic.since(flaky_start, "/flaky/data", FLAKY_ORIGIN)
            slowest = max(s.received - s.sent for s in flaky)
            assert flaky and all(s.status == 200 and s.granted for s in flaky)
            assert slowest < 1.0, slowest  # none waited for a load (0.5 s timeout, 1 h hang)

            samples = list(traffic.samples)
            assert {s.worker for s in samples if s.status is not None} == workers  # no restart
            errors = [s for s in samples if s.status != 200]
            assert not errors, errors[:5]
    finally:
        store.close()
        tenants.close()
    assert max(adds) <= WINDOW and max(removes) <= WINDOW, (adds, removes)
    assert late_granted == 0 and late_total > 0
    print(f"\n{'--preload' if preload else 'app per worker'}: {len(samples)} requests, "
          f"{WORKERS} workers; " + report("grant after add", adds)
          + "; " + report("refuse after remove", removes)
          + f"; {late_total} requests after the 1 s window, {late_granted} granted"
          + f"; after redis-server restarted: {recovered * 1000:.0f} ms"
          + f"; slowest request while a loader hung: {slowest * 1000:.0f} ms")


@pytest.fixture(autouse=True)
def _only_with_gunicorn() -> None:
    import gunicorn  # noqa: F401  (a test dependency; fails loudly when missing)

    assert redis.__version__
