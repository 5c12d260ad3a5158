"""The app the soak test serves under gunicorn, with the extension and without it.

    gunicorn 'tests.soak_app:with_cors'         # CORS on /api/*
    gunicorn 'tests.soak_app:without_cors'      # the same views, no extension
    gunicorn 'tests.soak_app:decorator_only'    # @cross_origin alone, behind a login hook
    gunicorn 'tests.soak_app:with_report_only'  # with_cors, and a report-only policy
    gunicorn 'tests.soak_app:with_csrf'         # with_cors, and csrf_protection=True

With ``CROSSORIGIN_SOAK_MISMATCHES=FILE``, every ``report_only_mismatch`` is appended to
FILE as one line (the request's X-Request-Id, the mismatch and its code), and the
report-only log lines go to stderr at INFO.

The view echoes the request's Origin and X-Request-Id, so that the client can
check that every answer belongs to its own request.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from flask import Flask, jsonify, request

from flask_crossorigin import CORS, cross_origin, report_only_mismatch

#: Exact origins the policy lists; any 'https://<label>.apps.example' is trusted too.
ALLOWED = [f"https://tenant{i}.example" for i in range(20)]
WILDCARD = "https://*.apps.example"
ALLOW_HEADERS = ["Content-Type", "X-Token"]
#: The report-only policy: half the exact origins, and one more request header.
REPORT_ONLY = {"origins": [*ALLOWED[:10], WILDCARD], "allow_headers": [*ALLOW_HEADERS, "X-Evil"]}


def create_app(cors: bool, report_only: bool = False, csrf: bool = False) -> Flask:
    app = Flask(__name__)

    @app.route("/api/data", methods=["GET", "POST", "PUT"])
    def data() -> Any:
        return jsonify(origin=request.headers.get("Origin"),
                       id=request.headers.get("X-Request-Id"))

    @app.route("/health")
    def health() -> str:
        return "ok"

    if cors:
        trial: dict[str, Any] = {"report_only": REPORT_ONLY} if report_only else {}
        if csrf:
            trial["csrf_protection"] = True
        CORS(app, resources={"/api/*": {}}, origins=[*ALLOWED, WILDCARD],
             supports_credentials=True, allow_headers=ALLOW_HEADERS, max_age=600, **trial)
    if report_only and os.environ.get("CROSSORIGIN_SOAK_MISMATCHES"):
        record_mismatches(app, os.environ["CROSSORIGIN_SOAK_MISMATCHES"])
    return app


def record_mismatches(app: Flask, path: str) -> None:
    # O_APPEND: each line is one write, whole, whichever worker or thread writes it.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    @report_only_mismatch.connect_via(app, weak=False)
    def record(sender: Flask, *, mismatch: str, code: str, **details: Any) -> None:
        os.write(fd, f"{request.headers.get('X-Request-Id')} {mismatch} {code}\n".encode())

    logger = logging.getLogger("flask_crossorigin")
    logger.setLevel(logging.INFO)
    logger.addHandler(logging.StreamHandler())


def create_decorator_only_app() -> Flask:
    """@cross_origin without CORS(app), behind a login hook: every worker, every request,
    must answer the same way (no state installed by a first request)."""
    app = Flask(__name__)

    @app.before_request
    def login_required() -> Any:
        if request.endpoint != "health" and "Authorization" not in request.headers:
            return "login required", 401
        return None

    @app.after_request
    def worker(response: Any) -> Any:
        response.headers["X-Worker"] = str(os.getpid())
        return response

    @app.route("/api/widget", methods=["GET", "PUT"])
    @cross_origin(origins=ALLOWED)
    def widget() -> Any:
        time.sleep(0.02)  # keeps a sync worker busy, so that the other one answers too
        return jsonify(origin=request.headers.get("Origin"))

    @app.route("/health")
    def health() -> str:
        return "ok"

    return app


with_cors = create_app(cors=True)
decorator_only = create_decorator_only_app()
without_cors = create_app(cors=False)
with_report_only = create_app(cors=True, report_only=True)
with_csrf = create_app(cors=True, csrf=True)
