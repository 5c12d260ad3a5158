"""Property-based tests: generated policies and origins against a small reference model.

Hypothesis generates policies (exact origins, wildcard subdomains, regexes,
callables, ``null``, ``*``; credentials on or off) and request origins built
from the names each policy trusts, then bent into near-misses: extra labels,
prefixes, suffixes, other schemes and ports, special characters, unicode
look-alikes, percent-encoding, ``null``, empty values. For every case the
compiled policy and a real app must give the answer of the reference model
below, which is written to be obviously correct rather than fast.

Runs derandomized with a fixed number of examples by default (CI). For a longer,
random run::

    CROSSORIGIN_PROPERTY_EXAMPLES=20000 python -m pytest tests/test_properties.py \
        --hypothesis-show-statistics

The number of generated cases is printed at the end of the module.
"""

from __future__ import annotations

import logging
import os
import random
import re
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest
from flask import Flask, jsonify
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from flask_crossorigin import CORS
from flask_crossorigin.headers import HeaderListError, parse_request_headers
from flask_crossorigin.options import DEFAULT_METHODS
from flask_crossorigin.origins import parse_request_origin
from flask_crossorigin.policy import Decision, Policy, compile_policy

# -- how many examples -----------------------------------------------------------------------

_LONG_RUN = int(os.environ.get("CROSSORIGIN_PROPERTY_EXAMPLES", "0"))


def property_settings(ci_examples: int) -> settings:
    """``ci_examples`` derandomized examples, or the env var's number of random ones."""
    return settings(
        max_examples=_LONG_RUN or ci_examples,
        derandomize=not _LONG_RUN,
        database=None,
        deadline=None,  # the machine is shared: no per-example time limit
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                               HealthCheck.filter_too_much],
    )


@pytest.fixture(scope="module", autouse=True)
def quiet_callable_errors() -> Iterator[None]:
    """The raising callable below is logged at ERROR on every call: keep that out of reports."""
    logger = logging.getLogger("flask_crossorigin")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


#: Examples run and origins checked per test, printed when the module ends.
GENERATED: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def report_generated_cases(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    lines = [f"  {key}: {count:,}" for key, count in sorted(GENERATED.items())]
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if capture is None or reporter is None or not lines:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        for line in ["generated cases (tests/test_properties.py):", *lines]:
            reporter.write_line(line)


# -- the reference model -------------------------------------------------------------------

LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
DIGITS = frozenset("0123456789")
SCHEME_CHARS = LOWER | DIGITS | frozenset("+.-")
LABEL_CHARS = LOWER | DIGITS | frozenset("_-")
IPV6_CHARS = DIGITS | frozenset("abcdef:.")
UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
TOKEN_CHARS = LOWER | UPPER | DIGITS | frozenset("!#$%&'*+-.^_`|~")
DEFAULT_PORT = {"http": "80", "https": "443", "ws": "80", "wss": "443"}
MAX_ORIGIN = 1024  # longer than any real origin (hosts are at most 253 characters)


def split_origin(origin: str) -> tuple[str, str, str] | None:
    """(scheme, host, port) of an origin serialized as browsers send it, else ``None``.

    Lowercase ASCII scheme and host, labels of letters, digits, '-' and '_',
    IPv6 in brackets, a port only when it is not the scheme's default.
    """
    if len(origin) > MAX_ORIGIN:
        return None
    scheme, sep, rest = origin.partition("://")
    if not sep or not scheme or scheme[0] not in LOWER or not set(scheme) <= SCHEME_CHARS:
        return None
    if rest.startswith("["):
        inner, bracket, after = rest[1:].partition("]")
        if not bracket or not inner or not set(inner) <= IPV6_CHARS:
            return None
        host = f"[{inner}]"
        if after and not after.startswith(":"):
            return None
        colon, port = after[:1], after[1:]
    else:
        host, colon, port = rest.partition(":")
        labels = host.split(".")
        if not all(label and set(label) <= LABEL_CHARS for label in labels):
            return None
    if colon:
        if not port or not set(port) <= DIGITS or port[0] == "0" or int(port) > 65535:
            return None
        if DEFAULT_PORT.get(scheme) == port:
            return None
    return scheme, host, port


def once(names: list[str]) -> list[str]:
    """Each name once (compared case-insensitively), first spelling, in order."""
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(name.lower(), name)
    return list(seen.values())


def is_token(value: str) -> bool:
    return bool(value) and set(value) <= TOKEN_CHARS


def reference_header_names(value: str) -> list[str] | None:
    """``Access-Control-Request-Headers`` as names, or ``None`` when it must be refused."""
    if len(value) > 4096 or value.count(",") >= 64:
        return None  # the documented bounds: refused before parsing
    names: list[str] = []
    for element in value.split(","):
        name = element.strip(" \t")
        if not name:
            continue
        if not is_token(name):
            return None
        if name.lower() not in {n.lower() for n in names}:
            names.append(name)  # echoed as the client spelt it
    return names


@dataclass
class Spec:
    """A generated policy: its options and what the reference model needs to know."""

    options: dict[str, Any]
    any_origin: bool = False
    exact: set[str] = field(default_factory=set)  # as browsers send them
    wildcards: list[tuple[str, str, str]] = field(default_factory=list)
    regexes: list[str] = field(default_factory=list)
    callables: list[Callable[[str], Any]] = field(default_factory=list)
    seeds: list[str] = field(default_factory=list)  # origins built from the trusted names

    def opt(self, name: str, default: Any) -> Any:
        return self.options.get(name, default)

    @property
    def credentials(self) -> bool:
        return bool(self.opt("supports_credentials", False))

    @property
    def star(self) -> bool:
        """The grant is a literal '*' rather than the origin."""
        return self.any_origin and self.opt("send_wildcard", False)

    def granted_value(self, origin: str) -> str:
        """'*', or the origin echoed: a '*' policy never echoes a malformed value."""
        if self.star:
            return "*"
        if self.any_origin and origin not in self.exact and split_origin(origin) is None:
            return "*"
        return origin

    @property
    def methods(self) -> list[str] | None:
        methods = self.opt("methods", list(DEFAULT_METHODS))
        # Configured methods are normalized to uppercase, as flask-cors does, each
        # sent once; a request's method is then compared case-sensitively (Fetch).
        return None if methods == "*" else once([m.upper() for m in methods])

    @property
    def allow_headers(self) -> set[str] | None:
        allow = self.opt("allow_headers", "*")
        return None if allow == "*" else {name.lower() for name in allow}

    def grants(self, origin: str) -> bool:
        """The reference decision for a request's ``Origin``."""
        if origin in self.exact:  # includes 'null' when it is listed
            return True
        if origin == "null":
            return False
        if self.any_origin:
            return True  # malformed values too: '*' grants everyone (never echoed)
        parts = split_origin(origin)
        if parts is None:
            return False  # malformed values never reach a regex or a callable
        scheme, host, port = parts
        for w_scheme, parent, w_port in self.wildcards:
            if scheme == w_scheme and port == w_port and host.endswith("." + parent):
                return True
        if any(re.fullmatch(pattern, origin) for pattern in self.regexes):
            return True
        for allow in self.callables:  # in order; an error refuses (fail closed)
            try:
                if allow(origin):
                    return True
            except Exception:
                return False
        return False

    def actual_headers(self, origin: str | None) -> dict[str, str]:
        """The CORS headers of an actual response to a request from ``origin``."""
        if origin is None:
            granted = self.any_origin and self.opt("always_send", True)
        else:
            granted = self.grants(origin)
        if not granted:
            return {}
        headers = {"Access-Control-Allow-Origin": "*" if origin is None
                   else self.granted_value(origin)}
        if self.credentials:
            headers["Access-Control-Allow-Credentials"] = "true"
        expose = self.opt("expose_headers", None)
        if expose:  # each name once, in its first spelling
            headers["Access-Control-Expose-Headers"] = ", ".join(sorted(once(expose)))
        return headers

    def preflight_headers(
        self, origin: str | None, method: str, request_headers: str | None, pna: str | None
    ) -> dict[str, str] | None:
        """The CORS headers of a preflight answer, or ``None`` when it is refused."""
        if origin is None or not self.grants(origin) or not is_token(method):
            return None
        methods = self.methods
        if methods is not None and method not in methods:
            return None
        names: list[str] = []
        if request_headers:
            parsed = reference_header_names(request_headers)
            if parsed is None:
                return None
            allow = self.allow_headers
            if allow is not None and not {name.lower() for name in parsed} <= allow:
                return None
            names = parsed
        headers = {
            "Access-Control-Allow-Origin": self.granted_value(origin),
            "Access-Control-Allow-Methods": method if methods is None else ", ".join(methods),
        }
        if names:
            headers["Access-Control-Allow-Headers"] = ", ".join(names)
        if self.credentials:
            headers["Access-Control-Allow-Credentials"] = "true"
        expose = self.opt("expose_headers", None)
        if expose:  # as flask-cors: on granted preflights too (issue 23)
            headers["Access-Control-Expose-Headers"] = ", ".join(sorted(once(expose)))
        if self.opt("max_age", None) is not None:
            headers["Access-Control-Max-Age"] = str(self.options["max_age"])
        if self.opt("allow_private_network", False) and pna == "true":
            headers["Access-Control-Allow-Private-Network"] = "true"
        return headers

    @property
    def actual_varies(self) -> bool:
        """Whether actual responses must carry ``Vary: Origin``.

        Always, unless turned off: every policy answers some origins and not others
        (even '*' refuses 'null' and malformed origins), so a shared cache must keep
        the answers apart.
        """
        return bool(self.opt("vary_header", True))


# -- callables a policy may hold (module level, so that they have names) --------------------

def ends_with_cb(origin: str) -> bool:
    return origin.endswith(".cb.example")


def port_9000(origin: str) -> bool:
    return origin.endswith(":9000")


def raises_on_evil(origin: str) -> bool:
    if "evil" in origin:
        raise ValueError("no evil here")
    return origin == "https://cbonly.example"


def truthy_string(origin: str) -> str:
    return "yes" if origin.startswith("https://truthy.") else ""


CALLABLES: dict[Callable[[str], Any], list[str]] = {
    ends_with_cb: ["https://a.cb.example", "http://x.y.cb.example:8080"],
    port_9000: ["http://localhost:9000", "https://app.example.com:9000"],
    raises_on_evil: ["https://cbonly.example", "https://evil.cbonly.example"],
    truthy_string: ["https://truthy.example", "https://truthy.a.example"],
}

REGEXES = [
    r"https://[a-z0-9-]+\.regex\.example",
    r"http://localhost:\d+",
    r"https://(?:alpha|beta)\.example\.org",
    r"https?://static\.example\.net(?::\d{2,5})?",
    r"^https://anchored\.example$",
    re.compile(r"https://.*\.dyn\.example"),
]

HOSTS = ["example.com", "app.example.com", "corp.example.net", "localhost", "tenant-1.example.org",
         "127.0.0.1", "xn--bcher-kva.example", "[::1]", "[2001:db8::a]"]
PARENTS = ["example.com", "example.net", "corp.example.org", "localhost", "dyn.example"]
SCHEMES = ["https", "http", "wss"]
PORTS = ["", "", "8080", "8443", "3000"]
TOKEN_NAMES = ["Content-Type", "X-Token", "Authorization", "X-Requested-With", "x-custom-1",
               "Accept", "X-Api-Key", "If-Match", "x_under", "X-A~b!"]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "PURGE", "OPTIONS", "HEAD", "patch", "Mkcol"]


@st.composite
def exact_entries(draw: st.DrawFn) -> tuple[str, str]:
    """A configured exact origin and the form browsers send (lowercase, as normalized)."""
    scheme, host, port = draw(st.sampled_from(SCHEMES)), draw(st.sampled_from(HOSTS)), draw(
        st.sampled_from(PORTS))
    sent = f"{scheme}://{host}" + (f":{port}" if port else "")
    written = sent.upper() if draw(st.integers(0, 4)) == 0 else sent
    return written, sent


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    """A valid policy configuration, and its reference model."""
    spec = Spec(options={})
    entries: list[Any] = []
    if draw(st.integers(0, 5)) == 0:
        spec.any_origin = True
        entries.append("*")
        if draw(st.booleans()):
            entries.append("null")
            spec.exact.add("null")
    else:
        for written, sent in draw(st.lists(exact_entries(), max_size=4)):
            entries.append(written)
            spec.exact.add(sent)
            spec.seeds.append(sent)
        for scheme, parent, port in draw(st.lists(st.tuples(
                st.sampled_from(SCHEMES), st.sampled_from(PARENTS), st.sampled_from(PORTS)),
                max_size=3)):
            entries.append(f"{scheme}://*.{parent}" + (f":{port}" if port else ""))
            spec.wildcards.append((scheme, parent, port))
            suffix = f":{port}" if port else ""
            spec.seeds += [f"{scheme}://a.{parent}{suffix}", f"{scheme}://x-1.b_2.{parent}{suffix}",
                           f"{scheme}://{parent}{suffix}"]
        for regex in draw(st.lists(st.sampled_from(REGEXES), max_size=2, unique=True)):
            entries.append(regex)
            pattern = regex.pattern if isinstance(regex, re.Pattern) else regex
            spec.regexes.append(pattern)
            spec.seeds.append(draw(st.from_regex(pattern, fullmatch=True)))
        for allow in draw(st.lists(st.sampled_from(list(CALLABLES)), max_size=2, unique=True)):
            entries.append(allow)
            spec.callables.append(allow)
            spec.seeds += CALLABLES[allow]
        if draw(st.integers(0, 4)) == 0:
            entries.append("null")
            spec.exact.add("null")
        if not entries:
            entries.append("https://only.example")
            spec.exact.add("https://only.example")
        spec.seeds += sorted(spec.exact)
        if draw(st.booleans()):
            spec.options["supports_credentials"] = True
    # A lone entry is given alone or in a list (a regex with '{2,5}' included).
    spec.options["origins"] = entries if len(entries) > 1 or draw(st.booleans()) else entries[0]
    for flag in ("send_wildcard", "always_send", "vary_header", "allow_private_network"):
        if draw(st.booleans()):
            spec.options[flag] = draw(st.booleans())
    if draw(st.booleans()):
        spec.options["methods"] = draw(st.one_of(
            st.just("*"),
            st.lists(st.sampled_from(METHODS), min_size=1, max_size=5)))
    if draw(st.booleans()):
        spec.options["allow_headers"] = draw(st.one_of(
            st.just("*"), st.lists(st.sampled_from(TOKEN_NAMES + ["x-token", "CONTENT-TYPE"]),
                                   min_size=1, max_size=5)))
    if draw(st.booleans()):
        choices = st.lists(st.sampled_from(TOKEN_NAMES + ["x-token", "X-API-KEY"]),
                           min_size=1, max_size=4)
        if not spec.credentials:
            choices = st.one_of(st.just(["*"]), choices)
        spec.options["expose_headers"] = draw(choices)
    if draw(st.booleans()):
        spec.options["max_age"] = draw(st.integers(0, 86400))
    spec.seeds = spec.seeds or ["https://example.com"]
    return spec


# -- near-misses -------------------------------------------------------------------------------

SPECIAL = list("_`$~&!'()*+,;=%-.:/@?#[] \t") + ["\r\n", "\x00", "\x7f"]
LOOKALIKES = {".": ["．", "。", "%2e", ".."], "a": ["а", "ä", "A"], "e": ["е", "é", "E"],
              "o": ["о", "0", "ö"], "l": ["1", "I", "ⅼ"], "/": ["\\", "//", "%2f"]}
WIDE_ALPHABET = st.characters(codec="utf-8", exclude_categories=("Cs",))


def _host_bounds(origin: str) -> tuple[int, int]:
    start = origin.find("://")
    start = 0 if start == -1 else start + 3
    end = origin.find(":", start)
    return start, len(origin) if end == -1 else end


@st.composite
def near_miss(draw: st.DrawFn, origin: str) -> str:
    """One step away from ``origin``: the tricks the attack classes use."""
    start, end = _host_bounds(origin)
    kind = draw(st.integers(0, 15))
    if kind == 0:  # more labels after the trusted name
        labels = draw(st.sampled_from([".evil.net", ".com", ".", ".example.com"]))
        return origin[:end] + labels + origin[end:]
    if kind == 1:  # more characters after it
        return origin[:end] + draw(st.sampled_from(SPECIAL + ["evil", "evil.net"])) + origin[end:]
    if kind == 2:  # something before it: a prefix, or another label
        prefix = draw(st.sampled_from(["evil", "evil.", "evil-", ".", "*.", "a.b."]))
        return origin[:start] + prefix + origin[start:]
    if kind == 3:  # scheme changes
        scheme = draw(st.sampled_from(["http", "https", "HTTPS", "ws", "wss", "ftp", "", "https:",
                                       "http+unix", "chrome-extension"]))
        return scheme + origin[origin.find("://"):] if "://" in origin else scheme + "://" + origin
    if kind == 4:  # port changes
        port = draw(st.sampled_from(["", ":443", ":80", ":0", ":65535", ":65536", ":08080",
                                     ":8080", ":", ":9000", ":99999", ":+80", ": 80"]))
        return origin[:end] + port
    if kind == 5:  # path, query, fragment, userinfo, a list
        return origin + draw(st.sampled_from(["/", "/x", "?q", "#f", "@evil.net", ", https://evil.net",
                                              " https://evil.net", "/.evil.net"]))
    if kind == 6:  # userinfo in front
        return origin[:start] + draw(st.sampled_from(["user@", "evil.net@", ":@"])) + origin[start:]
    if kind in (7, 8) and origin:  # a look-alike character, or a case change
        index = draw(st.integers(0, len(origin) - 1))
        char = origin[index]
        swap = draw(st.sampled_from(LOOKALIKES.get(char, [char.upper(), char.swapcase() + char])))
        return origin[:index] + swap + origin[index + 1:]
    if kind == 9 and origin:  # percent-encode one character of the host
        index = draw(st.integers(start, max(start, end - 1)))
        if index < len(origin):
            return origin[:index] + f"%{ord(origin[index]):02X}" + origin[index + 1:]
        return origin
    if kind == 10:  # whitespace or control characters around or inside
        index = draw(st.integers(0, len(origin)))
        return origin[:index] + draw(st.sampled_from([" ", "\t", "\r\n", "\n", "\x00", "\u2028",
                                                      "\ufeff"])) + origin[index:]
    if kind == 11 and origin:  # delete, duplicate or replace one character
        index = draw(st.integers(0, len(origin) - 1))
        how = draw(st.integers(0, 2))
        if how == 0:
            return origin[:index] + origin[index + 1:]
        if how == 1:
            return origin[:index] + origin[index] + origin[index:]
        return origin[:index] + draw(WIDE_ALPHABET) + origin[index + 1:]
    if kind == 12:  # cut short
        return origin[:draw(st.integers(0, len(origin)))]
    if kind == 13:  # much too long, though otherwise well formed
        return origin[:start] + "a." * draw(st.integers(300, 700)) + origin[start:]
    if kind == 14:  # the values everybody tries
        return draw(st.sampled_from(["null", "", "*", "null ", "NULL", "file://", "https://",
                                     "about:blank", "data:", " ", "undefined"]))
    return draw(st.text(WIDE_ALPHABET, max_size=40))  # anything at all


@st.composite
def origins_for(draw: st.DrawFn, spec: Spec) -> str:
    """A request origin: one of the policy's own, or a near-miss of one (up to three steps)."""
    origin = draw(st.sampled_from(spec.seeds))
    for _ in range(draw(st.integers(0, 3))):
        origin = draw(near_miss(origin))
    return origin


@st.composite
def request_header_lists(draw: st.DrawFn) -> str:
    """``Access-Control-Request-Headers`` values: browser-like, sloppy and hostile."""
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return ",".join(sorted(n.lower() for n in draw(st.lists(st.sampled_from(TOKEN_NAMES),
                                                                 max_size=4, unique=True))))
    if kind == 1:
        separators = st.sampled_from([",", ", ", " ,", ",,", "\t,", " , ", ",\t"])
        names = draw(st.lists(st.sampled_from(TOKEN_NAMES + ["x y", "é", "x\r\ny", "a:b", ""]),
                              max_size=6))
        return "".join(name + draw(separators) for name in names)
    if kind == 2:  # around the bounds
        count = draw(st.sampled_from([63, 64, 65, 1000, 10000]))
        return ",".join(f"x-h{i}" for i in range(count))
    if kind == 3:
        return draw(st.sampled_from([",", " ", "\t"])) * draw(st.sampled_from([1, 63, 64, 4096,
                                                                              4097, 70000]))
    if kind == 4:
        return "x-" + "a" * draw(st.sampled_from([4093, 4094, 4095, 5000]))
    return draw(st.text(WIDE_ALPHABET, max_size=30))


def preflight_methods(spec: Spec) -> st.SearchStrategy[str]:
    """Mostly methods the policy allows (so that grants are common), else anything."""
    allowed = st.sampled_from(spec.methods or list(DEFAULT_METHODS))
    hostile = st.one_of(st.sampled_from(METHODS + ["put", "get", "GET, PUT", "", "PUT\r\n"]),
                        st.text(WIDE_ALPHABET, max_size=8))
    return st.one_of(allowed, allowed, hostile)


def preflight_header_lists(spec: Spec) -> st.SearchStrategy[str | None]:
    """None, a browser's list of names the policy allows, or any list at all."""
    allowed = sorted(spec.allow_headers or {name.lower() for name in TOKEN_NAMES})
    browser = st.lists(st.sampled_from(allowed), max_size=4, unique=True).map(
        lambda names: ",".join(sorted(names)))
    return st.one_of(st.none(), browser, browser, request_header_lists())


# -- properties on the compiled policy -----------------------------------------------------------

def compile_spec(spec: Spec) -> Policy:
    return compile_policy("generated", [("test", spec.options)])


def assert_valid_header_values(headers: dict[str, str] | tuple[tuple[str, str], ...]) -> None:
    items = headers.items() if isinstance(headers, dict) else headers
    for name, value in items:
        assert not set(value) & {"\r", "\n", "\x00"}, (name, value)
        if name in ("Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
                    "Access-Control-Expose-Headers", "Vary"):
            listed = [item.strip() for item in value.split(",")]
            assert all(is_token(item) for item in listed), (name, value)
            folded = listed if name == "Access-Control-Allow-Methods" else [
                item.lower() for item in listed]
            assert len(set(folded)) == len(folded), f"duplicate in {name}: {value!r}"


@property_settings(ci_examples=500)
@given(data=st.data())
def test_policy_decisions_match_the_reference_model(data: st.DataObject) -> None:
    spec = data.draw(specs(), label="policy")
    policy = compile_spec(spec)
    origins = data.draw(st.lists(origins_for(spec), min_size=1, max_size=8), label="origins")
    GENERATED["policies"] += 1
    for origin in origins:
        GENERATED["origins checked against the model"] += 1
        expected = spec.actual_headers(origin)
        event("granted" if expected else "refused")
        decision = policy.actual(origin)
        assert dict(decision.headers) == expected, (spec.options, origin, decision.headers)
        assert len(decision.headers) == len(expected)  # no header twice
        assert decision.granted == bool(expected)
        assert (decision.refusal is None) == bool(expected)
        assert_valid_header_values(decision.headers)
        if spec.actual_varies:
            assert "Origin" in decision.vary
        if not expected:
            assert all(origin not in value for _, value in decision.headers)
    no_origin = policy.actual(None)
    assert dict(no_origin.headers) == spec.actual_headers(None)


@property_settings(ci_examples=400)
@given(data=st.data())
def test_preflight_decisions_match_the_reference_model(data: st.DataObject) -> None:
    spec = data.draw(specs(), label="policy")
    policy = compile_spec(spec)
    cases = [None] + data.draw(st.lists(origins_for(spec), min_size=1, max_size=4))
    for origin in cases:
        method = data.draw(preflight_methods(spec), label="method")
        requested = data.draw(preflight_header_lists(spec), label="headers")
        pna = data.draw(st.sampled_from([None, "true", "false", "TRUE"]), label="pna")
        GENERATED["preflights checked against the model"] += 1
        expected = spec.preflight_headers(origin, method, requested, pna)
        event("preflight granted" if expected is not None else "preflight refused")
        decision = policy.preflight(origin, method, requested, pna)
        if expected is None:
            assert decision.refusal is not None and decision.headers == (), (spec.options, origin)
        else:
            assert decision.refusal is None, (spec.options, origin, decision.refusal)
            assert dict(decision.headers) == expected, (spec.options, origin)
            assert len(decision.headers) == len(expected)
        assert_valid_header_values(decision.headers)
        if spec.opt("vary_header", True):
            assert {"Origin", "Access-Control-Request-Method",
                    "Access-Control-Request-Headers"} <= set(decision.vary)


@property_settings(ci_examples=1000)
@given(origin=st.one_of(
    st.text(WIDE_ALPHABET, max_size=40),
    st.sampled_from([*HOSTS, *PARENTS]).flatmap(
        lambda host: near_miss(f"https://{host}") | near_miss(f"http://{host}:8080")),
    st.from_regex(r"[a-z][a-z0-9+.\-]{0,6}://(?:[a-z0-9_\-.]{1,20}|\[[0-9a-f:.]{1,12}\])"
                  r"(?::[0-9]{0,6})?", fullmatch=True),
))
def test_origin_parsing_matches_the_reference(origin: str) -> None:
    GENERATED["origins parsed"] += 1
    parsed = parse_request_origin(origin)
    expected = split_origin(origin)
    event("well formed" if expected else "malformed")
    if expected is None:
        assert parsed is None, origin
    else:
        assert parsed is not None, origin
        assert (parsed.scheme, parsed.host, parsed.port) == expected
        # Only canonical serializations are accepted: they round-trip byte for byte.
        rebuilt = f"{parsed.scheme}://{parsed.host}" + (f":{parsed.port}" if parsed.port else "")
        assert rebuilt == origin


@property_settings(ci_examples=800)
@given(value=request_header_lists())
def test_request_header_parsing_matches_the_reference(value: str) -> None:
    GENERATED["request-header lists parsed"] += 1
    expected = reference_header_names(value)
    try:
        names = parse_request_headers(value)
    except HeaderListError as error:
        assert expected is None, (value[:80], error.code)
        assert error.code in ("headers-too-long", "headers-malformed")
        return
    assert names == [name.lower() for name in expected]
    assert len(names) <= 64 and all(is_token(name) and name == name.lower() for name in names)
    assert parse_request_headers(value, keep_case=True) == expected


# -- properties on a real app ---------------------------------------------------------------

def build_app(spec: Spec) -> Flask:
    app = Flask(__name__)

    @app.route("/api/data", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def data() -> Any:
        return jsonify(ok=True)

    @app.route("/api/vary")
    def vary() -> Any:
        response = jsonify(ok=True)
        response.headers["Vary"] = "Accept-Encoding"
        return response

    CORS(app, **spec.options)
    return app


def cors_headers(response: Any) -> dict[str, str]:
    return {name: value for name, value in response.headers.items()
            if name.startswith("Access-Control-")}


def vary_items(response: Any) -> list[str]:
    return [item.strip() for line in response.headers.getlist("Vary")
            for item in line.split(",")]


def assert_well_formed_response(response: Any) -> None:
    assert response.status_code < 500
    names = [name for name, _ in response.headers.items()]
    for name in set(names):
        if name.startswith("Access-Control-") or name == "Vary":
            assert names.count(name) == 1, f"{name} sent {names.count(name)} times"
    assert_valid_header_values(tuple(response.headers.items()))


def assert_not_echoed(origin: str, response: Any, neutral: Any) -> None:
    """A refused origin is never written into a header: the response carries only headers
    that the same request without an Origin gets too (so no grant, and no echo)."""
    extra = set(response.headers.items()) - set(neutral.headers.items())
    assert not extra, (origin, extra)
    assert not any(name.startswith("Access-Control-Allow") for name, _ in response.headers)


@property_settings(ci_examples=150)
@given(data=st.data())
def test_app_responses_are_valid_and_match_the_model(data: st.DataObject) -> None:
    spec = data.draw(specs(), label="policy")
    client = build_app(spec).test_client()
    baseline = {path: client.get(path) for path in ("/api/data", "/api/vary")}
    for response in baseline.values():
        assert cors_headers(response) == spec.actual_headers(None)
    # A preflight every policy refuses: the yardstick for other refusals. (Without an
    # Origin a preflight is no CORS request: Flask answers it.)
    # A malformed header list is refused by every policy, even one that allows 'null'.
    refused_preflight = client.options("/api/data", environ_overrides={
        "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "GET", "HTTP_ORIGIN": "null",
        "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "not a list"})
    assert refused_preflight.status_code == 403 and cors_headers(refused_preflight) == {}
    for origin in data.draw(st.lists(origins_for(spec), min_size=1, max_size=4), label="origins"):
        GENERATED["app requests checked against the model"] += 2
        path = data.draw(st.sampled_from(["/api/data", "/api/vary"]))
        response = client.get(path, environ_overrides={"HTTP_ORIGIN": origin})
        assert_well_formed_response(response)
        expected = spec.actual_headers(origin)
        assert cors_headers(response) == expected, (spec.options, origin)
        vary = vary_items(response)
        assert len({v.lower() for v in vary}) == len(vary), vary
        if path == "/api/vary":
            assert "Accept-Encoding" in vary  # the view's own Vary is kept
        if spec.actual_varies:
            assert "Origin" in vary, (spec.options, origin, vary)
        if not expected:
            assert_not_echoed(origin, response, baseline[path])
        requested = data.draw(preflight_header_lists(spec), label="headers")
        method = data.draw(preflight_methods(spec), label="method")
        environ = {"HTTP_ORIGIN": origin, "HTTP_ACCESS_CONTROL_REQUEST_METHOD": method}
        if requested is not None:
            environ["HTTP_ACCESS_CONTROL_REQUEST_HEADERS"] = requested
        answer = client.options("/api/data", environ_overrides=environ)
        assert_well_formed_response(answer)
        want = spec.preflight_headers(origin, method, requested, None)
        assert answer.status_code == (403 if want is None else 204)
        assert cors_headers(answer) == (want or {}), (spec.options, origin, method, requested)
        if spec.opt("vary_header", True):
            assert {"Origin", "Access-Control-Request-Method",
                    "Access-Control-Request-Headers"} <= set(vary_items(answer))
        if want is None:
            assert_not_echoed(origin, answer, refused_preflight)
    GENERATED["apps"] += 1


# -- concurrency: one policy, many threads, no per-request state ------------------------------

def snapshot(obj: Any, depth: int = 0) -> Any:
    """A comparable picture of an object's state, following attributes and containers.

    Containers are compared without regard to order (a cache filled by racing
    threads holds the same entries in another order)."""
    if depth > 6 or obj is None or isinstance(obj, (str, int, float, bool, re.Pattern)):
        return obj
    if callable(obj) and not isinstance(obj, (Policy, Decision)):
        return ("callable", id(obj))
    if isinstance(obj, dict):
        return ("dict", tuple(sorted(((repr(k), snapshot(v, depth + 1)) for k, v in obj.items()),
                                     key=repr)))
    if isinstance(obj, (list, tuple, set, frozenset)):
        items = [snapshot(v, depth + 1) for v in obj]
        return (type(obj).__name__, tuple(sorted(items, key=repr)))
    slots = [s for cls in type(obj).__mro__ for s in getattr(cls, "__slots__", ())]
    state = {name: getattr(obj, name) for name in slots if hasattr(obj, name)}
    state.update(getattr(obj, "__dict__", {}))
    pairs = sorted((key, snapshot(value, depth + 1)) for key, value in state.items())
    return (type(obj).__name__, tuple(pairs))


@property_settings(ci_examples=12)
@given(data=st.data())
def test_one_policy_shared_by_many_threads_holds_no_request_state(data: st.DataObject) -> None:
    spec = data.draw(specs(), label="policy")
    policy = compile_spec(spec)
    origins = data.draw(st.lists(origins_for(spec), min_size=20, max_size=40), label="origins")
    expected = {origin: spec.actual_headers(origin) for origin in origins}
    wrong: list[tuple[str, Any]] = []
    barrier = threading.Barrier(16)

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        mine = origins * 8
        rng.shuffle(mine)
        barrier.wait()
        for origin in mine:
            got = dict(policy.actual(origin).headers)
            if got != expected[origin]:
                wrong.append((origin, got))
            answer = policy.preflight(origin, "GET", "x-token", None)
            if (answer.refusal is None) != (spec.preflight_headers(origin, "GET", "x-token", None)
                                            is not None):
                wrong.append((origin, answer.headers))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often, to interleave the lookups
    try:
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    GENERATED["threaded decisions checked"] += 16 * len(origins) * 8 * 2
    assert wrong == []
    # Whatever the policy keeps (a bounded cache, say) may not depend on how many
    # requests it served, in which order or from which threads: its state after this
    # concurrent run equals that of a twin policy that saw each origin once, alone.
    twin = compile_spec(spec)
    for origin in origins:
        twin.actual(origin)
        twin.preflight(origin, "GET", "x-token", None)
    assert snapshot(policy) == snapshot(twin)
