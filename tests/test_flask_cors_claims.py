"""What docs/migrating.rst says flask-cors 6.0.5 does, checked by running flask-cors.

The real flask-cors (the ``[test]`` extra's, the benchmark's contestant) beside
this extension, on the same app: the documented differences and sameness hold.
"""

from __future__ import annotations

import logging
from importlib.metadata import version
from pathlib import Path
from typing import Any, Callable

import flask_cors  # the real one: the [test] extra installs it (the benchmark's contestant)
import pytest
from flask import Flask, abort

import flask_crossorigin
from flask_crossorigin import ConfigurationError

ROOT = Path(__file__).resolve().parent.parent
ORIGIN = "https://app.example.com"


def demo_app(cors: Callable[..., Any], **options: Any) -> Flask:
    app = Flask(__name__)
    app.logger.disabled = True  # the 500's traceback

    @app.get("/api/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    @app.get("/api/missing")
    def missing() -> str:
        abort(404)

    cors(app, **options)
    return app


def test_the_real_flask_cors_is_the_one_the_docs_describe() -> None:
    assert "flask_cors_shim" not in str(Path(flask_cors.__file__))
    assert version("flask-cors").startswith("6.")


def test_intercept_exceptions_false_as_flask_cors_runs_it_and_as_documented() -> None:
    theirs = demo_app(flask_cors.CORS, intercept_exceptions=False).test_client()
    ours = demo_app(flask_crossorigin.CORS, origins=[ORIGIN],
                    intercept_exceptions=False).test_client()
    headers = {"Origin": ORIGIN}
    # flask-cors 6.0.5 as run: its after_request hook still adds headers to the 500.
    assert theirs.get("/api/boom", headers=headers).headers.get(
        "Access-Control-Allow-Origin") == ORIGIN
    # Here: what the option says, and what docs/migrating.rst now says of both.
    boom = ours.get("/api/boom", headers=headers)
    assert boom.status_code == 500 and "Access-Control-Allow-Origin" not in boom.headers
    for client in (theirs, ours):
        assert client.get("/api/missing", headers=headers).headers.get(
            "Access-Control-Allow-Origin") == ORIGIN
    text = " ".join((ROOT / "docs" / "migrating.rst").read_text().split())
    assert "flask-cors 6.0.5 itself, run with ``CORS(app, intercept_exceptions=False)``, " \
           "still adds its headers to those 500s" in text
    assert "has flask-cors's meaning" not in text


def test_expose_headers_on_preflights_as_flask_cors() -> None:
    preflight = {"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}
    theirs = demo_app(flask_cors.CORS, expose_headers=["X-Request-Id"]).test_client()
    ours = demo_app(flask_crossorigin.CORS, origins=[ORIGIN],
                    expose_headers=["X-Request-Id"]).test_client()
    for client in (theirs, ours):
        answer = client.options("/api/missing", headers=preflight)
        assert answer.headers.get("Access-Control-Expose-Headers") == "X-Request-Id"


def test_headers_is_ignored_by_flask_cors_and_the_message_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    preflight = {"Origin": ORIGIN, "Access-Control-Request-Method": "GET",
                 "Access-Control-Request-Headers": "Authorization"}
    with caplog.at_level(logging.WARNING):
        theirs = demo_app(flask_cors.CORS, headers="Content-Type").test_client()
    # flask-cors logs the unknown option and ignores it: Authorization stays allowed.
    assert "Unknown option passed to Flask-CORS: headers" in caplog.text
    assert theirs.options("/api/missing", headers=preflight).headers.get(
        "Access-Control-Allow-Headers") == "Authorization"
    with pytest.raises(ConfigurationError) as raised:
        demo_app(flask_crossorigin.CORS, headers="Content-Type")
    message = str(raised.value)
    assert "headers='Content-Type': is not an option; flask-cors ignores it too" in message
    assert "removing it keeps the behaviour you have" in message
    assert "Do not rename it to allow_headers: that would restrict the request headers" in message
    assert "did you mean" not in message
    # Following the advice keeps Authorization preflights granted; the rename would not.
    removed = demo_app(flask_crossorigin.CORS, origins=[ORIGIN]).test_client()
    assert removed.options("/api/missing", headers=preflight).status_code == 204
    renamed = demo_app(flask_crossorigin.CORS, origins=[ORIGIN],
                       allow_headers="Content-Type").test_client()
    assert renamed.options("/api/missing", headers=preflight).status_code == 403


def test_the_cors_headers_key_says_the_same() -> None:
    app = Flask(__name__)
    app.config["CORS_HEADERS"] = "Content-Type"
    with pytest.warns(flask_crossorigin.ConfigurationWarning) as caught:
        flask_crossorigin.CORS(app)
    [warning] = caught
    message = str(warning.message)
    assert "flask-cors ignores it too" in message
    assert "removing it keeps the behaviour you have" in message
    assert "Do not rename it to CORS_ALLOW_HEADERS: that would restrict" in message
