"""The README's report-only recipe says "watch the log": under a real ``flask run`` the
mismatch lines appear, in debug mode with no logging set up, otherwise with the one line
the README gives."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINE = "report-only: resources['/*'].report_only would refuse request GET /orders"
APP = """
from flask import Flask
from flask_crossorigin import CORS
{setup}
app = Flask(__name__)

@app.get("/orders")
def orders():
    return "orders"

CORS(app, report_only={{"origins": ["https://app.example.com"]}})
"""


def readme_logging_line() -> str:
    """The one line the README's recipe gives for seeing the INFO lines."""
    readme = (ROOT / "README.md").read_text()
    recipe = readme[readme.index("### Tightening a policy"):]
    found = re.search(r"^logging\.basicConfig\(level=logging\.INFO\)$", recipe, re.MULTILINE)
    assert found is not None, "the recipe no longer shows the line"
    return found[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve_and_request(tmp_path: Path, setup: str, *flags: str) -> str:
    """``flask run`` the app, send one request the report-only policy would refuse, and
    return what the server printed."""
    (tmp_path / "shop.py").write_text(textwrap.dedent(APP.format(setup=setup)))
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])}
    for name in ("FLASK_APP", "FLASK_DEBUG", "FLASK_RUN_PORT"):
        env.pop(name, None)
    server = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "shop", "run", "--port", str(port),
         "--no-reload", *flags],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/orders", headers={"Origin": "https://partner.example"})
                with urllib.request.urlopen(request, timeout=5) as response:
                    assert response.status == 200
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.1)
        time.sleep(0.3)  # let the line reach the pipe
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    return output


def test_flask_run_debug_shows_mismatches_without_logging_setup(tmp_path: Path) -> None:
    output = serve_and_request(tmp_path, "", "--debug")
    assert LINE in output, output


def test_the_readme_line_shows_them_without_debug(tmp_path: Path) -> None:
    line = readme_logging_line()
    output = serve_and_request(tmp_path, f"import logging\n{line}")
    assert f"INFO:flask_crossorigin:{LINE}" in output, output


def test_without_debug_or_logging_setup_nothing_is_printed(tmp_path: Path) -> None:
    """What the README's sentence is for: INFO lines need a handler."""
    output = serve_and_request(tmp_path, "")
    assert LINE not in output, output


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
