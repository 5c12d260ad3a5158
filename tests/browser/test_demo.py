"""The project's main runnable: ``python -m example_app`` and ``flask --app example_app``."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest
from flask.cli import ScriptInfo

ROOT = Path(__file__).resolve().parents[2]


class DemoProcess:
    """``python -m example_app`` on free ports, its output read line by line."""

    def __init__(self, *extra: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "example_app", "--api-port", "0", "--page-port", "0", "--quiet",
             *extra],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            self.lines.put(line)

    def wait_for(self, pattern: str, timeout: float = 20) -> re.Match[str]:
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(
                    f"no line matching {pattern!r}; output so far: {''.join(self.output)!r}"
                )
            match = re.search(pattern, line)
            if match:
                return match

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # what Ctrl-C sends
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


@pytest.fixture()
def demo_process():
    process = DemoProcess()
    try:
        yield process
    finally:
        if process.process.poll() is None:
            process.process.kill()
            process.process.wait()


PARTNER_ROWS = [
    ("Origins from a database: a partner not in the table", "blocked"),
    ("An admin adds the partner at run time", "allowed"),
    ("…and removes it: refused at once", "blocked"),
]


def run_demo_page(browser, demo_process, store):
    """Open the demo page, wait for every row; the rows and the summary line.
    ``store``: the pattern of where the demo says the partner origins live."""
    api = demo_process.wait_for(r"API:\s+(http://localhost:\d+)").group(1)
    page_url = demo_process.wait_for(r"Page:\s+(http://localhost:\d+/)").group(1)
    demo_process.wait_for(r"Partner origins: " + store)
    demo_process.metrics_url = demo_process.wait_for(
        r"Metrics: (http://localhost:\d+/metrics)").group(1)
    assert api.rsplit(":", 1)[1] != page_url.rstrip("/").rsplit(":", 1)[1]  # two origins
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(page_url)
        page.wait_for_selector("body[data-state=done]", timeout=30_000)
        rows = page.eval_on_selector_all(
            "#scenarios tbody tr",
            """rows => rows.map(row => ({
                 title: row.querySelector('.title').textContent,
                 state: row.dataset.state,
                 expected: row.dataset.expected,
                 actual: row.dataset.actual,
                 result: row.querySelector('.result').textContent}))""",
        )
        summary = page.inner_text("#summary")
        # The API's counts per kind and decision, shown under the scenarios.
        demo_process.metrics = page.eval_on_selector_all(
            "#metrics-table tbody tr",
            """rows => Object.fromEntries(rows.map(row => [row.dataset.kind, {
                 granted: Number(row.querySelector('.granted').textContent),
                 refused: Number(row.querySelector('.refused').textContent)}]))""",
        )
    finally:
        context.close()
    return page_url, rows, summary


def test_demo_page_shows_every_row_as_expected(browser, demo_process):
    # Without Redis: the partner origins live in SQLite.
    page_url, rows, summary = run_demo_page(browser, demo_process, "SQLite table 'partners' in ")

    assert len(rows) >= 20
    not_as_expected = [
        row for row in rows if row["state"] != "pass" or row["expected"] != row["actual"]
    ]
    assert not_as_expected == []
    assert {row["expected"] for row in rows} == {"allowed", "blocked"}
    assert summary == f"All {len(rows)} scenarios behaved as expected."
    # An origin added at run time is granted, and refused again once removed.
    assert [(row["title"], row["expected"]) for row in rows[-3:]] == PARTNER_ROWS
    # The metrics table (prometheus_client is a test dependency): the scenarios were
    # counted, granted and refused, preflights and writes among them.
    counts = demo_process.metrics
    assert set(counts) == {"actual", "preflight", "write"}
    assert counts["actual"]["granted"] > 0 and counts["actual"]["refused"] > 0
    assert counts["preflight"]["granted"] > 0 and counts["preflight"]["refused"] > 0
    assert counts["write"] == {"granted": 0, "refused": 3}, counts  # the three refused rows
    # The same numbers at the API's /metrics, in Prometheus's text format.
    with urllib.request.urlopen(demo_process.metrics_url, timeout=10) as response:
        exposition = response.read().decode()
    refused_writes = re.findall(
        r'^flask_crossorigin_requests_total\{decision="refused",kind="write",[^}]*\} (\S+)$',
        exposition, flags=re.MULTILINE)
    assert sum(float(value) for value in refused_writes) == 3, exposition

    # The report-only row's line, as docs/tightening.rst shows it (on other ports).
    page_port = page_url.rstrip("/").rsplit(":", 1)[1]
    untrusted = re.escape(f"'http://127.0.0.1:{page_port}'")
    demo_process.wait_for(
        r"^INFO flask_crossorigin: report-only: resources\['/catalog/\*'\]\.report_only "
        rf"would refuse request GET /catalog/items from {untrusted}, which "
        r"resources\['/catalog/\*'\] grants: the origin " + untrusted)

    # The cross-origin write rows: refused before the view (the server log says so, and
    # the view's own line never appears for them), and the report-only endpoint's line.
    demo_process.wait_for(
        rf"INFO in api: refused POST /bank/transfer from {untrusted} \(write-untrusted\): "
        r"the view did not run")
    demo_process.wait_for(
        r"^INFO flask_crossorigin: report-only: resources\['/bank/feedback'\]\.csrf_protection "
        rf"would refuse write POST /bank/feedback from {untrusted}, which "
        r"resources\['/bank/feedback'\] lets through: Sec-Fetch-Site is 'cross-site'")
    demo_process.wait_for(r"INFO in api: POST /bank/feedback ran \(Sec-Fetch-Site: cross-site")

    assert demo_process.stop() == 0
    output = "".join(demo_process.output)
    assert "Stopped." in output
    ran = [line for line in output.splitlines() if "POST /bank/transfer ran" in line]
    assert len(ran) == 2, ran  # the API's own form and the trusted page; no other
    assert all("Sec-Fetch-Site: same-" in line for line in ran), ran


def test_demo_keeps_partner_origins_in_redis_when_told(browser, redis_server):
    import redis

    demo = DemoProcess("--redis", redis_server.url)
    try:
        store = "Redis set 'flask-crossorigin-demo:partners' at " + re.escape(redis_server.url)
        _, rows, summary = run_demo_page(browser, demo, store)
        assert summary == f"All {len(rows)} scenarios behaved as expected.", rows
        assert [(row["title"], row["expected"]) for row in rows[-3:]] == PARTNER_ROWS
        # The rows went through Redis: added, then removed again.
        client = redis.Redis.from_url(redis_server.url)
        assert client.smembers("flask-crossorigin-demo:partners") == set()
        assert demo.stop() == 0
    finally:
        if demo.process.poll() is None:
            demo.process.kill()
            demo.process.wait()


def test_demo_refuses_a_busy_port(demo_process):
    api_port = int(demo_process.wait_for(r"API:\s+http://localhost:(\d+)").group(1))
    busy = subprocess.run(
        [sys.executable, "-m", "example_app", "--api-port", str(api_port), "--page-port", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    # Refused before serving, in one line naming the option (issue 23), as argparse's
    # errors end (status 2).
    assert busy.returncode == 2
    assert busy.stderr == (f"python -m example_app: error: port {api_port} is in use by "
                           "another program: pass --api-port with another port, or 0 for "
                           "any free port\n")
    assert demo_process.stop() == 0


def test_flask_cli_finds_the_api():
    # What `flask --app example_app run` loads.
    app = ScriptInfo(app_import_path="example_app").load_app()
    routes = {rule.rule for rule in app.url_map.iter_rules()}
    assert {"/api/items", "/public/hello", "/tenants/dashboard", "/api/widget"} <= routes
    response = app.test_client().get("/api/items", headers={"Origin": "http://localhost:5001"})
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:5001"
