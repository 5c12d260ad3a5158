"""Refusals are logged at DEBUG with their reason; request data cannot forge log lines."""

from __future__ import annotations

import logging

import pytest

from flask_crossorigin.reasons import REASONS, Refusal, escape

from .conftest import TRUSTED, make_app, preflight


def test_refusal_is_logged_at_debug_with_its_reason(caplog: pytest.LogCaptureFixture) -> None:
    client = make_app(origins=[TRUSTED]).test_client()
    with caplog.at_level(logging.DEBUG, logger="flask_crossorigin"):
        client.get("/api/data", headers={"Origin": "https://evil.example"})
    [record] = [r for r in caplog.records if r.name == "flask_crossorigin"]
    assert record.levelno == logging.DEBUG
    message = record.getMessage()
    assert "'https://evil.example'" in message
    assert "matches none of the allowed origins" in message
    assert "/api/data" in message


@pytest.mark.parametrize("kind", ["request", "preflight"])
def test_in_debug_mode_every_refusal_is_a_warning(
    caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    app = make_app(origins=[TRUSTED])
    app.debug = True  # `flask run --debug`: WARNING reaches the developer's terminal
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="flask_crossorigin"):
        if kind == "request":
            client.get("/api/data", headers={"Origin": "https://evil.example"})
        else:
            client.options("/api/items/1", headers=preflight(origin="https://evil.example"))
    [record] = [r for r in caplog.records if r.name == "flask_crossorigin"]
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith(f"refused {kind} ")


def test_preflight_refusal_reason(caplog: pytest.LogCaptureFixture) -> None:
    client = make_app(origins=[TRUSTED], allow_headers=["X-Token"]).test_client()
    with caplog.at_level(logging.DEBUG, logger="flask_crossorigin"):
        client.options("/api/items/1", headers=preflight(headers="x-other"))
    assert "request header(s) 'x-other' are not in the allow_headers" in caplog.text


def test_a_path_with_crlf_cannot_forge_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    client = make_app(origins=[TRUSTED]).test_client()
    with caplog.at_level(logging.DEBUG, logger="flask_crossorigin"):
        client.get("/x%0d%0aINFO forged entry", headers={"Origin": "https://evil.example"})
    lines = [r.getMessage() for r in caplog.records if r.name == "flask_crossorigin"]
    assert len(lines) == 1
    assert "\n" not in lines[0] and "\r" not in lines[0]
    assert "\\r\\n" in lines[0]


def test_nothing_is_formatted_when_debug_is_off(
    caplog: pytest.LogCaptureFixture, formatted_reasons: list[str]
) -> None:
    formatted = formatted_reasons
    client = make_app(origins=[TRUSTED]).test_client()
    with caplog.at_level(logging.INFO, logger="flask_crossorigin"):
        client.get("/api/data", headers={"Origin": "https://evil.example"})
    assert formatted == []
    with caplog.at_level(logging.DEBUG, logger="flask_crossorigin"):
        client.get("/api/data", headers={"Origin": "https://evil.example"})
    assert formatted == ["origin-not-allowed"]


def test_escape_and_every_reason_formats() -> None:
    assert escape("a\r\nb\x00é") == "a\\r\\nb\\x00\\xe9"
    details = dict(origin="o", policy="p", error="E", method="m", allowed="a",
                   headers="h", limit="l", length=1, count=2, suffix="s", wildcard="w",
                   site="x", how="h", cause="")
    for code in REASONS:
        assert Refusal(code, **details).message
