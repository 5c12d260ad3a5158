"""One compiled policy serves many threads at once, each request getting its own answer."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

from .conftest import make_app

ALLOWED = [f"https://tenant{i}.example" for i in range(20)]
REFUSED = [f"https://other{i}.example" for i in range(20)]


def test_concurrent_requests_from_different_origins() -> None:
    app = make_app(origins=ALLOWED, supports_credentials=True)
    rng = random.Random(7)
    origins = [rng.choice(ALLOWED + REFUSED) for _ in range(400)]

    def call(origin: str) -> tuple[str, str | None, str | None]:
        with app.test_client() as client:
            if rng.random() < 0.5:
                response = client.get("/api/data", headers={"Origin": origin})
            else:
                response = client.options("/api/data", headers={
                    "Origin": origin, "Access-Control-Request-Method": "PUT"})
            return (origin, response.headers.get("Access-Control-Allow-Origin"),
                    response.headers.get("Vary"))

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(call, origins))
    assert len(results) == 400
    for origin, granted, vary in results:
        assert granted == (origin if origin in ALLOWED else None)
        assert vary is not None and "Origin" in vary


def test_a_decorator_only_app_answers_alike_from_its_first_request_on() -> None:
    """Many threads hit a fresh decorator-only app at once: no request installs
    anything, so the first answers are the same as the later ones."""
    from flask import Flask, request

    from flask_crossorigin import cross_origin

    app = Flask(__name__)

    @app.before_request
    def login_required() -> tuple[str, int] | None:
        return None if "Authorization" in request.headers else ("login required", 401)

    @app.route("/widget", methods=["GET", "PUT"])
    @cross_origin(origins=ALLOWED)
    def widget() -> str:
        return "widget"

    def call(i: int) -> tuple[str, int, str | None]:
        with app.test_client() as client:
            if i % 2:
                response = client.options("/widget", headers={
                    "Origin": ALLOWED[0], "Access-Control-Request-Method": "PUT"})
                kind = "PREFLIGHT"
            else:
                response = client.get("/widget", headers={
                    "Origin": ALLOWED[0], "Authorization": "Bearer x"})
                kind = "GET"
            return kind, response.status_code, response.headers.get(
                "Access-Control-Allow-Origin")

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(call, range(200)))
    assert set(answers) == {("PREFLIGHT", 401, None), ("GET", 200, ALLOWED[0])}
    assert "crossorigin" not in app.extensions
