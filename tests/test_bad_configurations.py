"""The catalogue of bad configurations: each one refused at start-up, naming the value and the fix.

One table, one entry per mistake people make, grouped by kind. Every entry is
started the way an application would start it (``CORS(app)`` with keyword
arguments or ``app.config``, ``@cross_origin``, a blueprint) and must raise a
:class:`ConfigurationError` holding exactly one problem, whose text contains
the offending value (as ``repr`` shows it) and the fix. The last tests check
that several problems in one configuration are reported together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from flask import Blueprint, Flask

from flask_crossorigin import CORS, ConfigurationError, Problem, cross_origin


@dataclass(frozen=True)
class BadConfig:
    """A configuration that must not start, what its error must quote, and the fix it must give."""

    name: str
    value: str  # the offending value, as the message quotes it
    fix: str  # the fix, as the message words it
    options: dict[str, Any] = field(default_factory=dict)  # CORS(app, **options)
    config: dict[str, Any] = field(default_factory=dict)  # app.config before CORS(app)
    via: str = "CORS(app)"  # or "@cross_origin", "blueprint", "init_app"

    def start(self) -> None:
        """Start an app with this configuration, as an application would."""
        app = Flask(__name__)
        app.config.update(self.config)
        if self.via == "CORS(app)":
            CORS(app, **self.options)
        elif self.via == "init_app":
            CORS().init_app(app, **self.options)
        elif self.via == "@cross_origin":
            @app.route("/view")
            @cross_origin(**self.options)
            def view() -> str:
                return "view"
            CORS(app, resources={})  # the decorator's conflicts surface here at the latest
        elif self.via == "blueprint":
            blueprint = Blueprint("api", __name__)
            CORS(blueprint, **self.options)
            app.register_blueprint(blueprint)
        else:  # pragma: no cover - a typo in the table
            raise AssertionError(self.via)


ORIGINS = ["https://app.example"]

CATALOGUE = [
    # -- malformed origins ------------------------------------------------------------
    BadConfig("origin with a trailing slash", "'https://app.example/'",
              "write 'https://app.example'", {"origins": "https://app.example/"}),
    BadConfig("origin with a path", "'https://app.example/api'",
              "write 'https://app.example'", {"origins": ["https://app.example/api"]}),
    BadConfig("origin without a scheme", "'app.example'",
              "write 'https://app.example'", {"origins": ["app.example"]}),
    BadConfig("origin with user info", "'https://user:pw@app.example'",
              "write 'https://app.example'", {"origins": ["https://user:pw@app.example"]}),
    BadConfig("origin with a query", "'https://app.example?x=1'",
              "write 'https://app.example'", {"origins": ["https://app.example?x=1"]}),
    BadConfig("origin naming the default port", "'https://app.example:443'",
              "write 'https://app.example'", {"origins": ["https://app.example:443"]}),
    BadConfig("origin with a port out of range", "'https://app.example:70000'",
              "use 1-65535", {"origins": ["https://app.example:70000"]}),
    BadConfig("origin with a non-ASCII host", "'https://bücher.example'",
              "'https://xn--bcher-kva.example'", {"origins": ["https://bücher.example"]}),
    BadConfig("origin with an invalid scheme", "'1https://app.example'",
              "a scheme starts with a letter", {"origins": ["1https://app.example"]}),
    BadConfig("origin with an empty label", "'https://app..example'",
              "write dot-separated labels", {"origins": ["https://app..example"]}),
    BadConfig("origin with a space in the scheme", "'ht tp://app.example'", "contains whitespace",
              {"origins": "ht tp://app.example"}),
    BadConfig("'null' in capitals", "'NULL'", "write 'null' in lowercase",
              {"origins": ["https://app.example", "NULL"]}),
    BadConfig("several origins in one string", "'https://a.example https://b.example'",
              "pass a list", {"origins": "https://a.example https://b.example"}),
    BadConfig("origins of a wrong type", "42", "an origin is a string", {"origins": 42}),
    BadConfig("origins as a dict", "{'https://app.example': True}", "an origin is a string",
              {"origins": {"https://app.example": True}}),
    BadConfig("an empty origin list", "[]", "list the origins to allow", {"origins": []}),
    # -- wildcards ----------------------------------------------------------------------
    BadConfig("wildcard on a public suffix (github.io)", "'https://*.github.io'",
              "list the origins you trust", {"origins": ["https://*.github.io"]}),
    BadConfig("wildcard on a top-level domain", "'https://*.com'",
              "list the origins you trust", {"origins": "https://*.com"}),
    BadConfig("wildcard on a two-label public suffix", "'https://*.co.uk'",
              "list the origins you trust", {"origins": ["https://*.co.uk"]}),
    BadConfig("two wildcard labels", "'https://*.*.example.com'",
              "as its whole leftmost label", {"origins": ["https://*.*.example.com"]}),
    BadConfig("wildcard port", "'http://localhost:*'", r"r'http://localhost:\d+'",
              {"origins": ["http://localhost:*"]}),
    BadConfig("wildcard inside a label", "'https://*example.com'",
              "only as a whole leftmost label", {"origins": ["https://*example.com"]}),
    BadConfig("wildcard on an IP address", "'http://*.10.0.0.1'", "list the origins",
              {"origins": ["http://*.10.0.0.1"]}),
    # -- regexes ----------------------------------------------------------------------------
    BadConfig("regex that does not compile", r"'https://(a|b\\.example\\.com'",
              "missing ), unterminated subpattern", {"origins": [r"https://(a|b\.example\.com"]}),
    BadConfig("bytes regex", r"re.compile(b'https://a\\.example')", "compile a str pattern",
              {"origins": [re.compile(rb"https://a\.example")]}),
    # -- credentials and conflicts -----------------------------------------------------------
    BadConfig("credentials with the default origins '*'", "supports_credentials=True",
              "list the trusted origins", {"supports_credentials": True}),
    BadConfig("credentials with origins='*'", "supports_credentials=True",
              "cannot be combined with origins='*': that would let every site",
              {"origins": "*", "supports_credentials": True}),
    BadConfig("expose_headers '*' with credentials", "expose_headers='*'",
              "list the header names",
              {"origins": ORIGINS, "supports_credentials": True, "expose_headers": "*"}),
    BadConfig("'*' beside listed origins", "['*', 'https://app.example']",
              "keep either '*' or the list of origins", {"origins": ["*", "https://app.example"]}),
    BadConfig("'*' beside listed methods", "['*', 'GET']", "keep either '*' or the names",
              {"methods": ["*", "GET"]}),
    # -- header names and methods that are not HTTP tokens ----------------------------------
    BadConfig("method with a space", "'P UT'", "no spaces, commas or line breaks",
              {"methods": ["GET", "P UT"]}),
    BadConfig("empty method", "''", "no spaces, commas or line breaks",
              {"methods": ["GET", ""]}),
    BadConfig("header name smuggling a line break", r"'X-Token\r\nSet-Cookie: a=1'",
              "no spaces, commas or line breaks",
              {"allow_headers": ["X-Token\r\nSet-Cookie: a=1"]}),
    BadConfig("exposed header with parentheses", "'X (total)'",
              "no spaces, commas or line breaks", {"expose_headers": ["X (total)"]}),
    BadConfig("exposed headers as one string", "'X-Total, X-Page'",
              "pass a list: ['X-Total', 'X-Page']", {"expose_headers": "X-Total, X-Page"}),
    BadConfig("allow_headers of a wrong type", "allow_headers=5", "pass a list of strings",
              {"allow_headers": 5}),
    # -- max_age ------------------------------------------------------------------------------
    BadConfig("negative max_age", "max_age=-1", "must not be negative", {"max_age": -1}),
    BadConfig("negative timedelta max_age", "max_age=datetime.timedelta(days=-1)",
              "must not be negative", {"max_age": timedelta(days=-1)}),
    BadConfig("absurd max_age", "max_age=1000000000", "use 7200 or less",
              {"max_age": 10**9}),
    BadConfig("max_age as words", "max_age='ten'", "number of seconds (int) or a timedelta",
              {"max_age": "ten"}),
    BadConfig("fractional max_age", "max_age=datetime.timedelta(seconds=1, microseconds=500000)",
              "whole seconds", {"max_age": timedelta(milliseconds=1500)}),
    BadConfig("max_age as a boolean", "max_age=True", "number of seconds", {"max_age": True}),
    # -- unknown options and wrong types -------------------------------------------------------
    BadConfig("misspelt option", "origin='https://app.example'", "did you mean 'origins'",
              {"origin": "https://app.example"}),
    BadConfig("misspelt option in a resource", "supports_credential=True",
              "did you mean 'supports_credentials'",
              {"resources": {"/api/*": {"origins": ORIGINS, "supports_credential": True}}}),
    BadConfig("misspelt option of init_app", "maxage=600", "did you mean 'max_age'",
              {"maxage": 600}, via="init_app"),
    BadConfig("boolean option given a string", "supports_credentials='yes'",
              "must be True or False", {"origins": ORIGINS, "supports_credentials": "yes"}),
    BadConfig("boolean option given None", "vary_header=None", "must be True or False",
              {"vary_header": None}),
    BadConfig("resource pattern without a slash", "resources='api/*'", "write '/api/*'",
              {"resources": {"api/*": {}}}),
    BadConfig("resource options not a dict", "'https://app.example'",
              "each pattern maps to a dict of options", {"resources": {"/api/*": ORIGINS[0]}}),
    BadConfig("resources of a wrong type", "resources=5",
              "must be a dict of pattern -> options", {"resources": 5}),
    BadConfig("resource regex that does not compile", "pattern='/api/('",
              "not a valid regular expression", {"resources": {"/api/(": {}}}),
    # -- values from app.config (strings where lists or booleans were meant) -----------------
    BadConfig("CORS_ORIGINS as a comma-separated string",
              "app.config['CORS_ORIGINS']: origins='https://a.example,https://b.example'",
              "pass a list", config={"CORS_ORIGINS": "https://a.example,https://b.example"}),
    BadConfig("CORS_METHODS as a comma-separated string", "methods='GET,POST'",
              "pass a list: ['GET', 'POST']", config={"CORS_METHODS": "GET,POST"}),
    BadConfig("CORS_ALLOW_HEADERS as a comma-separated string",
              "allow_headers='Content-Type, X-Token'",
              "pass a list: ['Content-Type', 'X-Token']",
              config={"CORS_ALLOW_HEADERS": "Content-Type, X-Token"}),
    BadConfig("CORS_SUPPORTS_CREDENTIALS as the string 'true'",
              "app.config['CORS_SUPPORTS_CREDENTIALS']: supports_credentials='true'",
              "must be True or False",
              config={"CORS_ORIGINS": ORIGINS, "CORS_SUPPORTS_CREDENTIALS": "true"}),
    BadConfig("CORS_SUPPORTS_CREDENTIALS with the default origins",
              "app.config['CORS_SUPPORTS_CREDENTIALS']: supports_credentials=True",
              "list the trusted origins", config={"CORS_SUPPORTS_CREDENTIALS": True}),
    BadConfig("CORS_MAX_AGE as a negative string", "app.config['CORS_MAX_AGE']: max_age='-1'",
              "number of seconds (int) or a timedelta", config={"CORS_MAX_AGE": "-1"}),
    BadConfig("CORS_ORIGINS with a public-suffix wildcard", "'https://*.github.io'",
              "list the origins you trust", config={"CORS_ORIGINS": ["https://*.github.io"]}),
    BadConfig("CORS_RESOURCES without a slash", "app.config['CORS_RESOURCES']: resources='api/*'",
              "write '/api/*'",
              config={"CORS_RESOURCES": ["api/*"]}),
    # -- other places a configuration starts ------------------------------------------------
    BadConfig("decorator origin with a trailing slash", "'https://app.example/'",
              "write 'https://app.example'", {"origins": "https://app.example/"},
              via="@cross_origin"),
    BadConfig("decorator credentials with the default origins", "supports_credentials=True",
              "list the trusted origins", {"supports_credentials": True}, via="@cross_origin"),
    BadConfig("blueprint origin without a scheme", "'app.example'", "write 'https://app.example'",
              {"origins": ["app.example"]}, via="blueprint"),
]


def test_the_catalogue_is_large_and_names_are_unique() -> None:
    names = [entry.name for entry in CATALOGUE]
    assert len(names) >= 25
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("entry", CATALOGUE, ids=[entry.name for entry in CATALOGUE])
def test_bad_configuration_is_refused_at_start_up(entry: BadConfig) -> None:
    with pytest.raises(ConfigurationError) as caught:
        entry.start()
    error = caught.value
    message = str(error)
    assert len(error.problems) == 1, message
    assert all(isinstance(problem, Problem) for problem in error.problems)
    assert entry.value in message, f"the message does not quote {entry.value}:\n{message}"
    assert entry.fix in message, f"the message does not give the fix {entry.fix!r}:\n{message}"
    assert message.startswith("1 problem in the CORS configuration:")


def test_several_problems_are_reported_together() -> None:
    """One start-up, problems from app.config, keyword arguments and two resources."""
    app = Flask(__name__)
    app.config["CORS_METHODS"] = "GET,POST"
    app.config["CORS_MAX_AGE"] = -5
    with pytest.raises(ConfigurationError) as caught:
        CORS(app, allow_headers=["X Bad"], resources={
            "/a/*": {"origins": ["https://a.example/", "https://*.github.io"]},
            "/b/*": {"origins": ["https://b.example"], "supports_credentials": "yes"},
        })
    error = caught.value
    message = str(error)
    expected = [
        ("app.config['CORS_METHODS']", "'GET,POST'", "pass a list: ['GET', 'POST']"),
        ("app.config['CORS_MAX_AGE']", "-5", "must not be negative"),
        ("CORS()", "'X Bad'", "no spaces, commas or line breaks"),
        ("resources['/a/*']", "'https://a.example/'", "write 'https://a.example'"),
        ("resources['/a/*']", "'https://*.github.io'", "list the origins you trust"),
        ("resources['/b/*']", "'yes'", "must be True or False"),
    ]
    assert message.startswith(f"{len(expected)} problems in the CORS configuration:")
    lines = message.splitlines()[1:]
    assert len(lines) == len(error.problems) == len(expected)
    for where, value, fix in expected:
        assert any(line.strip().startswith(f"- {where}") and value in line and fix in line
                   for line in lines), (where, value, fix, message)


def test_unknown_options_are_reported_with_the_other_problems() -> None:
    with pytest.raises(ConfigurationError) as caught:
        CORS(Flask(__name__), resources={"/api/*": {
            "origin": "https://a.example", "methds": ["GET"], "max_age": "soon"}})
    message = str(caught.value)
    assert message.startswith("3 problems")
    for fragment in ("did you mean 'origins'", "did you mean 'methods'", "max_age='soon'"):
        assert fragment in message


def test_a_refused_configuration_leaves_no_half_installed_extension() -> None:
    app = Flask(__name__)
    with pytest.raises(ConfigurationError):
        CORS(app, origins="https://app.example/")

    @app.route("/x")
    def x() -> str:
        return "x"

    response = app.test_client().get("/x", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize(("origins", "granted", "refused"), [
    # IPv6 literals: brackets, not a regex character class.
    (["http://[::1]:8080"], "http://[::1]:8080", "http://1:8080"),
    (["https://[2001:DB8::A]"], "https://[2001:db8::a]", "https://a"),
    # One regex with a counted repeat, as a lone string: the comma is not a list.
    (r"https://[a-z]{2,8}\.example\.com", "https://abc.example.com", "https://a.example.com"),
    # 'null', listed on purpose.
    (["null"], "null", "https://null"),
])
def test_configurations_close_to_bad_ones_start_and_work(
    origins: Any, granted: str, refused: str
) -> None:
    app = Flask(__name__)

    @app.route("/x")
    def x() -> str:
        return "x"

    CORS(app, origins=origins)
    client = app.test_client()
    assert client.get("/x", headers={"Origin": granted}).headers.get(
        "Access-Control-Allow-Origin") == granted
    assert "Access-Control-Allow-Origin" not in client.get(
        "/x", headers={"Origin": refused}).headers
