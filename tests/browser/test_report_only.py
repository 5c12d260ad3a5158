"""Report-only in Chromium: what the stricter policy would refuse still works, and is reported.

The demo's ``/catalog/*`` allows any origin and tries ``report_only={"origins": [page]}``.
Each test uses an origin of its own, so that an earlier line for the same (policy,
origin, reason) cannot hold its log line back.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from flask_crossorigin import report_only_mismatch

_numbers = itertools.count()
TRIAL = "resources['/catalog/*'].report_only"


@pytest.fixture()
def reported(demo: Any) -> Iterator[list[dict[str, Any]]]:
    """The ``report_only_mismatch`` signals the API sends meanwhile (from its threads)."""
    sent: list[dict[str, Any]] = []
    lock = threading.Lock()

    def receiver(sender: Any, **details: Any) -> None:
        with lock:
            sent.append(details)

    with report_only_mismatch.connected_to(receiver, sender=demo.api):
        yield sent


def fresh_origin(origins: Any) -> str:
    return origins.at(f"tightening{next(_numbers)}.localhost")


def test_a_report_only_refusal_leaves_the_fetch_working(
    client: Any, origins: Any, reported: list[dict[str, Any]], api_log: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    page = fresh_origin(origins)
    with caplog.at_level(logging.INFO, logger="flask_crossorigin"):
        result = client.fetch(page, "/catalog/items")
    assert result.allowed, result
    assert result.status == 200 and result.body["items"]
    assert result.cors_error is None and not result.console
    assert api_log("/catalog/items")[-1].response_headers["access-control-allow-origin"] == page
    [details] = reported
    assert (details["mismatch"], details["code"], details["origin"], details["preflight"]) == (
        "would-refuse", "origin-not-allowed", page, False)
    assert details["report_only_policy"] == TRIAL
    [line] = [r.getMessage() for r in caplog.records if r.name == "flask_crossorigin"]
    assert line.startswith(f"report-only: {TRIAL} would refuse request GET /catalog/items "
                           f"from '{page}', which resources['/catalog/*'] grants: the origin")
    # Enforced, the same list blocks that page: /api/* lists only the front end.
    blocked = client.fetch(page, "/api/items")
    assert not blocked.allowed and blocked.cors_error


def test_a_preflighted_request_is_reported_twice_and_still_sent(
    client: Any, origins: Any, reported: list[dict[str, Any]], api_log: Any,
) -> None:
    page = fresh_origin(origins)
    before = len(api_log("/catalog/items"))
    result = client.fetch(page, "/catalog/items", headers={"X-Catalog-Key": "k"})
    assert result.allowed, result
    preflight, actual = api_log("/catalog/items")[before:]
    assert preflight.is_preflight and preflight.status == 204
    assert actual.method == "GET" and actual.status == 200
    assert [(d["preflight"], d["method"], d["mismatch"]) for d in reported] == [
        (True, "GET", "would-refuse"), (False, "GET", "would-refuse")]


def test_the_trusted_page_is_not_reported(
    client: Any, origins: Any, reported: list[dict[str, Any]],
) -> None:
    result = client.fetch(origins.page, "/catalog/items", headers={"X-Catalog-Key": "k"})
    assert result.allowed, result
    assert reported == []
