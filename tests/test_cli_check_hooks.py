"""``flask cors check`` reports what the request hooks decided, never a model of them.

Every row sends a request with ``check`` and, independently, the same request
with the test client as a browser would (preflight first when one is needed),
and compares: the policy ``check`` names is the one the row expects, and its
verdict is what the real response says. Rows cover the requested methods of one
URL served by two views, every source of a policy (decorator, blueprint, app
resources, none), slash redirects, and apps with and without ``CORS(app)``.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Blueprint, Flask

from flask_crossorigin import CORS, cross_origin
from flask_crossorigin.cli import check_request

from .conftest import TRUSTED
from .test_cli import run

OTHER = "https://other.example"
EVIL = "https://evil.example"


def docs_app(with_extension: bool) -> Flask:
    """One URL, two views: read_doc (GET) and write_doc (PUT), each with its own decorator;
    a decorated folder reached through a slash redirect; a blueprint; app resources."""
    app = Flask(__name__)

    @app.get("/doc")
    @cross_origin(origins=[TRUSTED], report_only={"origins": [EVIL]})
    def read_doc() -> Any:
        return "doc"

    @app.put("/doc")
    @cross_origin(origins=[OTHER], methods=["PUT"])
    def write_doc() -> Any:
        return "written"

    @app.route("/folder/", methods=["GET", "DELETE"])
    @cross_origin(origins=[OTHER])
    def folder() -> Any:
        return "folder"

    @app.route("/api/thing", methods=["GET", "PATCH"])
    def thing() -> Any:
        return "thing"

    @app.route("/api/dir/", methods=["GET", "PATCH"])
    def api_dir() -> Any:
        return "dir"

    @app.get("/plain")
    def plain() -> Any:
        return "plain"

    shop = Blueprint("shop", __name__, url_prefix="/shop")

    @shop.route("/cart", methods=["GET", "DELETE"])
    def cart() -> Any:
        return "cart"

    if with_extension:
        CORS(shop, origins=["https://shop.example"])
    app.register_blueprint(shop)
    if with_extension:
        CORS(app, resources={r"/api/*": {"origins": [TRUSTED]}})
    return app


READ = "@cross_origin on read_doc"
WRITE = "@cross_origin on write_doc"
FOLDER = "@cross_origin on folder"
API = "resources['/api/*']"
SHOP = "blueprint 'shop' resources['/*']"

# (path, method, origin, header, the policy check must name with CORS(app), without it)
ROWS: list[tuple[str, str, str, str | None, str | None, str | None]] = [
    ("/doc", "GET", TRUSTED, None, READ, READ),
    ("/doc", "GET", OTHER, None, READ, READ),
    ("/doc", "PUT", OTHER, None, WRITE, WRITE),
    ("/doc", "PUT", TRUSTED, None, WRITE, WRITE),
    ("/doc", "GET", TRUSTED, "X-Token", READ, READ),
    ("/doc", "DELETE", OTHER, None, READ, READ),  # no view for DELETE: OPTIONS's rule decides
    ("/folder/", "DELETE", OTHER, None, FOLDER, FOLDER),
    ("/folder", "GET", OTHER, None, FOLDER, None),  # redirect: only the hooks see it
    ("/folder", "DELETE", OTHER, None, FOLDER, None),
    ("/api/thing", "PATCH", TRUSTED, None, API, None),
    ("/api/thing", "GET", EVIL, None, API, None),
    ("/api/dir", "GET", TRUSTED, None, API, None),
    ("/api/dir", "PATCH", TRUSTED, None, API, None),
    ("/shop/cart", "DELETE", "https://shop.example", None, SHOP, None),
    ("/shop/cart", "GET", EVIL, None, SHOP, None),
    ("/plain", "GET", TRUSTED, None, None, None),
    ("/plain", "PUT", TRUSTED, None, None, None),
]


def browser_allows(app: Flask, path: str, method: str, origin: str, header: str | None) -> bool:
    """What a browser makes of it, from the responses alone (not from the extension)."""
    client = app.test_client()
    sent = {"Origin": origin}
    if header is not None:
        sent[header] = "x"
    if method not in ("GET", "HEAD", "POST") or header is not None:
        asked = {"Origin": origin, "Access-Control-Request-Method": method}
        if header is not None:
            asked["Access-Control-Request-Headers"] = header.lower()
        answer = client.options(path, headers=asked)
        if not 200 <= answer.status_code < 300:
            return False
        if answer.headers.get("Access-Control-Allow-Origin") != origin:
            return False
        allowed = [m.strip() for m in answer.headers.get("Access-Control-Allow-Methods", "")
                   .split(",")]
        if method not in allowed and method not in ("GET", "HEAD", "POST"):
            return False
    response = client.open(path, method=method, headers=sent)
    return response.headers.get("Access-Control-Allow-Origin") in (origin, "*")


@pytest.mark.parametrize("with_extension", [True, False], ids=["CORS(app)", "decorators"])
@pytest.mark.parametrize(("path", "method", "origin", "header", "hooked", "alone"), ROWS)
def test_check_names_the_policy_the_hooks_applied(
    with_extension: bool, path: str, method: str, origin: str, header: str | None,
    hooked: str | None, alone: str | None,
) -> None:
    app = docs_app(with_extension)
    result = check_request(app, path, origin, method, [header] if header else [], send=True)
    expected = hooked if with_extension else alone
    assert result.policy == expected, result
    assert result.allowed == browser_allows(app, path, method, origin, header), result
    # A report-only line only where the deciding policy has a report-only policy.
    deciders = {exchange.policy for exchange in result.exchanges}
    assert (result.report_only is not None) == (READ in deciders), result


def test_put_is_judged_by_write_docs_policy() -> None:
    """The issue's example: the preflight of PUT /doc is write_doc's, not read_doc's."""
    app = docs_app(True)
    result = run(app, "check", "/doc", "--method", "PUT", "--origin", OTHER)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"allowed: {WRITE} allows the origin '{OTHER}' to send 'PUT'"
    assert lines[1] == f"policy: {WRITE}"
    assert not any(line.startswith("report-only") for line in lines), result.output


def test_a_redirected_decorated_view_shows_its_policy() -> None:
    app = docs_app(True)
    result = run(app, "check", "/folder", "--origin", OTHER)
    assert f"policy: {FOLDER}" in result.output.splitlines(), result.output
    assert "the view's own headers" not in result.output


def test_without_the_extension_a_redirect_says_why_nothing_was_added() -> None:
    app = docs_app(False)
    result = check_request(app, "/folder", OTHER)
    assert not result.allowed
    assert result.policy is None
    assert FOLDER in result.reason and "CORS(app, resources={})" in result.reason, result.reason


def test_a_view_not_run_is_judged_by_the_hooks_too() -> None:
    """Without --send, a PUT is not run; the decision still comes from the hook."""
    app = docs_app(True)
    result = check_request(app, "/doc", OTHER, "PUT")
    assert result.allowed, result
    assert [e.view_run for e in result.exchanges] == [True, False]
    assert [e.policy for e in result.exchanges] == [WRITE, WRITE]


@pytest.mark.parametrize("with_extension", [True, False], ids=["CORS(app)", "decorators"])
@pytest.mark.parametrize(("path", "method", "origin", "header", "hooked", "alone"), [
    row for row in ROWS if row[1] not in ("GET", "HEAD", "POST") or row[3] is not None
])
def test_a_preflight_alone_names_the_policy_of_the_requested_method(
    with_extension: bool, path: str, method: str, origin: str, header: str | None,
    hooked: str | None, alone: str | None,
) -> None:
    app = docs_app(with_extension)
    result = check_request(app, path, origin, method, [header] if header else [],
                           preflight=True)
    [exchange] = result.exchanges
    # Without CORS(app), a redirected preflight reaches no view: nothing decides it.
    expected = hooked if with_extension else (alone if path != "/folder" else None)
    assert exchange.policy == expected, result
    assert (result.report_only is not None) == (exchange.policy == READ), result


def test_a_response_a_wsgi_middleware_gave_by_itself() -> None:
    """No request reached Flask, so no hook decided: blocked, and no policy named."""
    app = docs_app(True)
    inner = app.wsgi_app

    def health(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"] == "/health":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        return inner(environ, start_response)

    app.wsgi_app = health  # type: ignore[method-assign]
    result = check_request(app, "/health", TRUSTED)
    assert not result.allowed and result.policy is None
    assert result.exchanges[0].status == "200 OK"
    assert check_request(app, "/doc", TRUSTED).allowed  # other paths go through the hooks
