"""Signals for refusals and preflight answers; debug-mode reasons; one text for every reason."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask, jsonify

import flask_crossorigin
from flask_crossorigin import CORS, cross_origin
from flask_crossorigin.reasons import Refusal
from flask_crossorigin.signals import preflight_answered, request_refused

from .conftest import TRUSTED, make_app, preflight

EVIL = "https://evil.example"


@contextmanager
def recording(signal: Any, app: Flask) -> Iterator[list[dict[str, Any]]]:
    sent: list[dict[str, Any]] = []

    def receiver(sender: Flask, **details: Any) -> None:
        assert sender is app
        sent.append(details)

    with signal.connected_to(receiver, sender=app):
        yield sent


def test_signals_are_exported_from_the_package() -> None:
    assert flask_crossorigin.request_refused is request_refused
    assert flask_crossorigin.preflight_answered is preflight_answered


def test_a_refused_request_sends_its_origin_path_method_policy_and_reason() -> None:
    app = make_app(origins=[TRUSTED])
    with recording(request_refused, app) as sent:
        app.test_client().get("/api/data", headers={"Origin": EVIL})
    [details] = sent
    assert details == {
        "origin": EVIL,
        "path": "/api/data",
        "method": "GET",
        "preflight": False,
        "policy": "resources['/*']",
        "code": "origin-not-allowed",
        "reason": Refusal("origin-not-allowed", origin=EVIL, policy="resources['/*']").message,
    }


def test_a_refused_preflight_sends_the_requested_method() -> None:
    app = make_app(origins=[TRUSTED], methods=["GET", "PUT"])
    with recording(request_refused, app) as sent:
        response = app.test_client().options("/api/items/1", headers=preflight(method="DELETE"))
    assert response.status_code == 403
    [details] = sent
    assert details["preflight"] is True
    assert details["method"] == "DELETE"
    assert details["code"] == "method-not-allowed"
    assert "the method 'DELETE' is not in the methods of resources['/*']" in details["reason"]


def test_granted_requests_send_no_refusal() -> None:
    app = make_app(origins=[TRUSTED])
    with recording(request_refused, app) as sent:
        client = app.test_client()
        client.get("/api/data", headers={"Origin": TRUSTED})
        client.get("/api/data")  # not a CORS request
        client.options("/api/items/1", headers=preflight())
    assert sent == []


def test_preflight_answered_is_sent_for_grants_and_refusals() -> None:
    app = make_app(origins=[TRUSTED])
    with recording(preflight_answered, app) as sent:
        client = app.test_client()
        client.options("/api/items/1", headers=preflight(headers="x-token"))
        client.options("/api/items/1", headers=preflight(origin=EVIL))
        client.get("/api/data", headers={"Origin": EVIL})  # not a preflight
    granted, refused = sent
    assert granted["granted"] is True
    assert granted["code"] is None and granted["reason"] is None
    assert granted["method"] == "PUT" and granted["origin"] == TRUSTED
    assert refused["granted"] is False
    assert refused["code"] == "origin-not-allowed"
    assert refused["origin"] == EVIL and refused["path"] == "/api/items/1"


def test_receivers_of_another_app_hear_nothing() -> None:
    app, other = make_app(origins=[TRUSTED]), make_app(origins=[TRUSTED])
    with recording(request_refused, other) as sent:
        app.test_client().get("/api/data", headers={"Origin": EVIL})
    assert sent == []


def test_a_preflight_the_view_answers_is_refused_but_not_answered_by_the_extension() -> None:
    app = make_app(origins=[TRUSTED], automatic_options=False)
    with recording(request_refused, app) as refused, \
            recording(preflight_answered, app) as answered:
        app.test_client().options("/api/items/1", headers=preflight(origin=EVIL))
    assert [details["code"] for details in refused] == ["origin-not-allowed"]
    assert refused[0]["preflight"] is True
    assert answered == []


def test_the_decorator_without_the_extension_sends_the_signals() -> None:
    app = Flask(__name__)

    @app.route("/widget", methods=["GET", "PUT"])
    @cross_origin(origins=[TRUSTED])
    def widget() -> Any:
        return jsonify(ok=True)

    with recording(request_refused, app) as refused, \
            recording(preflight_answered, app) as answered:
        client = app.test_client()
        client.get("/widget", headers={"Origin": EVIL})
        client.options("/widget", headers=preflight(origin=EVIL))
    assert [(d["preflight"], d["policy"]) for d in refused] == [
        (False, "@cross_origin on widget"),
        (True, "@cross_origin on widget"),
    ]
    assert [d["granted"] for d in answered] == [False]


def test_the_signal_carries_request_data_raw_and_the_reason_escaped() -> None:
    app = make_app(origins=[TRUSTED])
    with recording(request_refused, app) as sent:
        app.test_client().get("/api/data", headers={"Origin": "https://a.example\x7f"})
    [details] = sent
    assert details["origin"] == "https://a.example\x7f"
    assert details["code"] == "origin-malformed"
    assert "'https://a.example\\x7f'" in details["reason"]


def test_nothing_is_formatted_without_receivers(formatted_reasons: list[str]) -> None:
    formatted = formatted_reasons
    app = make_app(origins=[TRUSTED])
    client = app.test_client()
    client.get("/api/data", headers={"Origin": EVIL})
    client.options("/api/items/1", headers=preflight(origin=EVIL))
    assert formatted == []
    with recording(request_refused, app):
        client.get("/api/data", headers={"Origin": EVIL})
    assert formatted == ["origin-not-allowed"]


def test_the_log_and_the_signal_say_the_same(caplog: pytest.LogCaptureFixture) -> None:
    app = make_app(origins=[TRUSTED], allow_headers=["X-Token"])
    with recording(request_refused, app) as sent, \
            caplog.at_level(logging.DEBUG, logger="flask_crossorigin"):
        app.test_client().options("/api/items/1", headers=preflight(headers="x-other"))
    [details] = sent
    [record] = [r for r in caplog.records if r.name == "flask_crossorigin"]
    assert record.getMessage().endswith(": " + details["reason"])


# -- debug mode --------------------------------------------------------------------------


def test_in_debug_mode_a_refused_preflight_explains_itself(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app(origins=[TRUSTED])
    app.debug = True
    with recording(request_refused, app) as sent, \
            caplog.at_level(logging.WARNING, logger="flask_crossorigin"):
        response = app.test_client().options("/api/items/1", headers=preflight(origin=EVIL))
    assert response.status_code == 403
    assert response.mimetype == "text/plain"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Access-Control-Allow-Origin" not in response.headers
    [details] = sent
    assert response.get_data(as_text=True) == f"CORS preflight refused: {details['reason']}\n"
    [record] = [r for r in caplog.records if r.name == "flask_crossorigin"]
    assert record.levelno == logging.WARNING
    assert details["reason"] in record.getMessage()


def test_in_production_a_refused_preflight_reveals_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app(origins=[TRUSTED])
    with caplog.at_level(logging.INFO, logger="flask_crossorigin"):
        response = app.test_client().options("/api/items/1", headers=preflight(origin=EVIL))
    assert response.status_code == 403
    assert response.get_data() == b""
    assert "Content-Type" not in response.headers
    assert [r for r in caplog.records if r.name == "flask_crossorigin"] == []


def test_in_debug_mode_granted_preflights_and_actual_refusals_are_unchanged() -> None:
    app = make_app(origins=[TRUSTED])
    app.debug = True
    client = app.test_client()
    granted = client.options("/api/items/1", headers=preflight())
    assert granted.status_code == 204 and granted.get_data() == b""
    refused = client.get("/api/data", headers={"Origin": EVIL})
    assert refused.status_code == 200 and refused.get_json() == {"message": "hello"}


def test_a_debug_body_cannot_carry_markup_or_line_breaks() -> None:
    app = make_app(origins=[TRUSTED])
    app.debug = True
    response = app.test_client().options(
        "/api/items/1", headers=preflight(method="PUT<script>", origin=TRUSTED)
    )
    body = response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    assert body.count("\n") == 1 and "'PUT<script>'" in body


def test_cors_on_a_blueprint_registers_the_signals_too() -> None:
    from flask import Blueprint

    app = Flask(__name__)
    bp = Blueprint("bp", __name__, url_prefix="/bp")
    CORS(bp, origins=[TRUSTED])

    @bp.route("/x")
    def x() -> Any:
        return "x"

    app.register_blueprint(bp)
    with recording(request_refused, app) as sent:
        app.test_client().get("/bp/x", headers={"Origin": EVIL})
    assert [d["policy"] for d in sent] == ["blueprint 'bp' resources['/*']"]


def test_another_apps_receiver_costs_this_app_no_formatting(
    formatted_reasons: list[str],
) -> None:
    formatted = formatted_reasons
    app, other = make_app(origins=[TRUSTED]), make_app(origins=[TRUSTED])
    with recording(request_refused, other), recording(preflight_answered, other):
        client = app.test_client()
        client.get("/api/data", headers={"Origin": EVIL})
        client.options("/api/items/1", headers=preflight(origin=EVIL))
    assert formatted == []
