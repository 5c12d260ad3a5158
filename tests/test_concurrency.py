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
