"""Regexes that allow origins anyone can own are '*' in disguise: with credentials,
a ConfigurationError like origins='*' (issue 16).

The line: a regex allowed with credentials must not allow an origin on a
registrable domain chosen at random, nor a look-alike of a domain it names
('evilexample.com', 'example.com.evil.com', a new subdomain of a public suffix).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from flask_crossorigin import CORS, ConfigurationError, cross_origin
from flask_crossorigin.origins import FRESH_ORIGINS, _public_suffixes, open_probe

OPEN = [
    r".*", r".+", r"https?://.*", r"https?://.+", r"(https?://)?.*", r"https://[^/]+",
    r"https://[a-z0-9.-]+", r"https://[\w.-]+", r"https://\w+\.\w+", r"https://[a-z]+\.com",
    r"https://[a-z]{5}\.com", r"https://(www\.)?[a-z0-9-]+\.(com|net|org)",
    r"http://\d+\.\d+\.\d+\.\d+(:\d+)?", r"https://.*example\.com", r"https://example\.com.*",
    r"https://[a-z0-9-]+\.github\.io", r"https://.*\.herokuapp\.com", r"[a-z]+://.*",
]
CLOSED = [
    r"https://([a-z0-9-]+\.)*example\.com", r"https://[a-z0-9-]+\.example\.com",
    r"https://(app|www)\.example\.com", r"http://localhost(:\d+)?",
    r"http://(localhost|127\.0\.0\.1):\d+", r"http://192\.168\.\d+\.\d+(:\d+)?",
    r"https://myapp\.github\.io", r"https://pr-\d+\.preview\.example\.org",
    r"chrome-extension://[a-p]{32}", r"https://(.+\.)?example\.com",
]


@pytest.mark.parametrize("pattern", OPEN)
@pytest.mark.parametrize("form", ["string", "compiled"])
def test_an_open_regex_with_credentials_is_a_configuration_error(pattern: str, form: str) -> None:
    entry: Any = pattern if form == "string" else re.compile(pattern)
    with pytest.raises(ConfigurationError, match="domains anyone can register") as caught:
        CORS(Flask(__name__), origins=["https://a.example", entry], supports_credentials=True)
    assert "origins='*' in disguise" in str(caught.value)
    assert r"([a-z0-9-]+\.)*example\.com" in str(caught.value)  # the fix


@pytest.mark.parametrize("pattern", OPEN)
def test_an_open_regex_without_credentials_starts(pattern: str) -> None:
    CORS(Flask(__name__), origins=[pattern])  # '*' is allowed without credentials, too


@pytest.mark.parametrize("pattern", CLOSED)
def test_a_regex_that_names_your_domains_starts_with_credentials(pattern: str) -> None:
    CORS(Flask(__name__), origins=[pattern], supports_credentials=True)


def test_the_line_holds_for_decorators_resources_and_config() -> None:
    app = Flask(__name__)
    app.config["CORS_ORIGINS"] = [r"https?://.*"]
    with pytest.raises(ConfigurationError, match=r"app.config\['CORS_ORIGINS'\]"):
        CORS(app, supports_credentials=True)
    with pytest.raises(ConfigurationError, match="anyone can register"):
        CORS(Flask(__name__), resources={"/api/*": {"origins": [re.compile(".+")],
                                                    "supports_credentials": True}})
    with pytest.raises(ConfigurationError, match="anyone can register"):
        cross_origin(origins=[r".*"], supports_credentials=True)  # checked at import
    app = Flask(__name__)
    app.config["CORS_ORIGINS"] = [r"https?://.*"]  # ... or with the app's config keys

    @app.route("/x")
    @cross_origin(supports_credentials=True)
    def x() -> str:
        return "x"

    with pytest.raises(ConfigurationError, match="anyone can register"):
        CORS(app)


# -- the property -----------------------------------------------------------------------

LABEL = st.from_regex(r"[a-z][a-z0-9-]{0,20}[a-z0-9]", fullmatch=True)
TLD = st.sampled_from(["com", "net", "org", "io", "dev", "co.uk", "app", "xyz", "info"])

SCHEMES = st.sampled_from([r"https://", r"https?://", r"(http|https)://", r"[a-z]+://",
                           r"https?:\/\/", ""])
HOSTS = st.sampled_from([r".*", r".+", r"[^/]+", r"[a-z0-9.-]+", r"[\w.-]+", r"(\w+\.)+\w+",
                         r"[a-z0-9-]+\.[a-z.]+", r"([a-z0-9-]+\.)*[a-z0-9-]+",
                         r"[^.]+\.(com|net|org|io|dev|co\.uk|app|xyz|info)",
                         r"[a-z0-9-]{1,63}\.[a-z]{2,}(\.[a-z]{2})?"])
PORTS = st.sampled_from(["", r"(:\d+)?", r"(:[0-9]{2,5})?"])


@given(SCHEMES, HOSTS, PORTS)
@settings(max_examples=150, deadline=None)
def test_every_open_construction_is_refused_with_credentials(
    scheme: str, host: str, port: str
) -> None:
    pattern = scheme + host + port
    if scheme == "" and not host.startswith("."):
        pattern = r"https://" + host + port
    with pytest.raises(ConfigurationError, match="anyone can register"):
        CORS(Flask(__name__), origins=[pattern], supports_credentials=True)


@given(LABEL, TLD, LABEL, st.sampled_from([
    r"https://([a-z0-9-]+\.)*{d}", r"https://[a-z0-9-]+\.{d}", r"https://(www\.)?{d}",
    r"https?://{d}(:\d+)?", r"https://(.+\.)?{d}",
]))
@settings(max_examples=150, deadline=None)
def test_an_anchored_regex_starts_and_never_grants_a_fresh_domain(
    domain: str, tld: str, other: str, template: str
) -> None:
    named = f"{domain}.{tld}"
    # A public suffix (some short names are, such as 'x0.com') is refused, rightly.
    assume(not _public_suffixes().is_public(named))
    pattern = template.replace("{d}", re.escape(named))
    app = Flask(__name__)

    @app.route("/")
    def index() -> str:
        return "ok"

    CORS(app, origins=[pattern], supports_credentials=True)  # accepted
    client = app.test_client()
    for origin in (f"https://{other}.{tld}", f"https://{other}{domain}.{tld}",
                   f"https://{named}.{other}.com"):
        if origin.endswith("." + named) or origin == f"https://{named}":
            continue  # a subdomain of the named domain is the author's
        response = client.get("/", headers={"Origin": origin})
        assert "Access-Control-Allow-Origin" not in response.headers, origin


def test_the_probes_are_fresh_and_well_formed() -> None:
    from flask_crossorigin.origins import parse_request_origin

    assert len(set(FRESH_ORIGINS)) == len(FRESH_ORIGINS) > 300
    assert all(parse_request_origin(origin) is not None for origin in FRESH_ORIGINS)
    assert open_probe(re.compile(r"https://([a-z0-9-]+\.)*example\.com")) is None
