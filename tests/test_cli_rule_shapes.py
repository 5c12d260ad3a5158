"""``flask cors routes``, ``lint`` and ``check`` on every shape of URL rule Werkzeug allows
(issue 22).

An endpoint-less redirect rule (``Rule("/old", redirect_to="/new")``), which requests
handle fine, made ``routes`` and ``lint`` exit 3 with an AttributeError. The table
below puts every unusual shape in two apps (subdomain matching, host matching) and
runs the real ``flask`` command on them in a subprocess, as a user does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
A = "https://a.example"

SHAPES_APP = """
from flask import Flask
from werkzeug.routing import Rule
from flask_crossorigin import CORS

app = Flask(__name__, subdomain_matching=True)
app.config["SERVER_NAME"] = "example.com"


def new():
    return "new"


def page(n):
    return str(n)


app.add_url_rule("/new", "new", new, methods=["GET", "POST"])
app.add_url_rule("/new/<int:id>", "new_id", lambda id: str(id))
app.url_map.add(Rule("/old", redirect_to="/new"))  # no endpoint at all
app.url_map.add(Rule("/old/<int:id>", redirect_to=lambda adapter, id: f"/new/{id}"))
app.url_map.add(Rule("/legacy", endpoint="new", redirect_to="new"))
app.url_map.add(Rule("/ghost", endpoint="ghost", methods=["GET", "PUT"]))  # no view
app.url_map.add(Rule("/anything", endpoint="new"))  # no methods: every method
app.url_map.add(Rule("/ws", endpoint="ws", websocket=True))
app.url_map.add(Rule("/external", endpoint="external", build_only=True))
app.add_url_rule("/page/", "page", page, defaults={"n": 1})
app.add_url_rule("/page/<int:n>", "page", page)
app.add_url_rule("/loose", "loose", lambda: "x", strict_slashes=False)
app.add_url_rule("/", "api_home", lambda: "api", subdomain="api")
app.add_url_rule("/u", "user_home", lambda user: user, subdomain="<user>")
app.url_map.add(Rule("/sub-old", redirect_to="/new", subdomain="api"))

CORS(app, resources={
    "/new*": {"origins": ["https://a.example"], "supports_credentials": True},
    "/*": {"origins": ["https://b.example"], "supports_credentials": True},
})
"""

HOSTS_APP = """
from flask import Flask
from werkzeug.routing import Rule
from flask_crossorigin import CORS

app = Flask(__name__, host_matching=True, static_host="example.com")
app.add_url_rule("/", "home", lambda: "home", host="example.com")
app.add_url_rule("/t", "tenant", lambda tenant: tenant, host="<tenant>.example.com",
                 methods=["GET", "POST"])
app.url_map.add(Rule("/old", redirect_to="/t", host="api.example.com"))
app.url_map.add(Rule("/moved", redirect_to="/", host="example.com"))
CORS(app, origins=["https://a.example"], supports_credentials=True)
"""

APPS = {"shapes_app": SHAPES_APP, "hosts_app": HOSTS_APP}


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("rule_shapes")
    for name, source in APPS.items():
        (where / f"{name}.py").write_text(textwrap.dedent(source))
    return where


def flask_cors(where: Path, app: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(where)])}
    env.pop("FLASK_APP", None)
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", app, "cors", *args],
        cwd=where, env=env, capture_output=True, text=True, timeout=120,
    )


COMMANDS: list[tuple[str, list[str], int]] = [
    ("shapes_app", ["routes"], 0),
    ("shapes_app", ["routes", "--wide"], 0),
    ("shapes_app", ["lint"], 1),  # credentials without csrf_protection: warned
    ("shapes_app", ["check", "/old", "--origin", A], 0),
    ("hosts_app", ["routes"], 0),
    ("hosts_app", ["lint"], 1),
]


@pytest.mark.parametrize(("module", "args", "code"), COMMANDS,
                         ids=[f"{module} {' '.join(args)}" for module, args, _ in COMMANDS])
def test_every_rule_shape_is_listed_without_a_crash(
    apps: Path, module: str, args: list[str], code: int
) -> None:
    done = flask_cors(apps, module, *args)
    assert done.returncode == code, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and "could not be checked" not in done.stderr


def rows_of(apps: Path, app: str) -> dict[str, list[dict[str, Any]]]:
    done = flask_cors(apps, app, "routes", "--json")
    assert done.returncode == 0, done.stderr
    rows: dict[str, list[dict[str, Any]]] = {}
    for row in json.loads(done.stdout):
        rows.setdefault(row["rule"], []).append(row)
    return rows


def test_routes_shows_each_shape_with_the_policy_its_requests_get(apps: Path) -> None:
    rows = rows_of(apps, "shapes_app")
    # Every rule a request can match is listed; a build-only rule never is.
    assert set(rows) == {"/", "/anything", "/ghost", "/legacy", "/loose", "/new",
                         "/new/<int:id>", "/old", "/old/<int:id>", "/page/", "/page/<int:n>",
                         "/static/<path:filename>", "/sub-old", "/u", "/ws"}
    # A redirect's response carries its target's policy, as the hooks decide it.
    old = rows["/old"][0]
    assert (old["endpoint"], old["redirect_to"], old["policy"]) == (
        None, "/new", "resources['/new*']")
    assert rows["/legacy"][0]["redirect_to"] == "/new"
    assert rows["/sub-old"][0]["redirect_to"] == "/new"  # followed on its subdomain
    assert rows["/sub-old"][0]["policy"] == "resources['/new*']"
    assert rows["/legacy"][0]["policy"] == "resources['/new*']"
    # A redirect whose target depends on the URL: judged by its own path, and said so.
    assert rows["/old/<int:id>"][0]["redirect_to"] == "<lambda>"
    assert rows["/old/<int:id>"][0]["policy"] == "resources['/*']"
    # No methods: every method reaches the view.
    assert rows["/anything"][0]["methods"] == ["DELETE", "GET", "PATCH", "POST", "PUT"]
    assert rows["/ghost"][0]["methods"] == ["GET", "PUT"]
    for rule in ("/page/", "/page/<int:n>", "/loose", "/u", "/", "/ws"):
        assert rows[rule][0]["policy"] == "resources['/*']", rule


def test_the_table_says_where_a_redirect_goes(apps: Path) -> None:
    done = flask_cors(apps, "shapes_app", "routes")
    lines = {line.split()[0]: line for line in done.stdout.splitlines() if line.startswith("/")}
    assert lines["/old"].split()[1:3] == ["->", "/new"]
    assert lines["/old/<int:id>"].split()[1:3] == ["->", "<lambda>"]


def test_lint_counts_writes_of_every_shape_and_no_redirect(apps: Path) -> None:
    done = flask_cors(apps, "shapes_app", "lint")
    text = done.stdout
    warned = {line.split(":")[0]: line for line in text.splitlines() if "accept" in line}
    # A rule without methods accepts writes; a redirect runs no view (its target does).
    assert "/anything" in warned["resources['/new*']"] or "/anything" in warned[
        "resources['/*']"]
    assert "/ghost" in warned["resources['/*']"]
    assert "/new" in warned["resources['/new*']"]
    for line in warned.values():
        assert "/old" not in line.split("(", 1)[1]


def test_host_matching_redirects_follow_their_host(apps: Path) -> None:
    rows = rows_of(apps, "hosts_app")
    assert rows["/moved"][0]["redirect_to"] == "/"
    assert rows["/moved"][0]["host"] == "example.com"
    assert rows["/old"][0]["host"] == "api.example.com"
    assert rows["/t"][0]["host"] == "<tenant>.example.com"
