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


def test_without_the_extension_the_first_request_installs_the_layer() -> None:
    app = decorated_app(False)
    hooks: list[str] = []

    @app.before_request
    def auth() -> Any:
        hooks.append(request.path)
        if request.method == "OPTIONS":
            abort(401)
        return None

    assert "crossorigin" not in app.extensions
    client = app.test_client()
    first = client.get("/special", headers={"Origin": PARTNER})
    assert first.headers["Access-Control-Allow-Origin"] == PARTNER  # answered by the view
    assert "crossorigin" in app.extensions
    # From now on preflights are answered before before_request hooks run.
    response = client.options("/special", headers=preflight(origin=PARTNER))
    assert response.status_code == 204
    assert hooks == ["/special"]  # only the first GET met the hook
    second = client.get("/special", headers={"Origin": PARTNER})
    assert second.headers.getlist("Access-Control-Allow-Origin") == [PARTNER]
