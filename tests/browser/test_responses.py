"""What the page can read from responses: exposed headers, and error responses."""

from __future__ import annotations


def test_exposed_header_is_readable(client, origins):
    result = client.fetch(origins.page, "/api/items")
    assert result.allowed, result
    assert len(result.headers["x-request-id"]) == 32


def test_unexposed_header_is_hidden_from_the_page(client, origins, api_log):
    result = client.fetch(origins.page, "/api/items?trace")
    assert result.allowed, result
    assert "x-internal-trace" not in result.headers
    sent = [e for e in api_log("/api/items") if e.origin == origins.page][-1]
    assert sent.response_headers["x-internal-trace"] == "node-7/worker-3"  # it was on the wire


def test_safelisted_header_needs_no_exposing(client, origins):
    result = client.fetch(origins.page, "/api/items")
    assert result.headers["content-type"] == "application/json"


def test_404_is_readable(client, origins):
    result = client.fetch(origins.page, "/api/no-such-thing")
    assert result.allowed, result
    assert result.status == 404
    assert result.body["error"] == "Not Found"


def test_405_is_readable(client, origins):
    result = client.fetch(origins.page, "/api/items", method="POST", body="x")
    assert result.allowed, result
    assert result.status == 405


def test_500_is_readable(client, origins):
    result = client.fetch(origins.page, "/api/boom")
    assert result.allowed, result
    assert result.status == 500
    assert result.body["error"] == "Internal Server Error"


def test_401_from_the_auth_hook_is_readable(client, origins):
    result = client.fetch(origins.page, "/api/account")
    assert result.allowed, result
    assert result.status == 401
    assert result.body["error"] == "unauthorized"


def test_auth_hook_does_not_break_the_preflight(client, origins, api_log):
    before = len(api_log("/api/account"))
    result = client.fetch(
        origins.page, "/api/account", headers={"Authorization": "Bearer demo-token"}
    )
    assert result.allowed, result
    assert (result.status, result.body) == (200, {"user": "demo", "plan": "pro"})
    preflight, actual = api_log("/api/account")[before:]
    assert preflight.is_preflight and preflight.request_headers == "authorization"
    assert preflight.status == 204  # not the hook's 401
    assert actual.status == 200


def test_wrong_token_gets_a_readable_401_after_a_good_preflight(client, origins, api_log):
    before = len(api_log("/api/account"))
    result = client.fetch(origins.page, "/api/account", headers={"Authorization": "Bearer wrong"})
    assert result.allowed, result
    assert result.status == 401
    assert [e.status for e in api_log("/api/account")[before:]] == [204, 401]
