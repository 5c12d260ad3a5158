"""``flask cors routes`` fits the terminal: 80 columns unless it is wider; ``--wide`` and
``--json`` print everything on one line per rule / object per rule."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import Result
from flask import Blueprint, Flask
from flask.cli import FlaskGroup
from hypothesis import given, settings
from hypothesis import strategies as st

from flask_crossorigin import CORS, cross_origin
from flask_crossorigin.cli import route_rows
from flask_crossorigin.cli.routes import MIN_WIDTH, narrow_routes

from .conftest import TRUSTED


def run(app: Flask, *args: str, columns: int = 80) -> Result:
    return app.test_cli_runner().invoke(
        FlaskGroup(), args=["cors", "routes", *args], env={"COLUMNS": str(columns)}
    )


def long_app() -> Flask:
    """Long rules, long policy names, many origins, methods and headers, report-only."""
    app = Flask(__name__)
    origins = [f"https://tenant-{n}.customers.example.com" for n in range(6)]

    @app.route("/api/v2/organisations/<uuid:organisation>/projects/<int:project>/members",
               methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def members(organisation: Any, project: int) -> str:
        return "members"

    @app.route("/widget")
    @cross_origin(origins=[TRUSTED], expose_headers=["X-Request-Id", "X-Total-Count"])
    def widget() -> str:
        return "widget"

    @app.route("/")
    def index() -> str:
        return "index"

    reports = Blueprint("quarterly_financial_reports", __name__, url_prefix="/reports")

    @reports.route("/summary")
    def summary() -> str:
        return "summary"

    CORS(reports, origins=origins[:2])
    app.register_blueprint(reports)
    CORS(app, origins=origins, allow_headers=["Content-Type", "Authorization", "X-Api-Key",
                                              "X-Requested-With", "X-Csrf-Token"],
         expose_headers=["X-Request-Id", "X-Total-Count", "X-Rate-Limit-Remaining"],
         max_age=600, report_only={"origins": origins[:3]})
    return app


@pytest.mark.parametrize("columns", [80, 60, 100, 132])
def test_the_table_fits_the_terminal(columns: int) -> None:
    app = long_app()
    result = run(app, columns=columns)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= columns, result.output
    wide = run(app, "--wide").output.splitlines()
    assert max(len(line) for line in wide) > 200  # what the default view replaces
    # Everything the wide table says is still said: each value's words appear.
    text = " ".join(result.output.split())
    for row in route_rows(app):
        assert row["policy"] is None or row["policy"] in text
        for value in row["origins"] + row["allow_headers"] + row["expose_headers"]:
            assert value in text.replace(" ", "") or value in text


def test_each_policy_is_described_once_under_the_table() -> None:
    result = run(long_app())
    lines = result.output.splitlines()
    assert lines[0].split() == ["Rule", "Methods", "Policy"]
    assert lines.count("resources['/*']") == 1
    assert lines.count("@cross_origin on widget") == 1
    assert lines.count("blueprint 'quarterly_financial_reports' resources['/*']") == 1
    start = lines.index("resources['/*']")
    labels = [line.split()[0] for line in lines[start + 1:] if line.startswith("  ")
              and not line.startswith("   ")][:7]
    assert labels == ["Origins", "Allow-Methods", "Allow-Headers", "Credentials", "Max-Age",
                      "Exposes", "Report-Only"]
    widget = lines.index("@cross_origin on widget")
    assert "Report-Only" not in " ".join(lines[widget:widget + 8])  # it has none


def test_a_host_matching_app_keeps_its_host_column() -> None:
    app = Flask(__name__, host_matching=True, static_host="static.example")

    @app.route("/x", host="api.example")
    def x() -> str:
        return "x"

    CORS(app, origins=[TRUSTED])
    lines = run(app).output.splitlines()
    assert lines[0].split() == ["Host", "Rule", "Methods", "Policy"]
    assert any(line.split()[:2] == ["api.example", "/x"] for line in lines)


def test_json_is_unchanged_by_the_width() -> None:
    app = long_app()
    narrow = json.loads(run(app, "--json", columns=40).output)
    assert narrow == json.loads(run(app, "--json", columns=300).output) == route_rows(app)


rule_text = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_/", min_size=1, max_size=120)


@settings(max_examples=60, deadline=None)
@given(
    rules=st.lists(rule_text, min_size=1, max_size=5),
    origins=st.lists(st.from_regex(r"https://[a-z]{1,40}\.example", fullmatch=True),
                     min_size=1, max_size=8),
    width=st.integers(min_value=1, max_value=220),
)
def test_no_line_is_wider_than_the_terminal(rules: list[str], origins: list[str],
                                             width: int) -> None:
    app = Flask(__name__)
    for number, rule in enumerate(rules):
        app.add_url_rule("/" + rule.lstrip("/"), f"view{number}", lambda: "x")
    CORS(app, origins=origins)
    lines = narrow_routes(route_rows(app), host_matching=False, width=width)
    for line in lines:
        # Only an origin wider than its column goes past it: alone on its line, whole.
        assert len(line) <= max(width, MIN_WIDTH) or line.split()[-1].rstrip(",") in origins
    for origin in origins:  # never split
        assert any(origin in line for line in lines)


def test_an_origin_is_never_split_and_an_ignored_one_is_marked() -> None:
    app = Flask(__name__)

    @app.route("/api/data")
    def data() -> str:
        return "data"

    origins = ["http://localhost:3000", "https://app.example.com/",
               "https://a-rather-long-subdomain-name.customers.example.com",
               "https://b.example"]
    with pytest.warns(UserWarning, match="trailing slash"):
        CORS(app, origins=origins)
    for columns in (40, 50, 60, 80):
        output = run(app, columns=columns).output
        lines = output.splitlines()
        for origin in origins[2:] + ["http://localhost:3000"]:
            assert any(origin in line for line in lines), (columns, output)
        assert not any(line.rstrip().endswith(("http://", "https://")) for line in lines)
        marked = [line for line in lines if "https://app.example.com/" in line]
        assert len(marked) == 1 and "https://app.example.com/ (ignored)" in marked[0], output
    row = next(row for row in route_rows(app) if row["rule"] == "/api/data")
    assert row["origins_ignored"] == ["https://app.example.com/"]
    assert "https://app.example.com/" not in row["origins"]
    assert "https://app.example.com/ (ignored)" in run(app, "--wide").output
