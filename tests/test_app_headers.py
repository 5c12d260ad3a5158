"""Whatever CORS headers the app sets itself, the response never leaks credentials,
carries each CORS header once, and never becomes a 500 (issue 16).

The table crosses policies, the places where an app's own code sets headers (its
views, ``make_response``, hooks registered before and after ``CORS(app)``,
blueprint hooks, ``after_this_request``), the headers it sets (the widely copied
snippets, case variants, duplicates), the paths (200, 401, 404, a slash redirect)
and the requests (actual, preflight; a listed and an unlisted origin), and checks
the invariants on every response.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from flask import Blueprint, Flask, abort, after_this_request, jsonify, make_response
from hypothesis import given, settings
from hypothesis import strategies as st

from flask_crossorigin import CORS

from .conftest import TRUSTED, preflight

EVIL = "https://evil.example"

POLICIES: dict[str, dict[str, Any]] = {
    "any origin": {},
    "any origin, send_wildcard": {"send_wildcard": True},
    "listed": {"origins": [TRUSTED]},
    "listed, credentials": {"origins": [TRUSTED], "supports_credentials": True},
    "regex, credentials": {"origins": [r"https://trusted\.example"],
                           "supports_credentials": True},
}

# What the app's own code sets: (name, value) lines; "{origin}" echoes the request's.
SNIPPETS: dict[str, list[tuple[str, str]]] = {
    "credentials": [("Access-Control-Allow-Credentials", "true")],
    "credentials, lower-case name": [("access-control-allow-credentials", "true")],
    "credentials, odd case": [("ACCESS-CONTROL-ALLOW-CREDENTIALS", " True ")],
    "credentials twice": [("Access-Control-Allow-Credentials", "true"),
                          ("access-control-allow-credentials", "true")],
    "echo and credentials": [("Access-Control-Allow-Origin", "{origin}"),
                             ("Access-Control-Allow-Credentials", "true")],
    "the snippet": [("Access-Control-Allow-Origin", "*"),
                    ("Access-Control-Allow-Headers", "Content-Type,Authorization"),
                    ("Access-Control-Allow-Methods", "GET,PUT,POST,DELETE,OPTIONS"),
                    ("Access-Control-Allow-Credentials", "true")],
    "origin twice": [("Access-Control-Allow-Origin", "{origin}"),
                     ("access-control-allow-origin", "{origin}")],
    "fixed foreign origin with credentials": [
        ("Access-Control-Allow-Origin", "https://partner.example"),
        ("Access-Control-Allow-Credentials", "true")],
    "vary and max-age": [("Vary", "Accept-Encoding"), ("Access-Control-Max-Age", "5")],
}

PLACES = ["view", "make_response", "hook before CORS", "hook after CORS", "blueprint hook",
          "after_this_request"]


def build(policy: str, snippet: str, place: str) -> Flask:
    app = Flask(__name__)
    lines = SNIPPETS[snippet]

    def set_headers(response: Any) -> Any:
        from flask import request

        origin = request.headers.get("Origin", "")
        for name, value in lines:
            response.headers.add(name, value.replace("{origin}", origin))
        return response

    bp = Blueprint("api", __name__)

    def view() -> Any:
        if place == "view":
            return jsonify(ok=True), 200, [
                (name, value.replace("{origin}", _origin())) for name, value in lines]
        if place == "make_response":
            return set_headers(make_response(jsonify(ok=True)))
        if place == "after_this_request":
            after_this_request(set_headers)
        return jsonify(ok=True)

    bp.add_url_rule("/data", "data", view, methods=["GET", "PUT"])
    bp.add_url_rule("/dir/", "dir", view)

    @bp.route("/private")
    def private() -> Any:
        if place == "after_this_request":
            after_this_request(set_headers)
        abort(401)

    if place == "blueprint hook":
        bp.after_request(set_headers)
    if place == "hook before CORS":
        app.after_request(set_headers)
    app.register_blueprint(bp, url_prefix="/api")
    CORS(app, **POLICIES[policy])
    if place == "hook after CORS":
        app.after_request(set_headers)
    return app


def _origin() -> str:
    from flask import request

    return request.headers.get("Origin", "")


def cors_lines(response: Any) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in response.headers.items():
        if name.lower().startswith("access-control-") or name.lower() == "vary":
            found.setdefault(name.lower(), []).append(value)
    return found


def lists(policy: str, origin: str) -> bool:
    return policy != "any origin" and policy != "any origin, send_wildcard" and (
        origin == TRUSTED)


@pytest.mark.parametrize(("policy", "snippet", "place"),
                         list(itertools.product(POLICIES, SNIPPETS, PLACES)))
def test_the_response_as_a_whole_never_leaks_and_repeats_nothing(
    policy: str, snippet: str, place: str
) -> None:
    client = build(policy, snippet, place).test_client()
    requests: list[tuple[str, str, dict[str, str]]] = []
    for origin in (TRUSTED, EVIL):
        for path in ("/api/data", "/api/private", "/api/missing", "/api/dir"):
            requests.append(("GET", path, {"Origin": origin}))
        requests.append(("OPTIONS", "/api/data", preflight(origin, "PUT", "x-token")))
        requests.append(("OPTIONS", "/api/dir", preflight(origin, "GET")))
    requests.append(("GET", "/api/data", {}))
    for method, path, headers in requests:
        response = client.open(path, method=method, headers=headers)
        where = f"{method} {path} {headers.get('Origin')}"
        assert response.status_code < 500, where
        found = cors_lines(response)
        for name, values in found.items():
            assert len(values) == 1, f"{where}: {name} {values}"
        allow_origin = found.get("access-control-allow-origin", [None])[0]
        credentials = found.get("access-control-allow-credentials", [""])[0]
        if credentials.strip().lower() == "true" and allow_origin not in (None, "*"):
            # Credentials only ever beside an origin the policy lists explicitly.
            assert lists(policy, allow_origin), f"{where}: {allow_origin} with credentials"


@pytest.mark.parametrize("place", PLACES)
def test_a_listed_origin_keeps_its_credentialed_grant(place: str) -> None:
    # The guard never takes away what the policy grants.
    client = build("listed, credentials", "credentials", place).test_client()
    response = client.get("/api/data", headers={"Origin": TRUSTED})
    assert response.headers["Access-Control-Allow-Origin"] == TRUSTED
    assert response.headers.getlist("Access-Control-Allow-Credentials") == ["true"]
    answer = client.options("/api/data", headers=preflight(TRUSTED, "PUT", "x-token"))
    assert answer.status_code == 204
    assert answer.headers.getlist("Access-Control-Allow-Origin") == [TRUSTED]
    assert answer.headers.getlist("Access-Control-Allow-Credentials") == ["true"]


@pytest.mark.parametrize("place", ["view", "hook before CORS", "hook after CORS"])
def test_app_credentials_beside_an_any_origin_policy_answer_a_wildcard(
    place: str, caplog: pytest.LogCaptureFixture
) -> None:
    # The widely copied snippet beside CORS(app): '*' instead of the echoed origin, so
    # browsers refuse credentialed requests and still serve the others; said in the log.
    client = build("any origin", "credentials", place).test_client()
    with caplog.at_level("DEBUG", logger="flask_crossorigin"):
        response = client.get("/api/data", headers={"Origin": EVIL})
        answer = client.options("/api/data", headers=preflight(EVIL, "PUT"))
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert answer.status_code == 204
    if place != "view":  # a view never sees the preflight the extension answers
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
        assert answer.headers["Access-Control-Allow-Credentials"] == "true"
    assert "withheld credentials" in caplog.text
    assert "list it in origins and set supports_credentials=True" in caplog.text


def test_an_app_echo_with_credentials_under_a_listed_policy_is_no_grant() -> None:
    client = build("listed", "echo and credentials", "hook after CORS").test_client()
    response = client.get("/api/data", headers={"Origin": EVIL})
    assert "Access-Control-Allow-Origin" not in response.headers
    granted = client.get("/api/data", headers={"Origin": TRUSTED})
    assert granted.headers["Access-Control-Allow-Origin"] == TRUSTED


def test_the_withheld_credentials_warn_once_per_policy_then_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from flask_crossorigin import response_headers

    response_headers._warned.clear()
    client = build("any origin", "credentials", "view").test_client()
    with caplog.at_level("DEBUG", logger="flask_crossorigin"):
        for _ in range(3):
            client.get("/api/data", headers={"Origin": EVIL})
    levels = [r.levelname for r in caplog.records if "withheld" in r.getMessage()]
    assert levels == ["WARNING", "DEBUG", "DEBUG"]


def test_hooks_adding_cors_headers_to_the_preflight_answer_leave_one_of_each() -> None:
    app = Flask(__name__)

    @app.route("/x", methods=["PUT"])
    def x() -> str:
        return "x"

    CORS(app, origins=[TRUSTED], supports_credentials=True)

    @app.after_request
    def add(response: Any) -> Any:
        response.headers.add("Access-Control-Allow-Credentials", "true")
        response.headers.add("Access-Control-Allow-Origin", TRUSTED)
        response.headers.add("Vary", "Accept-Encoding")
        return response

    answer = app.test_client().options("/x", headers=preflight(TRUSTED, "PUT"))
    assert answer.status_code == 204
    assert answer.headers.getlist("Access-Control-Allow-Origin") == [TRUSTED]
    assert answer.headers.getlist("Access-Control-Allow-Credentials") == ["true"]
    assert len(answer.headers.getlist("Vary")) == 1
    assert "Accept-Encoding" in answer.headers["Vary"]
    assert "Access-Control-Request-Method" in answer.headers["Vary"]


# -- never a 500 --------------------------------------------------------------------


def _dict_headers_app(headers: Callable[[], Any], **options: Any) -> Flask:
    app = Flask(__name__)

    @app.route("/geo")
    def geo() -> Any:
        response = make_response('{"type": "FeatureCollection"}')
        response.headers = headers()  # as a real geospatial API server does
        return response

    CORS(app, **options)
    return app


@pytest.mark.parametrize("kind", ["dict", "dict with CORS headers", "mapping proxy",
                                  "list of pairs"])
@pytest.mark.parametrize("options", [{}, {"origins": [TRUSTED], "supports_credentials": True}])
def test_headers_replaced_by_any_mapping_are_served(kind: str, options: dict[str, Any]) -> None:
    import types

    def headers() -> Any:
        base = {"Content-Type": "application/geo+json"}
        if kind == "dict with CORS headers":
            base.update({"Access-Control-Allow-Credentials": "true",
                         "access-control-allow-origin": "*", "Access-Control-Allow-Origin": "*"})
        if kind == "mapping proxy":
            return types.MappingProxyType(base)
        if kind == "list of pairs":
            return list(base.items())
        return base

    client = _dict_headers_app(headers, **options).test_client()
    same_origin = client.get("/geo")
    assert same_origin.status_code == 200
    assert same_origin.headers["Content-Type"] == "application/geo+json"
    cross = client.get("/geo", headers={"Origin": TRUSTED})
    assert cross.status_code == 200
    assert len(cross.headers.getlist("Access-Control-Allow-Origin")) == 1
    if kind != "dict with CORS headers":
        assert cross.headers["Access-Control-Allow-Origin"] == TRUSTED


def test_a_header_with_an_empty_name_is_served() -> None:
    app = Flask(__name__)

    @app.route("/odd")
    def odd() -> Any:
        response = make_response("odd")
        response.headers._list.append(("", "value"))  # type: ignore[attr-defined]
        return response

    CORS(app)
    client = app.test_client()
    for headers in ({}, {"Origin": TRUSTED}):
        response = client.get("/odd", headers=headers)
        assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == TRUSTED


def test_a_hook_that_replaces_the_vary_of_the_preflight_answer_gets_it_merged() -> None:
    app = Flask(__name__)

    @app.route("/x", methods=["PUT"])
    def x() -> str:
        return "x"

    CORS(app, origins=[TRUSTED])

    @app.after_request
    def replace(response: Any) -> Any:
        response.headers["Vary"] = "Cookie"
        return response

    answer = app.test_client().options("/x", headers=preflight(TRUSTED, "PUT"))
    assert answer.headers.getlist("Vary") == [
        "Cookie, Origin, Access-Control-Request-Method, Access-Control-Request-Headers"]


# -- the property: whatever lines the app adds, wherever ------------------------------------

NAMES = ["Access-Control-Allow-Origin", "access-control-allow-origin",
         "ACCESS-CONTROL-ALLOW-CREDENTIALS", "Access-Control-Allow-Credentials",
         "Access-Control-Allow-Methods", "Access-Control-Expose-Headers", "Vary", "X-Other"]
VALUES = ["true", " true", "True", "false", "*", TRUSTED, EVIL, "null", "https://partner.example",
          f"{TRUSTED}, {EVIL}", ""]


def _property_app(policy: str) -> Flask:
    import json

    from flask import request

    app = Flask(__name__)

    def apply(response: Any, key: str) -> Any:
        for name, value in json.loads(request.headers.get(key, "[]")):
            response.headers.add(name, value)
        return response

    @app.route("/p", methods=["GET", "PUT"])
    def p() -> Any:
        return apply(make_response("p"), "X-View-Lines")

    app.after_request(lambda response: apply(response, "X-Early-Lines"))
    CORS(app, **POLICIES[policy])
    app.after_request(lambda response: apply(response, "X-Late-Lines"))
    return app


_PROPERTY_APPS = {name: _property_app(name) for name in POLICIES}
LINES = st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(VALUES)), max_size=4)


@given(st.sampled_from(list(POLICIES)), LINES, LINES, LINES,
       st.sampled_from([TRUSTED, EVIL, None]), st.booleans())
@settings(max_examples=400, deadline=None)
def test_whatever_the_app_adds_credentials_never_leak_and_nothing_repeats(
    policy: str, view: list[tuple[str, str]], early: list[tuple[str, str]],
    late: list[tuple[str, str]], origin: str | None, is_preflight: bool,
) -> None:
    import json

    client = _PROPERTY_APPS[policy].test_client()
    headers = {"X-View-Lines": json.dumps(view), "X-Early-Lines": json.dumps(early),
               "X-Late-Lines": json.dumps(late)}
    if origin is not None:
        headers["Origin"] = origin
    if is_preflight and origin is not None:
        headers.update(preflight(origin, "PUT"))
        response = client.options("/p", headers=headers)
    else:
        response = client.get("/p", headers=headers)
    assert response.status_code < 500
    found = cors_lines(response)
    for name, values in found.items():
        if name != "vary":  # the app's own Vary lines are its business, merged when ours join
            assert len(values) == 1, (name, values)
    allow_origin = found.get("access-control-allow-origin", [None])[0]
    credentials = found.get("access-control-allow-credentials", [""])[0]
    if credentials.strip().lower() == "true" and allow_origin not in (None, "*"):
        assert lists(policy, allow_origin.strip()), (allow_origin, credentials)
