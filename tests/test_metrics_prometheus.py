"""A real Prometheus (Debian's ``/usr/bin/prometheus``) scrapes the demo API served by
gunicorn with 4 workers in prometheus_client's multiprocess mode, and every PromQL
query of docs/metrics.rst runs through its HTTP API against the requests sent.

The queries and the gunicorn hook are read from docs/metrics.rst, so the page
cannot drift from what this test runs. ``rate`` and ``increase`` extrapolate
from their samples (a little above the true increase, never below it here, as
every series exists before the counted requests are sent): they are checked
within [1, 1.25] of the requests sent; everything else exactly.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from .metrics_app import ROOT, gunicorn, http_sender
from .redis_server import free_port
from .servers import stop

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
DOCS = ROOT / "docs" / "metrics.rst"
FRONT = "http://localhost:5001"  # the demo's front-end origin (DEFAULT_FRONTEND_ORIGIN)
EVIL = "https://evil.example"
CROSS = {"Sec-Fetch-Site": "cross-site"}
PREFLIGHT = "Access-Control-Request-Method"

API = "resources['/api/*']"
BANK = "resources['/bank/*']"
FEEDBACK = "resources['/bank/feedback']"
CATALOG = "resources['/catalog/*']"
PARTNERS_SOURCE = "CachedOrigins(SqlitePartners.list)"

#: The demo requests sent after the warm-up: (times, method, path, headers, status).
MIX = [
    (6, "GET", "/api/items", {"Origin": FRONT}, 200),
    (4, "GET", "/api/items", {"Origin": EVIL}, 200),
    (3, "OPTIONS", "/api/items/1", {"Origin": EVIL, PREFLIGHT: "PUT"}, 403),
    (2, "OPTIONS", "/api/items/1", {"Origin": FRONT, PREFLIGHT: "DELETE"}, 403),
    (5, "POST", "/bank/transfer", {"Origin": EVIL, **CROSS}, 403),
    (7, "GET", "/catalog/items", {"Origin": EVIL}, 200),
    (2, "POST", "/bank/feedback", {"Origin": EVIL, **CROSS}, 200),
]
#: What each query of the docs must answer for MIX, by caption: label values -> number.
EXPECTED: dict[str, dict[tuple[str, ...], float]] = {
    "Refusal rate by reason and policy": {  # per second over 5m: checked as rate * 300
        (API, "origin-not-allowed"): 4 + 3,
        (API, "method-not-allowed"): 2,
        (BANK, "write-untrusted"): 5,
        (FEEDBACK, "origin-not-allowed"): 2,
    },
    "Report-only mismatches over 7 days": {
        (CATALOG, "actual", "origin-not-allowed"): 7,
        (FEEDBACK, "write", "write-untrusted"): 2,
    },
    "Write refusals in the last hour": {
        (BANK, "write-untrusted"): 5,
    },
}
STALE = "A source that went stale or closed"
GUNICORN_HOOK = "gunicorn.conf.py"


def documented_blocks(language: str) -> dict[str, str]:
    """The code blocks of docs/metrics.rst in ``language``, by caption."""
    text = DOCS.read_text()
    found = {}
    pattern = (rf"^\.\. code-block:: {language}\n   :caption: (.+)\n\n((?:   .*\n|\n)+?)"
               r"(?=\S)")
    for caption, body in re.findall(pattern, text, flags=re.MULTILINE):
        found[caption] = "\n".join(line[3:] for line in body.splitlines()).strip()
    return found


@contextmanager
def prometheus(tmp_path: Path, target_port: int) -> Iterator[str]:
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: demo\n    metrics_path: /metrics\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{target_port}']\n")
    process = subprocess.Popen(
        [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _ready(base), 60, lambda: "prometheus is not ready")
        yield base
    finally:
        stop(process)


def _ready(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/-/ready", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def query(base: str, promql: str) -> list[dict[str, Any]]:
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(url, timeout=10) as response:
        answer = json.load(response)
    assert answer["status"] == "success", answer
    assert answer["data"]["resultType"] == "vector", answer
    return list(answer["data"]["result"])


def by_labels(
    result: list[dict[str, Any]], labels: tuple[str, ...]
) -> dict[tuple[str, ...], float]:
    return {tuple(item["metric"].get(label, "") for label in labels): float(item["value"][1])
            for item in result}


def total(base: str) -> float:
    found = query(base, "sum(flask_crossorigin_requests_total)")
    return float(found[0]["value"][1]) if found else 0.0


def wait_until(check: Any, seconds: float, say: Any) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(say())
        time.sleep(0.25)


def send(port: int, mix: list[tuple[int, str, str, dict[str, str], int]], times: int) -> int:
    sender = http_sender(port)
    sent = 0
    for count, method, path, headers, status in mix:
        for _ in range(count * times):
            assert sender(method, path, headers) == status, (method, path, headers)
            sent += 1
    return sent


def test_every_documented_query_against_a_real_prometheus(tmp_path: Path) -> None:
    if not Path(PROMETHEUS).exists():
        pytest.fail("Debian's prometheus is not installed: scripts/test.sh installs it")
    queries = documented_blocks("promql")
    assert set(queries) == {*EXPECTED, STALE}, "every documented query is checked here"
    hook = documented_blocks("python")[GUNICORN_HOOK]
    (tmp_path / "gunicorn.conf.py").write_text(hook + "\n")
    multiproc = tmp_path / "multiproc"
    multiproc.mkdir()
    partners_db = tmp_path / "partners.sqlite3"
    environ = {"PROMETHEUS_MULTIPROC_DIR": str(multiproc),
               "FLASK_DEMO_PARTNERS_DB": str(partners_db), "FLASK_DEMO_PARTNERS_TTL": "1"}
    with gunicorn("example_app.api:create_app()", environ, workers=4,
                  config=str(tmp_path / "gunicorn.conf.py"), ready_path="/") as port, \
            prometheus(tmp_path, port) as base:
        # Warm-up: one of each, so that every series exists before the counted requests
        # (rate and increase start from a series' first sample).
        warm = send(port, [(1, *rest) for _, *rest in MIX], 1)  # type: ignore[misc]
        wait_until(lambda: total(base) == warm, 30, lambda: f"scraped {total(base)} of {warm}")
        time.sleep(3)
        sent = send(port, MIX, 1)
        wait_until(lambda: total(base) == warm + sent, 30,
                   lambda: f"scraped {total(base)} of {warm + sent}")
        time.sleep(6)  # more samples: the extrapolation of rate and increase shrinks
        for caption, expected in EXPECTED.items():
            promql = queries[caption]
            labels = ("policy", "kind", "reason") if "report_only" in promql else (
                "policy", "reason")
            got = by_labels(query(base, promql), labels)
            if "rate(" in promql:
                got = {key: value * 300 for key, value in got.items()}  # per second over 5m
            assert set(got) == set(expected), (caption, got)
            for key, want in expected.items():
                assert want <= got[key] + 1e-9 <= want * 1.25, (caption, key, got[key], want)
        # The partner source is fresh: the stale query finds nothing; then its database
        # breaks, every worker's reload (ttl 1 s) fails, and it finds the source.
        # (A reload more than 2 ttl late reads as stale for a moment on a busy machine.)
        wait_until(lambda: query(base, queries[STALE]) == [], 30,
                   lambda: f"stale before the database broke: {query(base, queries[STALE])}")
        partners_db.write_bytes(b"this is not a SQLite database" * 64)
        wait_until(lambda: query(base, queries[STALE]) != [], 30, lambda: "never stale")
        stale = by_labels(query(base, queries[STALE]), ("source", "state"))
        assert stale == {(PARTNERS_SOURCE, "stale"): 1.0}


        def loads() -> dict[tuple[str, ...], float]:
            return by_labels(query(base, "sum by (source, result) "
                                         "(flask_crossorigin_origin_loads_total)"),
                             ("source", "result"))

        # Every worker loads on its own (at start, then every second): the good loads
        # before the database broke, and the failed ones since, summed over workers.
        wait_until(lambda: loads().get((PARTNERS_SOURCE, "failed"), 0) >= 4, 30,
                   lambda: f"loads: {loads()}")
        assert loads()[PARTNERS_SOURCE, "ok"] >= 4
