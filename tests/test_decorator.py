"""@cross_origin on sync and async views, with and without the extension."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, abort, jsonify, request

from flask_crossorigin import CORS, cross_origin

from .conftest import preflight, vary_of

PARTNER = "https://partner.example"


def decorated_app(with_extension: bool, **app_options: Any) -> Flask:
    app = Flask(__name__)

    @app.route("/public")
    def public() -> Any:
        return jsonify(public=True)

    @app.route("/special", methods=["GET", "PUT"])
    @cross_origin(origins=[PARTNER], supports_credentials=True, max_age=60)
    def special() -> Any:
        return jsonify(special=True)

    @app.route("/async", methods=["GET", "PUT"])
    @cross_origin(origins=[PARTNER])
    async def asynchronous() -> Any:
        return jsonify(asynchronous=True)

    @app.route("/fails")
    @cross_origin(origins=[PARTNER])
    def fails() -> Any:
        abort(404)

    if with_extension:
        CORS(app, **app_options)
    return app


@pytest.mark.parametrize("with_extension", [True, False])
def test_decorator_overrides_the_app_policy(with_extension: bool) -> None:
    client = decorated_app(with_extension).test_client()
    response = client.get("/special", headers={"Origin": PARTNER})
    assert response.get_json() == {"special": True}
    assert response.headers.getlist("Access-Control-Allow-Origin") == [PARTNER]
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert vary_of(response) == ["Origin"]
    refused = client.get("/special", headers={"Origin": "https://other.example"})
    assert "Access-Control-Allow-Origin" not in refused.headers  # the app's '*' is replaced


@pytest.mark.parametrize("with_extension", [True, False])
def test_decorator_answers_preflights(with_extension: bool) -> None:
    client = decorated_app(with_extension).test_client()
    response = client.options("/special", headers=preflight(origin=PARTNER,
                                                            headers="content-type"))
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == PARTNER
    assert response.headers["Access-Control-Max-Age"] == "60"
    refused = client.options("/special", headers=preflight(origin="https://other.example"))
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused.headers


@pytest.mark.parametrize("with_extension", [True, False])
def test_async_views(with_extension: bool) -> None:
    client = decorated_app(with_extension).test_client()
    response = client.get("/async", headers={"Origin": PARTNER})
    assert response.get_json() == {"asynchronous": True}
    assert response.headers["Access-Control-Allow-Origin"] == PARTNER
    assert client.options("/async", headers=preflight(origin=PARTNER)).status_code == 204


@pytest.mark.parametrize("with_extension", [True, False])
def test_plain_options_still_answers_allow(with_extension: bool) -> None:
    response = decorated_app(with_extension).test_client().options(
        "/special", headers={"Origin": PARTNER})
    assert response.status_code == 200
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "PUT", "OPTIONS"}
    assert response.headers["Access-Control-Allow-Origin"] == PARTNER


def test_with_extension_error_responses_use_the_views_policy() -> None:
    client = decorated_app(True).test_client()
    response = client.get("/fails", headers={"Origin": PARTNER})
    assert response.status_code == 404
    assert response.headers["Access-Control-Allow-Origin"] == PARTNER


def test_undecorated_routes_keep_the_app_policy() -> None:
    client = decorated_app(True).test_client()
    assert client.get("/public", headers={"Origin": PARTNER}).headers[
        "Access-Control-Allow-Origin"] == PARTNER  # '*' policy, send_wildcard=False: echoed
    assert "Access-Control-Allow-Origin" not in decorated_app(False).test_client().get(
        "/public", headers={"Origin": PARTNER}).headers


def test_decorator_preflight_runs_before_auth_hooks_with_the_extension() -> None:
    app = decorated_app(True, resources={})
    hooks: list[str] = []

    @app.before_request
    def auth() -> Any:
        hooks.append(request.path)
        abort(401)

    response = app.test_client().options("/special", headers=preflight(origin=PARTNER))
    assert response.status_code == 204
    assert hooks == []


def test_decorator_reads_app_config_under_its_arguments() -> None:
    app = Flask(__name__)
    app.config.update(CORS_ORIGINS=[PARTNER], CORS_EXPOSE_HEADERS=["X-From-Config"])

    @app.route("/x")
    @cross_origin(supports_credentials=True)
    def x() -> str:
        return "x"

    response = app.test_client().get("/x", headers={"Origin": PARTNER})
    assert response.headers["Access-Control-Allow-Origin"] == PARTNER
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers["Access-Control-Expose-Headers"] == "X-From-Config"


def test_decorator_ignores_extension_keyword_arguments() -> None:
    app = Flask(__name__)

    @app.route("/x")
    @cross_origin()
    def x() -> str:
        return "x"

    CORS(app, origins=["https://app-wide.example"])
    response = app.test_client().get("/x", headers={"Origin": PARTNER})
    assert response.headers["Access-Control-Allow-Origin"] == PARTNER


def test_automatic_options_false_leaves_options_to_the_view() -> None:
    app = Flask(__name__)

    @app.route("/x", methods=["PUT", "OPTIONS"])
    @cross_origin(origins=[PARTNER], automatic_options=False)
    def x() -> Any:
        return "view answered " + request.method

    response = app.test_client().options("/x", headers=preflight(origin=PARTNER))
    assert response.get_data(as_text=True) == "view answered OPTIONS"
    assert response.headers["Access-Control-Allow-Origin"] == PARTNER
    assert "PUT" in response.headers["Access-Control-Allow-Methods"]


def test_the_policy_is_compiled_once_per_app() -> None:
    app = decorated_app(False)
    spec = app.view_functions["special"].__cross_origin__
    client = app.test_client()
    client.get("/special", headers={"Origin": PARTNER})
    first = spec.policy_for(app)
    client.get("/special", headers={"Origin": PARTNER})
    assert spec.policy_for(app) is first


def test_wrapper_keeps_the_views_name() -> None:
    app = decorated_app(True)
    assert app.view_functions["special"].__name__ == "special"


def test_without_the_extension_every_request_is_answered_the_same_way() -> None:
    app = decorated_app(False)
    hooks: list[str] = []

    @app.before_request
    def auth() -> Any:
        hooks.append(request.method)
        if request.method == "OPTIONS":
            abort(401)
        return None

    client = app.test_client()
    # No request installs anything: the view answers, after the app's hooks, every time.
    for _ in range(3):
        assert client.get("/special", headers={"Origin": PARTNER}).headers.getlist(
            "Access-Control-Allow-Origin") == [PARTNER]
        assert client.options("/special", headers=preflight(origin=PARTNER)).status_code == 401
    assert "crossorigin" not in app.extensions
    assert hooks == ["GET", "OPTIONS"] * 3


def test_cors_with_no_resources_moves_decorator_preflights_before_the_hooks() -> None:
    app = decorated_app(True, resources={})

    @app.before_request
    def auth() -> Any:
        abort(401)

    client = app.test_client()
    response = client.options("/special", headers=preflight(origin=PARTNER))
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == PARTNER
    assert client.options("/public", headers=preflight(origin=PARTNER)).status_code == 401


def same_url_app(with_extension: bool, lenient: str) -> Flask:
    """A lenient and a strict view on one URL: the preflight must be judged by the
    view its requested method reaches, not by the one OPTIONS reaches."""
    app = Flask(__name__)
    strict = "PUT" if lenient == "GET" else "GET"

    @app.route("/item", methods=[lenient], endpoint="lenient")
    @cross_origin(origins="*", methods=["GET", "PUT"])
    def lenient_view() -> Any:
        return "lenient"

    @app.route("/item", methods=[strict], endpoint="strict")
    @cross_origin(origins=[PARTNER], methods=["GET", "PUT"])
    def strict_view() -> Any:
        return "strict"

    if with_extension:
        CORS(app, resources={})
    return app


@pytest.mark.parametrize("with_extension", [True, False])
@pytest.mark.parametrize("lenient", ["GET", "PUT"])
def test_a_preflight_is_judged_by_the_view_of_the_requested_method(
    with_extension: bool, lenient: str
) -> None:
    client = same_url_app(with_extension, lenient).test_client()
    strict = "PUT" if lenient == "GET" else "GET"
    evil = "https://evil.example"
    refused = client.options("/item", headers=preflight(origin=evil, method=strict))
    assert "Access-Control-Allow-Origin" not in refused.headers
    assert "Access-Control-Allow-Methods" not in refused.headers
    granted = client.options("/item", headers=preflight(origin=evil, method=lenient))
    assert granted.status_code in (200, 204)
    assert granted.headers["Access-Control-Allow-Origin"] == evil  # send_wildcard=False
    partner = client.options("/item", headers=preflight(origin=PARTNER, method=strict))
    assert partner.headers["Access-Control-Allow-Origin"] == PARTNER
