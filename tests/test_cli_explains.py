"""``flask cors`` names what actually decides: the policy's methods and headers, the
policy of the exchange that was judged, and header lines combined as a browser does."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, Response
from flask.cli import FlaskGroup

from flask_crossorigin import CORS, cross_origin
from flask_crossorigin.cli import check_request, route_rows
from flask_crossorigin.reasons import VERDICTS

from .conftest import TRUSTED
from .test_cli import api_app, first_line, run

# -- routes: the policy's methods and headers, and the host ------------------------------


def test_routes_shows_what_a_preflight_may_ask_for() -> None:
    result = run(api_app(), "routes", "--wide")
    assert result.exit_code == 0
    head, rule, *rows = result.output.splitlines()
    columns = head.split()
    assert columns[:6] == ["Rule", "Methods", "Policy", "Origins", "Allow-Methods",
                           "Allow-Headers"]
    start = head.index("Allow-Methods")
    item = next(line for line in rows if line.startswith("/api/items/"))
    # The rule allows DELETE; the policy does not, and this is what explains a refusal.
    assert item[head.index("Methods"):].startswith("DELETE, GET, PUT")
    assert item[start:].startswith("GET, PUT ")
    assert item[head.index("Allow-Headers"):].startswith("Content-Type ")
    index = next(line for line in rows if line.startswith("/ "))
    assert index[start:].startswith("- ")


def test_routes_shows_the_host_of_host_matching_rules() -> None:
    app = Flask(__name__, host_matching=True, static_host="static.example")

    @app.route("/x", host="api.example")
    def x() -> str:
        return "x"

    CORS(app, origins=[TRUSTED])
    rows = {row["endpoint"]: row for row in route_rows(app)}
    assert rows["x"]["host"] == "api.example"
    lines = run(app, "routes", "--wide").output.splitlines()
    assert lines[0].split()[:2] == ["Host", "Rule"]
    assert any(line.split()[:2] == ["api.example", "/x"] for line in lines)
    assert all(row["host"] is None for row in route_rows(api_app()))
    assert run(api_app(), "routes").output.split()[0] == "Rule"


# -- check: the policy of the exchange that decided -----------------------------------------


def decorated_app() -> Flask:
    app = Flask(__name__)

    @app.route("/v", methods=["GET", "PUT"])
    @cross_origin(origins=[TRUSTED], methods=["GET", "PUT"])
    def v() -> str:
        return "v"

    CORS(app, resources={"/api/*": {}})
    return app


@pytest.mark.parametrize("method", ["patch", "PATCH", "DELETE", "Patch"])
def test_check_names_the_policy_its_refusal_names(method: str) -> None:
    result = run(decorated_app(), "check", "/v", "--origin", TRUSTED, "--method", method)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("blocked: the method ")
    assert "@cross_origin on v" in lines[0]
    assert lines[1] == "policy: @cross_origin on v"


def test_check_names_the_policy_of_a_granted_preflight() -> None:
    result = check_request(decorated_app(), "/v", TRUSTED, "PUT", preflight=True)
    assert result.allowed
    assert result.policy == "@cross_origin on v"
    assert [exchange.policy for exchange in result.exchanges] == ["@cross_origin on v"]


# -- check: repeated header lines, as a browser combines them ---------------------------


def own_headers_app(headers: list[tuple[str, str]]) -> Flask:
    app = Flask(__name__)

    @app.route("/own", methods=["GET", "PUT", "OPTIONS"])
    def own() -> Any:
        response = Response("own")
        for name, value in headers:
            response.headers.add(name, value)
        return response

    CORS(app, resources={"/api/*": {}})  # no policy for /own: the view's headers are judged
    return app


def test_two_allow_credentials_lines_block() -> None:
    app = own_headers_app([("Access-Control-Allow-Origin", TRUSTED),
                           ("Access-Control-Allow-Credentials", "true"),
                           ("Access-Control-Allow-Credentials", "true")])
    result = run(app, "check", "/own", "--origin", TRUSTED, "--credentials")
    assert result.exit_code == 1
    assert first_line(result) == "blocked: " + VERDICTS["credentials-not-true"].format(
        value="'true, true'")


def test_one_allow_credentials_line_passes() -> None:
    app = own_headers_app([("Access-Control-Allow-Origin", TRUSTED),
                           ("Access-Control-Allow-Credentials", "true")])
    assert run(app, "check", "/own", "--origin", TRUSTED, "--credentials").exit_code == 0


@pytest.mark.parametrize(("name", "lines", "args", "allowed"), [
    # Two lines make one list: the browser allows PUT when any line names it.
    ("Access-Control-Allow-Methods", ["GET", "PUT"], ["--method", "PUT"], True),
    ("Access-Control-Allow-Methods", ["GET", "POST"], ["--method", "PUT"], False),
    ("Access-Control-Allow-Headers", ["x-a", "x-b"], ["--header", "X-B"], True),
    ("Access-Control-Allow-Headers", ["x-a", "x-c"], ["--header", "X-B"], False),
])
def test_repeated_list_lines_are_one_list(
    name: str, lines: list[str], args: list[str], allowed: bool
) -> None:
    app = own_headers_app([("Access-Control-Allow-Origin", TRUSTED),
                           *((name, line) for line in lines)])
    result = run(app, "check", "/own", "--origin", TRUSTED, "--preflight", *args)
    assert (result.exit_code == 0) is allowed, result.output
    if not allowed:
        assert ", ".join(lines) in first_line(result)


# -- README: the example is the real command's real output ------------------------------


def test_the_readme_example_is_real_output_on_a_routed_path() -> None:
    import shlex
    from pathlib import Path

    from flask.cli import ScriptInfo

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("### Why was my request blocked?", 1)[1].split("```console\n", 1)[1]
    session = block.split("```", 1)[0].splitlines()
    command = shlex.split(session[0].removeprefix("$ "))
    assert command[:4] == ["flask", "--app", "example_app", "cors"]
    app = ScriptInfo(app_import_path="example_app").load_app()
    result = app.test_cli_runner().invoke(FlaskGroup(), args=command[3:])
    status = session.index("$ echo $?")
    # The app's own after_request hooks see the preflight answer too; '...' stands for
    # its random request id.
    expected = session[1:status]
    got = result.output.splitlines()
    assert len(got) == len(expected), got
    for line, want in zip(got, expected):
        if want.endswith("..."):
            assert line.startswith(want[:-3]), (line, want)
        else:
            assert line == want
    assert str(result.exit_code) == session[status + 1]
    assert "no route matches" not in result.output  # a routed path
