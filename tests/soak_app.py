"""The app the soak test serves under gunicorn, with the extension and without it.

    gunicorn 'tests.soak_app:with_cors'      # CORS on /api/*
    gunicorn 'tests.soak_app:without_cors'   # the same views, no extension

The view echoes the request's Origin and X-Request-Id, so that the client can
check that every answer belongs to its own request.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request

from flask_crossorigin import CORS

#: Exact origins the policy lists; any 'https://<label>.apps.example' is trusted too.
ALLOWED = [f"https://tenant{i}.example" for i in range(20)]
WILDCARD = "https://*.apps.example"
ALLOW_HEADERS = ["Content-Type", "X-Token"]


def create_app(cors: bool) -> Flask:
    app = Flask(__name__)

    @app.route("/api/data", methods=["GET", "POST", "PUT"])
    def data() -> Any:
        return jsonify(origin=request.headers.get("Origin"),
                       id=request.headers.get("X-Request-Id"))

    @app.route("/health")
    def health() -> str:
        return "ok"

    if cors:
        CORS(app, resources={"/api/*": {}}, origins=[*ALLOWED, WILDCARD],
             supports_credentials=True, allow_headers=ALLOW_HEADERS, max_age=600)
    return app


with_cors = create_app(cors=True)
without_cors = create_app(cors=False)
