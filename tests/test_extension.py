"""The extension on actual requests: the one-liner, origins, Vary, errors, config keys."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask, Response, jsonify, stream_with_context

from flask_crossorigin import CORS, CrossOriginState

from .conftest import TRUSTED, make_app, vary_of


def test_one_liner_echoes_any_origin(client: Any) -> None:
    # send_wildcard=False by default, as in flask-cors: the origin is echoed (with Vary).
    response = client.get("/api/data", headers={"Origin": "https://anyone.example"})
    assert response.status_code == 200
    assert response.headers.getlist("Access-Control-Allow-Origin") == ["https://anyone.example"]
    assert vary_of(response) == ["Origin"]
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert response.get_json() == {"message": "hello"}


def test_one_liner_is_registered_under_app_extensions(app: Flask) -> None:
    assert isinstance(app.extensions["crossorigin"], CrossOriginState)


def test_tutorial_restrictive_example_runs_unchanged() -> None:
    app = Flask(__name__)
    CORS(app, resources={r"/api/*": {"origins": "https://trusted-website.com",
                                     "methods": ["GET"], "allow_headers": "Content-Type"}})

    @app.route("/api/data")
    def data() -> Any:
        return jsonify({"message": "This is CORS-enabled for a specific origin"})

    client = app.test_client()
    ok = client.get("/api/data", headers={"Origin": "https://trusted-website.com"})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://trusted-website.com"
    other = client.get("/api/data", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    assert other.status_code == 200  # refused: no grant, the response otherwise untouched
    pre = client.options("/api/data", headers={
        "Origin": "https://trusted-website.com", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code == 204
    assert pre.headers["Access-Control-Allow-Methods"] == "GET"
    assert pre.headers["Access-Control-Allow-Headers"] == "content-type"


def test_exact_origin_is_echoed_once_with_vary(build: Any) -> None:
    client = build(origins=[TRUSTED, "https://other.example"]).test_client()
    response = client.get("/api/data", headers={"Origin": TRUSTED})
    assert response.headers.getlist("Access-Control-Allow-Origin") == [TRUSTED]
    assert vary_of(response) == ["Origin"]


@pytest.mark.parametrize("origin", [None, "https://evil.example", "null", "not an origin"])
def test_vary_origin_on_refusals_and_requests_without_origin(build: Any, origin: Any) -> None:
    client = build(origins=[TRUSTED]).test_client()
    headers = {"Origin": origin} if origin else {}
    response = client.get("/api/data", headers=headers)
    assert "Access-Control-Allow-Origin" not in response.headers
    assert vary_of(response) == ["Origin"]


def test_vary_is_merged_with_the_views_own_and_never_duplicated(build: Any) -> None:
    client = build(origins=[TRUSTED]).test_client()
    response = client.get("/vary", headers={"Origin": TRUSTED})
    assert vary_of(response) == ["Accept-Encoding", "Origin"]
    assert len(response.headers.getlist("Vary")) == 1


def test_vary_already_naming_origin_is_not_repeated() -> None:
    app = Flask(__name__)
    CORS(app, origins=[TRUSTED])

    @app.route("/")
    def index() -> Any:
        return Response("x", headers={"Vary": "origin"})

    response = app.test_client().get("/", headers={"Origin": TRUSTED})
    assert vary_of(response) == ["origin"]


def test_star_answers_vary_on_origin_too(build: Any) -> None:
    # Even '*' refuses 'null': the answer depends on Origin.
    client = build(send_wildcard=True).test_client()
    granted = client.get("/api/data", headers={"Origin": "https://a.example"})
    refused = client.get("/api/data", headers={"Origin": "null"})
    assert granted.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Origin" not in refused.headers
    for response in (granted, refused, client.get("/api/data")):
        assert vary_of(response) == ["Origin"]


@pytest.mark.parametrize("send_wildcard", [True, False])
def test_any_origin_grants_malformed_origins_with_star_never_echoed(
    build: Any, send_wildcard: bool
) -> None:
    """'*' grants everyone, so a malformed Origin (as test clients send) is granted too,
    always as '*': the value is never echoed. 'null' stays refused unless listed."""
    client = build(send_wildcard=send_wildcard, expose_headers=["X-Total"]).test_client()
    for origin in ("www.example.com", "https://a.example/", "HTTPS://A.EXAMPLE", ""):
        response = client.get("/api/data", headers={"Origin": origin})
        assert response.headers.getlist("Access-Control-Allow-Origin") == ["*"], origin
        assert response.headers["Access-Control-Expose-Headers"] == "X-Total"
        answer = client.options("/api/items/1", headers={
            "Origin": origin, "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "X-Token"})
        assert answer.status_code == 204
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
        assert answer.headers["Access-Control-Allow-Headers"] == "X-Token"
    assert "Access-Control-Allow-Origin" not in client.get(
        "/api/data", headers={"Origin": "null"}).headers


def test_listed_origins_still_refuse_malformed_values(build: Any) -> None:
    client = build(origins=["https://a.example", "https://*.example.com"]).test_client()
    for origin in ("a.example", "https://a.example/", "HTTPS://A.EXAMPLE", "null"):
        assert "Access-Control-Allow-Origin" not in client.get(
            "/api/data", headers={"Origin": origin}).headers


def test_vary_header_false_leaves_vary_out(build: Any) -> None:
    client = build(origins=[TRUSTED], vary_header=False).test_client()
    assert "Vary" not in client.get("/api/data", headers={"Origin": TRUSTED}).headers


def test_credentials_and_exposed_headers(build: Any) -> None:
    client = build(origins=[TRUSTED], supports_credentials=True,
                   expose_headers=["X-Total-Count", "ETag"]).test_client()
    response = client.get("/api/data", headers={"Origin": TRUSTED})
    assert response.headers["Access-Control-Allow-Origin"] == TRUSTED
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    # Sorted, as flask-cors sends them.
    assert response.headers["Access-Control-Expose-Headers"] == "ETag, X-Total-Count"
    refused = client.get("/api/data", headers={"Origin": "https://evil.example"})
    for name in ("Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
                 "Access-Control-Expose-Headers"):
        assert name not in refused.headers


def test_send_wildcard_false_echoes_the_origin(build: Any) -> None:
    client = build(send_wildcard=False).test_client()
    response = client.get("/api/data", headers={"Origin": "https://a.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://a.example"
    assert vary_of(response) == ["Origin"]


def test_always_send_false_sends_nothing_without_origin(build: Any) -> None:
    client = build(always_send=False).test_client()
    response = client.get("/api/data")
    assert "Access-Control-Allow-Origin" not in response.headers
    assert vary_of(response) == ["Origin"]  # now the answer depends on Origin
    assert client.get("/api/data", headers={"Origin": "https://a.example"}).headers[
        "Access-Control-Allow-Origin"] == "https://a.example"


def test_listed_origins_are_never_sent_to_requests_without_origin(build: Any) -> None:
    response = build(origins=[TRUSTED]).test_client().get("/api/data")
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize(("path", "status"), [
    ("/nowhere", 404), ("/private", 401), ("/boom", 500),
])
def test_error_responses_carry_cors_headers(build: Any, path: str, status: int) -> None:
    app = build(origins=[TRUSTED])
    response = app.test_client().get(path, headers={"Origin": TRUSTED})
    assert response.status_code == status
    assert response.headers["Access-Control-Allow-Origin"] == TRUSTED
    assert vary_of(response) == ["Origin"]


def test_method_not_allowed_carries_cors_headers(build: Any) -> None:
    response = build(origins=[TRUSTED]).test_client().post(
        "/api/data", headers={"Origin": TRUSTED})
    assert response.status_code == 405
    assert response.headers["Access-Control-Allow-Origin"] == TRUSTED


def test_intercept_exceptions_false_leaves_unhandled_exceptions_alone(build: Any) -> None:
    # flask-cors's meaning: only answers to unhandled exceptions lose their headers.
    client = build(origins=[TRUSTED], intercept_exceptions=False).test_client()
    boom = client.get("/boom", headers={"Origin": TRUSTED})
    assert boom.status_code == 500
    assert "Access-Control-Allow-Origin" not in boom.headers
    for path, status in (("/private", 401), ("/nowhere", 404), ("/api/data", 200)):
        response = client.get(path, headers={"Origin": TRUSTED})
        assert response.status_code == status
        assert response.headers["Access-Control-Allow-Origin"] == TRUSTED, path
    refused = client.post("/api/data", headers={"Origin": TRUSTED})  # 405
    assert refused.status_code == 405
    assert refused.headers["Access-Control-Allow-Origin"] == TRUSTED


def test_intercept_exceptions_true_covers_unhandled_exceptions(build: Any) -> None:
    boom = build(origins=[TRUSTED]).test_client().get("/boom", headers={"Origin": TRUSTED})
    assert boom.status_code == 500
    assert boom.headers["Access-Control-Allow-Origin"] == TRUSTED


@pytest.mark.parametrize("name", [
    "Access-Control-Allow-Credentials", "Access-Control-Expose-Headers",
    "Access-Control-Allow-Methods", "Access-Control-Max-Age",
])
def test_each_cors_header_appears_once_when_a_view_sets_one(name: str) -> None:
    app = Flask(__name__)
    CORS(app, origins=[TRUSTED], supports_credentials=True, expose_headers=["X-Total"],
         max_age=600)

    @app.route("/own", methods=["GET", "PUT"])
    def own() -> Any:
        return Response("x", headers={name: "true"})

    response = app.test_client().get("/own", headers={"Origin": TRUSTED})
    assert response.headers.getlist(name) == ["true"]  # the view's value, once
    assert response.headers["Access-Control-Allow-Origin"] == TRUSTED


def test_a_view_that_sets_its_own_allow_origin_is_left_alone() -> None:
    app = Flask(__name__)
    CORS(app, origins=[TRUSTED])

    @app.route("/own")
    def own() -> Any:
        return Response("x", headers={"Access-Control-Allow-Origin": "https://mine.example"})

    response = app.test_client().get("/own", headers={"Origin": TRUSTED})
    assert response.headers.getlist("Access-Control-Allow-Origin") == ["https://mine.example"]
    assert "Vary" not in response.headers


def test_config_keys_set_the_app_policy() -> None:
    app = make_app(_init=False)
    app.config.update(CORS_ORIGINS=[TRUSTED], CORS_SUPPORTS_CREDENTIALS=True,
                      CORS_EXPOSE_HEADERS=["X-Id"], CORS_MAX_AGE=timedelta(minutes=10),
                      CORS_METHODS=["GET", "PUT"], CORS_ALLOW_HEADERS=["X-Token"])
    CORS(app)
    client = app.test_client()
    response = client.get("/api/data", headers={"Origin": TRUSTED})
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers["Access-Control-Expose-Headers"] == "X-Id"
    pre = client.options("/api/data", headers={
        "Origin": TRUSTED, "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "x-token"})
    assert pre.status_code == 204
    assert pre.headers["Access-Control-Max-Age"] == "600"
    assert pre.headers["Access-Control-Allow-Methods"] == "GET, PUT"


def test_keyword_arguments_override_config_keys() -> None:
    app = make_app(_init=False)
    app.config["CORS_ORIGINS"] = ["https://from-config.example"]
    CORS(app, origins=[TRUSTED])
    client = app.test_client()
    assert client.get("/api/data", headers={"Origin": TRUSTED}).headers[
        "Access-Control-Allow-Origin"] == TRUSTED
    assert "Access-Control-Allow-Origin" not in client.get(
        "/api/data", headers={"Origin": "https://from-config.example"}).headers


def test_config_resources_key() -> None:
    app = make_app(_init=False)
    app.config["CORS_RESOURCES"] = {"/api/*": {"origins": [TRUSTED]}}
    CORS(app)
    client = app.test_client()
    assert client.get("/api/data", headers={"Origin": TRUSTED}).headers[
        "Access-Control-Allow-Origin"] == TRUSTED
    assert "Access-Control-Allow-Origin" not in client.get(
        "/private", headers={"Origin": TRUSTED}).headers


def test_config_from_prefixed_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASK_CORS_ORIGINS", '["https://env.example"]')
    monkeypatch.setenv("FLASK_CORS_SUPPORTS_CREDENTIALS", "true")
    app = make_app(_init=False)
    app.config.from_prefixed_env()
    CORS(app)
    response = app.test_client().get("/api/data", headers={"Origin": "https://env.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://env.example"
    assert response.headers["Access-Control-Allow-Credentials"] == "true"


def test_app_factory_init_app() -> None:
    cors = CORS(origins=[TRUSTED])

    def create_app() -> Flask:
        app = make_app(_init=False)
        cors.init_app(app)
        return app

    first, second = create_app(), create_app()
    for app in (first, second):
        response = app.test_client().get("/api/data", headers={"Origin": TRUSTED})
        assert response.headers["Access-Control-Allow-Origin"] == TRUSTED


def test_init_app_arguments_override_constructor_arguments() -> None:
    cors = CORS(origins=["https://constructor.example"])
    app = make_app(_init=False)
    cors.init_app(app, origins=[TRUSTED])
    response = app.test_client().get("/api/data", headers={"Origin": TRUSTED})
    assert response.headers["Access-Control-Allow-Origin"] == TRUSTED


def test_streaming_response_gets_headers() -> None:
    app = Flask(__name__)
    CORS(app, origins=[TRUSTED])

    @app.route("/stream")
    def stream() -> Any:
        def generate() -> Any:
            yield "a"
            yield "b"
        return Response(stream_with_context(generate()))

    response = app.test_client().get("/stream", headers={"Origin": TRUSTED})
    assert response.headers["Access-Control-Allow-Origin"] == TRUSTED
    assert response.get_data(as_text=True) == "ab"


def test_head_request(build: Any) -> None:
    response = build(origins=[TRUSTED]).test_client().head(
        "/api/data", headers={"Origin": TRUSTED})
    assert response.headers["Access-Control-Allow-Origin"] == TRUSTED
