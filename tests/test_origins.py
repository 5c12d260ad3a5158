"""Origin matching: exact, wildcard subdomains, regexes, callables, null, and the attacks."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flask_crossorigin.origins import compile_origins, parse_request_origin

from .conftest import make_app

TRUSTING = ["https://example.com", "https://*.example.com"]

# Every class of origin a policy trusting example.com and *.example.com must refuse.
ATTACKS = [
    "https://example.com.evil.net",      # prefix: trusted host followed by more labels
    "https://example.comevil.net",       # prefix: followed by more characters
    "https://example.com_.evil.net",
    "https://example.com`.evil.net",
    "https://example.com$.evil.net",
    "https://example.com~.evil.net",
    "https://example.com&.evil.net",
    "https://evilexample.com",           # suffix: merely ends with the trusted name
    "https://a.evilexample.com",
    "http://example.com",                # scheme downgrade
    "http://a.example.com",
    "https://example.com:8443",          # other port
    "https://a.example.com:8443",
    "https://example.com/",              # path / trailing slash
    "https://example.com/path",
    "https://user@example.com",          # userinfo
    "https://example.com, https://evil.net",  # a list in one header
    "https://example.com https://evil.net",
    "",                                  # empty
    "null",                              # sandboxed iframes, file: and data: pages
    "HTTPS://EXAMPLE.COM",               # browsers send lowercase; not byte-equal
    "https://.example.com",              # empty label
    "https://a..example.com",
    "https://example.com.",
    "https://example.com:443",           # default port is never sent
    "https://a.example.com:0",
    "https://a.example.com:99999",
    "https://a.example.com\r\nX: y",
    "https://ä.example.com",
    "https://%61.example.com",
    "example.com",
    "*",
]


@pytest.mark.parametrize("origin", ATTACKS)
def test_attack_origins_are_refused(origin: str) -> None:
    matcher, problems = compile_origins(TRUSTING)
    assert matcher is not None and not problems
    assert matcher.check(origin, "policy") is not None


@pytest.mark.parametrize("origin", [
    "https://example.com", "https://a.example.com", "https://a.b.example.com",
    "https://xn--bcher-kva.example.com",
])
def test_trusted_origins_are_granted(origin: str) -> None:
    matcher, _ = compile_origins(TRUSTING)
    assert matcher is not None
    assert matcher.check(origin, "policy") is None


@pytest.mark.parametrize("origin", ATTACKS)
def test_attack_origins_get_no_grant_from_the_app(origin: str) -> None:
    client = make_app(origins=TRUSTING, supports_credentials=True).test_client()
    response = client.get("/api/data", environ_overrides={"HTTP_ORIGIN": origin})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Credentials" not in response.headers
    preflight = client.options("/api/data", environ_overrides={
        "HTTP_ORIGIN": origin, "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "PUT"})
    assert preflight.status_code == 403
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_wildcard_never_matches_the_parent_itself() -> None:
    matcher, _ = compile_origins(["https://*.example.com"])
    assert matcher is not None
    assert matcher.check("https://example.com", "p") is not None
    assert matcher.check("https://a.example.com", "p") is None


def test_wildcard_keeps_scheme_and_port() -> None:
    matcher, _ = compile_origins(["http://*.localhost:5001"])
    assert matcher is not None
    assert matcher.check("http://app.localhost:5001", "p") is None
    for other in ("http://app.localhost", "https://app.localhost:5001",
                  "http://app.localhost:5002"):
        assert matcher.check(other, "p") is not None


def test_regex_matches_the_whole_origin_never_a_prefix() -> None:
    matcher, _ = compile_origins([r"https://.*\.example\.com"])
    assert matcher is not None
    assert matcher.check("https://a.example.com", "p") is None
    assert matcher.check("https://a.example.com.evil.net", "p") is not None
    assert matcher.check("https://aexample.com", "p") is not None


def test_compiled_regex_is_accepted() -> None:
    matcher, _ = compile_origins(re.compile(r"https://(a|b)\.example\.com"))
    assert matcher is not None
    assert matcher.check("https://b.example.com", "p") is None
    assert matcher.check("https://c.example.com", "p") is not None


def test_regex_with_unescaped_dot_warns() -> None:
    with pytest.warns(UserWarning, match="unescaped"):
        matcher, _ = compile_origins([r"https://.*example.com"])
    assert matcher is not None
    # The warning is justified: the dot matches any character.
    assert matcher.check("https://examplexcom", "p") is None


def test_callable_origins() -> None:
    tenants = {"https://tenant1.example"}
    matcher, _ = compile_origins(tenants.__contains__)
    assert matcher is not None
    assert matcher.check("https://tenant1.example", "p") is None
    tenants.add("https://tenant2.example")  # dynamic: read at request time
    assert matcher.check("https://tenant2.example", "p") is None
    assert matcher.check("https://other.example", "p") is not None


def test_callable_is_only_given_well_formed_origins() -> None:
    seen: list[str] = []

    def allow(origin: str) -> bool:
        seen.append(origin)
        return True

    matcher, _ = compile_origins([allow])
    assert matcher is not None
    assert matcher.check("https://a.example", "p") is None
    assert matcher.check("https://a.example/path", "p") is not None
    assert matcher.check("null", "p") is not None
    assert seen == ["https://a.example"]


def test_a_failing_callable_refuses_instead_of_raising() -> None:
    def broken(origin: str) -> bool:
        raise LookupError("database down")

    client = make_app(origins=broken).test_client()
    response = client.get("/api/data", headers={"Origin": "https://a.example"})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


def test_null_only_when_listed() -> None:
    default = make_app().test_client()
    assert "Access-Control-Allow-Origin" not in default.get(
        "/api/data", headers={"Origin": "null"}).headers
    listed = make_app(origins=["null"]).test_client()
    response = listed.get("/api/data", headers={"Origin": "null"})
    assert response.headers["Access-Control-Allow-Origin"] == "null"


def test_star_plus_null_allows_null_too() -> None:
    client = make_app(origins=["*", "null"]).test_client()
    assert client.get("/api/data", headers={"Origin": "null"}).headers[
        "Access-Control-Allow-Origin"] == "null"


def test_configured_origins_are_normalized_to_lowercase() -> None:
    client = make_app(origins=["HTTPS://App.Example.COM"]).test_client()
    response = client.get("/api/data", headers={"Origin": "https://app.example.com"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.com"


@pytest.mark.parametrize(("value", "expected"), [
    ("https://a.example", ("https", "a.example", "")),
    ("http://127.0.0.1:5000", ("http", "127.0.0.1", "5000")),
    ("http://[::1]:8080", ("http", "[::1]", "8080")),
    ("chrome-extension://abcdef", ("chrome-extension", "abcdef", "")),
])
def test_parse_request_origin(value: str, expected: tuple[str, str, str]) -> None:
    parsed = parse_request_origin(value)
    assert parsed is not None
    assert (parsed.scheme, parsed.host, parsed.port) == expected


def test_huge_origin_is_refused_cheaply() -> None:
    assert parse_request_origin("https://" + "a" * 65536 + ".example") is None


@pytest.mark.parametrize("origins", [
    ["https://a.example", "https://b.example"],
    ("https://a.example",),
    {"https://a.example"},
])
def test_origin_collections(origins: Any) -> None:
    matcher, problems = compile_origins(origins)
    assert matcher is not None and not problems
    assert matcher.check("https://a.example", "p") is None


def test_ipv6_exact_origin_is_not_a_regex() -> None:
    matcher, problems = compile_origins(["http://[::1]:8080"])
    assert matcher is not None and not problems
    assert matcher.check("http://[::1]:8080", "p") is None
    assert matcher.check("http://1:8080", "p") is not None


def test_a_single_regex_string_may_hold_a_counted_repeat() -> None:
    matcher, problems = compile_origins(r"https://[a-z]{2,8}\.example\.com")
    assert matcher is not None and not problems
    assert matcher.check("https://abc.example.com", "p") is None
    assert matcher.check("https://a.example.com", "p") is not None


SAFARI = "safari-web-extension://140BB581-3F7E-4B3A-9C1D-0123456789AB"
CHROME = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"
FIREFOX = "moz-extension://0b8e3f1c-54a1-4c2e-9d7a-2f3e4d5c6b7a"


@pytest.mark.parametrize("origin", [SAFARI, CHROME, FIREFOX, "capacitor://localhost",
                                    "tauri://LocalHost", "app://My.App:8080"])
@pytest.mark.parametrize("how", ["exact", "regex", "compiled", "callable"])
def test_origins_of_non_special_schemes_keep_their_case(origin: str, how: str) -> None:
    # The URL standard lower-cases hosts only for http(s), ws(s), ftp and file: a
    # Safari web extension sends its upper-case ID as is, and is matched as sent.
    entry: Any = {
        "exact": origin,
        "regex": re.escape(origin),
        "compiled": re.compile(re.escape(origin)),
        "callable": lambda value: value == origin,
    }[how]
    client = make_app(origins=[entry], supports_credentials=True).test_client()
    response = client.get("/api/data", headers={"Origin": origin})
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    for variant in {origin.lower(), origin.upper()} - {origin}:
        refused = client.get("/api/data", headers={"Origin": variant})
        assert "Access-Control-Allow-Origin" not in refused.headers, variant


@pytest.mark.parametrize("scheme", ["http", "https", "ws", "wss", "ftp"])
def test_origins_of_special_schemes_are_lower_case(scheme: str) -> None:
    # Configured in any case, matched as browsers send it; an upper-case host in a
    # request is not a serialized origin of these schemes.
    configured = f"{scheme.upper()}://App.Example:8000"
    sent = f"{scheme}://app.example:8000"
    matcher, problems = compile_origins([configured])
    assert not problems and matcher is not None
    assert matcher.check(sent, "p") is None
    assert parse_request_origin(f"{scheme}://App.example:8000") is None
    assert matcher.check(f"{scheme}://App.example:8000", "p") is not None


@given(st.sampled_from(["safari-web-extension", "x-app", "chrome-extension"]),
       st.from_regex(r"[A-Za-z0-9][A-Za-z0-9\-]{0,30}", fullmatch=True))
@settings(max_examples=100, deadline=None)
def test_a_non_special_origin_matches_exactly_its_own_spelling(scheme: str, host: str) -> None:
    origin = f"{scheme}://{host}"
    parsed = parse_request_origin(origin)
    assert parsed is not None and parsed.host == host
    matcher, _ = compile_origins([origin])
    assert matcher is not None and matcher.check(origin, "p") is None
    swapped = f"{scheme}://{host.swapcase()}"
    assert (matcher.check(swapped, "p") is None) == (swapped == origin)
