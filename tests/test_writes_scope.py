"""csrf_protection covers what the user turned on (issue 22).

* An app-level ``csrf_protection`` (``CORS(app, csrf_protection=...)`` or
  ``CORS_CSRF_PROTECTION``) covers every route of the app, and a blueprint policy
  or a resource entry that leaves it unset inherits it; only an explicit
  ``csrf_protection=False`` exempts.
* A refused write goes through Flask's own error handling as a 403.
* Rule 4 compares the ``Origin`` as written with ``Host``, as Go does.
* ``flask cors lint``, ``routes`` and ``check`` name the writes left unchecked.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from flask import Blueprint, Flask, abort, jsonify
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.exceptions import Forbidden, HTTPException

from flask_crossorigin import CORS, ConfigurationError, cross_origin
from flask_crossorigin.cli.check import check_request
from flask_crossorigin.cli.lint import WARNINGS
from flask_crossorigin.cli.routes import UNPROTECTED_NOTE
from flask_crossorigin.extension import EXTENSION_KEY, CrossOriginState, CrossOriginWriteRefused
from flask_crossorigin.signals import report_only_mismatch, request_refused
from flask_crossorigin.writes import same_host

from .test_cli import run
from .test_properties import property_settings

TRUSTED = "https://app.example.com"
PARTNER = "https://partner.example"
OTHER = "https://evil.example.net"
HOST = "api.example.com"
ROOT = Path(__file__).resolve().parent.parent


def scoped_app(app_level: dict[str, Any], config: dict[str, Any] | None = None, *,
               blueprints_first: bool = True) -> Flask:
    """Routes under every kind of policy, and one under none; ``app.ran`` lists what ran."""
    app = Flask(__name__)
    app.config.update(config or {})
    ran: list[str] = []
    app.ran = ran  # type: ignore[attr-defined]

    @app.before_request
    def authenticate() -> None:
        ran.append("hook")

    def view() -> str:
        ran.append("view")
        return "done"

    app.add_url_rule("/api/items", "items", view, methods=["GET", "POST"])
    app.add_url_rule("/hooks/pay", "pay", view, methods=["POST"])
    app.add_url_rule("/admin/partners", "partners", view, methods=["GET", "POST"])
    app.add_url_rule("/decorated", "decorated", cross_origin(origins=[PARTNER])(view),
                     methods=["POST"])
    app.add_url_rule("/exempt", "exempt", cross_origin(csrf_protection=False)(view),
                     methods=["POST"])
    public = Blueprint("public", __name__, url_prefix="/public")
    public.add_url_rule("/w", "w", view, methods=["POST"])
    CORS(public, origins=[PARTNER])  # csrf_protection unset: the app's
    webhooks = Blueprint("webhooks", __name__, url_prefix="/webhooks")
    webhooks.add_url_rule("/w", "w", view, methods=["POST"])
    CORS(webhooks, origins="*", csrf_protection=False)  # exempt on purpose

    def blueprints() -> None:
        app.register_blueprint(public)
        app.register_blueprint(webhooks)

    if blueprints_first:
        blueprints()
    CORS(app, resources={"/api/*": {"origins": [TRUSTED]},
                         "/hooks/*": {"origins": [TRUSTED], "csrf_protection": False}},
         **app_level)
    if not blueprints_first:
        blueprints()
    return app


def post(app: Flask, path: str, *, site: str | None = "cross-site", origin: str | None = OTHER,
         host: str = HOST, method: str = "POST") -> Any:
    headers = {"Host": host}
    if site is not None:
        headers["Sec-Fetch-Site"] = site
    if origin is not None:
        headers["Origin"] = origin
    return app.test_client().open(path, method=method, headers=headers,
                                  base_url=f"https://{HOST}")


PATHS = ["/api/items", "/hooks/pay", "/admin/partners", "/decorated", "/exempt",
         "/public/w", "/webhooks/w"]
#: Under an app-level csrf_protection=True, the paths whose cross-site writes from an
#: untrusted origin are refused: every one but the explicit exemptions.
REFUSED = {"/api/items", "/admin/partners", "/decorated", "/public/w"}

APP_LEVEL = [
    pytest.param({"csrf_protection": True}, {}, REFUSED, id="CORS(app, csrf_protection=True)"),
    pytest.param({}, {"CORS_CSRF_PROTECTION": True}, REFUSED, id="CORS_CSRF_PROTECTION"),
    # (a decorator reads CORS_* keys, never CORS(app)'s arguments: it keeps the key's True)
    pytest.param({"csrf_protection": False}, {"CORS_CSRF_PROTECTION": True}, {"/decorated"},
                 id="the argument over the key"),
    pytest.param({}, {}, set(), id="off"),
    pytest.param({"csrf_protection": "report-only"}, {}, set(), id="report-only"),
]


@pytest.mark.parametrize("blueprints_first", [True, False])
@pytest.mark.parametrize(("app_level", "config", "refused"), APP_LEVEL)
def test_the_app_level_option_covers_every_route(
    app_level: dict[str, Any], config: dict[str, Any], refused: set[str],
    blueprints_first: bool,
) -> None:
    app = scoped_app(app_level, config, blueprints_first=blueprints_first)
    codes: list[str] = []
    request_refused.connect(lambda _app, **kw: codes.append(kw["code"]), app, weak=False)
    got = set()
    for path in PATHS:
        del app.ran[:]  # type: ignore[attr-defined]
        status = post(app, path).status_code
        assert status in (200, 403), (path, status)
        if status == 403:
            got.add(path)
            assert app.ran == []  # type: ignore[attr-defined]
        else:
            assert app.ran == ["hook", "view"], path  # type: ignore[attr-defined]
    assert got == refused
    codes = [code for code in codes if code.startswith("write-")]  # (not read refusals)
    if "/admin/partners" in refused:
        assert codes[refused_index(refused, "/admin/partners")] == "write-uncovered"


def refused_index(refused: set[str], path: str) -> int:
    return [p for p in PATHS if p in refused].index(path)


@pytest.mark.parametrize(("site", "origin", "host", "passes"), [
    ("same-origin", f"https://{HOST}", HOST, True),  # the app's own pages
    ("none", None, HOST, True),  # typed URL, bookmark
    (None, None, HOST, True),  # curl, webhooks, server-to-server
    (None, f"https://{HOST}", HOST, True),  # an older browser on the app's own page
    ("cross-site", TRUSTED, HOST, False),  # trusted on /api/*, not here: no policy here
    ("cross-site", PARTNER, HOST, False),
    ("same-site", "https://blog.example.com", HOST, False),
    (None, OTHER, HOST, False),
    ("cross-site", "null", HOST, False),
])
def test_where_no_policy_covers_a_path_no_cross_origin_writer_is_trusted(
    site: str | None, origin: str | None, host: str, passes: bool,
) -> None:
    app = scoped_app({"csrf_protection": True})
    response = post(app, "/admin/partners", site=site, origin=origin, host=host)
    assert response.status_code == (200 if passes else 403)
    assert post(app, "/admin/partners", method="GET").status_code == 200  # reads go on


def test_the_uncovered_refusal_says_why_and_how_to_fix_it() -> None:
    app = scoped_app({"csrf_protection": True})
    app.debug = True
    body = post(app, "/admin/partners").get_data(as_text=True)
    assert "no CORS policy covers this path" in body and "CORS()" in body
    app = scoped_app({}, {"CORS_CSRF_PROTECTION": True})
    app.debug = True
    body = post(app, "/admin/partners").get_data(as_text=True)
    assert "app.config['CORS_CSRF_PROTECTION']" in body


def test_report_only_reports_the_uncovered_write_and_lets_it_through() -> None:
    app = scoped_app({"csrf_protection": "report-only"})
    reports: list[dict[str, Any]] = []
    report_only_mismatch.connect(lambda _app, **kw: reports.append(kw), app, weak=False)
    assert post(app, "/admin/partners").status_code == 200
    assert [(r["code"], r["mismatch"]) for r in reports] == [
        ("write-uncovered", "would-refuse")]


def test_an_app_level_option_with_an_empty_table_protects_the_whole_app() -> None:
    app = Flask(__name__)
    app.add_url_rule("/w", "w", lambda: "w", methods=["POST"])
    CORS(app, resources={}, csrf_protection=True)
    state: CrossOriginState = app.extensions[EXTENSION_KEY]
    assert state.protects_writes is True
    assert post(app, "/w").status_code == 403


def test_a_blueprint_alone_under_the_config_key() -> None:
    app = Flask(__name__)
    app.config["CORS_CSRF_PROTECTION"] = True
    bp = Blueprint("bp", __name__)
    bp.add_url_rule("/bp/w", "w", lambda: "w", methods=["POST"])
    CORS(bp, origins=[PARTNER])
    app.register_blueprint(bp)
    app.add_url_rule("/open", "open", lambda: "o", methods=["POST"])
    assert post(app, "/bp/w").status_code == 403
    assert post(app, "/bp/w", origin=PARTNER).status_code == 200
    assert post(app, "/open").status_code == 403  # the key is app-wide


def test_a_bad_app_level_value_is_a_configuration_error_even_with_no_resources() -> None:
    app = Flask(__name__)
    app.config["CORS_CSRF_PROTECTION"] = "yes"
    with pytest.raises(ConfigurationError, match="CORS_CSRF_PROTECTION"):
        CORS(app, resources={})


# -- a refusal goes through Flask's error handling ------------------------------------------

def json_403(error: HTTPException) -> Any:
    return jsonify(error="forbidden", why=error.description), 403


def grant_everything(response: Any) -> Any:
    response.headers["Access-Control-Allow-Origin"] = OTHER
    response.headers["Access-Control-Allow-Credentials"] = "true"
    return response


def _app_handler(app: Flask, bp: Blueprint) -> None:
    app.register_error_handler(403, json_403)


def _class_handler(app: Flask, bp: Blueprint) -> None:
    app.register_error_handler(CrossOriginWriteRefused, json_403)


def _forbidden_handler(app: Flask, bp: Blueprint) -> None:
    app.register_error_handler(Forbidden, json_403)


def _blueprint_handler(app: Flask, bp: Blueprint) -> None:
    bp.register_error_handler(403, json_403)


@pytest.mark.parametrize("register", [_app_handler, _class_handler, _forbidden_handler,
                                      _blueprint_handler])
@pytest.mark.parametrize("debug", [False, True])
def test_the_apps_error_handler_shapes_the_refusal(register: Any, debug: bool) -> None:
    app = Flask(__name__)
    app.debug = debug
    ran: list[str] = []
    app.before_request(lambda: ran.append("hook"))
    app.after_request(grant_everything)  # a hook that adds CORS headers to everything
    bp = Blueprint("api", __name__)
    bp.add_url_rule("/api/w", "w", lambda: ran.append("view") or "w", methods=["POST"])
    register(app, bp)
    app.register_blueprint(bp)
    CORS(app, origins=[TRUSTED], supports_credentials=True, csrf_protection=True)
    response = post(app, "/api/w")
    assert response.status_code == 403 and ran == []
    assert response.is_json and response.json["error"] == "forbidden"
    why = response.json["why"]
    if debug:
        assert "does not trust the origin" in why and OTHER in why
    else:
        assert OTHER not in why and "trust" not in why  # production: no reason
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert post(app, "/api/w", origin=TRUSTED).status_code == 200  # trusted: the view runs


def test_abort_403_of_the_app_is_not_mistaken_for_a_refused_write() -> None:
    app = Flask(__name__)
    app.register_error_handler(403, json_403)
    app.add_url_rule("/w", "w", lambda: abort(403, description="nope"), methods=["POST"])
    CORS(app, origins=[TRUSTED], csrf_protection=True)
    response = post(app, "/w", origin=TRUSTED)
    assert response.status_code == 403 and response.json["why"] == "nope"
    assert response.headers["Access-Control-Allow-Origin"] == TRUSTED


def test_the_fail_closed_refusal_goes_through_the_handler_too(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    from flask_crossorigin.writes import WriteProtection

    def broken(*_: Any) -> Any:
        raise RuntimeError("bug")

    seen: list[Any] = []
    app = Flask(__name__)
    app.add_url_rule("/w", "w", lambda: "w", methods=["POST"])
    app.register_error_handler(403, lambda e: (seen.append(e) or jsonify(error="no"), 403))
    CORS(app, origins=[TRUSTED], csrf_protection=True)
    monkeypatch.setattr(WriteProtection, "refusal", broken)
    with caplog.at_level(logging.ERROR, "flask_crossorigin"):
        response = post(app, "/w", origin=TRUSTED)
    assert response.status_code == 403 and response.json == {"error": "no"}
    assert [type(e) for e in seen] == [CrossOriginWriteRefused]


def test_without_a_handler_the_answer_is_unchanged() -> None:
    app = Flask(__name__)
    app.add_url_rule("/w", "w", lambda: "w", methods=["POST"])
    CORS(app, origins=[TRUSTED], csrf_protection=True)
    response = post(app, "/w")
    assert (response.status_code, response.data) == (403, b"")
    assert "Content-Type" not in response.headers


def test_a_decorator_alone_refuses_through_the_handler_too() -> None:
    app = Flask(__name__)
    app.register_error_handler(403, json_403)

    @app.post("/w")
    @cross_origin(origins=[TRUSTED], csrf_protection=True)
    def w() -> str:
        return "w"

    response = post(app, "/w")
    assert response.status_code == 403 and response.json["error"] == "forbidden"
    assert "Access-Control-Allow-Origin" not in response.headers


# -- rule 4: the Origin as written against Host -------------------------------------------------

SAME_HOST = [
    # (Origin, Host, passes without Sec-Fetch-Site)
    ("https://example.com.", "example.com.", True),  # a fully qualified name, both sides
    ("https://Example.COM.", "example.com.", True),
    ("https://example.com.", "example.com", False),  # not the same form: malformed
    ("https://example.com", "example.com.", False),  # another host for Go: not trusted
    ("http://[::1]:8080", "[::1]:8080", True),  # IPv6 literals in brackets
    ("http://[::1]", "[::1]", True),
    ("http://[::1]", "[::1]:80", True),
    ("http://[::1]:80", "[::1]", True),
    ("http://[::FFFF:7F00:1]", "[::ffff:7f00:1]", True),  # hex digits in either case
    ("http://[::1]:8080", "[::1]", False),
    ("https://example.com:443", "example.com", True),  # an explicit default port
    ("https://example.com:443", "example.com:443", True),
    ("https://example.com", "example.com:443", True),
    ("http://example.com:80", "example.com", True),
    ("https://example.com:80", "example.com", False),  # not https's default
    ("https://example.com:0443", "example.com:443", False),  # Go compares as written
    ("HTTPS://EXAMPLE.COM", "example.com", True),  # upper case
    ("https://example.com", "EXAMPLE.COM", True),
    ("https://example.com:8443", "example.com", False),
    ("https://example.com/", "example.com", False),  # a path: not an origin
    ("https://user@example.com", "example.com", False),
    ("https://example.com?", "example.com", False),
    ("example.com", "example.com", False),
    ("https://example.com, https://example.com", "example.com", False),
]


@pytest.mark.parametrize(("origin", "host", "passes"), SAME_HOST)
def test_a_host_form_both_headers_carry_is_the_same_host(origin: str, host: str,
                                                         passes: bool) -> None:
    app = Flask(__name__)
    app.add_url_rule("/w", "w", lambda: "w", methods=["POST"])
    CORS(app, origins=[TRUSTED], csrf_protection=True)
    response = post(app, "/w", site=None, origin=origin, host=host)
    assert response.status_code == (200 if passes else 403), (origin, host)
    # With Fetch Metadata the browser decides same-origin itself: Host plays no part.
    assert post(app, "/w", site="cross-site", origin=origin, host=host).status_code == 403


# -- what the CLI says ---------------------------------------------------------------------------

def partly_protected() -> Flask:
    """The new user's API: protection on /api/*, an admin route outside every pattern."""
    app = Flask(__name__)
    app.add_url_rule("/api/items", "items", lambda: "i", methods=["GET", "POST"])
    app.add_url_rule("/admin/partners", "partners", lambda: "p", methods=["GET", "POST"])
    app.add_url_rule("/admin/report", "report", lambda: "r", methods=["GET"])
    app.add_url_rule("/hooks/pay", "pay", lambda: "h", methods=["POST", "PUT"])
    CORS(app, resources={"/api/*": {"origins": [TRUSTED], "csrf_protection": True},
                         "/hooks/*": {"origins": [TRUSTED], "csrf_protection": False}})
    return app


def test_lint_names_every_write_route_left_unprotected() -> None:
    result = run(partly_protected(), "lint")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "route /admin/partners: " + WARNINGS["writes-unprotected"].format(methods="POST"),
        "1 warning (2 policies checked)",
    ]  # /hooks/pay is exempt on purpose; /admin/report only reads


def test_lint_is_quiet_when_the_app_level_option_covers_everything() -> None:
    app = partly_protected()
    app.extensions.clear()
    app.before_request_funcs.clear()
    app.after_request_funcs.clear()
    CORS(app, resources={"/api/*": {"origins": [TRUSTED]},
                         "/hooks/*": {"origins": [TRUSTED], "csrf_protection": False}},
         csrf_protection=True)
    result = run(app, "lint")
    assert (result.exit_code, result.output) == (0, "no warnings (2 policies checked)\n")


def test_lint_names_the_blueprint_routes_a_blueprint_policy_leaves_open() -> None:
    app = Flask(__name__)
    bp = Blueprint("bp", __name__)
    bp.add_url_rule("/bp/w", "w", lambda: "w", methods=["POST"])
    CORS(bp, origins=[TRUSTED], csrf_protection=True)
    app.register_blueprint(bp)
    app.add_url_rule("/open", "open", lambda: "o", methods=["DELETE", "POST"])
    lines = run(app, "lint").output.splitlines()
    assert lines[0] == "route /open: " + WARNINGS["writes-unprotected"].format(
        methods="DELETE, POST")


def test_routes_mark_the_unprotected_write_routes() -> None:
    app = partly_protected()
    rows = {row["rule"]: row for row in json.loads(run(app, "routes", "--json").output)}
    assert rows["/admin/partners"]["writes_unprotected"] == ["POST"]
    assert rows["/hooks/pay"]["writes_unprotected"] == []
    assert rows["/api/items"]["writes_unprotected"] == []
    for args in (("routes",), ("routes", "--wide")):
        output = run(app, *args).output
        assert "/admin/partners !" in output and UNPROTECTED_NOTE in output
        assert "/hooks/pay !" not in output


def test_routes_show_the_app_level_option_on_routes_without_a_policy() -> None:
    app = scoped_app({"csrf_protection": True})
    rows = {row["rule"]: row for row in json.loads(run(app, "routes", "--json").output)}
    assert rows["/admin/partners"]["policy"] is None
    assert rows["/admin/partners"]["csrf_protection"] is True
    assert rows["/public/w"]["csrf_protection"] is True  # inherited
    assert rows["/webhooks/w"]["csrf_protection"] is False
    cells = {line.split()[0]: line.split()[-1]
             for line in run(app, "routes", "--wide").output.splitlines()[2:] if line}
    assert cells["/admin/partners"] == "on" and cells["/webhooks/w"] == "off"


def test_check_says_the_view_runs_for_an_unprotected_cross_site_write() -> None:
    app = partly_protected()
    result = check_request(app, "/admin/partners", OTHER, "POST")
    assert not result.allowed and result.writes == []
    assert any(note.startswith("csrf_protection does not check this write: a browser sends "
                               f"this POST from {OTHER} with the user's cookies and the view "
                               "runs") for note in result.notes)
    protected = check_request(app, "/api/items", OTHER, "POST")
    assert not any("does not check this write" in note for note in protected.notes)
    # A write the browser never sends (its preflight is refused) gets no such note.
    put = check_request(app, "/hooks/pay", OTHER, "PUT")
    assert not any("does not check this write" in note for note in put.notes)


def test_check_reports_the_refusal_of_an_uncovered_route() -> None:
    app = scoped_app({"csrf_protection": True})
    result = check_request(app, "/admin/partners", OTHER, "POST")
    assert not result.allowed
    assert [w.verdict for w in result.writes] == ["refused", "refused"]
    assert "no CORS policy covers this path" in (result.writes[0].reason or "")
    sent = check_request(app, "/admin/partners", OTHER, "POST", ["Sec-Fetch-Site: cross-site"],
                         send=True)
    assert sent.exchanges[-1].status.startswith("403")


def test_the_flask_command_names_the_unprotected_route(tmp_path: Path) -> None:
    (tmp_path / "partners_api.py").write_text(textwrap.dedent(f"""
        from flask import Flask
        from flask_crossorigin import CORS

        app = Flask(__name__)
        app.add_url_rule("/api/items", "items", lambda: "i", methods=["POST"])
        app.add_url_rule("/admin/partners", "partners", lambda: "p", methods=["POST"])
        CORS(app, resources={{"/api/*": {{"origins": ["{TRUSTED}"],
                                          "csrf_protection": True}}}})
    """))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])}
    env.pop("FLASK_APP", None)
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "partners_api", "cors", "lint"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stdout.startswith("route /admin/partners: accepts POST without a write check")


@st.composite
def host_forms(draw: st.DrawFn) -> str:
    """A Host as a client may write it: a name (any case, a trailing dot or not) or an
    IPv6 literal, with or without a port."""
    label = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_",
                    min_size=1, max_size=12)
    name = ".".join(draw(st.lists(label, min_size=1, max_size=4)))
    ipv6 = draw(st.sampled_from(["[::1]", "[2001:DB8::1]", "[fe80::a:b]", "[::ffff:127.0.0.1]"]))
    host = draw(st.sampled_from([name, name + ".", ipv6]))
    port = draw(st.one_of(st.none(), st.integers(1, 65535)))
    return host if port is None else f"{host}:{port}"


@property_settings(300)
@given(host=host_forms(), scheme=st.sampled_from(["http", "https", "HTTPS", "ws", "wss"]))
def test_every_host_form_is_its_own_host(host: str, scheme: str) -> None:
    origin = f"{scheme}://{host}"
    assert same_host(origin, host) and same_host(origin, host.upper())
    assert same_host(origin.upper(), host.lower())
    for other in (f"x{host}", f"{host}0" if ":" in host.rpartition("]")[2] else f"{host}:1"):
        assert not same_host(origin, other)
    for not_an_origin in (origin + "/", f"{scheme}://u@{host}", f" {origin}", origin + "#"):
        assert not same_host(not_an_origin, host)
