"""Preflights: answered early, exact method and header checks, bounded parsing, PNA."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, abort, jsonify, request
from hypothesis import given, settings
from hypothesis import strategies as st

from flask_crossorigin import CORS, ConfigurationError

from .conftest import TRUSTED, make_app, preflight, vary_of

PREFLIGHT_VARY = ["Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"]


def test_granted_preflight(build: Any) -> None:
    client = build(origins=[TRUSTED], max_age=600, supports_credentials=True).test_client()
    response = client.options("/api/items/1", headers=preflight(headers="content-type,x-token"))
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == TRUSTED
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "PUT" in response.headers["Access-Control-Allow-Methods"].split(", ")
    assert response.headers["Access-Control-Allow-Headers"] == "content-type, x-token"
    assert response.headers["Access-Control-Max-Age"] == "600"
    assert vary_of(response) == PREFLIGHT_VARY
    assert response.get_data() == b""


def test_granted_preflight_carries_expose_headers_as_flask_cors(build: Any) -> None:
    """Issue 23: suites written against flask-cors check Access-Control-Expose-Headers on
    preflight answers; browsers ignore it there. Nothing else of the answer changes."""
    def answer(**options: Any) -> Any:
        return build(origins=[TRUSTED], max_age=600, supports_credentials=True,
                     **options).test_client().options(
            "/api/items/1", headers=preflight(headers="authorization"))

    plain = answer()
    exposing = answer(expose_headers=["X-Total-Count", "Link"])
    assert exposing.status_code == plain.status_code == 204
    assert exposing.headers["Access-Control-Expose-Headers"] == "Link, X-Total-Count"
    assert exposing.headers.getlist("Access-Control-Expose-Headers") == ["Link, X-Total-Count"]
    others = [h for h in exposing.headers.items() if h[0] != "Access-Control-Expose-Headers"]
    assert others == list(plain.headers.items())
    refused = build(origins=[TRUSTED], expose_headers=["Link"]).test_client().options(
        "/api/items/1", headers=preflight(origin="https://evil.example"))
    assert refused.status_code == 403
    assert "Access-Control-Expose-Headers" not in refused.headers


def test_preflight_without_request_headers_has_no_allow_headers(build: Any) -> None:
    response = build(origins=[TRUSTED]).test_client().options(
        "/api/items/1", headers=preflight())
    assert response.status_code == 204
    assert "Access-Control-Allow-Headers" not in response.headers


@pytest.mark.parametrize("headers", [
    preflight(origin="https://evil.example"),
    preflight(origin="null"),
    preflight(method="put"),          # methods compare case-sensitively
    preflight(method="PURGE"),
    preflight(method="GET, PUT"),     # not a token
    preflight(headers="x-secret"),
    preflight(headers="content-type, x-secret"),
])
def test_refused_preflight_grants_nothing(build: Any, headers: dict[str, str]) -> None:
    client = build(origins=[TRUSTED], allow_headers=["Content-Type", "X-Token"]).test_client()
    response = client.options("/api/items/1", headers=headers)
    assert response.status_code == 403
    names = [name for name, _ in response.headers]
    assert not [h for h in names if h.startswith("Access-Control-Allow")]
    assert vary_of(response) == PREFLIGHT_VARY


@pytest.mark.parametrize("headers", [
    {"Access-Control-Request-Method": "PUT"},  # no Origin: not a CORS request
    {"Origin": TRUSTED},                          # no requested method: a plain OPTIONS
    {},
])
def test_an_options_request_that_is_no_preflight_goes_to_flask(
    build: Any, headers: dict[str, str]
) -> None:
    client = build(origins=[TRUSTED]).test_client()
    response = client.options("/api/items/1", headers=headers)
    assert response.status_code == 200  # Flask's automatic OPTIONS answer, no bare 403
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "PUT", "DELETE", "OPTIONS"}
    assert "Access-Control-Allow-Methods" not in response.headers
    granted = response.headers.get("Access-Control-Allow-Origin")
    assert granted == (TRUSTED if "Origin" in headers else None)


def test_request_headers_compare_case_insensitively(build: Any) -> None:
    client = build(origins=[TRUSTED], allow_headers=["X-Token", "content-TYPE"]).test_client()
    response = client.options("/api/items/1", headers=preflight(headers="X-TOKEN,Content-Type"))
    assert response.status_code == 204
    # Echoed as the client spelt them.
    assert response.headers["Access-Control-Allow-Headers"] == "X-TOKEN, Content-Type"


def test_allow_headers_regexes_match_whole_names_case_insensitively(build: Any) -> None:
    client = build(origins=[TRUSTED], allow_headers=[r"X-Company-.*", "Content-Type"]).test_client()
    granted = client.options("/api/items/1", headers=preflight(
        headers="x-company-foo, X-COMPANY-BAR, content-type"))
    assert granted.status_code == 204
    assert granted.headers["Access-Control-Allow-Headers"] == (
        "x-company-foo, X-COMPANY-BAR, content-type")
    for refused in ("x-other", "x-xx-company-foo", "x-company"):
        response = client.options("/api/items/1", headers=preflight(headers=refused))
        assert response.status_code == 403, refused
        assert "Access-Control-Allow-Headers" not in response.headers


def test_allow_headers_regexes_are_validated_at_start_up(build: Any) -> None:
    with pytest.raises(ConfigurationError, match="not a valid regular expression"):
        build(allow_headers=["X-(unclosed"])
    with pytest.raises(ConfigurationError, match="keep either '\\*' or the names"):
        build(allow_headers=["*", "X-A-.*"])


def test_methods_match_exactly_not_by_substring(build: Any) -> None:
    client = build(origins=[TRUSTED], methods=["PATCHES"]).test_client()
    assert client.options("/api/items/1", headers=preflight(method="PATCH")).status_code == 403
    assert client.options("/api/items/1", headers=preflight(method="PATCHES")).status_code == 204


def test_star_methods_echo_the_requested_method(build: Any) -> None:
    client = build(origins=[TRUSTED], methods="*").test_client()
    response = client.options("/api/items/1", headers=preflight(method="PURGE"))
    assert response.headers["Access-Control-Allow-Methods"] == "PURGE"


def test_plain_options_is_not_a_preflight(build: Any) -> None:
    client = build(origins=[TRUSTED]).test_client()
    response = client.options("/api/items/1", headers={"Origin": TRUSTED})
    assert response.status_code == 200  # Flask's automatic OPTIONS answer
    assert "GET" in response.headers["Allow"]
    assert response.headers["Access-Control-Allow-Origin"] == TRUSTED
    assert "Access-Control-Allow-Methods" not in response.headers


def auth_app(**options: Any) -> Flask:
    app = Flask(__name__)
    calls: list[str] = []
    app.config["calls"] = calls

    @app.before_request
    def require_token() -> Any:
        calls.append(request.method)
        if request.headers.get("Authorization") != "Bearer ok":
            abort(401)
        return None

    @app.route("/api/secret", methods=["GET", "PUT"])
    def secret() -> Any:
        calls.append("view")
        return jsonify(secret=42)

    CORS(app, **options)
    return app


def test_preflight_is_answered_before_auth_hooks_and_view() -> None:
    app = auth_app(origins=[TRUSTED], supports_credentials=True)
    client = app.test_client()
    response = client.options("/api/secret", headers=preflight(headers="authorization"))
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Headers"] == "authorization"
    assert app.config["calls"] == []  # neither the hook nor the view ran
    # The actual request still goes through authentication, and its 401 is readable.
    denied = client.put("/api/secret", headers={"Origin": TRUSTED})
    assert denied.status_code == 401
    assert denied.headers["Access-Control-Allow-Origin"] == TRUSTED
    allowed = client.put("/api/secret", headers={"Origin": TRUSTED,
                                                 "Authorization": "Bearer ok"})
    assert allowed.get_json() == {"secret": 42}


def test_auth_hook_registered_after_the_extension_still_runs_later() -> None:
    app = Flask(__name__)
    CORS(app, origins=[TRUSTED])

    @app.before_request
    def deny() -> Any:
        abort(401)

    @app.route("/x", methods=["PUT"])
    def x() -> Any:
        return "x"

    assert app.test_client().options("/x", headers=preflight()).status_code == 204


def test_preflight_to_a_path_under_no_policy_passes_through() -> None:
    app = make_app(resources={"/api/*": {"origins": [TRUSTED]}})
    response = app.test_client().options("/private", headers=preflight())
    assert response.status_code == 200  # Flask's own automatic OPTIONS answer
    assert "Access-Control-Allow-Origin" not in response.headers


def test_automatic_options_false_lets_the_view_answer() -> None:
    app = Flask(__name__)
    CORS(app, origins=[TRUSTED], automatic_options=False)

    @app.route("/custom", methods=["PUT", "OPTIONS"])
    def custom() -> Any:
        if request.method == "OPTIONS":
            return "custom answer", 200
        return "put"

    response = app.test_client().options("/custom", headers=preflight())
    assert response.get_data(as_text=True) == "custom answer"
    assert response.headers["Access-Control-Allow-Origin"] == TRUSTED
    assert "PUT" in response.headers["Access-Control-Allow-Methods"]


@pytest.mark.parametrize("value", [
    "," * 65536,
    " , " * 20000,
    ",".join(f"x-h{i}" for i in range(10000)),
    "a" * 70000,
    "x-a,,,,,," * 11,
])
def test_adversarial_request_headers_are_refused_not_a_500(build: Any, value: str) -> None:
    client = build(origins=[TRUSTED]).test_client()
    response = client.options("/api/items/1", headers=preflight(headers=value))
    assert response.status_code == 403
    assert "Access-Control-Allow-Headers" not in response.headers


def test_empty_list_elements_are_tolerated(build: Any) -> None:
    client = build(origins=[TRUSTED]).test_client()
    response = client.options("/api/items/1", headers=preflight(headers=" x-a , ,x-b,"))
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Headers"] == "x-a, x-b"


def test_private_network_only_when_enabled_and_asked(build: Any) -> None:
    asked = preflight(**{"Access-Control-Request-Private-Network": "true"})
    off = build(origins=[TRUSTED]).test_client().options("/api/items/1", headers=asked)
    assert off.status_code == 204
    assert "Access-Control-Allow-Private-Network" not in off.headers
    client = build(origins=[TRUSTED], allow_private_network=True).test_client()
    on = client.options("/api/items/1", headers=asked)
    assert on.headers["Access-Control-Allow-Private-Network"] == "true"
    assert "Access-Control-Request-Private-Network" in vary_of(on)
    not_asked = client.options("/api/items/1", headers=preflight())
    assert "Access-Control-Allow-Private-Network" not in not_asked.headers


def test_any_origin_preflight_echoes_the_origin(client: Any, build: Any) -> None:
    response = client.options("/api/items/1", headers=preflight(origin="https://a.example"))
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "https://a.example"
    star = build(send_wildcard=True).test_client()
    response = star.options("/api/items/1", headers=preflight(origin="https://a.example"))
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("environ", [
    {"HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "x-token\r\nSet-Cookie: a=b"},
    {"HTTP_ORIGIN": TRUSTED + "\r\nSet-Cookie: a=b"},
    {"HTTP_ACCESS_CONTROL_REQUEST_METHOD": "PUT\r\nX: y"},
])
def test_line_breaks_smuggled_through_the_environ_are_refused(
    build: Any, environ: dict[str, str]
) -> None:
    client = build(origins=[TRUSTED], allow_headers=["X-Token"]).test_client()
    response = client.options("/api/items/1", headers=preflight(headers="x-token"),
                              environ_overrides=environ)
    assert response.status_code == 403
    assert "Set-Cookie" not in response.headers
    assert all("\n" not in value for _, value in response.headers.items())


@pytest.mark.parametrize(("glob", "granted", "refused"), [
    ("X-Custom-*", ["x-custom-token", "X-CUSTOM-ID", "x-custom-"], ["x-customer", "x-custom",
                                                                     "y-x-custom-a"]),
    ("*-Token", ["x-token", "X-Auth-Token", "-token"], ["x-token-id", "token"]),
    ("X-*-Id", ["x-request-id", "X-A-B-Id", "x--id"], ["x-id", "x-request-idx"]),
    ("X-Api*", ["x-api", "x-apikey", "x-api-version"], ["x-ap", "y-api"]),
])
def test_allow_headers_globs_match_names_as_written(
    build: Any, glob: str, granted: list[str], refused: list[str]
) -> None:
    # flask-cors users write globs ('X-Custom-*'); as a regex the '*' would only repeat
    # the '-' and the entry would never match what it was meant for.
    client = build(origins=[TRUSTED], allow_headers=[glob, "Content-Type"]).test_client()
    for name in granted:
        sent = preflight(headers=f"{name}, content-type")
        response = client.options("/api/items/1", headers=sent)
        assert response.status_code == 204, name
        assert response.headers["Access-Control-Allow-Headers"] == f"{name}, content-type"
    for name in refused:
        response = client.options("/api/items/1", headers=preflight(headers=name))
        assert response.status_code == 403, name


@given(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9\-_]{0,12}", fullmatch=True),
       st.from_regex(r"[A-Za-z0-9\-_]{0,12}", fullmatch=True))
@settings(max_examples=60, deadline=None)
def test_a_glob_grants_every_name_it_describes(prefix: str, rest: str) -> None:
    from flask_crossorigin.policy import compile_policy

    policy = compile_policy("p", [("test", {"origins": [TRUSTED],
                                            "allow_headers": [f"{prefix}*"]})])
    assert policy.preflight(TRUSTED, "PUT", prefix.upper() + rest).refusal is None
    other = "Z" + prefix if not prefix.lower().startswith("z") else "Q" + prefix
    assert policy.preflight(TRUSTED, "PUT", other + rest).refusal is not None
