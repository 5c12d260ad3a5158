"""Bad configuration fails at start-up with every problem named, and its fix."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Blueprint, Flask

from flask_crossorigin import CORS, ConfigurationError, ConfigurationWarning, cross_origin


def errors_of(**options: Any) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as caught:
        CORS(Flask(__name__), **options)
    return caught.value


@pytest.mark.parametrize(("options", "fragments"), [
    ({"origins": r"https://(a|b)\.example,https://c\.example"}, ["pass a list"]),
    ({"origins": 42}, ["is a int"]),
    ({"origins": [b"https://a.example"]}, ["is a bytes"]),
    ({"origins": "https://*.com"}, ["public suffix"]),
    ({"origins": "https://*.github.io"}, ["public suffix"]),
    ({"origins": "https://*.co.uk"}, ["public suffix"]),
    ({"origins": "https://*.*.example.com"}, ["leftmost label"]),
    ({"origins": "http://localhost:*"}, ["repeats the ':' before it", r"(:\d+)?"]),
    ({"origins": "https://*example.com"}, ["repeats the '/' before it", "leftmost label"]),
    ({"origins": r"https://(.*\.example\.com"}, ["not a valid regular expression"]),
    ({"supports_credentials": True}, ["origins='*'", "list the trusted origins",
                                       "callable"]),
    ({"supports_credentials": "yes", "origins": ["https://a.example"]}, ["True or False"]),
    ({"send_wildcard": 1}, ["True or False"]),
    ({"origins": ["https://a.example"], "supports_credentials": True,
      "expose_headers": "*"}, ["not a wildcard for credentialed requests"]),
    ({"methods": ["GET", "P UT"]}, ["'P UT'", "HTTP token"]),
    ({"allow_headers": ["X-Good", "X-Bad\r\nSet-Cookie: a"]}, ["HTTP token"]),
    ({"expose_headers": ["X (paren)"]}, ["HTTP token"]),
    ({"allow_headers": 5}, ["pass a list"]),
    ({"max_age": -1}, ["negative"]),
    ({"max_age": 10**9}, ["over a year"]),
    ({"max_age": "ten"}, ["number of seconds"]),
    ({"max_age": 1.5}, ["number of seconds"]),
    ({"max_age": True}, ["number of seconds"]),
    ({"max_age": timedelta(milliseconds=1500)}, ["whole seconds"]),
    ({"resources": {"api/*": {}}}, ["starts with '/'", "'/api/*'"]),
    ({"resources": {"/api/*": "https://a.example"}}, ["dict of options"]),
    ({"resources": {"/api/(": {}}}, ["not a valid regular expression"]),
    ({"resources": 5}, ["dict of pattern -> options"]),
    ({"resources": {"/api/*": {"origin": "https://a.example"}}}, ["did you mean 'origins'"]),
    ({"resources": {"/api/*": {"resources": {}}}}, ["is not an option"]),
])
def test_bad_option_is_named_with_its_fix(options: dict[str, Any], fragments: list[str]) -> None:
    message = str(errors_of(**options))
    for fragment in fragments:
        assert fragment in message, (fragment, message)


@pytest.mark.parametrize(("options", "fragments"), [
    ({"origins": "https://a.example/"}, ["trailing slash", "'https://a.example'"]),
    ({"origins": "https://a.example/app"}, ["path", "'https://a.example'"]),
    ({"origins": "https://a.example?x=1"}, ["query"]),
    ({"origins": "https://a.example#top"}, ["fragment"]),
    ({"origins": "https://user:pw@a.example"}, ["user info", "'https://a.example'"]),
    ({"origins": "a.example"}, ["no scheme", "'https://a.example'"]),
    ({"origins": "https://a.example:443"}, ["default port", "'https://a.example'"]),
    ({"origins": "https://a.example:99999"}, ["invalid port"]),
    ({"origins": "https://bücher.example"}, ["punycode", "xn--bcher-kva.example"]),
    ({"origins": "1https://a.example"}, ["scheme starts with a letter"]),
    ({"origins": "https://a..example"}, ["dot-separated labels"]),
    ({"origins": "NULL"}, ["write 'null' in lowercase"]),
    ({"origins": "ht tp://a.example"}, ["whitespace"]),
    ({"origins": "http://*.127.0.0.1"}, ["IP address"]),
    ({"origins": ["*", "https://a.example"]}, ["'*' already allows every origin"]),
])
def test_ineffective_origin_warns_with_its_fix_and_starts(
    options: dict[str, Any], fragments: list[str]
) -> None:
    """Safe but never matching (in flask-cors either): a warning with the fix, no error."""
    app = Flask(__name__)
    with pytest.warns(ConfigurationWarning) as caught:
        CORS(app, **options)
    message = " ".join(str(w.message) for w in caught)
    assert message.startswith("CORS(): origins=")
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert "crossorigin" in app.extensions


def test_unknown_option_suggests_the_closest() -> None:
    with pytest.raises(ConfigurationError, match="did you mean 'supports_credentials'"):
        CORS(supports_credential=True)
    with pytest.raises(ConfigurationError, match="did you mean 'origins'"):
        CORS(Flask(__name__), origin="https://a.example")


def test_every_problem_is_reported_at_once() -> None:
    error = errors_of(origins=["https://*.com", "https://*.github.io"], methods="GET,P UT",
                      max_age=-5, vary_header="no")
    assert len(error.problems) == 5
    assert {p.option for p in error.problems} == {"origins", "methods", "max_age",
                                                   "vary_header"}
    assert str(error).startswith("5 problems in the CORS configuration:")


def test_problems_in_several_resources_are_reported_together() -> None:
    error = errors_of(resources={"/a/*": {"origins": "https://*.com"},
                                 "/b/*": {"max_age": -1}})
    wheres = {p.where for p in error.problems}
    assert wheres == {"resources['/a/*']", "resources['/b/*']"}


def test_configuration_error_is_a_value_error() -> None:
    assert issubclass(ConfigurationError, ValueError)


def test_problems_from_app_config_name_the_config_key() -> None:
    app = Flask(__name__)
    app.config["CORS_ORIGINS"] = "https://*.github.io"
    with pytest.raises(ConfigurationError, match=r"app.config\['CORS_ORIGINS'\]"):
        CORS(app)


def test_credentials_from_config_with_default_origins() -> None:
    app = Flask(__name__)
    app.config["CORS_SUPPORTS_CREDENTIALS"] = True
    with pytest.raises(ConfigurationError, match="CORS_SUPPORTS_CREDENTIALS"):
        CORS(app)


def test_unknown_config_key_warns_with_a_suggestion() -> None:
    app = Flask(__name__)
    app.config["CORS_ORIGIN"] = ["https://a.example"]
    with pytest.warns(UserWarning, match="did you mean 'CORS_ORIGINS'"):
        CORS(app)


def test_tutorial_cors_headers_key_warns_but_works() -> None:
    app = Flask(__name__)
    app.config["CORS_HEADERS"] = "Content-Type"
    with pytest.warns(UserWarning) as caught:
        CORS(app)  # the warning points at this line, not at the extension's
    assert "crossorigin" in app.extensions
    [warning] = caught
    assert "remove it" in str(warning.message)
    assert "Do not rename it to CORS_ALLOW_HEADERS" in str(warning.message)
    assert warning.filename == __file__


def test_a_second_cors_on_the_same_app_is_refused() -> None:
    app = Flask(__name__)
    CORS(app)
    with pytest.raises(ConfigurationError, match="already initialised"):
        CORS(app, origins=["https://a.example"])


def test_decorator_arguments_are_checked_at_decoration() -> None:
    with pytest.raises(ConfigurationError, match="public suffix"):
        cross_origin(origins="https://*.github.io")(lambda: "x")
    with pytest.warns(ConfigurationWarning, match="trailing slash"):
        cross_origin(origins="https://a.example/")(lambda: "x")
    with pytest.raises(ConfigurationError, match="did you mean 'max_age'"):
        cross_origin(maxage=5)
    with pytest.raises(ConfigurationError, match="is not an option"):
        cross_origin(resources={"/*": {}})


def test_decorator_conflict_is_reported_when_the_app_is_initialised() -> None:
    app = Flask(__name__)

    @app.route("/x")
    @cross_origin(supports_credentials=True)
    def x() -> str:
        return "x"

    with pytest.raises(ConfigurationError, match="origins='\\*'"):
        CORS(app)


def test_blueprint_problems_surface_when_registered() -> None:
    bp = Blueprint("api", __name__)
    CORS(bp, origins="https://*.github.io")
    with pytest.raises(ConfigurationError, match="blueprint 'api'"):
        Flask(__name__).register_blueprint(bp)


def test_not_an_app() -> None:
    with pytest.raises(TypeError, match="Flask app or a Blueprint"):
        CORS(object())  # type: ignore[arg-type]


def test_compiled_bytes_regex_is_refused() -> None:
    assert "bytes regex" in str(errors_of(origins=[re.compile(rb"https://a")]))


@pytest.mark.parametrize(("options", "config", "wanted"), [
    ({"origins": "https://*.*.example.com"}, {}, "leftmost label"),
    ({}, {"CORS_RESOURCES": ["api/*"]}, "app.config['CORS_RESOURCES']"),
])
def test_messages_name_the_fix_and_the_source(
    options: dict[str, Any], config: dict[str, Any], wanted: str
) -> None:
    app = Flask(__name__)
    app.config.update(config)
    with pytest.raises(ConfigurationError) as caught:
        CORS(app, **options)
    assert wanted in str(caught.value)


def test_explicit_star_with_credentials_does_not_say_default() -> None:
    message = str(errors_of(origins="*", supports_credentials=True))
    assert "origins='*'" in message and "(the default)" not in message
    assert "(the default)" in str(errors_of(supports_credentials=True))


def test_duplicate_methods_and_headers_are_sent_once() -> None:
    app = Flask(__name__)

    @app.route("/d", methods=["GET", "PUT"])
    def d() -> str:
        return "ok"

    CORS(app, origins=["https://a.example"], methods=["get", "GET", "put"],
         expose_headers=["X-A", "x-a"])
    client = app.test_client()
    answer = client.options("/d", headers={"Origin": "https://a.example",
                                           "Access-Control-Request-Method": "PUT"})
    assert answer.headers["Access-Control-Allow-Methods"] == "GET, PUT"
    actual = client.get("/d", headers={"Origin": "https://a.example"})
    assert actual.headers["Access-Control-Expose-Headers"] == "X-A"


@pytest.mark.parametrize("key", [option.config_key for option in __import__(
    "flask_crossorigin.options", fromlist=["OPTIONS"]).OPTIONS])
def test_a_config_key_set_to_none_is_unset(key: str) -> None:
    # A placeholder in a config class (CORS_ORIGINS = None) means "not set", as in
    # flask-cors: the app starts with the defaults, for the extension and the decorator.
    app = Flask(__name__)
    app.config[key] = None

    @app.route("/a")
    def a() -> str:
        return "a"

    @app.route("/b")
    @cross_origin()
    def b() -> str:
        return "b"

    CORS(app)
    client = app.test_client()
    for path in ("/a", "/b"):
        response = client.get(path, headers={"Origin": "https://any.example"})
        assert response.headers["Access-Control-Allow-Origin"] == "https://any.example"
        assert "Access-Control-Allow-Credentials" not in response.headers


def test_a_none_config_key_leaves_keyword_arguments_and_other_keys_in_force() -> None:
    app = Flask(__name__)
    app.config.update(CORS_ORIGINS=None, CORS_SUPPORTS_CREDENTIALS=True, CORS_MAX_AGE=None)

    @app.route("/a")
    def a() -> str:
        return "a"

    CORS(app, origins=["https://a.example"])
    client = app.test_client()
    response = client.get("/a", headers={"Origin": "https://a.example"})
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Access-Control-Allow-Origin" not in client.get(
        "/a", headers={"Origin": "https://b.example"}).headers


# A problem of two options set in different places names the resource entry that
# combines them (issue 22), and where each option comes from.
ENTRY_CONFLICTS = [
    # (top-level options, the entry's options, the place the problem names)
    ({"supports_credentials": True}, {"origins": "*"},
     "resources['/public/*'] (supports_credentials from CORS(), "
     "origins from resources['/public/*'])"),
    ({"origins": "*"}, {"supports_credentials": True},
     "resources['/public/*'] (supports_credentials from resources['/public/*'], "
     "origins from CORS())"),
    ({"origins": [r"https://.*\.com"]}, {"supports_credentials": True},
     "resources['/public/*'] (origins from CORS(), "
     "supports_credentials from resources['/public/*'])"),
    ({"supports_credentials": True}, {"origins": [r"https://.*\.com"]},
     "resources['/public/*'] (origins from resources['/public/*'], "
     "supports_credentials from CORS())"),
    ({"expose_headers": "*"}, {"supports_credentials": True, "origins": ["https://a.example"]},
     "resources['/public/*'] (expose_headers from CORS(), "
     "supports_credentials from resources['/public/*'])"),
    # One place set both: that place, as before.
    ({}, {"supports_credentials": True, "origins": "*"}, "resources['/public/*']"),
    ({"supports_credentials": True, "origins": "*"}, {}, "CORS()"),
    ({"supports_credentials": True}, {}, "CORS()"),  # with the default origins
]


@pytest.mark.parametrize(("top", "entry", "where"), ENTRY_CONFLICTS)
def test_a_conflict_names_the_entry_that_combines_it(
    top: dict[str, Any], entry: dict[str, Any], where: str
) -> None:
    options = {**top, "resources": {"/api/*": {"origins": ["https://a.example"]},
                                    "/public/*": entry}}
    if top.get("origins") == "*" and top.get("supports_credentials"):
        options["resources"] = {"/public/*": entry}
    error = errors_of(**options)
    assert [problem.where for problem in error.problems] == [where], str(error)


def test_the_app_configs_credentials_and_an_entrys_star() -> None:
    app = Flask(__name__)
    app.config["CORS_SUPPORTS_CREDENTIALS"] = True
    with pytest.raises(ConfigurationError) as caught:
        CORS(app, resources={"/api/*": {"origins": ["https://a.example"]},
                             "/public/*": {"origins": "*"}})
    assert [problem.where for problem in caught.value.problems] == [
        "resources['/public/*'] (supports_credentials from "
        "app.config['CORS_SUPPORTS_CREDENTIALS'], origins from resources['/public/*'])"]
