"""``flask cors routes``, ``check`` and ``lint``, through Flask's CLI runner."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Blueprint, Flask, jsonify, redirect, request
from flask.cli import FlaskGroup

from flask_crossorigin import CORS, ConfigurationWarning, cross_origin
from flask_crossorigin.cli import WARNINGS, check_request, lint_policy, route_rows
from flask_crossorigin.cli.lint import SUGGESTIONS
from flask_crossorigin.extension import EXTENSION_KEY
from flask_crossorigin.reasons import REASONS, VERDICTS, Refusal, Verdict

from .conftest import TRUSTED, make_app

EVIL = "https://evil.example"
ROOT = Path(__file__).resolve().parent.parent


def run(app: Flask, *args: str) -> Result:
    """``flask cors ARGS`` as the ``flask`` command runs it: the group comes from the
    ``flask.commands`` entry point, not from the app."""
    return app.test_cli_runner().invoke(FlaskGroup(), args=["cors", *args])


def first_line(result: Result) -> str:
    return result.output.splitlines()[0]


def api_app() -> Flask:
    """Every source of a policy: app resources, a blueprint, a decorator, and none."""
    app = Flask(__name__)

    @app.route("/")
    def index() -> Any:
        return "home"

    @app.route("/api/items/<int:item>", methods=["GET", "PUT", "DELETE"])
    def item(item: int) -> Any:
        return jsonify(item=item)

    @app.route("/api/private/me")
    def me() -> Any:
        return jsonify(user="me")

    @app.route("/api/widget")
    @cross_origin(origins="*", send_wildcard=True)
    def widget() -> Any:
        return "widget"

    shop = Blueprint("shop", __name__, url_prefix="/shop")
    CORS(shop, origins=["https://shop.example"])

    @shop.route("/cart")
    def cart() -> Any:
        return "cart"

    app.register_blueprint(shop)
    CORS(app, origins=[TRUSTED], expose_headers=["X-Total"], max_age=600, resources={
        "/api/*": {"methods": ["GET", "PUT"], "allow_headers": ["Content-Type"]},
        "/api/private/*": {"supports_credentials": True},
    })
    return app


# -- registration ------------------------------------------------------------------------


def test_the_group_is_a_flask_plugin_for_every_app() -> None:
    app = Flask(__name__)  # no CORS(app): the group exists all the same
    assert "cors" not in app.cli.commands  # nothing is added to the app itself
    result = run(app, "--help")
    assert result.exit_code == 0, result.output
    for command in ("routes", "check", "lint"):
        assert command in result.output
    found = entry_points()
    # Python 3.9's entry_points() takes no group and returns a dict of groups.
    points = (found.select(group="flask.commands") if hasattr(found, "select")
              else found.get("flask.commands", ()))
    assert [point.value for point in points if point.name == "cors"] == [
        "flask_crossorigin.cli:cli"
    ]


def test_a_decorator_only_app_has_the_commands() -> None:
    app = Flask(__name__)

    @app.route("/widget")
    @cross_origin(origins=[TRUSTED])
    def widget() -> Any:
        return "widget"

    result = run(app, "check", "/widget", "--origin", TRUSTED)
    assert result.exit_code == 0, result.output
    assert "@cross_origin on widget" in result.output
    assert EXTENSION_KEY not in app.extensions  # the command registered nothing


def test_the_extension_module_does_not_import_the_cli() -> None:
    code = (
        "import sys, flask_crossorigin; "
        "assert 'flask_crossorigin.cli' not in sys.modules, sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# -- routes ------------------------------------------------------------------------------


def test_routes_names_every_policy_and_where_it_comes_from() -> None:
    rows = {row["endpoint"]: row for row in route_rows(api_app())}
    assert rows["item"]["source"] == "app"
    assert rows["item"]["pattern"] == "/api/*"
    assert rows["item"]["policy"] == "resources['/api/*']"
    assert rows["item"]["methods"] == ["DELETE", "GET", "PUT"]
    assert rows["item"]["allow_methods"] == ["GET", "PUT"]
    assert rows["me"]["policy"] == "resources['/api/private/*']"
    assert rows["me"]["credentials"] is True
    assert rows["widget"]["source"] == "decorator"
    assert rows["widget"]["pattern"] is None
    assert rows["widget"]["origins"] == ["*"]
    assert rows["shop.cart"]["source"] == "blueprint"
    assert rows["shop.cart"]["blueprint"] == "shop"
    assert rows["shop.cart"]["origins"] == ["https://shop.example"]
    assert rows["index"]["source"] == "none"
    assert rows["index"]["policy"] is None
    assert rows["item"]["max_age"] == 600
    assert rows["item"]["expose_headers"] == ["X-Total"]


def test_routes_prints_a_table() -> None:
    result = run(api_app(), "routes", "--wide")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == [
        "Rule", "Methods", "Policy", "Origins", "Allow-Methods", "Allow-Headers",
        "Credentials", "Max-Age", "Exposes"
    ]
    assert set(lines[1]) <= {"-", " "}
    row = next(line for line in lines if line.startswith("/api/private/me"))
    assert row.split() == [
        "/api/private/me", "GET", "resources['/api/private/*']", TRUSTED,
        "GET,", "HEAD,", "POST,", "OPTIONS,", "PUT,", "PATCH,", "DELETE", "*",
        "yes", "600", "X-Total"
    ]
    row = next(line for line in lines if line.startswith("/ "))
    assert row.split() == ["/", "GET", "(none)", "-", "-", "-", "-", "-", "-"]
    assert "looked up with the rule text" not in result.output  # no rule may vary


def test_routes_json_is_machine_readable() -> None:
    result = run(api_app(), "routes", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert {row["rule"] for row in rows} >= {"/", "/api/items/<int:item>", "/shop/cart"}
    assert all(isinstance(row["varies"], bool) for row in rows)


def test_a_rule_with_variables_is_marked_when_a_pattern_may_split_it() -> None:
    app = make_app(resources={"/api/*": {}, "/api/items/7": {"origins": [TRUSTED]}})
    rows = {row["rule"]: row for row in route_rows(app)}
    assert rows["/api/items/<int:item>"]["varies"] is True
    assert rows["/api/items/<int:item>"]["policy"] == "resources['/api/*']"
    assert rows["/api/data"]["varies"] is False  # no variables: its lookup is exact
    result = run(app, "routes")
    assert "/api/items/<int:item> *" in result.output
    assert "looked up with the rule text as path" in result.output
    # The check of one URL tells the truth.
    assert check_request(app, "/api/items/7", EVIL).policy == "resources['/api/items/7']"


# -- check -------------------------------------------------------------------------------


def test_check_allows_a_listed_origin() -> None:
    result = run(api_app(), "check", "/api/items/1", "--origin", TRUSTED)
    assert result.exit_code == 0
    assert first_line(result) == f"allowed: resources['/api/*'] allows the origin '{TRUSTED}'"
    assert f"< Access-Control-Allow-Origin: {TRUSTED}" in result.output
    assert "< Vary: Origin" in result.output
    assert "> GET /api/items/1" in result.output


def test_check_blocks_with_the_reason_the_log_gives(caplog: pytest.LogCaptureFixture) -> None:
    app = api_app()
    with caplog.at_level(logging.DEBUG, logger="flask_crossorigin"):
        result = run(app, "check", "/api/items/1", "--origin", EVIL)
    assert result.exit_code == 1
    reason = Refusal("origin-not-allowed", origin=EVIL, policy="resources['/api/*']").message
    assert first_line(result) == f"blocked: {reason}"
    [record] = [r for r in caplog.records if r.name == "flask_crossorigin"]
    assert record.getMessage().endswith(reason)
    assert "policy: resources['/api/*']" in result.output
    assert "Access-Control-Allow-Origin" not in result.output


def test_check_sends_the_preflight_a_browser_would_send_first() -> None:
    app = api_app()
    result = run(app, "check", "/api/items/1", "--origin", TRUSTED, "--method", "put",
                 "--header", "Content-Type")
    assert result.exit_code == 0, result.output
    assert first_line(result) == (
        f"allowed: resources['/api/*'] allows the origin '{TRUSTED}' to send 'PUT' "
        "with the header(s) 'content-type'"
    )
    output = result.output
    assert output.index("preflight (passes):") < output.index("request (passes):")
    assert "> Access-Control-Request-Method: PUT" in output
    assert "> Access-Control-Request-Headers: content-type" in output
    assert "< 204 NO CONTENT" in output


def test_a_refused_preflight_stops_the_check() -> None:
    result = run(api_app(), "check", "/api/items/1", "--origin", TRUSTED, "--method", "DELETE")
    assert result.exit_code == 1
    assert first_line(result).startswith(
        "blocked: the method 'DELETE' is not in the methods of resources['/api/*'] (GET, PUT)"
    )
    assert "request (" not in result.output
    assert "a browser sends a preflight first" in result.output


def test_check_refuses_a_header_the_policy_does_not_allow() -> None:
    result = run(api_app(), "check", "/api/items/1", "--origin", TRUSTED,
                 "--header", "X-Token: abc")
    assert result.exit_code == 1
    assert "the request header(s) 'x-token' are not in the allow_headers" in first_line(result)


def test_safelisted_headers_need_no_preflight() -> None:
    result = run(api_app(), "check", "/api/items/1", "--origin", TRUSTED, "--method", "POST",
                 "--header", "Accept: text/plain", "--header", "Content-Type: text/plain")
    assert "preflight" not in result.output
    assert "> Content-Type: text/plain" in result.output


def test_check_normalizes_methods_like_fetch() -> None:
    app = make_app(origins=[TRUSTED], methods=["GET", "PATCH"])
    # fetch() uppercases 'put' but sends 'patch' as written: PATCH does not allow it.
    result = run(app, "check", "/api/data", "--origin", TRUSTED, "--method", "patch",
                 "--preflight")
    assert result.exit_code == 1
    assert "the method 'patch' is not in the methods" in first_line(result)
    result = run(app, "check", "/api/data", "--origin", TRUSTED, "--method", "PATCH",
                 "--preflight")
    assert result.exit_code == 0


def test_preflight_only_checks_the_preflight() -> None:
    result = run(api_app(), "check", "/api/items/1", "--origin", TRUSTED, "--preflight")
    assert result.exit_code == 0
    assert "request (" not in result.output
    assert "a browser sends no preflight for this request" in result.output
    assert first_line(result) == (
        f"allowed: resources['/api/*'] allows the origin '{TRUSTED}' to send 'GET'"
    )


def test_check_does_not_run_a_view_that_may_change_data() -> None:
    calls: list[str] = []
    app = Flask(__name__)

    @app.route("/items/<int:item>", methods=["DELETE"])
    def delete(item: int) -> Any:
        calls.append(request.method)
        return "deleted"

    CORS(app, origins=[TRUSTED])
    result = run(app, "check", "/items/1", "--origin", TRUSTED, "--method", "DELETE")
    assert result.exit_code == 0, result.output
    assert calls == []
    assert "the DELETE view was not run" in result.output
    assert f"< Access-Control-Allow-Origin: {TRUSTED}" in result.output
    result = run(app, "check", "/items/1", "--origin", TRUSTED, "--method", "DELETE", "--send")
    assert result.exit_code == 0
    assert calls == ["DELETE"]
    assert "< 200 OK" in result.output


def test_credentials_need_the_credentials_header() -> None:
    app = api_app()
    result = run(app, "check", "/api/items/1", "--origin", TRUSTED, "--credentials")
    assert result.exit_code == 1
    assert first_line(result) == "blocked: " + VERDICTS["credentials-missing"].format(
        policy="resources['/api/*']")
    result = run(app, "check", "/api/private/me", "--origin", TRUSTED, "--credentials")
    assert result.exit_code == 0
    assert first_line(result).endswith(", with credentials")
    assert "< Access-Control-Allow-Credentials: true" in result.output


def test_a_wildcard_answer_blocks_credentialed_requests() -> None:
    result = run(api_app(), "check", "/api/widget", "--origin", EVIL, "--credentials")
    assert result.exit_code == 1
    assert "Access-Control-Allow-Origin is '*', which browsers never accept" in result.output
    result = run(api_app(), "check", "/api/widget", "--origin", EVIL)
    assert result.exit_code == 0
    assert first_line(result).startswith("allowed: @cross_origin on ")


def test_check_says_when_no_policy_applies() -> None:
    result = run(api_app(), "check", "/", "--origin", TRUSTED)
    assert result.exit_code == 1
    assert first_line(result) == "blocked: " + VERDICTS["no-policy"].format(path="'/'")
    assert "policy: (none)" in result.output


def test_check_explains_an_error_without_cors_headers() -> None:
    app = make_app(origins=[TRUSTED], intercept_exceptions=False)
    result = run(app, "check", "/boom", "--origin", TRUSTED)
    assert result.exit_code == 1
    assert "the response is an error (500 INTERNAL SERVER ERROR)" in first_line(result)
    assert "set intercept_exceptions=True" in first_line(result)


def test_check_reports_a_missing_route() -> None:
    result = run(api_app(), "check", "/api/nothing", "--origin", TRUSTED)
    assert result.exit_code == 0  # the 404 is readable: it carries the policy's headers
    assert "note: no route matches /api/nothing (404)" in result.output


def test_an_exception_is_answered_with_the_error_page_even_in_debug_mode() -> None:
    app = make_app(origins=[TRUSTED])
    app.debug = True
    result = run(app, "check", "/boom", "--origin", TRUSTED)
    assert result.exit_code == 0, result.output
    assert "< 500 INTERNAL SERVER ERROR" in result.output
    assert app.config["PROPAGATE_EXCEPTIONS"] is None


def test_check_judges_headers_a_view_set_itself() -> None:
    app = Flask(__name__)

    @app.route("/own")
    def own() -> Any:
        return "own", 200, {"Access-Control-Allow-Origin": "https://else.example"}

    @app.route("/twice")
    def twice() -> Any:
        response = jsonify(ok=True)
        response.headers.add("Access-Control-Allow-Origin", TRUSTED)
        response.headers.add("Access-Control-Allow-Origin", TRUSTED)
        return response

    @app.route("/moved", methods=["GET", "OPTIONS"])
    def moved() -> Any:
        return redirect("/elsewhere")

    CORS(app, origins=[TRUSTED], automatic_options=False)
    result = run(app, "check", "/own", "--origin", TRUSTED)
    assert result.exit_code == 1
    assert "Access-Control-Allow-Origin is 'https://else.example', not the request's origin" \
        in first_line(result)
    result = run(app, "check", "/twice", "--origin", TRUSTED)
    # Under a policy each CORS header is sent once, whoever set it.
    assert first_line(result).startswith("allowed:")
    result = run(app, "check", "/moved", "--origin", TRUSTED, "--preflight")
    assert result.exit_code == 1
    assert first_line(result) == (
        "blocked: the preflight answer has status 302 FOUND; browsers need 200-299, "
        "and no redirect"
    )


def test_check_counts_the_origin_lines_of_a_path_outside_every_policy() -> None:
    app = Flask(__name__)

    @app.route("/twice")
    def twice() -> Any:
        response = jsonify(ok=True)
        response.headers.add("Access-Control-Allow-Origin", TRUSTED)
        response.headers.add("Access-Control-Allow-Origin", TRUSTED)
        return response

    CORS(app, origins=[TRUSTED], resources="/api/*")
    result = run(app, "check", "/twice", "--origin", TRUSTED)
    assert "the response has 2 Access-Control-Allow-Origin headers" in first_line(result)


def test_check_judges_preflight_answers_a_view_wrote() -> None:
    app = Flask(__name__)

    @app.route("/manual", methods=["GET", "PUT", "OPTIONS"])
    def manual() -> Any:
        if request.method == "OPTIONS":
            return "", 204, {
                "Access-Control-Allow-Origin": TRUSTED,
                "Access-Control-Allow-Methods": "*",
                "Access-Control-Allow-Headers": "*",
                "Access-Control-Allow-Credentials": "true",
            }
        return "ok"

    CORS(app, origins=[TRUSTED], supports_credentials=True, automatic_options=False)
    args = ["check", "/manual", "--origin", TRUSTED, "--method", "PUT", "--preflight"]
    assert run(app, *args).exit_code == 0  # '*' allows any method without credentials
    result = run(app, *args, "--credentials")
    assert result.exit_code == 1
    assert "Access-Control-Allow-Methods '*' does not include the method 'PUT'" \
        in first_line(result)
    result = run(app, "check", "/manual", "--origin", TRUSTED, "--header", "Authorization",
                 "--preflight")
    assert result.exit_code == 1
    assert "Access-Control-Allow-Headers '*' does not include 'authorization'" \
        in first_line(result)


def test_every_verdict_formats() -> None:
    details = dict(origin="o", policy="p", path="/", status="200 OK", value="v", method="m",
                   headers="h", count=2)
    for code in VERDICTS:
        assert Verdict(code, **details).message


def test_reason_templates_do_not_collide() -> None:
    assert not set(REASONS) & set(VERDICTS)


# -- lint --------------------------------------------------------------------------------


def test_lint_passes_a_careful_configuration() -> None:
    result = run(api_app(), "lint")
    assert result.exit_code == 0
    # A suggestion is no warning: /api/private/* is credentialed, its routes only read.
    assert result.output.splitlines() == [
        "suggestion: resources['/api/private/*']: " + SUGGESTIONS["credentials-csrf"],
        "no warnings (4 policies checked)",
    ]


@pytest.mark.parametrize(
    ("options", "code", "details"),
    [
        ({"origins": ["https://*.example.com"], "supports_credentials": True,
          "csrf_protection": True},
         "credentials-wildcard", {"entry": "'https://*.example.com'"}),
        ({"origins": [r"https://app\d\.example\.com"], "supports_credentials": True,
          "csrf_protection": "report-only"},
         "credentials-regex", {"entry": r"'https://app\d\.example\.com'"}),
        ({"allow_private_network": True}, "private-network", {}),
        ({"origins": [r"https?://.*"]}, "regex-open",
         {"entry": "'https?://.*'", "probe": "'https://l.com'"}),
        ({"origins": ["null", TRUSTED]}, "null-origin", {}),
        ({"max_age": 86400}, "long-max-age", {"max_age": 86400, "limit": 7200, "kept": 86400}),
        ({"max_age": 100000}, "long-max-age", {"max_age": 100000, "limit": 7200,
                                               "kept": 86400}),
    ],
)
def test_lint_reports_each_risk(
    options: dict[str, Any], code: str, details: dict[str, Any]
) -> None:
    result = run(make_app(**options), "lint")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "resources['/*']: " + WARNINGS[code].format(**details),
        "1 warning (1 policy checked)",
    ]


def test_lint_reports_unescaped_dots_in_origin_regexes() -> None:
    with pytest.warns(ConfigurationWarning):
        app = make_app(origins=[r"https://.*\.example.com"])
    result = run(app, "lint")
    assert result.exit_code == 1
    assert "has an unescaped '.' in" in result.output
    assert "write '\\.' for a literal dot" in result.output


def decorator_only_app(hook: bool, extension: bool) -> Flask:
    app = Flask(__name__)

    @app.route("/widget")
    @cross_origin(origins=[TRUSTED])
    def widget() -> Any:
        return "widget"

    if hook:
        @app.before_request
        def login_required() -> None:
            return None

    if extension:
        CORS(app, resources={})
    return app


def test_lint_warns_when_hooks_see_decorated_views_preflights_first() -> None:
    result = run(decorator_only_app(hook=True, extension=False), "lint")
    assert result.exit_code == 1
    assert "@cross_origin views (widget) on an app without CORS(app)" in result.output
    assert "(decorator_only_app.<locals>.login_required)" in result.output
    assert "add CORS(app, resources={})" in result.output
    for hook, extension in ((False, False), (True, True)):
        quiet = run(decorator_only_app(hook, extension), "lint")
        assert quiet.exit_code == 0, quiet.output


def test_lint_walks_blueprints_and_decorated_views() -> None:
    app = Flask(__name__)
    bp = Blueprint("bp", __name__)
    CORS(bp, allow_private_network=True)

    @app.route("/v")
    @cross_origin(origins=["null", TRUSTED])
    def v() -> Any:
        return "v"

    app.register_blueprint(bp)
    CORS(app, resources={"/a/*": {}, "/b/*": {"max_age": 10000}})
    result = run(app, "lint")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(line.startswith("blueprint 'bp' resources['/*']: allow_private_network")
               for line in lines)
    assert any(line.startswith("@cross_origin on ") and "'null'" in line for line in lines)
    assert any(line.startswith("resources['/b/*']: max_age=10000") for line in lines)
    assert lines[-1] == "3 warnings (4 policies checked)"


def test_lint_policy_lists_several_warnings_for_one_policy() -> None:
    app = make_app(origins=["https://*.example.com", "null"], supports_credentials=True,
                   allow_private_network=True)
    [policy] = [p for _, p in app.extensions[EXTENSION_KEY].table.entries]
    assert len(lint_policy(policy)) == 3


# -- the example app ---------------------------------------------------------------------


@pytest.fixture
def example() -> Flask:
    example_app = pytest.importorskip("example_app")
    app: Flask = example_app.create_app()
    return app


def test_example_app_routes_show_every_policy(example: Flask) -> None:
    result = run(example, "routes", "--wide")
    assert result.exit_code == 0
    policies = {line.split()[0]: line for line in result.output.splitlines()[2:] if line}
    assert "resources['/api/private/*']" in policies["/api/private/profile"]
    assert "resources['/api/*']" in policies["/api/items"]
    assert "@cross_origin on" in policies["/api/widget"]
    assert "blueprint 'public' resources['/*']" in policies["/public/hello"]
    assert "blueprint 'tenants' resources['/*']" in policies["/tenants/dashboard"]
    assert "(none)" in policies["/"]


def test_example_app_check_blocks_an_unknown_origin(example: Flask) -> None:
    result = run(example, "check", "/api/private", "--origin", "https://evil.test")
    assert result.exit_code == 1
    assert first_line(result) == (
        "blocked: the origin 'https://evil.test' matches none of the allowed origins of "
        "resources['/api/private/*']; add it to origins if it should be allowed"
    )


def test_example_app_through_the_flask_command() -> None:
    """The "done when" of issue 5, as a user types it."""
    if not (ROOT / "example_app").is_dir():
        pytest.skip("example_app is not in this checkout")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("FLASK_APP", None)
    flask = [sys.executable, "-m", "flask", "--app", "example_app", "cors"]
    routes = subprocess.run([*flask, "routes"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert routes.returncode == 0, routes.stderr
    assert "/api/private/profile" in routes.stdout
    check = subprocess.run(
        [*flask, "check", "/api/private", "--origin", "https://evil.test"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert check.returncode == 1, check.stderr
    assert check.stdout.startswith("blocked: the origin 'https://evil.test' matches none")


def test_a_configuration_that_cannot_compile_is_an_error_not_a_traceback() -> None:
    app = Flask(__name__)
    CORS(app, resources={})

    @app.route("/x")
    @cross_origin(supports_credentials=True)  # with the default origins='*': refused
    def x() -> str:
        return "x"

    for command in (["lint"], ["routes"], ["check", "/x", "--origin", TRUSTED]):
        result = run(app, *command)
        assert result.exit_code == 3  # the app cannot be checked: neither blocked nor warnings
        assert result.output.startswith("Error: 1 problem in the CORS configuration:")
        assert "supports_credentials=True" in result.output
        assert "Traceback" not in result.output


def test_lint_reports_ignored_config_keys_and_ineffective_origins() -> None:
    """What start-up warned about is in lint's report too, never under "no warnings"."""
    app = Flask(__name__)
    app.config["CORS_HEADERS"] = "Content-Type"
    app.config["CORS_ORIGIN"] = [TRUSTED]
    with pytest.warns(ConfigurationWarning) as caught:
        CORS(app, origins=[TRUSTED, "app.example"])
    assert len(caught) == 3
    result = run(app, "lint")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("app.config['CORS_HEADERS'] is not a setting and is ignored")
    assert "remove it" in lines[0] and "Do not rename it to CORS_ALLOW_HEADERS" in lines[0]
    assert "did you mean 'CORS_ORIGINS'?" in lines[1]
    assert lines[2].startswith("resources['/*']: origins='app.example': has no scheme")
    assert lines[-1] == "3 warnings (1 policy checked)"
    assert "no warnings" not in result.output


def blueprint_app(config: dict[str, Any], **cors_options: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(config)
    for name in ("shop", "admin"):
        bp = Blueprint(name, __name__, url_prefix=f"/{name}")
        bp.add_url_rule("/x", "x", lambda: "x")
        CORS(bp, **cors_options.get(name, {}))
        app.register_blueprint(bp)
    CORS(app)
    return app


def test_lint_names_the_config_keys_a_blueprint_does_not_read() -> None:
    """CORS(blueprint) reads no CORS_* key (as flask-cors): a key set for the app is not
    the blueprint's, and lint says so once per blueprint, but for the keys it sets."""
    app = blueprint_app(
        {"CORS_MAX_AGE": 600, "CORS_EXPOSE_HEADERS": ["X-Request-Id"],
         "CORS_SUPPORTS_CREDENTIALS": None,  # unset, as in flask-cors: nothing to say
         "CORS_CSRF_PROTECTION": True},  # inherited by the blueprints: nothing to say
        shop={"max_age": 60},
        admin={"resources": {"/admin/a/*": {"expose_headers": "X-A"},
                             "/admin/b/*": {"expose_headers": "X-B", "max_age": 5}}})
    result = run(app, "lint")
    assert result.exit_code == 1, result.output
    assert result.output.splitlines() == [
        "blueprint 'admin': " + WARNINGS["blueprint-config-unread"].format(
            keys="CORS_MAX_AGE", verb="does", pronoun="it", fix="max_age=...",
            elsewhere="CORS(app, max_age=...)"),
        "blueprint 'shop': CORS(blueprint) reads no CORS_* config key, as in flask-cors "
        "(only CORS_CSRF_PROTECTION is inherited): CORS_EXPOSE_HEADERS in app.config does "
        "not apply to its routes; pass it to CORS(blueprint, expose_headers=...), or, if "
        "meant for the app's other routes only, move it from app.config to "
        "CORS(app, expose_headers=...)",
        "2 warnings (4 policies checked)",
    ]
    several = run(blueprint_app({"CORS_ORIGINS": [TRUSTED], "CORS_MAX_AGE": 600}), "lint")
    lines = several.output.splitlines()
    assert [line.split(":")[0] for line in lines[:2]] == ["blueprint 'admin'", "blueprint 'shop'"]
    assert "CORS_ORIGINS, CORS_MAX_AGE in app.config do not apply" in lines[0]
    assert "pass them to CORS(blueprint, origins=..., max_age=...)" in lines[0]
    # Quiet when each blueprint sets the keys itself (in its arguments, or in every entry
    # of its resources), and for blueprints without CORS(blueprint).
    config = {"CORS_MAX_AGE": 600, "CORS_CSRF_PROTECTION": True}
    mine = {"max_age": 600}
    result = run(blueprint_app(config, shop=mine, admin=mine), "lint")
    assert (result.exit_code, result.output) == (0, "no warnings (3 policies checked)\n")
    every_entry = {"resources": {"/admin/*": {"max_age": 1}, "/admin/y": {"max_age": 2}}}
    result = run(blueprint_app(config, shop=mine, admin=every_entry), "lint")
    assert result.exit_code == 0, result.output
    # No CORS(blueprint): the app's policy reads the keys; nothing to say.
    app = Flask(__name__)
    app.config.update(config)
    app.register_blueprint(Blueprint("plain", __name__))
    CORS(app)
    assert run(app, "lint").exit_code == 0


def test_the_demo_passes_its_cors_keys_to_its_blueprints() -> None:
    """The demo's blueprints get the app's max_age and expose_headers (they did when
    CORS(blueprint) read CORS_* keys), and lint has nothing to say about them."""
    from example_app.api import create_app

    app = create_app()
    try:
        for path in ("/public/hello", "/tenants/dashboard"):
            origin = "http://shop.localhost:5001"
            preflight = app.test_client().options(path, headers={
                "Origin": origin, "Access-Control-Request-Method": "PUT"})
            assert preflight.headers["Access-Control-Max-Age"] == "600", path
            actual = app.test_client().get(path, headers={"Origin": origin})
            assert actual.headers["Access-Control-Expose-Headers"] == "X-Request-Id", path
        result = run(app, "lint")
        assert (result.exit_code, result.output) == (0, "no warnings (9 policies checked)\n")
    finally:
        app.extensions["demo_partners"].origins.close()


def test_check_explains_credentials_withheld_from_the_apps_own_headers() -> None:
    app = Flask(__name__)
    CORS(app)

    @app.after_request
    def snippet(response: Any) -> Any:
        response.headers["Access-Control-Allow-Credentials"] = "true"
        return response

    @app.route("/me", methods=["GET", "PUT"])
    def me() -> Any:
        return jsonify(user="alice")

    for extra in ([], ["--method", "PUT"]):
        result = run(app, "check", "/me", "--origin", "https://evil.example", "--credentials",
                     *extra)
        assert result.exit_code == 1
        assert "note: withheld credentials on the response to" in result.output, extra
        assert "list it in origins and set supports_credentials=True" in result.output
