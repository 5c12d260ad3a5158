"""The app tests/test_origins_workers.py serves under gunicorn: origins loaded at run time.

    CROSSORIGIN_REDIS_URL=redis://127.0.0.1:6379/0 CROSSORIGIN_TABLE=/tmp/t.sqlite3 \\
    CROSSORIGIN_FLAKY=/tmp/mode gunicorn -w 4 'tests.origins_app:create_app()'

* ``/redis/data``: the origins of a :class:`RedisOrigins` set;
* ``/table/data``: a :class:`CachedOrigins` over a SQLite table, invalidated over Redis;
* ``/flaky/data``: a :class:`CachedOrigins` whose ``load`` raises or hangs, as the
  file ``CROSSORIGIN_FLAKY`` says (``ok``, ``raise`` or ``hang``).

Every answer names the worker that gave it (``X-Worker``: its process id).
"""

from __future__ import annotations

import os
import sqlite3
import time
from typing import Any

from flask import Flask

from flask_crossorigin import CORS, CachedOrigins, RedisOrigins

TTL, MAX_STALE = 0.5, 3.0
TABLE_CHANNEL = "tenants:invalidate"
FLAKY_ORIGIN = "https://flaky.example"


def table_origins(path: str) -> list[str]:
    with sqlite3.connect(path, timeout=5) as connection:
        return [row[0] for row in connection.execute("SELECT origin FROM tenants")]


def create_app() -> Flask:
    url = os.environ["CROSSORIGIN_REDIS_URL"]
    table = os.environ["CROSSORIGIN_TABLE"]
    flaky_mode = os.environ["CROSSORIGIN_FLAKY"]

    def flaky() -> list[str]:
        with open(flaky_mode) as mode:
            what = mode.read().strip()
        if what == "raise":
            raise RuntimeError("the tenant database is down")
        if what == "hang":
            time.sleep(3600)
        return [FLAKY_ORIGIN]

    app = Flask(__name__)

    @app.route("/redis/data")
    @app.route("/table/data")
    @app.route("/flaky/data")
    def data() -> str:
        return "ok"

    @app.route("/health")
    def health() -> str:
        return "ok"

    @app.after_request
    def name_the_worker(response: Any) -> Any:
        response.headers["X-Worker"] = str(os.getpid())
        return response

    CORS(app, resources={
        "/redis/*": {"origins": RedisOrigins(url, ttl=TTL, max_stale=MAX_STALE,
                                             load_timeout=1.0)},
        "/table/*": {"origins": CachedOrigins(lambda: table_origins(table), ttl=TTL,
                                              max_stale=MAX_STALE, invalidate_via=url,
                                              channel=TABLE_CHANNEL)},
        "/flaky/*": {"origins": CachedOrigins(flaky, ttl=0.2, max_stale=3600,
                                              load_timeout=0.5)},
        "/health": {"origins": []},
    }, supports_credentials=True)
    return app
