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

from flask_crossorigin import CORS, ConfigurationError, ConfigurationWarning, Problem, cross_origin


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
    BadConfig("origins of a wrong type", "42", "an origin is a string", {"origins": 42}),
    BadConfig("origins as a dict", "{'https://app.example': True}", "an origin is a string",
              {"origins": {"https://app.example": True}}),
    # -- wildcards ----------------------------------------------------------------------
    BadConfig("wildcard on a public suffix (github.io)", "'https://*.github.io'",
              "list the origins you trust", {"origins": ["https://*.github.io"]}),
    BadConfig("wildcard on a top-level domain", "'https://*.com'",
              "list the origins you trust", {"origins": "https://*.com"}),
    BadConfig("wildcard on a two-label public suffix", "'https://*.co.uk'",
              "list the origins you trust", {"origins": ["https://*.co.uk"]}),
    BadConfig("two wildcard labels", "'https://*.*.example.com'",
              "as its whole leftmost label", {"origins": ["https://*.*.example.com"]}),
    BadConfig("wildcard port", "'http://localhost:*'", r"write r'http://localhost(:\d+)?'",
              {"origins": ["http://localhost:*"]}),
    BadConfig("regex with ':*' for any port", r"'http[s]?://(localhost|127\\.0\\.0\\.1):*'",
              "repeats the ':' before it", {"origins": r"http[s]?://(localhost|127\.0\.0\.1):*"}),
    BadConfig("wildcard inside a label", "'https://*example.com'",
              "only as a whole leftmost label", {"origins": ["https://*example.com"]}),
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
    BadConfig("decorator credentials with the default origins", "supports_credentials=True",
              "list the trusted origins", {"supports_credentials": True}, via="@cross_origin"),
]

# Safe but ineffective: the entry can never match an Origin a browser sends (nor did it
# in flask-cors), so the app starts, warns with the fix, and ignores the entry.
INEFFECTIVE = [
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
    BadConfig("wildcard on an IP address", "'http://*.10.0.0.1'", "list the origins",
              {"origins": ["http://*.10.0.0.1"]}),
    BadConfig("'*' beside listed origins", "['*', 'https://app.example']",
              "keep either '*' or the list of origins", {"origins": ["*", "https://app.example"]}),
    BadConfig("decorator origin with a trailing slash", "'https://app.example/'",
              "write 'https://app.example'", {"origins": "https://app.example/"},
              via="@cross_origin"),
    BadConfig("blueprint origin without a scheme", "'app.example'", "write 'https://app.example'",
              {"origins": ["app.example"]}, via="blueprint"),
    BadConfig("'*' beside a listed origin via app.config", "['*', 'https://app.example']",
              "keep either '*' or the list of origins",
              config={"CORS_ORIGINS": ["*", "https://app.example"]}),
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


@pytest.mark.parametrize("entry", INEFFECTIVE, ids=[entry.name for entry in INEFFECTIVE])
def test_ineffective_configuration_warns_and_starts(entry: BadConfig) -> None:
    """Safe but ineffective: a ConfigurationWarning quoting the value and the fix, no error."""
    assert_warns_and_starts(entry)


def assert_warns_and_starts(entry: BadConfig) -> None:
    """The app starts, with a ConfigurationWarning that quotes the value and the fix and
    points at the line that started it (``BadConfig.start``, in this file)."""
    with pytest.warns(ConfigurationWarning) as caught:
        entry.start()
    messages = [str(w.message) for w in caught if issubclass(w.category, ConfigurationWarning)]
    assert any(entry.value in m and entry.fix in m for m in messages), messages
    assert all(w.filename == __file__ for w in caught), [w.filename for w in caught]


def test_an_ignored_origin_grants_nothing_and_the_others_still_work() -> None:
    app = Flask(__name__)

    @app.route("/x")
    def x() -> str:
        return "x"

    with pytest.warns(ConfigurationWarning, match="has no scheme"):
        CORS(app, origins=["app.example", "https://b.example"])
    client = app.test_client()
    for origin in ("app.example", "https://app.example", "http://app.example"):
        assert "Access-Control-Allow-Origin" not in client.get(
            "/x", headers={"Origin": origin}).headers
    assert client.get("/x", headers={"Origin": "https://b.example"}).headers[
        "Access-Control-Allow-Origin"] == "https://b.example"


@pytest.mark.parametrize(("options", "config", "origin", "expose", "preflight"), [
    # One comma-separated string is the list it means (header names and methods hold no
    # comma), whether passed as an argument or read from the environment into app.config.
    ({"expose_headers": "Link, Total-Count, Count, ETag"}, {}, "https://a.example",
     "Count, ETag, Link, Total-Count", None),
    ({}, {"CORS_ORIGINS": "https://a.example,https://b.example"}, "https://b.example",
     None, None),
    ({"origins": "https://a.example https://b.example"}, {}, "https://b.example", None, None),
    ({}, {"CORS_METHODS": "GET,PUT", "CORS_ALLOW_HEADERS": "Content-Type, X-Token"},
     "https://a.example", None, ("PUT", "X-Token, content-type", "GET, PUT")),
])
def test_comma_separated_strings_are_lists(
    options: dict[str, Any], config: dict[str, Any], origin: str, expose: str | None,
    preflight: tuple[str, str, str] | None,
) -> None:
    app = Flask(__name__)
    app.config.update(config)

    @app.route("/x", methods=["GET", "PUT"])
    def x() -> str:
        return "x"

    CORS(app, **options)
    client = app.test_client()
    response = client.get("/x", headers={"Origin": origin})
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert response.headers.get("Access-Control-Expose-Headers") == expose
    if preflight is not None:
        method, names, allowed = preflight
        answer = client.options("/x", headers={
            "Origin": origin, "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": names})
        assert answer.status_code == 204
        assert answer.headers["Access-Control-Allow-Methods"] == allowed
        assert answer.headers["Access-Control-Allow-Headers"] == names


def test_an_empty_origin_list_grants_nothing() -> None:
    """flask-cors's way of switching CORS off for a resource: no error, no grant."""
    app = Flask(__name__)

    @app.route("/x")
    def x() -> str:
        return "x"

    CORS(app, origins=[])
    client = app.test_client()
    for headers in ({"Origin": "https://a.example"}, {}, {"Origin": "null"}):
        assert "Access-Control-Allow-Origin" not in client.get("/x", headers=headers).headers
    refused = client.options("/x", headers={
        "Origin": "https://a.example", "Access-Control-Request-Method": "GET"})
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_several_problems_are_reported_together() -> None:
    """One start-up, problems from app.config, keyword arguments and two resources."""
    app = Flask(__name__)
    app.config["CORS_METHODS"] = "GET,P UT"
    app.config["CORS_MAX_AGE"] = -5
    with pytest.raises(ConfigurationError) as caught:
        CORS(app, allow_headers=["X Bad"], resources={
            "/a/*": {"origins": ["https://a.example", "https://*.github.io"]},
            "/b/*": {"origins": ["https://b.example"], "supports_credentials": "yes"},
        })
    error = caught.value
    message = str(error)
    expected = [
        ("app.config['CORS_METHODS']", "'P UT'", "no spaces, commas or line breaks"),
        ("app.config['CORS_MAX_AGE']", "-5", "must not be negative"),
        ("CORS()", "'X Bad'", "no spaces, commas or line breaks"),
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
        CORS(app, origins="https://*.github.io")

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
