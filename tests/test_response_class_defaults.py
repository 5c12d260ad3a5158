"""A ``response_class`` that adds CORS headers by default never grants what the policy
did not decide (issue 22).

The extension builds some answers itself with the app's ``response_class``: a
preflight's 204 or 403, and the 403 of a preflight whose judging failed (fail
closed). A class that adds ``Access-Control-Allow-Credentials: true`` (or an
``Access-Control-Allow-Origin``, ``-Methods``...) in its constructor used to ride
those answers past the credentials guard, so a preflight from any origin came
back with that origin echoed *and* credentials allowed.

The property crosses policies, sets of default headers, the way the extension is
on the app (``CORS(app)`` with ``csrf_protection``, or ``@cross_origin`` alone)
and the requests, and checks every response as the server sends it (Werkzeug's
own test response: Flask's test client would build the app's class again, with
its defaults, on the client side).
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, Response
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.test import Client, TestResponse

from flask_crossorigin import CORS, cross_origin
from flask_crossorigin.policy import Policy

from .conftest import TRUSTED, preflight
from .test_app_headers import EVIL, POLICIES  # the same policies, under the same names

# Header lines a response class may add by default ("{origin}" is never known to a
# class, so only fixed values).
DEFAULT_LINES = [
    ("Access-Control-Allow-Credentials", "true"),
    ("access-control-allow-credentials", "TRUE"),
    ("Access-Control-Allow-Credentials", "false"),
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Origin", EVIL),
    ("Access-Control-Allow-Origin", TRUSTED),
    ("Access-Control-Allow-Origin", "null"),
    ("Access-Control-Allow-Methods", "GET, PUT, DELETE"),
    ("Access-Control-Allow-Headers", "*"),
    ("Access-Control-Max-Age", "86400"),
    ("Access-Control-Expose-Headers", "X-Total"),
    ("Access-Control-Allow-Private-Network", "true"),
    ("Vary", "Accept-Encoding"),
]


def response_class(lines: list[tuple[str, str]]) -> type[Response]:
    class WithDefaults(Response):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            for name, value in lines:
                self.headers.add(name, value)

    return WithDefaults


def build(policy: str, lines: list[tuple[str, str]], mode: str) -> Flask:
    app = Flask(__name__)
    app.response_class = response_class(lines)
    options = POLICIES[policy]
    if mode == "decorator alone":

        @app.route("/data", methods=["GET", "PUT"])
        @cross_origin(csrf_protection=True, **options)  # type: ignore[misc]
        def data() -> str:
            return "ok"

    else:

        @app.route("/data", methods=["GET", "PUT"])
        def data() -> str:
            return "ok"

        CORS(app, csrf_protection=True, **options)
    return app


def cors_lines(response: TestResponse) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in response.headers.items():
        if name.lower().startswith("access-control-"):
            found.setdefault(name.lower(), []).append(value)
    return found


def lists(policy: str, origin: str) -> bool:
    """Whether the policy lists ``origin`` explicitly (an any-origin policy lists none)."""
    return not policy.startswith("any origin") and origin == TRUSTED


REQUESTS = [
    ("OPTIONS", preflight(TRUSTED, "PUT", "x-token")),
    ("OPTIONS", preflight(EVIL, "PUT", "x-token")),
    ("OPTIONS", preflight(EVIL, "DELETE")),  # refused: not a method of the route
    ("OPTIONS", preflight("null", "PUT")),
    ("GET", {"Origin": TRUSTED}),
    ("GET", {"Origin": EVIL}),
    ("PUT", {"Origin": TRUSTED, "Sec-Fetch-Site": "cross-site"}),
    ("PUT", {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"}),  # a refused write
]


def check(policy: str, lines: list[tuple[str, str]], mode: str) -> None:
    client = Client(build(policy, lines, mode))
    plain = Client(build(policy, [], mode))
    for method, headers in REQUESTS:
        response = client.open("/data", method=method, headers=headers)
        where = f"{mode}, {policy}, defaults {lines}: {method} {headers}"
        assert response.status_code < 500, where
        found = cors_lines(response)
        for name, values in found.items():
            assert len(values) == 1, f"{where}: {name} {values}"
        origin = headers["Origin"]
        allow_origin = found.get("access-control-allow-origin", [None])[0]
        credentials = found.get("access-control-allow-credentials", [""])[0]
        if credentials.strip().lower() == "true" and allow_origin not in (None, "*"):
            assert lists(policy, allow_origin), f"{where}: {allow_origin} with credentials"
        if method == "OPTIONS":
            # The extension's own answer: exactly what it answers under a plain class.
            expected = plain.open("/data", method=method, headers=headers)
            assert response.status_code == expected.status_code, where
            assert found == cors_lines(expected), where
            if not lists(policy, origin):
                assert credentials == "" or allow_origin in (None, "*"), where
        if method == "PUT" and origin == EVIL:
            # A refused write grants nothing, whatever the class adds.
            assert response.status_code == 403, where
            assert allow_origin is None and credentials == "", where


@settings(max_examples=150, deadline=None)
@given(
    policy=st.sampled_from(sorted(POLICIES)),
    lines=st.lists(st.sampled_from(DEFAULT_LINES), min_size=1, max_size=5),
    mode=st.sampled_from(["CORS(app)", "decorator alone"]),
)
def test_a_response_class_with_cors_defaults_never_grants_beyond_the_policy(
    policy: str, lines: list[tuple[str, str]], mode: str
) -> None:
    check(policy, lines, mode)


CLASSES = {
    "credentials": [("Access-Control-Allow-Credentials", "true")],
    "a foreign origin with credentials": [("Access-Control-Allow-Origin", EVIL),
                                          ("Access-Control-Allow-Credentials", "true")],
    "any origin": [("Access-Control-Allow-Origin", "*")],
    "methods": [("Access-Control-Allow-Methods", "PUT")],
}


@pytest.mark.parametrize("mode", ["CORS(app)", "decorator alone"])
@pytest.mark.parametrize("policy", sorted(POLICIES))
@pytest.mark.parametrize("defaults", sorted(CLASSES))
def test_the_table_of_response_classes(policy: str, defaults: str, mode: str) -> None:
    check(policy, CLASSES[defaults], mode)


def test_an_echoing_preflight_answer_never_carries_the_class_credentials() -> None:
    # The report: CORS(app) echoes any origin, the class adds credentials by default.
    client = Client(build("any origin", CLASSES["credentials"], "CORS(app)"))
    answer = client.open("/data", method="OPTIONS", headers=preflight(EVIL, "PUT"))
    assert answer.status_code == 204
    assert answer.headers.getlist("Access-Control-Allow-Origin") == [EVIL]
    assert "Access-Control-Allow-Credentials" not in answer.headers


def test_a_class_vary_and_the_answer_vary_are_one_line() -> None:
    client = Client(build("listed", [("Vary", "Accept-Encoding")], "CORS(app)"))
    answer = client.open("/data", method="OPTIONS", headers=preflight(TRUSTED, "PUT"))
    assert answer.headers.getlist("Vary") == [
        "Accept-Encoding, Origin, Access-Control-Request-Method, "
        "Access-Control-Request-Headers"]


@pytest.mark.parametrize("mode", ["CORS(app)", "decorator alone"])
def test_the_fail_closed_answer_carries_no_class_default(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Policy, environ: dict[str, Any]) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(Policy, "preflight_for", broken)
    lines = CLASSES["a foreign origin with credentials"] + CLASSES["methods"]
    client = Client(build("listed, credentials", lines, mode))
    answer = client.open("/data", method="OPTIONS", headers=preflight(TRUSTED, "PUT"))
    assert answer.status_code == 403
    assert cors_lines(answer) == {}


def test_flask_cors_check_shows_the_answer_as_the_server_sent_it() -> None:
    # check's client used to build the app's response_class again on its side,
    # which added the class's defaults back to the answer it showed.
    from .test_cli import run

    app = build("any origin", CLASSES["credentials"], "CORS(app)")
    result = run(app, "check", "/data", "--origin", EVIL, "--method", "PUT")
    preflight_block = result.output.split("preflight (passes):", 1)[1].split("\n\n", 1)[0]
    assert f"< Access-Control-Allow-Origin: {EVIL}" in preflight_block
    assert "Access-Control-Allow-Credentials" not in preflight_block
