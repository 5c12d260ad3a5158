"""Preflights as the browser sends them: methods, headers, JSON bodies, and the preflight cache."""

from __future__ import annotations

import json
import uuid


def unique_item_path() -> str:
    return f"/api/items/{uuid.uuid4().hex[:12]}"


def json_put(body, **headers):
    return {
        "method": "PUT",
        "headers": {"Content-Type": "application/json", **headers},
        "body": json.dumps(body),
    }


def test_json_put_with_a_custom_header_is_preflighted_and_allowed(client, origins, api_log):
    path = unique_item_path()
    result = client.fetch(
        origins.page, path, **json_put({"name": "mug", "price": 7}, **{"X-Demo-Token": "t"})
    )
    assert result.allowed, result
    assert result.body["item"]["price"] == 7
    assert result.body["token"] == "t"
    preflight, put = api_log(path)
    assert preflight.is_preflight and preflight.request_method == "PUT"
    assert preflight.request_headers == "content-type,x-demo-token"
    assert preflight.status == 204
    assert (put.method, put.status) == ("PUT", 200)


def test_patch_is_allowed(client, origins):
    result = client.fetch(
        origins.page,
        unique_item_path(),
        method="PATCH",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"price": 9}),
    )
    assert result.allowed, result
    assert result.body["patched"] is True


def test_json_post_needs_a_preflight(client, origins, api_log):
    before = sum(e.is_preflight for e in api_log("/api/notes"))
    result = client.fetch(
        origins.page,
        "/api/notes",
        method="POST",
        headers={"Content-Type": "application/json"},
        body='{"note": "json"}',
    )
    assert result.allowed, result
    assert sum(e.is_preflight for e in api_log("/api/notes")) == before + 1


def test_simple_post_is_sent_without_a_preflight(client, origins, api_log):
    before = len(api_log("/api/notes"))
    result = client.fetch(
        origins.page, "/api/notes", method="POST", headers={"Content-Type": "text/plain"}, body="hi"
    )
    assert result.allowed, result
    assert result.body == {"note": "hi", "content_type": "text/plain"}
    new = api_log("/api/notes")[before:]
    assert [e.method for e in new] == ["POST"]


def test_disallowed_method_is_blocked_and_never_sent(client, origins, api_log):
    path = unique_item_path()
    result = client.fetch(origins.page, path, method="DELETE")
    assert not result.allowed
    assert result.cors_error, result.console
    seen = api_log(path)
    assert [e.method for e in seen] == ["OPTIONS"]
    assert seen[0].status != 204 or "DELETE" not in seen[0].response_headers.get(
        "access-control-allow-methods", ""
    )


def test_method_names_are_case_sensitive(client, origins, api_log):
    # fetch() upper-cases only DELETE GET HEAD OPTIONS POST PUT; "patch" goes out as is.
    path = unique_item_path()
    result = client.fetch(
        origins.page, path, method="patch", headers={"Content-Type": "application/json"}, body="{}"
    )
    assert not result.allowed
    assert result.cors_error, result.console
    assert [e.method for e in api_log(path)] == ["OPTIONS"]


def test_disallowed_header_is_blocked_and_the_request_never_sent(client, origins, api_log):
    path = unique_item_path()
    result = client.fetch(origins.page, path, **json_put({"name": "mug"}, **{"X-Unlisted": "1"}))
    assert not result.allowed
    assert result.cors_error, result.console
    assert [e.method for e in api_log(path)] == ["OPTIONS"]


def test_max_age_lets_the_browser_reuse_the_preflight(client, origins, api_log):
    path = unique_item_path()
    for name in ("first", "second", "third"):
        result = client.fetch(origins.page, path, **json_put({"name": name}))
        assert result.allowed, result
        assert result.body["item"]["name"] == name
    seen = api_log(path)
    assert [e.method for e in seen] == ["OPTIONS", "PUT", "PUT", "PUT"]
    assert seen[0].response_headers["access-control-max-age"] == "600"  # CORS_MAX_AGE


def test_preflight_cache_is_per_context(browser, client, origins, api_log):
    # A new browser context (a new profile) has an empty preflight cache: it asks again.
    path = unique_item_path()
    assert client.fetch(origins.page, path, **json_put({"name": "a"})).allowed
    other = browser.new_context()
    try:
        page = other.new_page()
        page.goto(origins.page + "/frame")
        status = page.evaluate(
            """(url) => fetch(url, {method: 'PUT', headers: {'Content-Type': 'application/json'},
                                    body: '{"name": "b"}'}).then(r => r.status)""",
            origins.api + path,
        )
    finally:
        other.close()
    assert status == 200
    assert [e.method for e in api_log(path)] == ["OPTIONS", "PUT", "OPTIONS", "PUT"]
