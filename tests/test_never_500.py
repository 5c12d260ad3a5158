"""Nothing the extension does per request raises into Flask (issue 16).

Failures are injected into the extension's internals on every hook path; each
request still gets the app's answer (never a 500), without a CORS grant, and the
cause is logged at ERROR once, with its traceback. Signal receivers that raise
are isolated the same way.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask, jsonify

from flask_crossorigin import CORS, cross_origin
from flask_crossorigin.failures import forget_causes
from flask_crossorigin.signals import preflight_answered, request_refused

from .conftest import TRUSTED, preflight

EVIL = "https://evil.example"


class Injected(RuntimeError):
    pass


def _raise(*args: Any, **kwargs: Any) -> Any:
    raise Injected("injected")


# Internals every request goes through, by module and attribute.
TARGETS = [
    ("flask_crossorigin.policy.Policy", "actual"),
    ("flask_crossorigin.policy.Policy", "preflight_for"),
    ("flask_crossorigin.extension.CrossOriginState", "policy_of_rule"),
    ("flask_crossorigin.extension", "preflight_rule"),
    ("flask_crossorigin.extension", "_decide"),
    ("flask_crossorigin.extension", "write_answer"),
    ("flask_crossorigin.response_headers", "_scan"),
    ("flask_crossorigin.response_headers", "_finish"),
    ("flask_crossorigin.response_headers", "merged_vary"),
    ("flask_crossorigin.response_headers", "_guard_credentials"),
    ("flask_crossorigin.extension", "_report"),
]


def _app(**options: Any) -> Flask:
    app = Flask(__name__)

    @app.route("/api/data", methods=["GET", "PUT"])
    def data() -> Any:
        response = jsonify(ok=True)
        response.headers["Vary"] = "Accept-Encoding"
        response.headers["Access-Control-Allow-Credentials"] = "true"  # the app's own
        return response

    @app.route("/api/dir/")
    def directory() -> str:
        return "dir"

    @app.route("/api/decorated", methods=["GET", "PUT"])
    @cross_origin(origins=[TRUSTED])
    def decorated() -> str:
        return "decorated"

    CORS(app, **options)
    return app


REQUESTS = [
    ("GET", "/api/data", {}),
    ("GET", "/api/data", {"Origin": TRUSTED}),
    ("GET", "/api/data", {"Origin": EVIL}),
    ("GET", "/api/missing", {"Origin": TRUSTED}),
    ("GET", "/api/dir", {"Origin": TRUSTED}),
    ("GET", "/api/decorated", {"Origin": TRUSTED}),
    ("GET", "/api/decorated", {"Origin": EVIL}),
    ("OPTIONS", "/api/data", preflight(TRUSTED, "PUT", "x-token")),
    ("OPTIONS", "/api/data", preflight(EVIL, "PUT")),
    ("OPTIONS", "/api/decorated", preflight(TRUSTED, "PUT")),
    ("OPTIONS", "/api/dir", preflight(TRUSTED, "GET")),
]


@pytest.mark.parametrize(("target", "name"), TARGETS)
@pytest.mark.parametrize("options", [{}, {"origins": [TRUSTED]}])
def test_an_injected_failure_never_becomes_a_500_nor_a_grant(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    target: str, name: str, options: dict[str, Any],
) -> None:
    forget_causes()
    app = _app(**options)
    client = app.test_client()
    expected = {(m, p, tuple(h)): client.open(p, method=m, headers=h).status_code
                for m, p, h in REQUESTS if "Origin" not in h}
    monkeypatch.setattr(target + "." + name, _raise)
    records: list[logging.LogRecord] = []
    with caplog.at_level(logging.DEBUG, logger="flask_crossorigin"):
        for _ in range(2):
            for method, path, headers in REQUESTS:
                caplog.clear()
                response = client.open(path, method=method, headers=headers)
                records.extend(caplog.records)
                where = f"{name}: {method} {path} {headers.get('Origin')}"
                assert response.status_code < 500, where
                if "Origin" not in headers:  # same-origin: exactly as without a failure
                    assert response.status_code == expected[(method, path, tuple(headers))]
                    assert response.get_json() == {"ok": True}, where
                failed = any("failed with Injected" in r.getMessage() for r in caplog.records)
                if failed:  # fail closed
                    assert "Access-Control-Allow-Origin" not in response.headers, where
    tracebacks = [r for r in records if r.exc_info and r.exc_info[0] is Injected]
    assert tracebacks, f"{name}: the injected failure was never met"
    assert all(r.levelno == logging.ERROR for r in tracebacks)
    causes = {(r.getMessage().split(" failed")[0]) for r in tracebacks}
    assert len(tracebacks) == len(causes), "each cause is logged at ERROR once"


def test_a_failure_withholds_the_grant(monkeypatch: pytest.MonkeyPatch) -> None:
    forget_causes()
    client = _app(origins=[TRUSTED]).test_client()
    monkeypatch.setattr("flask_crossorigin.response_headers._finish", _raise)
    response = client.get("/api/data", headers={"Origin": TRUSTED})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Credentials" not in response.headers
    monkeypatch.setattr("flask_crossorigin.policy.Policy.preflight_for", _raise)
    answer = client.options("/api/data", headers=preflight(TRUSTED, "PUT"))
    assert answer.status_code < 500
    assert "Access-Control-Allow-Origin" not in answer.headers


@pytest.mark.parametrize("signal", [request_refused, preflight_answered])
def test_a_receiver_that_raises_changes_nothing(
    signal: Any, caplog: pytest.LogCaptureFixture
) -> None:
    forget_causes()
    app = _app(origins=[TRUSTED])
    heard: list[str] = []

    def broken(sender: Flask, **details: Any) -> None:
        raise Injected("receiver")

    def counting(sender: Flask, **details: Any) -> None:
        heard.append(details["origin"])

    client = app.test_client()
    with signal.connected_to(broken, sender=app), signal.connected_to(counting, sender=app), \
            caplog.at_level(logging.DEBUG, logger="flask_crossorigin"):
        for _ in range(3):
            refused = client.get("/api/data", headers={"Origin": EVIL})
            assert refused.status_code == 200
            assert "Access-Control-Allow-Origin" not in refused.headers
            answer = client.options("/api/data", headers=preflight(EVIL, "PUT"))
            assert answer.status_code == 403
            granted = client.options("/api/data", headers=preflight(TRUSTED, "PUT"))
            assert granted.status_code == 204
            assert granted.headers["Access-Control-Allow-Origin"] == TRUSTED
    assert heard, "the other receivers still hear the signal"
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is not None
    assert "receiver" in errors[0].getMessage() and "broken" in errors[0].getMessage()
