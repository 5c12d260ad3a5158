"""Soak: the extension under gunicorn, many threads, every answer checked against its own Origin.

gunicorn serves ``tests/soak_app.py`` on a loopback port (2 workers x 4
threads, gthread). Sixteen client threads, each on its own keep-alive
connection, send a fixed mix of simple requests and preflights from random
allowed and refused origins. Every response is checked against the grant its
own request should get; the run must end with zero wrong answers and zero
errors. The same run against the app without the extension gives the baseline
throughput; both figures are printed, never asserted. A third run serves the app
with a report-only policy beside the same enforced one: the answers must be the
same, and every mismatch the report-only policy reports must be one the client
expects for its own request (by X-Request-Id), none missing, none extra.

    CROSSORIGIN_SOAK_REQUESTS=200000 python -m pytest tests/test_soak.py

(20,000 requests per run by default.)
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .soak_app import ALLOWED, REPORT_ONLY

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = int(os.environ.get("CROSSORIGIN_SOAK_REQUESTS", "20000"))
CLIENT_THREADS = 16
WORKERS, THREADS = 2, 4

# Origins the policy trusts, and near-misses it must refuse.
GRANTED = [*ALLOWED, "https://a.apps.example", "https://tenant3.apps.example",
           "https://x-1.y.apps.example"]
REFUSED = [
    "https://tenant99.example", "http://tenant1.example", "https://tenant1.example:8443",
    "https://tenant1.example.evil.net", "https://eviltenant1.example", "https://apps.example",
    "https://a.apps.example.evil.net", "https://evilapps.example", "null",
    "https://tenant1.example/", "HTTPS://TENANT1.EXAMPLE", "https://tenant1.example, https://x.y",
    "https://a.apps.example:444", "http://a.apps.example",
]
#: The origins the report-only policy grants: its exact ones, and the wildcard's.
TRIAL_GRANTED = [*REPORT_ONLY["origins"][:-1], *GRANTED[len(ALLOWED):]]


# -- the server --------------------------------------------------------------------------------

@contextmanager
def serve(app: str, worker_class: str = "gthread") -> Iterator[int]:
    """Run gunicorn for ``tests.soak_app:<app>`` on a free loopback port; yield the port."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(256)
    port = listener.getsockname()[1]
    command = [
        sys.executable, "-m", "gunicorn", f"tests.soak_app:{app}",
        "--bind", f"fd://{listener.fileno()}", "--workers", str(WORKERS),
        "--threads", str(THREADS), "--worker-class", worker_class, "--keep-alive", "30",
        "--log-level", "warning", "--chdir", str(ROOT), "--config", "/dev/null",
    ]
    process = subprocess.Popen(command, cwd=ROOT, pass_fds=(listener.fileno(),),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    listener.close()  # gunicorn holds its own copy
    try:
        _wait_until_ready(port, process)
        yield port
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        serve.last_output = output  # type: ignore[attr-defined]


def _wait_until_ready(port: int, process: subprocess.Popen[str]) -> None:
    for _ in range(600):  # up to a minute on a busy machine
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {process.communicate()[0]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                connection.close()
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("gunicorn did not answer on /health")


# -- the requests and what each must get ----------------------------------------------------

@dataclass
class Tally:
    requests: int = 0
    wrong: int = 0
    errors: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    #: The report-only mismatch each request should cause, by X-Request-Id.
    mismatches: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, other: Tally) -> None:
        with self.lock:
            self.requests += other.requests
            self.wrong += other.wrong
            self.errors += other.errors
            self.kinds.update(other.kinds)
            self.samples.extend(other.samples[: 10 - len(self.samples)])
            self.mismatches.update(other.mismatches)


def plan(rng: random.Random) -> tuple[str, str | None, str | None]:
    """One request: its kind, its Origin (or None) and the requested headers."""
    roll = rng.random()
    origin = (None if roll < 0.05 else rng.choice(GRANTED) if roll < 0.55
              else rng.choice(REFUSED))
    kind = rng.choice(["GET", "GET", "POST", "PREFLIGHT", "PREFLIGHT"])
    requested = None
    if kind == "PREFLIGHT":
        requested = rng.choice(["content-type,x-token", "x-token", None, "x-evil",
                                "content-type,x-evil"])
    return kind, origin, requested


def check(cors: bool, kind: str, origin: str | None, requested: str | None, request_id: str,
          response: http.client.HTTPResponse, body: bytes) -> str | None:
    """What is wrong with ``response``, or None. The expectation is this request's own."""
    headers = response.headers
    acao = headers.get_all("Access-Control-Allow-Origin") or []
    if kind == "PREFLIGHT":
        if not cors:
            return None if response.status == 200 and not acao else "bare preflight"
        if origin is None:  # not a CORS request: Flask's own OPTIONS answer, no grant
            return None if response.status == 200 and not acao else "origin-less preflight"
        granted = origin in GRANTED and (requested is None or "x-evil" not in requested)
        if not granted:
            return None if response.status == 403 and not acao else "refused preflight granted"
        if response.status != 204 or acao != [origin]:
            return f"preflight: {response.status} {acao}"
        if headers.get("Access-Control-Allow-Credentials") != "true":
            return "preflight without credentials"
        if "PUT" not in (headers.get("Access-Control-Allow-Methods") or ""):
            return "preflight without PUT"
        if requested and headers.get("Access-Control-Allow-Headers") != requested.replace(
                ",", ", "):
            return f"preflight headers {headers.get('Access-Control-Allow-Headers')!r}"
        return None
    if response.status != 200:
        return f"status {response.status}"
    echoed = json.loads(body)
    if echoed["id"] != request_id or echoed["origin"] != origin:
        return f"answer to another request: {echoed}"
    if not cors:
        return "bare app sent CORS headers" if acao else None
    if "Origin" not in (headers.get("Vary") or ""):
        return "no Vary: Origin"
    if origin in GRANTED:
        if acao != [origin] or headers.get("Access-Control-Allow-Credentials") != "true":
            return f"allowed {origin!r} got {acao}"
    elif acao or headers.get("Access-Control-Allow-Credentials"):
        return f"refused {origin!r} got {acao}"
    return None


def expected_mismatch(kind: str, origin: str | None, requested: str | None) -> str | None:
    """The report-only policy's mismatch on this request ("would-refuse origin-not-allowed"),
    or None when it decides as the enforced policy does."""
    if origin is None:
        return None  # not a CORS request (a preflight without Origin is a plain OPTIONS)
    enforced = origin in GRANTED and (
        kind != "PREFLIGHT" or requested is None or "x-evil" not in requested)
    trial = origin in TRIAL_GRANTED  # it allows X-Evil too
    if enforced and not trial:
        return "would-refuse origin-not-allowed"
    if trial and not enforced:
        return "would-grant headers-not-allowed"
    return None


def client_thread(port: int, cors: bool, count: int, seed: int, total: Tally) -> None:
    rng = random.Random(seed)
    tally = Tally()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for n in range(count):
        kind, origin, requested = plan(rng)
        request_id = f"{seed}-{n}"
        sent = {"X-Request-Id": request_id}
        if origin is not None:
            sent["Origin"] = origin
        method, body = ("GET", None) if kind == "GET" else ("POST", b'{"a": 1}')
        if kind == "POST":
            sent["Content-Type"] = "application/json"
        if kind == "PREFLIGHT":
            method, body = "OPTIONS", None
            sent["Access-Control-Request-Method"] = "PUT"
            if requested is not None:
                sent["Access-Control-Request-Headers"] = requested
        tally.requests += 1
        tally.kinds[kind] += 1
        mismatch = expected_mismatch(kind, origin, requested)
        if mismatch is not None:
            tally.mismatches[request_id] = mismatch
        try:
            connection.request(method, "/api/data", body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            tally.errors += 1
            tally.samples.append(f"{kind} {origin!r}: {type(error).__name__}: {error}")
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            continue
        if response.status >= 500:
            tally.errors += 1
            tally.samples.append(f"{kind} {origin!r}: status {response.status}")
            continue
        problem = check(cors, kind, origin, requested, request_id, response, data)
        if problem is not None:
            tally.wrong += 1
            tally.samples.append(f"{kind} {origin!r} {requested!r}: {problem}")
    connection.close()
    total.add(tally)


def soak(port: int, cors: bool, requests: int, first_seed: int = 0) -> tuple[Tally, float]:
    """Send ``requests`` requests from CLIENT_THREADS threads; the tally and requests/s.

    Request ids are ``<seed>-<n>``: runs that must not share ids take other seeds."""
    total = Tally()
    per_thread = [requests // CLIENT_THREADS + (i < requests % CLIENT_THREADS)
                  for i in range(CLIENT_THREADS)]
    threads = [threading.Thread(target=client_thread, args=(port, cors, n, first_seed + i, total))
               for i, n in enumerate(per_thread)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    return total, total.requests / elapsed


# -- the tests -------------------------------------------------------------------------------

def report(request: pytest.FixtureRequest, lines: list[str]) -> None:
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if capture is None or reporter is None:
        print("\n".join(lines))
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        for line in lines:
            reporter.write_line(line)


REPORT_ONLY_RUN = "with a report-only policy"


def test_soak_under_gunicorn(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded = tmp_path / "mismatches.txt"
    monkeypatch.setenv("CROSSORIGIN_SOAK_MISMATCHES", str(recorded))
    runs = (("without the extension", False, "without_cors", REQUESTS),
            ("with the extension", True, "with_cors", REQUESTS),
            (REPORT_ONLY_RUN, True, "with_report_only", REQUESTS // 2))
    results: dict[str, tuple[Tally, float]] = {}
    warm_ups: dict[str, Tally] = {}
    for name, cors, app, requests in runs:
        with serve(app) as port:
            warm_ups[name] = soak(port, cors, CLIENT_THREADS * 10, first_seed=1000)[0]  # checked
            results[name] = soak(port, cors, requests)
        if name == REPORT_ONLY_RUN:
            server_output = serve.last_output  # type: ignore[attr-defined]
    lines = [f"soak under gunicorn ({WORKERS} workers x {THREADS} threads, "
             f"{CLIENT_THREADS} client threads, keep-alive, loopback):"]
    for name, (tally, rate) in results.items():
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(tally.kinds.items()))
        lines.append(f"  {name:26s} {tally.requests:,} requests ({kinds}): {rate:,.0f} req/s, "
                     f"{tally.wrong} wrong, {tally.errors} errors")
    base, with_ext = results["without the extension"][1], results["with the extension"][1]
    lines.append(f"  throughput with the extension: {with_ext / base:.0%} of the bare app")
    trial_rate = results[REPORT_ONLY_RUN][1]
    lines.append(f"  throughput with a report-only policy: {trial_rate / with_ext:.0%} of the "
                 "extension's without one")
    expected = {**warm_ups[REPORT_ONLY_RUN].mismatches, **results[REPORT_ONLY_RUN][0].mismatches}
    lines.append(f"  report-only mismatches: {len(expected):,} expected")
    report(request, lines)
    for name, (tally, _) in results.items():
        assert tally.requests == dict((r[0], r[3]) for r in runs)[name], name
        assert tally.errors == 0, (name, tally.samples)
        assert tally.wrong == 0, (name, tally.samples)
        assert warm_ups[name].errors == warm_ups[name].wrong == 0, (name, warm_ups[name].samples)
    granted = results["with the extension"][0]
    assert granted.kinds["PREFLIGHT"] > REQUESTS // 5 and granted.kinds["GET"] > REQUESTS // 5
    check_mismatches(expected, recorded.read_text(encoding="ascii"), server_output)


def check_mismatches(expected: dict[str, str], recorded: str, server_output: str) -> None:
    """Every report-only mismatch accounted for: one signal per expected mismatch, for its
    own request and reason, nothing else; one log line per (origin, reason) per worker."""
    found: dict[str, str] = {}
    for line in recorded.splitlines():
        request_id, mismatch = line.split(" ", 1)
        assert request_id not in found, f"two mismatches for request {request_id}"
        found[request_id] = mismatch
    assert len(expected) > 500
    assert set(expected.values()) == {"would-refuse origin-not-allowed",
                                      "would-grant headers-not-allowed"}
    assert found == expected
    # The log: each key logged once per worker that saw it (the interval outlasts the run).
    logged = Counter(
        (line.split(" from '", 1)[1].split("'", 1)[0], "would refuse" in line)
        for line in server_output.splitlines() if line.startswith("report-only: ")
    )
    assert logged and max(logged.values()) <= WORKERS, logged
    assert set(logged) == ({(origin, True) for origin in set(GRANTED) - set(TRIAL_GRANTED)}
                           | {(origin, False) for origin in TRIAL_GRANTED})
    assert "Traceback" not in server_output


SITES = [None, None, "same-origin", "none", "same-site", "cross-site", "cross-site",
         "Cross-Site", "cross-site, same-origin", "x" * 40]


def write_expected(site: str | None, origin: str | None, own: str) -> bool:
    """Whether csrf_protection lets this POST through (the algorithm, for this app)."""
    if site is None:
        return origin is None or origin == own or origin in GRANTED
    if site in ("same-origin", "none"):
        return True
    well_formed = site.islower() and "," not in site and len(site) <= 32
    return well_formed and origin in GRANTED


def write_client(port: int, count: int, seed: int, total: Tally) -> None:
    rng = random.Random(seed)
    own = f"http://127.0.0.1:{port}"  # the Host this client sends
    tally = Tally()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for n in range(count):
        request_id = f"w{seed}-{n}"
        site = rng.choice(SITES)
        roll = rng.random()
        origin = (None if roll < 0.1 else own if roll < 0.2 else rng.choice(GRANTED)
                  if roll < 0.6 else rng.choice(REFUSED))
        method = "POST" if rng.random() < 0.8 else "GET"
        sent = {"X-Request-Id": request_id, "Content-Type": "text/plain"}
        if site is not None:
            sent["Sec-Fetch-Site"] = site
        if origin is not None:
            sent["Origin"] = origin
        passes = method == "GET" or write_expected(site, origin, own)
        tally.requests += 1
        tally.kinds[f"{method} {'passes' if passes else 'refused'}"] += 1
        try:
            connection.request(method, "/api/data", body=b"x" if method == "POST" else None,
                               headers=sent)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            tally.errors += 1
            tally.samples.append(f"{method} {site!r} {origin!r}: {type(error).__name__}")
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            continue
        acao = response.headers.get_all("Access-Control-Allow-Origin") or []
        problem = None
        if response.status >= 500:
            tally.errors += 1
            problem = f"status {response.status}"
        elif not passes:
            if response.status != 403 or acao or data:
                problem = f"not refused: {response.status} {acao} {data[:40]!r}"
        elif response.status != 200 or json.loads(data)["id"] != request_id:
            problem = f"refused or another request's answer: {response.status}"
        elif origin in GRANTED and acao != [origin]:
            problem = f"no grant for {origin!r}: {acao}"
        if problem is not None:
            tally.wrong += 1
            tally.samples.append(f"{method} {site!r} {origin!r}: {problem}")
    connection.close()
    total.add(tally)


def test_csrf_protection_under_gunicorn(request: pytest.FixtureRequest) -> None:
    """Writes from many threads and both workers: each refused or let through by its own
    Sec-Fetch-Site and Origin (the flag and the write checks are worked out on first use,
    by whichever thread comes first)."""
    requests = max(REQUESTS // 4, CLIENT_THREADS * 50)
    total = Tally()
    with serve("with_csrf") as port:
        per_thread = requests // CLIENT_THREADS
        threads = [threading.Thread(target=write_client, args=(port, per_thread, seed, total))
                   for seed in range(CLIENT_THREADS)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        rate = total.requests / (time.perf_counter() - start)
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(total.kinds.items()))
    report(request, [f"csrf_protection under gunicorn: {total.requests:,} requests ({kinds}): "
                     f"{rate:,.0f} req/s, {total.wrong} wrong, {total.errors} errors"])
    assert total.errors == 0 and total.wrong == 0, total.samples
    assert total.kinds["POST refused"] > requests // 5
    assert total.kinds["POST passes"] > requests // 5
    assert "Traceback" not in serve.last_output  # type: ignore[attr-defined]


def test_check_catches_a_wrong_answer() -> None:
    """The checker is not vacuous: a grant for a refused origin is reported."""

    class Fake:
        status = 200
        headers = http.client.HTTPMessage()

    fake = Fake()
    fake.headers["Access-Control-Allow-Origin"] = "https://evil.example"
    fake.headers["Vary"] = "Origin"
    body = json.dumps({"id": "1", "origin": "https://evil.example"}).encode()
    problem = check(True, "GET", "https://evil.example", None, "1", fake, body)  # type: ignore[arg-type]
    assert problem is not None and "refused" in problem
    other = json.dumps({"id": "2", "origin": "https://evil.example"}).encode()
    assert "another request" in str(check(True, "GET", "https://evil.example", None, "1",
                                          fake, other))  # type: ignore[arg-type]


def raw_request(port: int, head: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def test_real_server_with_hostile_headers() -> None:
    """What only a real server shows: repeated Origin headers and line breaks on the wire."""
    trusted = ALLOWED[0].encode()
    with serve("with_cors") as port:
        # Two Origin headers: gunicorn joins them into a list, which is not an origin.
        answer = raw_request(port, b"GET /api/data HTTP/1.1\r\nHost: x\r\nOrigin: " + trusted
                             + b"\r\nOrigin: https://evil.example\r\nConnection: close\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 200")
        assert b"access-control-allow-origin" not in answer.lower()
        # A bare CR inside the value: the server refuses the request outright.
        answer = raw_request(port, b"GET /api/data HTTP/1.1\r\nHost: x\r\nOrigin: " + trusted
                             + b"\rSet-Cookie: a=b\r\nConnection: close\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 400")
        assert b"set-cookie" not in answer.lower()
        # A 64 KB Origin: refused by the server (header too large), never a 500.
        answer = raw_request(port, b"GET /api/data HTTP/1.1\r\nHost: x\r\nOrigin: https://"
                             + b"a" * 65536 + b".example\r\nConnection: close\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 4")
        # And a normal request still gets its grant.
        answer = raw_request(port, b"GET /api/data HTTP/1.1\r\nHost: x\r\nOrigin: " + trusted
                             + b"\r\nConnection: close\r\n\r\n")
        assert b"Access-Control-Allow-Origin: " + trusted + b"\r\n" in answer


def test_a_decorator_only_app_answers_alike_in_every_worker() -> None:
    """Without CORS(app) nothing is installed by a first request, so every worker and
    every thread answers a preflight the same way (here: the login hook's 401)."""
    origin = ALLOWED[0]

    def one(kind: str) -> tuple[str, int, str | None, str]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Origin": origin, "Connection": "close"}
        if kind == "PREFLIGHT":
            headers["Access-Control-Request-Method"] = "PUT"
            connection.request("OPTIONS", "/api/widget", headers=headers)
        else:
            headers["Authorization"] = "Bearer x"
            connection.request("GET", "/api/widget", headers=headers)
        response = connection.getresponse()
        response.read()
        connection.close()
        return (kind, response.status, response.getheader("Access-Control-Allow-Origin"),
                response.getheader("X-Worker") or "")

    # Sync workers take one connection at a time, so both workers get requests.
    with serve("decorator_only", "sync") as port, ThreadPoolExecutor(max_workers=8) as pool:
        warm: set[str] = set()
        deadline = time.monotonic() + 60
        while len(warm) < WORKERS:  # until every worker has booted and answers (bounded)
            assert time.monotonic() < deadline, f"only {len(warm)} worker(s) answered"
            warm |= set(pool.map(lambda _: one("GET")[3], range(16)))
        answers = list(pool.map(one, ["PREFLIGHT", "GET"] * 60))
    distinct = {answer[:3] for answer in answers}
    assert distinct == {("PREFLIGHT", 401, None), ("GET", 200, origin)}, distinct
    workers = {answer[3] for answer in answers}
    assert len(workers) == WORKERS, workers  # every worker answered, and alike
    print(f"\ndecorator-only app: {len(answers)} answers from {len(workers)} worker(s), "
          f"{len(distinct)} distinct")
