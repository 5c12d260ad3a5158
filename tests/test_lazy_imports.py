"""The extension's import stays cheap: what an app does not use is never imported.

Each check runs in a fresh interpreter, so that nothing another test imported
hides what ``import flask_crossorigin`` and ``CORS(app)`` import themselves.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Modules an app that loads no origins at run time, counts nothing and runs no
#: ``flask cors`` command must never import (and every module below them).
NEVER_IMPORTED = (
    "redis",
    "prometheus_client",
    "opentelemetry",
    "flask_crossorigin.cached_origins",
    "flask_crossorigin.redis_origins",
    "flask_crossorigin.cli",  # the click commands, found through the flask.commands entry point
)

APP = """
import json, sys
from flask import Flask
import flask_crossorigin
from flask_crossorigin import CORS, cross_origin

app = Flask("x")

@app.route("/api/items", methods=["GET", "POST"])
def items():
    return {"items": []}

@app.route("/widget")
@cross_origin(origins=["https://app.example.com"])
def widget():
    return "widget"

CORS(app, resources={"/api/*": {"origins": ["https://app.example.com", "https://*.example.org"],
                               "supports_credentials": True, "csrf_protection": True}})
client = app.test_client()
granted = client.get("/api/items", headers={"Origin": "https://app.example.com"})
assert granted.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
refused = client.get("/api/items", headers={"Origin": "https://evil.example.net"})
assert "Access-Control-Allow-Origin" not in refused.headers
preflight = client.options("/api/items", headers={
    "Origin": "https://a.example.org", "Access-Control-Request-Method": "POST"})
assert preflight.status_code == 204, preflight.status_code
write = client.post("/api/items", headers={
    "Origin": "https://evil.example.net", "Sec-Fetch-Site": "cross-site"})
assert write.status_code == 403, write.status_code
assert client.get("/widget", headers={"Origin": "https://app.example.com"}).status_code == 200
print(json.dumps(sorted(sys.modules)))
"""


def run(script: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def unwanted(modules: list[str]) -> list[str]:
    return [name for name in modules
            if any(name == never or name.startswith(never + ".") for never in NEVER_IMPORTED)]


def test_an_app_imports_nothing_it_does_not_use() -> None:
    modules = json.loads(run(APP))
    assert "flask_crossorigin.extension" in modules  # the script ran the extension
    assert unwanted(modules) == []


def test_cached_origins_is_imported_when_asked_for() -> None:
    script = """
import sys
import flask_crossorigin
assert "flask_crossorigin.cached_origins" not in sys.modules
assert "CachedOrigins" in dir(flask_crossorigin) and "RedisOrigins" in dir(flask_crossorigin)
from flask_crossorigin import CachedOrigins
from flask_crossorigin.cached_origins import CachedOrigins as Defined
assert CachedOrigins is Defined is flask_crossorigin.CachedOrigins
assert "flask_crossorigin.redis_origins" not in sys.modules
assert "redis" not in sys.modules
try:
    flask_crossorigin.NoSuchName
except AttributeError as error:
    assert "NoSuchName" in str(error)
else:
    raise AssertionError("no AttributeError")
print("ok")
"""
    assert run(script).split() == ["ok"]
