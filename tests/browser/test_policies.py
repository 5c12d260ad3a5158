"""Where a policy applies: a @cross_origin view, a blueprint; CORS_* keys from the environment."""

from __future__ import annotations

import json

import pytest

from example_app.servers import create_demo_servers


def test_cross_origin_view_overrides_the_app_policy(client, origins):
    untrusted = origins.at("127.0.0.1")
    widget = client.fetch(untrusted, "/api/widget")
    assert widget.allowed, widget
    assert widget.body["origin"] == untrusted
    assert not client.fetch(untrusted, "/api/items").allowed  # the app policy refuses it


def test_cross_origin_view_answers_any_origin_by_echoing_it(client, origins, api_log):
    # origins="*" with send_wildcard=False (the default, as in flask-cors): echoed.
    host = origins.at("widget-host.localhost", origins.other_port)
    client.fetch(host, "/api/widget")
    assert api_log("/api/widget")[-1].response_headers["access-control-allow-origin"] == host


def test_cross_origin_view_answers_its_own_preflight(client, origins, api_log):
    before = len(api_log("/api/widget"))
    result = client.fetch(origins.at("127.0.0.1"), "/api/widget", headers={"X-Widget-Key": "k"})
    assert result.allowed, result
    preflight, actual = api_log("/api/widget")[before:]
    assert preflight.is_preflight and preflight.status == 204
    assert actual.method == "GET"


def test_blueprint_policy_answers_preflights_with_its_own_options(client, origins, api_log):
    before = len(api_log("/tenants/dashboard"))
    tenant = origins.at("shop.localhost")
    result = client.fetch(tenant, "/tenants/dashboard", headers={"X-Tenant-Key": "k"})
    assert result.allowed, result
    preflight, actual = api_log("/tenants/dashboard")[before:]
    assert preflight.is_preflight and preflight.status == 204
    assert preflight.response_headers["access-control-allow-origin"] == tenant
    # CORS(blueprint) reads no CORS_* key, as in flask-cors (issue 22): the demo passes
    # the app's CORS_MAX_AGE=600 to CORS(tenants, max_age=...) itself.
    assert preflight.response_headers["access-control-max-age"] == "600"
    assert actual.status == 200


def test_blueprint_policy_applies_to_its_routes_only(client, origins):
    tenant = origins.at("shop.localhost")
    assert client.fetch(tenant, "/tenants/dashboard").allowed  # the blueprint's policy
    assert client.fetch(tenant, "/public/hello").allowed  # another blueprint's: any origin
    refused = client.fetch(tenant, "/api/items")  # the app's policy: the front end only
    assert not refused.allowed
    assert refused.cors_error, refused.console


def test_app_policy_does_not_leak_into_a_blueprint(client, origins):
    # The front-end origin is trusted by /api but not by the tenants blueprint.
    assert client.fetch(origins.page, "/api/items").allowed
    assert not client.fetch(origins.page, "/tenants/dashboard").allowed


@pytest.fixture()
def env_configured_demo(monkeypatch):
    monkeypatch.setenv(
        "FLASK_CORS_EXPOSE_HEADERS", json.dumps(["X-Request-Id", "X-Internal-Trace"])
    )
    monkeypatch.setenv("FLASK_CORS_MAX_AGE", "0")
    servers = create_demo_servers(api_port=0, page_port=0).start()
    yield servers
    servers.stop()


def test_cors_keys_from_the_environment(browser, env_configured_demo):
    demo = env_configured_demo
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(demo.page_origin + "/frame")
        headers = page.evaluate(
            "(url) => fetch(url).then(r => Object.fromEntries(r.headers.entries()))",
            demo.api_origin + "/api/items",
        )
        put = """(url) => fetch(url, {method: 'PUT', headers: {'Content-Type': 'application/json'},
                                      body: '{}'}).then(r => r.status)"""
        statuses = [page.evaluate(put, demo.api_origin + "/api/items/env") for _ in range(2)]
    finally:
        context.close()
    assert headers["x-internal-trace"] == "node-7/worker-3"  # FLASK_CORS_EXPOSE_HEADERS
    assert statuses == [200, 200]
    # FLASK_CORS_MAX_AGE=0: nothing cached, so every PUT is preflighted again.
    assert [e.method for e in demo.request_log.entries("/api/items/env")] == ["OPTIONS", "PUT"] * 2
