"""Which origins the browser lets read the API: exact, wildcard subdomains, refused ones."""

from __future__ import annotations

import pytest


def test_public_route_is_readable_from_the_page(client, origins):
    result = client.fetch(origins.page, "/public/hello")
    assert result.allowed, result
    assert result.status == 200
    assert "any origin" in result.body["message"]


def test_public_route_is_readable_from_any_origin(client, origins):
    result = client.fetch(origins.at("127.0.0.1", origins.other_port), "/public/hello")
    assert result.allowed, result
    assert result.status == 200


def test_public_route_echoes_any_origin(client, origins, api_log):
    anyone = origins.at("anyone.localhost")
    client.fetch(anyone, "/public/hello")
    answered = [e for e in api_log("/public/hello") if e.origin == anyone]
    assert answered and answered[-1].response_headers.get("access-control-allow-origin") == anyone


def test_api_is_readable_from_the_trusted_front_end(client, origins):
    result = client.fetch(origins.page, "/api/items")
    assert result.allowed, result
    assert [item["name"] for item in result.body["items"]][:2] == ["teapot", "kettle"]


@pytest.mark.parametrize(
    "host, port_name",
    [
        ("127.0.0.1", "page_port"),  # same server, reached by IP: another origin
        ("shop.localhost", "page_port"),  # a subdomain is not the origin itself
        ("localhost", "other_port"),  # another port
        ("localhost.evil.test", "page_port"),  # prefix trick: trusted host + more labels
        ("evillocalhost", "page_port"),  # suffix trick: merely ends with the trusted name
    ],
)
def test_api_refuses_other_origins(client, origins, host, port_name):
    result = client.fetch(origins.at(host, getattr(origins, port_name)), "/api/items")
    assert not result.allowed
    assert result.cors_error, result.console


def test_api_refuses_the_null_origin(client):
    result = client.fetch_from_null_origin("/api/items?from=null")
    assert not result.allowed
    assert result.cors_error, result.console


@pytest.mark.parametrize("tenant", ["shop", "eu.shop"])
def test_tenant_subdomains_are_allowed_by_the_wildcard(client, origins, tenant):
    result = client.fetch(origins.at(f"{tenant}.localhost"), "/tenants/dashboard")
    assert result.allowed, result
    assert result.body["origin"] == origins.at(f"{tenant}.localhost")
    assert result.body["tenant"] == tenant.split(".")[0]


@pytest.mark.parametrize(
    "host, port_name",
    [
        ("localhost", "page_port"),  # the parent itself is not one of its subdomains
        ("shop.localhost", "other_port"),  # right name, wrong port
        ("shop.localhost.evil.test", "page_port"),  # a tenant name followed by an attacker's domain
        ("evillocalhost", "page_port"),  # ends with "localhost" but is not a subdomain
    ],
)
def test_tenant_wildcard_refuses_look_alikes(client, origins, host, port_name):
    result = client.fetch(origins.at(host, getattr(origins, port_name)), "/tenants/dashboard")
    assert not result.allowed
    assert result.cors_error, result.console
