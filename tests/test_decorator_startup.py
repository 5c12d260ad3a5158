"""A decorator's configuration problems surface at start-up, all at once, at its line."""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import pytest
from flask import Flask

from flask_crossorigin import CORS, ConfigurationError, ConfigurationWarning, cross_origin

A = "https://a.example"
B = "https://b.example"


def line_of(marker: str) -> int:
    """The line of this file that holds ``marker`` (a decorator's own line)."""
    source = inspect.getsource(inspect.getmodule(line_of)).splitlines()  # type: ignore[arg-type]
    return next(number for number, text in enumerate(source, start=1)
                if marker in text and "line_of(" not in text)


# Problems the decorator's own arguments decide, whatever app.config says.
OWN_PROBLEMS = [
    ({"orgins": [A]}, "did you mean 'origins'"),
    ({"origins": 42}, "an origin is a string"),
    ({"max_age": "soon"}, "max_age='soon'"),
    ({"supports_credentials": "yes"}, "must be True or False"),
    ({"methods": ["GET", "P UT"]}, "methods="),
    ({"origins": "*", "supports_credentials": True}, "cannot be combined with origins='*'"),
    ({"origins": [A], "supports_credentials": True, "expose_headers": "*"},
     "'*' is not a wildcard for credentialed requests"),
    ({"origins": "*", "report_only": {"supports_credentials": True}},
     "cannot be combined with origins='*'"),
]


@pytest.mark.parametrize(("options", "wanted"), OWN_PROBLEMS)
def test_own_problems_raise_when_the_decorator_is_applied(
    options: dict[str, Any], wanted: str
) -> None:
    with pytest.raises(ConfigurationError, match=wanted.replace("*", r"\*").replace("(", r"\(")):
        @cross_origin(**options)
        def view() -> str:
            return "view"


def test_a_combination_app_config_may_complete_waits_for_the_app() -> None:
    decorator = cross_origin(supports_credentials=True)  # CORS_ORIGINS may list origins
    app = Flask(__name__)
    app.config["CORS_ORIGINS"] = [A]

    @app.route("/x")
    @decorator
    def x() -> str:
        return "x"

    CORS(app, resources={})
    response = app.test_client().get("/x", headers={"Origin": A})
    assert response.headers["Access-Control-Allow-Credentials"] == "true"


def late_app(extension: bool) -> Flask:
    """The flask-cors layout: CORS(app) first, then views whose decorators need origins."""
    app = Flask(__name__)
    if extension:
        CORS(app)

    @app.route("/one")
    @cross_origin(supports_credentials=True)  # marker: first-late
    def one() -> str:
        return "one"

    @app.route("/two")
    @cross_origin(supports_credentials=True, max_age=60)  # marker: second-late
    def two() -> str:
        return "two"

    @app.route("/fine")
    @cross_origin(origins=[A])
    def fine() -> str:
        return "fine"

    @app.route("/plain")
    def plain() -> str:
        return "plain"

    return app


@pytest.mark.parametrize("extension", [True, False])
def test_views_registered_later_are_checked_at_the_first_request_all_at_once(
    extension: bool,
) -> None:
    app = late_app(extension)
    app.config["PROPAGATE_EXCEPTIONS"] = True
    client = app.test_client()
    first = line_of("# marker: first-late")
    second = line_of("# marker: second-late")
    # Every request to a decorated view, as long as the problems are there.
    for path in ("/two", "/fine", "/one", "/fine", "/two"):
        with pytest.raises(ConfigurationError) as caught:
            client.get(path, headers={"Origin": A})
        text = str(caught.value)
        assert text.startswith("2 problems in the CORS configuration:")
        assert f"test_decorator_startup.py:{first}: @cross_origin(): supports_credentials=True: "\
            "cannot be combined with origins='*' (the default)" in text
        assert f"test_decorator_startup.py:{second}: @cross_origin(): supports_credentials" in text


def test_views_registered_before_the_extension_fail_its_initialisation_all_at_once() -> None:
    app = late_app(extension=False)
    with pytest.raises(ConfigurationError, match="^2 problems in the CORS configuration"):
        CORS(app)


def test_the_first_request_check_is_done_once() -> None:
    app = Flask(__name__)
    CORS(app, origins=[A])

    @app.route("/x")
    @cross_origin(origins=[B])
    def x() -> str:
        return "x"

    state = app.extensions["crossorigin"]
    client = app.test_client()
    assert client.get("/x", headers={"Origin": B}).headers["Access-Control-Allow-Origin"] == B
    calls: list[int] = []
    state.views.check = lambda: calls.append(1) or []  # type: ignore[method-assign]
    client.get("/x", headers={"Origin": B})
    assert calls == []


def shown(caught: list[warnings.WarningMessage]) -> list[tuple[str, int, str]]:
    return [(w.filename.rpartition("/")[2], w.lineno, str(w.message))
            for w in caught if issubclass(w.category, ConfigurationWarning)]


@pytest.mark.parametrize("extension", [True, False])
def test_a_decorators_warning_is_shown_once_at_its_line(extension: bool) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        app = Flask(__name__)
        if extension:
            CORS(app, resources={})

        @app.route("/x")
        @cross_origin(origins=[A + "/"])  # marker: slash
        def x() -> str:
            return "x"

        app.test_client().get("/x", headers={"Origin": A})
        app.test_client().get("/x", headers={"Origin": A})
    found = shown(caught)
    assert len(found) == 1, found
    assert found[0][:2] == ("test_decorator_startup.py", line_of("# marker: slash"))
    assert "trailing slash" in found[0][2]


@pytest.mark.parametrize("extension", [True, False])
def test_a_config_warning_met_by_late_decorators_is_shown_once_at_a_decorators_line(
    extension: bool,
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        app = Flask(__name__)
        app.config["CORS_ORIGINS"] = [A + "/"]
        if extension:
            CORS(app, resources={})

        @app.route("/x")
        @cross_origin()  # marker: config-x
        def x() -> str:
            return "x"

        @app.route("/y")
        @cross_origin()
        def y() -> str:
            return "y"

        assert app.test_client().get("/x", headers={"Origin": A}).status_code == 200
        app.test_client().get("/y", headers={"Origin": A})
    found = shown(caught)
    assert len(found) == 1, found
    assert found[0][:2] == ("test_decorator_startup.py", line_of("# marker: config-x"))
    assert found[0][2].startswith("app.config['CORS_ORIGINS']: ")


def test_a_config_warning_of_the_extension_is_not_repeated_by_decorators() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        app = Flask(__name__)
        app.config["CORS_ORIGINS"] = [A + "/"]
        CORS(app)  # marker: init

        @app.route("/x")
        @cross_origin()
        def x() -> str:
            return "x"

        app.test_client().get("/x", headers={"Origin": A})
    found = shown(caught)
    assert [line for _, line, _ in found] == [line_of("# marker: init")]


def test_lint_shows_a_late_warning_at_the_decorators_line_not_the_flask_script() -> None:
    from flask.cli import FlaskGroup

    app = Flask(__name__)
    app.config["CORS_ORIGINS"] = [A + "/"]

    @app.route("/x")
    @cross_origin()  # marker: lint-line
    def x() -> str:
        return "x"

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = app.test_cli_runner().invoke(FlaskGroup(), args=["cors", "lint"])
    assert "trailing slash" in result.output  # lint's own report of it
    found = shown(caught)
    assert [(name, line) for name, line, _ in found] == [
        ("test_decorator_startup.py", line_of("# marker: lint-line"))]


def test_a_failed_first_request_check_is_logged_once_per_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    app = late_app(extension=True)
    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/plain", headers={"Origin": A})
    assert response.status_code == 500
    assert "Access-Control-Allow-Origin" not in response.headers
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1, [record.getMessage() for record in errors]
    assert "2 problems in the CORS configuration" in str(errors[0].exc_info[1])
