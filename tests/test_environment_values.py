"""Values as the environment delivers them (``app.config.from_prefixed_env()``, secret
files): whitespace around origins and names is dropped; a boolean written ``True`` gets
an error that says the value is read as JSON."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from flask import Flask

from flask_crossorigin import CORS, OPTIONS, ConfigurationError, ConfigurationWarning

ORIGIN = "https://b.example.com"
AROUND = [" {}", "{}\n", "\t{}\r\n", "{} \n", "\n{}\n"]
BOOLEANS = [option for option in OPTIONS if option.type == "bool"]


def app_from_env(monkeypatch: pytest.MonkeyPatch, **variables: str) -> Flask:
    for name, value in variables.items():
        monkeypatch.setenv(f"FLASK_CORS_{name.upper()}", value)
    app = Flask(__name__)
    app.config.from_prefixed_env()

    @app.route("/x", methods=["GET", "PUT"])
    def x() -> Any:
        return "x", 200, {"X-Total": "3"}

    return app


def start_quietly(app: Flask, **options: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConfigurationWarning)  # any warning fails the test
        CORS(app, **options)


@pytest.mark.parametrize("spelling", AROUND)
@pytest.mark.parametrize("source", ["environment", "keyword"])
def test_whitespace_around_an_origin_is_dropped(
    monkeypatch: pytest.MonkeyPatch, spelling: str, source: str
) -> None:
    value = spelling.format(ORIGIN)
    if source == "environment":
        app = app_from_env(monkeypatch, origins=value)
        start_quietly(app)
    else:
        app = app_from_env(monkeypatch)
        start_quietly(app, origins=[value, "https://c.example.com"])
    response = app.test_client().get("/x", headers={"Origin": ORIGIN})
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN


@pytest.mark.parametrize("spelling", AROUND)
def test_whitespace_around_names_is_dropped(monkeypatch: pytest.MonkeyPatch,
                                            spelling: str) -> None:
    app = app_from_env(monkeypatch, origins=ORIGIN, methods=spelling.format("GET, PUT"),
                       allow_headers=spelling.format("X-Token"),
                       expose_headers=spelling.format("X-Total"))
    start_quietly(app)
    client = app.test_client()
    preflight = client.options("/x", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "x-token"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET, PUT"
    assert preflight.headers["Access-Control-Allow-Headers"] == "x-token"
    actual = client.get("/x", headers={"Origin": ORIGIN})
    assert actual.headers["Access-Control-Expose-Headers"] == "X-Total"


def test_whitespace_inside_an_origin_still_warns() -> None:
    with pytest.warns(ConfigurationWarning, match="contains whitespace"):
        CORS(Flask(__name__), origins=["https://b .example.com"])


@pytest.mark.parametrize("option", BOOLEANS, ids=[option.name for option in BOOLEANS])
@pytest.mark.parametrize(("written", "json"), [("True", "true"), ("False", "false"),
                                               ("TRUE", "true"), (" True\n", "true"),
                                               ("1", "true"), ("0", "false")])
def test_a_python_boolean_in_the_environment_says_json(
    monkeypatch: pytest.MonkeyPatch, option: Any, written: str, json: str
) -> None:
    app = app_from_env(monkeypatch, origins=ORIGIN, **{option.name: written})
    with pytest.raises(ConfigurationError) as raised:
        CORS(app)
    message = str(raised.value)
    assert f"app.config['{option.config_key}']" in message
    assert "read as JSON" in message
    assert f"FLASK_{option.config_key}={json}" in message


@pytest.mark.parametrize("option", BOOLEANS, ids=[option.name for option in BOOLEANS])
def test_the_json_boolean_works(monkeypatch: pytest.MonkeyPatch, option: Any) -> None:
    app = app_from_env(monkeypatch, origins=ORIGIN, **{option.name: "false"})
    CORS(app)  # no error
    assert app.config[option.config_key] is False


def test_a_string_keyword_argument_gets_no_environment_hint() -> None:
    with pytest.raises(ConfigurationError) as raised:
        CORS(Flask(__name__), origins=[ORIGIN], supports_credentials="True")
    assert "must be True or False" in str(raised.value)
    assert "JSON" not in str(raised.value)
