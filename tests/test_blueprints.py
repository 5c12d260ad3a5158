"""CORS(blueprint): a policy for that blueprint's routes only."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Blueprint, Flask, abort, jsonify

from flask_crossorigin import CORS

from .conftest import preflight

FRONTEND = "https://frontend.example"


def blueprint_app(register_name: str | None = None) -> Flask:
    api = Blueprint("api", __name__, url_prefix="/api")

    @api.route("/items", methods=["GET", "PUT"])
    def items() -> Any:
        return jsonify(items=[])

    @api.route("/missing")
    def missing() -> Any:
        abort(404)

    CORS(api, origins=[FRONTEND], supports_credentials=True)
    app = Flask(__name__)

    @app.route("/home")
    def home() -> str:
        return "home"

    if register_name:
        app.register_blueprint(api, name=register_name, url_prefix="/v2")
    app.register_blueprint(api)
    return app


def test_blueprint_policy_applies_to_its_routes_only() -> None:
    client = blueprint_app().test_client()
    response = client.get("/api/items", headers={"Origin": FRONTEND})
    assert response.headers["Access-Control-Allow-Origin"] == FRONTEND
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Access-Control-Allow-Origin" not in client.get(
        "/home", headers={"Origin": FRONTEND}).headers


def test_blueprint_preflight_and_errors() -> None:
    client = blueprint_app().test_client()
    assert client.options("/api/items", headers=preflight(origin=FRONTEND)).status_code == 204
    assert client.options("/api/items", headers=preflight(
        origin="https://evil.example")).status_code == 403
    error = client.get("/api/missing", headers={"Origin": FRONTEND})
    assert error.status_code == 404
    assert error.headers["Access-Control-Allow-Origin"] == FRONTEND


def test_blueprint_registered_twice_under_two_names() -> None:
    client = blueprint_app(register_name="api_v2").test_client()
    for path in ("/api/items", "/v2/items"):
        response = client.get(path, headers={"Origin": FRONTEND})
        assert response.headers["Access-Control-Allow-Origin"] == FRONTEND


def test_blueprint_policy_beats_the_app_policy() -> None:
    api = Blueprint("api", __name__)

    @api.route("/api/x")
    def x() -> str:
        return "x"

    CORS(api, origins=[FRONTEND])
    app = Flask(__name__)
    app.register_blueprint(api)

    @app.route("/other")
    def other() -> str:
        return "other"

    CORS(app, origins=["https://app.example"])
    client = app.test_client()
    assert client.get("/api/x", headers={"Origin": FRONTEND}).headers[
        "Access-Control-Allow-Origin"] == FRONTEND
    assert "Access-Control-Allow-Origin" not in client.get(
        "/api/x", headers={"Origin": "https://app.example"}).headers
    assert client.get("/other", headers={"Origin": "https://app.example"}).headers[
        "Access-Control-Allow-Origin"] == "https://app.example"


def test_nested_blueprint() -> None:
    parent = Blueprint("parent", __name__, url_prefix="/p")
    child = Blueprint("child", __name__, url_prefix="/c")

    @child.route("/x")
    def x() -> str:
        return "x"

    CORS(child, origins=[FRONTEND])
    parent.register_blueprint(child)
    app = Flask(__name__)
    app.register_blueprint(parent)
    response = app.test_client().get("/p/c/x", headers={"Origin": FRONTEND})
    assert response.headers["Access-Control-Allow-Origin"] == FRONTEND


@pytest.mark.parametrize("config, origin, granted", [
    # flask-cors 6.0.5 never reads CORS_* keys for a blueprint: a plain CORS(public_bp)
    # stays open to any origin under an app-wide CORS_ORIGINS...
    ({"CORS_ORIGINS": [FRONTEND]}, "https://other.example", "https://other.example"),
    ({"CORS_ORIGINS": [FRONTEND]}, FRONTEND, FRONTEND),
    # ... and the app still starts under CORS_SUPPORTS_CREDENTIALS=True (the
    # blueprint's own any-origin policy has no credentials).
    ({"CORS_SUPPORTS_CREDENTIALS": True}, "https://other.example", "https://other.example"),
    ({"CORS_MAX_AGE": 600, "CORS_EXPOSE_HEADERS": ["X-Id"]}, FRONTEND, FRONTEND),
])
def test_a_blueprint_policy_reads_no_cors_config_key(
    config: dict[str, Any], origin: str, granted: str
) -> None:
    api = Blueprint("api", __name__)

    @api.route("/x")
    def x() -> str:
        return "x"

    CORS(api)
    app = Flask(__name__)
    app.config.update(config)
    app.register_blueprint(api)
    response = app.test_client().get("/x", headers={"Origin": origin})
    assert response.headers["Access-Control-Allow-Origin"] == granted
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Access-Control-Expose-Headers" not in response.headers
    preflight = app.test_client().options("/x", headers={
        "Origin": origin, "Access-Control-Request-Method": "GET"})
    assert "Access-Control-Max-Age" not in preflight.headers


def test_a_blueprint_keyword_argument_is_its_policy() -> None:
    api = Blueprint("api", __name__)
    api.add_url_rule("/x", "x", lambda: "x")
    CORS(api, origins=[FRONTEND], supports_credentials=True)
    app = Flask(__name__)
    app.config["CORS_ORIGINS"] = ["https://other.example"]
    app.register_blueprint(api)
    response = app.test_client().get("/x", headers={"Origin": FRONTEND})
    assert response.headers["Access-Control-Allow-Credentials"] == "true"


def test_cors_resources_of_the_app_never_reach_a_blueprint() -> None:
    admin = Blueprint("admin", __name__, url_prefix="/admin")

    @admin.route("/users")
    def users() -> str:
        return "users"

    @admin.route("/api/stats")
    def stats() -> str:
        return "stats"

    CORS(admin, origins=["https://admin.example"])
    app = Flask(__name__)
    # An app-wide table that grants everything on /*, or that covers only /api/*.
    for resources in ({"/*": {"origins": "*"}}, {"/api/*": {}}):
        app = Flask(__name__)
        app.config["CORS_RESOURCES"] = resources
        app.register_blueprint(admin)
        client = app.test_client()
        evil = client.get("/admin/users", headers={"Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in evil.headers, resources
        for path in ("/admin/users", "/admin/api/stats"):  # the blueprint's scope is /*
            granted = client.get(path, headers={"Origin": "https://admin.example"})
            assert granted.headers["Access-Control-Allow-Origin"] == "https://admin.example"


def test_init_app_on_a_blueprint() -> None:
    cors = CORS()
    api = Blueprint("api", __name__)

    @api.route("/x")
    def x() -> str:
        return "x"

    cors.init_app(api, origins=[FRONTEND])
    app = Flask(__name__)
    app.register_blueprint(api)
    assert app.test_client().get("/x", headers={"Origin": FRONTEND}).headers[
        "Access-Control-Allow-Origin"] == FRONTEND
