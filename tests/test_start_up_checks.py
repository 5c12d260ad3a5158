"""Values that used to slip past start-up: each is now refused, naming the value and the fix.

The classes: a pattern that can never match a path (a lone string, from the
config or the environment, a regex that does not start with '/', a bytes regex),
numbers written with non-ASCII digits (``str.isdigit()`` accepts '²' and '٣'),
IP origins written the way no browser sends them, regexes filed under a prefix
their raw text does not have, and empty ``Vary`` elements.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from flask_crossorigin import CORS, ConfigurationError
from flask_crossorigin.headers import merged_vary
from flask_crossorigin.options import check_max_age
from flask_crossorigin.origins import compile_origins
from flask_crossorigin.resources import ResourcePattern, ResourceTable

from .conftest import make_app
from .test_bad_configurations import BadConfig, assert_warns_and_starts

NON_ASCII_DIGITS = ["²", "٣", "३", "３", "①", "6٠٠"]

CATALOGUE = [
    # -- resources that match no path ------------------------------------------------
    BadConfig("single relative resources", "'api/*'", "write '/api/*'",
              {"resources": "api/*"}),
    BadConfig("single relative resources from the config", "'api/*'", "write '/api/*'",
              config={"CORS_RESOURCES": "api/*"}),
    BadConfig("single empty resources", "''", "a path pattern is a non-empty string",
              {"resources": ""}),
    BadConfig("single bytes regex resources", "re.compile(b'/x')", "re.compile('/x')",
              {"resources": re.compile(b"/x")}),
    BadConfig("bytes regex in a list", "re.compile(b'/x')", "re.compile('/x')",
              {"resources": [re.compile(b"/x")]}),
    BadConfig("dotted relative resource", "'.well-known/*'", "write '/.well-known/*'",
              {"resources": ".well-known/*"}),
    BadConfig("dotted relative resource in a dict", "'.well-known/*'",
              "write '/.well-known/*'", {"resources": {".well-known/*": {}}}),
    BadConfig("relative regex resource", "'api/.*'", "write '/api/.*'",
              {"resources": ["api/.*"]}),
    BadConfig("anchored relative regex resource", "'^api/.*'", "write '^/api/.*'",
              {"resources": "^api/.*"}),
    BadConfig("relative compiled regex resource", "'api/x'", "write re.compile('/api/x')",
              {"resources": re.compile("api/x")}),
    BadConfig("resource with a leading space", "' /api/*'", "write '/api/*'",
              {"resources": " /api/*"}),
    BadConfig("blueprint relative resources", "'api/*'", "write '/api/*'",
              {"resources": "api/*"}, via="blueprint"),
    # -- max_age and ports in non-ASCII digits ----------------------------------------
    *(BadConfig(f"max_age {digits!r}", repr(digits), "must be a number of seconds",
                {"max_age": digits}) for digits in NON_ASCII_DIGITS),
    *(BadConfig(f"port {digits!r}", f"'https://app.example:{digits}'", "use 1-65535",
                {"origins": [f"https://app.example:{digits}"]}) for digits in NON_ASCII_DIGITS),
    # -- IP origins no browser sends (the expected forms are what WHATWG URL parsers,
    #    such as Chromium's or Node's `new URL()`, serialize) ----------------------------
    *(BadConfig(f"IP origin {written}", f"'{written}'", f"write '{serialized}'",
                {"origins": [written]})
      for written, serialized in [
          ("http://[0:0:0:0:0:0:0:1]:8080", "http://[::1]:8080"),
          ("http://127.000.000.001", "http://127.0.0.1"),
          ("http://0x7f.0.0.1", "http://127.0.0.1"),
          ("http://0x7F.0.0.1:5000", "http://127.0.0.1:5000"),
          ("http://127.1", "http://127.0.0.1"),
          ("http://2130706433", "http://127.0.0.1"),
          ("http://010.0.0.1", "http://8.0.0.1"),  # a leading 0 is octal to a browser
          ("http://[::ffff:127.0.0.1]", "http://[::ffff:7f00:1]"),
          ("http://[1:0:0:2:0:0:0:3]", "http://[1:0:0:2::3]"),
          ("http://[0:0:1:0:0:1:0:0]", "http://[::1:0:0:1:0:0]"),
          ("http://[0001::1]", "http://[1::1]"),
      ]),
    *(BadConfig(f"invalid IP origin {written}", f"'{written}'", "write e.g.",
                {"origins": [written]})
      for written in ["http://[1::2::3]", "http://256.1.1.1", "http://1.2.3.4.5",
                      "http://09.1.1.1", "http://0x100.1.1.1", "http://app.example.123"]),
]


# Origins that can never match are safe but ineffective: a warning, and the app starts.
IGNORED = [entry for entry in CATALOGUE if "origins" in entry.options]
REFUSED = [entry for entry in CATALOGUE if "origins" not in entry.options]


@pytest.mark.parametrize("entry", REFUSED, ids=[entry.name for entry in REFUSED])
def test_refused_at_start_up_with_value_and_fix(entry: BadConfig) -> None:
    with pytest.raises(ConfigurationError) as caught:
        entry.start()
    message = str(caught.value)
    assert len(caught.value.problems) == 1, message
    assert entry.value in message, message
    assert entry.fix in message, message


@pytest.mark.parametrize("entry", IGNORED, ids=[entry.name for entry in IGNORED])
def test_an_origin_that_can_never_match_warns_with_value_and_fix(entry: BadConfig) -> None:
    assert_warns_and_starts(entry)


@pytest.mark.parametrize("digits", NON_ASCII_DIGITS)
def test_max_age_check_never_raises_a_raw_error(digits: str) -> None:
    problems: list[Any] = []
    assert check_max_age(digits, "here", problems) is None
    assert len(problems) == 1


@pytest.mark.parametrize(("value", "seconds"), [
    ("600", 600), ("0", 0), (600, 600), (timedelta(minutes=10), 600)])
def test_max_age_in_ascii_digits_still_works(value: Any, seconds: int) -> None:
    assert check_max_age(value, "here", []) == seconds


@pytest.mark.parametrize("origin", [
    "http://127.0.0.1", "http://127.0.0.1:5000", "http://[::1]:8080", "http://[::]",
    "http://[1:2:3:4:5:6:7:0]", "http://[::ffff:7f00:1]", "http://10.0.0.1",
    "http://0.0.0.0", "https://app.example", "http://localhost:5000",
])
def test_origins_in_the_browsers_form_are_accepted_and_match(origin: str) -> None:
    matcher, problems = compile_origins([origin])
    assert matcher is not None and not problems
    assert matcher.check(origin, "p") is None


@pytest.mark.parametrize("good", ["/api/*", "*", "/*", ".*", "^/api/.*", r"(/a|/b)/\d+",
                                  re.compile(r"/api/\d+"), re.compile(r" /api/ \d+ ", re.X)])
def test_patterns_that_can_match_still_start(good: Any) -> None:
    app = Flask(__name__)
    CORS(app, resources=good)


# -- a regex is filed where every path it matches is looked up ---------------------------

FLAGS = [0, re.VERBOSE, re.IGNORECASE, re.VERBOSE | re.IGNORECASE, re.MULTILINE, re.DOTALL]


def test_a_verbose_regex_resource_matches() -> None:
    app = make_app(resources={re.compile(r"""
        /api/items/   # the collection
        \d+           # one item
    """, re.VERBOSE): {"origins": ["https://app.example"]}})
    response = app.test_client().get("/api/items/7", headers={"Origin": "https://app.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example"


REGEXES = [
    r"/api/\d+", r" /api/ \d+ ", r"/api/x # comment", r"/API/.*", r"/a b/.*",
    r"/api/v1?/x", r"/ab*/c", r"/a{0,1}b", r"(?x) /api /x", r"(/a|/b)/.*", r"/a\.b",
]
PATHS = [
    "/api/1", "/api/x", "/API/x", "/api/x#", "/a b/c", "/api/v/x", "/api/v1/x",
    "/api", "/a/c", "/abbb/c", "/b", "/ab", "/a.b", "/apix", "/a/x", "/b/y",
]


@pytest.mark.parametrize("flags", FLAGS)
@pytest.mark.parametrize("text", REGEXES)
def test_the_table_finds_a_compiled_regex_wherever_it_matches(text: str, flags: int) -> None:
    regex = re.compile(text, flags)
    table = ResourceTable([(ResourcePattern(regex), "policy")])
    for path in PATHS:
        assert (table.lookup(path) is not None) == (regex.fullmatch(path) is not None), path


# -- Vary ------------------------------------------------------------------------------

@pytest.mark.parametrize(("lines", "expected"), [
    ([""], "Origin"),
    (["  "], "Origin"),
    (["Accept-Encoding, "], "Accept-Encoding, Origin"),
    ([",Accept-Encoding"], "Accept-Encoding, Origin"),
    (["", "Accept-Encoding"], "Accept-Encoding, Origin"),
    (["Accept-Encoding"], "Accept-Encoding, Origin"),
    (["Accept-Encoding", "Cookie"], "Accept-Encoding, Cookie, Origin"),
    (["origin"], None),
    (["*"], None),
])
def test_merged_vary_never_has_an_empty_element(lines: list[str], expected: str | None) -> None:
    assert merged_vary(lines, ["Origin"]) == expected


def test_an_empty_vary_from_the_view_becomes_origin() -> None:
    app = make_app()

    @app.route("/empty-vary")
    def empty_vary() -> Any:
        return "x", 200, {"Vary": ""}

    response = app.test_client().get("/empty-vary", headers={"Origin": "https://a.example"})
    assert response.headers.getlist("Vary") == ["Origin"]
