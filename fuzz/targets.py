"""Fuzz targets over origin parsing and request-header parsing.

One entry point, :func:`one_input`, takes raw bytes as a fuzzer makes them and
decodes them the way a WSGI server hands header values to the app (latin-1).
Its first byte picks a target, the rest is split into fields on ``\\x1f``:

* origins: the strict ``Origin`` parser and a policy's decision on it;
* request headers: ``Access-Control-Request-Headers`` parsing;
* preflight: a whole preflight (origin, method, request headers, PNA).

Each target asserts invariants that hold for every input; a failed assertion or
any other exception is a finding. Used by ``fuzz_crossorigin.py`` (atheris) and
by the test suite (hypothesis), so both drive exactly the same checks.
"""

from __future__ import annotations

import re

from flask_crossorigin.headers import (
    MAX_REQUEST_HEADERS_COUNT,
    MAX_REQUEST_HEADERS_LENGTH,
    TOKEN,
    HeaderListError,
    parse_request_headers,
)
from flask_crossorigin.origins import MAX_ORIGIN_LENGTH, SPECIAL_SCHEMES, parse_request_origin
from flask_crossorigin.policy import ACAC, ACAH, ACAM, ACAO, compile_policy

TRUSTED_EXACT = "https://example.com"
TRUSTED_PARENT = ".example.com"
TRUSTED_REGEX = re.compile(r"http://localhost:[0-9]+")
ALLOWED_HEADERS = frozenset({"content-type", "x-token", "authorization"})

POLICY = compile_policy("fuzz", [("fuzz", {
    "origins": [TRUSTED_EXACT, "https://*.example.com", TRUSTED_REGEX],
    "supports_credentials": True,
    "allow_headers": sorted(ALLOWED_HEADERS),
    "methods": ["GET", "PUT", "DELETE"],
    "allow_private_network": True,
    "max_age": 600,
})])

SEPARATOR = "\x1f"


def _no_line_breaks(headers: tuple[tuple[str, str], ...]) -> None:
    for name, value in headers:
        assert TOKEN.fullmatch(name), name
        assert not set(value) & {"\r", "\n", "\x00"}, (name, value)


def _trusted(origin: str) -> bool:
    """What the policy trusts, said without the library: a well-formed origin only."""
    if origin == TRUSTED_EXACT:
        return True
    if parse_request_origin(origin) is None:
        return False
    if TRUSTED_REGEX.fullmatch(origin):
        return True
    host = origin[len("https://"):]
    return origin.startswith("https://") and host.endswith(TRUSTED_PARENT) and ":" not in host \
        and len(host) > len(TRUSTED_PARENT)


def check_origin(origin: str) -> None:
    parsed = parse_request_origin(origin)
    if parsed is not None:
        # Only canonical serializations parse, and they round-trip byte for byte.
        rebuilt = f"{parsed.scheme}://{parsed.host}" + (f":{parsed.port}" if parsed.port else "")
        assert rebuilt == origin, (rebuilt, origin)
        assert len(origin) <= MAX_ORIGIN_LENGTH and origin.isascii()
        # Hosts of special schemes are lowercase; others keep their case (the URL
        # standard: Safari's extension origins carry upper-case IDs). Schemes never do.
        if parsed.scheme in SPECIAL_SCHEMES:
            assert origin == origin.lower()
        else:
            assert parsed.scheme == parsed.scheme.lower()
    decision = POLICY.actual(origin)
    _no_line_breaks(decision.headers)
    assert "Origin" in decision.vary
    if decision.refusal is None:
        assert _trusted(origin), origin
        headers = dict(decision.headers)
        assert headers[ACAO] == origin and headers[ACAC] == "true"
    else:
        assert not _trusted(origin), origin
        assert decision.headers == ()
        assert "\n" not in decision.refusal.message and "\r" not in decision.refusal.message


def check_request_headers(value: str) -> None:
    try:
        names = parse_request_headers(value)
    except HeaderListError as error:
        assert error.code in ("headers-too-long", "headers-malformed"), error.code
        return
    assert len(value) <= MAX_REQUEST_HEADERS_LENGTH
    assert value.count(",") < MAX_REQUEST_HEADERS_COUNT
    assert len(names) == len(set(names)) <= MAX_REQUEST_HEADERS_COUNT
    for name in names:
        assert TOKEN.fullmatch(name) and name == name.lower(), name


def check_preflight(origin: str, method: str, request_headers: str, pna: str) -> None:
    decision = POLICY.preflight(origin, method, request_headers or None, pna or None)
    _no_line_breaks(decision.headers)
    if decision.refusal is not None:
        assert decision.headers == ()
        message = decision.refusal.message
        assert "\n" not in message and "\r" not in message
        return
    headers = dict(decision.headers)
    assert _trusted(origin) and headers[ACAO] == origin
    assert method in ("GET", "PUT", "DELETE") and headers[ACAM] == "GET, PUT, DELETE"
    requested = headers.get(ACAH, "")  # echoed as sent, compared case-insensitively
    assert {name.lower() for name in requested.split(", ") if name} <= ALLOWED_HEADERS


def one_input(data: bytes) -> None:
    """Run one fuzzer input through the target its first byte selects."""
    if not data:
        return
    fields = data[1:].decode("latin-1").split(SEPARATOR)
    target = data[0] % 3
    if target == 0:
        check_origin(fields[0])
    elif target == 1:
        check_request_headers(fields[0])
    else:
        fields += [""] * 4
        check_preflight(*fields[:4])
