"""Credentialed requests: the cookie really travels; only a credentials policy shares the answer."""

from __future__ import annotations


def sign_in(client, origins):
    result = client.fetch(origins.page, "/api/private/login", method="POST", credentials="include")
    assert result.allowed and result.body == {"signed_in": True}, result


def test_cookie_is_sent_and_the_response_is_readable(client, origins, api_log):
    sign_in(client, origins)
    result = client.fetch(origins.page, "/api/private/profile", credentials="include")
    assert result.allowed, result
    assert result.body == {"cookie_received": True, "user": "demo"}
    answer = api_log("/api/private/profile")[-1].response_headers
    assert answer["access-control-allow-origin"] == origins.page
    assert answer["access-control-allow-credentials"] == "true"


def test_without_credentials_mode_the_cookie_stays_home(client, origins):
    sign_in(client, origins)
    result = client.fetch(origins.page, "/api/private/profile", credentials="omit")
    assert result.allowed, result
    assert result.body["cookie_received"] is False


def test_credentialed_preflighted_request_is_allowed(client, origins, api_log):
    sign_in(client, origins)
    result = client.fetch(
        origins.page, "/api/private/profile", credentials="include", headers={"X-Demo-Token": "abc"}
    )
    assert result.allowed, result
    assert result.body["cookie_received"] is True
    preflights = [e for e in api_log("/api/private/profile") if e.is_preflight]
    assert preflights and preflights[-1].status == 204
    assert preflights[-1].response_headers["access-control-allow-credentials"] == "true"


def test_credentialed_request_to_an_any_origin_policy_is_blocked(client, origins):
    # The origin is echoed (send_wildcard=False), but without
    # Access-Control-Allow-Credentials: true the browser still withholds the response.
    result = client.fetch(origins.page, "/public/hello", credentials="include")
    assert not result.allowed
    assert "Access-Control-Allow-Credentials" in (result.cors_error or ""), result.console


def test_credentialed_request_from_an_untrusted_origin_is_blocked(client, origins):
    result = client.fetch(origins.at("127.0.0.1"), "/api/private/profile", credentials="include")
    assert not result.allowed
    assert result.cors_error, result.console


def test_credentialed_request_to_a_policy_without_credentials_is_blocked(client, origins):
    # The tenants policy trusts shop.localhost but does not set supports_credentials.
    tenant = origins.at("shop.localhost")
    assert client.fetch(tenant, "/tenants/dashboard").allowed
    result = client.fetch(tenant, "/tenants/dashboard", credentials="include")
    assert not result.allowed
    assert "Access-Control-Allow-Credentials" in (result.cors_error or ""), result.console


def test_credentials_a_view_grants_itself_never_reach_an_unlisted_origin(client, origins, api_log):
    # /public/legacy sets Access-Control-Allow-Credentials: true itself, beside the
    # any-origin CORS(public): the extension answers '*' instead of echoing the origin.
    sign_in(client, origins)
    stranger = origins.at("127.0.0.1")
    result = client.fetch(stranger, "/public/legacy", credentials="include")
    assert not result.allowed, result
    assert result.cors_error, result.console
    answer = api_log("/public/legacy")[-1].response_headers
    assert answer["access-control-allow-origin"] == "*"
    assert answer["access-control-allow-credentials"] == "true"
    plain = client.fetch(stranger, "/public/legacy")  # without credentials: still readable
    assert plain.allowed, plain
