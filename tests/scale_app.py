"""The app tests/test_origins_scale.py serves under gunicorn: a RedisOrigins over a set
that may hold a million exact origins.

    CROSSORIGIN_REDIS_URL=redis://127.0.0.1:6379/0 CROSSORIGIN_KEY=tenants \\
    gunicorn -w 4 'tests.scale_app:create_app()'

Every answer names the worker that gave it (``X-Worker``: its process id), so that
the test can read that worker's memory from ``/proc/<pid>/status``.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from flask_crossorigin import CORS, RedisOrigins


def create_app() -> Flask:
    app = Flask(__name__)

    @app.route("/data")
    def data() -> str:
        return "ok"

    @app.route("/health")
    def health() -> str:
        return "ok"

    @app.after_request
    def name_the_worker(response: Any) -> Any:
        response.headers["X-Worker"] = str(os.getpid())
        return response

    tenants = RedisOrigins(os.environ["CROSSORIGIN_REDIS_URL"], key=os.environ["CROSSORIGIN_KEY"],
                           ttl=60, max_stale=600)
    CORS(app, resources={"/data": {"origins": tenants}, "/health": {"origins": []}},
         supports_credentials=True)
    return app
