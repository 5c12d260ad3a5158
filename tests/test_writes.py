"""csrf_protection: cross-origin writes refused from Fetch Metadata (writes.py, the first hook).

Table-driven tests of the algorithm, of where the option can be set, of how a
refusal is reported, of report-only, of exemptions and of the bounds; then a
property test of the compiled check and of real apps against a small reference
model of the algorithm.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any, Callable

import pytest
from flask import Blueprint, Flask
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_crossorigin import CORS, ConfigurationError, cross_origin
from flask_crossorigin.extension import EXTENSION_KEY, CrossOriginState
from flask_crossorigin.policy import compile_policy
from flask_crossorigin.reasons import REASONS
from flask_crossorigin.signals import report_only_mismatch, request_refused
from flask_crossorigin.writes import MAX_SITE_LENGTH, SAFE_METHODS

from .test_properties import property_settings, split_origin

TRUSTED = "https://app.example.com"
OTHER = "https://evil.example.net"
SIBLING = "https://blog.example.com"  # same site as the API, not listed
HOST = "api.example.com"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def make_app(*, decorate: dict[str, Any] | None = None, **options: Any) -> Flask:
    """One write endpoint per path; ``app.ran`` lists the views and hooks that ran."""
    app = Flask(__name__)
    ran: list[str] = []
    app.ran = ran  # type: ignore[attr-defined]

    @app.before_request
    def authenticate() -> None:
        ran.append("hook")

    def view() -> str:
        ran.append("view")
        return "done"

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    app.add_url_rule("/api/items", "items", view, methods=methods)
    app.add_url_rule("/hooks/pay", "pay", view, methods=methods)
    decorated = cross_origin(**decorate)(view) if decorate is not None else view
    app.add_url_rule("/api/decorated", "decorated", decorated, methods=methods)
    if options.pop("_init", True):
        CORS(app, **options)
    return app


def send(app: Flask, method: str = "POST", path: str = "/api/items", *,
         site: str | None = None, origin: str | None = None, host: str = HOST,
         **headers: str) -> Any:
    sent = dict(headers)
    if site is not None:
        sent["Sec-Fetch-Site"] = site
    if origin is not None:
        sent["Origin"] = origin
    return app.test_client().open(path, method=method, headers=sent,
                                  base_url=f"https://{host}")


PROTECTED = dict(origins=[TRUSTED], supports_credentials=True, csrf_protection=True)


# -- the algorithm, request by request ------------------------------------------------------

ALGORITHM = [
    # (method, Sec-Fetch-Site, Origin, Host, expected code or None when it passes)
    ("GET", "cross-site", OTHER, HOST, None),  # rule 1: safe methods
    ("HEAD", "cross-site", OTHER, HOST, None),
    ("OPTIONS", "cross-site", OTHER, HOST, None),
    ("POST", "same-origin", f"https://{HOST}", HOST, None),  # rule 2
    ("POST", "same-origin", OTHER, HOST, None),  # the browser's word, not Origin's
    ("POST", "none", None, HOST, None),
    ("POST", "cross-site", TRUSTED, HOST, None),  # rule 3: a trusted origin
    ("POST", "same-site", TRUSTED, HOST, None),
    ("POST", "cross-site", OTHER, HOST, "write-untrusted"),
    ("POST", "same-site", SIBLING, HOST, "write-untrusted"),  # SameSite does not cover it
    ("PUT", "cross-site", OTHER, HOST, "write-untrusted"),
    ("DELETE", "cross-site", OTHER, HOST, "write-untrusted"),
    ("PATCH", "same-site", SIBLING, HOST, "write-untrusted"),
    ("POST", "cross-site", "null", HOST, "write-origin-null"),
    ("POST", "cross-site", None, HOST, "write-origin-missing"),
    ("POST", "future-value", TRUSTED, HOST, None),  # unknown but well-formed: trust check
    ("POST", "future-value", OTHER, HOST, "write-untrusted"),
    ("POST", "Cross-Site", TRUSTED, HOST, "write-site-malformed"),
    ("POST", "", TRUSTED, HOST, "write-site-malformed"),
    ("POST", "cross-site, same-origin", TRUSTED, HOST, "write-site-malformed"),
    ("POST", "same-origin ", None, HOST, "write-site-malformed"),
    ("POST", "cross-site", "https://app.example.com/", HOST, "write-origin-malformed"),
    ("POST", "cross-site", f"{TRUSTED}, {OTHER}", HOST, "write-origin-malformed"),
    ("POST", None, None, HOST, None),  # rule 4: curl, webhooks, server-to-server
    ("POST", None, f"https://{HOST}", HOST, None),  # Origin is the Host
    ("POST", None, f"https://{HOST}", f"{HOST}:443", None),  # default port written
    ("POST", None, f"https://{HOST}", HOST.upper(), None),  # Host is case-insensitive
    ("POST", None, f"https://{HOST}:8443", f"{HOST}:8443", None),
    ("POST", None, f"https://{HOST}:8443", HOST, "write-untrusted"),  # another port
    ("POST", None, f"https://{HOST}", f"{HOST}:8443", "write-untrusted"),
    ("POST", None, TRUSTED, HOST, None),  # not the Host, but trusted
    ("POST", None, OTHER, HOST, "write-untrusted"),
    ("POST", None, "null", HOST, "write-origin-null"),
    ("POST", None, "api.example.com", HOST, "write-origin-malformed"),
]


@pytest.mark.parametrize(("method", "site", "origin", "host", "code"), ALGORITHM)
def test_the_algorithm(method: str, site: str | None, origin: str | None, host: str,
                       code: str | None) -> None:
    app = make_app(**PROTECTED)
    refused: list[str] = []
    request_refused.connect(lambda _app, **kw: refused.append(kw["code"]), app, weak=False)
    response = send(app, method, site=site, origin=origin, host=host)
    if code is None:
        assert response.status_code == 200, response.data
        assert "view" in app.ran or method == "OPTIONS"
        assert not [c for c in refused if c.startswith("write-")]  # (CORS may refuse a read)
    else:
        assert response.status_code == 403
        assert app.ran == []  # neither the app's hook nor the view ran
        assert refused == [code]  # once: the read is not judged as well
        assert not any(name.lower().startswith("access-control-")
                       for name, _ in response.headers.items())


def test_every_code_is_a_reason() -> None:
    codes = {code for *_, code in ALGORITHM if code is not None} | {
        "write-any-origin", "write-uncovered"}  # (test_writes_scope.py)
    assert codes <= set(REASONS)
    assert {code for code in REASONS if code.startswith("write-")} == codes


@pytest.mark.parametrize("origins", ["*", ["*"]])
def test_any_origin_trusts_no_writer(origins: Any) -> None:
    app = make_app(origins=origins, csrf_protection=True)
    response = send(app, site="cross-site", origin=OTHER)
    assert response.status_code == 403
    # ... while it still lets anyone read, and lets the app's own pages write.
    assert send(app, "GET", site="cross-site", origin=OTHER).status_code == 200
    assert send(app, site="same-origin", origin=f"https://{HOST}").status_code == 200
    assert send(app, origin=f"https://{HOST}").status_code == 200


def test_null_is_never_trusted_to_write_even_when_listed() -> None:
    app = make_app(origins=["null", TRUSTED], csrf_protection=True)
    assert send(app, "GET", site="cross-site", origin="null").headers[
        "Access-Control-Allow-Origin"] == "null"  # it may read
    assert send(app, site="cross-site", origin="null").status_code == 403


@pytest.mark.parametrize("origins, origin", [
    (["https://*.example.com"], "https://app.example.com"),
    ([re.compile(r"https://app\d\.example\.com")], "https://app7.example.com"),
    ([lambda origin: origin.endswith(".partner.example")], "https://x.partner.example"),
])
def test_the_read_matcher_decides_trust(origins: list[Any], origin: str) -> None:
    app = make_app(origins=origins, csrf_protection=True)
    assert send(app, site="cross-site", origin=origin).status_code == 200
    assert send(app, site="cross-site", origin=OTHER).status_code == 403


# -- how a refusal is reported ----------------------------------------------------------------

def test_a_refusal_is_reported_like_every_refusal(caplog: pytest.LogCaptureFixture) -> None:
    app = make_app(**PROTECTED)
    sent: list[dict[str, Any]] = []
    request_refused.connect(lambda _app, **kw: sent.append(kw), app, weak=False)
    with caplog.at_level(logging.DEBUG, "flask_crossorigin"):
        response = send(app, site="cross-site", origin=OTHER)
    assert response.status_code == 403 and response.data == b""  # production: says nothing
    assert "Content-Type" not in response.headers
    [details] = sent
    assert details["code"] == "write-untrusted" and details["origin"] == OTHER
    assert details["method"] == "POST" and details["preflight"] is False
    assert details["policy"] == "resources['/*']" and OTHER in details["reason"]
    [record] = [r for r in caplog.records if r.name == "flask_crossorigin"]
    assert record.levelno == logging.DEBUG
    assert record.getMessage().startswith("refused write POST /api/items (resources['/*']): ")


def test_debug_mode_warns_and_says_why_in_plain_text(caplog: pytest.LogCaptureFixture) -> None:
    app = make_app(**PROTECTED)
    app.debug = True
    with caplog.at_level(logging.WARNING, "flask_crossorigin"):
        response = send(app, site="cross-site", origin=OTHER + "\x07")
    assert response.status_code == 403
    assert response.mimetype == "text/plain"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = response.get_data(as_text=True)
    assert body.startswith("Cross-origin write refused: ") and "\x07" not in body
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert "\n" not in caplog.records[0].getMessage()


# -- report-only ----------------------------------------------------------------------------

def test_report_only_lets_everything_through_and_reports_the_would_be_refusals(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app(origins=[TRUSTED], csrf_protection="report-only")
    reports: list[dict[str, Any]] = []
    refusals: list[dict[str, Any]] = []
    report_only_mismatch.connect(lambda _app, **kw: reports.append(kw), app, weak=False)
    request_refused.connect(lambda _app, **kw: refusals.append(kw), app, weak=False)
    enforced = make_app(origins=[TRUSTED], csrf_protection=True)
    with caplog.at_level(logging.INFO, "flask_crossorigin"):
        for site, origin in [("cross-site", OTHER), ("cross-site", TRUSTED),
                             ("same-origin", None), ("cross-site", OTHER), (None, OTHER)]:
            response = send(app, site=site, origin=origin)
            plain = send(make_app(origins=[TRUSTED]), site=site, origin=origin)
            assert (response.status_code, response.data) == (plain.status_code, plain.data)
            assert response.headers == plain.headers
    assert app.ran.count("view") == 5  # type: ignore[attr-defined]
    would = [send(enforced, site=s, origin=o).status_code == 403
             for s, o in [("cross-site", OTHER), (None, OTHER)]]
    assert would == [True, True]
    assert [(r["code"], r["mismatch"], r["origin"]) for r in reports] == [
        ("write-untrusted", "would-refuse", OTHER)] * 3
    assert reports[0]["report_only_policy"] == "resources['/*'].csrf_protection"
    assert refusals == [] or all(r["code"] == "origin-not-allowed" for r in refusals)
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    # Deduplicated: the same (policy, origin, reason) once per interval.
    assert len(lines) == 1
    assert lines[0].startswith("report-only: resources['/*'].csrf_protection would refuse "
                               "write POST /api/items from 'https://evil.example.net', which "
                               "resources['/*'] lets through: ")


def test_a_report_only_receiver_that_raises_never_breaks_the_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app(origins=[TRUSTED], csrf_protection="report-only")

    def boom(_app: Flask, **_: Any) -> None:
        raise RuntimeError("receiver")

    report_only_mismatch.connect(boom, app, weak=False)
    with caplog.at_level(logging.ERROR, "flask_crossorigin"):
        assert send(app, site="cross-site", origin=OTHER).status_code == 200
    assert any("failed" in r.getMessage() for r in caplog.records)


# -- where the option can be set --------------------------------------------------------------

def _protected(app: Flask, path: str = "/api/items") -> bool:
    return send(app, path=path, site="cross-site", origin=OTHER).status_code == 403


def test_everywhere_a_policy_can_be_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not _protected(make_app(origins=[TRUSTED]))  # the default: off, drop-in
    assert _protected(make_app(**PROTECTED))
    app = make_app(_init=False)
    CORS().init_app(app, origins=[TRUSTED], csrf_protection=True)
    assert _protected(app)
    app = make_app(_init=False)
    app.config["CORS_CSRF_PROTECTION"] = True
    CORS(app, origins=[TRUSTED])
    assert _protected(app)
    monkeypatch.setenv("FLASK_CORS_CSRF_PROTECTION", "true")
    app = make_app(_init=False)
    app.config.from_prefixed_env()
    CORS(app)
    assert _protected(app)
    monkeypatch.setenv("FLASK_CORS_CSRF_PROTECTION", "report-only")
    app = make_app(_init=False)
    app.config.from_prefixed_env()
    CORS(app)
    assert app.config["CORS_CSRF_PROTECTION"] == "report-only" and not _protected(app)
    state: CrossOriginState = app.extensions[EXTENSION_KEY]
    assert state.table is not None
    assert state.table.entries[0][1].writes is not None


def test_a_resource_entry_protects_or_exempts_a_path() -> None:
    app = make_app(origins=[TRUSTED], csrf_protection=True,
                   resources={"/*": {}, "/hooks/*": {"csrf_protection": False}})
    assert _protected(app)
    assert not _protected(app, "/hooks/pay")
    app = make_app(origins=[TRUSTED], resources={"/*": {}, "/api/*": {"csrf_protection": True}})
    assert _protected(app) and not _protected(app, "/hooks/pay")


def test_a_blueprint_policy() -> None:
    app = Flask(__name__)
    bp = Blueprint("bp", __name__)
    bp.add_url_rule("/w", "w", lambda: "w", methods=["POST"])
    CORS(bp, origins=[TRUSTED], csrf_protection=True)
    app.register_blueprint(bp, url_prefix="/bp")
    app.add_url_rule("/open", "open", lambda: "o", methods=["POST"])
    assert _protected(app, "/bp/w")
    assert not _protected(app, "/open")


def test_a_decorated_view_takes_its_paths_value_unless_it_sets_its_own() -> None:
    # Unset: CORS(app, csrf_protection=True) covers it, trusting the decorator's origins.
    app = make_app(decorate={"origins": ["https://partner.example"]}, **PROTECTED)
    assert _protected(app, "/api/decorated")
    assert send(app, path="/api/decorated", site="cross-site",
                origin="https://partner.example").status_code == 200
    assert send(app, path="/api/decorated", site="cross-site", origin=TRUSTED).status_code == 403
    # Exempt: the OAuth form_post, the payment provider's return URL.
    app = make_app(decorate={"csrf_protection": False}, **PROTECTED)
    assert not _protected(app, "/api/decorated") and _protected(app)
    # On where the app leaves it off.
    app = make_app(decorate={"origins": [TRUSTED], "csrf_protection": True}, origins=[TRUSTED])
    assert _protected(app, "/api/decorated") and not _protected(app)


def test_the_decorator_alone_checks_writes_before_the_view() -> None:
    app = make_app(decorate={"origins": [TRUSTED], "csrf_protection": True}, _init=False)
    assert EXTENSION_KEY not in app.extensions
    response = send(app, path="/api/decorated", site="cross-site", origin=OTHER)
    assert response.status_code == 403 and "view" not in app.ran  # type: ignore[attr-defined]
    assert "Access-Control-Allow-Origin" not in response.headers
    ok = send(app, path="/api/decorated", site="cross-site", origin=TRUSTED)
    assert ok.status_code == 200 and ok.headers["Access-Control-Allow-Origin"] == TRUSTED


BAD_VALUES = ["true", "yes", 1, 0, None, "report_only", "Report-Only", "enforce", ["x"]]


@pytest.mark.parametrize("value", BAD_VALUES)
def test_a_bad_value_is_a_configuration_error_naming_it(value: Any) -> None:
    places: list[Callable[[], Any]] = [
        lambda: make_app(csrf_protection=value),
        lambda: make_app(resources={"/*": {"csrf_protection": value}}),
        lambda: cross_origin(csrf_protection=value)(lambda: "x"),
    ]
    for place in places:
        with pytest.raises(ConfigurationError) as raised:
            place()
        [problem] = raised.value.problems
        assert problem.option == "csrf_protection" and problem.value == value
        assert "must be True, False or 'report-only'" in problem.message
    if value is None:
        return  # a config key set to None is unset (a placeholder), as in flask-cors
    app = Flask(__name__)
    app.config["CORS_CSRF_PROTECTION"] = value
    with pytest.raises(ConfigurationError, match=r"app.config\['CORS_CSRF_PROTECTION'\]"):
        CORS(app)


def test_bad_values_say_the_fix() -> None:
    with pytest.raises(ConfigurationError, match="write 'report-only'"):
        make_app(csrf_protection="report_only")
    with pytest.raises(ConfigurationError, match="write True"):
        make_app(csrf_protection="true")


def test_it_is_not_a_report_only_option() -> None:
    with pytest.raises(ConfigurationError, match="set it beside report_only"):
        make_app(origins=[TRUSTED], report_only={"csrf_protection": True})


# -- what an app without it pays, and the bounds ----------------------------------------------

def test_an_app_without_protection_never_looks_writes_up(monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(origins=[TRUSTED])
    state: CrossOriginState = app.extensions[EXTENSION_KEY]
    assert send(app, site="cross-site", origin=OTHER).status_code == 200
    assert state.protects_writes is False

    def looked_up(*_: Any) -> Any:
        raise AssertionError("a write check was looked up")

    monkeypatch.setattr(state, "writes_of_rule", looked_up)
    monkeypatch.setattr(state, "protect_writes", looked_up)
    for method in ("GET", "POST", "DELETE"):
        assert send(app, method, site="cross-site", origin=OTHER).status_code == 200


def test_safe_methods_skip_the_lookup_under_protection(monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(**PROTECTED)
    state: CrossOriginState = app.extensions[EXTENSION_KEY]

    def looked_up(*_: Any) -> Any:
        raise AssertionError("a write check was looked up")

    monkeypatch.setattr(state, "protect_writes", looked_up)
    for method in ("GET", "HEAD"):
        assert send(app, method, site="cross-site", origin=OTHER).status_code == 200


@pytest.mark.parametrize("site, origin", [
    ("cross-site" * 100_000, TRUSTED),
    ("x" * (MAX_SITE_LENGTH + 1), TRUSTED),
    ("cross-site", "https://" + "a" * 1_000_000 + ".example.com"),
    ("cross-site", "https://" + "a." * 500_000 + "example.com"),
    (None, "https://" + "a" * 1_000_000),
    ("same-site", "https://app.example.com\x00"),
    ("cross-site", "https://app.example.com:99999"),
    ("cross-site", "https://app.example.com:443"),
    ("cross-site", "HTTPS://APP.EXAMPLE.COM"),
])
def test_oversized_and_malformed_headers_are_refused_in_bounded_time(
    site: str | None, origin: str
) -> None:
    seen: list[str] = []

    def trusts(value: str) -> bool:
        seen.append(value)
        assert split_origin(value) is not None, value  # a callable sees only origins
        return True

    app = make_app(origins=[TRUSTED, trusts], csrf_protection=True)
    start = time.perf_counter()
    response = send(app, site=site, origin=origin)
    assert time.perf_counter() - start < 1.0
    assert response.status_code == 403 and seen == []


def test_a_raising_callable_refuses_instead_of_a_500(caplog: pytest.LogCaptureFixture) -> None:
    def broken(origin: str) -> bool:
        raise KeyError(origin)

    app = make_app(origins=[broken], csrf_protection=True)
    with caplog.at_level(logging.CRITICAL, "flask_crossorigin"):
        response = send(app, site="cross-site", origin=OTHER)
    assert response.status_code == 403


def test_proxy_fix_host_is_the_host_compared() -> None:
    app = make_app(**PROTECTED)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_host=1, x_proto=1)  # type: ignore[method-assign]
    public = "https://www.example.org"
    headers = {"X-Forwarded-Host": "www.example.org", "X-Forwarded-Proto": "https"}
    assert send(app, origin=public, host="10.0.0.5:8000", **headers).status_code == 200
    assert send(app, origin=public, host="10.0.0.5:8000").status_code == 403


def test_a_redirected_write_is_judged_at_its_target() -> None:
    app = Flask(__name__)
    app.add_url_rule("/open/", "open", lambda: "o", methods=["POST"])
    app.add_url_rule("/shut/", "shut", lambda: "s", methods=["POST"])
    CORS(app, origins=[TRUSTED], resources={"/*": {"csrf_protection": True},
                                            "/open/": {"csrf_protection": False}})
    # The slash redirect runs no view; the browser repeats the POST at the target.
    for path, status in [("/open", 200), ("/shut", 403)]:
        first = send(app, path=path, site="cross-site", origin=OTHER)
        assert first.status_code == 308
        again = send(app, path=path + "/", site="cross-site", origin=OTHER)
        assert again.status_code == status


def test_configuration_changes_are_seen() -> None:
    app = Flask(__name__)
    app.add_url_rule("/bp/w", "w", lambda: "w", methods=["POST"])
    CORS(app, origins=[TRUSTED])
    state: CrossOriginState = app.extensions[EXTENSION_KEY]
    assert state.protects_writes is False
    bp = Blueprint("late", __name__)
    bp.add_url_rule("/x", "x", lambda: "x", methods=["POST"])
    CORS(bp, origins=[TRUSTED], csrf_protection=True)
    app.register_blueprint(bp, url_prefix="/late")
    assert state.protects_writes is True  # known when the blueprint registers
    assert _protected(app, "/late/x") and not _protected(app, "/bp/w")


# -- property test against a reference model ----------------------------------------------------

SAFE = {"GET", "HEAD", "OPTIONS"}
PASSING = {"same-origin", "none"}
DEFAULT_PORT = {"http": "80", "https": "443", "ws": "80", "wss": "443"}
POOL = ["https://app.example.com", "https://admin.example.com", "http://localhost:5000",
        "https://api.example.com", "https://a.b.example.com", "https://x.cb.example",
        "http://[::1]:8080"]


def reference_passes(method: str, site: str | None, origin: str | None, host: str | None,
                     origins: list[str] | str, wildcard: bool, callable_: bool) -> bool:
    """The algorithm, written for reading, not for speed."""
    if method in SAFE:
        return True

    def trusted() -> bool:
        if origin is None or origin == "null" or split_origin(origin) is None:
            return False
        if origins == "*":
            return False
        if origin in origins:
            return True
        scheme, name, port = split_origin(origin)  # type: ignore[misc]
        if wildcard and scheme == "https" and not port and name.endswith(".example.com"):
            return True
        return callable_ and origin.endswith(".cb.example")

    if site is not None:
        if site in PASSING:
            return True
        if not re.fullmatch(r"[a-z][a-z0-9-]*", site) or len(site) > 32:
            return False
        return trusted()
    if origin is None:
        return True
    if origin == "null":
        return False
    # Rule 4 on the Origin as written, as Go compares it: its authority is the Host
    # (whatever the case, the scheme's default port written or not on either side).
    scheme, sep, authority = origin.partition("://")
    form = r"(?:[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?"
    if (host is not None and sep and len(origin) <= 1024 and len(host) <= 1024
            and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme)
            and re.fullmatch(form, authority) and re.fullmatch(form, host)):
        default = DEFAULT_PORT.get(scheme.lower())

        def bare(value: str) -> str:
            value = value.lower()
            if default and value.endswith(":" + default):
                value = value[: -len(default) - 1]
            return value

        if bare(authority) == bare(host):
            return True
    return split_origin(origin) is not None and trusted()


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    method = draw(st.sampled_from(["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH",
                                   "DELETE", "PROPFIND"]))
    site = draw(st.one_of(
        st.none(), st.sampled_from(["same-origin", "same-site", "cross-site", "none"]),
        st.sampled_from(["", "Same-Origin", "cross-site, none", "x" * 33, "future",
                         "none ", "a-1", "same-origin" * 1000]),
        st.text(max_size=12),
    ))
    base = draw(st.sampled_from(POOL))
    origin = draw(st.one_of(
        st.none(), st.just("null"), st.just(base),
        st.sampled_from([base + "/", base.upper(), base + ":443", base + ".", " " + base,
                         base.replace("https", "http"), "https://evil.example.net",
                         "https://example.com", base + ", " + base,
                         "https://" + "a" * 1100 + ".cb.example"]),
        st.text(max_size=20),
    ))
    scheme, _, authority = base.partition("://")
    default = DEFAULT_PORT[scheme] if ":" not in authority.rpartition("]")[2] else "1"
    host = draw(st.one_of(
        st.sampled_from([authority, f"{authority}:{default}", authority.upper(),
                         f"{authority}:8443", f"{authority}."]),
        st.none(),
        st.sampled_from(["api.example.com", "API.example.com", "api.example.com:443",
                         "api.example.com:80", "localhost:5000", "[::1]:8080",
                         "app.example.com", "app.example.com:8443"]),
    ))
    listed = draw(st.one_of(st.just("*"), st.lists(st.sampled_from(POOL), max_size=3)))
    wildcard = listed != "*" and draw(st.booleans())
    callable_ = listed != "*" and draw(st.booleans())
    return dict(method=method, site=site, origin=origin, host=host, origins=listed,
                wildcard=wildcard, callable_=callable_)


def _origins_option(case: dict[str, Any]) -> Any:
    if case["origins"] == "*":
        return "*"
    entries: list[Any] = list(case["origins"])
    if case["wildcard"]:
        entries.append("https://*.example.com")
    if case["callable_"]:
        entries.append(_ends_in_cb)
    return entries


def _ends_in_cb(origin: str) -> bool:
    assert split_origin(origin) is not None
    return origin.endswith(".cb.example")


def _environ(case: dict[str, Any]) -> dict[str, Any]:
    environ: dict[str, Any] = {"REQUEST_METHOD": case["method"], "wsgi.url_scheme": "https",
                               "SERVER_NAME": "api.example.com", "SERVER_PORT": "443"}
    if case["site"] is not None:
        environ["HTTP_SEC_FETCH_SITE"] = case["site"]
    if case["origin"] is not None:
        environ["HTTP_ORIGIN"] = case["origin"]
    if case["host"] is not None:
        environ["HTTP_HOST"] = case["host"]
    return environ


def _expected(case: dict[str, Any]) -> bool:
    host = case["host"] if case["host"] is not None else "api.example.com"
    return reference_passes(case["method"], case["site"], case["origin"], host,
                            case["origins"], case["wildcard"], case["callable_"])


@property_settings(1500)
@given(cases())
def test_the_compiled_check_matches_the_reference_model(case: dict[str, Any]) -> None:
    policy = compile_policy("p", [("CORS()", {"origins": _origins_option(case),
                                              "csrf_protection": True})])
    assert policy.writes is not None
    refusal = policy.writes.refusal(case["method"], _environ(case))
    assert (refusal is None) == _expected(case), (case, refusal)
    if refusal is not None:
        assert refusal.code.startswith("write-") and refusal.message


@property_settings(300)
@given(cases())
def test_apps_match_the_reference_model(case: dict[str, Any]) -> None:
    if case["host"] is None or any(c in (case["origin"] or "") for c in "\r\n\x00") \
            or not (case["site"] or "").isprintable() or not (case["origin"] or "").isascii() \
            or not (case["site"] or "").isascii() or not (case["origin"] or "").isprintable():
        case = {**case, "host": case["host"] or "api.example.com", "origin": TRUSTED,
                "site": "cross-site"}
    app = Flask(__name__)
    ran: list[int] = []

    @app.route("/w", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "PROPFIND"])
    def write() -> str:
        ran.append(1)
        return "ok"

    CORS(app, origins=_origins_option(case), csrf_protection=True)
    headers = {}
    if case["site"] is not None:
        headers["Sec-Fetch-Site"] = case["site"]
    if case["origin"] is not None:
        headers["Origin"] = case["origin"]
    headers["Host"] = case["host"]  # (environ_base's HTTP_HOST: the client overrides it)
    response = app.test_client().open("/w", method=case["method"], headers=headers)
    passes = _expected(case)
    assert response.status_code != 500
    if case["method"] == "OPTIONS":
        return  # Flask's answer (or a preflight's): never refused as a write
    assert (response.status_code == 403) == (not passes), (case, response.status_code)
    assert bool(ran) == passes
    if not passes:
        assert "Access-Control-Allow-Origin" not in response.headers


def test_safe_methods_are_the_documented_ones() -> None:
    assert SAFE_METHODS == SAFE


def test_an_unexpected_failure_fails_closed(monkeypatch: pytest.MonkeyPatch,
                                            caplog: pytest.LogCaptureFixture) -> None:
    from flask_crossorigin.writes import WriteProtection

    def broken(*_: Any) -> Any:
        raise RuntimeError("bug")

    app = make_app(**PROTECTED)
    monkeypatch.setattr(WriteProtection, "refusal", broken)
    with caplog.at_level(logging.ERROR, "flask_crossorigin"):
        response = send(app, site="same-origin", origin=f"https://{HOST}")
    assert response.status_code == 403 and "view" not in app.ran  # type: ignore[attr-defined]
    assert "Access-Control-Allow-Origin" not in response.headers
    assert [r.levelno for r in caplog.records] == [logging.ERROR]
    assert send(app, "GET", site="cross-site", origin=OTHER).status_code == 200  # reads go on


def test_a_class_based_view_with_one_protected_method() -> None:
    from flask.views import MethodView

    ran: list[str] = []

    class Items(MethodView):
        def get(self) -> str:
            ran.append("get")
            return "get"

        @cross_origin(origins=[TRUSTED], csrf_protection=True)
        def post(self) -> str:
            ran.append("post")
            return "post"

        def put(self) -> str:
            ran.append("put")
            return "put"

    app = Flask(__name__)
    app.add_url_rule("/items", view_func=Items.as_view("items"))
    CORS(app, origins=[TRUSTED])
    assert send(app, "POST", "/items", site="cross-site", origin=OTHER).status_code == 403
    assert send(app, "PUT", "/items", site="cross-site", origin=OTHER).status_code == 200
    assert send(app, "POST", "/items", site="cross-site", origin=TRUSTED).status_code == 200
    assert ran == ["put", "post"]


def test_a_protected_view_registered_after_cors_is_known_at_the_first_request() -> None:
    app = Flask(__name__)
    CORS(app, origins=[TRUSTED])
    state: CrossOriginState = app.extensions[EXTENSION_KEY]

    @app.post("/late")
    @cross_origin(origins=[TRUSTED], csrf_protection=True)
    def late() -> str:
        return "late"

    assert state.protects_writes is False  # not seen yet
    assert _protected(app, "/late")  # the first request checks the views first
    assert state.protects_writes is True


WRITE_GROWING: dict[str, Callable[[int], dict[str, str]]] = {
    "Sec-Fetch-Site": lambda n: {"HTTP_SEC_FETCH_SITE": "cross-site" * n,
                                 "HTTP_ORIGIN": TRUSTED},
    "Origin": lambda n: {"HTTP_SEC_FETCH_SITE": "cross-site",
                         "HTTP_ORIGIN": "https://" + "a." * n + "example.com"},
    "Origin, no Sec-Fetch-Site": lambda n: {"HTTP_ORIGIN": "https://" + "a" * n + ".com"},
    "Host": lambda n: {"HTTP_ORIGIN": OTHER, "HTTP_HOST": "h" * n},
}


@pytest.mark.parametrize("what", list(WRITE_GROWING))
def test_write_work_does_not_grow_with_hostile_headers(what: str) -> None:
    from .test_adversarial import lines_executed

    def trusts(origin: str) -> bool:
        return origin.endswith(".partner.example")

    app = make_app(origins=[TRUSTED, "https://*.example.org", trusts], csrf_protection=True)
    client = app.test_client()

    def work(size: int) -> int:
        def action() -> None:
            response = client.post("/api/items", environ_overrides=WRITE_GROWING[what](size))
            assert response.status_code in (200, 403)
        return lines_executed(action)

    work(5_000)  # warm: a first refusal sets up what later ones reuse
    counts = [work(size) for size in (5_000, 64_000, 1_000_000)]
    assert counts[0] > 0
    assert counts[0] == counts[1] == counts[2], (what, counts)
