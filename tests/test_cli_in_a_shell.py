"""``flask cors`` as a user runs it in a shell: the real ``flask`` command, in a subprocess.

Its output piped into ``head``, its Redis stopped, its origins loaded from a table
with bad rows, the demo run twice: each ends with one line and a status of its own,
never a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import pytest

from flask_crossorigin.cli import status

ROOT = Path(__file__).resolve().parent.parent

REDIS_APP = """
    import os
    from flask import Flask
    from flask_crossorigin import CORS, RedisOrigins

    app = Flask(__name__)

    @app.get("/api/data")
    def data():
        return "data"

    CORS(app, origins=RedisOrigins(os.environ["TEST_REDIS_URL"], key="tenants", ttl=5,
                                   max_stale=50, load_timeout=5))
"""

TABLE_APP = """
    from flask import Flask
    from flask_crossorigin import CORS, CachedOrigins

    app = Flask(__name__)

    @app.get("/api/data")
    def data():
        return "data"

    def partner_rows():
        return ["https://a.example", "partner.example/", "https://b.example/"]

    CORS(app, origins=CachedOrigins(partner_rows))
"""


def flask(tmp_path: Path, *args: str, app: str = "shell_app", stdout: Any = subprocess.PIPE,
          env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)]),
               **(env or {})}
    environ.pop("FLASK_APP", None)
    return subprocess.run([sys.executable, "-m", "flask", "--app", app, "cors", *args],
                          cwd=tmp_path, env=environ, stdout=stdout, stderr=subprocess.PIPE,
                          text=True, timeout=60)


def write_app(tmp_path: Path, source: str) -> None:
    (tmp_path / "shell_app.py").write_text(textwrap.dedent(source))


@pytest.mark.parametrize("command", [
    ["routes"], ["routes", "--wide"], ["routes", "--json"], ["lint"],
    ["check", "/api/items", "--origin", "http://localhost:5001"], ["origins", "list"],
])
def test_a_closed_pipe_ends_the_command_quietly(command: list[str]) -> None:
    """The reader of the output is gone before the command writes (``| head`` that has
    read its lines): no traceback, no message, and status 141, not one of ours."""
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    environ.pop("FLASK_APP", None)
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write of the command meets a closed pipe
    try:
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "example_app", "cors", *command],
            cwd=ROOT, env=environ, stdout=write_end, stderr=subprocess.PIPE, text=True,
            timeout=60)
    finally:
        os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == status.OUTPUT_CLOSED == 141  # as a shell shows SIGPIPE


def test_routes_into_head_through_a_shell(tmp_path: Path) -> None:
    """The user's own line: ``flask --app example_app cors routes | head -2``."""
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "400"}
    environ.pop("FLASK_APP", None)
    done = subprocess.run(
        ["bash", "-c", f"set -o pipefail; '{sys.executable}' -m flask --app example_app cors "
         "routes --wide | head -2; echo status=$?"],
        cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60)
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Rule") and lines[1].startswith("----")
    assert lines[2] in ("status=0", "status=141"), done.stdout
    assert done.stderr == "", done.stderr


def test_a_stopped_redis_is_one_line_and_its_own_status(
    tmp_path: Path, redis_server: Any
) -> None:
    write_app(tmp_path, REDIS_APP)
    url = f"redis://:hunter2@127.0.0.1:{redis_server.port}/0?password=hunter2"
    redis_server.stop()
    for command in (["origins", "add", "https://a.example"], ["origins", "list"],
                    ["origins", "remove", "https://a.example"], ["routes"],
                    ["routes", "--json"], ["check", "/api/data", "--origin", "https://a.example"],
                    ["lint"]):
        done = flask(tmp_path, *command, env={"TEST_REDIS_URL": url})
        assert done.returncode == status.STORE_UNREACHABLE == 4, (command, done.stderr)
        assert done.stdout == ""
        assert done.stderr == (
            f"Error: the origins store RedisOrigins(set 'tenants' at redis://:***@127.0.0.1:"
            f"{redis_server.port}/0?password=***) could not be reached (ConnectionError: Error "
            f"111 connecting to 127.0.0.1:{redis_server.port}. Connection refused.); check "
            "that Redis is running at that address and that the URL (host, port, database, "
            "password) is the app's\n"), (command, done.stderr)
        assert "hunter2" not in done.stderr


def test_redis_back_and_a_refused_add(tmp_path: Path, redis_server: Any) -> None:
    write_app(tmp_path, REDIS_APP)
    env = {"TEST_REDIS_URL": redis_server.url}
    added = flask(tmp_path, "origins", "add", "https://A.example", env=env)
    assert (added.returncode, added.stdout) == (0, "added https://a.example to tenants\n")
    refused = flask(tmp_path, "origins", "add", "partner.example/", env=env)
    assert refused.returncode == status.USAGE_ERROR
    assert refused.stderr.endswith(
        "Error: 'partner.example/' was not added to tenants: has no scheme; write "
        "'https://partner.example'; no browser sends such an Origin\n")
    listed = flask(tmp_path, "origins", "list", env=env)
    # A per-origin source: the store counted, never listed (issue 25).
    assert listed.returncode == 0 and listed.stdout.splitlines()[1:] == [
        "  in the store now: 1 exact origins, 0 patterns",
        "  cached in this process: 0 granted, 0 refused; 0 lookups, no requests yet"]


def test_a_table_source_add_is_a_usage_error_that_says_what_to_do(tmp_path: Path) -> None:
    write_app(tmp_path, TABLE_APP)
    done = flask(tmp_path, "origins", "add", "https://c.example")
    assert done.returncode == status.USAGE_ERROR == 2
    assert done.stderr.splitlines()[-1] == (
        "Error: no policy of this app uses a RedisOrigins: the origins of "
        "CachedOrigins(partner_rows) come from its load(); write the origin where load() "
        "reads it (your table), then call .invalidate() on it so that every process reloads")


def test_skipped_rows_are_shown_once_in_the_commands_output(tmp_path: Path) -> None:
    write_app(tmp_path, TABLE_APP)
    for command in (["origins", "list"], ["routes"],
                    ["check", "/api/data", "--origin", "https://a.example"]):
        done = flask(tmp_path, *command)
        assert done.returncode == 0, done.stderr
        assert done.stderr.splitlines() == [
            "warning: CachedOrigins(partner_rows) skipped the loaded entry 'partner.example/': "
            "has no scheme; write 'https://partner.example'; this entry can never match an "
            "Origin a browser sends, so it is ignored",
            "warning: CachedOrigins(partner_rows) skipped the loaded entry "
            "'https://b.example/': has a trailing slash; an origin is scheme://host[:port], "
            "write 'https://b.example'; this entry can never match an Origin a browser "
            "sends, so it is ignored",
        ], done.stderr
        assert "closed" not in done.stderr
    listed = flask(tmp_path, "origins", "list")
    assert listed.stdout.startswith("CachedOrigins(partner_rows): 1 origins, 2 entries "
                                    "skipped, fresh")


def test_the_demo_leaves_no_temporary_folder(tmp_path: Path) -> None:
    temporary = tmp_path / "tmp"  # the demo's temporary directory, watched alone
    temporary.mkdir()
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(temporary)}
    environ.pop("FLASK_APP", None)
    for command in (["origins", "list"], ["routes"]):
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "example_app", "cors", *command],
            cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "SqlitePartners.list" in done.stdout
        assert tempfile.gettempdir() != str(temporary)
        assert list(temporary.iterdir()) == []
    # Also when its output is cut short.
    subprocess.run(["bash", "-c", f"'{sys.executable}' -m flask --app example_app cors routes "
                    "--wide | head -1"], cwd=ROOT, env={**environ, "COLUMNS": "400"},
                   capture_output=True, timeout=60)
    assert list(temporary.iterdir()) == []


def test_the_demo_refuses_a_busy_port_and_a_port_browsers_refuse() -> None:
    import socket

    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = subprocess.run([sys.executable, "-m", "example_app", "--api-port", str(port)],
                              cwd=ROOT, env=environ, capture_output=True, text=True,
                              timeout=60)
    assert busy.returncode == 2 and busy.stdout == ""
    assert busy.stderr == (f"python -m example_app: error: port {port} is in use by another "
                           "program: pass --api-port with another port, or 0 for any free "
                           "port\n")
    for option in ("--api-port", "--page-port"):
        unsafe = subprocess.run([sys.executable, "-m", "example_app", "--api-port", "0",
                                 option, "5061"],
                                cwd=ROOT, env=environ, capture_output=True, text=True,
                                timeout=60)
        assert unsafe.returncode == 2 and unsafe.stdout == ""
        assert unsafe.stderr == (
            "python -m example_app: error: port 5061 is one browsers refuse to connect to "
            "(the Fetch standard's bad ports; Chromium shows ERR_UNSAFE_PORT): pass "
            f"{option} with another port, such as 8000, or 0 for any free port\n")
