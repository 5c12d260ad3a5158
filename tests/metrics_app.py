"""An app whose policies cover every kind of decision, the mix of requests the metrics
tests send it, and the series that mix must produce (tests/test_metrics*.py).

Served in-process (Flask's test client) and by gunicorn in prometheus_client's
multiprocess mode: ``gunicorn 'tests.metrics_app:create_app()'``.
"""

from __future__ import annotations

import http.client
import os
from pathlib import Path
from typing import Any, Callable

from flask import Blueprint, Flask, Response, jsonify

from flask_crossorigin import CORS, cross_origin

from .servers import gunicorn  # noqa: F401  (the metrics tests import it from here)

ROOT = Path(__file__).resolve().parent.parent
APP = "https://app.example"
PARTNER = "https://partner.example"
EVIL = "https://evil.example"

API = "resources['/api/*']"
CATALOG = "resources['/catalog/*']"
FEEDBACK = "resources['/feedback']"
BLUEPRINT = "blueprint 'partner' resources['/*']"
WIDGET = "@cross_origin on widget"


def create_app(metrics: Any = None) -> Flask:
    app = Flask(__name__)
    if metrics is None:
        metrics = os.environ.get("METRICS_APP_BACKEND", "prometheus")
    partner = Blueprint("partner", __name__, url_prefix="/partner")
    CORS(partner, origins=[PARTNER])

    @partner.get("/data")
    def partner_data() -> Response:
        return jsonify(ok=True)

    app.register_blueprint(partner)
    CORS(app, metrics=metrics, resources={
        "/api/*": {"origins": [APP], "supports_credentials": True, "csrf_protection": True,
                   "methods": ["GET", "POST", "PUT"]},
        "/catalog/*": {"origins": "*", "report_only": {"origins": [APP]}},
        "/feedback": {"origins": [APP], "csrf_protection": "report-only"},
    })

    @app.route("/api/items", methods=["GET", "POST", "PUT"])
    def items() -> Response:
        return jsonify(ok=True)

    @app.get("/api/widget")
    @cross_origin(origins="*")
    def widget() -> Response:
        return jsonify(ok=True)

    @app.get("/catalog/list")
    def catalog() -> Response:
        return jsonify(ok=True)

    @app.post("/feedback")
    def feedback() -> Response:
        return jsonify(ok=True)

    @app.get("/open")
    def open_() -> Response:  # under no policy: never counted
        return jsonify(ok=True)

    @app.get("/health")
    def health() -> str:
        return "ok"

    @app.after_request
    def name_the_worker(response: Response) -> Response:
        response.headers["X-Worker"] = str(os.getpid())  # which process answered
        return response

    @app.get("/metrics")
    def metrics_page() -> Response:
        from prometheus_client import (
            CONTENT_TYPE_LATEST,
            REGISTRY,
            CollectorRegistry,
            generate_latest,
            multiprocess,
        )

        registry = REGISTRY
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)

    return app


Send = Callable[[str, str, dict[str, str]], int]

_PREFLIGHT = "Access-Control-Request-Method"
_CROSS_SITE = {"Sec-Fetch-Site": "cross-site"}

#: (times, method, path, headers, status expected)
MIX: list[tuple[int, str, str, dict[str, str], int]] = [
    (3, "GET", "/api/items", {"Origin": APP}, 200),
    (2, "GET", "/api/items", {"Origin": EVIL}, 200),
    (4, "GET", "/api/items", {}, 200),
    (2, "OPTIONS", "/api/items", {"Origin": APP, _PREFLIGHT: "PUT"}, 204),
    (1, "OPTIONS", "/api/items", {"Origin": EVIL, _PREFLIGHT: "PUT"}, 403),
    (1, "OPTIONS", "/api/items", {"Origin": APP, _PREFLIGHT: "PATCH"}, 403),
    (2, "POST", "/api/items", {"Origin": EVIL, **_CROSS_SITE}, 403),
    (1, "POST", "/api/items", {"Origin": APP, "Sec-Fetch-Site": "same-site"}, 200),
    (1, "GET", "/api/missing", {"Origin": APP}, 404),
    (2, "GET", "/api/widget", {"Origin": EVIL}, 200),
    (3, "GET", "/catalog/list", {"Origin": EVIL}, 200),
    (1, "GET", "/catalog/list", {"Origin": APP}, 200),
    (2, "POST", "/feedback", {"Origin": EVIL, **_CROSS_SITE}, 200),
    (2, "GET", "/partner/data", {"Origin": PARTNER}, 200),
    (1, "GET", "/partner/data", {"Origin": EVIL}, 200),
    (2, "GET", "/open", {"Origin": EVIL}, 200),
]

#: flask_crossorigin_requests_total after one MIX: (kind, decision, policy, reason) -> n.
REQUESTS = {
    ("actual", "granted", API, ""): 3 + 1 + 1,  # the 404 and the trusted POST too
    ("actual", "refused", API, "origin-not-allowed"): 2,
    ("preflight", "granted", API, ""): 2,
    ("preflight", "refused", API, "origin-not-allowed"): 1,
    ("preflight", "refused", API, "method-not-allowed"): 1,
    ("write", "refused", API, "write-untrusted"): 2,
    ("actual", "granted", WIDGET, ""): 2,
    ("actual", "granted", CATALOG, ""): 4,
    ("actual", "refused", FEEDBACK, "origin-not-allowed"): 2,
    ("actual", "granted", BLUEPRINT, ""): 2,
    ("actual", "refused", BLUEPRINT, "origin-not-allowed"): 1,
}
#: flask_crossorigin_report_only_total after one MIX: (kind, policy, reason) -> n.
REPORT_ONLY = {
    ("actual", CATALOG, "origin-not-allowed"): 3,
    ("write", FEEDBACK, "write-untrusted"): 2,
}


def send_mix(send: Send, times: int = 1) -> None:
    """Send MIX ``times`` over; each answer must have the status it always has."""
    for _ in range(times):
        for count, method, path, headers, status in MIX:
            for _ in range(count):
                got = send(method, path, headers)
                assert got == status, (method, path, headers, got)


def http_sender(port: int, counted_by: set[str] | None = None) -> Send:
    """Send one request on a new connection; with ``counted_by``, add to it the worker
    (``X-Worker``) that answered each request to ``/api/items`` with an ``Origin``
    (always counted)."""
    def send(method: str, path: str, headers: dict[str, str]) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request(method, path, body=b"" if method == "POST" else None,
                               headers=headers)
            response = connection.getresponse()
            response.read()
            worker = response.headers.get("X-Worker")
            if counted_by is not None and worker and path == "/api/items" and \
                    "Origin" in headers:
                counted_by.add(worker)
            return response.status
        finally:
            connection.close()

    return send


REQUEST_LABELS = ("kind", "decision", "policy", "reason")
REPORT_ONLY_LABELS = ("kind", "policy", "reason")


def samples(text: str, name: str, labels: tuple[str, ...]) -> dict[tuple[str, ...], float]:
    """The samples of ``name`` in a Prometheus text page, by the values of ``labels``."""
    from prometheus_client.parser import text_string_to_metric_families

    found: dict[tuple[str, ...], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sample.labels[label] for label in labels)] = sample.value
    return found


