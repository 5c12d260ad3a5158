"""Hostile requests: huge, repeated, non-ASCII and smuggled header values, and bounded work.

Every request in the table is sent to apps under several policies. Each must be
answered without an exception or a 500, grant nothing, and put no line break in
a header. Bounded work is checked by counting it, never by the clock: a tracer
counts the lines of ``flask_crossorigin`` that a request executes, and that
count must not grow with the size of the hostile value. The fuzz target in
``fuzz/`` runs briefly here too.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest
from flask import Flask, jsonify
from hypothesis import example, given, settings
from hypothesis import strategies as st

from flask_crossorigin import CORS
from flask_crossorigin.headers import HeaderListError, parse_request_headers

from .test_refusal_cost import executed, ours

ROOT = Path(__file__).resolve().parent.parent
FUZZ = ROOT / "fuzz"
TRUSTED = "https://trusted.example.com"

# -- the policies under attack ------------------------------------------------------------------

callable_calls: list[str] = []


def trusts_the_trusted(origin: str) -> bool:
    callable_calls.append(origin)
    return origin == TRUSTED


POLICIES: dict[str, dict[str, Any]] = {
    "exact+credentials": {"origins": [TRUSTED], "supports_credentials": True,
                          "allow_headers": ["X-Token", "Content-Type"]},
    "wildcard": {"origins": ["https://*.example.com"], "allow_headers": ["X-Token"]},
    "any": {},
    "reflect-any": {"send_wildcard": False, "methods": ["GET", "PUT"]},
    "regex": {"origins": [r"https://[a-z]+\.example\.com"], "supports_credentials": True},
    "callable": {"origins": trusts_the_trusted, "supports_credentials": True,
                 "allow_private_network": True},
}


def make_app(options: dict[str, Any]) -> Flask:
    app = Flask(__name__)
    app.testing = True  # an exception in the extension fails the test instead of a 500

    @app.route("/api/data", methods=["GET", "PUT", "POST", "PATCH"])
    def data() -> Any:
        return jsonify(ok=True)

    CORS(app, **options)
    return app


@pytest.fixture(scope="module")
def clients() -> dict[str, Any]:
    return {name: make_app(options).test_client() for name, options in POLICIES.items()}


# -- the hostile requests -----------------------------------------------------------------------

@dataclass(frozen=True)
class Hostile:
    name: str
    environ: dict[str, str]
    preflight: bool = False
    headers: list[tuple[str, str]] = field(default_factory=list)  # sent as real headers


def preflight(origin: str = TRUSTED, method: str = "PUT", **extra: str) -> dict[str, str]:
    return {"HTTP_ORIGIN": origin, "HTTP_ACCESS_CONTROL_REQUEST_METHOD": method, **extra}


def acrh(value: str, origin: str = TRUSTED) -> dict[str, str]:
    return preflight(origin, HTTP_ACCESS_CONTROL_REQUEST_HEADERS=value)


HOSTILE = [
    # Origin: huge, repeated, non-ASCII, percent-encoded, smuggled.
    Hostile("64 KB origin", {"HTTP_ORIGIN": "https://" + "a" * 65536 + ".example.com"}),
    Hostile("64 KB origin of trusted labels", {"HTTP_ORIGIN": "https://" + "a." * 32768
                                                + "trusted.example.com"}),
    Hostile("64 KB origin, preflight", preflight("https://" + "a." * 32768 + "example.com"),
            preflight=True),
    Hostile("two Origin headers", {}, headers=[("Origin", TRUSTED),
                                               ("Origin", "https://evil.example")]),
    Hostile("two Origin headers, evil first", {}, headers=[("Origin", "https://evil.example"),
                                                           ("Origin", TRUSTED)]),
    Hostile("the trusted origin twice", {}, headers=[("Origin", TRUSTED), ("Origin", TRUSTED)]),
    Hostile("a list in one Origin", {"HTTP_ORIGIN": f"{TRUSTED}, https://evil.example"}),
    Hostile("two Origin headers, preflight", {"HTTP_ACCESS_CONTROL_REQUEST_METHOD": "PUT"},
            preflight=True, headers=[("Origin", TRUSTED), ("Origin", "https://evil.example")]),
    Hostile("non-ASCII host", {"HTTP_ORIGIN": "https://trüsted.example.com"}),
    Hostile("UTF-8 bytes as the server decodes them",
            {"HTTP_ORIGIN": "https://trüsted.example.com".encode().decode("latin-1")}),
    Hostile("Cyrillic look-alike", {"HTTP_ORIGIN": "https://trusted.еxample.com"}),
    Hostile("fullwidth dot", {"HTTP_ORIGIN": "https://trusted．example.com"}),
    Hostile("percent-encoded dot", {"HTTP_ORIGIN": "https://trusted%2eexample.com"}),
    Hostile("percent-encoded letter", {"HTTP_ORIGIN": "https://%74rusted.example.com"}),
    Hostile("percent-encoded origin", {"HTTP_ORIGIN": "https%3A%2F%2Ftrusted.example.com"}),
    Hostile("uppercase origin", {"HTTP_ORIGIN": TRUSTED.upper()}),
    Hostile("origin with spaces around", {"HTTP_ORIGIN": f" {TRUSTED} "}),
    Hostile("origin with a NUL", {"HTTP_ORIGIN": TRUSTED + "\x00"}),
    Hostile("CR/LF after the origin", {"HTTP_ORIGIN": TRUSTED + "\r\nSet-Cookie: a=b"}),
    Hostile("CR/LF after the origin, preflight",
            preflight(TRUSTED + "\r\nSet-Cookie: a=b"), preflight=True),
    Hostile("bare LF inside the origin", {"HTTP_ORIGIN": "https://trusted\n.example.com"}),
    Hostile("null", {"HTTP_ORIGIN": "null"}),
    Hostile("empty origin", {"HTTP_ORIGIN": ""}),
    Hostile("empty origin, preflight", preflight(""), preflight=True),
    Hostile("no origin, preflight", {"HTTP_ACCESS_CONTROL_REQUEST_METHOD": "PUT"},
            preflight=True),
    # Access-Control-Request-Headers: huge lists, runs of commas and whitespace, smuggling.
    Hostile("10,000 header names", acrh(",".join(f"x-h{i}" for i in range(10000))),
            preflight=True),
    Hostile("10,000 copies of an allowed name", acrh(",".join(["x-token"] * 10000)),
            preflight=True),
    Hostile("64 K commas", acrh("," * 65536), preflight=True),
    Hostile("64 commas after an allowed name", acrh("x-token" + "," * 64), preflight=True),
    Hostile("70,000 spaces", acrh(" " * 70000), preflight=True),
    Hostile("a 5,000-character name", acrh("x-" + "a" * 5000), preflight=True),
    Hostile("spaces inside a name", acrh("x token"), preflight=True),
    Hostile("non-ASCII name", acrh("x-tökén"), preflight=True),
    Hostile("CR/LF in the header list", acrh("x-token\r\nSet-Cookie: a=b"), preflight=True),
    Hostile("NUL in the header list", acrh("x-token\x00"), preflight=True),
    # Access-Control-Request-Method: lowercase, unknown, malformed, huge, smuggled.
    Hostile("lowercase put", preflight(method="put"), preflight=True),
    Hostile("lowercase patch", preflight(method="patch"), preflight=True),
    Hostile("unknown method", preflight(method="PURGE-ALL"), preflight=True),
    Hostile("empty method", preflight(method=""), preflight=True),
    Hostile("two methods", preflight(method="GET, PUT"), preflight=True),
    Hostile("method with a space", preflight(method="PUT "), preflight=True),
    Hostile("64 KB method", preflight(method="P" * 65536), preflight=True),
    Hostile("CR/LF in the method", preflight(method="PUT\r\nSet-Cookie: a=b"), preflight=True),
    Hostile("non-ASCII method", preflight(method="PÜT"), preflight=True),
]

# Requests that a policy with methods='*' grants: the method is a well-formed token.
METHOD_CASES = {"lowercase put", "lowercase patch", "unknown method", "64 KB method"}


def send(client: Any, hostile: Hostile) -> Any:
    if hostile.preflight:
        return client.options("/api/data", environ_overrides=hostile.environ,
                              headers=hostile.headers)
    return client.get("/api/data", environ_overrides=hostile.environ, headers=hostile.headers)


# Policies that allow any origin: they grant malformed origins too, always as '*'.
ANY_ORIGIN_POLICIES = {"any", "reflect-any"}


def assert_safe(response: Any, policy: str, hostile: Hostile) -> None:
    """No error, no line break or smuggled header in the answer, and no grant except
    the '*' of an any-origin policy (never an echo of the hostile value, never to 'null')."""
    assert response.status_code < 500, (policy, hostile.name, response.status_code)
    for name, value in response.headers.items():
        assert not set(value) & {"\r", "\n", "\x00"}, (name, value)
        assert name.lower() not in ("set-cookie", "x"), (policy, hostile.name)
    if response.headers.getlist("Access-Control-Allow-Origin") == ["*"]:
        assert policy in ANY_ORIGIN_POLICIES, (policy, hostile.name)
        assert hostile.environ.get("HTTP_ORIGIN") != "null", (policy, hostile.name)
        assert "Access-Control-Allow-Credentials" not in response.headers
        return
    has_origin = "HTTP_ORIGIN" in hostile.environ or any(n == "Origin" for n, _ in hostile.headers)
    if hostile.preflight and has_origin:
        assert response.status_code == 403, (policy, hostile.name)
    elif hostile.preflight:  # no Origin: not a CORS request, Flask answers OPTIONS itself
        assert response.status_code == 200 and "Allow" in response.headers, hostile.name
    grants = [name for name, _ in response.headers if name.startswith("Access-Control-Allow")]
    assert not grants, (policy, hostile.name, grants)


@pytest.mark.parametrize("policy", list(POLICIES))
@pytest.mark.parametrize("hostile", HOSTILE, ids=[h.name for h in HOSTILE])
def test_hostile_request_is_refused_without_error(
    clients: dict[str, Any], policy: str, hostile: Hostile
) -> None:
    callable_calls.clear()
    response = send(clients[policy], hostile)
    assert_safe(response, policy, hostile)
    # Malformed origins never reach a user's callable; only the trusted origin may.
    assert set(callable_calls) <= {TRUSTED}


def test_methods_star_echoes_only_a_valid_token() -> None:
    client = make_app({"origins": [TRUSTED], "methods": "*"}).test_client()
    for hostile in HOSTILE:
        if hostile.preflight and hostile.name not in METHOD_CASES:
            assert_safe(send(client, hostile), "methods-star", hostile)
    unknown = client.options("/api/data", environ_overrides=preflight(method="PURGE-ALL"))
    assert unknown.status_code == 204
    assert unknown.headers["Access-Control-Allow-Methods"] == "PURGE-ALL"


def test_the_trusted_origin_is_still_granted(clients: dict[str, Any]) -> None:
    """The table is not passing because everything is refused."""
    for policy, client in clients.items():
        response = client.get("/api/data", headers={"Origin": TRUSTED})
        expected = TRUSTED  # '*' policies echo it too: send_wildcard=False by default
        assert response.headers["Access-Control-Allow-Origin"] == expected, policy
        answer = client.options("/api/data", headers={
            "Origin": TRUSTED, "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "x-token"})
        assert answer.status_code == 204, policy


def test_private_network_header_with_a_line_break_is_not_granted(
    clients: dict[str, Any]
) -> None:
    response = clients["callable"].options("/api/data", environ_overrides=preflight(
        HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK="true\r\nX: y"))
    assert response.status_code == 204
    assert "Access-Control-Allow-Private-Network" not in response.headers
    granted = clients["callable"].options("/api/data", environ_overrides=preflight(
        HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK="true"))
    assert granted.headers["Access-Control-Allow-Private-Network"] == "true"


def test_refusals_are_logged_on_one_line(caplog: pytest.LogCaptureFixture) -> None:
    client = make_app(POLICIES["exact+credentials"]).test_client()
    with caplog.at_level(logging.DEBUG, logger="flask_crossorigin"):
        client.get("/api/data", environ_overrides={
            "HTTP_ORIGIN": "https://evil.example\r\nFAKE LOG LINE",
            "PATH_INFO": "/api/data\r\nFAKE LOG LINE"})
        client.options("/api/data", environ_overrides=acrh("x\r\nFAKE LOG LINE"))
        client.options("/api/data", environ_overrides=preflight(method="PUT\nFAKE LOG LINE"))
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 3
    for message in messages:
        assert "\n" not in message and "\r" not in message
    assert "\\r\\nFAKE LOG LINE" in messages[0]  # the origin and the path, escaped
    assert "\\nFAKE LOG LINE" in messages[2]  # the method, escaped


# -- bounded work, counted -------------------------------------------------------------------

def lines_executed(action: Callable[[], Any]) -> int:
    """How many lines of flask_crossorigin ``action`` executes (a tracer counts them)."""
    return sum(ours(executed(action)).values())


def work_of_request(client: Any, environ: dict[str, str], preflight: bool) -> int:
    def action() -> None:
        if preflight:
            response = client.options("/api/data", environ_overrides=environ)
        else:
            response = client.get("/api/data", environ_overrides=environ)
        assert response.status_code < 500
    return lines_executed(action)


SIZES = [5_000, 64_000, 1_000_000]  # all past the limits

GROWING: dict[str, tuple[Callable[[int], dict[str, str]], bool]] = {
    "origin": (lambda n: {"HTTP_ORIGIN": "https://" + "a." * (n // 2) + "example.com"}, False),
    "origin, preflight": (lambda n: preflight("https://" + "a" * n + ".example.com"), True),
    "header names": (lambda n: acrh(",".join(f"x-{i}" for i in range(n // 6))), True),
    "commas": (lambda n: acrh("," * n), True),
    "whitespace": (lambda n: acrh(" \t" * (n // 2)), True),
    "one long name": (lambda n: acrh("x" * n), True),
}


@pytest.mark.parametrize("policy", ["exact+credentials", "wildcard", "regex", "callable"])
@pytest.mark.parametrize("what", list(GROWING))
def test_work_does_not_grow_with_hostile_input(
    clients: dict[str, Any], policy: str, what: str
) -> None:
    make, is_preflight = GROWING[what]
    counts = [work_of_request(clients[policy], make(size), is_preflight) for size in SIZES]
    assert counts[0] > 0  # the tracer saw the extension at work
    assert counts[0] == counts[1] == counts[2], (what, dict(zip(SIZES, counts)))


PATHS: dict[str, Callable[[int], str]] = {
    "slashes": lambda n: "/" * n,
    "deep path under a pattern": lambda n: "/api" + "/x" * (n // 2),
    "slashes after a deep pattern": lambda n: "/api/v1/users" + "/" * n,
    "long segment": lambda n: "/files/" + "1" * n,
}


@pytest.mark.parametrize("what", list(PATHS))
def test_resource_lookup_work_does_not_grow_with_the_path(what: str) -> None:
    """Picking the policy for a path of many slashes costs no more than for a short one."""
    app = make_app({"resources": {
        "/api/*": {"origins": [TRUSTED]}, "/api/v1/users/*": {"origins": [TRUSTED]},
        r"/files/\d+": {}, "/a/*/b": {}}})
    client = app.test_client()
    # One-time work (the first request, a cache entry for a path that normalizes to a
    # short one, the answer remembered for an origin a '*' policy echoes) is not the
    # path's: warm up with a path of the same kind, from the same origin.
    client.get("/", environ_overrides={"PATH_INFO": PATHS[what](SIZES[0] // 2),
                                       "HTTP_ORIGIN": TRUSTED})
    counts = [work_of_request(client, {"PATH_INFO": PATHS[what](size), "HTTP_ORIGIN": TRUSTED},
                              False) for size in SIZES]
    assert counts[0] > 0
    assert counts[0] == counts[1] == counts[2], (what, dict(zip(SIZES, counts)))


def test_header_list_at_the_limit_is_parsed_in_bounded_work(clients: dict[str, Any]) -> None:
    """The most a list can cost is that of the longest one accepted; longer ones cost less."""
    client = clients["wildcard"]
    origin = "https://a.example.com"
    longest = ",".join(f"x-{i:03}" for i in range(64))
    assert len(longest) <= 4096
    at_limit = work_of_request(client, acrh(longest, origin), True)
    over = [work_of_request(client, acrh(longest + ",x-more" * k, origin), True)
            for k in (1, 100, 10_000)]
    assert max(over) < at_limit
    # Too many names: refused after one count; too long: refused before any.
    assert over[2] <= over[0] == over[1]


def test_parser_refuses_oversized_lists_before_splitting() -> None:
    class CountingStr(str):
        splits = 0

        def split(self, *args: Any, **kwargs: Any) -> list[str]:  # type: ignore[override]
            CountingStr.splits += 1
            return super().split(*args, **kwargs)

        def lower(self) -> CountingStr:  # type: ignore[override]
            return CountingStr(super().lower())

    for value in ("," * 100_000, "x" * 100_000, ",".join(["a"] * 10_000)):
        with pytest.raises(HeaderListError) as caught:
            parse_request_headers(CountingStr(value))
        assert caught.value.code == "headers-too-long"
    assert CountingStr.splits == 0
    assert parse_request_headers(CountingStr("x-a, X-B")) == ["x-a", "x-b"]
    assert CountingStr.splits == 1


# -- the fuzz target, briefly ------------------------------------------------------------------

def _load_targets() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("crossorigin_fuzz_targets", FUZZ / "targets.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


targets = _load_targets()  # fuzz/targets.py: the checks the fuzzers drive
FUZZ_RUNS = int(os.environ.get("CROSSORIGIN_FUZZ_RUNS", "200000"))


def test_fuzz_target_runs_under_atheris(tmp_path: Path) -> None:
    """libFuzzer, coverage-guided, from the seed corpus; a finding exits non-zero."""
    corpus = tmp_path / "corpus"
    shutil.copytree(FUZZ / "seeds", corpus)
    result = subprocess.run(
        [sys.executable, str(FUZZ / "fuzz_crossorigin.py"), f"-runs={FUZZ_RUNS}", "-seed=7",
         f"-dict={FUZZ / 'crossorigin.dict'}", "-max_len=4096",
         f"-artifact_prefix={tmp_path}/", str(corpus)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert f"Done {FUZZ_RUNS} runs" in output, output[-2000:]
    assert not list(tmp_path.glob("crash-*")), output[-4000:]


_FUZZ_EXAMPLES = int(os.environ.get("CROSSORIGIN_FUZZ_EXAMPLES", "0"))


@settings(max_examples=_FUZZ_EXAMPLES or 400, derandomize=not _FUZZ_EXAMPLES, database=None,
          deadline=None)
@given(data=st.binary(max_size=300))
@example(data=b"\x00" + b"a" * 5000)
@example(data=b"\x01" + b"," * 5000)
@example(data=b"\x02https://a.example.com\x1fPUT\x1f" + b"x," * 3000 + b"\x1ftrue")
def test_fuzz_target_under_hypothesis(data: bytes) -> None:
    """The same target driven by hypothesis: runs wherever the suite runs."""
    targets.one_input(data)


@pytest.mark.parametrize("seed", sorted((FUZZ / "seeds").iterdir()), ids=lambda p: p.name)
def test_fuzz_seeds_pass_the_checks(seed: Path) -> None:
    targets.one_input(seed.read_bytes())


def test_fuzz_checks_can_fail() -> None:
    """The target's checks are not vacuous."""
    with pytest.raises(AssertionError):
        targets._no_line_breaks((("Access-Control-Allow-Origin", "a\r\nb"),))
    assert targets._trusted("https://a.example.com")
    assert not targets._trusted("https://a.example.com.evil.net")
    assert not targets._trusted("https://example.com:8443")
    assert not targets._trusted("https://.example.com")
