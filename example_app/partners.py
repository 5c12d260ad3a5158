"""Partners: trusted origins that an admin adds and removes while the API runs.

``/partners/...`` trusts the origins of a table, loaded by ``CachedOrigins`` and
reloaded whenever the admin endpoints change it (``invalidate()``), so a new
partner is trusted at once and a removed one refused at once:

* by default the table is SQLite (the standard library's ``sqlite3``), in a file
  of its own: nothing to install, nothing to run;
* with ``DEMO_REDIS_URL`` set (``FLASK_DEMO_REDIS_URL=redis://localhost:6379/0``, or
  ``python -m example_app --redis URL``) the set lives in Redis (``RedisOrigins``),
  and every process serving the API, on every host, reloads within a second.

The admin endpoints sit under ``/api/admin/`` (the page's origin only). A real app
would check who is asking; the demo does not.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import weakref
from typing import Any

from flask import Blueprint, Flask, abort, jsonify, request
from werkzeug.wrappers import Response

from flask_crossorigin import CachedOrigins, ConfigurationError
from flask_crossorigin.cached_origins import entry_problems, not_written


class SqlitePartners:
    """Partner origins in a SQLite table, served through ``CachedOrigins``."""

    def __init__(self, path: str, ttl: float = 60) -> None:
        self.path = path
        with self._connect() as connection:
            connection.execute("CREATE TABLE IF NOT EXISTS partners (origin TEXT PRIMARY KEY)")
        self.origins = CachedOrigins(self.list, ttl=ttl, max_stale=max(600, ttl))
        self.where = f"SQLite table 'partners' in {path}"

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=5)

    def list(self) -> list[str]:
        with self._connect() as connection:
            return sorted(row[0] for row in connection.execute("SELECT origin FROM partners"))

    def add(self, origin: str) -> str:
        problems = entry_problems(origin)  # what start-up would say about it
        if problems:
            raise ValueError(not_written(origin, problems, "added"))
        with self._connect() as connection:
            connection.execute("INSERT OR IGNORE INTO partners VALUES (?)", (origin,))
        self.origins.invalidate()  # this process reloads now
        return origin

    def remove(self, origin: str) -> bool:
        with self._connect() as connection:
            removed = connection.execute("DELETE FROM partners WHERE origin = ?",
                                         (origin,)).rowcount
        self.origins.invalidate()
        return bool(removed)


class RedisPartners:
    """Partner origins in a Redis set (``RedisOrigins``): every process reloads."""

    def __init__(self, url: str) -> None:
        from flask_crossorigin import RedisOrigins

        self.origins = RedisOrigins(url, key="flask-crossorigin-demo:partners", ttl=60,
                                    max_stale=600)
        self.where = f"Redis set 'flask-crossorigin-demo:partners' at {url}"

    def list(self) -> list[str]:
        return self.origins.list()

    def add(self, origin: str) -> str:
        try:
            return self.origins.add(origin)
        except ConfigurationError as error:
            messages = [problem.message for problem in error.problems]
            raise ValueError(not_written(origin, messages, "added")) from error

    def remove(self, origin: str) -> bool:
        return self.origins.remove(origin)


def make_partners(app: Flask) -> SqlitePartners | RedisPartners:
    url = app.config.get("DEMO_REDIS_URL")
    if url:
        return RedisPartners(url)
    # DEMO_PARTNERS_TTL: seconds between reloads (tests/test_metrics_prometheus.py uses 1).
    ttl = app.config.get("DEMO_PARTNERS_TTL", 60)
    if app.config.get("DEMO_PARTNERS_DB"):
        return SqlitePartners(app.config["DEMO_PARTNERS_DB"], ttl=ttl)
    # A fresh, empty table for each run, removed when the app goes away or the process
    # exits (Ctrl-C, SIGTERM under python -m example_app, the end of a flask command):
    # nothing is left behind in the temporary directory.
    folder = tempfile.mkdtemp(prefix="flask-crossorigin-demo-")
    partners = SqlitePartners(os.path.join(folder, "partners.sqlite3"), ttl=ttl)
    weakref.finalize(partners, _remove_folder, folder, os.getpid())
    return partners


def _remove_folder(folder: str, owner: int) -> None:
    if os.getpid() == owner:  # never from a forked worker (gunicorn): the folder is shared
        shutil.rmtree(folder, ignore_errors=True)


def make_partners_blueprint(partners: SqlitePartners | RedisPartners) -> Blueprint:
    blueprint = Blueprint("partners", __name__)

    @blueprint.get("/partners/catalog")
    def partner_catalog() -> Response:
        return jsonify(catalog=["teapot", "kettle"], worker=os.getpid(),
                       origin=request.headers.get("Origin"))

    @blueprint.get("/api/admin/partners")
    def list_partners() -> Response:
        return jsonify(partners=partners.list(), store=partners.where,
                       **_state(partners.origins.describe()))

    @blueprint.post("/api/admin/partners")
    def add_partner() -> tuple[Response, int]:
        origin = _origin_from_body()
        try:
            stored = partners.add(origin)
        except ValueError as error:
            # Nothing was stored: the reason says so (start-up's "ignored" is not it).
            return jsonify(error="not added", detail=str(error)), 400
        return jsonify(added=stored, partners=partners.list()), 201

    # POST, not DELETE: the /api policy does not allow DELETE from other origins.
    @blueprint.post("/api/admin/partners/remove")
    def remove_partner() -> Response:
        origin = _origin_from_body()
        return jsonify(removed=partners.remove(origin), partners=partners.list())

    return blueprint


def _origin_from_body() -> str:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("origin"), str):
        abort(400, description='send {"origin": "https://partner.example"}')
    return str(body["origin"])


def _state(described: dict[str, Any]) -> dict[str, Any]:
    return {"state": described["state"], "loaded_at": described["loaded_at"]}
