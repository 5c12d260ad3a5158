"""Shared fixtures. ``app`` is the fixture pytest-flask builds ``client`` from."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Callable

import pytest
from flask import Flask, abort, jsonify

from flask_crossorigin import CORS

if TYPE_CHECKING:
    from flask_crossorigin import CachedOrigins

TRUSTED = "https://trusted.example"


def make_app(**cors_options: Any) -> Flask:
    """An app with a few typical routes, and the extension when options are given."""
    app = Flask(__name__)

    @app.route("/api/data")
    def data() -> Any:
        return jsonify(message="hello")

    @app.route("/api/items/<int:item>", methods=["GET", "PUT", "DELETE"])
    def item(item: int) -> Any:
        return jsonify(item=item)

    @app.route("/private")
    def private() -> Any:
        abort(401)

    @app.route("/boom")
    def boom() -> Any:
        raise RuntimeError("boom")

    @app.route("/vary")
    def vary() -> Any:
        response = jsonify(ok=True)
        response.headers["Vary"] = "Accept-Encoding"
        return response

    if cors_options.pop("_init", True):
        CORS(app, **cors_options)
    return app


@pytest.fixture
def app() -> Flask:
    """The pytest-flask ``app``: the one-liner ``CORS(app)`` on the typical routes."""
    return make_app()


@pytest.fixture
def build() -> Callable[..., Flask]:
    """Build an app with the given ``CORS(app, **options)``."""
    return make_app


@pytest.fixture
def formatted_reasons(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The codes of the refusals whose text gets formatted, in order."""
    from flask_crossorigin.reasons import Refusal

    formatted: list[str] = []
    original = Refusal.message

    def spy(self: Refusal) -> str:
        formatted.append(self.code)
        return original.fget(self)  # type: ignore[no-any-return,misc,attr-defined]

    monkeypatch.setattr(Refusal, "message", property(spy))
    return formatted


def preflight(
    origin: str | None = TRUSTED, method: str = "PUT", headers: str | None = None, **extra: str
) -> dict[str, str]:
    """Request headers of a preflight."""
    sent = {"Access-Control-Request-Method": method, **extra}
    if origin is not None:
        sent["Origin"] = origin
    if headers is not None:
        sent["Access-Control-Request-Headers"] = headers
    return sent


def vary_of(response: Any) -> list[str]:
    return [item.strip() for line in response.headers.getlist("Vary") for item in line.split(",")]


@pytest.fixture
def redis_server(tmp_path: Any) -> Any:
    """A real redis-server on a free loopback port, stopped after the test."""
    from .redis_server import RedisServer

    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def made() -> Iterator[list[CachedOrigins]]:
    """CachedOrigins (and RedisOrigins) made by a test, closed after it: their threads stop."""
    made: list[CachedOrigins] = []
    yield made
    for origins in made:
        origins.close()


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The origins that a compiled matcher (static or loaded) checked, in order."""
    from flask_crossorigin.origins import OriginMatcher

    seen: list[str] = []
    original = OriginMatcher.check

    def spy(self: OriginMatcher, origin: str, policy_name: str) -> Any:
        seen.append(origin)
        return original(self, origin, policy_name)

    monkeypatch.setattr(OriginMatcher, "check", spy)
    return seen
