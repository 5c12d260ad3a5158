"""``flask cors routes``, ``check`` and ``lint`` explain csrf_protection."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flask_crossorigin.cli.check import browser_fetch_site, check_request
from flask_crossorigin.cli.lint import SUGGESTIONS, WARNINGS

from .test_cli import run
from .test_writes import OTHER, PROTECTED, TRUSTED, make_app


def routes_json(app: Any) -> dict[str, Any]:
    result = run(app, "routes", "--json")
    assert result.exit_code == 0, result.output
    return {row["rule"]: row for row in json.loads(result.output)}


def test_routes_show_which_routes_are_protected() -> None:
    app = make_app(decorate={"origins": [TRUSTED]}, origins=[TRUSTED], csrf_protection=True,
                   resources={"/*": {}, "/hooks/*": {"csrf_protection": False},
                              "/api/items": {"csrf_protection": "report-only"}})
    rows = routes_json(app)
    assert rows["/api/items"]["csrf_protection"] == "report-only"
    assert rows["/hooks/pay"]["csrf_protection"] is False
    assert rows["/api/decorated"]["csrf_protection"] is True  # unset: its path's value
    table = run(app, "routes", "--wide").output.splitlines()
    assert table[0].split()[-1] == "CSRF"
    cells = {line.split()[0]: line.split()[-1] for line in table[2:]}
    assert cells == {"/api/decorated": "on", "/api/items": "report-only", "/hooks/pay": "off",
                     "/static/<path:filename>": "on"}
    # The default view names each policy's value once.
    narrow = run(app, "routes").output
    assert "  CSRF           report-only\n" in narrow and "  CSRF           off\n" in narrow


def test_routes_show_no_csrf_column_while_no_route_is_protected() -> None:
    app = make_app(origins=[TRUSTED])
    assert "CSRF" not in run(app, "routes").output + run(app, "routes", "--wide").output
    assert {row["csrf_protection"] for row in routes_json(app).values()} == {False}


@pytest.mark.parametrize("origin, target, site", [
    ("https://api.example.com", "https://api.example.com", "same-origin"),
    ("https://app.example.com", "https://api.example.com", "same-site"),
    ("http://app.example.com", "https://api.example.com", "cross-site"),  # schemeful
    ("https://evil.example.net", "https://api.example.com", "cross-site"),
    ("https://a.github.io", "https://b.github.io", "cross-site"),  # a public suffix
    ("http://localhost:5001", "http://localhost", "same-site"),
    ("http://shop.localhost:5001", "http://localhost", "cross-site"),
    ("http://blog.bank.localhost", "http://api.bank.localhost:8000", "same-site"),
    ("http://127.0.0.1:5001", "http://localhost", "cross-site"),
    ("null", "https://api.example.com", "cross-site"),
])
def test_check_knows_the_sec_fetch_site_a_browser_sends(origin: str, target: str,
                                                        site: str) -> None:
    assert browser_fetch_site(origin, target) == site


def test_check_shows_the_verdict_with_and_without_sec_fetch_site() -> None:
    app = make_app(**PROTECTED)
    result = check_request(app, "/api/items", OTHER, "POST")
    assert not result.allowed
    assert [(w.label, w.verdict) for w in result.writes] == [
        ("Sec-Fetch-Site: cross-site (as a current browser sends it to http://localhost)",
         "refused"),
        ("without Sec-Fetch-Site (older browsers, other clients)", "refused"),
    ]
    assert all("does not trust the origin" in (w.reason or "") for w in result.writes)
    assert app.ran == []  # type: ignore[attr-defined]  # check never ran the write

    trusted = check_request(app, "/api/items", TRUSTED, "POST", credentials=True)
    assert trusted.allowed and [w.verdict for w in trusted.writes] == ["passes", "passes"]


def test_a_given_sec_fetch_site_is_used_and_needs_no_preflight() -> None:
    app = make_app(**PROTECTED)
    result = check_request(app, "/api/items", OTHER, "POST",
                           ["Sec-Fetch-Site: same-origin", "Content-Type: text/plain"])
    assert [e.kind for e in result.exchanges] == ["request"]  # no preflight for it
    assert result.writes[0].label == "Sec-Fetch-Site: same-origin (as given)"
    assert [w.verdict for w in result.writes] == ["passes", "refused"]


def test_a_refused_write_decides_the_check_even_where_the_origin_may_read() -> None:
    app = make_app(origins="*", csrf_protection=True)
    result = check_request(app, "/api/items", OTHER, "POST")
    assert not result.allowed
    assert result.reason.startswith("Sec-Fetch-Site is 'cross-site', and resources['/*'] "
                                    "allows any origin to read (origins='*')")
    assert any("refuses this write with 403" in note for note in result.notes)
    output = run(app, "check", "/api/items", "--origin", OTHER, "--method", "POST")
    assert output.exit_code == 1
    assert ("csrf_protection: without Sec-Fetch-Site (older browsers, other clients): refused "
            "(403, the view does not run): ") in output.output


def test_check_send_runs_the_real_hook() -> None:
    app = make_app(**PROTECTED)
    result = check_request(app, "/api/items", OTHER, "POST", ["Sec-Fetch-Site: cross-site"],
                           send=True)
    [exchange] = result.exchanges
    assert exchange.status.startswith("403")
    assert exchange.blocked is not None and "does not trust" in exchange.blocked
    assert app.ran == []  # type: ignore[attr-defined]


def test_check_report_only() -> None:
    app = make_app(origins=[TRUSTED], csrf_protection="report-only")
    output = run(app, "check", "/api/items", "--origin", OTHER, "--method", "POST",
                 "--header", "Sec-Fetch-Site:cross-site").output
    assert "csrf_protection: Sec-Fetch-Site: cross-site (as given): would be refused: " in output


def test_check_gives_no_write_verdict_where_no_check_applies() -> None:
    result = check_request(make_app(origins=[TRUSTED]), "/api/items", OTHER, "POST")
    assert result.writes == []
    output = run(make_app(origins=[TRUSTED]), "check", "/api/items", "--origin", OTHER,
                 "--method", "POST").output
    assert "csrf_protection: " not in output
    # ... but says that the write itself goes through (test_writes_scope.py).
    assert "note: csrf_protection does not check this write: a browser sends" in output


def test_check_from_the_host_itself() -> None:
    app = make_app(**PROTECTED)
    result = check_request(app, "/api/items", "http://localhost", "POST")
    assert [w.verdict for w in result.writes] == ["passes", "passes"]
    assert result.writes[0].label.startswith("Sec-Fetch-Site: same-origin")


def test_lint_flags_credentialed_writes_without_protection() -> None:
    result = run(make_app(origins=[TRUSTED], supports_credentials=True), "lint")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "resources['/*']: " + WARNINGS["credentials-writes-unprotected"].format(
            methods="DELETE, PATCH, POST, PUT",
            routes="/api/decorated, /api/items, /hooks/pay"),
        "1 warning (1 policy checked)",
    ]


@pytest.mark.parametrize("mode", [True, "report-only"])
def test_lint_is_quiet_once_protection_is_on(mode: Any) -> None:
    result = run(make_app(origins=[TRUSTED], supports_credentials=True, csrf_protection=mode),
                 "lint")
    assert result.exit_code == 0 and result.output == "no warnings (1 policy checked)\n"


def test_lint_names_only_the_unprotected_routes() -> None:
    app = make_app(origins=[TRUSTED], supports_credentials=True, csrf_protection=True,
                   resources={"/*": {}, "/hooks/*": {"csrf_protection": False}})
    lines = run(app, "lint").output.splitlines()
    assert lines[0].startswith("resources['/hooks/*']: supports_credentials=True with "
                               "csrf_protection=False, on routes that accept DELETE, PATCH, "
                               "POST, PUT (/hooks/pay): ")


def test_lint_suggests_protection_where_nothing_writes_yet() -> None:
    from flask import Flask

    from flask_crossorigin import CORS

    app = Flask(__name__)
    app.add_url_rule("/me", "me", lambda: "me")
    CORS(app, origins=[TRUSTED], supports_credentials=True)
    result = run(app, "lint")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        f"suggestion: resources['/*']: {SUGGESTIONS['credentials-csrf']}",
        "no warnings (1 policy checked)",
    ]


def test_check_of_a_write_it_does_not_send_names_the_policy() -> None:
    """Regression (the merge of issues 16b and 17): the after_request hook that check
    calls directly added nothing before the views were checked, so every POST check of a
    fresh app said "no CORS policy applies"."""
    app = make_app(origins=[TRUSTED])
    result = check_request(app, "/api/items", TRUSTED, "POST")
    assert result.allowed and result.policy == "resources['/*']", result.reason
    output = run(make_app(origins=[TRUSTED]), "check", "/api/items", "--origin", TRUSTED,
                 "--method", "POST")
    assert output.exit_code == 0 and output.output.startswith("allowed: ")
