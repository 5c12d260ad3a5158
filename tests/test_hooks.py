"""How the extension sits in Flask's request lifecycle: its before_request and
after_request hooks, the app and request context, WSGI middleware, routing."""

from __future__ import annotations

import logging
import re
from typing import Any

import flask
import pytest
from flask import Blueprint, Flask, abort, current_app, g, jsonify, request
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import BaseConverter, ValidationError
from werkzeug.test import Client

from flask_crossorigin import CORS, cross_origin, request_refused

from .conftest import TRUSTED, preflight

EVIL = "https://evil.example"


def guarded_app(**options: Any) -> Flask:
    """An app whose authentication hook refuses every request without a session."""
    app = Flask(__name__)
    app.config["ALLOWED"] = [TRUSTED]

    @app.before_request
    def login_required() -> Any:
        if "Authorization" not in request.headers:
            abort(401)
        return None

    @app.route("/api/items/<int:item>", methods=["GET", "PUT"])
    def item(item: int) -> Any:
        return jsonify(item=item)

    CORS(app, **options)
    return app


# -- the hooks are Flask's own ---------------------------------------------------------


def test_nothing_wraps_the_wsgi_app() -> None:
    app = Flask(__name__)
    original = app.wsgi_app
    CORS(app)
    assert app.wsgi_app == original
    state = app.extensions["crossorigin"]
    assert app.before_request_funcs[None][0] == state.first_hook
    assert app.after_request_funcs[None][0] == state.add_response_headers  # runs last


class _OtherStore(list):  # type: ignore[type-arg]
    """Stands for a Werkzeug release whose Headers keep their lines otherwise."""


@pytest.mark.parametrize("path", ["/data", "/vary"])
def test_headers_are_the_same_through_werkzeugs_public_api(path: str) -> None:
    def build(public_api: bool) -> Flask:
        app = Flask(__name__)

        @app.route("/data")
        def data() -> str:
            return "data"

        @app.route("/vary")
        def vary() -> Any:
            return "vary", 200, {"Vary": "Accept-Encoding", "Access-Control-Max-Age": "5"}

        CORS(app, origins=[TRUSTED], supports_credentials=True, expose_headers=["X-Total"])
        if public_api:
            @app.after_request
            def other_store(response: Any) -> Any:
                response.headers._list = _OtherStore(response.headers._list)
                return response
        return app

    direct, public = (build(flag).test_client().get(path, headers={"Origin": TRUSTED})
                      for flag in (False, True))
    assert list(public.headers) == list(direct.headers)
    assert public.headers["Access-Control-Allow-Origin"] == TRUSTED
    assert public.headers["Access-Control-Allow-Credentials"] == "true"


def test_the_preflight_hook_is_first_even_when_hooks_came_before() -> None:
    app = Flask(__name__)
    seen: list[str] = []

    @app.before_request
    def earlier() -> None:
        seen.append(request.method)

    @app.route("/data", methods=["GET", "PUT"])
    def data() -> str:
        return "data"

    CORS(app, origins=[TRUSTED])
    response = app.test_client().options("/data", headers=preflight())
    assert response.status_code == 204
    assert seen == []  # answered before the hook that was registered first


def test_preflights_are_answered_before_the_authentication_hook() -> None:
    client = guarded_app(origins=[TRUSTED]).test_client()
    response = client.options("/api/items/1", headers=preflight())
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == TRUSTED
    refused = client.get("/api/items/1", headers={"Origin": TRUSTED})
    assert refused.status_code == 401  # the hook still guards the real request...
    assert refused.headers["Access-Control-Allow-Origin"] == TRUSTED  # ...readably


def test_after_request_hooks_and_signals_see_the_preflight_answer() -> None:
    app = Flask(__name__)
    events: list[str] = []

    @app.route("/data", methods=["GET", "PUT"])
    def data() -> str:
        return "data"

    CORS(app, origins=[TRUSTED])

    @app.after_request
    def security_headers(response: Any) -> Any:
        events.append(f"after {response.status_code}")
        response.headers["X-Frame-Options"] = "DENY"
        return response

    @app.teardown_request
    def teardown(error: Any) -> None:
        events.append("teardown")

    def started(sender: Flask, **extra: Any) -> None:
        events.append("started")

    def finished(sender: Flask, response: Any, **extra: Any) -> None:
        events.append(f"finished {response.status_code}")

    with flask.request_started.connected_to(started, app), \
            flask.request_finished.connected_to(finished, app):
        response = app.test_client().options("/data", headers=preflight())
    assert response.status_code == 204
    assert response.headers["X-Frame-Options"] == "DENY"
    assert events == ["started", "after 204", "finished 204", "teardown"]


# -- user code on preflights runs inside the app context ---------------------------------


def test_an_origins_callable_can_use_the_app_context_on_preflights() -> None:
    def allowed(origin: str) -> bool:
        return origin in current_app.config["ALLOWED"]  # a tenant table, say

    client = guarded_app(origins=allowed).test_client()
    assert client.options("/api/items/1", headers=preflight()).status_code == 204
    assert client.options("/api/items/1", headers=preflight(origin=EVIL)).status_code == 403
    granted = client.get("/api/items/1", headers={"Origin": TRUSTED, "Authorization": "x"})
    assert granted.headers["Access-Control-Allow-Origin"] == TRUSTED


def test_a_converter_using_the_app_can_route_preflights() -> None:
    class Tenant(BaseConverter):
        def to_python(self, value: str) -> str:
            if value not in current_app.config["TENANTS"]:
                raise ValidationError()
            return value

    app = Flask(__name__)
    app.config["TENANTS"] = {"acme"}
    app.url_map.converters["tenant"] = Tenant

    @app.route("/t/<tenant:name>/data", methods=["GET", "PUT"])
    def data(name: str) -> str:
        return name

    CORS(app, origins=[TRUSTED])
    response = app.test_client().options("/t/acme/data", headers=preflight())
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == TRUSTED


def test_a_refusal_receiver_can_use_the_app_context() -> None:
    app = guarded_app(origins=[TRUSTED])
    names: list[str] = []

    def receiver(sender: Flask, **details: Any) -> None:
        names.append(current_app.name + " " + details["code"])
        g.refused = True

    with request_refused.connected_to(receiver, app):
        response = app.test_client().options("/api/items/1", headers=preflight(origin=EVIL))
    assert response.status_code == 403
    assert names == [f"{app.name} origin-not-allowed"]


# -- WSGI middleware runs first, whatever the order of set-up ---------------------------------


def subdomain_app(proxy_first: bool) -> Flask:
    app = Flask(__name__)
    app.config["SERVER_NAME"] = "example.test"
    if proxy_first:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_host=1)  # type: ignore[method-assign]
    api = Blueprint("api", __name__, subdomain="api")

    @api.route("/data", methods=["GET", "PUT"])
    def data() -> str:
        return "data"

    @app.before_request
    def login_required() -> None:
        abort(401)

    app.register_blueprint(api)
    CORS(app, origins=[TRUSTED])
    if not proxy_first:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_host=1)  # type: ignore[method-assign]
    return app


@pytest.mark.parametrize("proxy_first", [True, False])
def test_proxy_fix_before_or_after_the_extension(proxy_first: bool) -> None:
    client = subdomain_app(proxy_first).test_client()
    headers = {**preflight(), "X-Forwarded-Host": "api.example.test"}
    response = client.options("/data", headers=headers, base_url="http://internal:8000")
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == TRUSTED
    assert response.headers["Access-Control-Allow-Methods"].startswith("GET")


def mounted() -> tuple[Flask, Flask, Any]:
    outer = Flask("outer")
    inner = Flask("inner")

    @outer.route("/status")
    def status() -> str:
        return "outer"

    @inner.route("/widget", methods=["GET", "PUT"])
    @cross_origin(origins=["https://partner.example"])
    def widget() -> str:
        return "widget"

    CORS(outer, origins=[TRUSTED])
    combined = DispatcherMiddleware(outer.wsgi_app, {"/inner": inner.wsgi_app})
    return outer, inner, combined


def test_a_mounted_apps_decorator_policy_is_kept() -> None:
    _, _, combined = mounted()
    client = Client(combined)
    partner = "https://partner.example"
    answer = client.options("/inner/widget", headers=preflight(origin=partner))
    assert answer.status_code == 204  # the inner app's decorator answers it
    assert answer.headers["Access-Control-Allow-Origin"] == partner
    refused = client.options("/inner/widget", headers=preflight(origin=TRUSTED))
    assert "Access-Control-Allow-Origin" not in refused.headers  # the outer policy is not used
    response = client.get("/inner/widget", headers={"Origin": partner})
    assert response.headers.getlist("Access-Control-Allow-Origin") == [partner]
    outer = client.get("/status", headers={"Origin": TRUSTED})
    assert outer.headers["Access-Control-Allow-Origin"] == TRUSTED


def test_a_mounted_app_judges_preflight_and_response_on_the_same_path() -> None:
    outer = Flask("outer")
    inner = Flask("inner")
    paths: list[str] = []

    @inner.route("/api/data", methods=["GET", "PUT"])
    def data() -> str:
        paths.append(request.path)
        return "data"

    CORS(inner, resources={"/api/*": {"origins": [TRUSTED]}})
    client = Client(DispatcherMiddleware(outer.wsgi_app, {"/inner": inner.wsgi_app}))
    answer = client.options("/inner/api/data", headers=preflight())
    assert answer.status_code == 204
    response = client.put("/inner/api/data", headers={"Origin": TRUSTED})
    assert response.headers["Access-Control-Allow-Origin"] == TRUSTED
    assert paths == ["/api/data"]


# -- routing and Flask's own refusals ----------------------------------------------------


@pytest.mark.skipif(
    "TRUSTED_HOSTS" not in Flask.default_config, reason="TRUSTED_HOSTS is new in Flask 3.1"
)
def test_an_untrusted_host_is_refused_for_preflights_too() -> None:
    app = Flask(__name__)
    app.config["TRUSTED_HOSTS"] = ["api.example"]

    @app.route("/data", methods=["GET", "PUT"])
    def data() -> str:
        return "data"

    CORS(app, origins=[TRUSTED])
    client = app.test_client()
    assert client.get("/data", base_url="http://evil.test").status_code == 400
    answer = client.options("/data", headers=preflight(), base_url="http://evil.test")
    assert answer.status_code == 400
    good = client.options("/data", headers=preflight(), base_url="http://api.example")
    assert good.status_code == 204


def test_a_rule_without_automatic_options_still_gets_its_preflight_answered() -> None:
    app = Flask(__name__)

    @app.route("/data", methods=["PUT"], provide_automatic_options=False)
    def data() -> str:
        return "data"

    CORS(app, origins=[TRUSTED])
    response = app.test_client().options("/data", headers=preflight())
    assert response.status_code == 204  # not Flask's 405 for OPTIONS
    assert response.headers["Access-Control-Allow-Origin"] == TRUSTED
    plain = app.test_client().options("/data", headers={"Origin": TRUSTED})
    assert plain.status_code == 405  # a plain OPTIONS is the app's business


def s3_like_app() -> Flask:
    """A view that answers OPTIONS itself, with per-bucket CORS rules."""
    app = Flask(__name__)
    rules = {"public": "*", "private": "https://owner.example"}

    @app.route("/<bucket>/<key>", methods=["GET", "PUT", "OPTIONS"])
    def obj(bucket: str, key: str) -> Any:
        if request.method != "OPTIONS":
            return "object"
        allowed = rules.get(bucket)
        origin = request.headers.get("Origin")
        if allowed not in ("*", origin):
            return "refused by the bucket's rules", 403
        return "", 200, {"Access-Control-Allow-Origin": allowed or "",
                         "Access-Control-Allow-Methods": "GET, PUT"}

    CORS(app)
    return app


def test_a_view_that_handles_options_answers_its_own_preflights() -> None:
    client = s3_like_app().test_client()
    refused = client.options("/private/a.txt", headers=preflight(origin=EVIL))
    assert refused.status_code == 403
    assert not [name for name, _ in refused.headers if name.startswith("Access-Control")]
    own = client.options("/private/a.txt", headers=preflight(origin="https://owner.example"))
    assert own.status_code == 200
    assert own.headers.getlist("Access-Control-Allow-Origin") == ["https://owner.example"]
    assert own.headers.getlist("Access-Control-Allow-Methods") == ["GET, PUT"]


def test_a_preflight_follows_a_slash_redirect_whatever_the_policy_source() -> None:
    app = Flask(__name__)
    shop = Blueprint("shop", __name__, url_prefix="/shop")

    @shop.route("/cart/", methods=["GET", "PUT"])
    def cart() -> str:
        return "cart"

    @app.route("/widget/", methods=["GET", "PUT"])
    @cross_origin(origins=[TRUSTED])
    def widget() -> str:
        return "widget"

    @app.route("/plain/", methods=["GET", "PUT"])
    def plain() -> str:
        return "plain"

    CORS(shop, origins=[TRUSTED])
    app.register_blueprint(shop)
    CORS(app, resources={"/plain/*": {"origins": [TRUSTED]}})
    client = app.test_client()
    for path in ("/shop/cart", "/widget", "/plain"):
        answer = client.options(path, headers=preflight())
        assert answer.status_code == 204, path
        assert answer.headers["Access-Control-Allow-Origin"] == TRUSTED, path
        redirect = client.put(path, headers={"Origin": TRUSTED})
        assert redirect.status_code == 308, path
        assert redirect.headers["Access-Control-Allow-Origin"] == TRUSTED, path


# -- the same URL, different policies per method ----------------------------------------------


def test_a_blueprint_policy_applies_to_the_method_its_rule_serves() -> None:
    app = Flask(__name__)
    admin = Blueprint("admin", __name__)

    @app.route("/item", methods=["GET"])
    def read() -> str:
        return "read"

    @admin.route("/item", methods=["PUT"])
    def write() -> str:
        return "write"

    CORS(admin, origins=["https://admin.example"])
    app.register_blueprint(admin)
    CORS(app, origins="*")
    client = app.test_client()
    evil_put = client.options("/item", headers=preflight(origin=EVIL, method="PUT"))
    assert evil_put.status_code == 403
    assert "Access-Control-Allow-Origin" not in evil_put.headers
    admin_put = client.options("/item", headers=preflight(origin="https://admin.example"))
    assert admin_put.headers["Access-Control-Allow-Origin"] == "https://admin.example"
    evil_get = client.options("/item", headers=preflight(origin=EVIL, method="GET"))
    assert evil_get.status_code == 204


# -- errors ----------------------------------------------------------------------------


def test_error_responses_carry_headers() -> None:
    app = Flask(__name__)

    @app.route("/abort")
    def aborted() -> Any:
        abort(418)

    @app.route("/boom")
    def boom() -> Any:
        raise RuntimeError("boom")

    CORS(app, origins=[TRUSTED])
    client = app.test_client()
    for method, path, status in (("GET", "/abort", 418), ("GET", "/nowhere", 404),
                                 ("POST", "/abort", 405), ("GET", "/boom", 500)):
        response = client.open(path, method=method, headers={"Origin": TRUSTED})
        assert response.status_code == status
        assert response.headers["Access-Control-Allow-Origin"] == TRUSTED, path


def test_a_configuration_error_found_late_is_a_500_response(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = Flask(__name__)
    CORS(app)

    @app.route("/late")  # registered after CORS(app), compiled on its first request
    @cross_origin(supports_credentials=True)  # with the default origins '*': refused
    def late() -> str:
        return "late"

    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/late", headers={"Origin": TRUSTED})
    assert response.status_code == 500
    assert "supports_credentials" in caplog.text


@pytest.mark.parametrize("pattern", [
    "/api/items/",                      # exact
    "/api/*/",                          # glob
    r"/api/ite[m]s/",                   # regex
    re.compile(r"/api/items/"),
    "/api/items/*",                     # prefix (matches /api/items too)
])
@pytest.mark.parametrize("script_name", ["", "/mount"])
@pytest.mark.parametrize("sent", ["/api/items", "/api//items"])  # a slash added, or merged
def test_a_slash_redirect_is_judged_by_its_targets_resource_pattern(
    pattern: Any, script_name: str, sent: str
) -> None:
    app = Flask(__name__)

    @app.route("/api/items/", methods=["GET", "POST"])
    def items() -> str:
        return "items"

    CORS(app, resources={pattern: {"origins": [TRUSTED], "supports_credentials": True},
                         "/elsewhere": {}})
    client = app.test_client()
    environ = {"SCRIPT_NAME": script_name}
    answer = client.options(sent, headers=preflight(method="POST"), environ_base=environ)
    assert answer.status_code == 204, answer.status
    assert answer.headers["Access-Control-Allow-Origin"] == TRUSTED
    assert answer.headers["Access-Control-Allow-Credentials"] == "true"
    refused = client.options(sent, headers=preflight("https://evil.example", method="POST"),
                             environ_base=environ)
    assert refused.status_code == 403
    redirect = client.post(sent, headers={"Origin": TRUSTED}, environ_base=environ)
    assert redirect.status_code == 308
    assert redirect.headers["Access-Control-Allow-Origin"] == TRUSTED
    assert redirect.headers["Access-Control-Allow-Credentials"] == "true"
