"""The demo's admin endpoint for partner origins: a refused add says it was not added.

Start-up ignores an origins entry that can never match, and its message ends "so it
is ignored"; the demo's add stores nothing, so it must say that instead, as
``flask cors origins add`` does (issue 23).
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from example_app.api import create_app

ADMIN = "/api/admin/partners"


def refused_add(app: Flask, origin: str) -> dict[str, Any]:
    client = app.test_client()
    response = client.post(ADMIN, json={"origin": origin})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert client.get(ADMIN).get_json()["partners"] == []  # nothing was stored
    body = response.get_json()
    assert isinstance(body, dict)
    return body


def check_refusals(app: Flask) -> None:
    body = refused_add(app, "partner.example/")
    assert body == {
        "error": "not added",
        "detail": "'partner.example/' was not added: has no scheme; write "
                  "'https://partner.example'; no browser sends such an Origin",
    }
    detail = refused_add(app, "https://partner.example/shop")["detail"]
    assert detail.startswith("'https://partner.example/shop' was not added: has a path")
    assert "ignored" not in detail
    detail = refused_add(app, "*")["detail"]
    assert detail.startswith("'*' was not added: '*' cannot be loaded")


def test_a_refused_add_says_it_was_not_added(tmp_path: Any) -> None:
    app = create_app({"DEMO_PARTNERS_DB": str(tmp_path / "partners.sqlite3")})
    try:
        check_refusals(app)
    finally:
        app.extensions["demo_partners"].origins.close()


def test_a_refused_add_to_redis_says_it_was_not_added(redis_server: Any) -> None:
    app = create_app({"DEMO_REDIS_URL": redis_server.url})
    try:
        check_refusals(app)
    finally:
        app.extensions["demo_partners"].origins.close()
