"""The causes behind each Chromium console message that docs/troubleshooting.rst quotes.

One case per quoted message: a small app whose route produces that cause, and the
request a page sends. tests/browser/test_troubleshooting.py runs each in Chromium and
checks that the console says exactly the quoted text; tests/test_docs_claims.py checks
that the page quotes no message without a case here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from flask import Flask, Response, jsonify, request

from flask_crossorigin import CORS, cross_origin


@dataclass(frozen=True)
class Case:
    """A quoted message, the path of the trouble app that causes it, and the fetch options."""

    message: str
    path: str
    init: dict[str, Any] = field(default_factory=dict)
    #: What the page says causes it, in a few words (the test's id).
    cause: str = ""
    #: Which app serves it: "main" (CORS(app)) or "decorators" (no CORS(app), an auth hook).
    server: str = "main"


PREFLIGHT = "Response to preflight request doesn't pass access control check: "
NO_ALLOW_ORIGIN = "No 'Access-Control-Allow-Origin' header is present on the requested resource."

CASES = [
    Case(NO_ALLOW_ORIGIN, "/listed/elsewhere", cause="origin not listed"),
    Case(NO_ALLOW_ORIGIN, "/uncovered", cause="no policy covers the path"),
    Case("The value of the 'Access-Control-Allow-Origin' header in the response must not be "
         "the wildcard '*' when the request's credentials mode is 'include'.",
         "/public/wildcard", {"credentials": "include"}, cause="credentials to send_wildcard"),
    Case("The value of the 'Access-Control-Allow-Credentials' header in the response is '' "
         "which must be 'true' when the request's credentials mode is 'include'.",
         "/public/echo", {"credentials": "include"}, cause="credentials to the '*' default"),
    Case("The value of the 'Access-Control-Allow-Credentials' header in the response is '' "
         "which must be 'true' when the request's credentials mode is 'include'.",
         "/listed/page", {"credentials": "include"}, cause="listed without credentials"),
    Case("The 'Access-Control-Allow-Origin' header has a value 'https://other.example' that "
         "is not equal to the supplied origin. Have the server send the header with a valid "
         "value.", "/own-origin", cause="view sets the header"),
    Case("The 'Access-Control-Allow-Origin' header contains multiple values '{origin}, *', "
         "but only one is allowed. Have the server send the header with a valid value.",
         "/listed/page?middleware", cause="middleware adds one"),
    Case(PREFLIGHT + NO_ALLOW_ORIGIN, "/listed/page", {"method": "PUT"},
         cause="preflight refused by the extension"),
    Case(PREFLIGHT + NO_ALLOW_ORIGIN, "/decorated", {"headers": {"Authorization": "Bearer x"}},
         cause="auth hook answers the preflight 401", server="decorators"),
    Case(PREFLIGHT + "It does not have HTTP ok status.", "/own-options",
         {"method": "DELETE"}, cause="a 401 preflight answer with CORS headers"),
    Case(PREFLIGHT + "Redirect is not allowed for a preflight request.", "/manual/items",
         {"method": "PUT"}, cause="redirected OPTIONS"),
]

#: Quoted messages that are not CORS errors: the request got no response at all.
NOT_CORS = "TypeError: Failed to fetch"


def create_trouble_app(page_origin: str) -> Flask:
    """An app with one route per cause. ``page_origin`` is the page the tests fetch from."""
    app = Flask(__name__)

    @app.get("/listed/elsewhere")
    def listed_elsewhere() -> Any:
        return jsonify(ok=True)

    @app.get("/listed/page")
    def listed_page() -> Any:
        return jsonify(ok=True)

    @app.get("/uncovered")
    def uncovered() -> Any:
        return jsonify(ok=True)

    @app.get("/public/wildcard")
    def public_wildcard() -> Any:
        return jsonify(ok=True)

    @app.get("/public/echo")
    def public_echo() -> Any:
        return jsonify(ok=True)

    @app.get("/own-origin")
    def own_origin() -> Any:
        response = jsonify(ok=True)
        response.headers["Access-Control-Allow-Origin"] = "https://other.example"
        return response

    @app.route("/own-options", methods=["DELETE", "OPTIONS"])
    def own_options() -> Any:
        # A view that answers OPTIONS itself, refusing it, with CORS headers of its own.
        if request.method == "OPTIONS":
            return Response("unauthorized", 401, {
                "Access-Control-Allow-Origin": page_origin,
                "Access-Control-Allow-Methods": "DELETE",
            })
        return jsonify(ok=True)

    @app.get("/manual/items/")
    @app.put("/manual/items/")
    def manual_items() -> Any:
        return jsonify(ok=True)

    @app.get("/decorated")
    @cross_origin(origins=[page_origin], allow_headers=["Authorization"])
    def decorated() -> Any:
        return jsonify(ok=True)

    CORS(app, resources={
        "/listed/elsewhere": {"origins": ["https://elsewhere.example"]},
        "/listed/page": {"origins": [page_origin], "methods": ["GET"]},
        "/public/wildcard": {"origins": "*", "send_wildcard": True},
        "/public/echo": {},  # origins='*', the default: the origin is echoed
        "/own-origin": {"origins": [page_origin]},
        "/own-options": {"origins": [page_origin]},
        "/manual/*": {"origins": [page_origin], "automatic_options": False},
    })
    return app


def create_trouble_app_without_extension(page_origin: str) -> Flask:
    """Decorator-only, with an authentication hook: the hook sees the preflights first."""
    app = Flask(__name__)

    @app.before_request
    def require_token() -> Any:
        if "Authorization" not in request.headers:
            return jsonify(error="unauthorized"), 401
        return None

    @app.get("/decorated")
    @cross_origin(origins=[page_origin], allow_headers=["Authorization"])
    def decorated() -> Any:
        return jsonify(ok=True)

    return app


def with_second_allow_origin(app: Flask) -> Callable[..., Any]:
    """A WSGI middleware that adds 'Access-Control-Allow-Origin: *' when asked to
    (``?middleware``), as a proxy's ``add_header`` would."""
    inner = app.wsgi_app

    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if "middleware" not in environ.get("QUERY_STRING", ""):
            return inner(environ, start_response)

        def add(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            return start_response(status, [*headers, ("Access-Control-Allow-Origin", "*")],
                                  *rest)

        return inner(environ, add)

    return middleware
