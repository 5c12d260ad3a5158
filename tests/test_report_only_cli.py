"""``flask cors check`` shows both verdicts, ``routes`` marks report-only policies, ``lint``
checks them before they are enforced."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask, jsonify
from flask.cli import FlaskGroup

from flask_crossorigin import CORS, ConfigurationWarning, cross_origin
from flask_crossorigin.cli import check_request, lint_policy, route_rows
from flask_crossorigin.extension import EXTENSION_KEY

OLD = "https://old.example"
NEW = "https://app.example"
POLICY = "resources['/api/*']"
TRIAL = "resources['/api/*'].report_only"


def tightening_app() -> Flask:
    app = Flask(__name__)

    @app.route("/api/items", methods=["GET", "PUT", "DELETE"])
    def items() -> Any:
        return jsonify(items=[])

    @app.route("/public")
    def public() -> Any:
        return "public"

    @app.route("/widget")
    @cross_origin(report_only={"origins": [NEW]})
    def widget() -> Any:
        return "widget"

    CORS(app, resources={
        "/api/*": {"origins": [NEW, OLD], "methods": ["GET", "PUT"],
                   "report_only": {"origins": [NEW], "methods": ["GET", "PUT", "DELETE"]}},
        "/public": {},
    })
    return app


def run(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(FlaskGroup(), args=["cors", *args])


def test_check_shows_a_grant_the_report_only_policy_would_refuse() -> None:
    result = run(tightening_app(), "check", "/api/items", "--origin", OLD)
    assert result.exit_code == 0  # the enforced verdict decides the exit status
    assert result.output.splitlines()[:4] == [
        f"allowed: {POLICY} allows the origin '{OLD}'",
        f"policy: {POLICY}",
        f"report-only: blocked: the origin '{OLD}' matches none of the allowed origins of "
        f"{TRIAL}; add it to origins if it should be allowed",
        f"report-only policy: {TRIAL}",
    ]


def test_check_shows_a_refusal_the_report_only_policy_would_lift() -> None:
    result = check_request(tightening_app(), "/api/items", NEW, "DELETE")
    assert not result.allowed
    assert (result.report_only, result.report_only_policy) == ("allowed", TRIAL)
    assert result.report_only_reason == (
        f"{TRIAL} would grant the preflight that {POLICY} refuses: the method 'DELETE' is "
        f"not in the methods of {POLICY} (GET, PUT); add it to methods (methods are compared "
        "case-sensitively)")
    assert any("the actual request a browser sends next was not checked" in note
               for note in result.notes)
    mismatch = result.exchanges[0].report_only
    assert mismatch is not None and mismatch["mismatch"] == "would-grant"


def test_check_on_a_preflight_the_report_only_policy_would_refuse() -> None:
    result = check_request(tightening_app(), "/api/items", OLD, "PUT")
    assert result.allowed and [e.kind for e in result.exchanges] == ["preflight", "request"]
    assert result.report_only == "blocked"
    assert result.exchanges[0].report_only is not None  # the preflight decides first
    assert result.exchanges[0].report_only["preflight"] is True


@pytest.mark.parametrize(("origin", "verdict"), [(NEW, "allowed"), ("https://evil.example",
                                                                     "blocked")])
def test_check_when_both_agree(origin: str, verdict: str) -> None:
    result = check_request(tightening_app(), "/api/items", origin)
    assert result.report_only == verdict
    assert result.report_only_reason == f"the same verdict: {TRIAL} decides this as {POLICY} does"
    assert all(exchange.report_only is None for exchange in result.exchanges)


def test_check_without_a_report_only_policy_says_nothing_about_one() -> None:
    result = run(tightening_app(), "check", "/public", "--origin", OLD)
    assert result.exit_code == 0
    assert "report-only" not in result.output
    assert check_request(tightening_app(), "/public", OLD).report_only is None


def test_check_on_a_decorated_view() -> None:
    result = check_request(tightening_app(), "/widget", OLD)
    assert result.allowed and result.report_only == "blocked"
    assert result.report_only_policy == "@cross_origin on widget.report_only"


def test_routes_marks_the_routes_with_a_report_only_policy() -> None:
    result = run(tightening_app(), "routes", "--wide")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split()[-1] == "Report-Only"
    by_rule = {line.split()[0]: line for line in lines[2:]}
    assert by_rule["/api/items"].endswith(
        "methods: GET, PUT, DELETE; origins: https://app.example")
    assert by_rule["/widget"].endswith("origins: https://app.example")
    assert by_rule["/public"].endswith(" -")


def test_routes_json_has_the_report_only_policy() -> None:
    rows = {row["rule"]: row for row in json.loads(
        run(tightening_app(), "routes", "--json").output)}
    trial = rows["/api/items"]["report_only"]
    assert trial["policy"] == TRIAL
    assert trial["sets"] == ["methods", "origins"]
    assert trial["origins"] == [NEW]
    assert trial["allow_methods"] == ["GET", "PUT", "DELETE"]
    assert rows["/public"]["report_only"] is None
    assert rows["/api/items"]["origins"] == [NEW, OLD]  # the enforced policy's, unchanged


def test_routes_without_any_report_only_policy_has_no_such_column() -> None:
    app = Flask(__name__)
    CORS(app)
    assert "Report-Only" not in run(app, "routes").output
    assert all(row["report_only"] is None for row in route_rows(app))


def test_lint_checks_the_report_only_policy_for_what_it_adds() -> None:
    app = Flask(__name__)
    with pytest.warns(ConfigurationWarning, match=r"CORS\(\)\.report_only: origins="):
        CORS(app, origins=[NEW, "null"], supports_credentials=True, report_only={
            "origins": ["https://*.app.example", "https://b.example/"], "max_age": 5})
    [policy] = [p for _, p in app.extensions[EXTENSION_KEY].table.entries]
    assert lint_policy(policy) == [
        "resources['/*']: origins lists 'null': sandboxed iframes and file: or data: pages "
        "send it, and any site can create one; remove 'null'",
        "resources['/*']: report_only sets max_age, which never decide whether a request is "
        "granted: a report-only policy reports the requests its origins, methods and "
        "allow_headers would decide otherwise, and what it sets beside them is only seen "
        "once enforced",
        "resources['/*'].report_only: origins='https://b.example/': has a trailing slash; an "
        "origin is scheme://host[:port], write 'https://b.example'; this entry can never "
        "match an Origin a browser sends, so it is ignored",
        "resources['/*'].report_only: supports_credentials with the wildcard origin "
        "'https://*.app.example': every subdomain, including one taken over or hosting "
        "other people's content, can read credentialed responses; list the subdomains you "
        "trust",
    ]
    result = run(app, "lint")
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == "4 warnings (1 policy checked)"


def test_lint_repeats_no_inherited_warning() -> None:
    app = Flask(__name__)
    CORS(app, origins=[NEW, "null"], report_only={"methods": ["GET"]})
    [policy] = [p for _, p in app.extensions[EXTENSION_KEY].table.entries]
    assert len(lint_policy(policy)) == 1  # 'null', once: the report-only policy inherits it
